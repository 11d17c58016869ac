import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { GroupHealthOut, GroupHealthQuery, IdParams } from '../../../../contracts/src/index.js';
import { requireActor } from '../../http/access.js';
import type { Deps } from '../../lib/deps.js';
import { communityGroupHealth } from './group-health.service.js';

export const groupHealthRoutes =
  (deps: Deps): FastifyPluginAsyncZod =>
  async (app) => {
    app.get(
      '/api/v1/communities/:communityId/analytics/group-health',
      {
        config: { access: { kind: 'community', role: 'admin' } },
        schema: {
          tags: ['analytics'],
          summary: 'Per group: members vs capacity, active and leave rates, ad ratio, silence; dead (死群) and ad (广告群) flags (docs/analytics.md)',
          params: IdParams('communityId'),
          querystring: GroupHealthQuery,
          response: { 200: GroupHealthOut },
        },
      },
      async (req) => communityGroupHealth(deps, requireActor(req).communityId, req.query),
    );
  };
