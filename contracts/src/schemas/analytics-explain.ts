import { z } from 'zod';
import { MetricsQuery, REPORT_HEADER, REPORT_HEADER_EXAMPLE } from './metrics.js';

export const EXPLAIN_METRICS = [
  'members_t0',
  'members_t1',
  'period_members',
  'joins',
  'leaves',
  'leave_rate',
  'active_members',
  'active_rate',
  'paying_members',
  'paid_rate',
  'repurchase_rate',
  'renewal_rate',
  'trial_renewal_rate',
  'k_factor',
  'gmv',
  'refunds',
  'arppu',
] as const;
export const ExplainMetric = z.enum(EXPLAIN_METRICS);

export const ExplainQuery = MetricsQuery.extend({
  metric: ExplainMetric,
  part: z.enum(['numerator', 'denominator']).default('numerator'),
  format: z.enum(['json', 'csv']).default('json'),
});
export type ExplainQuery = z.infer<typeof ExplainQuery>;

export const ExplainRow = z.object({
  member_id: z.string(),
  display_name: z.string().nullable(),
  external_id: z.string().nullable(),
  item: z.string().nullable().describe('order, refund or membership id, or trial product id; null for people and stays'),
  at: z.string().nullable().describe('when the row counts: stay start/end, payment, refund, expiry'),
  amount_minor: z.number().int().nullable(),
});
export type ExplainRow = z.infer<typeof ExplainRow>;

export const ExplainOut = z
  .object({
    ...REPORT_HEADER,
    metric: ExplainMetric,
    part: z.enum(['numerator', 'denominator']),
    count: z.number().int().describe('number of rows: equals the figure (or its numerator / denominator) of /metrics'),
    amount_minor: z.number().int().nullable().describe('sum of the rows, for money figures'),
    rows: z.array(ExplainRow),
  })
  .meta({
    id: 'MetricExplain',
    examples: [
      {
        ...REPORT_HEADER_EXAMPLE,
        metric: 'leave_rate',
        part: 'numerator',
        count: 1,
        amount_minor: null,
        rows: [
          {
            member_id: 'mem_0mx9qwwlw00009e55b5003803eef1',
            display_name: '吴霞辉',
            external_id: 'wx_demo_72',
            item: null,
            at: '2026-11-18T13:02:00.000Z',
            amount_minor: null,
          },
        ],
      },
    ],
  });
export type ExplainOut = z.infer<typeof ExplainOut>;
