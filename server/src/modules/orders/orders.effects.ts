import type { Trx } from '../../db/kysely.js';
import { AppError } from '../../lib/errors.js';
import { newId } from '../../lib/ids.js';
import { findRenewalGraceDays } from '../communities/index.js';
import { insertEvent } from '../events/index.js';
import { keepPaymentMethod } from './auto-renew.js';
import { postEntries } from './ledger.repo.js';
import {
  addRefundedAmount,
  findLatestMembership,
  findMembership,
  findMembershipsStartingFrom,
  findOrderById,
  findProduct,
  insertMembership,
  insertRefund,
  lockMemberForMembership,
  markOrderPaid,
  moveMembership,
  releaseUnit,
  reserveUnit,
  revokeMembership,
  setOrderEffects,
  type OrderRow,
} from './orders.repo.js';

/**
 * What paying and refunding do, each inside the caller's transaction: the order's state change,
 * its stock, its membership, its ledger entries and its event commit together or not at all.
 */

const DAY = 86_400_000;

export const outOfStock = () => new AppError('out_of_stock', 409, 'Sold out: nothing was charged');

/**
 * Marks the order paid unless it already is. Exactly one of any number of concurrent calls applies
 * the effects; the others return false. Throws out_of_stock (rolling everything back) when the
 * product's last unit went to someone else. `paymentMethodRef`: the payer saved the method for
 * later charges (a membership then renews automatically).
 */
export async function applyPaid(trx: Trx, order: OrderRow, providerRef: string, at: string, from: string[] = ['pending'], paymentMethodRef?: string): Promise<boolean> {
  if (!(await markOrderPaid(trx, order.id, from, providerRef, at))) return false;
  if (!order.stock_reserved && !(await reserveUnit(trx, order.product_id))) throw outOfStock();
  const product = (await findProduct(trx, order.community_id, order.product_id))!;

  let membership: { id: string; starts_at: string; expires_at: string | null; renewal: boolean } | null = null;
  if (product.type === 'membership') {
    await lockMemberForMembership(trx, order.member_id);
    const latest = await findLatestMembership(trx, order.member_id, product.id);
    // Renewing before the current expiry, or within the community's grace window after it, extends from it.
    const graceDays = await findRenewalGraceDays(trx, order.community_id);
    const renewal = !!latest?.expires_at && Date.parse(at) <= Date.parse(latest.expires_at) + graceDays * DAY;
    const startsAt = renewal ? latest!.expires_at! : at;
    const days = product.term === 'annual' ? 365 : product.term === 'days' ? product.term_days : null;
    const expiresAt = days === null ? null : new Date(Date.parse(startsAt) + days * DAY).toISOString();
    membership = { id: newId('msp'), starts_at: startsAt, expires_at: expiresAt, renewal };
    await insertMembership(trx, {
      id: membership.id,
      community_id: order.community_id,
      member_id: order.member_id,
      product_id: product.id,
      order_id: order.id,
      starts_at: startsAt,
      expires_at: expiresAt,
      created_at: at,
    });
    await insertEvent(
      trx,
      {
        community_id: order.community_id,
        type: 'membership_granted',
        occurred_at: at,
        member_id: order.member_id,
        props: { membership_id: membership.id, product_id: product.id, order_id: order.id, starts_at: startsAt, expires_at: expiresAt, renewal },
      },
      at,
    );
  }
  await setOrderEffects(trx, order.id, { stock_reserved: product.stock === null ? 0 : 1, membership_id: membership?.id ?? null });
  if (paymentMethodRef) await keepPaymentMethod(trx, order, paymentMethodRef, membership?.id ?? null, at);
  const amount = Number(order.amount_minor);
  await postEntries(trx, { community_id: order.community_id, order_id: order.id, refund_id: null, currency: order.currency, created_at: at }, [
    { account: 'customer_payments', amount_minor: amount },
    { account: 'revenue', amount_minor: -amount },
  ]);
  await insertEvent(
    trx,
    {
      community_id: order.community_id,
      type: 'order_paid',
      occurred_at: at,
      member_id: order.member_id,
      props: { order_id: order.id, product_id: order.product_id, amount_minor: amount, currency: order.currency, provider: order.provider, membership_id: membership?.id ?? null },
    },
    at,
  );
  return true;
}

export interface RefundInput {
  amountMinor: number;
  reason: string;
  refundId?: string;
  idempotencyKey: string | null;
  requestHash: string | null;
  providerRef: string | null;
  actorUserId: string | null;
}

/**
 * Takes a refund off the order (never more than is left), writes the reversal entries and, when
 * the order is now fully refunded, returns its unit and ends its membership at once.
 */
export async function applyRefund(trx: Trx, order: OrderRow, r: RefundInput, at: string) {
  if (!(await addRefundedAmount(trx, order.id, r.amountMinor, at))) {
    const now = (await findOrderById(trx, order.id))!;
    if (now.status !== 'paid' && now.status !== 'partially_refunded') {
      throw new AppError('order_not_refundable', 409, `The order is ${now.status}; only paid orders can be refunded`);
    }
    const left = Number(now.amount_minor) - Number(now.refunded_minor);
    throw new AppError('refund_exceeds_remaining', 409, `At most ${left} (minor units) is left to refund`, undefined, { remaining_minor: left });
  }
  const after = (await findOrderById(trx, order.id))!;
  const id = r.refundId ?? newId('rfd');
  await insertRefund(trx, {
    id,
    community_id: order.community_id,
    order_id: order.id,
    amount_minor: r.amountMinor,
    currency: order.currency,
    reason: r.reason,
    idempotency_key: r.idempotencyKey,
    request_hash: r.requestHash,
    provider_ref: r.providerRef,
    actor_user_id: r.actorUserId,
    created_at: at,
  });
  await postEntries(trx, { community_id: order.community_id, order_id: order.id, refund_id: id, currency: order.currency, created_at: at }, [
    { account: 'customer_payments', amount_minor: -r.amountMinor },
    { account: 'refunds', amount_minor: r.amountMinor },
  ]);
  const full = after.status === 'refunded';
  if (full && after.stock_reserved) {
    await releaseUnit(trx, order.product_id);
    await setOrderEffects(trx, order.id, { stock_reserved: 0 });
  }
  if (full && after.membership_id) await endMembership(trx, order, after.membership_id, at);
  await insertEvent(
    trx,
    {
      community_id: order.community_id,
      type: 'order_refunded',
      occurred_at: at,
      member_id: order.member_id,
      actor_user_id: r.actorUserId,
      props: { order_id: order.id, refund_id: id, amount_minor: r.amountMinor, currency: order.currency, full, reason: r.reason },
    },
    at,
  );
  return id;
}

/**
 * A fully refunded membership ends now (or never starts, if it was a renewal still to come), and
 * the renewals chained after it move earlier by the time taken away, so that the member's expiry
 * stays the sum of the periods they still pay for.
 */
async function endMembership(trx: Trx, order: OrderRow, membershipId: string, at: string) {
  await lockMemberForMembership(trx, order.member_id);
  const m = await findMembership(trx, membershipId);
  if (!m || m.revoked_at) return;
  let end = m.starts_at > at ? m.starts_at : at;
  if (m.expires_at && m.expires_at < end) end = m.expires_at;
  await revokeMembership(trx, m.id, end, at);
  const removed = m.expires_at ? Date.parse(m.expires_at) - Date.parse(end) : 0;
  const moved: string[] = [];
  if (removed > 0) {
    for (const later of await findMembershipsStartingFrom(trx, order.member_id, m.product_id, m.expires_at!)) {
      if (later.id === m.id) continue;
      const shift = (ts: string) => new Date(Date.parse(ts) - removed).toISOString();
      await moveMembership(trx, later.id, shift(later.starts_at), later.expires_at && shift(later.expires_at));
      moved.push(later.id);
    }
  }
  await insertEvent(
    trx,
    { community_id: order.community_id, type: 'membership_revoked', occurred_at: at, member_id: order.member_id, props: { membership_id: m.id, order_id: order.id, expires_at: end, moved_earlier: moved } },
    at,
  );
}
