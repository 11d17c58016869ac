import { createHmac, timingSafeEqual } from 'node:crypto';
import { TestWebhookEvent } from '../../../../contracts/src/index.js';
import type { PaymentsConfig } from '../../config.js';
import { AppError } from '../../lib/errors.js';
import { newId } from '../../lib/ids.js';
import type { ChargeRequest, ChargeResult, CheckoutRequest, PaymentEvent, PaymentProvider, RefundRequest } from './provider.js';

/** The order's test checkout token: derived from the install secret, so it is unguessable and never stored. */
export const checkoutToken = (secret: string, orderId: string) =>
  'ck_' + createHmac('sha256', secret).update(`yutang/checkout/${orderId}`).digest('base64url');

export const testCheckoutUrl = (publicUrl: string, secret: string, orderId: string) => `${publicUrl.replace(/\/$/, '')}/pay/${checkoutToken(secret, orderId)}`;

/** Deliveries older or newer than this are refused, so that a captured one cannot be replayed later. */
export const SIGNATURE_TOLERANCE_SECONDS = 300;
export const SIGNATURE_HEADER = 'yutang-signature';

/** The install's test-provider webhook secret: derived from the configured secret, never stored. */
export const testWebhookSecret = (configSecret: string) => createHmac('sha256', configSecret).update('yutang/payments/test/webhook').digest('hex');

/** `t=<unix seconds>,v1=<hex HMAC-SHA256 of "${t}.${body}">`, as Stripe signs its webhooks. */
export function signTestWebhook(secret: string, rawBody: string, unixSeconds: number): string {
  const mac = createHmac('sha256', secret).update(`${unixSeconds}.${rawBody}`).digest('hex');
  return `t=${unixSeconds},v1=${mac}`;
}

const invalidSignature = (detail: string) => new AppError('invalid_signature', 401, detail);

function parseHeader(value: string | string[] | undefined): { t: number; v1: string[] } {
  const text = Array.isArray(value) ? value.join(',') : value;
  if (!text) throw invalidSignature(`Missing ${SIGNATURE_HEADER} header`);
  let t = NaN;
  const v1: string[] = [];
  for (const part of text.split(',')) {
    const [k, v] = part.trim().split('=', 2);
    if (k === 't' && v && /^\d{1,12}$/.test(v)) t = Number(v);
    if (k === 'v1' && v && /^[0-9a-f]{64}$/.test(v)) v1.push(v);
  }
  if (!Number.isFinite(t) || !v1.length) throw invalidSignature(`Malformed ${SIGNATURE_HEADER} header`);
  return { t, v1 };
}

/** A payment reference ending in this makes the test provider fail every refund of it, like Stripe's test cards do. */
export const TEST_REFUND_ERROR_SUFFIX = '_refund_error';
/** A payment reference ending so makes refund calls end without an answer (a timeout: the outcome is unknown). */
export const TEST_REFUND_UNANSWERED_SUFFIX = '_refund_unanswered';

/**
 * A method saved at the test checkout. Like Stripe's test cards, its reference says how later
 * charges go: `tpm_ok_…` succeed, `tpm_declines_…` are declined (retryably).
 */
export const testPaymentMethodRef = (behaviour: 'ok' | 'declines') => `tpm_${behaviour}_${newId('pm')}`;

function chargeTestMethod(req: ChargeRequest): ChargeResult {
  if (req.paymentMethodRef.startsWith('tpm_ok_')) return { status: 'succeeded', providerRef: newId('tpay') };
  if (req.paymentMethodRef.startsWith('tpm_declines_')) return { status: 'failed', reason: 'card_declined', retryable: true };
  return { status: 'failed', reason: 'unknown_payment_method', retryable: false };
}

/**
 * The provider the demo and the tests pay with: a checkout page that pays or fails on a click,
 * refunds that succeed at once (or stay pending until a refund webhook, `refunds: 'webhook'`), saved
 * methods charged synchronously, and webhooks signed like Stripe's.
 */
export function testProvider(configSecret: string, publicUrl: string, opts: PaymentsConfig['test']): PaymentProvider {
  const secret = testWebhookSecret(configSecret);
  return {
    name: 'test',
    verifyWebhook(rawBody, headers, now) {
      const { t, v1 } = parseHeader(headers[SIGNATURE_HEADER]);
      const expected = Buffer.from(createHmac('sha256', secret).update(`${t}.${rawBody}`).digest('hex'));
      if (!v1.some((sig) => timingSafeEqual(Buffer.from(sig), expected))) throw invalidSignature('The signature does not match the body');
      if (Math.abs(now.getTime() / 1000 - t) > SIGNATURE_TOLERANCE_SECONDS) {
        throw new AppError('stale_signature', 401, `The signature timestamp is more than ${SIGNATURE_TOLERANCE_SECONDS} s from now`);
      }
      const parsed = TestWebhookEvent.safeParse(JSON.parse(rawBody));
      if (!parsed.success) throw new AppError('validation_failed', 400, 'The event does not match the test provider format');
      return normalize(parsed.data);
    },
    async startCheckout(req: CheckoutRequest) {
      return { kind: 'redirect' as const, url: testCheckoutUrl(publicUrl, configSecret, req.orderId) };
    },
    async refund(req: RefundRequest) {
      if (req.providerRef.endsWith(TEST_REFUND_UNANSWERED_SUFFIX)) throw new Error('test provider: the refund call timed out');
      if (req.providerRef.endsWith(TEST_REFUND_ERROR_SUFFIX)) throw new AppError('provider_refund_failed', 502, 'test provider: refunds of this payment are refused');
      return { refundRef: newId('tref'), status: opts.refunds === 'instant' ? ('succeeded' as const) : ('pending' as const) };
    },
    async chargeSaved(req: ChargeRequest) {
      return chargeTestMethod(req);
    },
  };
}

function normalize(e: TestWebhookEvent): PaymentEvent {
  const d = e.data;
  const need = <T>(v: T | undefined, field: string): T => {
    if (v === undefined) throw new AppError('validation_failed', 400, `${e.type} needs data.${field}`, [{ field: `data.${field}`, message: 'required' }]);
    return v;
  };
  switch (e.type) {
    case 'payment.succeeded':
      return {
        id: e.id,
        type: e.type,
        orderId: d.order_id,
        providerRef: need(d.provider_ref, 'provider_ref'),
        amountMinor: need(d.amount_minor, 'amount_minor'),
        currency: need(d.currency, 'currency'),
        paymentMethodRef: d.payment_method_ref,
        feeMinor: d.fee_minor,
      };
    case 'payment.failed':
      return { id: e.id, type: e.type, orderId: d.order_id };
    case 'refund.succeeded':
      return {
        id: e.id,
        type: e.type,
        orderId: d.order_id,
        refundRef: need(d.refund_ref, 'refund_ref'),
        refundId: d.refund_id,
        amountMinor: need(d.amount_minor, 'amount_minor'),
        currency: need(d.currency, 'currency'),
      };
    case 'refund.failed':
      return { id: e.id, type: e.type, orderId: d.order_id, refundRef: need(d.refund_ref, 'refund_ref'), refundId: d.refund_id, reason: d.reason };
    default:
      throw new AppError('unknown_event_type', 400, `Unknown event type ${JSON.stringify(e.type).slice(0, 100)}`);
  }
}
