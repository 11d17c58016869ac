import { sql, type Insertable, type Selectable } from 'kysely';
import { isPostgres, type Db, type Trx } from '../../db/kysely.js';
import type { OrdersTable, RefundsTable } from '../../db/types.js';

export type OrderRow = Selectable<OrdersTable>;
export type RefundRow = Selectable<RefundsTable>;
type Conn = Db | Trx;

export const findOrder = (db: Conn, communityId: string, id: string) =>
  db.selectFrom('orders').selectAll().where('community_id', '=', communityId).where('id', '=', id).executeTakeFirst();

/** Webhooks name an order by id alone; the order carries its community. */
export const findOrderById = (db: Conn, id: string) => db.selectFrom('orders').selectAll().where('id', '=', id).executeTakeFirst();

export const findOrderByCheckoutHash = (db: Conn, hash: string) =>
  db.selectFrom('orders').selectAll().where('checkout_token_hash', '=', hash).executeTakeFirst();

export const findOrderByIdempotencyKey = (db: Conn, communityId: string, memberId: string, key: string) =>
  db
    .selectFrom('orders')
    .selectAll()
    .where('community_id', '=', communityId)
    .where('member_id', '=', memberId)
    .where('idempotency_key', '=', key)
    .executeTakeFirst();


/** Inserts the order unless the member already used this idempotency key; true when inserted. */
export async function insertOrderOnce(trx: Conn, row: Insertable<OrdersTable>): Promise<boolean> {
  const r = await trx
    .insertInto('orders')
    .values(row)
    .onConflict((oc) => oc.columns(['community_id', 'member_id', 'idempotency_key']).doNothing())
    .executeTakeFirst();
  return Number(r.numInsertedOrUpdatedRows ?? 0) === 1;
}

/** Forgets a pending order's checkout (its provider let it expire), so that the next visit to the pay link starts another. */
export const clearOrderCheckout = (db: Conn, id: string, at: string) =>
  db.updateTable('orders').set({ checkout_kind: null, checkout_url: null, checkout_ref: null, updated_at: at }).where('id', '=', id).where('status', '=', 'pending').execute();

/** Stores the checkout the provider started unless one is stored already (a concurrent retry won). */
export const setOrderCheckoutOnce = (db: Conn, id: string, checkout: { kind: string; url: string; ref: string | null }, at: string) =>
  db
    .updateTable('orders')
    .set({ checkout_kind: checkout.kind, checkout_url: checkout.url, checkout_ref: checkout.ref, updated_at: at })
    .where('id', '=', id)
    .where('checkout_kind', 'is', null)
    .execute();

export async function listOrdersPage(
  db: Db,
  communityId: string,
  f: { status?: string | undefined; member_id?: string | undefined; flagged?: 'duplicate' | undefined },
  limit: number,
  cursor?: string,
) {
  let q = db.selectFrom('orders').selectAll().where('community_id', '=', communityId);
  if (f.status) q = q.where('status', '=', f.status);
  if (f.flagged === 'duplicate') q = q.where('duplicate_of_order_id', 'is not', null);
  if (f.member_id) q = q.where('member_id', '=', f.member_id);
  if (cursor) q = q.where('id', '<', cursor);
  return q.orderBy('id', 'desc').limit(limit).execute();
}

export const listMemberOrders = (db: Db, communityId: string, memberId: string) =>
  db.selectFrom('orders').selectAll().where('community_id', '=', communityId).where('member_id', '=', memberId).orderBy('id', 'desc').limit(200).execute();

/**
 * Moves an order from one of `from` to `paid` in one conditional UPDATE: of any number of
 * concurrent attempts (checkout click, webhook redeliveries) exactly one sees a changed row.
 */
export async function markOrderPaid(trx: Trx, id: string, from: string[], providerRef: string | null, at: string): Promise<boolean> {
  const r = await trx
    .updateTable('orders')
    .set({ status: 'paid', provider_ref: providerRef, paid_at: at, cancelled_at: null, cancel_reason: null, updated_at: at })
    .where('id', '=', id)
    .where('status', 'in', from)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

export async function markOrderCancelled(trx: Trx, id: string, reason: string, at: string): Promise<boolean> {
  const r = await trx
    .updateTable('orders')
    .set({ status: 'cancelled', cancelled_at: at, cancel_reason: reason, updated_at: at })
    .where('id', '=', id)
    .where('status', '=', 'pending')
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

/** Pending orders created before `cutoff`, or (renewal orders) whose `pay_until` has come, oldest first. */
export const findStalePendingOrders = (db: Conn, cutoff: string, now: string, limit: number) =>
  db
    .selectFrom('orders')
    .selectAll()
    .where('status', '=', 'pending')
    .where((eb) => eb.or([eb.and([eb('pay_until', 'is', null), eb('created_at', '<', cutoff)]), eb('pay_until', '<=', now)]))
    .orderBy('created_at')
    .limit(limit)
    .execute();

export async function markOrderExpired(trx: Trx, id: string, at: string): Promise<boolean> {
  const r = await trx
    .updateTable('orders')
    .set({ status: 'expired', cancelled_at: at, cancel_reason: 'expired', updated_at: at })
    .where('id', '=', id)
    .where('status', '=', 'pending')
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

export const setOrderEffects = (trx: Trx, id: string, effects: { stock_reserved?: number; membership_id?: string | null }) =>
  trx.updateTable('orders').set(effects).where('id', '=', id).execute();

/**
 * Claims a refund's amount on the order unless what went back plus what is claimed would pass the
 * amount paid: the check and the write are one statement, so two concurrent refunds can never
 * both take the last money.
 */
export async function claimRefundAmount(trx: Trx, id: string, amount: number, at: string): Promise<boolean> {
  const r = await trx
    .updateTable('orders')
    .set({ refund_pending_minor: sql<number>`refund_pending_minor + ${amount}`, updated_at: at })
    .where('id', '=', id)
    .where('status', 'in', ['paid', 'partially_refunded'])
    .where(sql<boolean>`refunded_minor + refund_pending_minor + ${amount} <= amount_minor`)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

/**
 * Money went back: moves the amount into `refunded_minor` (out of the claim when `claimed`) and
 * sets the status. An unclaimed amount (a refund made at the provider, or one we had given up on)
 * is taken only while it fits, like a claim.
 */
export async function settleRefundAmount(trx: Trx, id: string, amount: number, claimed: boolean, at: string): Promise<boolean> {
  let q = trx
    .updateTable('orders')
    .set({
      refunded_minor: sql<number>`refunded_minor + ${amount}`,
      refund_pending_minor: sql<number>`refund_pending_minor - ${claimed ? amount : 0}`,
      status: sql<string>`case when refunded_minor + ${amount} = amount_minor then 'refunded' else 'partially_refunded' end`,
      updated_at: at,
    })
    .where('id', '=', id);
  if (!claimed) q = q.where('status', 'in', ['paid', 'partially_refunded']).where(sql<boolean>`refunded_minor + refund_pending_minor + ${amount} <= amount_minor`);
  return Number((await q.executeTakeFirst()).numUpdatedRows) === 1;
}

/** Gives a claim back: the provider refused the refund. */
export const releaseRefundAmount = (trx: Trx, id: string, amount: number, at: string) =>
  trx.updateTable('orders').set({ refund_pending_minor: sql<number>`refund_pending_minor - ${amount}`, updated_at: at }).where('id', '=', id).execute();

export const findRefundByIdempotencyKey = (db: Conn, orderId: string, key: string) =>
  db.selectFrom('refunds').selectAll().where('order_id', '=', orderId).where('idempotency_key', '=', key).executeTakeFirst();

export const findRefundByProviderRef = (db: Conn, orderId: string, ref: string) =>
  db.selectFrom('refunds').selectAll().where('order_id', '=', orderId).where('provider_ref', '=', ref).executeTakeFirst();

export const findRefundOfOrder = (db: Conn, orderId: string, id: string) => db.selectFrom('refunds').selectAll().where('order_id', '=', orderId).where('id', '=', id).executeTakeFirst();

export const insertRefund = (trx: Trx, row: Insertable<RefundsTable>) => trx.insertInto('refunds').values(row).execute();

/** Moves a refund from one of `from` to its outcome; true for the one caller that did. */
export async function markRefund(trx: Trx, id: string, from: string[], to: { status: 'succeeded' | 'failed'; settled_at: string; provider_ref?: string; failure_reason?: string }): Promise<boolean> {
  const r = await trx.updateTable('refunds').set(to).where('id', '=', id).where('status', 'in', from).executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

/** Records the provider's reference of a refund that does not have one yet. */
export const setRefundProviderRef = (trx: Trx, id: string, ref: string) =>
  trx.updateTable('refunds').set({ provider_ref: ref }).where('id', '=', id).where('provider_ref', 'is', null).execute();

export const listRefunds = (db: Conn, orderId: string) => db.selectFrom('refunds').selectAll().where('order_id', '=', orderId).orderBy('created_at').orderBy('id').execute();

/** Pending refunds that never reached the provider (the process stopped in between), created before `cutoff`. */
export const findStalledRefunds = (db: Conn, cutoff: string, limit: number) =>
  db.selectFrom('refunds').selectAll().where('status', '=', 'pending').where('provider_ref', 'is', null).where('created_at', '<', cutoff).orderBy('created_at').limit(limit).execute();

/** Whether one of the order's refunds is pending without a provider reference (a webhook could not be matched to it yet). */
export async function hasUnsentRefund(db: Conn, orderId: string): Promise<boolean> {
  const r = await db.selectFrom('refunds').select('id').where('order_id', '=', orderId).where('status', '=', 'pending').where('provider_ref', 'is', null).executeTakeFirst();
  return !!r;
}

// Duplicates ------------------------------------------------------------------------------------

/** The member's other pending order of the product. */
export const findPendingOrderOf = (db: Conn, memberId: string, productId: string, exceptId: string) =>
  db.selectFrom('orders').select('id').where('member_id', '=', memberId).where('product_id', '=', productId).where('status', '=', 'pending').where('id', '<>', exceptId).executeTakeFirst();

/**
 * The member's earliest other paid, not fully refunded, unflagged order of the product; with
 * `paidSince`, only one paid after it.
 */
export function findPaidOrderOf(db: Conn, memberId: string, productId: string, exceptId: string, paidSince: string | null) {
  let q = db
    .selectFrom('orders')
    .select('id')
    .where('member_id', '=', memberId)
    .where('product_id', '=', productId)
    .where('status', 'in', ['paid', 'partially_refunded'])
    .where('duplicate_of_order_id', 'is', null)
    .where('id', '<>', exceptId);
  if (paidSince) q = q.where('paid_at', '>', paidSince);
  return q.orderBy('paid_at').limit(1).executeTakeFirst();
}

/**
 * The member's earliest other paid, unflagged upgrade order off the same chain (a membership of
 * the same product as `fromMembershipId`), paid at or after `paidSince`: the chain's credit went to it.
 */
export const findPaidUpgradeOfChain = (db: Conn, memberId: string, fromMembershipId: string, exceptId: string, paidSince: string) =>
  db
    .selectFrom('orders')
    .innerJoin('memberships as upgraded', 'upgraded.id', 'orders.upgrade_from_membership_id')
    .select('orders.id')
    .where('orders.member_id', '=', memberId)
    .where('orders.status', 'in', ['paid', 'partially_refunded'])
    .where('orders.duplicate_of_order_id', 'is', null)
    .where('orders.id', '<>', exceptId)
    .where('orders.paid_at', '>=', paidSince)
    .where('upgraded.product_id', '=', (eb) => eb.selectFrom('memberships').select('product_id').where('id', '=', fromMembershipId))
    .orderBy('orders.paid_at')
    .limit(1)
    .executeTakeFirst();

/** A permanent, live membership of the member for the product. */
export const findPermanentMembershipOf = (db: Conn, memberId: string, productId: string) =>
  db
    .selectFrom('memberships')
    .select('id')
    .where('member_id', '=', memberId)
    .where('product_id', '=', productId)
    .where('expires_at', 'is', null)
    .where('revoked_at', 'is', null)
    .where('ended_at', 'is', null)
    .executeTakeFirst();

export const flagDuplicate = (trx: Trx, id: string, ofOrderId: string) => trx.updateTable('orders').set({ duplicate_of_order_id: ofOrderId }).where('id', '=', id).execute();

// Stock ----------------------------------------------------------------------------------------

export const findProduct = (db: Conn, communityId: string, id: string) =>
  db.selectFrom('products').selectAll().where('community_id', '=', communityId).where('id', '=', id).executeTakeFirst();

export const releaseUnit = (trx: Trx, productId: string) =>
  trx.updateTable('products').set({ stock: sql<number>`stock + 1` }).where('id', '=', productId).where('stock', 'is not', null).execute();

/**
 * Takes a unit for the order if any is left (one conditional UPDATE, so concurrent buyers cannot
 * both take the last one); true when taken or the stock is unlimited.
 */
export async function takeHold(trx: Trx, orderId: string, productId: string): Promise<boolean> {
  const product = await trx.selectFrom('products').select('stock').where('id', '=', productId).executeTakeFirstOrThrow();
  if (product.stock === null) return true;
  const r = await trx
    .updateTable('products')
    .set({ stock: sql<number>`stock - 1` })
    .where('id', '=', productId)
    .where('stock', '>', 0)
    .executeTakeFirst();
  if (Number(r.numUpdatedRows) !== 1) return false;
  await trx.updateTable('orders').set({ stock_reserved: 1 }).where('id', '=', orderId).execute();
  return true;
}

/** Returns the order's unit, if it holds one; a second call finds nothing to return. */
export async function releaseHold(trx: Trx, orderId: string, productId: string): Promise<void> {
  const r = await trx.updateTable('orders').set({ stock_reserved: 0 }).where('id', '=', orderId).where('stock_reserved', '=', 1).executeTakeFirst();
  if (Number(r.numUpdatedRows) === 1) await releaseUnit(trx, productId);
}

// Memberships bought by orders ------------------------------------------------------------------

/**
 * Serializes the money and membership changes of one member until commit. On PostgreSQL two
 * payments of the same member could otherwise both extend from the same expiry; SQLite runs one
 * write transaction at a time. `FOR NO KEY UPDATE`, not `FOR UPDATE`: rows inserted with a foreign
 * key to the member (orders, events) take a KEY SHARE lock on it, which `FOR UPDATE` would wait for
 * — two transactions that each inserted a row and then asked for the lock would deadlock.
 */
export async function lockMemberForMembership(trx: Trx, memberId: string): Promise<void> {
  if (isPostgres(trx)) await trx.selectFrom('members').select('id').where('id', '=', memberId).forNoKeyUpdate().execute();
}

/** The member's membership of this product that ends last (permanent ones first), revoked ones aside. */
export const findLatestMembership = (trx: Db | Trx, memberId: string, productId: string) =>
  trx
    .selectFrom('memberships')
    .selectAll()
    .where('member_id', '=', memberId)
    .where('product_id', '=', productId)
    .where('revoked_at', 'is', null)
    .orderBy(sql`case when expires_at is null then 0 else 1 end`)
    .orderBy('expires_at', 'desc')
    .executeTakeFirst();

export const insertMembership = (
  trx: Trx,
  row: { id: string; community_id: string; member_id: string; product_id: string; order_id: string; starts_at: string; expires_at: string | null; created_at: string },
) => trx.insertInto('memberships').values({ ...row, source: 'order', granted_by_user_id: null }).execute();

export const findMembershipInCommunity = (db: Conn, communityId: string, id: string) =>
  db.selectFrom('memberships').selectAll().where('community_id', '=', communityId).where('id', '=', id).executeTakeFirst();

export const findMembership = (trx: Trx, id: string) => trx.selectFrom('memberships').selectAll().where('id', '=', id).executeTakeFirst();

/** Periods of the same product that were chained after `from` (renewals still to come). */
export const findMembershipsStartingFrom = (trx: Trx, memberId: string, productId: string, from: string) =>
  trx
    .selectFrom('memberships')
    .selectAll()
    .where('member_id', '=', memberId)
    .where('product_id', '=', productId)
    .where('revoked_at', 'is', null)
    .where('starts_at', '>=', from)
    .orderBy('starts_at')
    .execute();

export const moveMembership = (trx: Trx, id: string, startsAt: string, expiresAt: string | null) =>
  trx.updateTable('memberships').set({ starts_at: startsAt, expires_at: expiresAt }).where('id', '=', id).execute();

export const revokeMembership = (trx: Trx, id: string, expiresAt: string, at: string, reason: 'refunded' | 'upgraded') =>
  trx.updateTable('memberships').set({ expires_at: expiresAt, revoked_at: at, revoke_reason: reason }).where('id', '=', id).execute();

/** The periods of a chain that are still running at `now` or still to come (upgrades replace them). */
export const findLiveChain = (db: Conn, memberId: string, productId: string, now: string) =>
  db
    .selectFrom('memberships')
    .selectAll()
    .where('member_id', '=', memberId)
    .where('product_id', '=', productId)
    .where('revoked_at', 'is', null)
    .where('ended_at', 'is', null)
    .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]))
    .orderBy('starts_at')
    .execute();

/** What each period's order was paid for it, counting the credit it was bought with and less what went back or is going back. */
export const findPeriodPrices = (db: Conn, orderIds: string[]) =>
  orderIds.length
    ? db.selectFrom('orders').select(['id', sql<number>`amount_minor + credit_minor - refunded_minor - refund_pending_minor`.as('paid_minor')]).where('id', 'in', orderIds).execute()
    : Promise.resolve([]);
