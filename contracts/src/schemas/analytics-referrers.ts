import { z } from 'zod';
import { MetricRate, MetricsQuery, REPORT_HEADER } from './metrics.js';

export const ReferrersQuery = MetricsQuery;
export type ReferrersQuery = z.infer<typeof ReferrersQuery>;

export const ReferrerRow = z.object({
  rank: z.number().int(),
  kind: z.enum(['member', 'staff']),
  id: z.string().describe('member id or user id'),
  name: z.string(),
  invites: z.number().int().describe('link visits in the period through their links'),
  joins: z.number().int().describe('stays they brought that started in the period'),
  k: z.number().int().describe('distinct people they brought in the period'),
  paid_conversion: MetricRate,
  revenue_minor: z.number().int(),
  people: z.number().int().describe('people they brought, all time up to t1'),
  ltv: z.object({ value: z.number().nullable(), numerator: z.number().int(), denominator: z.number().int() }),
  leave_rate: MetricRate,
  group_leave_rate: MetricRate.nullable().describe('staff: leave rate of the groups they lead or monitor'),
  verdict: z.enum(['reward', 'keep', 'replace']),
});

export const ReferrersOut = z
  .object({
    ...REPORT_HEADER,
    community_k_factor: MetricRate,
    referrers: z.array(ReferrerRow),
  })
  .meta({ id: 'Referrers' });
export type ReferrersOut = z.infer<typeof ReferrersOut>;
