import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { IdParams, ReferrersOut, ReferrersQuery } from '../../../../contracts/src/index.js';
import { requireActor } from '../../http/access.js';
import type { Deps } from '../../lib/deps.js';
import { referrers } from './referrers.service.js';

export const referrersRoutes =
  (deps: Deps): FastifyPluginAsyncZod =>
  async (app) => {
    app.get(
      '/api/v1/communities/:communityId/analytics/referrers',
      {
        config: { access: { kind: 'community', role: 'admin' } },
        schema: {
          tags: ['analytics'],
          summary: 'Referral and KOL league of a period: invites, joins, conversion, K, revenue, LTV, leave rate and a reward / keep / replace verdict (docs/analytics.md)',
          params: IdParams('communityId'),
          querystring: ReferrersQuery,
          response: { 200: ReferrersOut },
        },
      },
      async (req) => referrers(deps, requireActor(req).communityId, req.query),
    );
  };
