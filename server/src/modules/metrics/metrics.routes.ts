import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { exampleOf, IdParams, MetricsOut, MetricsQuery } from '../../../../contracts/src/index.js';
import { requireActor } from '../../http/access.js';
import type { Deps } from '../../lib/deps.js';
import { metricsCsv } from './metrics.csv.js';
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
    app.get(
      '/api/v1/communities/:communityId/metrics.csv',
      {
        config: { access: { kind: 'community', role: 'admin' } },
        schema: {
          tags: ['metrics'],
          summary: 'The figures of /metrics as CSV for a spreadsheet: one line per figure with its kind, value, numerator, denominator and currency (docs/import.md)',
          params: IdParams('communityId'),
          querystring: MetricsQuery,
          response: {
            200: z
              .string()
              .describe('text/csv; charset=utf-8: metric, kind (count, rate, money, money_per_person), value, numerator, denominator, currency, reason')
              .meta({ examples: [metricsCsv(exampleOf(MetricsOut))] }),
          },
        },
      },
      async (req, reply) => {
        const m = await communityMetrics(deps, requireActor(req).communityId, req.query);
        return reply
          .type('text/csv; charset=utf-8')
          .header('content-disposition', `attachment; filename="metrics-${m.period.from}-${m.period.to}.csv"`)
          .send(metricsCsv(m));
      },
    );
  };
