import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { CohortsOut, CohortsQuery, IdParams, LifecycleOut, LifecycleQuery } from '../../../../contracts/src/index.js';
import { requireActor } from '../../http/access.js';
import type { Deps } from '../../lib/deps.js';
import { communityCohorts, communityLifecycle } from './cohorts.service.js';

export const cohortsRoutes =
  (deps: Deps): FastifyPluginAsyncZod =>
  async (app) => {
    app.get(
      '/api/v1/communities/:communityId/analytics/cohorts',
      {
        config: { access: { kind: 'community', role: 'admin' } },
        schema: {
          tags: ['analytics'],
          summary: 'Retention cohorts by first join day/week/month, in the community time zone (docs/analytics.md)',
          params: IdParams('communityId'),
          querystring: CohortsQuery,
          response: { 200: CohortsOut },
        },
      },
      async (req) => communityCohorts(deps, requireActor(req).communityId, req.query),
    );
    app.get(
      '/api/v1/communities/:communityId/analytics/lifecycle',
      {
        config: { access: { kind: 'community', role: 'admin' } },
        schema: {
          tags: ['analytics'],
          summary: 'New, returning, resurrecting and dormant people per day/week/month (docs/analytics.md)',
          params: IdParams('communityId'),
          querystring: LifecycleQuery,
          response: { 200: LifecycleOut },
        },
      },
      async (req) => communityLifecycle(deps, requireActor(req).communityId, req.query),
    );
  };
