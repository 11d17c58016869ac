import { z } from 'zod';
import { MetricRate, MetricsQuery, REPORT_HEADER, ReportPeriod, REPORT_HEADER_EXAMPLE } from './metrics.js';

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
  .meta({
    id: 'MoneyFormula',
    examples: [
      {
        ...REPORT_HEADER_EXAMPLE,
        previous_period: { from: '2026-10-02', to: '2026-11-01', t0: '2026-10-01T16:00:00.000Z', t1: '2026-10-31T16:00:00.000Z' },
        reach_source: 'link_visits',
        revenue: { current: 183320, previous: 87560, change: 95760 },
        holds: { current: true, previous: true },
        factors: [
          {
            value: 207,
            numerator: 207,
            denominator: 1,
            key: 'reach',
            label: 'Reach (IP)',
            previous: { value: 61, numerator: 61, denominator: 1 },
            change: 146,
            contribution: 158346.79570899706,
          },
          {
            value: 0.5410628019323671,
            numerator: 112,
            denominator: 207,
            key: 'join_rate',
            label: 'Join rate (吸粉)',
            previous: { value: 0.6065573770491803, numerator: 37, denominator: 61 },
            change: -0.06549457511681323,
            contribution: -14808.207779521275,
          },
          {
            value: 0.125,
            numerator: 14,
            denominator: 112,
            key: 'paid_conversion',
            label: 'Paying members per join (洗粉)',
            previous: { value: 0.21621621621621623, numerator: 8, denominator: 37 },
            change: -0.09121621621621623,
            contribution: -71014.35450356336,
          },
          {
            value: 13094.285714285714,
            numerator: 183320,
            denominator: 14,
            key: 'arppu',
            label: 'Revenue per payer, ARPPU (变现手段)',
            previous: { value: 10945, numerator: 87560, denominator: 8 },
            change: 2149.2857142857138,
            contribution: 23235.76657408758,
          },
        ],
        paid_rate: {
          current: { value: 0.09395973154362416, numerator: 14, denominator: 149 },
          previous: { value: 0.21621621621621623, numerator: 8, denominator: 37 },
        },
        top_factor: 'reach',
        reason: null,
      },
    ],
  });
export type MoneyFormulaOut = z.infer<typeof MoneyFormulaOut>;
