import { sql } from 'kysely';
import type { Db } from '../../db/kysely.js';
import type { MetricCounts } from './metrics.definitions.js';
import { DaySetReader, dayBounds, membersAtDay } from '../rollups/index.js';

/** Raw rows the metric definitions read. Time filtering beyond the period bounds happens in TypeScript. */

export const findCommunitySpans = (db: Db, communityId: string) =>
  db
    .selectFrom('member_spans')
    .select(['member_id', 'joined_at', 'left_at', 'referrer_member_id'])
    .where('community_id', '=', communityId)
    // The order countPeriodMetrics merges spans in (a tie on joined_at goes to the smaller id).
    .orderBy('joined_at')
    .orderBy('id')
    .execute();

/** Orders that were paid, including those refunded since. */
export const findPaidOrders = (db: Db, communityId: string) =>
  db
    .selectFrom('orders')
    .select(['id', 'member_id', 'product_id', 'amount_minor', 'currency', 'paid_at'])
    .where('community_id', '=', communityId)
    .where('paid_at', 'is not', null)
    .where('status', 'in', ['paid', 'partially_refunded', 'refunded'])
    .execute();

/** Refunds whose money went back in [from, to), dated when the provider confirmed them. */
export const findRefundsBetween = (db: Db, communityId: string, from: string, to: string) =>
  db
    .selectFrom('refunds')
    .innerJoin('orders', 'orders.id', 'refunds.order_id')
    .select(['refunds.id', 'refunds.order_id', 'orders.member_id', 'refunds.amount_minor', 'refunds.currency', 'refunds.settled_at'])
    .where('refunds.community_id', '=', communityId)
    .where('refunds.status', '=', 'succeeded')
    .where('refunds.settled_at', '>=', from)
    .where('refunds.settled_at', '<', to)
    .execute();

export const findOrderMemberships = (db: Db, communityId: string) =>
  db
    .selectFrom('memberships')
    .select(['id', 'member_id', 'product_id', 'created_at', 'expires_at', 'revoked_at'])
    .where('community_id', '=', communityId)
    .where('source', '=', 'order')
    .execute();

/** Trial products of a community and the full products they lead to. */
export const findTrialProducts = (db: Db, communityId: string) =>
  db.selectFrom('products').select(['id', 'trial_of_product_id']).where('community_id', '=', communityId).where('trial_of_product_id', 'is not', null).execute();

/**
 * The bounds of a period for countPeriodMetrics: instants (ISO) and the local days of the rollups.
 * The currency, renewal grace days and trial window are the rollups' (the community's settings;
 * changing the first two rebuilds them).
 */
export interface PeriodBounds {
  t0: string;
  t1: string;
  fromDay: string;
  toDay: string;
  timeZone: string;
}

/**
 * The counts of metrics.definitions.ts (MetricCounts) for one period, in SQL, without loading the
 * rows: the same definitions as metricSets, which explain uses to list the rows behind them.
 *
 * Reads the stays and purchases the rollups keep (member_stays, member_purchases, and their day
 * sums in analytics_flow_days; refresh the rollups first). A stay is at t when start < t ≤ end (or
 * open); a member's stays never overlap, so members at t0 = stays started before t0 − stays ended
 * before t0, both sums over the local days before `fromDay`. A member had a stay in the period iff
 * one starts before t1 and ends at or after t0 (or is open): iff a stay holds t0 or one starts in
 * [t0, t1). Those members, and the active members, payers and referred joiners of the period, are
 * unions of the per-day member sets the rollups keep (rollups/day-sets.service.ts).
 */
export async function countPeriodMetrics(db: Db, communityId: string, p: PeriodBounds, sets = new DaySetReader(db, communityId)): Promise<MetricCounts> {
  const c = communityId;
  const flowsQuery = sql<Record<string, number | string | null>>`
    SELECT
      COALESCE(SUM(CASE WHEN day < ${p.fromDay} THEN stay_starts - stay_ends ELSE 0 END), 0) AS members_t0,
      COALESCE(SUM(stay_starts - stay_ends), 0) AS members_t1,
      COALESCE(SUM(CASE WHEN day >= ${p.fromDay} THEN stay_starts ELSE 0 END), 0) AS joins,
      COALESCE(SUM(CASE WHEN day >= ${p.fromDay} THEN stay_ends ELSE 0 END), 0) AS leaves,
      COALESCE(SUM(first_purchases), 0) AS buyers_by_t1,
      COALESCE(SUM(second_purchases), 0) AS repeat_buyers,
      COALESCE(SUM(CASE WHEN day >= ${p.fromDay} THEN gmv_minor ELSE 0 END), 0) AS gmv_minor,
      COALESCE(SUM(CASE WHEN day >= ${p.fromDay} THEN refunds_minor ELSE 0 END), 0) AS refunds_minor,
      COALESCE(SUM(CASE WHEN day >= ${p.fromDay} THEN expiring ELSE 0 END), 0) AS expiring,
      COALESCE(SUM(CASE WHEN day >= ${p.fromDay} THEN renewed ELSE 0 END), 0) AS renewed
    FROM analytics_flow_days WHERE community_id = ${c} AND day < ${p.toDay}`.execute(db);

  // Period members, and the active and paying among them, from the per-day member sets: the members
  // at t0 plus the stays started in the period are exactly the members with a stay in the period.
  const setsQuery = Promise.all([
    membersAtDay(db, c, { day: p.fromDay, t0: p.t0, t1: p.t1 }, (day) => dayBounds(day, p.timeZone)),
    sets.union('starts', p.fromDay, p.toDay),
    sets.union('referred_starts', p.fromDay, p.toDay),
    sets.union('active', p.fromDay, p.toDay),
    sets.union('payers', p.fromDay, p.toDay),
  ]);

  // Trial buyers: member and trial product pairs with a paid trial order in the period; converted
  // when the first of those orders was followed by the full product in the window (trial_orders).
  const trialsQuery = sql<Record<string, number | string | null>>`
    SELECT COUNT(*) AS trial_buyers, COALESCE(SUM(x.converted), 0) AS trial_converted FROM (
      SELECT t.converted, ROW_NUMBER() OVER (PARTITION BY t.member_id, t.product_id ORDER BY t.paid_at, t.order_id) AS n
      FROM trial_orders t WHERE t.community_id = ${c} AND t.paid_at >= ${p.t0} AND t.paid_at < ${p.t1}
    ) x WHERE x.n = 1`.execute(db);
  const [flows, [atT0, starts, referred, active, payers], trials] = await Promise.all([flowsQuery, setsQuery, trialsQuery]);
  const members = atT0.or(starts);
  const engaged = { period_members: members.size, referred_joiners: referred.size, active: active.and(members).size, paying: payers.and(members).size };

  const row: Record<string, unknown> = { ...flows.rows[0], ...engaged, ...trials.rows[0] };
  const n = (k: keyof MetricCounts) => Number(row[k] ?? 0);
  return {
    members_t0: n('members_t0'),
    members_t1: n('members_t1'),
    period_members: n('period_members'),
    joins: n('joins'),
    leaves: n('leaves'),
    active: n('active'),
    paying: n('paying'),
    buyers_by_t1: n('buyers_by_t1'),
    repeat_buyers: n('repeat_buyers'),
    expiring: n('expiring'),
    renewed: n('renewed'),
    trial_buyers: n('trial_buyers'),
    trial_converted: n('trial_converted'),
    gmv_minor: n('gmv_minor'),
    refunds_minor: n('refunds_minor'),
    referred_joiners: n('referred_joiners'),
  };
}
