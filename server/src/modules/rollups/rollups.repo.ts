import { sql, type RawBuilder } from 'kysely';
import { ENGAGEMENT_TYPES, TRIAL_CONVERSION_DAYS } from '../../../../contracts/src/index.js';
import { isPostgres, type Db, type Trx } from '../../db/kysely.js';
import { assignOrdinals } from './day-sets.repo.js';

/**
 * All SQL of the daily rollups. A day is recomputed from the events of [t0, t1) (its local
 * midnights) with one INSERT … SELECT … GROUP BY per table, after deleting the day's rows.
 */

type Q = Db | Trx;

const ENGAGEMENT = sql.raw(ENGAGEMENT_TYPES.map((t) => `'${t}'`).join(', '));

/** Dialect-specific reads of the events' JSON `props` (keys are constants of this file). */
function props(db: Q) {
  const pg = isPostgres(db);
  return {
    text: (key: string) => sql.raw(pg ? `(e.props->>'${key}')` : `json_extract(e.props, '$.${key}')`),
    isTrue: (key: string) => sql.raw(pg ? `(e.props->>'${key}') = 'true'` : `json_type(e.props, '$.${key}') = 'true'`),
    int: (key: string) => sql.raw(pg ? `COALESCE((e.props->>'${key}')::bigint, 0)` : `COALESCE(CAST(json_extract(e.props, '$.${key}') AS INTEGER), 0)`),
  };
}

const text = (v: string): RawBuilder<string> => sql<string>`CAST(${v} AS text)`;

/** Serializes rollup writers of one community on PostgreSQL (SQLite has a single writer anyway). */
export async function lockCommunityRollups(trx: Trx, communityId: string): Promise<void> {
  if (isPostgres(trx)) await sql`SELECT pg_advisory_xact_lock(hashtext(${'rollups:' + communityId}))`.execute(trx);
}

export async function hasDirtyHours(db: Q, communityId: string): Promise<boolean> {
  return !!(await db.selectFrom('analytics_dirty').select('hour').where('community_id', '=', communityId).limit(1).executeTakeFirst());
}

export async function findDirtyCommunities(db: Q): Promise<string[]> {
  return (await db.selectFrom('analytics_dirty').select('community_id').distinct().execute()).map((r) => r.community_id);
}

/** Takes (deletes and returns) the dirty hours of a community; marks committed later stay for the next refresh. */
export async function claimDirtyHours(trx: Trx, communityId: string): Promise<string[]> {
  const rows = await trx.deleteFrom('analytics_dirty').where('community_id', '=', communityId).returning('hour').execute();
  return [...new Set(rows.map((r) => r.hour))];
}

export async function findEventRange(db: Q, communityId: string): Promise<{ first: string; last: string } | null> {
  const r = await db
    .selectFrom('events')
    .select((eb) => [eb.fn.min('occurred_at').as('first'), eb.fn.max('occurred_at').as('last')])
    .where('community_id', '=', communityId)
    .executeTakeFirst();
  return r?.first && r.last ? { first: String(r.first), last: String(r.last) } : null;
}

export async function countEventsBetween(db: Q, communityId: string, t0: string, t1: string): Promise<number> {
  const r = await db
    .selectFrom('events')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('community_id', '=', communityId)
    .where('occurred_at', '>=', t0)
    .where('occurred_at', '<', t1)
    .executeTakeFirst();
  return Number(r?.n ?? 0);
}

/** Deletes a community's rollup rows outside [firstDay, lastDay] (all of them when `firstDay` is null). */
export async function deleteRollupsOutside(trx: Q, communityId: string, firstDay: string | null, lastDay: string | null): Promise<void> {
  for (const table of ['analytics_member_days', 'analytics_days', 'analytics_flow_days', 'analytics_day_sets'] as const) {
    let q = trx.deleteFrom(table).where('community_id', '=', communityId);
    if (firstDay !== null && lastDay !== null) q = q.where((eb) => eb.or([eb('day', '<', firstDay), eb('day', '>', lastDay)]));
    await q.execute();
  }
}

export interface DayBounds {
  day: string;
  /** Local midnight starting the day, ISO UTC. */
  t0: string;
  /** Local midnight ending the day, ISO UTC. */
  t1: string;
}

/**
 * Recomputes both rollup tables for some local days of a community from its events: delete the
 * days' rows, then one INSERT … SELECT … GROUP BY per table over all the days at once (the events
 * are labelled with their day by joining the days' [t0, t1) bounds). The incremental refresh and
 * the full rebuild both call this, so they write the same rows. Run it in a transaction holding
 * lockCommunityRollups; the days need not be contiguous.
 */
export async function recomputeDays(trx: Trx, communityId: string, currency: string, days: readonly DayBounds[]): Promise<void> {
  if (!days.length) return;
  const pg = isPostgres(trx);
  // These statements' cost estimates start PostgreSQL's JIT compiler, which took longer (~0.9 s
  // per statement) than the work it sped up; off for this transaction only.
  if (pg) await sql`SET LOCAL jit = off`.execute(trx);
  const labels = days.map((d) => d.day);
  await trx.deleteFrom('analytics_member_days').where('community_id', '=', communityId).where('day', 'in', labels).execute();
  await trx.deleteFrom('analytics_days').where('community_id', '=', communityId).where('day', 'in', labels).execute();
  const p = props(trx);
  const to = p.text('to_member_id');
  const ts = (v: string) => (pg ? sql`CAST(${v} AS timestamptz)` : sql`${v}`);
  const values = sql.join(days.map((d) => sql`(${text(d.day)}, ${ts(d.t0)}, ${ts(d.t1)})`));
  // The days' bounds as a table; the outer range lets the planner scan the events of the span once.
  const first = days.reduce((a, d) => (d.t0 < a ? d.t0 : a), days[0]!.t0);
  const last = days.reduce((a, d) => (d.t1 > a ? d.t1 : a), days[0]!.t1);
  const bounds = sql`rollup_days (day, t0, t1) AS (VALUES ${values})`;
  const inDays = sql`rollup_days d JOIN events e ON e.community_id = ${communityId} AND e.occurred_at >= d.t0 AND e.occurred_at < d.t1
    AND e.occurred_at >= ${ts(first)} AND e.occurred_at < ${ts(last)}`;
  const is = (type: string) => sql.raw(`CASE WHEN e.type = '${type}' THEN 1 ELSE 0 END`);

  // Per member and group: what they did (actor rows) and what they received (target rows).
  await sql`
    WITH ${bounds}
    INSERT INTO analytics_member_days (community_id, day, member_id, group_id, engagement, messages, posts, replies, reactions, check_ins, attended,
      replies_received, reactions_received, negative_received, reports_received, ads)
    SELECT ${text(communityId)}, x.day, x.member_id, x.group_id, SUM(x.engagement), SUM(x.messages), SUM(x.posts), SUM(x.replies), SUM(x.reactions),
      SUM(x.check_ins), SUM(x.attended), SUM(x.replies_received), SUM(x.reactions_received), SUM(x.negative_received), SUM(x.reports_received), SUM(x.ads)
    FROM (
      SELECT d.day AS day, e.member_id AS member_id, COALESCE(e.group_id, '') AS group_id, 1 AS engagement, ${is('message')} AS messages, ${is('post')} AS posts,
        ${is('reply')} AS replies, ${is('reaction')} AS reactions, ${is('check_in')} AS check_ins, ${is('event_attended')} AS attended,
        0 AS replies_received, 0 AS reactions_received, 0 AS negative_received, 0 AS reports_received,
        CASE WHEN e.type IN ('message', 'post') AND ${p.isTrue('is_ad')} THEN 1 ELSE 0 END AS ads
      FROM ${inDays} WHERE e.member_id IS NOT NULL AND e.type IN (${ENGAGEMENT})
      UNION ALL
      SELECT d.day, ${to} AS member_id, COALESCE(e.group_id, '') AS group_id, 0, 0, 0, 0, 0, 0, 0,
        ${is('reply')}, ${is('reaction')}, CASE WHEN e.type = 'reaction' AND ${p.isTrue('negative')} THEN 1 ELSE 0 END, ${is('message_reported')}, 0
      FROM ${inDays} WHERE e.type IN ('reply', 'reaction', 'message_reported') AND ${to} IS NOT NULL
        AND (e.member_id IS NULL OR ${to} <> e.member_id)
    ) x
    GROUP BY x.day, x.member_id, x.group_id`.execute(trx);

  // Per dimension and key. Keys: the event's group (orders: the buyer's current group); the entry
  // link of the event, else the member's first link; that link's staff owner, else the monitor of
  // the member's first group (member_firsts, kept with the stays: recompute those first); the
  // event's referrer, else the member's.
  const dims = [
    ['all', 'k_all'],
    ['group', 'k_group'],
    ['channel', 'k_channel'],
    ['staff', 'k_staff'],
    ['referrer', 'k_referrer'],
  ] as const;
  const counters = sql`SUM(link_visits) AS link_visits, SUM(applications) AS applications, SUM(joins) AS joins, SUM(leaves) AS leaves,
    SUM(onboarded) AS onboarded, SUM(engagement) AS engagement, SUM(messages) AS messages, SUM(member_replies) AS member_replies, SUM(ads) AS ads,
    SUM(orders_paid) AS orders_paid, SUM(gmv_minor) AS gmv_minor, SUM(refunds_minor) AS refunds_minor, SUM(conversation) AS conversation`;
  const columns = sql`a.link_visits, a.applications, a.joins, a.leaves, a.onboarded, a.engagement, a.messages, a.member_replies, a.ads, a.orders_paid,
    a.gmv_minor, a.refunds_minor`;
  // PostgreSQL: counters by hash aggregation and the distinct active members apart (a COUNT(DISTINCT)
  // in the GROUP BY made it sort every event row once per dimension). SQLite sorts for a GROUP BY
  // anyway, and the separate distinct pass cost it more than it saved.
  const selects = dims.map(([dim, col]) =>
    pg
      ? sql`SELECT ${text(communityId)}, a.day, ${text(dim)}, a.k, ${columns}, COALESCE(n.active, 0), a.conversation
      FROM (SELECT day, ${sql.ref(col)} AS k, ${counters} FROM ev GROUP BY day, ${sql.ref(col)}) a
      LEFT JOIN (SELECT u.day, u.k, COUNT(*) AS active FROM (SELECT DISTINCT day, ${sql.ref(col)} AS k, member_id FROM ev WHERE engagement = 1) u GROUP BY u.day, u.k) n
        ON n.day = a.day AND n.k = a.k`
      : sql`SELECT ${text(communityId)}, a.day, ${text(dim)}, a.k, ${columns}, a.active, a.conversation
      FROM (SELECT day, ${sql.ref(col)} AS k, ${counters}, COUNT(DISTINCT CASE WHEN engagement = 1 THEN member_id END) AS active FROM ev GROUP BY day, ${sql.ref(col)}) a`,
  );
  await sql`
    WITH ${bounds}, ev AS MATERIALIZED (
      SELECT d.day AS day, e.member_id AS member_id, '' AS k_all,
        COALESCE(e.group_id, CASE WHEN e.type IN ('order_paid', 'order_refunded') THEN m.current_group_id END, '') AS k_group,
        COALESCE(e.entry_link_id, m.entry_link_id, '') AS k_channel,
        COALESCE(l.owner_user_id, fg.monitor_user_id, '') AS k_staff,
        COALESCE(e.referrer_member_id, m.referrer_member_id, '') AS k_referrer,
        ${is('link_visited')} AS link_visits, ${is('applied')} AS applications, ${is('joined')} AS joins,
        CASE WHEN e.type IN ('left', 'removed') THEN 1 ELSE 0 END AS leaves, ${is('onboarded')} AS onboarded,
        CASE WHEN e.type IN (${ENGAGEMENT}) AND e.member_id IS NOT NULL THEN 1 ELSE 0 END AS engagement,
        ${is('message')} AS messages,
        CASE WHEN e.type IN ('message', 'post', 'reply') AND e.member_id IS NOT NULL THEN 1 ELSE 0 END AS conversation,
        CASE WHEN e.type = 'reply' AND e.member_id IS NOT NULL AND ${to} IS NOT NULL AND ${to} <> e.member_id THEN 1 ELSE 0 END AS member_replies,
        CASE WHEN e.type IN ('message', 'post') AND ${p.isTrue('is_ad')} THEN 1 ELSE 0 END AS ads,
        ${is('order_paid')} AS orders_paid,
        CASE WHEN e.type = 'order_paid' AND ${p.text('currency')} = ${currency} THEN ${p.int('amount_minor')} ELSE 0 END AS gmv_minor,
        CASE WHEN e.type = 'order_refunded' AND ${p.text('currency')} = ${currency} THEN ${p.int('amount_minor')} ELSE 0 END AS refunds_minor
      FROM ${inDays}
      LEFT JOIN members m ON m.id = e.member_id
      LEFT JOIN entry_links l ON l.id = COALESCE(e.entry_link_id, m.entry_link_id)
      LEFT JOIN member_firsts mf ON mf.community_id = ${communityId} AND mf.member_id = e.member_id
      LEFT JOIN groups fg ON fg.id = mf.group_id
      WHERE e.type IN ('link_visited', 'applied', 'joined', 'left', 'removed', 'onboarded', 'order_paid', 'order_refunded', ${ENGAGEMENT})
    )
    INSERT INTO analytics_days (community_id, day, dim, key, link_visits, applications, joins, leaves, onboarded, engagement, messages,
      member_replies, ads, orders_paid, gmv_minor, refunds_minor, active_members, conversation)
    ${sql.join(selects, sql` UNION ALL `)}`.execute(trx);
}

/** Distinct members with ≥1 engagement event (analytics_member_days.engagement) on the local days [fromDay, toDay). */
export async function findActiveMemberIds(db: Db, communityId: string, fromDay: string, toDay: string): Promise<string[]> {
  const rows = await db
    .selectFrom('analytics_member_days')
    .select('member_id')
    .distinct()
    .where('community_id', '=', communityId)
    .where('day', '>=', fromDay)
    .where('day', '<', toDay)
    .where('engagement', '>', 0)
    .execute();
  return rows.map((r) => r.member_id);
}

const FLOW_TYPES = sql.raw(
  ['joined', 'left', 'removed', 'order_paid', 'order_refunded', 'membership_granted', 'membership_revoked', 'membership_upgraded', 'membership_cancelled', 'membership_paused', 'membership_resumed']
    .map((t) => `'${t}'`)
    .join(', '),
);

const PAID = sql.raw(`o.paid_at IS NOT NULL AND o.status IN ('paid', 'partially_refunded', 'refunded')`);

/**
 * Members whose stays, purchases, memberships or trial orders an event of these days may have
 * changed: joins, leaves, removals, paid and refunded orders, and the membership events that
 * create, move or end a membership.
 */
export async function findFlowMembers(trx: Q, communityId: string, days: readonly DayBounds[]): Promise<string[]> {
  if (!days.length) return [];
  const ts = (v: string) => (isPostgres(trx) ? sql`CAST(${v} AS timestamptz)` : sql`${v}`);
  const values = sql.join(days.map((d) => sql`(${text(d.day)}, ${ts(d.t0)}, ${ts(d.t1)})`));
  const rows = await sql<{ member_id: string }>`
    WITH rollup_days (day, t0, t1) AS (VALUES ${values})
    SELECT DISTINCT e.member_id AS member_id FROM rollup_days d JOIN events e ON e.community_id = ${communityId} AND e.occurred_at >= d.t0 AND e.occurred_at < d.t1
    WHERE e.member_id IS NOT NULL AND e.type IN (${FLOW_TYPES})`.execute(trx);
  return rows.rows.map((r) => r.member_id);
}

/** The instants at which members' stays, purchases and memberships start and end, for the flow days they count on. */
export async function findFlowInstants(trx: Q, communityId: string, memberIds: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < memberIds.length; i += MEMBERS_PER_STATEMENT) {
    const ids = memberIds.slice(i, i + MEMBERS_PER_STATEMENT);
    const stays = await trx.selectFrom('member_stays').select(['start_at', 'end_at']).where('community_id', '=', communityId).where('member_id', 'in', ids).execute();
    const buys = await trx.selectFrom('member_purchases').select(['first_paid_at', 'second_paid_at']).where('community_id', '=', communityId).where('member_id', 'in', ids).execute();
    const ends = await trx.selectFrom('membership_renewals').select('expires_at').where('community_id', '=', communityId).where('member_id', 'in', ids).execute();
    for (const e of ends) out.push(String(e.expires_at));
    for (const s of stays) out.push(String(s.start_at), ...(s.end_at === null ? [] : [String(s.end_at)]));
    for (const b of buys) out.push(String(b.first_paid_at), ...(b.second_paid_at === null ? [] : [String(b.second_paid_at)]));
  }
  return out;
}

const MEMBERS_PER_STATEMENT = 500;

/**
 * Recomputes `member_stays`, `member_purchases` and `member_firsts` of some members of a community
 * (all of them with 'all') from their spans and paid orders.
 *
 * Stays: a member's spans in order of joined_at (then id); a span starts a new stay when it is the
 * first or starts after every earlier span ended (an open span never ends); a stay ends when its last
 * span does (null if any is open); it is referred when its first span has a referrer. Members with a
 * paid order and no span have one open stay from their first paid order. Each stay carries the end
 * of the member's previous stay.
 *
 * Renewals (membership_renewals): each live order membership with an end; renewed when another
 * live membership of the same member and product was created after it and at most `graceDays`
 * after its end. Trial orders (trial_orders): each paid order of a trial product; converted when
 * the member paid for the full product at or after it and within TRIAL_CONVERSION_DAYS.
 */
export async function recomputeMemberFlows(trx: Trx, communityId: string, members: readonly string[] | 'all', graceDays: number): Promise<void> {
  const c = communityId;
  const batches = members === 'all' ? [null] : Array.from({ length: Math.ceil(members.length / MEMBERS_PER_STATEMENT) }, (_, i) => members.slice(i * MEMBERS_PER_STATEMENT, (i + 1) * MEMBERS_PER_STATEMENT));
  for (const ids of batches) {
    const only = (col: string) => (ids === null ? sql`` : sql` AND ${sql.ref(col)} IN (${sql.join(ids)})`);
    let del = trx.deleteFrom('member_stays').where('community_id', '=', c);
    let delBuys = trx.deleteFrom('member_purchases').where('community_id', '=', c);
    let delFirsts = trx.deleteFrom('member_firsts').where('community_id', '=', c);
    let delRenewals = trx.deleteFrom('membership_renewals').where('community_id', '=', c);
    let delTrials = trx.deleteFrom('trial_orders').where('community_id', '=', c);
    if (ids !== null) {
      del = del.where('member_id', 'in', ids);
      delBuys = delBuys.where('member_id', 'in', ids);
      delFirsts = delFirsts.where('member_id', 'in', ids);
      delRenewals = delRenewals.where('member_id', 'in', ids);
      delTrials = delTrials.where('member_id', 'in', ids);
    }
    await del.execute();
    await delBuys.execute();
    await delFirsts.execute();
    await delRenewals.execute();
    await delTrials.execute();
    await sql`
      INSERT INTO member_firsts (community_id, member_id, group_id)
      SELECT ${text(c)}, f.member_id, f.group_id FROM (
        SELECT s.member_id, s.group_id, ROW_NUMBER() OVER (PARTITION BY s.member_id ORDER BY s.joined_at, s.id) AS n
        FROM member_spans s WHERE s.community_id = ${c}${only('s.member_id')}
      ) f WHERE f.n = 1`.execute(trx);
    await sql`
      INSERT INTO member_stays (community_id, member_id, start_at, end_at, prev_end_at, referred)
      WITH ordered AS (
        SELECT id, member_id, joined_at, left_at, referrer_member_id,
          COUNT(*) OVER earlier AS earlier_n,
          MAX(CASE WHEN left_at IS NULL THEN 1 ELSE 0 END) OVER earlier AS earlier_open,
          MAX(left_at) OVER earlier AS earlier_end
        FROM member_spans WHERE community_id = ${c}${only('member_id')}
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
        WHERE o.community_id = ${c} AND ${PAID}${only('o.member_id')}
          AND NOT EXISTS (SELECT 1 FROM member_spans s WHERE s.community_id = ${c} AND s.member_id = o.member_id)
        GROUP BY o.member_id
      )
      SELECT ${text(c)}, member_id, start_at, end_at, LAG(end_at) OVER (PARTITION BY member_id ORDER BY start_at), referred FROM stays`.execute(trx);
    await assignOrdinals(trx, c, sql`SELECT member_id FROM member_stays WHERE community_id = ${c}${only('member_id')}`);
    await sql`
      INSERT INTO member_purchases (community_id, member_id, first_paid_at, second_paid_at)
      SELECT ${text(c)}, b.member_id, MIN(b.paid_at), MIN(CASE WHEN b.n = 2 THEN b.paid_at END) FROM (
        SELECT o.member_id, o.paid_at, ROW_NUMBER() OVER (PARTITION BY o.member_id ORDER BY o.paid_at, o.id) AS n
        FROM orders o WHERE o.community_id = ${c} AND ${PAID}${only('o.member_id')}
      ) b WHERE b.n <= 2 GROUP BY b.member_id`.execute(trx);
    await sql`
      INSERT INTO membership_renewals (community_id, membership_id, member_id, expires_at, renewed)
      SELECT ${text(c)}, m.id, m.member_id, m.expires_at, CASE WHEN EXISTS (
        SELECT 1 FROM memberships n WHERE n.community_id = ${c} AND n.source = 'order' AND n.revoked_at IS NULL AND n.id <> m.id
          AND n.member_id = m.member_id AND n.product_id = m.product_id AND n.created_at > m.created_at
          AND n.created_at <= ${plusDays(trx, sql`m.expires_at`, graceDays)}
      ) THEN 1 ELSE 0 END
      FROM memberships m WHERE m.community_id = ${c} AND m.source = 'order' AND m.revoked_at IS NULL AND m.expires_at IS NOT NULL${only('m.member_id')}`.execute(trx);
    await sql`
      INSERT INTO trial_orders (community_id, order_id, member_id, product_id, paid_at, converted)
      SELECT ${text(c)}, o.id, o.member_id, o.product_id, o.paid_at, CASE WHEN EXISTS (
        SELECT 1 FROM orders f WHERE f.community_id = ${c} AND f.paid_at IS NOT NULL AND f.status IN ('paid', 'partially_refunded', 'refunded')
          AND f.member_id = o.member_id AND f.product_id = pr.trial_of_product_id
          AND f.paid_at >= o.paid_at AND f.paid_at <= ${plusDays(trx, sql`o.paid_at`, TRIAL_CONVERSION_DAYS)}
      ) THEN 1 ELSE 0 END
      FROM orders o JOIN products pr ON pr.id = o.product_id AND pr.community_id = ${c} AND pr.trial_of_product_id IS NOT NULL
      WHERE o.community_id = ${c} AND ${PAID}${only('o.member_id')}`.execute(trx);
  }
}

/** `at` + `days` days (exact multiples of 86,400 s, whatever the session's time zone), as a timestamp comparable to the columns. */
const plusDays = (db: Q, at: RawBuilder<unknown>, days: number): RawBuilder<unknown> =>
  isPostgres(db) ? sql`(${at} + CAST(${`${days * 86_400} seconds`} AS interval))` : sql`strftime('%Y-%m-%dT%H:%M:%fZ', ${at}, ${`${days * 86_400} seconds`})`;

/**
 * Recomputes `analytics_flow_days` for some local days from member_stays, member_purchases,
 * membership_renewals, and the paid orders and settled refunds in `currency`.
 */
export async function recomputeFlowDays(trx: Trx, communityId: string, currency: string, days: readonly DayBounds[]): Promise<void> {
  if (!days.length) return;
  const c = communityId;
  const ts = (v: string) => (isPostgres(trx) ? sql`CAST(${v} AS timestamptz)` : sql`${v}`);
  await trx.deleteFrom('analytics_flow_days').where('community_id', '=', c).where('day', 'in', days.map((d) => d.day)).execute();
  const values = sql.join(days.map((d) => sql`(${text(d.day)}, ${ts(d.t0)}, ${ts(d.t1)})`));
  const count = (table: string, col: string) =>
    sql`(SELECT COUNT(*) FROM ${sql.table(table)} x WHERE x.community_id = ${c} AND ${sql.ref(`x.${col}`)} >= d.t0 AND ${sql.ref(`x.${col}`)} < d.t1)`;
  await sql`
    WITH rollup_days (day, t0, t1) AS (VALUES ${values})
    INSERT INTO analytics_flow_days (community_id, day, stay_starts, stay_ends, first_purchases, second_purchases, gmv_minor, refunds_minor, expiring, renewed)
    SELECT ${text(c)}, f.day, f.stay_starts, f.stay_ends, f.first_purchases, f.second_purchases, f.gmv_minor, f.refunds_minor, f.expiring, f.renewed FROM (
      SELECT d.day AS day, ${count('member_stays', 'start_at')} AS stay_starts, ${count('member_stays', 'end_at')} AS stay_ends,
        ${count('member_purchases', 'first_paid_at')} AS first_purchases, ${count('member_purchases', 'second_paid_at')} AS second_purchases,
        (SELECT COALESCE(SUM(o.amount_minor), 0) FROM orders o WHERE o.community_id = ${c} AND ${PAID} AND o.paid_at >= d.t0 AND o.paid_at < d.t1
          AND o.currency = ${currency}) AS gmv_minor,
        (SELECT COALESCE(SUM(r.amount_minor), 0) FROM refunds r WHERE r.community_id = ${c} AND r.status = 'succeeded' AND r.settled_at >= d.t0
          AND r.settled_at < d.t1 AND r.currency = ${currency}) AS refunds_minor,
        ${count('membership_renewals', 'expires_at')} AS expiring,
        (SELECT COALESCE(SUM(x.renewed), 0) FROM membership_renewals x WHERE x.community_id = ${c} AND x.expires_at >= d.t0 AND x.expires_at < d.t1) AS renewed
      FROM rollup_days d
    ) f WHERE f.stay_starts + f.stay_ends + f.first_purchases + f.second_purchases + f.expiring <> 0 OR f.gmv_minor <> 0 OR f.refunds_minor <> 0`.execute(trx);
}

/**
 * The earliest and latest instants of a community's stays, purchases and membership ends, and the
 * latest of its stays and purchases alone (membership ends may lie far ahead).
 */
export async function findFlowRange(db: Q, communityId: string): Promise<{ first: string; last: string; lastStay: string } | null> {
  const r = await sql<{ first: string | null; last: string | null; last_stay: string | null }>`
    SELECT MIN(x.a) AS first, MAX(x.b) AS last, MAX(CASE WHEN x.k = 1 THEN x.b END) AS last_stay FROM (
      SELECT 1 AS k, MIN(start_at) AS a, MAX(COALESCE(end_at, start_at)) AS b FROM member_stays WHERE community_id = ${communityId}
      UNION ALL
      SELECT 1, MIN(first_paid_at), MAX(COALESCE(second_paid_at, first_paid_at)) FROM member_purchases WHERE community_id = ${communityId}
      UNION ALL
      SELECT 2, MIN(expires_at), MAX(expires_at) FROM membership_renewals WHERE community_id = ${communityId}
    ) x`.execute(db);
  const row = r.rows[0];
  const iso = (v: string) => new Date(v).toISOString();
  return row?.first && row.last ? { first: iso(row.first), last: iso(row.last), lastStay: iso(row.last_stay ?? row.first) } : null;
}

/** Moves the community's rollup generation on: answers computed from the older rows are stale. */
export async function bumpGeneration(trx: Q, communityId: string): Promise<void> {
  await trx
    .insertInto('analytics_generations')
    .values({ community_id: communityId, generation: 1 })
    .onConflict((oc) => oc.column('community_id').doUpdateSet((eb) => ({ generation: eb('analytics_generations.generation', '+', 1) })))
    .execute();
}

export async function findGeneration(db: Q, communityId: string): Promise<number> {
  const r = await db.selectFrom('analytics_generations').select('generation').where('community_id', '=', communityId).executeTakeFirst();
  return Number(r?.generation ?? 0);
}
