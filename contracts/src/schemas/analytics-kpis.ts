import { z } from 'zod';
import { MetricMoney, MetricMoneyPerPerson, MetricRate, MetricsQuery, REPORT_HEADER, ReportPeriod } from './metrics.js';

export const KPI_SPLITS = ['group', 'channel', 'staff', 'referrer'] as const;

export const KpisQuery = MetricsQuery.extend({
  split: z.enum(KPI_SPLITS).optional().describe('Also return one row per group, channel (entry link), staff owner or referrer'),
});
export type KpisQuery = z.infer<typeof KpisQuery>;

/** One figure: a count, a rate, money, or money per person (the shapes of GET …/metrics). */
export const KpiValue = z.union([z.number(), MetricRate, MetricMoney, MetricMoneyPerPerson]);

export const KpiFigure = z
  .object({
    current: KpiValue,
    previous: KpiValue,
    change: z.object({
      absolute: z.number().nullable().describe('current − previous (of the value / amount); null when either is null'),
      relative: z.number().nullable().describe('absolute ÷ |previous|; null when previous is 0 or null'),
    }),
  })
  .meta({ id: 'KpiFigure' });

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
  .meta({ id: 'KpiSplitRow' });

export const KpisOut = z
  .object({
    ...REPORT_HEADER,
    previous_period: ReportPeriod,
    figures: z.record(z.string(), KpiFigure),
    split: z.object({ by: z.enum(KPI_SPLITS), rows: z.array(KpiSplitRow) }).optional(),
  })
  .meta({ id: 'Kpis' });
export type KpisOut = z.infer<typeof KpisOut>;
export type KpiValue = z.infer<typeof KpiValue>;
export type KpiSplitRow = z.infer<typeof KpiSplitRow>;
