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
  .meta({ id: 'Metrics' });
export type MetricsOut = z.infer<typeof MetricsOut>;
