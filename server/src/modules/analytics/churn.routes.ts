import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { ChurnRiskOut, ChurnRiskQuery, IdParams } from '../../../../contracts/src/index.js';
import { requireActor } from '../../http/access.js';
import type { Deps } from '../../lib/deps.js';
import { communityChurnRisk } from './churn.service.js';

export const churnRoutes =
  (deps: Deps): FastifyPluginAsyncZod =>
  async (app) => {
    app.get(
      '/api/v1/communities/:communityId/analytics/churn-risk',
      {
        config: { access: { kind: 'community', role: 'admin' } },
        schema: {
          tags: ['analytics'],
          summary: 'Current members at risk of leaving or not renewing, with the reasons and a score (docs/analytics.md)',
          params: IdParams('communityId'),
          querystring: ChurnRiskQuery,
          response: { 200: ChurnRiskOut },
        },
      },
      async (req) => communityChurnRisk(deps, requireActor(req).communityId, req.query),
    );
  };
