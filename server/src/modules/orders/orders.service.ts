import type { CreateOrder, TestCheckoutPay } from '../../../../contracts/src/index.js';
import type { Deps } from '../../lib/deps.js';
import { AppError, conflict, notFound } from '../../lib/errors.js';
import { sha256 } from '../../lib/hash.js';
import { newId } from '../../lib/ids.js';
import { insertEvent } from '../events/index.js';
import { findMember } from '../members/index.js';
import { checkoutProvider, checkoutToken, paymentProviders, testPaymentMethodRef, webhookUrl, type Checkout } from '../payments/index.js';

export { checkoutToken };
import { refuseDuplicatePurchase } from './duplicates.js';
import { newOrderRow } from './new-order.js';
import { applyPaid, endUnpaid, outOfStock } from './orders.effects.js';
import { failOrderPayment } from './renewals.service.js';
import {
  findOrder,
  findOrderByCheckoutHash,
  findOrderById,
  findOrderByIdempotencyKey,
  findProduct,
  findStalePendingOrders,
  insertOrderOnce,
  listMemberOrders,
  listOrdersPage,
  listRefunds,
  setOrderCheckoutOnce,
  takeHold,
  type OrderRow,
} from './orders.repo.js';

const requestHash = (body: unknown) => sha256(JSON.stringify(body));
const keyReused = () => conflict('idempotency_key_reused', 'This Idempotency-Key was used for a different request');

/** An order that replaces a membership chain: its price is the product's less the chain's unused part. */
export interface UpgradeTerms {
  fromMembershipId: string;
  creditMinor: number;
}

/**
 * Creates a pending order for one unit of a product, priced by the product, and starts its
 * checkout with the chosen provider. A retry with the same key returns the first order
 * (`created: false`), starting its checkout if the provider failed the first time; the same key
 * with another body is refused. The order holds a unit of a product with stock until it is paid,
 * expires or its payment fails, so a buyer who misses the last unit is refused here and never sent
 * to pay. Buying again what the member holds for good, or while an order of theirs for it is
 * pending, answers `409 duplicate_purchase` unless `allow_duplicate` is set. An order with nothing
 * left to pay (an upgrade fully covered by its credit) is paid at once, without a provider.
 */
export async function createOrder(deps: Deps, communityId: string, memberId: string, input: CreateOrder, key: string, upgrade?: UpgradeTerms) {
  // An absent field drops out of the JSON, so keys used before the field existed still match.
  const hash = requestHash({ product_id: input.product_id, provider: input.provider, upgrade_from: upgrade?.fromMembershipId });
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

  const price = Number(product.price_minor);
  const credit = Math.min(upgrade?.creditMinor ?? 0, price);
  const amount = price - credit;
  const at = deps.clock.now().toISOString();
  const id = newId('ord');
  const inserted = await deps.db.transaction().execute(async (trx) => {
    const ok = await insertOrderOnce(
      trx,
      newOrderRow(deps.config.secret, at, {
        id,
        community_id: communityId,
        member_id: memberId,
        product_id: product.id,
        amount_minor: amount,
        currency: product.currency,
        idempotency_key: key,
        request_hash: hash,
        provider: amount === 0 ? 'none' : provider.name,
        allow_duplicate: input.allow_duplicate ? 1 : 0,
        credit_minor: credit,
        upgrade_from_membership_id: upgrade?.fromMembershipId ?? null,
      }),
    );
    if (!ok) return false;
    if (!input.allow_duplicate) await refuseDuplicatePurchase(trx, memberId, product, id);
    if (!(await takeHold(trx, id, product.id))) throw outOfStock();
    await insertEvent(
      trx,
      { community_id: communityId, type: 'order_created', occurred_at: at, member_id: memberId, props: { order_id: id, product_id: product.id, amount_minor: amount, currency: product.currency, credit_minor: credit } },
      at,
    );
    if (amount === 0) await applyPaid(trx, (await findOrderById(trx, id))!, null, at);
    return true;
  });
  // A concurrent request with the same key won the insert: answer with its order.
  if (!inserted) return (await replay())!;
  return { order: await startCheckout(deps, (await findOrder(deps.db, communityId, id))!), created: true };
}

/**
 * When a checkout stops taking payment: the unpaid-order timeout after creation; for an order that
 * stays payable longer (a renewal, through grace), its end, but never less than the timeout from now.
 */
function checkoutExpiry(order: OrderRow, now: number): string {
  const timeout = UNPAID_ORDER_TIMEOUT_MINUTES * 60_000;
  if (!order.pay_until) return new Date(Date.parse(order.created_at) + timeout).toISOString();
  return new Date(Math.max(Date.parse(order.pay_until), now + timeout)).toISOString();
}

/**
 * Asks the order's provider for a checkout and stores it, unless the order has one or is no longer
 * pending. Runs after the order committed and outside any transaction, as a provider may take
 * seconds. A provider failure leaves the order pending without a checkout (502
 * `provider_unavailable`); a retry of the request, or a visit to the pay link, asks again.
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
      notifyUrl: webhookUrl(base, provider.name),
      expiresAt: checkoutExpiry(order, deps.clock.now().getTime()),
      now: deps.clock.now(),
      saveForRenewal: product.type === 'membership' && product.term !== null && product.term !== 'permanent',
    });
  } catch (err) {
    if (err instanceof AppError) throw err;
    throw Object.assign(new AppError('provider_unavailable', 502, `${provider.name} could not start the payment; retry with the same Idempotency-Key`), { cause: err });
  }
  const url = checkout.kind === 'redirect' ? checkout.url : checkout.codeUrl;
  await setOrderCheckoutOnce(deps.db, order.id, { kind: checkout.kind, url, ref: checkout.providerRef ?? null }, deps.clock.now().toISOString());
  return (await findOrder(deps.db, order.community_id, order.id))!;
}

export const listOrders = (
  deps: Deps,
  communityId: string,
  q: { status?: string | undefined; member_id?: string | undefined; flagged?: 'duplicate' | undefined; limit: number; cursor?: string | undefined },
) =>
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
 * Expires pending orders older than the timeout (`order_expired`) and returns the units they held;
 * their checkout stops working. Idempotent and safe to run concurrently with payments: a payment
 * that wins the race keeps its order paid, and a payment that lands later still pays an expired
 * order if a unit is left (else it is refunded). Meant for a scheduled job; returns how many it expired.
 */
export async function expireUnpaidOrders(deps: Deps, timeoutMinutes = UNPAID_ORDER_TIMEOUT_MINUTES, batch = 500): Promise<number> {
  const now = deps.clock.now();
  const at = now.toISOString();
  const cutoff = new Date(now.getTime() - timeoutMinutes * 60_000).toISOString();
  let expired = 0;
  for (const order of await findStalePendingOrders(deps.db, cutoff, at, batch)) {
    await deps.db.transaction().execute(async (trx) => {
      if (await endUnpaid(trx, order, 'expired', at)) expired++;
    });
  }
  return expired;
}

/** The order a checkout token names (of any provider, or only of `provider`); 404 for anything else. */
export async function checkoutOrder(deps: Deps, token: string, provider: string | null = 'test'): Promise<OrderRow> {
  const order = /^ck_[\w-]{43}$/.test(token) ? await findOrderByCheckoutHash(deps.db, sha256(token)) : undefined;
  if (!order || (provider && order.provider !== provider)) throw new AppError('checkout_not_found', 404, 'No such checkout');
  return order;
}

/**
 * What the pay link (`/pay/<token>`, sent in orders and dunning events) opens for an order of a real
 * provider: its checkout, started now if it has none (a renewal order opened by the jobs, or one whose
 * checkout expired). Null when the order is no longer pending.
 */
export async function payLinkCheckout(deps: Deps, order: OrderRow): Promise<{ kind: 'redirect' | 'qr'; url: string } | null> {
  if (order.status !== 'pending') return null;
  const current = await startCheckout(deps, order);
  if (current.status !== 'pending' || !current.checkout_url) return null;
  return { kind: current.checkout_kind === 'qr' ? 'qr' : 'redirect', url: current.checkout_url };
}

/**
 * The test provider's checkout: a click pays (or fails) the order. The order holds its unit since
 * it was created (orders from before holds existed take one here, before the provider charges).
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
    if (!order.stock_reserved && !(await takeHold(trx, order.id, order.product_id))) throw outOfStock();
    const method = pay.save_method && testPaymentMethodRef(pay.save_method);
    if (!(await applyPaid(trx, order, newId('tpay'), at, ['pending'], method))) throw new AppError('order_not_payable', 409, 'The order was paid or cancelled meanwhile');
  });
  return (await findOrder(deps.db, order.community_id, order.id))!;
}
