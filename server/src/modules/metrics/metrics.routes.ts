import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { IdParams, MetricsOut, MetricsQuery } from '../../../../contracts/src/index.js';
import { requireActor } from '../../http/access.js';
import type { Deps } from '../../lib/deps.js';
import { communityMetrics } from './metrics.service.js';

export const metricsRoutes =
  (deps: Deps): FastifyPluginAsyncZod =>
  async (app) => {
    app.get(
      '/api/v1/communities/:communityId/metrics',
      {
        config: { access: { kind: 'community', role: 'admin' } },
        schema: {
          tags: ['metrics'],
          summary: 'Core KPIs of a period [from, to) in the community time zone, as docs/metrics.md defines them',
          params: IdParams('communityId'),
          querystring: MetricsQuery,
          response: { 200: MetricsOut },
        },
      },
      async (req) => communityMetrics(deps, requireActor(req).communityId, req.query),
    );
  };
