import { z } from 'zod';
import { MetricRate, MetricsQuery, REPORT_HEADER, ReportPeriod } from './metrics.js';

export const MoneyFormulaQuery = MetricsQuery;
export type MoneyFormulaQuery = z.infer<typeof MoneyFormulaQuery>;

export const MONEY_FACTOR_KEYS = ['reach', 'join_rate', 'paid_conversion', 'arppu'] as const;
export const MoneyFactorKey = z.enum(MONEY_FACTOR_KEYS);

const FactorValue = z.object({ value: z.number().nullable(), numerator: z.number(), denominator: z.number() });

export const MoneyFactor = FactorValue.extend({
  key: MoneyFactorKey,
  label: z.string(),
  previous: FactorValue,
  change: z.number().nullable().describe('value − previous value; null when either is null'),
  contribution: z.number().nullable().describe('Share of the change in revenue (minor units) this factor accounts for (LMDI); null when the formula does not hold in a period'),
});

export const MoneyFormulaOut = z
  .object({
    ...REPORT_HEADER,
    previous_period: ReportPeriod,
    reach_source: z.enum(['link_visits', 'audience']),
    revenue: z.object({ current: z.number().int(), previous: z.number().int(), change: z.number().int() }),
    holds: z.object({ current: z.boolean(), previous: z.boolean() }),
    factors: z.array(MoneyFactor),
    paid_rate: z.object({ current: MetricRate, previous: MetricRate }),
    top_factor: MoneyFactorKey.nullable(),
    reason: z.string().nullable().describe('Why contributions are null, when they are'),
  })
  .meta({ id: 'MoneyFormula' });
export type MoneyFormulaOut = z.infer<typeof MoneyFormulaOut>;
