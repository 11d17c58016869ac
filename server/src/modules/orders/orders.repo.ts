import { sql, type Selectable } from 'kysely';
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

type NewOrder = Omit<OrderRow, 'refunded_minor' | 'stock_reserved' | 'source' | 'import_key' | 'renews_membership_id' | 'pay_until' | 'checkout_kind' | 'checkout_url' | 'checkout_ref'> & Partial<Pick<OrderRow, 'renews_membership_id' | 'pay_until'>>;

/** Inserts the order unless the member already used this idempotency key; true when inserted. */
export async function insertOrderOnce(trx: Conn, row: NewOrder): Promise<boolean> {
  const r = await trx
    .insertInto('orders')
    .values(row)
    .onConflict((oc) => oc.columns(['community_id', 'member_id', 'idempotency_key']).doNothing())
    .executeTakeFirst();
  return Number(r.numInsertedOrUpdatedRows ?? 0) === 1;
}

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
  f: { status?: string | undefined; member_id?: string | undefined },
  limit: number,
  cursor?: string,
) {
  let q = db.selectFrom('orders').selectAll().where('community_id', '=', communityId);
  if (f.status) q = q.where('status', '=', f.status);
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
export async function markOrderPaid(trx: Trx, id: string, from: string[], providerRef: string, at: string): Promise<boolean> {
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
 * Adds a refund to the order's refunded total unless that would pass the amount paid: the check
 * and the write are one statement, so two concurrent refunds can never both take the last money.
 */
export async function addRefundedAmount(trx: Trx, id: string, amount: number, at: string): Promise<boolean> {
  const r = await trx
    .updateTable('orders')
    .set({
      refunded_minor: sql<number>`refunded_minor + ${amount}`,
      status: sql<string>`case when refunded_minor + ${amount} = amount_minor then 'refunded' else 'partially_refunded' end`,
      updated_at: at,
    })
    .where('id', '=', id)
    .where('status', 'in', ['paid', 'partially_refunded'])
    .where(sql<boolean>`refunded_minor + ${amount} <= amount_minor`)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

export const findRefundByIdempotencyKey = (db: Conn, orderId: string, key: string) =>
  db.selectFrom('refunds').selectAll().where('order_id', '=', orderId).where('idempotency_key', '=', key).executeTakeFirst();

export const findRefundByProviderRef = (db: Conn, orderId: string, ref: string) =>
  db.selectFrom('refunds').selectAll().where('order_id', '=', orderId).where('provider_ref', '=', ref).executeTakeFirst();

export const insertRefund = (trx: Trx, row: RefundRow) => trx.insertInto('refunds').values(row).execute();

export const setRefundProviderRef = (trx: Trx, id: string, ref: string) => trx.updateTable('refunds').set({ provider_ref: ref }).where('id', '=', id).execute();

export const listRefunds = (db: Conn, orderId: string) => db.selectFrom('refunds').selectAll().where('order_id', '=', orderId).orderBy('created_at').orderBy('id').execute();

// Stock ----------------------------------------------------------------------------------------

export const findProduct = (db: Conn, communityId: string, id: string) =>
  db.selectFrom('products').selectAll().where('community_id', '=', communityId).where('id', '=', id).executeTakeFirst();

/** Takes one unit if any is left (one conditional UPDATE); true when taken or the stock is unlimited. */
export async function reserveUnit(trx: Trx, productId: string): Promise<boolean> {
  const product = await trx.selectFrom('products').select('stock').where('id', '=', productId).executeTakeFirstOrThrow();
  if (product.stock === null) return true;
  const r = await trx
    .updateTable('products')
    .set({ stock: sql<number>`stock - 1` })
    .where('id', '=', productId)
    .where('stock', '>', 0)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

export const releaseUnit = (trx: Trx, productId: string) =>
  trx.updateTable('products').set({ stock: sql<number>`stock + 1` }).where('id', '=', productId).where('stock', 'is not', null).execute();

// Memberships bought by orders ------------------------------------------------------------------

/**
 * Serializes membership changes of one member until commit. On PostgreSQL two payments of the same
 * member could otherwise both extend from the same expiry; SQLite runs one write transaction at a time.
 */
export async function lockMemberForMembership(trx: Trx, memberId: string): Promise<void> {
  if (isPostgres(trx)) await trx.selectFrom('members').select('id').where('id', '=', memberId).forUpdate().execute();
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

export const revokeMembership = (trx: Trx, id: string, expiresAt: string, at: string) =>
  trx.updateTable('memberships').set({ expires_at: expiresAt, revoked_at: at }).where('id', '=', id).execute();
