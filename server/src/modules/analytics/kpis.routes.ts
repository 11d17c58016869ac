import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { IdParams, KpisOut, KpisQuery } from '../../../../contracts/src/index.js';
import { requireActor } from '../../http/access.js';
import type { Deps } from '../../lib/deps.js';
import { communityKpis } from './kpis.service.js';

export const kpisRoutes =
  (deps: Deps): FastifyPluginAsyncZod =>
  async (app) => {
    app.get(
      '/api/v1/communities/:communityId/analytics/kpis',
      {
        config: { access: { kind: 'community', role: 'admin' } },
        schema: {
          tags: ['analytics'],
          summary: 'KPI dashboard of [from, to): every metric, DAU/WAU/MAU, stickiness, two-way share, each against the previous period; optional split (docs/analytics.md)',
          params: IdParams('communityId'),
          querystring: KpisQuery,
          response: { 200: KpisOut },
        },
      },
      async (req) => communityKpis(deps, requireActor(req).communityId, req.query),
    );
  };
