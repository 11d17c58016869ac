import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { exampleOf, ExplainOut, ExplainQuery, IdParams } from '../../../../contracts/src/index.js';
import { requireActor } from '../../http/access.js';
import type { Deps } from '../../lib/deps.js';
import { explainCsv, explainMetric } from './explain.service.js';

export const explainRoutes =
  (deps: Deps): FastifyPluginAsyncZod =>
  async (app) => {
    app.get(
      '/api/v1/communities/:communityId/metrics/explain',
      {
        config: { access: { kind: 'community', role: 'admin' } },
        schema: {
          tags: ['metrics'],
          summary: 'The members behind the numerator or denominator of a figure of /metrics; format=csv for a spreadsheet (docs/analytics.md)',
          params: IdParams('communityId'),
          querystring: ExplainQuery,
          response: {
            200: z
              .union([ExplainOut, z.string().describe('text/csv with a header line, when format=csv')])
              .meta({ examples: [exampleOf(ExplainOut), explainCsv(exampleOf(ExplainOut))] }),
          },
        },
      },
      async (req, reply) => {
        const out = await explainMetric(deps, requireActor(req).communityId, req.query);
        if (req.query.format === 'csv') {
          // A string with a non-JSON content type is sent as is, past the JSON serializer.
          return reply
            .type('text/csv; charset=utf-8')
            .header('content-disposition', `attachment; filename="${out.metric}-${out.part}-${out.period.from}-${out.period.to}.csv"`)
            .send(explainCsv(out));
        }
        return out;
      },
    );
  };
