import type { CreateRefund } from '../../../../contracts/src/index.js';
import type { Actor } from '../../http/access.js';
import type { Deps } from '../../lib/deps.js';
import { AppError, conflict, notFound } from '../../lib/errors.js';
import { sha256 } from '../../lib/hash.js';
import { paymentProviders, providerOf, type RefundResult } from '../payments/index.js';
import { SOLD_OUT_REFUND_KEY } from './orders.effects.js';
import { findOrder, findOrderById, findRefundByIdempotencyKey, findRefundOfOrder, findStalledRefunds, setRefundProviderRef, type OrderRow, type RefundRow } from './orders.repo.js';
import { claimRefund, completeRefund, failRefund } from './refunds.effects.js';

/** A pending refund that has no provider reference this long after it was claimed never reached the provider. */
export const STALLED_REFUND_MINUTES = 1;

const refundFailed = (r: RefundRow) =>
  new AppError('refund_failed', 502, `The payment provider did not refund: ${r.failure_reason ?? 'no reason given'}`, undefined, { refund_id: r.id });

/**
 * Refunds part or all of a paid order through its provider, in three steps that never hold a
 * transaction open across the provider call: claim the amount and record the refund as pending;
 * ask the provider; record its answer (`succeeded`: completed now; `pending`: a refund webhook
 * completes or fails it later; a refusal: failed, and the amount can be refunded again, answered
 * `502 refund_failed`; no answer: pending, sent again by the stalled-refund job). The Idempotency-Key makes a retried request return the first refund
 * (or its failure); the refunded and claimed total can never pass the amount paid.
 */
export async function refundOrder(deps: Deps, communityId: string, actor: Actor, orderId: string, input: CreateRefund, key: string) {
  const hash = sha256(JSON.stringify(input));
  const order = await findOrder(deps.db, communityId, orderId);
  if (!order) throw notFound('order');
  const replay = async () => {
    const r = await findRefundByIdempotencyKey(deps.db, order.id, key);
    if (r && r.request_hash !== hash) throw conflict('idempotency_key_reused', 'This Idempotency-Key was used for a different request');
    return r;
  };
  const answer = (refund: RefundRow, created: boolean) => {
    if (refund.status === 'failed') throw refundFailed(refund);
    return { refund, created };
  };
  const first = await replay();
  if (first) return answer(first, false);
  if (!order.provider_ref) throw new AppError('order_not_refundable', 409, `The order is ${order.status}; only orders paid through a provider can be refunded`);
  // Checked before the amount is claimed: a claim its provider can never be asked about would stay pending.
  if (!paymentProviders(deps.config).has(order.provider)) {
    throw new AppError('provider_not_enabled', 409, `The order was paid through ${order.provider}, which is not configured on this install; refund it there`);
  }

  let refund: RefundRow;
  try {
    const at = deps.clock.now().toISOString();
    refund = await deps.db.transaction().execute((trx) => claimRefund(trx, order, { amountMinor: input.amount_minor, reason: input.reason, idempotencyKey: key, requestHash: hash, actorUserId: actor.userId }, at));
  } catch (err) {
    // The same key raced us and won (the unique key refused our row): its refund is the answer.
    const again = await replay().catch(() => null);
    if (again) return answer(again, false);
    throw err;
  }
  return answer(await sendRefund(deps, order, refund), true);
}

/**
 * Asks the provider for a claimed refund and records its answer; returns the refund as it is now.
 * The provider gets our refund id and a key derived from the refund, so that asking again (a retry
 * after a crash) cannot refund twice.
 */
export async function sendRefund(deps: Deps, order: OrderRow, refund: RefundRow): Promise<RefundRow> {
  const provider = providerOf(paymentProviders(deps.config), order.provider);
  let result: RefundResult | null = null;
  let refusal = '';
  try {
    result = await provider.refund({
      refundId: refund.id,
      orderId: order.id,
      providerRef: order.provider_ref!,
      amountMinor: Number(refund.amount_minor),
      totalMinor: Number(order.amount_minor),
      currency: order.currency,
      reason: refund.reason,
      idempotencyKey: `${order.id}:${refund.idempotency_key ?? refund.id}`,
    });
  } catch (err) {
    // Only a refusal is a failure. Anything else (timeout, 5xx, an answer we could not verify) may
    // have refunded: the refund stays pending without a provider reference, and the stalled-refund
    // job asks again with the same refund id and key, which the provider refunds at most once.
    if (!(err instanceof AppError && err.code === 'provider_refund_failed')) return refund;
    refusal = err.message;
  }
  const at = deps.clock.now().toISOString();
  await deps.db.transaction().execute(async (trx) => {
    const current = (await findRefundOfOrder(trx, order.id, refund.id))!;
    if (!result) await failRefund(trx, order, current, refusal, at);
    else if (result.status === 'succeeded') await completeRefund(trx, order, current, result.refundRef, at);
    else await setRefundProviderRef(trx, refund.id, result.refundRef);
  });
  return (await findRefundOfOrder(deps.db, order.id, refund.id))!;
}

/** Sends the automatic refund of a payment that found its unit sold (claimed when the payment was applied). */
export async function sendSoldOutRefund(deps: Deps, orderId: string): Promise<void> {
  const order = await findOrderById(deps.db, orderId);
  const refund = order && (await findRefundByIdempotencyKey(deps.db, order.id, SOLD_OUT_REFUND_KEY));
  if (order && refund?.status === 'pending' && !refund.provider_ref) await sendRefund(deps, order, refund);
}

/**
 * Sends again the refunds that were claimed but never reached the provider (the process stopped
 * between the claim and the call), with the same refund id and key. Meant for the scheduled jobs;
 * returns how many it sent.
 */
export async function retryStalledRefunds(deps: Deps, batch = 100): Promise<number> {
  const cutoff = new Date(deps.clock.now().getTime() - STALLED_REFUND_MINUTES * 60_000).toISOString();
  let sent = 0;
  const providers = paymentProviders(deps.config);
  for (const refund of await findStalledRefunds(deps.db, cutoff, batch)) {
    const order = (await findOrderById(deps.db, refund.order_id))!;
    // Its provider was configured when the refund was claimed; it is asked again once it is back.
    if (!providers.has(order.provider)) continue;
    await sendRefund(deps, order, refund);
    sent++;
  }
  return sent;
}
