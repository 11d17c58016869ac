import { z } from 'zod';
import { exampleOf } from './common.js';
import { MetricMoney, MetricMoneyPerPerson, MetricRate, MetricsQuery, REPORT_HEADER, ReportPeriod, REPORT_HEADER_EXAMPLE } from './metrics.js';

export const KPI_SPLITS = ['group', 'channel', 'staff', 'referrer'] as const;

export const KpisQuery = MetricsQuery.extend({
  split: z.enum(KPI_SPLITS).optional().describe('Also return one row per group, channel (entry link), staff owner or referrer'),
});
export type KpisQuery = z.infer<typeof KpisQuery>;

/**
 * One figure: a count, a rate, money, or money per person (the shapes of GET …/metrics). Money per
 * person comes before the rate it extends: a union takes the first match, and the rate would drop its currency.
 */
export const KpiValue = z.union([z.number(), MetricMoneyPerPerson, MetricRate, MetricMoney]);

export const KpiFigure = z
  .object({
    current: KpiValue,
    previous: KpiValue,
    change: z.object({
      absolute: z.number().nullable().describe('current − previous (of the value / amount); null when either is null'),
      relative: z.number().nullable().describe('absolute ÷ |previous|; null when previous is 0 or null'),
    }),
  })
  .meta({
    id: 'KpiFigure',
    examples: [
      {
        current: { value: 0.738255033557047, numerator: 110, denominator: 149 },
        previous: { value: 0.7027027027027027, numerator: 26, denominator: 37 },
        change: { absolute: 0.03555233085434428, relative: 0.050593701600413016 },
      },
    ],
  });

export const KpiSplitRow = z
  .object({
    key: z.string().describe("Group id, entry link id, staff user id or referrer member id; '' = none"),
    members_start: z.number().int().describe('joins − leaves of this key on every day before `from`'),
    link_visits: z.number().int(),
    applications: z.number().int(),
    joins: z.number().int(),
    leaves: z.number().int(),
    onboarded: z.number().int(),
    leave_rate: MetricRate,
    active_members: z.number().int(),
    engagement: z.number().int(),
    orders_paid: z.number().int(),
    gmv: MetricMoney,
    refunds: MetricMoney,
  })
  .meta({
    id: 'KpiSplitRow',
    examples: [
      {
        key: 'grp_0mx9qwwk00000b9a51b747581c87e',
        members_start: 37,
        link_visits: 207,
        applications: 112,
        joins: 96,
        leaves: 3,
        onboarded: 90,
        leave_rate: { value: 0.022900763358778626, numerator: 3, denominator: 131 },
        active_members: 88,
        engagement: 702,
        orders_paid: 12,
        gmv: { amount_minor: 155620, currency: 'CNY' },
        refunds: { amount_minor: 0, currency: 'CNY' },
      },
    ],
  });

export const KpisOut = z
  .object({
    ...REPORT_HEADER,
    previous_period: ReportPeriod,
    figures: z.record(z.string(), KpiFigure),
    split: z.object({ by: z.enum(KPI_SPLITS), rows: z.array(KpiSplitRow) }).optional(),
  })
  .meta({
    id: 'Kpis',
    examples: [
      {
        ...REPORT_HEADER_EXAMPLE,
        previous_period: { from: '2026-10-02', to: '2026-11-01', t0: '2026-10-01T16:00:00.000Z', t1: '2026-10-31T16:00:00.000Z' },
        figures: {
          members_t1: { current: 149, previous: 37, change: { absolute: 112, relative: 3.027027027027027 } },
          joins: { current: 112, previous: 37, change: { absolute: 75, relative: 2.027027027027027 } },
          leave_rate: {
            current: { value: 0, numerator: 0, denominator: 149 },
            previous: { value: 0, numerator: 0, denominator: 37 },
            change: { absolute: 0, relative: null },
          },
          active_rate: {
            current: { value: 0.738255033557047, numerator: 110, denominator: 149 },
            previous: { value: 0.7027027027027027, numerator: 26, denominator: 37 },
            change: { absolute: 0.03555233085434428, relative: 0.050593701600413016 },
          },
          gmv: {
            current: { amount_minor: 183320, currency: 'CNY' },
            previous: { amount_minor: 87560, currency: 'CNY' },
            change: { absolute: 95760, relative: 1.0936500685244404 },
          },
          arppu: {
            current: { value: 13094.285714285714, numerator: 183320, denominator: 14, currency: 'CNY' },
            previous: { value: 10945, numerator: 87560, denominator: 8, currency: 'CNY' },
            change: { absolute: 2149.2857142857138, relative: 0.1963714677282516 },
          },
          dau: {
            current: { value: 27.3, numerator: 819, denominator: 30 },
            previous: { value: 3.566666666666667, numerator: 107, denominator: 30 },
            change: { absolute: 23.733333333333334, relative: 6.654205607476635 },
          },
          stickiness: {
            current: { value: 0.2481818181818182, numerator: 27.3, denominator: 110 },
            previous: { value: 0.1371794871794872, numerator: 3.566666666666667, denominator: 26 },
            change: { absolute: 0.111002331002331, relative: 0.8091758708581138 },
          },
        },
        split: { by: 'group', rows: [exampleOf(KpiSplitRow)] },
      },
    ],
  });
export type KpisOut = z.infer<typeof KpisOut>;
export type KpiValue = z.infer<typeof KpiValue>;
export type KpiSplitRow = z.infer<typeof KpiSplitRow>;
