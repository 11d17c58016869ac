import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { FunnelOut, FunnelQuery, IdParams } from '../../../../contracts/src/index.js';
import { requireActor } from '../../http/access.js';
import type { Deps } from '../../lib/deps.js';
import { communityFunnel } from './funnel.service.js';

export const funnelRoutes =
  (deps: Deps): FastifyPluginAsyncZod =>
  async (app) => {
    app.get(
      '/api/v1/communities/:communityId/analytics/funnel',
      {
        config: { access: { kind: 'community', role: 'admin' } },
        schema: {
          tags: ['analytics'],
          summary: 'Conversion funnel of people entering in [from, to), or the trial → full course funnel (docs/analytics.md)',
          params: IdParams('communityId'),
          querystring: FunnelQuery,
          response: { 200: FunnelOut },
        },
      },
      async (req) => communityFunnel(deps, requireActor(req).communityId, req.query),
    );
  };
