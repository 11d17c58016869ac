import { sql, type RawBuilder } from 'kysely';
import { isPostgres } from '../../db/dialect.js';
import type { Db } from '../../db/kysely.js';
import type { MetricCounts } from './metrics.definitions.js';

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

/** The bounds of a period for countPeriodMetrics: instants (ISO) and the local days of the rollups. */
export interface PeriodBounds {
  t0: string;
  t1: string;
  fromDay: string;
  toDay: string;
  currency: string;
  graceDays: number;
  trialWindowDays: number;
}

/** `at` + `days` days (exact multiples of 86,400 s, whatever the session's time zone), as a timestamp comparable to the columns. */
const plusDays = (db: Db, at: RawBuilder<unknown>, days: number): RawBuilder<unknown> =>
  isPostgres(db) ? sql`(${at} + CAST(${`${days * 86_400} seconds`} AS interval))` : sql`strftime('%Y-%m-%dT%H:%M:%fZ', ${at}, ${`${days * 86_400} seconds`})`;

const paid = (o: string) => sql.raw(`${o}.paid_at IS NOT NULL AND ${o}.status IN ('paid', 'partially_refunded', 'refunded')`);

/**
 * The counts of metrics.definitions.ts (MetricCounts) for one period, in SQL, without loading the
 * rows: the same definitions as metricSets, which explain uses to list the rows behind them.
 *
 * Reads the stays and purchases the rollups keep (member_stays, member_purchases, and their day
 * sums in analytics_flow_days; refresh the rollups first). A stay is at t when start < t ≤ end (or
 * open); a member's stays never overlap, so members at t0 = stays started before t0 − stays ended
 * before t0, both sums over the local days before `fromDay`. A member is a period member once: by
 * the stay that holds t0, else by their first stay starting in the period, the one whose previous
 * stay ended before t0 (or that has none). A member had a stay in the period iff one starts before
 * t1 and ends at or after t0 (or is open).
 */
export async function countPeriodMetrics(db: Db, communityId: string, p: PeriodBounds): Promise<MetricCounts> {
  const c = communityId;
  const inPeriod = (m: string) =>
    sql`EXISTS (SELECT 1 FROM member_stays st WHERE st.community_id = ${c} AND st.member_id = ${sql.ref(m)} AND st.start_at < ${p.t1}
      AND (st.end_at IS NULL OR st.end_at >= ${p.t0}))`;
  const flows = await sql<Record<string, number | string | null>>`
    SELECT
      COALESCE(SUM(CASE WHEN day < ${p.fromDay} THEN stay_starts - stay_ends ELSE 0 END), 0) AS members_t0,
      COALESCE(SUM(stay_starts - stay_ends), 0) AS members_t1,
      COALESCE(SUM(CASE WHEN day >= ${p.fromDay} THEN stay_starts ELSE 0 END), 0) AS joins,
      COALESCE(SUM(CASE WHEN day >= ${p.fromDay} THEN stay_ends ELSE 0 END), 0) AS leaves,
      COALESCE(SUM(first_purchases), 0) AS buyers_by_t1,
      COALESCE(SUM(second_purchases), 0) AS repeat_buyers
    FROM analytics_flow_days WHERE community_id = ${c} AND day < ${p.toDay}`.execute(db);
  const joiners = await sql<Record<string, number | string | null>>`
    SELECT
      COALESCE(SUM(CASE WHEN st.prev_end_at IS NULL OR st.prev_end_at < ${p.t0} THEN 1 ELSE 0 END), 0) AS new_period_members,
      COUNT(DISTINCT CASE WHEN st.referred = 1 THEN st.member_id END) AS referred_joiners
    FROM member_stays st WHERE st.community_id = ${c} AND st.start_at >= ${p.t0} AND st.start_at < ${p.t1}`.execute(db);
  const engaged = await sql<Record<string, number | string | null>>`
    SELECT
      (SELECT COUNT(*) FROM (SELECT DISTINCT o.member_id FROM orders o
        WHERE o.community_id = ${c} AND ${paid('o')} AND o.paid_at >= ${p.t0} AND o.paid_at < ${p.t1}) b WHERE ${inPeriod('b.member_id')}) AS paying,
      (SELECT COUNT(*) FROM (SELECT DISTINCT d.member_id FROM analytics_member_days d
        WHERE d.community_id = ${c} AND d.day >= ${p.fromDay} AND d.day < ${p.toDay} AND d.engagement > 0) a WHERE ${inPeriod('a.member_id')}) AS active`.execute(db);

  const live = (m: string) => sql`${sql.raw(m)}.community_id = ${c} AND ${sql.raw(m)}.source = 'order' AND ${sql.raw(m)}.revoked_at IS NULL`;
  const renewals = await sql<Record<string, number | string | null>>`
    SELECT COUNT(*) AS expiring, COALESCE(SUM(CASE WHEN EXISTS (
      SELECT 1 FROM memberships n WHERE ${live('n')} AND n.id <> m.id AND n.member_id = m.member_id AND n.product_id = m.product_id
        AND n.created_at > m.created_at AND n.created_at <= ${plusDays(db, sql`m.expires_at`, p.graceDays)}
    ) THEN 1 ELSE 0 END), 0) AS renewed
    FROM memberships m WHERE ${live('m')} AND m.expires_at >= ${p.t0} AND m.expires_at < ${p.t1}`.execute(db);

  const trials = await sql<Record<string, number | string | null>>`
    WITH starts AS (
      SELECT o.member_id, o.product_id, pr.trial_of_product_id AS full_product_id, MIN(o.paid_at) AS at
      FROM orders o JOIN products pr ON pr.id = o.product_id AND pr.community_id = ${c} AND pr.trial_of_product_id IS NOT NULL
      WHERE o.community_id = ${c} AND ${paid('o')} AND o.paid_at >= ${p.t0} AND o.paid_at < ${p.t1}
      GROUP BY o.member_id, o.product_id, pr.trial_of_product_id
    )
    SELECT COUNT(*) AS trial_buyers, COALESCE(SUM(CASE WHEN EXISTS (
      SELECT 1 FROM orders f WHERE f.community_id = ${c} AND ${paid('f')} AND f.member_id = t.member_id AND f.product_id = t.full_product_id
        AND f.paid_at >= t.at AND f.paid_at <= ${plusDays(db, sql`t.at`, p.trialWindowDays)}
    ) THEN 1 ELSE 0 END), 0) AS trial_converted
    FROM starts t`.execute(db);

  const money = await sql<Record<string, number | string | null>>`
    SELECT
      (SELECT COALESCE(SUM(o.amount_minor), 0) FROM orders o
        WHERE o.community_id = ${c} AND ${paid('o')} AND o.paid_at >= ${p.t0} AND o.paid_at < ${p.t1} AND o.currency = ${p.currency}) AS gmv_minor,
      (SELECT COALESCE(SUM(r.amount_minor), 0) FROM refunds r JOIN orders o ON o.id = r.order_id
        WHERE r.community_id = ${c} AND r.status = 'succeeded' AND r.settled_at >= ${p.t0} AND r.settled_at < ${p.t1} AND r.currency = ${p.currency}) AS refunds_minor`.execute(db);

  const row = { ...flows.rows[0], ...joiners.rows[0], ...engaged.rows[0], ...renewals.rows[0], ...trials.rows[0], ...money.rows[0] };
  const n = (k: keyof MetricCounts | 'new_period_members') => Number(row[k] ?? 0);
  return {
    members_t0: n('members_t0'),
    members_t1: n('members_t1'),
    period_members: n('members_t0') + n('new_period_members'),
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
