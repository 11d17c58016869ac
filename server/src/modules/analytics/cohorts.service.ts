import type { CohortsOut, CohortsQuery, Granularity, LifecycleOut, LifecycleQuery } from '../../../../contracts/src/index.js';
import { MAX_BUCKETS } from '../../../../contracts/src/index.js';
import type { DateTime } from 'luxon';
import type { Deps } from '../../lib/deps.js';
import { invalid } from '../../lib/errors.js';
import { findCommunitySpans, findPaidOrders, METRICS_VERSION, resolvePeriod } from '../metrics/index.js';
import { bucketAt, bucketsBetween, computeCohorts, computeLifecycle } from './cohorts.definitions.js';
import { findActiveBuckets } from './cohorts.repo.js';
import { refreshRollups } from '../rollups/index.js';

const ms = (iso: string) => Date.parse(iso);
const iso = (t: number) => new Date(t).toISOString();

/** The community, its zone and the whole buckets from the one holding `from` to the last starting before `to`. */
export async function resolveBuckets(deps: Deps, communityId: string, q: { from: string; to: string; granularity: Granularity }) {
  const { community, zone, t0, t1 } = await resolvePeriod(deps, communityId, q);
  const starts = bucketsBetween(t0.toMillis(), t1.toMillis(), zone, q.granularity);
  if (starts.length > MAX_BUCKETS) throw invalid('query.to', `at most ${MAX_BUCKETS} ${q.granularity}s at a time`);
  const end = bucketAt(starts[0]!, q.granularity, starts.length);
  return { community, zone, starts, t0: starts[0]!.toMillis(), t1: end.toMillis() };
}

async function loadMembers(deps: Deps, communityId: string) {
  const [spans, orders] = await Promise.all([findCommunitySpans(deps.db, communityId), findPaidOrders(deps.db, communityId)]);
  return {
    spans: spans.map((s) => ({ member_id: s.member_id, joined_at: ms(s.joined_at), left_at: s.left_at === null ? null : ms(s.left_at), referrer_member_id: s.referrer_member_id })),
    paidOrders: orders.map((o) => ({ id: o.id, member_id: o.member_id, product_id: o.product_id, amount_minor: Number(o.amount_minor), currency: o.currency, paid_at: ms(o.paid_at!) })),
  };
}

/** Who was active in which bucket of [first, end) (bucket starts), from the daily rollups, refreshed first. */
async function loadActivity(deps: Deps, communityId: string, g: Granularity, first: DateTime, end: DateTime) {
  await refreshRollups(deps, communityId);
  return findActiveBuckets(deps.db, communityId, g, first.toISODate()!, end.toISODate()!);
}

/** Retention cohorts by first join (see cohorts.definitions.ts). */
export async function communityCohorts(deps: Deps, communityId: string, q: CohortsQuery): Promise<CohortsOut> {
  const { zone, starts, t0, t1 } = await resolveBuckets(deps, communityId, q);
  const periods = q.periods ?? starts.length - 1;
  const activityEnd = bucketAt(starts[0]!, q.granularity, starts.length + periods);
  const [members, activity] = await Promise.all([loadMembers(deps, communityId), loadActivity(deps, communityId, q.granularity, starts[0]!, activityEnd)]);
  const r = computeCohorts({ zone, granularity: q.granularity, t0, t1, periods, now: deps.clock.now().getTime(), ...members, activity });
  return {
    metrics_version: METRICS_VERSION,
    community_id: communityId,
    time_zone: zone,
    granularity: q.granularity,
    period: { from: q.from, to: q.to, t0: iso(t0), t1: iso(t1) },
    periods: r.periods,
    cohorts: r.cohorts.map((c) => ({ start: c.start.toISODate()!, size: c.size, cells: c.cells })),
  };
}

/** New, returning, resurrecting and dormant people per bucket (see cohorts.definitions.ts). */
export async function communityLifecycle(deps: Deps, communityId: string, q: LifecycleQuery): Promise<LifecycleOut> {
  const { zone, starts, t0, t1 } = await resolveBuckets(deps, communityId, q);
  const before = bucketAt(starts[0]!, q.granularity, -1);
  const end = bucketAt(starts[0]!, q.granularity, starts.length);
  const [members, activity] = await Promise.all([loadMembers(deps, communityId), loadActivity(deps, communityId, q.granularity, before, end)]);
  const rows = computeLifecycle({ zone, granularity: q.granularity, t0, t1, ...members, activity });
  return {
    metrics_version: METRICS_VERSION,
    community_id: communityId,
    time_zone: zone,
    granularity: q.granularity,
    period: { from: q.from, to: q.to, t0: iso(t0), t1: iso(t1) },
    buckets: rows.map((r) => ({ start: r.start.toISODate()!, new: r.new, returning: r.returning, resurrecting: r.resurrecting, dormant: r.dormant })),
  };
}
