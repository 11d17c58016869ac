import { z } from 'zod';
import { MetricRate } from './metrics.js';

const LocalDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'a date as YYYY-MM-DD');

export const FunnelSplit = z.enum(['channel', 'group', 'staff']);
export const FunnelPreset = z.enum(['trial']);

export const FunnelQuery = z.strictObject({
  from: LocalDate.describe('First day people may enter (inclusive), in the community time zone'),
  to: LocalDate.describe('Day after the last (exclusive); after from'),
  window_days: z.coerce.number().int().min(1).max(366).optional().describe('Conversion window after entering, in days (default 14; trial preset 30)'),
  split: FunnelSplit.optional(),
  preset: FunnelPreset.optional().describe('trial: the 引流课 → 续班 funnel'),
});
export type FunnelQuery = z.infer<typeof FunnelQuery>;

export const FunnelStepOut = z
  .object({
    key: z.string(),
    unit: z.enum(['events', 'people']),
    count: z.number().int().nullable().describe('null when the step cannot be attributed to this split row (visits per group)'),
    from_previous: MetricRate.nullable().describe('count ÷ the previous step count; null for the first step and when either count is null'),
    from_first: MetricRate.nullable().describe('count ÷ the entrants (the first step counted in people); null for the visits step'),
  })
  .meta({
    id: 'FunnelStep',
    examples: [
      {
        key: 'joined',
        unit: 'people',
        count: 104,
        from_previous: { value: 0.9285714285714286, numerator: 104, denominator: 112 },
        from_first: { value: 0.9285714285714286, numerator: 104, denominator: 112 },
      },
    ],
  });

export const FunnelOut = z
  .object({
    metrics_version: z.string(),
    community_id: z.string(),
    time_zone: z.string(),
    period: z.object({ from: z.string(), to: z.string(), t0: z.string(), t1: z.string() }),
    preset: FunnelPreset.nullable(),
    window_days: z.number().int(),
    steps: z.array(FunnelStepOut),
    split: z
      .object({
        by: FunnelSplit,
        rows: z.array(z.object({ key: z.string().nullable().describe('null: none'), label: z.string(), steps: z.array(FunnelStepOut) })),
      })
      .nullable(),
  })
  .meta({
    id: 'Funnel',
    examples: [
      {
        metrics_version: '2026-12-04.2',
        community_id: 'com_0mx9qwwjc000035b3232e876033f1',
        time_zone: 'Asia/Shanghai',
        period: { from: '2026-11-01', to: '2026-12-01', t0: '2026-10-31T16:00:00.000Z', t1: '2026-11-30T16:00:00.000Z' },
        preset: null,
        window_days: 14,
        steps: [
          { key: 'visited', unit: 'events', count: 207, from_previous: null, from_first: null },
          { key: 'applied', unit: 'people', count: 112, from_previous: null, from_first: { value: 1, numerator: 112, denominator: 112 } },
          {
            key: 'joined',
            unit: 'people',
            count: 104,
            from_previous: { value: 0.9285714285714286, numerator: 104, denominator: 112 },
            from_first: { value: 0.9285714285714286, numerator: 104, denominator: 112 },
          },
        ],
        split: null,
      },
    ],
  });
export type FunnelOut = z.infer<typeof FunnelOut>;
export type FunnelStepOut = z.infer<typeof FunnelStepOut>;
