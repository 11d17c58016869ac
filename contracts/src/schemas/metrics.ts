import { z } from 'zod';

/** Days after a trial purchase within which buying the full product counts as a conversion (续班). */
export const TRIAL_CONVERSION_DAYS = 30;

/** A calendar date in the community's time zone; the period is [from, to) at local midnight. */
const LocalDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'a date as YYYY-MM-DD');

export const MetricsQuery = z.strictObject({
  from: LocalDate.describe('First day of the period (inclusive), in the community time zone'),
  to: LocalDate.describe('Day after the period (exclusive), in the community time zone; after from'),
});
export type MetricsQuery = z.infer<typeof MetricsQuery>;

/** A ratio a reader can check: value = numerator ÷ denominator, null when the denominator is 0. */
export const MetricRate = z
  .object({
    value: z.number().nullable(),
    numerator: z.number(),
    denominator: z.number(),
    reason: z.string().optional().describe('Why the value is null although it could not be computed at all (e.g. no trial products)'),
  })
  .meta({ id: 'MetricRate' });

export const MetricMoney = z.object({ amount_minor: z.number().int(), currency: z.string() }).meta({ id: 'MetricMoney' });

/** Money per person: value in minor units (not rounded) = numerator (minor units) ÷ denominator (people). */
export const MetricMoneyPerPerson = z
  .object({ value: z.number().nullable(), numerator: z.number().int(), denominator: z.number().int(), currency: z.string() })
  .meta({ id: 'MetricMoneyPerPerson' });

/** A period as asked (`from`, `to`: local dates) and as used (`t0`, `t1`: UTC instants of their local midnights). */
export const ReportPeriod = z.object({ from: z.string(), to: z.string(), t0: z.string(), t1: z.string() });

/** What every metrics and analytics answer starts with: which definitions, community, zone, currency and period. */
export const REPORT_HEADER = {
  metrics_version: z.string(),
  community_id: z.string(),
  time_zone: z.string(),
  currency: z.string(),
  period: ReportPeriod,
};

/** The header of the reports' examples: the demo community's November in Asia/Shanghai. */
export const REPORT_HEADER_EXAMPLE = {
  metrics_version: '2026-12-04.2',
  community_id: 'com_0mx9qwwjc000035b3232e876033f1',
  time_zone: 'Asia/Shanghai',
  currency: 'CNY',
  period: { from: '2026-11-01', to: '2026-12-01', t0: '2026-10-31T16:00:00.000Z', t1: '2026-11-30T16:00:00.000Z' },
};

export const MetricsOut = z
  .object({
    ...REPORT_HEADER,
    members_t0: z.number().int(),
    members_t1: z.number().int(),
    period_members: z.number().int(),
    joins: z.number().int(),
    leaves: z.number().int(),
    leave_rate: MetricRate,
    active_members: z.number().int(),
    active_rate: MetricRate,
    paying_members: z.number().int(),
    paid_rate: MetricRate,
    repurchase_rate: MetricRate,
    renewal_rate: MetricRate,
    trial_renewal_rate: MetricRate,
    gmv: MetricMoney,
    refunds: MetricMoney,
    net_revenue: MetricMoney,
    arpu: MetricMoneyPerPerson,
    arppu: MetricMoneyPerPerson,
    k_factor: MetricRate,
  })
  .meta({
    id: 'Metrics',
    examples: [
      {
        ...REPORT_HEADER_EXAMPLE,
        members_t0: 37,
        members_t1: 149,
        period_members: 149,
        joins: 112,
        leaves: 0,
        leave_rate: { value: 0, numerator: 0, denominator: 149 },
        active_members: 110,
        active_rate: { value: 0.738255033557047, numerator: 110, denominator: 149 },
        paying_members: 14,
        paid_rate: { value: 0.09395973154362416, numerator: 14, denominator: 149 },
        repurchase_rate: { value: 0.1, numerator: 2, denominator: 20 },
        renewal_rate: { value: 0.5, numerator: 1, denominator: 2 },
        trial_renewal_rate: { value: 0, numerator: 0, denominator: 5 },
        gmv: { amount_minor: 183320, currency: 'CNY' },
        refunds: { amount_minor: 19900, currency: 'CNY' },
        net_revenue: { amount_minor: 163420, currency: 'CNY' },
        arpu: { value: 1096.778523489933, numerator: 163420, denominator: 149, currency: 'CNY' },
        arppu: { value: 13094.285714285714, numerator: 183320, denominator: 14, currency: 'CNY' },
        k_factor: { value: 0.7567567567567568, numerator: 28, denominator: 37 },
      },
    ],
  });
export type MetricsOut = z.infer<typeof MetricsOut>;
