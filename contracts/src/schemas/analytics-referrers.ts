import { z } from 'zod';
import { MetricRate, MetricsQuery, REPORT_HEADER, REPORT_HEADER_EXAMPLE } from './metrics.js';

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
  .meta({
    id: 'Referrers',
    examples: [
      {
        ...REPORT_HEADER_EXAMPLE,
        community_k_factor: { value: 0.7567567567567568, numerator: 28, denominator: 37 },
        referrers: [
          {
            rank: 1,
            kind: 'member',
            id: 'mem_0mx9qwwlh0000b784e09ed60ecb76',
            name: '任佳',
            invites: 41,
            joins: 9,
            k: 9,
            paid_conversion: { value: 0.3333333333333333, numerator: 3, denominator: 9 },
            revenue_minor: 62670,
            people: 11,
            ltv: { value: 5697.272727272727, numerator: 62670, denominator: 11 },
            leave_rate: { value: 0, numerator: 0, denominator: 9 },
            group_leave_rate: null,
            verdict: 'reward',
          },
        ],
      },
    ],
  });
export type ReferrersOut = z.infer<typeof ReferrersOut>;
