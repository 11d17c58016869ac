import { DateTime } from 'luxon';
import type { KpiSplitRow, KpisOut, KpisQuery, KpiValue } from '../../../../contracts/src/index.js';
import type { Deps } from '../../lib/deps.js';
import { communityMetrics, resolvePeriod } from '../metrics/index.js';
import { countActiveMembers, countActiveMembersByKey, countNpsAnswers, netJoinsBefore, sumDaysByKey, type SplitDim } from './kpis.repo.js';
import { DaySetReader, refreshRollups, rollupGeneration, shiftDay } from '../rollups/index.js';

const rate = (numerator: number, denominator: number) => ({ value: denominator === 0 ? null : numerator / denominator, numerator, denominator });

/**
 * The engagement figures answered from the daily rollups, for the local days [from, to):
 *
 * - dau: average daily active members — Σ over the days of the members with ≥1 engagement event
 *   that day ÷ the number of days (days without events count as 0).
 * - wau / mau: distinct members with ≥1 engagement event in the 7 / 30 days ending at t1.
 * - stickiness: dau ÷ mau.
 * - two_way_share: member-to-member replies (a reply whose `to_member_id` is set and is not its
 *   author) ÷ (messages + posts + replies) in the period.
 * - nps: (promoters − detractors) ÷ answers of the period's `survey_answered` events (countNpsAnswers;
 *   a fraction from −1 to 1, ×100 for the usual score), with the promoter and detractor counts.
 *
 * "Active" here counts every member with an engagement event, member at the time or not (unlike
 * `active_members` of /metrics, which counts period members only).
 */
export async function rollupFigures(deps: Deps, communityId: string, period: { from: string; to: string; t0: string; t1: string }, sets = new DaySetReader(deps.db, communityId)) {
  const { from, to } = period;
  const days = DateTime.fromISO(to, { zone: 'UTC' }).diff(DateTime.fromISO(from, { zone: 'UTC' }), 'days').days;
  const [[all], wau, mau, nps] = await Promise.all([
    sumDaysByKey(deps.db, communityId, 'all', from, to),
    countActiveMembers(sets, shiftDay(to, -7), to),
    countActiveMembers(sets, shiftDay(to, -30), to),
    countNpsAnswers(deps.db, communityId, period.t0, period.t1),
  ]);
  const dau = rate(all?.active_member_days ?? 0, days);
  return {
    dau,
    wau,
    mau,
    stickiness: rate(dau.value ?? 0, mau),
    two_way_share: rate(all?.member_replies ?? 0, all?.conversation ?? 0),
    nps: rate(nps.promoters - nps.detractors, nps.answers),
    nps_promoters: nps.promoters,
    nps_detractors: nps.detractors,
  };
}

/** The number a figure's change is taken on: the count, the rate's value or the amount. */
function scalar(v: KpiValue): number | null {
  if (typeof v === 'number') return v;
  if ('amount_minor' in v) return v.amount_minor;
  return v.value;
}

/** absolute = current − previous; relative = absolute ÷ |previous| (null when previous is 0 or null). */
export function change(current: KpiValue, previous: KpiValue) {
  const c = scalar(current);
  const p = scalar(previous);
  const absolute = c === null || p === null ? null : c - p;
  return { absolute, relative: absolute === null || p === null || p === 0 ? null : absolute / Math.abs(p) };
}

/**
 * Rows of a split from the rollups, one per key with any activity in the period. `leave_rate` =
 * leaves ÷ (members_start + joins), members_start being the key's joins − leaves before `from`
 * (joins and leaves are the joined / left / removed events attributed to the key).
 */
export async function splitRows(deps: Deps, communityId: string, currency: string, by: SplitDim, from: string, to: string): Promise<KpiSplitRow[]> {
  const [sums, before, active] = await Promise.all([
    sumDaysByKey(deps.db, communityId, by, from, to),
    netJoinsBefore(deps.db, communityId, by, from),
    countActiveMembersByKey(deps.db, communityId, by, from, to),
  ]);
  return sums
    .map((s) => {
      const start = before.get(s.key) ?? 0;
      return {
        key: s.key,
        members_start: start,
        link_visits: s.link_visits,
        applications: s.applications,
        joins: s.joins,
        leaves: s.leaves,
        onboarded: s.onboarded,
        leave_rate: rate(s.leaves, start + s.joins),
        active_members: active.get(s.key) ?? 0,
        engagement: s.engagement,
        orders_paid: s.orders_paid,
        gmv: { amount_minor: s.gmv_minor, currency },
        refunds: { amount_minor: s.refunds_minor, currency },
      };
    })
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/**
 * The KPI dashboard of a period: every metric of GET …/metrics plus dau, wau, mau, stickiness and
 * two_way_share (rollupFigures), each with the previous period of equal length and the change;
 * with `split`, rows per group / channel / staff owner / referrer. Rollups are refreshed first;
 * an unchanged answer is served from a cache (below).
 */
export async function communityKpis(deps: Deps, communityId: string, q: KpisQuery): Promise<KpisOut> {
  // A period that does not resolve is refused before anything is written (the refresh writes).
  const { community } = await resolvePeriod(deps, communityId, q);
  await refreshRollups(deps, communityId);
  const generation = await rollupGeneration(deps, communityId);
  // The answer depends on the rollups (their generation) and the community's settings (zone,
  // currency, grace days: its updated_at); anything else is bounded by the age limit.
  const key = `${communityId}|${q.from}|${q.to}|${q.split ?? ''}`;
  const stamp = `${generation}|${String(community.updated_at)}`;
  const now = Date.now();
  const hit = kpiCache.get(key);
  if (hit && hit.stamp === stamp && hit.expires > now) return hit.out;
  const out = await computeKpis(deps, communityId, q, community.currency);
  kpiCache.delete(key);
  kpiCache.set(key, { stamp, expires: now + KPI_CACHE_MAX_AGE_MS, out });
  if (kpiCache.size > KPI_CACHE_ENTRIES) kpiCache.delete(kpiCache.keys().next().value!);
  return out;
}

/**
 * Dashboards ask for the same periods again and again; an answer is reused while the community's
 * rollups and settings are unchanged (any new event moves the rollup generation on its next
 * refresh), and for at most KPI_CACHE_MAX_AGE_MS, which bounds what changes without an event
 * (a product turned into a trial, say). Per process; a stale entry is never served across a
 * generation, whichever node refreshed.
 */
const kpiCache = new Map<string, { stamp: string; expires: number; out: KpisOut }>();
export const KPI_CACHE_MAX_AGE_MS = 5 * 60_000;
const KPI_CACHE_ENTRIES = 256;

/** Forgets every cached dashboard (the bench measures the answer computed afresh with it). */
export function clearKpiCache(): void {
  kpiCache.clear();
}

async function computeKpis(deps: Deps, communityId: string, q: KpisQuery, communityCurrency: string): Promise<KpisOut> {
  const length = DateTime.fromISO(q.to, { zone: 'UTC' }).diff(DateTime.fromISO(q.from, { zone: 'UTC' }), 'days').days;
  const prevFrom = shiftDay(q.from, -length);
  // Both periods, their MAU and WAU read the same day sets: one reader reads each day once. All
  // parts run at once (PostgreSQL answers them on several connections).
  const sets = new DaySetReader(deps.db, communityId);
  const figuresOf = async (p: { from: string; to: string }) => {
    const { from, to } = await resolvePeriod(deps, communityId, p);
    return rollupFigures(deps, communityId, { ...p, t0: from, t1: to }, sets);
  };
  const [current, previous, cur, prev, rows] = await Promise.all([
    communityMetrics(deps, communityId, { from: q.from, to: q.to }, { sets, refreshed: true }),
    communityMetrics(deps, communityId, { from: prevFrom, to: q.from }, { sets, refreshed: true }),
    figuresOf({ from: q.from, to: q.to }),
    figuresOf({ from: prevFrom, to: q.from }),
    q.split ? splitRows(deps, communityId, communityCurrency, q.split, q.from, q.to) : Promise.resolve(null),
  ]);
  const { metrics_version, community_id, time_zone, currency, period, ...values } = current;
  const { metrics_version: _v, community_id: _c, time_zone: _z, currency: _cur, period: previousPeriod, ...previousValues } = previous;
  const now: Record<string, KpiValue> = { ...values, ...cur };
  const before: Record<string, KpiValue> = { ...previousValues, ...prev };
  const figures: KpisOut['figures'] = {};
  for (const [key, value] of Object.entries(now)) figures[key] = { current: value, previous: before[key]!, change: change(value, before[key]!) };
  return {
    metrics_version,
    community_id,
    time_zone,
    currency,
    period,
    previous_period: previousPeriod,
    figures,
    ...(q.split && rows ? { split: { by: q.split, rows } } : {}),
  };
}
