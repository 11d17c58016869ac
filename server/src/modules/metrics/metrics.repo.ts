import type { Db } from '../../db/kysely.js';

/** Raw rows the metric definitions read. Time filtering beyond the period bounds happens in TypeScript. */

export const findCommunitySpans = (db: Db, communityId: string) =>
  db.selectFrom('member_spans').select(['member_id', 'joined_at', 'left_at', 'referrer_member_id']).where('community_id', '=', communityId).execute();

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
