import type { Deps } from '../../lib/deps.js';
import { AppError } from '../../lib/errors.js';
import type { Trx } from '../../db/kysely.js';
import { paymentProviders, providerOf, webhookAck, type PaymentEvent, type WebhookReply } from '../payments/index.js';
import { applyPaid, flagSecondPayment } from './orders.effects.js';
import { postEntries } from './ledger.repo.js';
import { clearOrderCheckout, findOrderById, findRefundByProviderRef, findRefundOfOrder, hasUnsentRefund, type OrderRow } from './orders.repo.js';
import { insertPaymentEventOnce, logRejectedPaymentEvent, setPaymentEventOutcome } from './payment-events.repo.js';
import { completeRefund, failRefund, recordProviderRefund } from './refunds.effects.js';
import { sendSoldOutRefund } from './refunds.service.js';
import { failOrderPayment, savedChargeFailed, savedChargeSucceeded } from './renewals.service.js';

const MAX_LOGGED_BODY = 16_384;
/** Refused deliveries come from anyone: keep little of them. */
const MAX_LOGGED_REJECTED_BODY = 2_048;

/** `payload` is jsonb on PostgreSQL: a JSON body is kept as it is if it fits, others (Alipay's form body, cut bodies) as a JSON string. */
function loggedPayload(rawBody: string): string {
  if (rawBody.length <= MAX_LOGGED_BODY) {
    try {
      JSON.parse(rawBody);
      return rawBody;
    } catch {
      // not JSON: kept as a string below
    }
  }
  return JSON.stringify(rawBody.slice(0, MAX_LOGGED_BODY));
}

/**
 * Handles one webhook delivery: verify → record the event id → apply, the last two in one
 * transaction. A redelivered event finds its id recorded and changes nothing (`duplicate`).
 * A refused delivery (bad signature, stale, unknown type, amount mismatch, refund of an order
 * that is not paid yet) is logged without its event id and answered with a problem, so the
 * provider redelivers it; a refund that arrives before its payment applies on a later delivery.
 * A payment whose unit was sold meanwhile is refunded through the provider after commit.
 */
export async function handleWebhook(deps: Deps, providerName: string, rawBody: string, headers: Record<string, string | string[] | undefined>) {
  const provider = providerOf(paymentProviders(deps.config), providerName);
  const now = deps.clock.now();
  const at = now.toISOString();
  let event: PaymentEvent | null = null;
  let result: { received: true; outcome: string };
  try {
    event = provider.verifyWebhook(rawBody, headers, now);
    const e = event;
    const outcome = await deps.db.transaction().execute(async (trx) => {
      const logId = await insertPaymentEventOnce(trx, {
        provider: provider.name,
        event_id: e.id,
        type: e.type,
        community_id: null,
        order_id: e.orderId,
        payload: loggedPayload(rawBody),
        received_at: at,
        processed_at: null,
        outcome: 'processing',
      });
      if (!logId) return 'duplicate';
      const { outcome, communityId } = e.type === 'ignored' ? { outcome: 'ignored', communityId: null } : await apply(trx, deps, e, at);
      await setPaymentEventOutcome(trx, logId, outcome, communityId, at);
      return outcome;
    });
    result = { received: true, outcome };
  } catch (err) {
    if (err instanceof AppError) {
      const claimed = event ?? claimedEvent(rawBody);
      const order = claimed?.orderId ? await findOrderById(deps.db, claimed.orderId) : undefined;
      await logRejectedPaymentEvent(deps.db, {
        provider: provider.name,
        type: claimed?.type ?? null,
        community_id: order?.community_id ?? null,
        order_id: order?.id ?? null,
        payload: JSON.stringify(rawBody.slice(0, MAX_LOGGED_REJECTED_BODY)),
        received_at: at,
        outcome: err.code,
      });
    }
    throw err;
  }
  if (result.outcome === 'sold_out' && event?.orderId) await sendSoldOutRefund(deps, event.orderId);
  return result;
}

/**
 * Handles a delivery and answers it the way its provider expects (Alipay's `success`, WeChat Pay's
 * `{code: 'FAIL'}`); providers without their own format get `200 {received, outcome}` or, by the
 * thrown error, a problem+json.
 */
export async function answerWebhook(deps: Deps, providerName: string, rawBody: string, headers: Record<string, string | string[] | undefined>): Promise<WebhookReply> {
  providerOf(paymentProviders(deps.config), providerName); // an install without this provider: a plain 404
  const ack = webhookAck(providerName);
  try {
    const result = await handleWebhook(deps, providerName, rawBody, headers);
    return ack ? ack(result) : { status: 200, contentType: 'application/json; charset=utf-8', body: JSON.stringify(result) };
  } catch (err) {
    if (ack && err instanceof AppError) return ack({ error: err });
    throw err;
  }
}

/** What an unverified JSON body claims to be (test provider: `data.order_id`; Stripe: `data.object.metadata.order_id`), for the log only. */
function claimedEvent(rawBody: string): { type: string | null; orderId: string | null } | null {
  try {
    const b = JSON.parse(rawBody) as { type?: unknown; data?: { order_id?: unknown; object?: { metadata?: { order_id?: unknown } } } };
    const orderId = b.data?.order_id ?? b.data?.object?.metadata?.order_id;
    return { type: typeof b.type === 'string' ? b.type.slice(0, 100) : null, orderId: typeof orderId === 'string' ? orderId.slice(0, 64) : null };
  } catch {
    return null;
  }
}

async function apply(trx: Trx, deps: Deps, e: Exclude<PaymentEvent, { type: 'ignored' }>, at: string): Promise<{ outcome: string; communityId: string }> {
  const order = await findOrderById(trx, e.orderId);
  if (!order) throw new AppError('order_not_found', 404, 'The event names no order of this install');
  const communityId = order.community_id;
  if ((e.type === 'payment.succeeded' || e.type === 'refund.succeeded') && (e.amountMinor > Number(order.amount_minor) || e.currency !== order.currency)) {
    throw new AppError('amount_mismatch', 400, 'The event amount or currency does not match the order');
  }
  switch (e.type) {
    case 'payment.succeeded': {
      if (e.amountMinor !== Number(order.amount_minor)) throw new AppError('amount_mismatch', 400, 'The amount paid is not the order total');
      if (e.chargeKey) await savedChargeSucceeded(trx, order, e.chargeKey);
      // A payment can land after the checkout gave up on it or the order timed out: it still pays the order.
      const outcome = await applyPaid(trx, order, e.providerRef, at, ['pending', 'cancelled', 'expired'], e.paymentMethodRef);
      if (outcome) {
        // The money was received whatever the payment granted; the provider kept its fee of it.
        if (e.feeMinor) {
          await postEntries(trx, { community_id: communityId, order_id: order.id, refund_id: null, currency: order.currency, created_at: at }, [
            { account: 'provider_fees', amount_minor: e.feeMinor },
            { account: 'customer_payments', amount_minor: -e.feeMinor },
          ]);
        }
        return { outcome, communityId };
      }
      // Read again: a concurrent payment (the checkout click) may have paid it since `order` was read.
      const paid = (await findOrderById(trx, order.id))!;
      if (paid.provider_ref && paid.provider_ref !== e.providerRef) {
        await flagSecondPayment(trx, paid, e, at);
        return { outcome: 'duplicate_payment', communityId };
      }
      return { outcome: 'already_paid', communityId };
    }
    case 'payment.failed':
      // A renewal order stays payable through grace; its expired checkout is replaced on the next visit to the pay link.
      if (e.checkoutExpired && order.renews_membership_id) {
        await clearOrderCheckout(trx, order.id, at);
        return { outcome: 'checkout_expired', communityId };
      }
      if (e.charge) return { outcome: (await savedChargeFailed(trx, deps, order, e.charge, e.reason ?? 'payment_failed', at)) ? 'applied' : 'already_applied', communityId };
      return { outcome: (await failOrderPayment(trx, deps, order, e.reason ?? 'payment_failed', at, false)) ? 'applied' : 'ignored', communityId };
    case 'refund.succeeded': {
      const ours = await ourRefund(trx, order, e);
      if (ours) {
        const fits = e.amountIsCumulative ? e.amountMinor >= Number(ours.amount_minor) : e.amountMinor === Number(ours.amount_minor);
        if (!fits) throw new AppError('amount_mismatch', 400, 'The amount refunded is not the refund we asked for');
        return { outcome: (await completeRefund(trx, order, ours, e.refundRef, at)) ? 'applied' : 'already_applied', communityId };
      }
      if (order.status === 'pending' || order.status === 'cancelled' || order.status === 'expired') {
        throw new AppError('order_not_paid', 409, 'The order is not paid yet; deliver this refund again later');
      }
      // It may be ours, sent by a call whose answer (the provider's reference) is not recorded yet.
      if (await hasUnsentRefund(trx, order.id)) throw new AppError('refund_unmatched', 409, 'A refund of this order is still being sent; deliver this refund again later');
      // A running total counts what we recorded already, refunds still waiting for confirmation included.
      const amount = e.amountIsCumulative ? e.amountMinor - Number(order.refunded_minor) - Number(order.refund_pending_minor) : e.amountMinor;
      if (amount <= 0) return { outcome: 'already_applied', communityId };
      await recordProviderRefund(trx, order, { amountMinor: amount, providerRef: e.refundRef }, at);
      return { outcome: 'applied', communityId };
    }
    case 'refund.failed': {
      const ours = await ourRefund(trx, order, e);
      // A refund we never asked for has no claim to give back; one that succeeded already stays succeeded.
      if (!ours) return { outcome: 'ignored', communityId };
      return { outcome: (await failRefund(trx, order, ours, e.reason ?? 'refused by the provider', at)) ? 'applied' : 'ignored', communityId };
    }
  }
}

/** The refund of ours an event is about: by our refund id when the provider echoes it, else by the provider's reference. */
async function ourRefund(trx: Trx, order: OrderRow, e: { refundId?: string | undefined; refundRef: string }) {
  return (e.refundId && (await findRefundOfOrder(trx, order.id, e.refundId))) || (await findRefundByProviderRef(trx, order.id, e.refundRef));
}
