import Stripe from 'stripe';
import { AppError } from '../../lib/errors.js';
import type { ChargeRequest, ChargeResult, CheckoutRequest, PaymentEvent, PaymentProvider, RefundRequest } from './provider.js';

/** Stripe account settings (`YUTANG_STRIPE_*`). */
export interface StripeOptions {
  /** `sk_live_…` / `sk_test_…` (or a restricted key allowed to create Checkout Sessions, Refunds and PaymentIntents and to read PaymentMethods). */
  secretKey: string;
  /** `whsec_…` of the webhook endpoint. */
  webhookSecret: string;
  /** `http(s)://host[:port]` in place of https://api.stripe.com (a proxy, or the tests' fake API). */
  apiBase?: string | undefined;
}

/** Stripe's own window for webhook signatures (`stripe.webhooks.DEFAULT_TOLERANCE`). */
const TOLERANCE_SECONDS = 300;
/** Stripe wants a Checkout Session to live between 30 minutes and 24 hours; a minute of slack for clock skew. */
const MIN_SESSION_SECONDS = 31 * 60;
const MAX_SESSION_SECONDS = 24 * 3600 - 60;

/**
 * Currencies taken through Stripe: the ones whose Stripe amounts are our minor units (ISO 4217
 * exponent). Stripe takes more, but some (HUF, TWD, ISK, UGX) count them differently.
 */
export const STRIPE_CURRENCIES = ['AUD', 'CAD', 'CHF', 'CNY', 'DKK', 'EUR', 'GBP', 'HKD', 'JPY', 'KRW', 'MYR', 'NOK', 'NZD', 'SEK', 'SGD', 'THB', 'USD'] as const;

const invalidSignature = (detail: string) => new AppError('invalid_signature', 401, detail);

/** What Stripe said, as ours: a refusal of the request, or Stripe out of reach. */
function refundFailure(err: unknown): unknown {
  if (!(err instanceof Stripe.errors.StripeError)) return err;
  const refused = err instanceof Stripe.errors.StripeInvalidRequestError || err instanceof Stripe.errors.StripeCardError;
  const e = refused
    ? new AppError('provider_refund_failed', 502, `Stripe refused the refund: ${err.message}`)
    : new AppError('provider_unavailable', 502, 'Stripe could not be reached; try again');
  return Object.assign(e, { cause: err });
}

/** Session metadata of a checkout that saves the card; the completed session's customer is then the method renewals charge. */
const SAVES_CARD = 'save_for_renewal';

/**
 * Declines that no retry cures: the member has to pay by hand (`authentication_required`: the bank
 * wants them present), or the card is gone. Card networks also penalize retrying them.
 */
const FINAL_DECLINES = new Set(['authentication_required', 'expired_card', 'lost_card', 'stolen_card', 'pickup_card']);

type Declined = Extract<ChargeResult, { status: 'failed' }>;

const declined = (code: string | null | undefined, declineCode: string | null | undefined): Declined => {
  const reason = declineCode || code || 'card_declined';
  return { status: 'failed', reason, retryable: !FINAL_DECLINES.has(reason) && !FINAL_DECLINES.has(code ?? '') };
};

/** A refused charge as a result; Stripe out of reach as `provider_unavailable` (the charge may or may not have happened). */
function chargeFailure(err: unknown): ChargeResult {
  if (err instanceof Stripe.errors.StripeCardError) return declined(err.code, err.decline_code);
  // The customer or card is gone (deleted in the Dashboard, detached): no retry brings it back.
  if (err instanceof Stripe.errors.StripeInvalidRequestError) return { status: 'failed', reason: err.code ?? 'invalid_request', retryable: false };
  if (!(err instanceof Stripe.errors.StripeError)) throw err;
  throw Object.assign(new AppError('provider_unavailable', 502, 'Stripe could not be reached; the charge may not have been made'), { cause: err });
}

/**
 * Stripe Checkout: a hosted payment page per order (Checkout Session), webhooks verified by the
 * official library, refunds through the Refunds API, renewals charged off-session through the
 * PaymentIntents API on the card the renewable checkout saved. Every call carries an idempotency
 * key, so the library's retries and ours never create a second session, refund or charge.
 */
export function stripeProvider(opts: StripeOptions): PaymentProvider {
  const base = opts.apiBase ? new URL(opts.apiBase) : null;
  const stripe = new Stripe(opts.secretKey, {
    maxNetworkRetries: 2,
    timeout: 20_000,
    ...(base && { protocol: base.protocol === 'http:' ? 'http' : 'https', host: base.hostname, port: base.port || (base.protocol === 'http:' ? 80 : 443) }),
  });

  /** The event, verified: the signature first, then the age, so that an old genuine delivery is told apart from a forged one. */
  function verified(rawBody: string, header: string, now: Date): Stripe.Event {
    try {
      return stripe.webhooks.constructEvent(rawBody, header, opts.webhookSecret, TOLERANCE_SECONDS, undefined, now.getTime());
    } catch (err) {
      if (!(err instanceof Stripe.errors.StripeSignatureVerificationError)) throw err;
      let genuine = false;
      try {
        // Tolerance 0 turns the age check off: a signature that holds then is merely stale.
        genuine = stripe.webhooks.signature!.verifyHeader(rawBody, header, opts.webhookSecret, 0);
      } catch {
        genuine = false;
      }
      if (genuine) throw new AppError('stale_signature', 401, `The signature timestamp is more than ${TOLERANCE_SECONDS} s old`);
      throw invalidSignature('The Stripe-Signature does not match the body');
    }
  }

  return {
    name: 'stripe',
    currencies: STRIPE_CURRENCIES,

    async startCheckout(req: CheckoutRequest) {
      const now = Math.floor(req.now.getTime() / 1000);
      const expiresAt = Math.min(Math.max(Math.floor(Date.parse(req.expiresAt) / 1000), now + MIN_SESSION_SECONDS), now + MAX_SESSION_SECONDS);
      const returnTo = (outcome: string) => {
        const u = new URL(req.returnUrl);
        u.searchParams.set('checkout', outcome);
        return u.toString();
      };
      const session = await stripe.checkout.sessions.create(
        {
          mode: 'payment',
          line_items: [{ quantity: 1, price_data: { currency: req.currency.toLowerCase(), unit_amount: req.amountMinor, product_data: { name: req.description } } }],
          client_reference_id: req.orderId,
          metadata: { order_id: req.orderId, ...(req.saveForRenewal && { [SAVES_CARD]: 'true' }) },
          // Refunds and disputes name the payment intent: let it carry the order too.
          payment_intent_data: { metadata: { order_id: req.orderId }, ...(req.saveForRenewal && { setup_future_usage: 'off_session' as const }) },
          // A saved card belongs to a customer: the customer id is what renewals charge.
          ...(req.saveForRenewal && { customer_creation: 'always' as const }),
          success_url: returnTo('success'),
          cancel_url: returnTo('cancelled'),
          expires_at: expiresAt,
        },
        { idempotencyKey: `checkout_${req.orderId}` },
      );
      if (!session.url) throw new Error(`Stripe returned Checkout Session ${session.id} without a URL`);
      return { kind: 'redirect' as const, url: session.url, providerRef: session.id };
    },

    verifyWebhook(rawBody, headers, now) {
      const header = headers['stripe-signature'];
      if (typeof header !== 'string' || !header) throw invalidSignature('Missing or repeated Stripe-Signature header');
      return normalize(verified(rawBody, header, now));
    },

    async refund(req: RefundRequest) {
      let refund: Stripe.Refund;
      try {
        refund = await stripe.refunds.create(
          { payment_intent: req.providerRef, amount: req.amountMinor, metadata: { order_id: req.orderId, refund_id: req.refundId } },
          { idempotencyKey: req.idempotencyKey },
        );
      } catch (err) {
        throw refundFailure(err);
      }
      switch (refund.status) {
        case 'succeeded':
          return { refundRef: refund.id, status: 'succeeded' as const };
        case 'pending':
        case 'requires_action':
          return { refundRef: refund.id, status: 'pending' as const };
        default:
          throw new AppError('provider_refund_failed', 502, `Stripe refund ${refund.id} is ${refund.status}${refund.failure_reason ? ` (${refund.failure_reason})` : ''}`);
      }
    },

    /**
     * Charges the customer's newest card off-session, confirmed at once, as Stripe recommends for
     * charges without the payer. A card charge answers synchronously; `processing` (rare for cards)
     * is settled later by `payment_intent.succeeded` / `payment_intent.payment_failed`, which find
     * the charge by `metadata.charge_key`.
     */
    async chargeSaved(req: ChargeRequest): Promise<ChargeResult> {
      let intent: Stripe.PaymentIntent;
      try {
        const cards = await stripe.paymentMethods.list({ customer: req.paymentMethodRef, type: 'card', limit: 1 });
        const card = cards.data[0];
        if (!card) return { status: 'failed', reason: 'no_saved_card', retryable: false };
        intent = await stripe.paymentIntents.create(
          {
            amount: req.amountMinor,
            currency: req.currency.toLowerCase(),
            customer: req.paymentMethodRef,
            payment_method: card.id,
            off_session: true,
            confirm: true,
            description: req.description,
            metadata: { order_id: req.orderId, charge_key: req.idempotencyKey },
          },
          { idempotencyKey: req.idempotencyKey },
        );
      } catch (err) {
        return chargeFailure(err);
      }
      switch (intent.status) {
        case 'succeeded':
          return { status: 'succeeded', providerRef: intent.id };
        case 'processing':
          return { status: 'pending', providerRef: intent.id };
        case 'requires_action':
          return { status: 'failed', reason: 'authentication_required', retryable: false };
        default:
          return declined(intent.last_payment_error?.code, intent.last_payment_error?.decline_code);
      }
    },
  };
}

const idOf = (v: string | { id: string } | null) => (v === null ? null : typeof v === 'string' ? v : v.id);

function malformed(event: Stripe.Event, field: string): AppError {
  return new AppError('validation_failed', 400, `${event.type} ${event.id} has no ${field}`, [{ field: `data.object.${field}`, message: 'required' }]);
}

/** Stripe events reduced to ours. Sessions and refunds without our `metadata.order_id` belong to something else on the account. */
function normalize(event: Stripe.Event): PaymentEvent {
  const ignored = (orderId: string | null, reason: string): PaymentEvent => ({ id: event.id, type: 'ignored', orderId, reason });
  switch (event.type) {
    case 'checkout.session.completed':
    case 'checkout.session.async_payment_succeeded': {
      const s = event.data.object;
      const orderId = s.metadata?.order_id ?? null;
      if (!orderId) return ignored(null, 'not a Yutang checkout');
      // Delayed methods (bank debits) complete unpaid and report later with async_payment_succeeded.
      if (s.payment_status !== 'paid') return ignored(orderId, `checkout completed, payment ${s.payment_status}`);
      const providerRef = idOf(s.payment_intent);
      if (!providerRef) throw malformed(event, 'payment_intent');
      if (s.amount_total === null || !s.currency) throw malformed(event, 'amount_total');
      const paymentMethodRef = (s.metadata?.[SAVES_CARD] === 'true' && idOf(s.customer)) || undefined;
      return { id: event.id, type: 'payment.succeeded', orderId, providerRef, amountMinor: s.amount_total, currency: s.currency.toUpperCase(), paymentMethodRef };
    }
    case 'payment_intent.succeeded':
    case 'payment_intent.payment_failed': {
      const pi = event.data.object;
      const orderId = pi.metadata?.order_id;
      if (!orderId) return ignored(null, 'not a Yutang payment');
      // Checkout's own payment intents carry the order too; the session events report those.
      const chargeKey = pi.metadata?.charge_key;
      if (!chargeKey) return ignored(orderId, 'paid through Checkout');
      if (event.type === 'payment_intent.succeeded') {
        return { id: event.id, type: 'payment.succeeded', orderId, providerRef: pi.id, amountMinor: pi.amount_received, currency: pi.currency.toUpperCase(), chargeKey };
      }
      const customer = idOf(pi.customer);
      if (!customer) throw malformed(event, 'customer');
      const { reason, retryable } = declined(pi.last_payment_error?.code, pi.last_payment_error?.decline_code);
      return { id: event.id, type: 'payment.failed', orderId, reason, charge: { key: chargeKey, paymentMethodRef: customer, retryable } };
    }
    case 'checkout.session.async_payment_failed':
    case 'checkout.session.expired': {
      const orderId = event.data.object.metadata?.order_id;
      if (!orderId) return ignored(null, 'not a Yutang checkout');
      const expired = event.type === 'checkout.session.expired';
      return { id: event.id, type: 'payment.failed', orderId, reason: expired ? 'checkout expired' : 'payment failed', checkoutExpired: expired };
    }
    case 'refund.created':
    case 'refund.updated':
    case 'refund.failed':
    case 'charge.refund.updated': {
      const r = event.data.object;
      const orderId = r.metadata?.order_id;
      // Refunds made in the Stripe Dashboard carry no order id.
      if (!orderId) return ignored(null, 'refund without an order id');
      const refundId = r.metadata?.refund_id || undefined;
      if (r.status === 'succeeded') return { id: event.id, type: 'refund.succeeded', orderId, refundRef: r.id, refundId, amountMinor: r.amount, currency: r.currency.toUpperCase() };
      if (r.status === 'failed' || r.status === 'canceled') {
        return { id: event.id, type: 'refund.failed', orderId, refundRef: r.id, refundId, reason: r.failure_reason ?? r.status };
      }
      return ignored(orderId, `refund ${r.status}`);
    }
    default:
      throw new AppError('unknown_event_type', 400, `Unknown event type ${JSON.stringify(event.type).slice(0, 100)}; see docs/money.md for the events to subscribe to`);
  }
}
