import type { Db } from '../../db/kysely.js';

/** Raw rows of the referrer league. Spans, link visits, link owners and staff names: common.repo.ts. */

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

