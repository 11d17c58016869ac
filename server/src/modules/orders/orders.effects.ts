import type { Trx } from '../../db/kysely.js';
import { AppError } from '../../lib/errors.js';
import { newId } from '../../lib/ids.js';
import { findRenewalGraceDays } from '../communities/index.js';
import { insertEvent } from '../events/index.js';
import { settlePendingApplications } from '../members/index.js';
import { keepPaymentMethod } from './auto-renew.js';
import { findDuplicatePayment } from './duplicates.js';
import { postEntries } from './ledger.repo.js';
import {
  findLatestMembership,
  findLiveChain,
  findMembership,
  findOrderById,
  findProduct,
  flagDuplicate,
  insertMembership,
  lockMemberForMembership,
  markOrderCancelled,
  markOrderExpired,
  markOrderPaid,
  releaseHold,
  revokeMembership,
  setOrderEffects,
  takeHold,
  type OrderRow,
} from './orders.repo.js';
import { claimRefund } from './refunds.effects.js';

/**
 * What paying and ending an order unpaid do, each inside the caller's transaction: the order's
 * state change, its stock, its membership, its ledger entries and its events commit together or
 * not at all. Refunds are in refunds.effects.ts.
 */

const DAY = 86_400_000;

export const outOfStock = () => new AppError('out_of_stock', 409, 'Sold out: nothing was charged');

/** How a payment was applied: granted what it bought, flagged as a duplicate, or refunded because its unit was gone. */
export type PaidOutcome = 'applied' | 'duplicate_flagged' | 'sold_out';

/** The idempotency key of the automatic refund of a payment whose unit was sold meanwhile. */
export const SOLD_OUT_REFUND_KEY = 'sold_out';

/**
 * Marks the order paid unless it already is (null then): exactly one of any number of concurrent
 * calls applies the payment. The money is always recorded (ledger, `order_paid`). Then: a payment
 * that lands after its order gave its unit back and the last unit went to someone else claims a
 * full refund (`sold_out`; the caller sends it to the provider after commit); one that repeats
 * another paid order is flagged (`duplicate`) and grants nothing; any other grants the membership
 * it bought (and, for an upgrade, ends the chain it replaces). `paymentMethodRef`: the payer saved
 * the method for later charges (a membership then renews automatically).
 */
export async function applyPaid(trx: Trx, order: OrderRow, providerRef: string | null, at: string, from: string[] = ['pending'], paymentMethodRef?: string): Promise<PaidOutcome | null> {
  if (!(await markOrderPaid(trx, order.id, from, providerRef, at))) return null;
  // Serializes the member's payments (duplicate detection, membership chains) on PostgreSQL.
  await lockMemberForMembership(trx, order.member_id);
  // Read again under the row lock: the expiry job may have returned the unit meanwhile.
  const paid = (await findOrderById(trx, order.id))!;
  const product = (await findProduct(trx, order.community_id, order.product_id))!;
  const amount = Number(paid.amount_minor);

  let outcome: PaidOutcome = 'applied';
  let duplicateOf: string | null = null;
  if (product.stock !== null && !paid.stock_reserved && !(await takeHold(trx, paid.id, product.id))) outcome = 'sold_out';
  else if ((duplicateOf = await findDuplicatePayment(trx, paid, product))) outcome = 'duplicate_flagged';

  let membership: { id: string; starts_at: string; expires_at: string | null; renewal: boolean } | null = null;
  if (outcome === 'applied' && product.type === 'membership') {
    if (paid.upgrade_from_membership_id) await endUpgradedChain(trx, paid, paid.upgrade_from_membership_id, at);
    const latest = await findLatestMembership(trx, order.member_id, product.id);
    // Renewing before the current expiry, or within the community's grace window after it, extends
    // from it. A cancelled membership has no grace (it ends at its expiry): buying after that starts anew.
    const graceDays = latest?.cancelled_at ? 0 : await findRenewalGraceDays(trx, order.community_id);
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
    await setOrderEffects(trx, order.id, { membership_id: membership.id });
    // An applicant waiting on a paid threshold is admitted by the payment, as by a staff grant.
    await settlePendingApplications(trx, order.community_id, order.member_id, at);
  }
  // Only money that moved is in the ledger: a zero-amount upgrade has no entries.
  if (amount > 0) {
    await postEntries(trx, { community_id: order.community_id, order_id: order.id, refund_id: null, currency: order.currency, created_at: at }, [
      { account: 'customer_payments', amount_minor: amount },
      { account: 'revenue', amount_minor: -amount },
    ]);
  }
  if (paymentMethodRef && outcome === 'applied') await keepPaymentMethod(trx, order, paymentMethodRef, membership?.id ?? null, at);
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
  const about = { order_id: order.id, product_id: product.id, amount_minor: amount, currency: order.currency };
  if (outcome === 'sold_out') {
    const refund = await claimRefund(trx, paid, { amountMinor: amount, reason: SOLD_OUT_REFUND_KEY, idempotencyKey: SOLD_OUT_REFUND_KEY, requestHash: null, actorUserId: null }, at);
    // For the member (an apology and the refund) and for staff alike.
    await insertEvent(trx, { community_id: order.community_id, type: 'order_sold_out', occurred_at: at, member_id: order.member_id, props: { ...about, refund_id: refund.id } }, at);
  }
  if (outcome === 'duplicate_flagged') {
    await flagDuplicate(trx, order.id, duplicateOf!);
    await insertEvent(trx, { community_id: order.community_id, type: 'duplicate_payment_detected', occurred_at: at, member_id: order.member_id, props: { ...about, duplicate_of_order_id: duplicateOf } }, at);
  }
  return outcome;
}

/**
 * The same order paid a second time (a QR code scanned twice, a charge and a payment by hand): the
 * money arrived twice but grants once, so staff are told to refund the second payment at the provider.
 */
export async function flagSecondPayment(trx: Trx, order: OrderRow, payment: { amountMinor: number; currency: string; providerRef: string }, at: string): Promise<void> {
  await insertEvent(
    trx,
    {
      community_id: order.community_id,
      type: 'duplicate_payment_detected',
      occurred_at: at,
      member_id: order.member_id,
      props: { order_id: order.id, product_id: order.product_id, amount_minor: payment.amountMinor, currency: payment.currency, provider: order.provider, provider_ref: payment.providerRef, same_order: true },
    },
    at,
  );
}

/**
 * An upgrade replaces the chain its order names: every period still running ends now, every period
 * still to come ends where it would have begun (`revoke_reason = 'upgraded'`).
 */
async function endUpgradedChain(trx: Trx, order: OrderRow, fromMembershipId: string, at: string) {
  const from = await findMembership(trx, fromMembershipId);
  if (!from) return;
  const ended: string[] = [];
  for (const m of await findLiveChain(trx, order.member_id, from.product_id, at)) {
    await revokeMembership(trx, m.id, m.starts_at > at ? m.starts_at : at, at, 'upgraded');
    ended.push(m.id);
  }
  await insertEvent(
    trx,
    { community_id: order.community_id, type: 'membership_upgraded', occurred_at: at, member_id: order.member_id, props: { order_id: order.id, from_product_id: from.product_id, to_product_id: order.product_id, ended, credit_minor: Number(order.credit_minor) } },
    at,
  );
}

/**
 * Ends a pending order unpaid (timed out, or its payment failed) and returns the unit it held;
 * false when it was no longer pending.
 */
export async function endUnpaid(trx: Trx, order: OrderRow, how: 'expired' | 'payment_failed', at: string): Promise<boolean> {
  const ended = how === 'expired' ? await markOrderExpired(trx, order.id, at) : await markOrderCancelled(trx, order.id, 'payment_failed', at);
  if (!ended) return false;
  await releaseHold(trx, order.id, order.product_id);
  await insertEvent(trx, { community_id: order.community_id, type: how === 'expired' ? 'order_expired' : 'order_payment_failed', occurred_at: at, member_id: order.member_id, props: { order_id: order.id } }, at);
  return true;
}
