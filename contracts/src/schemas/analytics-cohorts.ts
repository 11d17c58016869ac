import { z } from 'zod';
import { MetricRate } from './metrics.js';

const LocalDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'a date as YYYY-MM-DD');

export const Granularity = z.enum(['day', 'week', 'month']);
export type Granularity = z.infer<typeof Granularity>;

/** Most buckets (cohorts, or periods after a cohort) one request may ask for. */
export const MAX_BUCKETS = 400;

const PeriodQuery = {
  from: LocalDate.describe('First day (inclusive), in the community time zone; moved back to the start of its day/week/month'),
  to: LocalDate.describe('Day after the last (exclusive), in the community time zone; after from'),
  granularity: Granularity.default('week').describe('Bucket: local day, ISO week (Monday) or calendar month'),
};

export const CohortsQuery = z.strictObject({
  ...PeriodQuery,
  periods: z.coerce.number().int().min(0).max(MAX_BUCKETS).optional().describe('Last period k shown (0..periods); default: as many as the cohorts span'),
});
export type CohortsQuery = z.infer<typeof CohortsQuery>;

export const LifecycleQuery = z.strictObject(PeriodQuery);
export type LifecycleQuery = z.infer<typeof LifecycleQuery>;

const AnalyticsPeriod = z.object({ from: z.string(), to: z.string(), t0: z.string(), t1: z.string() });

export const CohortsOut = z
  .object({
    metrics_version: z.string(),
    community_id: z.string(),
    time_zone: z.string(),
    granularity: Granularity,
    period: AnalyticsPeriod,
    periods: z.number().int(),
    cohorts: z.array(
      z.object({
        start: z.string().describe('Local date the cohort bucket starts'),
        size: z.number().int().describe('People whose first join falls in the bucket'),
        cells: z.array(MetricRate.nullable()).describe('k = 0..periods: retained (active in period k) ÷ size; null when period k has not started yet'),
      }),
    ),
  })
  .meta({
    id: 'Cohorts',
    examples: [
      {
        metrics_version: '2026-12-04.2',
        community_id: 'com_0mx9qwwjc000035b3232e876033f1',
        time_zone: 'Asia/Shanghai',
        granularity: 'week',
        period: { from: '2026-11-02', to: '2026-11-30', t0: '2026-11-01T16:00:00.000Z', t1: '2026-11-29T16:00:00.000Z' },
        periods: 3,
        cohorts: [
          {
            start: '2026-11-02',
            size: 14,
            cells: [
              { value: 1, numerator: 14, denominator: 14 },
              { value: 0.5, numerator: 7, denominator: 14 },
              { value: 0.42857142857142855, numerator: 6, denominator: 14 },
              null,
            ],
          },
        ],
      },
    ],
  });
export type CohortsOut = z.infer<typeof CohortsOut>;

export const LifecycleOut = z
  .object({
    metrics_version: z.string(),
    community_id: z.string(),
    time_zone: z.string(),
    granularity: Granularity,
    period: AnalyticsPeriod,
    buckets: z.array(
      z.object({
        start: z.string().describe('Local date the bucket starts'),
        new: z.number().int(),
        returning: z.number().int(),
        resurrecting: z.number().int(),
        dormant: z.number().int().describe('Negative: people active in the previous bucket and not in this one'),
      }),
    ),
  })
  .meta({
    id: 'Lifecycle',
    examples: [
      {
        metrics_version: '2026-12-04.2',
        community_id: 'com_0mx9qwwjc000035b3232e876033f1',
        time_zone: 'Asia/Shanghai',
        granularity: 'week',
        period: { from: '2026-11-02', to: '2026-11-30', t0: '2026-11-01T16:00:00.000Z', t1: '2026-11-29T16:00:00.000Z' },
        buckets: [{ start: '2026-11-02', new: 14, returning: 15, resurrecting: 7, dormant: -4 }],
      },
    ],
  });
export type LifecycleOut = z.infer<typeof LifecycleOut>;
