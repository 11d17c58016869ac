import type { Selectable } from 'kysely';
import { LIMITS } from '../../../../contracts/src/index.js';
import { DEFAULT_RENEWALS, type RenewalsConfig } from '../../config.js';
import type { Trx } from '../../db/kysely.js';
import type { MembershipsTable } from '../../db/types.js';
import type { Deps } from '../../lib/deps.js';
import { sha256 } from '../../lib/hash.js';
import { newId } from '../../lib/ids.js';
import { findRenewalGraceDays } from '../communities/index.js';
import { insertEvent } from '../events/index.js';
import { paymentProviders, type ChargeResult, type PaymentProvider } from '../payments/index.js';
import { newOrderRow } from './new-order.js';
import { applyPaid, endUnpaid, flagSecondPayment } from './orders.effects.js';
import { checkoutUrl } from './orders.present.js';
import { findLatestMembership, findMembership, findOrderById, findOrderByIdempotencyKey, findProduct, insertOrderOnce, type OrderRow } from './orders.repo.js';
import {
  findCurrentPaymentMethod,
  findRenewalAttempts,
  findRenewalCandidates,
  insertRenewalAttemptOnce,
  isChainAutoRenewing,
  isStillAutoRenewing,
  markPastDue,
  revokePaymentMethod,
  settleRenewalAttempt,
  type PaymentMethodRow,
  type RenewalCandidate,
} from './renewals.repo.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const iso = (ms: number) => new Date(ms).toISOString();

/** Order states a charge may still pay: like a late webhook, it pays an order that timed out meanwhile. */
const PAYABLE = ['pending', 'cancelled', 'expired'];

type Period = Pick<Selectable<MembershipsTable>, 'id' | 'community_id' | 'member_id' | 'product_id' | 'expires_at' | 'past_due_since'>;

/**
 * Which attempt at renewing a period is due at `now`, if any. Attempt 0, the first charge, from
 * `leadHours` before expiry. After a failure, retry k at `retryDays[k-1]` days after the first
 * failure; a run that comes late makes only the latest retry whose moment has passed (not the
 * stale earlier ones, like the expiry reminders). Each attempt at most once (`done`), and none
 * once the grace window is over. `retryDays` is increasing (the configuration checks it).
 */
export function dueRenewalAttempt(p: { expiresAt: number; graceDays: number; pastDueSince: number | null }, done: ReadonlySet<number>, now: number, schedule: RenewalsConfig): number | null {
  const graceEnd = p.expiresAt + p.graceDays * DAY;
  if (now >= graceEnd) return null;
  if (!done.has(0)) return now >= p.expiresAt - schedule.leadHours * HOUR ? 0 : null;
  if (p.pastDueSince === null) return null;
  // The latest retry whose moment has passed; that moment is before `now`, so inside grace too.
  const due = schedule.retryDays.filter((days) => p.pastDueSince! + days * DAY <= now).length;
  return due > 0 && !done.has(due) ? due : null;
}

export interface RenewalsReport {
  charged: number;
  failed: number;
}

/**
 * Charges the saved payment method of every auto-renewing chain whose renewal attempt is due (see
 * `dueRenewalAttempt`). Each attempt is claimed in `membership_renewal_attempts` before the
 * provider is called, and the period has one renewal order (its idempotency key is derived from
 * the period), so a run repeated or overlapping another never charges twice. A success pays the
 * order through `applyPaid`, which extends from the current expiry; a failure is dunning.
 */
export async function renewMemberships(deps: Deps, batch = 500): Promise<RenewalsReport> {
  const schedule = deps.config.renewals ?? DEFAULT_RENEWALS;
  const providers = paymentProviders(deps.config);
  const now = deps.clock.now().getTime();
  const at = iso(now);
  const report: RenewalsReport = { charged: 0, failed: 0 };
  const candidates = await findRenewalCandidates(deps.db, iso(now + schedule.leadHours * HOUR), iso(now - LIMITS.renewalGraceDaysMax * DAY), batch);
  const attempts = await findRenewalAttempts(deps.db, candidates.map((c) => c.id));
  for (const c of candidates) {
    const p = { expiresAt: Date.parse(c.expires_at!), graceDays: c.renewal_grace_days, pastDueSince: c.past_due_since ? Date.parse(c.past_due_since) : null };
    const attempt = dueRenewalAttempt(p, attempts.get(c.id) ?? new Set(), now, schedule);
    if (attempt === null) continue;
    const method = await findCurrentPaymentMethod(deps.db, c.member_id);
    const provider = method && providers.get(method.provider);
    if (!method || !provider?.chargeSaved) continue;
    const status = await chargeRenewal(deps, provider, c, attempt, method, at);
    if (status === 'succeeded') report.charged++;
    if (status === 'failed') report.failed++;
  }
  return report;
}

async function chargeRenewal(deps: Deps, provider: PaymentProvider, c: RenewalCandidate, attempt: number, method: PaymentMethodRow, at: string) {
  const graceDays = c.renewal_grace_days;
  const order = await deps.db.transaction().execute(async (trx) => {
    // The candidate was read before the run reached it: the member may have cancelled, turned
    // renewal off or renewed by hand since. (No member lock: a change committed after this read
    // comes after the claim; the charge's second transaction takes the lock after the order row.)
    if (!(await isStillAutoRenewing(trx, c.id))) return null;
    const o = await openRenewalOrder(trx, deps, c, { amountMinor: Number(c.price_minor), currency: c.currency, provider: method.provider, graceDays }, at);
    if (!o || !PAYABLE.includes(o.status)) return null;
    return (await insertRenewalAttemptOnce(trx, c.id, attempt, o.id, at)) ? o : null;
  });
  if (!order) return null;
  // Outside any transaction: the provider may take seconds. The claimed attempt keeps other runs away.
  // A provider out of reach counts as a retryable failure: the attempt is spent, the next one comes by
  // the retry schedule with a key of its own. Had the charge gone through after all, the provider's
  // webhook pays the order, and a paid order is never charged again.
  const result = await provider
    .chargeSaved!({ orderId: order.id, paymentMethodRef: method.ref, amountMinor: Number(order.amount_minor), currency: order.currency, description: c.product_name, idempotencyKey: chargeKey(order.id, attempt) })
    .catch((): ChargeResult => ({ status: 'failed', reason: 'provider_unreachable', retryable: true }));
  await deps.db.transaction().execute(async (trx) => {
    const settled = await settleRenewalAttempt(trx, c.id, attempt, order.id, result.status, result.status === 'failed' ? result.reason : null);
    if (result.status === 'succeeded' && !(await applyPaid(trx, order, result.providerRef, at, PAYABLE))) {
      // Paid meanwhile: by the provider's webhook of this charge, or by the member by hand (then twice).
      const paid = (await findOrderById(trx, order.id))!;
      if (paid.provider_ref !== result.providerRef) {
        await flagSecondPayment(trx, paid, { amountMinor: Number(order.amount_minor), currency: order.currency, providerRef: result.providerRef }, at);
      }
    }
    // Unless the provider's webhook told of this failure first.
    if (result.status === 'failed' && settled) {
      await chargeFailed(trx, deps, { period: c, order, graceDays, attempt, reason: result.reason, retryable: result.retryable, method: { member_id: c.member_id, provider: method.provider, ref: method.ref } }, at);
    }
  });
  return result.status;
}

/** The idempotency key of a renewal charge; providers echo it in their webhooks about the charge. */
const chargeKey = (orderId: string, attempt: number) => `${orderId}:${attempt}`;

/** The attempt a charge key names, when it is one of this renewal order's. */
function attemptOf(order: OrderRow, key: string): number | null {
  const prefix = `${order.id}:`;
  if (!order.renews_membership_id || !key.startsWith(prefix)) return null;
  const attempt = Number(key.slice(prefix.length));
  return Number.isInteger(attempt) && attempt >= 0 ? attempt : null;
}

/** A failed automatic charge: dunning, and a method refused for good is not charged again. */
async function chargeFailed(trx: Trx, deps: Deps, f: Omit<RenewalFailure, 'automatic'> & { attempt: number; method: { member_id: string; provider: string; ref: string } }, at: string) {
  if (!f.retryable) await revokePaymentMethod(trx, f.method, f.reason, at);
  await recordRenewalFailure(trx, deps, { ...f, automatic: true }, at);
}

/** A renewal charge the provider reports paid by webhook (one that answered `pending`): its attempt is settled; `applyPaid` did the rest. */
export async function savedChargeSucceeded(trx: Trx, order: OrderRow, key: string): Promise<void> {
  const attempt = attemptOf(order, key);
  if (attempt !== null) await settleRenewalAttempt(trx, order.renews_membership_id!, attempt, order.id, 'succeeded', null);
}

/**
 * A renewal charge the provider reports failed by webhook: dunning as if the charge had answered so,
 * unless its answer did already (a declined card answers at once and is reported again). True when
 * this report was news.
 */
export async function savedChargeFailed(trx: Trx, deps: Deps, order: OrderRow, charge: { key: string; paymentMethodRef: string; retryable: boolean }, reason: string, at: string): Promise<boolean> {
  const attempt = attemptOf(order, charge.key);
  if (attempt === null || !(await settleRenewalAttempt(trx, order.renews_membership_id!, attempt, order.id, 'failed', reason))) return false;
  const period = await findMembership(trx, order.renews_membership_id!);
  // Paid meanwhile (by hand) or no longer the period to renew: nothing left to chase.
  if (order.status !== 'pending' || !period || period.ended_at || period.revoked_at || (await findLatestMembership(trx, period.member_id, period.product_id))?.id !== period.id) return true;
  const graceDays = await findRenewalGraceDays(trx, order.community_id);
  const method = { member_id: order.member_id, provider: order.provider, ref: charge.paymentMethodRef };
  await chargeFailed(trx, deps, { period, order, graceDays, attempt, reason, retryable: charge.retryable, method }, at);
  return true;
}

/**
 * The period's renewal order, created on first need: priced now, payable until the grace window
 * ends (`pay_until`), found again by its idempotency key `renewal:<membership id>`. Null when the
 * member used that key for an order of their own.
 */
async function openRenewalOrder(trx: Trx, deps: Deps, period: Period, o: { amountMinor: number; currency: string; provider: string; graceDays: number }, at: string): Promise<OrderRow | null> {
  const key = `renewal:${period.id}`;
  const id = newId('ord');
  const inserted = await insertOrderOnce(
    trx,
    newOrderRow(deps.config.secret, at, {
      id,
      community_id: period.community_id,
      member_id: period.member_id,
      product_id: period.product_id,
      amount_minor: o.amountMinor,
      currency: o.currency,
      idempotency_key: key,
      request_hash: sha256(key),
      provider: o.provider,
      renews_membership_id: period.id,
      pay_until: iso(Date.parse(period.expires_at!) + o.graceDays * DAY),
    }),
  );
  if (inserted) {
    await insertEvent(
      trx,
      {
        community_id: period.community_id,
        type: 'order_created',
        occurred_at: at,
        member_id: period.member_id,
        props: { order_id: id, product_id: period.product_id, amount_minor: o.amountMinor, currency: o.currency, renews_membership_id: period.id },
      },
      at,
    );
  }
  const order = await findOrderByIdempotencyKey(trx, period.community_id, period.member_id, key);
  return order?.renews_membership_id === period.id ? order : null;
}

interface RenewalFailure {
  period: Period;
  /** The renewal order: its checkout URL is the member's pay link. */
  order: OrderRow;
  /** A failed order other than the renewal order (a manual renewal). */
  failedOrderId?: string;
  graceDays: number;
  attempt: number | null;
  reason: string;
  retryable: boolean;
  /** An automatic charge (dunning: the period is past due, staff hear of it) or the member paying by hand. */
  automatic: boolean;
}

/**
 * `renewal_payment_failed`, one event per failure, its `audience` naming who should hear of it:
 * the member always (with the pay link), staff too when an automatic renewal failed. An automatic
 * failure marks the period past due from the first one; access stays through the grace window.
 */
async function recordRenewalFailure(trx: Trx, deps: Deps, f: RenewalFailure, at: string) {
  const now = Date.parse(at);
  const graceEnd = Date.parse(f.period.expires_at!) + f.graceDays * DAY;
  let since = f.period.past_due_since;
  if (f.automatic) {
    await markPastDue(trx, f.period.id, at);
    since ??= at;
  }
  const retryDays = (deps.config.renewals ?? DEFAULT_RENEWALS).retryDays;
  const next = f.automatic && f.retryable && since ? retryDays.map((d) => Date.parse(since!) + d * DAY).find((t) => t > now && t < graceEnd) : undefined;
  await insertEvent(
    trx,
    {
      community_id: f.period.community_id,
      type: 'renewal_payment_failed',
      occurred_at: at,
      member_id: f.period.member_id,
      props: {
        audience: f.automatic ? ['member', 'staff'] : ['member'],
        membership_id: f.period.id,
        product_id: f.period.product_id,
        order_id: f.order.id,
        failed_order_id: f.failedOrderId ?? f.order.id,
        amount_minor: Number(f.order.amount_minor),
        currency: f.order.currency,
        pay_url: checkoutUrl(deps, f.order.id),
        attempt: f.attempt,
        reason: f.reason,
        retryable: f.retryable,
        expires_at: f.period.expires_at,
        grace_ends_at: iso(graceEnd),
        past_due_since: f.automatic ? since : null,
        next_retry_at: next === undefined ? null : iso(next),
      },
    },
    at,
  );
}

/**
 * A payment that failed (provider webhook, or the test checkout's Fail button: `byHand`). An
 * ordinary order is cancelled as before; when it was a manual renewal of a membership that is live
 * or in grace, the member also gets `renewal_payment_failed` with the pay link of the period's
 * renewal order. A renewal order stays payable (`pending` until its grace end); its failure is
 * dunning when the chain renews automatically and the member did not fail it by hand. True when
 * something changed.
 */
export async function failOrderPayment(trx: Trx, deps: Deps, order: OrderRow, reason: string, at: string, byHand: boolean): Promise<boolean> {
  if (order.renews_membership_id) {
    if (order.status !== 'pending') return false;
    await insertEvent(trx, { community_id: order.community_id, type: 'order_payment_failed', occurred_at: at, member_id: order.member_id, props: { order_id: order.id, kept_open: true } }, at);
    const period = await findMembership(trx, order.renews_membership_id);
    if (!period || period.ended_at || period.revoked_at || (await findLatestMembership(trx, period.member_id, period.product_id))?.id !== period.id) return true;
    const automatic = !byHand && (await isChainAutoRenewing(trx, period.member_id, period.product_id));
    const graceDays = await findRenewalGraceDays(trx, order.community_id);
    await recordRenewalFailure(trx, deps, { period, order, graceDays, attempt: null, reason, retryable: true, automatic }, at);
    return true;
  }
  if (!(await endUnpaid(trx, order, 'payment_failed', at))) return false;
  const product = await findProduct(trx, order.community_id, order.product_id);
  if (product?.type !== 'membership') return true;
  const last = await findLatestMembership(trx, order.member_id, order.product_id);
  if (!last?.expires_at || last.ended_at || last.revoked_at) return true;
  // A cancelled membership has no grace window: it ends at its expiry.
  const graceDays = last.cancelled_at ? 0 : await findRenewalGraceDays(trx, order.community_id);
  if (Date.parse(at) >= Date.parse(last.expires_at) + graceDays * DAY) return true;
  const renewal = await openRenewalOrder(trx, deps, last, { amountMinor: Number(product.price_minor), currency: product.currency, provider: order.provider, graceDays }, at);
  if (!renewal || renewal.status !== 'pending') return true;
  await recordRenewalFailure(trx, deps, { period: last, order: renewal, failedOrderId: order.id, graceDays, attempt: null, reason, retryable: true, automatic: false }, at);
  return true;
}
