import { createDecipheriv, createSign, createVerify, randomBytes, type KeyObject } from 'node:crypto';
import { z } from 'zod';
import { AppError } from '../../lib/errors.js';
import { chinaWallClock, instantOf, privateKeyFrom, providerUnavailable, publicKeyFrom, requireCny, requirePositiveMinor, truncateUtf8 } from './china.js';
import type { Checkout, CheckoutRequest, PaymentEvent, PaymentProvider, RefundRequest, RefundResult } from './provider.js';

/**
 * WeChat Pay API v3 (直连商户): Native checkout (a QR code the payer scans), signed notifications
 * with an AES-256-GCM encrypted resource, and refunds. Node's crypto does all of it: the scheme is
 * three primitives (SHA256withRSA, AES-256-GCM, random nonces), and the npm wrappers of it are
 * thin, unofficial and less kept than the code they would replace. See docs/money.md.
 */

export interface WechatPayOptions {
  mchId: string;
  appId: string;
  /** Serial number of the merchant API certificate, sent with every signed request. */
  serialNo: string;
  privateKeyPem: string;
  /** The APIv3 key: 32 bytes, decrypts notification resources. */
  apiV3Key: string;
  /** The WeChat Pay public key (公钥模式) or a platform certificate (or its public key). */
  platformPublicKeyPem: string;
  /** The `Wechatpay-Serial` that notifications and responses must carry: the public key id or the certificate serial. */
  platformSerial: string;
  /** Default https://api.mch.weixin.qq.com. */
  apiBase?: string;
  /** Where WeChat Pay reports refunds that finish later (the install's endpoint unless set); without it, the one set in the merchant platform applies. */
  refundNotifyUrl?: string;
}

export const WECHATPAY_API_BASE = 'https://api.mch.weixin.qq.com';
/** Notifications and responses signed further than this from our clock are refused (WeChat Pay's own SDKs allow 5 minutes). */
export const WECHATPAY_SIGNATURE_TOLERANCE_SECONDS = 300;
const REQUEST_TIMEOUT_MS = 10_000;
const NAME = 'WeChat Pay';

/**
 * How to answer a notification: any 2xx without a body means received; anything else makes WeChat
 * Pay redeliver (over about 24 h), and it wants a 4xx/5xx to carry `{code: 'FAIL', message}`.
 */
export const wechatPayAck = {
  status: 204,
  failure: (message: string) => ({ code: 'FAIL' as const, message }),
};

/**
 * `out_trade_no` takes 6–32 of [A-Za-z0-9_-|*]; our order ids are `ord_` + 29 characters (33), so
 * the underscore goes: `ord_0mf3k…` ↔ `ord0mf3k…`, still readable in the merchant platform.
 */
export function wechatOutTradeNo(orderId: string): string {
  const m = /^ord_([0-9A-Za-z]{3,29})$/.exec(orderId);
  if (!m) throw new AppError('validation_failed', 400, `Order id ${orderId.slice(0, 40)} cannot be a WeChat Pay out_trade_no`, [{ field: 'orderId', message: 'not an order id' }]);
  return `ord${m[1]}`;
}

/** The order id of an `out_trade_no`; one we did not make is returned as it is, so it finds no order. */
export function orderIdFromOutTradeNo(outTradeNo: string): string {
  const m = /^ord([0-9A-Za-z]{3,29})$/.exec(outTradeNo);
  return m ? `ord_${m[1]}` : outTradeNo;
}

/** RFC 3339 in China time, as WeChat Pay wants `time_expire`: `2026-03-01T20:15:00+08:00`. */
export const wechatTime = (at: Date) => `${chinaWallClock(at)}+08:00`;

const Notification = z.object({
  id: z.string().min(1),
  event_type: z.string(),
  resource: z.object({
    algorithm: z.literal('AEAD_AES_256_GCM'),
    ciphertext: z.string(),
    nonce: z.string(),
    associated_data: z.string().optional(),
  }),
});

const Transaction = z.object({
  mchid: z.string(),
  appid: z.string(),
  out_trade_no: z.string(),
  transaction_id: z.string().min(1),
  trade_state: z.string(),
  amount: z.object({ total: z.number().int().min(0), currency: z.string() }),
});

const Refund = z.object({
  mchid: z.string(),
  out_trade_no: z.string(),
  out_refund_no: z.string(),
  refund_id: z.string().min(1),
  refund_status: z.string(),
  amount: z.object({ refund: z.number().int().min(0) }),
});

const RefundResponse = z.object({ refund_id: z.string().min(1), status: z.string() });
const NativeResponse = z.object({ code_url: z.string().min(1) });

type Headers = Record<string, string | string[] | undefined>;
const header = (headers: Headers, name: string) => {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
};

interface SignatureCheck {
  publicKey: KeyObject;
  serial: string;
  now: Date;
}

/**
 * Verifies what WeChat Pay signed (a notification or a response): `Wechatpay-Signature` is
 * SHA256withRSA of `timestamp\nnonce\nbody\n` under the platform key named by `Wechatpay-Serial`.
 * Returns the failure's code and reason, or null when it checks out.
 */
function signatureProblem(headers: Headers, body: string, check: SignatureCheck): { code: 'invalid_signature' | 'stale_signature'; reason: string } | null {
  const timestamp = header(headers, 'wechatpay-timestamp');
  const nonce = header(headers, 'wechatpay-nonce');
  const signature = header(headers, 'wechatpay-signature');
  const serial = header(headers, 'wechatpay-serial');
  if (!timestamp || !nonce || !signature || !serial) return { code: 'invalid_signature', reason: 'Missing Wechatpay-Timestamp, -Nonce, -Signature or -Serial header' };
  // A notification signed by another key (a rotated one) is refused rather than tried against ours.
  if (serial !== check.serial) return { code: 'invalid_signature', reason: `Wechatpay-Serial ${serial.slice(0, 64)} is not the configured platform key` };
  const type = header(headers, 'wechatpay-signature-type');
  if (type && type !== 'WECHATPAY2-SHA256-RSA2048') return { code: 'invalid_signature', reason: `Unsupported Wechatpay-Signature-Type ${type.slice(0, 64)}` };
  if (!/^\d{1,12}$/.test(timestamp)) return { code: 'invalid_signature', reason: 'Malformed Wechatpay-Timestamp' };
  const ok = createVerify('RSA-SHA256').update(`${timestamp}\n${nonce}\n${body}\n`).verify(check.publicKey, signature, 'base64');
  if (!ok) return { code: 'invalid_signature', reason: 'The signature does not match the body' };
  if (Math.abs(check.now.getTime() / 1000 - Number(timestamp)) > WECHATPAY_SIGNATURE_TOLERANCE_SECONDS) {
    return { code: 'stale_signature', reason: `The signature timestamp is more than ${WECHATPAY_SIGNATURE_TOLERANCE_SECONDS} s from now` };
  }
  return null;
}

/** AEAD_AES_256_GCM: the base64 ciphertext ends with the 16-byte tag. Null when it does not authenticate. */
function decrypt(apiV3Key: Buffer, r: z.infer<typeof Notification>['resource']): string | null {
  const data = Buffer.from(r.ciphertext, 'base64');
  if (data.length < 17) return null;
  try {
    const decipher = createDecipheriv('aes-256-gcm', apiV3Key, Buffer.from(r.nonce, 'utf8'));
    decipher.setAAD(Buffer.from(r.associated_data ?? '', 'utf8'));
    decipher.setAuthTag(data.subarray(data.length - 16));
    return Buffer.concat([decipher.update(data.subarray(0, data.length - 16)), decipher.final()]).toString('utf8');
  } catch {
    return null;
  }
}

type ApiAnswer<T> = { ok: true; data: T } | { ok: false; status: number; code: string; message: string };

export function wechatPayProvider(opts: WechatPayOptions): PaymentProvider {
  const privateKey = privateKeyFrom(opts.privateKeyPem, 'The WeChat Pay merchant private key');
  const platformKey = publicKeyFrom(opts.platformPublicKeyPem, 'The WeChat Pay platform public key');
  const apiV3Key = Buffer.from(opts.apiV3Key, 'utf8');
  if (apiV3Key.length !== 32) throw new Error('The WeChat Pay APIv3 key must be 32 bytes');
  const base = (opts.apiBase ?? WECHATPAY_API_BASE).replace(/\/$/, '');
  const invalid = (code: 'invalid_signature' | 'stale_signature', reason: string) => new AppError(code, 401, reason);

  /** A signed request; the answer counts only once its signature checks out, failures included. */
  async function call<T>(path: string, body: unknown, shape: z.ZodType<T>): Promise<ApiAnswer<T>> {
    const url = new URL(base + path);
    const text = JSON.stringify(body);
    const timestamp = String(Math.floor(Date.now() / 1000));
    const nonce = randomBytes(16).toString('hex');
    const signature = createSign('RSA-SHA256').update(`POST\n${url.pathname}${url.search}\n${timestamp}\n${nonce}\n${text}\n`).sign(privateKey, 'base64');
    let res: Response;
    let answer: string;
    try {
      res = await fetch(url, {
        method: 'POST',
        headers: {
          authorization: `WECHATPAY2-SHA256-RSA2048 mchid="${opts.mchId}",nonce_str="${nonce}",signature="${signature}",timestamp="${timestamp}",serial_no="${opts.serialNo}"`,
          accept: 'application/json',
          'content-type': 'application/json',
          'user-agent': 'Yutang',
          // In public-key mode this asks WeChat Pay to sign its answer with that key rather than a certificate.
          'wechatpay-serial': opts.platformSerial,
        },
        body: text,
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
      answer = await res.text();
    } catch (err) {
      throw providerUnavailable(NAME, `request failed: ${(err as Error).message}`);
    }
    const problem = signatureProblem(Object.fromEntries(res.headers), answer, { publicKey: platformKey, serial: opts.platformSerial, now: new Date() });
    if (problem) throw providerUnavailable(NAME, `HTTP ${res.status} answer refused: ${problem.reason}`);
    let json: unknown;
    try {
      json = JSON.parse(answer);
    } catch {
      throw providerUnavailable(NAME, `HTTP ${res.status} answer is not JSON`);
    }
    if (res.ok) {
      const parsed = shape.safeParse(json);
      if (!parsed.success) throw providerUnavailable(NAME, `unexpected answer to ${path}`);
      return { ok: true, data: parsed.data };
    }
    const err = z.object({ code: z.string(), message: z.string() }).safeParse(json);
    const code = err.success ? err.data.code : 'UNKNOWN';
    const message = err.success ? err.data.message : answer.slice(0, 200);
    // Rate limits and server errors say nothing about the outcome: the caller retries with the same number.
    if (res.status === 429 || res.status >= 500) throw providerUnavailable(NAME, `HTTP ${res.status} ${code}: ${message}`);
    return { ok: false, status: res.status, code, message };
  }

  return {
    name: 'wechatpay',
    currencies: ['CNY'],

    async startCheckout(req: CheckoutRequest): Promise<Checkout> {
      requireCny(req.currency, NAME);
      requirePositiveMinor(req.amountMinor, 'amountMinor');
      const outTradeNo = wechatOutTradeNo(req.orderId);
      const answer = await call(
        '/v3/pay/transactions/native',
        {
          appid: opts.appId,
          mchid: opts.mchId,
          description: truncateUtf8(req.description.trim(), 127) || outTradeNo,
          out_trade_no: outTradeNo,
          time_expire: wechatTime(instantOf(req.expiresAt, 'expiresAt')),
          notify_url: req.notifyUrl,
          amount: { total: req.amountMinor, currency: 'CNY' },
        },
        NativeResponse,
      );
      if (!answer.ok) throw new AppError('provider_checkout_failed', 502, `${NAME} refused the order: ${answer.code} ${answer.message}`);
      return { kind: 'qr', codeUrl: answer.data.code_url };
    },

    verifyWebhook(rawBody, headers, now): PaymentEvent {
      const problem = signatureProblem(headers, rawBody, { publicKey: platformKey, serial: opts.platformSerial, now });
      if (problem) throw invalid(problem.code, problem.reason);
      let json: unknown;
      try {
        json = JSON.parse(rawBody);
      } catch {
        throw new AppError('validation_failed', 400, 'The notification is not JSON');
      }
      const n = Notification.safeParse(json);
      if (!n.success) throw new AppError('validation_failed', 400, 'The notification does not match the WeChat Pay format');
      const { id, event_type: type } = n.data;
      if (type !== 'TRANSACTION.SUCCESS' && type !== 'REFUND.SUCCESS' && type !== 'REFUND.ABNORMAL' && type !== 'REFUND.CLOSED') {
        throw new AppError('unknown_event_type', 400, `Unknown event type ${JSON.stringify(type).slice(0, 100)}`);
      }
      const plain = decrypt(apiV3Key, n.data.resource);
      if (plain === null) throw invalid('invalid_signature', 'The resource does not decrypt with the APIv3 key');
      let resource: unknown;
      try {
        resource = JSON.parse(plain);
      } catch {
        throw new AppError('validation_failed', 400, 'The decrypted resource is not JSON');
      }
      if (type === 'TRANSACTION.SUCCESS') {
        const t = Transaction.safeParse(resource);
        if (!t.success) throw new AppError('validation_failed', 400, 'The transaction does not match the WeChat Pay format');
        if (t.data.mchid !== opts.mchId || t.data.appid !== opts.appId) throw invalid('invalid_signature', 'The transaction is for another merchant or app');
        if (t.data.trade_state !== 'SUCCESS') throw new AppError('unknown_event_type', 400, `TRANSACTION.SUCCESS with trade_state ${t.data.trade_state.slice(0, 40)}`);
        return {
          id,
          type: 'payment.succeeded',
          orderId: orderIdFromOutTradeNo(t.data.out_trade_no),
          providerRef: t.data.transaction_id,
          amountMinor: t.data.amount.total,
          currency: t.data.amount.currency,
        };
      }
      const r = Refund.safeParse(resource);
      if (!r.success) throw new AppError('validation_failed', 400, 'The refund does not match the WeChat Pay format');
      if (r.data.mchid !== opts.mchId) throw invalid('invalid_signature', 'The refund is for another merchant');
      const common = { id, orderId: orderIdFromOutTradeNo(r.data.out_trade_no), refundRef: r.data.refund_id, refundId: r.data.out_refund_no };
      // Refund notifications carry no currency: WeChat Pay refunds in the CNY it was paid in.
      if (type === 'REFUND.SUCCESS') return { ...common, type: 'refund.succeeded', amountMinor: r.data.amount.refund, currency: 'CNY' };
      return { ...common, type: 'refund.failed', reason: `${type} (${r.data.refund_status.slice(0, 40)})` };
    },

    async refund(req: RefundRequest): Promise<RefundResult> {
      requireCny(req.currency, NAME);
      requirePositiveMinor(req.amountMinor, 'amountMinor');
      requirePositiveMinor(req.totalMinor, 'totalMinor');
      const reason = truncateUtf8(req.reason.trim(), 80);
      const answer = await call(
        '/v3/refund/domestic/refunds',
        {
          ...(req.providerRef ? { transaction_id: req.providerRef } : { out_trade_no: wechatOutTradeNo(req.orderId) }),
          // The merchant refund number is WeChat Pay's idempotency key: a retry answers the same refund.
          out_refund_no: req.refundId,
          ...(reason ? { reason } : {}),
          ...(opts.refundNotifyUrl ? { notify_url: opts.refundNotifyUrl } : {}),
          amount: { refund: req.amountMinor, total: req.totalMinor, currency: 'CNY' },
        },
        RefundResponse,
      );
      if (!answer.ok) throw new AppError('provider_refund_failed', 502, `${NAME} refused the refund: ${answer.code} ${answer.message}`);
      const { status, refund_id: refundRef } = answer.data;
      if (status === 'SUCCESS') return { refundRef, status: 'succeeded' };
      if (status === 'PROCESSING') return { refundRef, status: 'pending' };
      throw new AppError('provider_refund_failed', 502, `${NAME} refund ${refundRef} is ${status.slice(0, 40)}`);
    },
  };
}
