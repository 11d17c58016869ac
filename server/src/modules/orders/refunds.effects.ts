import type { Trx } from '../../db/kysely.js';
import { AppError } from '../../lib/errors.js';
import { newId } from '../../lib/ids.js';
import { findRenewalGraceDays } from '../communities/index.js';
import { insertEvent } from '../events/index.js';
import { leavePaidGroups } from './paid-groups.js';
import { postEntries } from './ledger.repo.js';
import {
  claimRefundAmount,
  findMembership,
  findMembershipsStartingFrom,
  findOrderById,
  insertRefund,
  lockMemberForMembership,
  markRefund,
  moveMembership,
  releaseHold,
  releaseRefundAmount,
  revokeMembership,
  settleRefundAmount,
  type OrderRow,
  type RefundRow,
} from './orders.repo.js';

/**
 * What refunding does, each step inside the caller's transaction. A refund we ask for is first
 * claimed (`pending`: the amount is held on the order, nothing else changes), then either
 * completed when the provider confirms that the money went back (ledger entries, and on a full
 * refund the unit and the membership come back) or failed (the claim is given back). No
 * transaction is ever held open across a call to the provider.
 */

export interface RefundAsk {
  amountMinor: number;
  reason: string;
  idempotencyKey: string | null;
  requestHash: string | null;
  actorUserId: string | null;
}

/** Why an amount cannot be taken off the order now: it is not paid, or not that much is left. */
async function refused(trx: Trx, orderId: string): Promise<AppError> {
  const now = (await findOrderById(trx, orderId))!;
  if (now.status !== 'paid' && now.status !== 'partially_refunded') {
    return new AppError('order_not_refundable', 409, `The order is ${now.status}; only paid orders can be refunded`);
  }
  const left = Number(now.amount_minor) - Number(now.refunded_minor) - Number(now.refund_pending_minor);
  return new AppError('refund_exceeds_remaining', 409, `At most ${left} (minor units) is left to refund`, undefined, { remaining_minor: left });
}

/** A new refund row of the order, in the order's currency. */
const refundRow = (
  order: OrderRow,
  r: Pick<RefundRow, 'amount_minor' | 'reason' | 'idempotency_key' | 'request_hash' | 'provider_ref' | 'actor_user_id' | 'status' | 'settled_at'>,
  at: string,
): RefundRow => ({ id: newId('rfd'), community_id: order.community_id, order_id: order.id, currency: order.currency, created_at: at, failure_reason: null, ...r });

/** Step one: claims the amount (never more than is left) and records the refund as pending. */
export async function claimRefund(trx: Trx, order: OrderRow, r: RefundAsk, at: string): Promise<RefundRow> {
  const row = refundRow(
    order,
    { amount_minor: r.amountMinor, reason: r.reason, idempotency_key: r.idempotencyKey, request_hash: r.requestHash, provider_ref: null, actor_user_id: r.actorUserId, status: 'pending', settled_at: null },
    at,
  );
  // The refund row first, then the order row: the lock order of completing and failing refunds too
  // (on PostgreSQL a twin insert of the same key waits for the completion of the first refund,
  // which must not wait for the twin's lock on the order).
  await insertRefund(trx, row);
  if (!(await claimRefundAmount(trx, order.id, r.amountMinor, at))) throw await refused(trx, order.id);
  await insertEvent(
    trx,
    {
      community_id: order.community_id,
      type: 'refund_requested',
      occurred_at: at,
      member_id: order.member_id,
      actor_user_id: r.actorUserId,
      props: { order_id: order.id, refund_id: row.id, amount_minor: r.amountMinor, currency: order.currency, reason: r.reason },
    },
    at,
  );
  return row;
}

/**
 * The provider confirmed the refund: the money went back. Completes a pending refund, or one we had
 * given up on (a provider error after which the provider refunded after all) while its amount still
 * fits. True for the one caller that completed it.
 */
export async function completeRefund(trx: Trx, order: OrderRow, refund: RefundRow, providerRef: string | null, at: string): Promise<boolean> {
  if (refund.status === 'succeeded') return false;
  const claimed = refund.status === 'pending';
  const outcome = { status: 'succeeded' as const, settled_at: at, ...(providerRef && !refund.provider_ref ? { provider_ref: providerRef } : {}) };
  if (!(await markRefund(trx, refund.id, [refund.status], outcome))) return false;
  if (!(await settleRefundAmount(trx, order.id, Number(refund.amount_minor), claimed, at))) throw await refused(trx, order.id);
  await refundEffects(trx, order, refund, at);
  return true;
}

/** The provider refused the refund: the claimed amount is free again. An unanswered call is not a failure (see `sendRefund`). */
export async function failRefund(trx: Trx, order: OrderRow, refund: RefundRow, reason: string, at: string): Promise<boolean> {
  if (!(await markRefund(trx, refund.id, ['pending'], { status: 'failed', settled_at: at, failure_reason: reason.slice(0, 500) }))) return false;
  await releaseRefundAmount(trx, order.id, Number(refund.amount_minor), at);
  await insertEvent(
    trx,
    {
      community_id: order.community_id,
      type: 'refund_failed',
      occurred_at: at,
      member_id: order.member_id,
      actor_user_id: refund.actor_user_id,
      props: { order_id: order.id, refund_id: refund.id, amount_minor: Number(refund.amount_minor), currency: order.currency, reason: refund.reason, failure_reason: reason.slice(0, 500) },
    },
    at,
  );
  return true;
}

/** A refund made at the provider, not asked for here: recorded as succeeded at once, if it fits. */
export async function recordProviderRefund(trx: Trx, order: OrderRow, r: { amountMinor: number; providerRef: string }, at: string): Promise<void> {
  if (!(await settleRefundAmount(trx, order.id, r.amountMinor, false, at))) throw await refused(trx, order.id);
  const row = refundRow(
    order,
    { amount_minor: r.amountMinor, reason: 'refunded at the provider', idempotency_key: null, request_hash: null, provider_ref: r.providerRef, actor_user_id: null, status: 'succeeded', settled_at: at },
    at,
  );
  await insertRefund(trx, row);
  await refundEffects(trx, order, row, at);
}

/** The reversal entries and, once the order is fully refunded, its membership ends and its unit returns. */
async function refundEffects(trx: Trx, order: OrderRow, refund: RefundRow, at: string) {
  const amount = Number(refund.amount_minor);
  const after = (await findOrderById(trx, order.id))!;
  await postEntries(trx, { community_id: order.community_id, order_id: order.id, refund_id: refund.id, currency: order.currency, created_at: at }, [
    { account: 'customer_payments', amount_minor: -amount },
    { account: 'refunds', amount_minor: amount },
  ]);
  const full = after.status === 'refunded';
  // Member before product: the lock order of payments too.
  if (full && after.membership_id) await endMembership(trx, order, after.membership_id, at);
  if (full) await releaseHold(trx, order.id, order.product_id);
  await insertEvent(
    trx,
    {
      community_id: order.community_id,
      type: 'order_refunded',
      occurred_at: at,
      member_id: order.member_id,
      actor_user_id: refund.actor_user_id,
      props: { order_id: order.id, refund_id: refund.id, amount_minor: amount, currency: order.currency, full, reason: refund.reason },
    },
    at,
  );
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
  await revokeMembership(trx, m.id, end, at, 'refunded');
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
    { community_id: order.community_id, type: 'membership_revoked', occurred_at: at, member_id: order.member_id, props: { membership_id: m.id, order_id: order.id, expires_at: end, moved_earlier: moved, reason: 'refunded' } },
    at,
  );
  // What the payment granted is taken back: the member leaves the paid groups nothing else covers.
  const graceDays = await findRenewalGraceDays(trx, order.community_id);
  await leavePaidGroups(trx, m, 'membership_refunded', at, new Date(Date.parse(at) - graceDays * 86_400_000).toISOString());
}
