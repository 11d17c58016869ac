import type { CreateOrder, CreateRefund, TestCheckoutPay } from '../../../../contracts/src/index.js';
import type { Deps } from '../../lib/deps.js';
import type { Actor } from '../../http/access.js';
import { AppError, conflict, notFound } from '../../lib/errors.js';
import { sha256 } from '../../lib/hash.js';
import { newId } from '../../lib/ids.js';
import { insertEvent } from '../events/index.js';
import { findMember } from '../members/index.js';
import { checkoutProvider, checkoutToken, paymentProviders, providerOf, testPaymentMethodRef, type Checkout } from '../payments/index.js';

export { checkoutToken };
import { applyPaid, applyRefund, outOfStock } from './orders.effects.js';
import { failOrderPayment } from './renewals.service.js';
import {
  findOrder,
  findOrderByCheckoutHash,
  findOrderByIdempotencyKey,
  findProduct,
  findRefundByIdempotencyKey,
  findStalePendingOrders,
  insertOrderOnce,
  listMemberOrders,
  listOrdersPage,
  listRefunds,
  markOrderExpired,
  setOrderCheckoutOnce,
  setRefundProviderRef,
  type OrderRow,
} from './orders.repo.js';

const requestHash = (body: unknown) => sha256(JSON.stringify(body));
const keyReused = () => conflict('idempotency_key_reused', 'This Idempotency-Key was used for a different request');

/**
 * Creates a pending order for one unit of a product, priced by the product, and starts its
 * checkout with the chosen provider. A retry with the same key returns the first order
 * (`created: false`), starting its checkout if the provider failed the first time; the same key
 * with another body is refused.
 */
export async function createOrder(deps: Deps, communityId: string, memberId: string, input: CreateOrder, key: string) {
  // An absent provider drops out of the JSON, so keys used before the field existed still match.
  const hash = requestHash({ product_id: input.product_id, provider: input.provider });
  const replay = async () => {
    const existing = await findOrderByIdempotencyKey(deps.db, communityId, memberId, key);
    if (!existing) return null;
    if (existing.request_hash !== hash) throw keyReused();
    return { order: await startCheckout(deps, existing), created: false };
  };
  const first = await replay();
  if (first) return first;

  const member = await findMember(deps.db, communityId, memberId);
  if (!member) throw notFound('member');
  if (member.banned) throw new AppError('forbidden', 403, 'You cannot buy in this community');
  const product = await findProduct(deps.db, communityId, input.product_id);
  if (!product) throw new AppError('product_not_found', 404, 'product not found', [{ field: 'product_id', message: 'no such product in this community' }]);
  if (product.status !== 'active') throw new AppError('product_unavailable', 409, 'This product is not for sale');
  if (product.stock !== null && product.stock <= 0) throw outOfStock();
  const provider = checkoutProvider(deps.config, input.provider, product.currency);

  const at = deps.clock.now().toISOString();
  const id = newId('ord');
  const inserted = await deps.db.transaction().execute(async (trx) => {
    const ok = await insertOrderOnce(trx, {
      id,
      community_id: communityId,
      member_id: memberId,
      product_id: product.id,
      status: 'pending',
      amount_minor: Number(product.price_minor),
      currency: product.currency,
      idempotency_key: key,
      request_hash: hash,
      provider: provider.name,
      provider_ref: null,
      checkout_token_hash: sha256(checkoutToken(deps.config.secret, id)),
      membership_id: null,
      paid_at: null,
      cancelled_at: null,
      cancel_reason: null,
      created_at: at,
      updated_at: at,
    });
    if (ok) {
      await insertEvent(
        trx,
        { community_id: communityId, type: 'order_created', occurred_at: at, member_id: memberId, props: { order_id: id, product_id: product.id, amount_minor: Number(product.price_minor), currency: product.currency } },
        at,
      );
    }
    return ok;
  });
  // A concurrent request with the same key won the insert: answer with its order.
  if (!inserted) return (await replay())!;
  return { order: await startCheckout(deps, (await findOrder(deps.db, communityId, id))!), created: true };
}

/**
 * Asks the order's provider for a checkout and stores it, unless the order has one or is no longer
 * pending. Runs after the order committed and outside any transaction, as a provider may take
 * seconds. A provider failure leaves the order pending without a checkout (502
 * `provider_unavailable`); a retry of the request asks again.
 */
async function startCheckout(deps: Deps, order: OrderRow): Promise<OrderRow> {
  if (order.status !== 'pending' || order.checkout_kind) return order;
  const provider = paymentProviders(deps.config).get(order.provider);
  if (!provider) throw new AppError('provider_not_enabled', 400, `Payment provider ${order.provider} is no longer enabled on this install`);
  const product = (await findProduct(deps.db, order.community_id, order.product_id))!;
  const base = deps.config.publicUrl.replace(/\/$/, '');
  let checkout: Checkout;
  try {
    checkout = await provider.startCheckout({
      orderId: order.id,
      amountMinor: Number(order.amount_minor),
      currency: order.currency,
      description: product.name,
      returnUrl: `${base}/pay/return`,
      notifyUrl: `${base}/api/v1/webhooks/${provider.name}`,
      expiresAt: new Date(Date.parse(order.created_at) + UNPAID_ORDER_TIMEOUT_MINUTES * 60_000).toISOString(),
      now: deps.clock.now(),
    });
  } catch (err) {
    if (err instanceof AppError) throw err;
    throw Object.assign(new AppError('provider_unavailable', 502, `${provider.name} could not start the payment; retry with the same Idempotency-Key`), { cause: err });
  }
  const url = checkout.kind === 'redirect' ? checkout.url : checkout.codeUrl;
  await setOrderCheckoutOnce(deps.db, order.id, { kind: checkout.kind, url, ref: checkout.providerRef ?? null }, deps.clock.now().toISOString());
  return (await findOrder(deps.db, order.community_id, order.id))!;
}

export const listOrders = (deps: Deps, communityId: string, q: { status?: string | undefined; member_id?: string | undefined; limit: number; cursor?: string | undefined }) =>
  listOrdersPage(deps.db, communityId, q, q.limit, q.cursor);

export const ordersOfMember = (deps: Deps, communityId: string, memberId: string) => listMemberOrders(deps.db, communityId, memberId);

export async function getOrder(deps: Deps, communityId: string, orderId: string) {
  const order = await findOrder(deps.db, communityId, orderId);
  if (!order) throw notFound('order');
  return { order, refunds: await listRefunds(deps.db, order.id) };
}

/** How long a pending order waits for its payment by default. */
export const UNPAID_ORDER_TIMEOUT_MINUTES = 30;

/**
 * Expires pending orders older than the timeout (`order_expired`); their checkout stops working.
 * Idempotent and safe to run concurrently with payments: a payment that wins the race keeps its
 * order paid, and a payment that lands later still pays an expired order. Pending orders hold no
 * stock, so nothing is released. Meant for a scheduled job; returns how many it expired.
 */
export async function expireUnpaidOrders(deps: Deps, timeoutMinutes = UNPAID_ORDER_TIMEOUT_MINUTES, batch = 500): Promise<number> {
  const now = deps.clock.now();
  const at = now.toISOString();
  const cutoff = new Date(now.getTime() - timeoutMinutes * 60_000).toISOString();
  let expired = 0;
  for (const order of await findStalePendingOrders(deps.db, cutoff, at, batch)) {
    await deps.db.transaction().execute(async (trx) => {
      if (!(await markOrderExpired(trx, order.id, at))) return;
      expired++;
      await insertEvent(trx, { community_id: order.community_id, type: 'order_expired', occurred_at: at, member_id: order.member_id, props: { order_id: order.id } }, at);
    });
  }
  return expired;
}

/** The test-provider order a checkout token names; 404 for anything else. */
export async function checkoutOrder(deps: Deps, token: string): Promise<OrderRow> {
  const order = /^ck_[\w-]{43}$/.test(token) ? await findOrderByCheckoutHash(deps.db, sha256(token)) : undefined;
  if (!order || order.provider !== 'test') throw new AppError('checkout_not_found', 404, 'No such checkout');
  return order;
}

/**
 * The test provider's checkout: a click pays (or fails) the order. Stock is reserved before the
 * provider charges, in the same transaction: a buyer who misses the last unit is never charged.
 * Paying with `save_method` keeps a test method for later charges (see `testPaymentMethodRef`).
 */
export async function payAtCheckout(deps: Deps, token: string, outcome: 'pay' | 'fail', pay: TestCheckoutPay = {}): Promise<OrderRow> {
  const order = await checkoutOrder(deps, token);
  if (order.status !== 'pending') throw new AppError('order_not_payable', 409, `The order is ${order.status}`);
  const at = deps.clock.now().toISOString();
  await deps.db.transaction().execute(async (trx) => {
    if (outcome === 'fail') {
      await failOrderPayment(trx, deps, order, 'payment_failed', at, true);
      return;
    }
    // The test provider charges synchronously and cannot fail once stock is held.
    const method = pay.save_method && testPaymentMethodRef(pay.save_method);
    if (!(await applyPaid(trx, order, newId('tpay'), at, ['pending'], method))) throw new AppError('order_not_payable', 409, 'The order was paid or cancelled meanwhile');
  });
  return (await findOrder(deps.db, order.community_id, order.id))!;
}

/**
 * Refunds part or all of a paid order through its provider. The Idempotency-Key makes a retried
 * request return the first refund; the refunded total can never pass the amount paid.
 */
export async function refundOrder(deps: Deps, communityId: string, actor: Actor, orderId: string, input: CreateRefund, key: string) {
  const hash = requestHash(input);
  const order = await findOrder(deps.db, communityId, orderId);
  if (!order) throw notFound('order');
  const replay = async () => {
    const r = await findRefundByIdempotencyKey(deps.db, order.id, key);
    if (r && r.request_hash !== hash) throw keyReused();
    return r;
  };
  const first = await replay();
  if (first) return { refund: first, created: false };
  if (!order.provider_ref) throw new AppError('order_not_refundable', 409, `The order is ${order.status}; only paid orders can be refunded`);

  const provider = providerOf(paymentProviders(deps.config), order.provider);
  const at = deps.clock.now().toISOString();
  try {
    const id = await deps.db.transaction().execute(async (trx) => {
      const refundId = newId('rfd');
      // Claim the amount first (the order row stays locked until commit), then ask the provider; a
      // provider error rolls the claim back. The test provider refunds at once; real providers
      // refund asynchronously and will need a pending refund state here instead.
      await applyRefund(trx, order, { amountMinor: input.amount_minor, reason: input.reason, refundId, idempotencyKey: key, requestHash: hash, providerRef: null, actorUserId: actor.userId }, at);
      const { refundRef } = await provider.refund({ refundId, orderId: order.id, providerRef: order.provider_ref!, amountMinor: input.amount_minor, totalMinor: Number(order.amount_minor), currency: order.currency, reason: input.reason, idempotencyKey: `${order.id}:${key}` });
      await setRefundProviderRef(trx, refundId, refundRef);
      return refundId;
    });
    return { refund: (await listRefunds(deps.db, order.id)).find((r) => r.id === id)!, created: true };
  } catch (err) {
    // The same key raced us and won: its refund is the answer.
    const again = await replay().catch(() => null);
    if (again) return { refund: again, created: false };
    throw err;
  }
}
