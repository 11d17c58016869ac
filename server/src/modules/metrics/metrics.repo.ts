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
 * Stays (staysOf): a member's spans in order of joined_at (then id); a span starts a new stay when
 * it is the first or starts after every earlier span ended (an open span never ends); a stay ends
 * when its last span does (null if any is open); it is referred when its first span has a referrer.
 * Members with a paid order and no span have one open stay from their first paid order.
 */
export async function countPeriodMetrics(db: Db, communityId: string, p: PeriodBounds): Promise<MetricCounts> {
  const c = communityId;
  const atT0 = sql`(st.start_at < ${p.t0} AND (st.end_at IS NULL OR st.end_at >= ${p.t0}))`;
  const atT1 = sql`(st.start_at < ${p.t1} AND (st.end_at IS NULL OR st.end_at >= ${p.t1}))`;
  const startsIn = sql`(st.start_at >= ${p.t0} AND st.start_at < ${p.t1})`;
  const endsIn = sql`(st.end_at >= ${p.t0} AND st.end_at < ${p.t1})`;
  const flag = (cond: RawBuilder<unknown>) => sql`MAX(CASE WHEN ${cond} THEN 1 ELSE 0 END)`;
  const stays = await sql<Record<string, number | string | null>>`
    WITH ordered AS (
      SELECT id, member_id, joined_at, left_at, referrer_member_id,
        COUNT(*) OVER earlier AS earlier_n,
        MAX(CASE WHEN left_at IS NULL THEN 1 ELSE 0 END) OVER earlier AS earlier_open,
        MAX(left_at) OVER earlier AS earlier_end
      FROM member_spans WHERE community_id = ${c}
      WINDOW earlier AS (PARTITION BY member_id ORDER BY joined_at, id ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)
    ), marked AS (
      SELECT id, member_id, joined_at, left_at, referrer_member_id,
        CASE WHEN earlier_n = 0 OR (earlier_open = 0 AND earlier_end < joined_at) THEN 1 ELSE 0 END AS first_span
      FROM ordered
    ), numbered AS (
      SELECT member_id, joined_at, left_at, referrer_member_id, first_span,
        SUM(first_span) OVER (PARTITION BY member_id ORDER BY joined_at, id ROWS UNBOUNDED PRECEDING) AS stay_no
      FROM marked
    ), stays AS (
      SELECT member_id, MIN(joined_at) AS start_at,
        CASE WHEN MAX(CASE WHEN left_at IS NULL THEN 1 ELSE 0 END) = 1 THEN NULL ELSE MAX(left_at) END AS end_at,
        MAX(CASE WHEN first_span = 1 AND referrer_member_id IS NOT NULL THEN 1 ELSE 0 END) AS referred
      FROM numbered GROUP BY member_id, stay_no
      UNION ALL
      SELECT o.member_id, MIN(o.paid_at), NULL, 0 FROM orders o
      WHERE o.community_id = ${c} AND ${paid('o')}
        AND o.member_id NOT IN (SELECT s.member_id FROM member_spans s WHERE s.community_id = ${c})
      GROUP BY o.member_id
    ), people AS (
      SELECT st.member_id,
        ${flag(atT0)} AS at_t0,
        ${flag(atT1)} AS at_t1,
        ${flag(sql`${atT0} OR ${startsIn}`)} AS period_member,
        ${flag(sql`${startsIn} AND st.referred = 1`)} AS referred_joiner,
        SUM(CASE WHEN ${startsIn} THEN 1 ELSE 0 END) AS joins,
        SUM(CASE WHEN ${endsIn} THEN 1 ELSE 0 END) AS leaves
      FROM stays st GROUP BY st.member_id
    )
    SELECT
      COALESCE(SUM(pe.at_t0), 0) AS members_t0,
      COALESCE(SUM(pe.at_t1), 0) AS members_t1,
      COALESCE(SUM(pe.period_member), 0) AS period_members,
      COALESCE(SUM(pe.joins), 0) AS joins,
      COALESCE(SUM(pe.leaves), 0) AS leaves,
      COALESCE(SUM(pe.referred_joiner), 0) AS referred_joiners,
      COALESCE(SUM(CASE WHEN pe.period_member = 1 AND pe.member_id IN (
        SELECT o.member_id FROM orders o WHERE o.community_id = ${c} AND ${paid('o')} AND o.paid_at >= ${p.t0} AND o.paid_at < ${p.t1}
      ) THEN 1 ELSE 0 END), 0) AS paying,
      COALESCE(SUM(CASE WHEN pe.period_member = 1 AND pe.member_id IN (
        SELECT d.member_id FROM analytics_member_days d WHERE d.community_id = ${c} AND d.day >= ${p.fromDay} AND d.day < ${p.toDay} AND d.engagement > 0
      ) THEN 1 ELSE 0 END), 0) AS active
    FROM people pe`.execute(db);

  const buyers = await sql<Record<string, number | string | null>>`
    SELECT COUNT(*) AS buyers_by_t1, COALESCE(SUM(CASE WHEN b.n >= 2 THEN 1 ELSE 0 END), 0) AS repeat_buyers
    FROM (SELECT o.member_id, COUNT(*) AS n FROM orders o WHERE o.community_id = ${c} AND ${paid('o')} AND o.paid_at < ${p.t1} GROUP BY o.member_id) b`.execute(db);

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

  const row = { ...stays.rows[0], ...buyers.rows[0], ...renewals.rows[0], ...trials.rows[0], ...money.rows[0] };
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
