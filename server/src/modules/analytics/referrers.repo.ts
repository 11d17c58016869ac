import type { Db } from '../../db/kysely.js';

/** Raw rows of the referrer league. Switchable to rollups: findLinkVisitsBetween (analytics_days). */

export const findReferralSpans = (db: Db, communityId: string) =>
  db.selectFrom('member_spans').select(['member_id', 'group_id', 'entry_link_id', 'referrer_member_id', 'joined_at', 'left_at']).where('community_id', '=', communityId).orderBy('id').execute();

export const findLinkVisitsBetween = (db: Db, communityId: string, from: string, to: string) =>
  db
    .selectFrom('events')
    .select(['entry_link_id', 'referrer_member_id'])
    .where('community_id', '=', communityId)
    .where('type', '=', 'link_visited')
    .where('occurred_at', '>=', from)
    .where('occurred_at', '<', to)
    .execute();

/** Succeeded refunds settled before `to`, with the buyer of the refunded order. */
export const findSucceededRefundsBefore = (db: Db, communityId: string, to: string) =>
  db
    .selectFrom('refunds')
    .innerJoin('orders', 'orders.id', 'refunds.order_id')
    .select(['orders.member_id', 'refunds.amount_minor', 'refunds.currency', 'refunds.settled_at'])
    .where('refunds.community_id', '=', communityId)
    .where('refunds.status', '=', 'succeeded')
    .where('refunds.settled_at', '<', to)
    .execute();

export const findLinkOwners = (db: Db, communityId: string) => db.selectFrom('entry_links').select(['id', 'owner_user_id']).where('community_id', '=', communityId).execute();

export const findGroupStaff = (db: Db, communityId: string) => db.selectFrom('groups').select(['id', 'leader_user_id', 'monitor_user_id']).where('community_id', '=', communityId).execute();

export const findUserNames = (db: Db, ids: string[]) => (ids.length ? db.selectFrom('users').select(['id', 'name']).where('id', 'in', ids).execute() : Promise.resolve([]));
