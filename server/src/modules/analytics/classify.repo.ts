import { sql } from 'kysely';
import { isPostgres, type Db } from '../../db/kysely.js';
import { encodeJson, flag, json } from '../../db/codecs.js';
import { ENGAGEMENT_TYPES } from '../../../../contracts/src/index.js';
import type { MemberActivityFact } from './classify.definitions.js';
import type { GroupActivityFact } from './group-health.definitions.js';
import type { MemberEngagementFact } from './churn.definitions.js';
import { sumsRow } from '../../db/codecs.js';

/** Dialect-specific reads of an event's JSON props (keys are constants of this file). */
const propText = (db: Db, key: string) => sql.raw(isPostgres(db) ? `(props->>'${key}')` : `json_extract(props, '$.${key}')`);
const propTrue = (db: Db, key: string) => sql.raw(isPostgres(db) ? `COALESCE((props->>'${key}') = 'true', false)` : `COALESCE(json_type(props, '$.${key}') = 'true', 0)`);

/**
 * Per member, engagement over the local days [fromDay, toDay), summed from the daily rollups
 * (analytics_member_days, all groups): classification's activity. Refresh the rollups first.
 */
export async function sumMemberActivity(db: Db, communityId: string, fromDay: string, toDay: string): Promise<MemberActivityFact[]> {
  const rows = await db
    .selectFrom('analytics_member_days')
    .select((eb) => [
      'member_id',
      eb.fn.sum<number>('messages').as('messages'),
      eb.fn.sum<number>('posts').as('posts'),
      eb.fn.sum<number>('replies').as('replies'),
      eb.fn.sum<number>('reactions').as('reactions'),
      eb.fn.sum<number>('check_ins').as('check_ins'),
      eb.fn.sum<number>('attended').as('attended'),
      eb.fn.sum<number>('replies_received').as('replies_received'),
      eb.fn.sum<number>('reactions_received').as('reactions_received'),
      eb.fn.sum<number>('negative_received').as('negative_received'),
      eb.fn.sum<number>('reports_received').as('reports_received'),
      sql<number>`COUNT(DISTINCT CASE WHEN engagement > 0 THEN day END)`.as('active_days'),
    ])
    .where('community_id', '=', communityId)
    .where('day', '>=', fromDay)
    .where('day', '<', toDay)
    .groupBy('member_id')
    .execute();
  return rows.map((r) => sumsRow<MemberActivityFact, 'member_id'>(r, 'member_id'));
}

/** Per group (`''`: none), messages + posts, ads and active local days over [fromDay, toDay), from the daily rollups. */
export async function sumGroupActivity(db: Db, communityId: string, fromDay: string, toDay: string): Promise<GroupActivityFact[]> {
  const rows = await db
    .selectFrom('analytics_member_days')
    .select((eb) => [
      'group_id',
      sql<number>`SUM(messages + posts)`.as('messages'),
      eb.fn.sum<number>('ads').as('ads'),
      sql<number>`COUNT(DISTINCT CASE WHEN engagement > 0 THEN day END)`.as('active_days'),
    ])
    .where('community_id', '=', communityId)
    .where('day', '>=', fromDay)
    .where('day', '<', toDay)
    .groupBy('group_id')
    .execute();
  return rows.map((r) => ({ group_id: r.group_id, messages: Number(r.messages ?? 0), ads: Number(r.ads ?? 0), active_days: Number(r.active_days ?? 0) }));
}

/** Distinct (group, member) with ≥1 engagement event by the member in the group on the local days [fromDay, toDay), from the daily rollups. */
export const findActiveGroupMembers = (db: Db, communityId: string, fromDay: string, toDay: string) =>
  db
    .selectFrom('analytics_member_days')
    .select(['group_id', 'member_id'])
    .distinct()
    .where('community_id', '=', communityId)
    .where('day', '>=', fromDay)
    .where('day', '<', toDay)
    .where('engagement', '>', 0)
    .where('group_id', '<>', '')
    .execute();

/** Per group, the instant of its last engagement event (by a member) before `to`. */
export async function findLastEngagementByGroup(db: Db, communityId: string, to: string): Promise<Map<string, number>> {
  const rows = await db
    .selectFrom('events')
    .select((eb) => ['group_id', eb.fn.max('occurred_at').as('last')])
    .where('community_id', '=', communityId)
    .where('type', 'in', [...ENGAGEMENT_TYPES])
    .where('member_id', 'is not', null)
    .where('group_id', 'is not', null)
    .where('occurred_at', '<', to)
    .groupBy('group_id')
    .execute();
  return new Map(rows.map((r) => [r.group_id!, Date.parse(String(r.last))]));
}

/**
 * Per member, their engagement events (ENGAGEMENT_TYPES) before `at`: the last one's instant and
 * the counts in [recentFrom, at) and [previousFrom, recentFrom), aggregated in SQL (churn risk).
 */
export async function summarizeEngagementBefore(db: Db, communityId: string, at: string, recentFrom: string, previousFrom: string): Promise<MemberEngagementFact[]> {
  const rows = await db
    .selectFrom('events')
    .select((eb) => [
      'member_id',
      eb.fn.max('occurred_at').as('last_at'),
      sql<number>`SUM(CASE WHEN occurred_at >= ${recentFrom} THEN 1 ELSE 0 END)`.as('recent'),
      sql<number>`SUM(CASE WHEN occurred_at >= ${previousFrom} AND occurred_at < ${recentFrom} THEN 1 ELSE 0 END)`.as('previous'),
    ])
    .where('community_id', '=', communityId)
    .where('type', 'in', [...ENGAGEMENT_TYPES])
    .where('member_id', 'is not', null)
    .where('occurred_at', '<', at)
    .groupBy('member_id')
    .execute();
  return rows.map((r) => ({ member_id: r.member_id!, last_at: Date.parse(String(r.last_at)), recent: Number(r.recent), previous: Number(r.previous) }));
}

/** Per member, reactions given in [from, to) without `props.negative`. */
export async function countPositiveReactionsGiven(db: Db, communityId: string, from: string, to: string): Promise<Map<string, number>> {
  const rows = await db
    .selectFrom('events')
    .select((eb) => ['member_id', eb.fn.countAll<number>().as('n')])
    .where('community_id', '=', communityId)
    .where('type', '=', 'reaction')
    .where('member_id', 'is not', null)
    .where('occurred_at', '>=', from)
    .where('occurred_at', '<', to)
    .where(sql<boolean>`NOT ${propTrue(db, 'negative')}`)
    .groupBy('member_id')
    .execute();
  return new Map(rows.map((r) => [r.member_id!, Number(r.n)]));
}

/** Distinct (author, member replied to) of replies in [from, to) between two different members. */
export async function findReplyPairs(db: Db, communityId: string, from: string, to: string): Promise<{ member_id: string; to_member_id: string }[]> {
  const target = propText(db, 'to_member_id');
  const r = await sql<{ member_id: string; to_member_id: string }>`
    SELECT DISTINCT member_id, ${target} AS to_member_id FROM events
    WHERE community_id = ${communityId} AND type = 'reply' AND member_id IS NOT NULL AND occurred_at >= ${from} AND occurred_at < ${to}
      AND ${target} IS NOT NULL AND ${target} <> member_id`.execute(db);
  return r.rows;
}

export const findSpans = (db: Db, communityId: string) =>
  db.selectFrom('member_spans').select(['member_id', 'group_id', 'joined_at', 'left_at', 'referrer_member_id']).where('community_id', '=', communityId).execute();

export const findMemberNames = async (db: Db, communityId: string) =>
  new Map((await db.selectFrom('members').select(['id', 'display_name']).where('community_id', '=', communityId).execute()).map((m) => [m.id, m.display_name]));

/** Orders that were paid (refunded since or not), with whether their product is a membership. */
export const findPaidOrderKinds = (db: Db, communityId: string) =>
  db
    .selectFrom('orders')
    .innerJoin('products', 'products.id', 'orders.product_id')
    .select(['orders.member_id', 'orders.product_id', 'orders.paid_at', 'products.type'])
    .where('orders.community_id', '=', communityId)
    .where('orders.paid_at', 'is not', null)
    .where('orders.status', 'in', ['paid', 'partially_refunded', 'refunded'])
    .execute();

export const findGroups = (db: Db, communityId: string) =>
  db.selectFrom('groups').select(['id', 'name', 'capacity', 'seated_count', 'created_at']).where('community_id', '=', communityId).execute();

/** Order memberships with their chain's auto-renew and whether a pending order renews them. */
export async function findChurnMemberships(db: Db, communityId: string) {
  const [rows, chains, pending] = await Promise.all([
    db
      .selectFrom('memberships')
      .select(['id', 'member_id', 'product_id', 'created_at', 'expires_at', 'revoked_at', 'ended_at', 'cancelled_at', 'past_due_since'])
      .where('community_id', '=', communityId)
      .where('source', '=', 'order')
      .execute(),
    db.selectFrom('membership_chains').select(['member_id', 'product_id', 'auto_renew']).where('community_id', '=', communityId).execute(),
    db.selectFrom('orders').select('renews_membership_id').where('community_id', '=', communityId).where('status', '=', 'pending').where('renews_membership_id', 'is not', null).execute(),
  ]);
  const auto = new Set(chains.filter((c) => flag(c.auto_renew)).map((c) => `${c.member_id} ${c.product_id}`));
  const open = new Set(pending.map((o) => o.renews_membership_id!));
  return rows.map((m) => ({ ...m, auto_renew: auto.has(`${m.member_id} ${m.product_id}`), open_renewal_order: open.has(m.id) }));
}

export async function findRenewalFailures(db: Db, communityId: string, to: string) {
  const rows = await db
    .selectFrom('events')
    .select(['member_id', 'occurred_at', 'props'])
    .where('community_id', '=', communityId)
    .where('type', '=', 'renewal_payment_failed')
    .where('member_id', 'is not', null)
    .where('occurred_at', '<', to)
    .execute();
  return rows.map((r) => {
    const p = json<Record<string, unknown> | null>(r.props) ?? {};
    return { member_id: r.member_id!, membership_id: typeof p.membership_id === 'string' ? p.membership_id : null, at: Date.parse(r.occurred_at) };
  });
}

export const findAnalyticsSettings = (db: Db, communityId: string) =>
  db.selectFrom('analytics_settings').select(['settings', 'updated_at']).where('community_id', '=', communityId).executeTakeFirst();

export const saveAnalyticsSettings = (db: Db, communityId: string, settings: unknown, at: string) =>
  db
    .insertInto('analytics_settings')
    .values({ community_id: communityId, settings: encodeJson(settings), updated_at: at })
    .onConflict((oc) => oc.column('community_id').doUpdateSet({ settings: encodeJson(settings), updated_at: at }))
    .execute();
