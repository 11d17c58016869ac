import type { Trx } from '../../db/kysely.js';
import { AppError } from '../../lib/errors.js';
import { findPaidOrderOf, findPaidUpgradeOfChain, findPendingOrderOf, findPermanentMembershipOf, lockMemberForMembership, type OrderRow } from './orders.repo.js';

/**
 * Paying twice for the same thing: warned before (an order for something the member holds for good,
 * or while another order of theirs for it waits for payment), and flagged when it happens anyway.
 */

type ProductKind = { id: string; type: string; term: string | null };

/** A permanent membership and a course are bought once; everything else can be bought again (renewals, goods, seats). */
export const boughtForGood = (p: ProductKind) => p.type === 'course' || (p.type === 'membership' && p.term === 'permanent');

const duplicate = (detail: string, extra: Record<string, string>) => new AppError('duplicate_purchase', 409, `${detail}; send allow_duplicate: true to buy it anyway`, undefined, extra);

/**
 * Refuses a new order (`orderId`, just inserted) that repeats a purchase, naming what it repeats.
 * Locks the member first (PostgreSQL), so that two orders created at once cannot both pass.
 */
export async function refuseDuplicatePurchase(trx: Trx, memberId: string, product: ProductKind, orderId: string): Promise<void> {
  await lockMemberForMembership(trx, memberId);
  const pending = await findPendingOrderOf(trx, memberId, product.id, orderId);
  if (pending) throw duplicate('An order of yours for this product is waiting for payment', { existing_order_id: pending.id });
  if (product.type === 'membership' && product.term === 'permanent') {
    const held = await findPermanentMembershipOf(trx, memberId, product.id);
    if (held) throw duplicate('You already hold this membership for good', { existing_membership_id: held.id });
  }
  if (product.type === 'course') {
    const bought = await findPaidOrderOf(trx, memberId, product.id, orderId, null);
    if (bought) throw duplicate('You already bought this course', { existing_order_id: bought.id });
  }
}

/**
 * The paid order this payment repeats, if any (the member was locked by the caller): for a product
 * bought for good, any paid order of it; otherwise one paid while this order was already open (two
 * checkouts paid), or for an upgrade, another upgrade of its chain paid while it was open. Orders
 * the member confirmed as intended are never duplicates.
 */
export async function findDuplicatePayment(trx: Trx, order: OrderRow, product: ProductKind): Promise<string | null> {
  if (order.allow_duplicate) return null;
  // Two upgrade orders open on one chain were both priced with its whole credit: only the first paid may use it.
  if (order.upgrade_from_membership_id) {
    const upgrade = await findPaidUpgradeOfChain(trx, order.member_id, order.upgrade_from_membership_id, order.id, order.created_at);
    if (upgrade) return upgrade.id;
  }
  const other = await findPaidOrderOf(trx, order.member_id, product.id, order.id, boughtForGood(product) ? null : order.created_at);
  return other?.id ?? null;
}
