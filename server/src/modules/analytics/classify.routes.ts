import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { AnalyticsSettings, AnalyticsSettingsOut, exampleOf, IdParams, MembersOut, MembersQuery } from '../../../../contracts/src/index.js';
import { requireActor } from '../../http/access.js';
import type { Deps } from '../../lib/deps.js';
import { analyticsSettings, classifyCommunityMembers, membersCsv, putAnalyticsSettings } from './classify.service.js';

const tags = ['analytics'];

export const classifyRoutes =
  (deps: Deps): FastifyPluginAsyncZod =>
  async (app) => {
    app.get(
      '/api/v1/communities/:communityId/analytics/members',
      {
        config: { access: { kind: 'community', role: 'admin' } },
        schema: {
          tags,
          summary: 'Each member’s engagement score, fan level (user → fan → true fan) with per-criterion progress, and archetype (docs/analytics.md); format=csv for a spreadsheet',
          params: IdParams('communityId'),
          querystring: MembersQuery,
          response: { 200: MembersOut.or(z.string().describe('CSV (format=csv)')).meta({ examples: [exampleOf(MembersOut), membersCsv(exampleOf(MembersOut))] }) },
        },
      },
      async (req, reply) => {
        const out = await classifyCommunityMembers(deps, requireActor(req).communityId, req.query);
        if (req.query.format === 'csv') return reply.type('text/csv; charset=utf-8').header('content-disposition', 'attachment; filename="members.csv"').send(membersCsv(out));
        return out;
      },
    );

    app.get(
      '/api/v1/communities/:communityId/analytics/settings',
      {
        config: { access: { kind: 'community', role: 'admin' } },
        schema: { tags, summary: 'Thresholds of member classification, churn risk and group health (defaults when never set)', params: IdParams('communityId'), response: { 200: AnalyticsSettingsOut } },
      },
      async (req) => analyticsSettings(deps, requireActor(req).communityId),
    );

    app.put(
      '/api/v1/communities/:communityId/analytics/settings',
      {
        config: { access: { kind: 'community', role: 'admin' } },
        schema: {
          tags,
          summary: 'Replace the thresholds; omitted fields take their defaults',
          params: IdParams('communityId'),
          body: AnalyticsSettings,
          response: { 200: AnalyticsSettingsOut },
        },
      },
      async (req) => putAnalyticsSettings(deps, requireActor(req).communityId, req.body),
    );
  };
