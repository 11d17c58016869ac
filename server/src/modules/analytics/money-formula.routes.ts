import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { IdParams, MoneyFormulaOut, MoneyFormulaQuery } from '../../../../contracts/src/index.js';
import { requireActor } from '../../http/access.js';
import type { Deps } from '../../lib/deps.js';
import { moneyFormula } from './money-formula.service.js';

export const moneyFormulaRoutes =
  (deps: Deps): FastifyPluginAsyncZod =>
  async (app) => {
    app.get(
      '/api/v1/communities/:communityId/analytics/money-formula',
      {
        config: { access: { kind: 'community', role: 'admin' } },
        schema: {
          tags: ['analytics'],
          summary: 'The money formula reach × join rate × paid conversion × ARPPU = GMV for a period and the previous one, with each factor’s share of the change (docs/analytics.md)',
          params: IdParams('communityId'),
          querystring: MoneyFormulaQuery,
          response: { 200: MoneyFormulaOut },
        },
      },
      async (req) => moneyFormula(deps, requireActor(req).communityId, req.query),
    );
  };
