/**
 * Retention cohorts and the lifecycle view, each defined once, here, as pure functions of raw facts
 * (member spans, paid orders, engagement events). The service loads the facts; see
 * docs/analytics.md "Cohorts and lifecycle".
 *
 * Buckets are local days, ISO weeks (Monday) or calendar months in the community's time zone.
 */
import { DateTime } from 'luxon';
import type { Granularity } from '../../../../contracts/src/index.js';
import { staysOf, type EngagementFact, type PaidOrderFact, type SpanFact } from '../metrics/index.js';

const UNIT = { day: 'days', week: 'weeks', month: 'months' } as const;

/** Start (local midnight) of the bucket holding instant `ms`. ISO weeks start on Monday. */
export const bucketStart = (ms: number, zone: string, g: Granularity): DateTime => DateTime.fromMillis(ms, { zone }).startOf(g, { useLocaleWeeks: false });

/** The start of bucket `i` counted from the bucket starting at `first` (local arithmetic, DST-safe). */
export const bucketAt = (first: DateTime, g: Granularity, i: number): DateTime => first.plus({ [UNIT[g]]: i });

/** Bucket starts (ms) from the bucket holding t0 up to (not including) t1. */
export function bucketsBetween(t0: number, t1: number, zone: string, g: Granularity): DateTime[] {
  const first = bucketStart(t0, zone, g);
  const out: DateTime[] = [];
  for (let i = 0; ; i++) {
    const b = bucketAt(first, g, i);
    if (b.toMillis() >= t1) return out;
    out.push(b);
  }
}

/**
 * The instant a person first joined the community: the start of their first stay (staysOf: group
 * spans merged, or the first paid order of a buyer without spans). Rejoins do not move it.
 */
export function firstJoins(spans: SpanFact[], paidOrders: PaidOrderFact[]): Map<string, number> {
  const first = new Map<string, number>();
  for (const s of staysOf(spans, paidOrders)) first.set(s.member_id, Math.min(first.get(s.member_id) ?? Infinity, s.start));
  return first;
}

export interface CohortFacts {
  zone: string;
  granularity: Granularity;
  /** Local midnight of `from` and `to`; cohorts are the buckets from the one holding t0 to t1. */
  t0: number;
  t1: number;
  /** Last period shown (k = 0..periods); undefined: the number of cohorts − 1. */
  periods: number | undefined;
  /** Cells of periods starting after `now` are null. */
  now: number;
  spans: SpanFact[];
  paidOrders: PaidOrderFact[];
  /** Engagement events from the first cohort's start on (earlier ones are ignored). */
  engagement: EngagementFact[];
}

export interface Cell {
  value: number | null;
  numerator: number;
  denominator: number;
}

export interface CohortRow {
  start: DateTime;
  size: number;
  cells: (Cell | null)[];
}

/** Maps instants to the index of their bucket, counted from `first`; undefined outside [first, +n). */
function bucketIndexer(first: DateTime, g: Granularity, n: number, zone: string) {
  const index = new Map<number, number>();
  for (let i = 0; i < n; i++) index.set(bucketAt(first, g, i).toMillis(), i);
  return (ms: number) => index.get(bucketStart(ms, zone, g).toMillis());
}

/**
 * Retention cohorts (PostHog's definition of retained):
 *
 * - cohort: the people whose first join (firstJoins) falls in one bucket; cohorts are the buckets
 *   from the one holding t0 up to t1. A rejoin does not put anyone in a second cohort.
 * - cell (cohort c, period k): retained = cohort members with ≥1 engagement event in bucket c + k,
 *   whether or not they are still members then; value = retained ÷ cohort size. k = 0 is the join
 *   bucket itself. A cell whose bucket starts after `now` is null.
 */
export function computeCohorts(f: CohortFacts): { periods: number; cohorts: CohortRow[] } {
  const starts = bucketsBetween(f.t0, f.t1, f.zone, f.granularity);
  const periods = f.periods ?? Math.max(starts.length - 1, 0);
  if (!starts.length) return { periods, cohorts: [] };
  const first = starts[0]!;
  const indexOf = bucketIndexer(first, f.granularity, starts.length + periods, f.zone);

  const members: Set<string>[] = starts.map(() => new Set());
  const cohortOf = new Map<string, number>();
  for (const [member, at] of firstJoins(f.spans, f.paidOrders)) {
    const c = indexOf(at);
    if (c === undefined || c >= starts.length) continue;
    members[c]!.add(member);
    cohortOf.set(member, c);
  }
  const retained: Set<string>[][] = starts.map(() => Array.from({ length: periods + 1 }, () => new Set<string>()));
  for (const e of f.engagement) {
    const c = cohortOf.get(e.member_id);
    if (c === undefined) continue;
    const b = indexOf(e.occurred_at);
    if (b === undefined || b < c || b - c > periods) continue;
    retained[c]![b - c]!.add(e.member_id);
  }
  return {
    periods,
    cohorts: starts.map((start, c) => {
      const size = members[c]!.size;
      const cells = retained[c]!.map((set, k) =>
        bucketAt(first, f.granularity, c + k).toMillis() > f.now ? null : { value: size === 0 ? null : set.size / size, numerator: set.size, denominator: size },
      );
      return { start, size, cells };
    }),
  };
}

export interface LifecycleFacts {
  zone: string;
  granularity: Granularity;
  t0: number;
  t1: number;
  spans: SpanFact[];
  paidOrders: PaidOrderFact[];
  /** Engagement events from the bucket before the first one on. */
  engagement: EngagementFact[];
}

export interface LifecycleRow {
  start: DateTime;
  new: number;
  returning: number;
  resurrecting: number;
  dormant: number;
}

/**
 * The lifecycle of each bucket b from the one holding t0 up to t1 (PostHog's lifecycle, with "new"
 * meaning joined). "Active in b": ≥1 engagement event in b. "Joined before b": first join before
 * b starts. People who never joined are left out.
 *
 * - new: people whose first join falls in b (active or not).
 * - returning: joined before b, active in b and in b − 1.
 * - resurrecting: joined before b, active in b, not in b − 1.
 * - dormant: −(people joined before b, active in b − 1, not in b).
 */
export function computeLifecycle(f: LifecycleFacts): LifecycleRow[] {
  const starts = bucketsBetween(f.t0, f.t1, f.zone, f.granularity);
  if (!starts.length) return [];
  const before = bucketAt(starts[0]!, f.granularity, -1);
  const indexOf = bucketIndexer(before, f.granularity, starts.length + 1, f.zone);
  const joined = firstJoins(f.spans, f.paidOrders);
  const active: Set<string>[] = [before, ...starts].map(() => new Set());
  const joins = active.map(() => 0);
  for (const at of joined.values()) {
    const b = indexOf(at);
    if (b !== undefined) joins[b]!++;
  }
  for (const e of f.engagement) {
    if (!joined.has(e.member_id)) continue;
    const b = indexOf(e.occurred_at);
    if (b !== undefined) active[b]!.add(e.member_id);
  }
  return starts.map((start, i) => {
    const b = i + 1;
    const bStart = start.toMillis();
    const joinedBefore = (m: string) => joined.get(m)! < bStart;
    const now = [...active[b]!].filter(joinedBefore);
    const prev = active[b - 1]!;
    return {
      start,
      new: joins[b]!,
      returning: now.filter((m) => prev.has(m)).length,
      resurrecting: now.filter((m) => !prev.has(m)).length,
      dormant: 0 - [...prev].filter((m) => joinedBefore(m) && !active[b]!.has(m)).length,
    };
  });
}
