import { AlipaySdk } from 'alipay-sdk';
import { AppError } from '../../lib/errors.js';
import { chinaWallClock, instantOf, parseChinaWallClock, privateKeyFrom, providerUnavailable, publicKeyFrom, requireCny, requirePositiveMinor } from './china.js';
import type { Checkout, CheckoutRequest, PaymentEvent, PaymentProvider, RefundRequest, RefundResult } from './provider.js';

/**
 * Alipay (支付宝) through the official `alipay-sdk`: computer-website payment
 * (alipay.trade.page.pay), RSA2-signed asynchronous notifications, and alipay.trade.refund with
 * the response signature checked. The SDK signs and verifies; this module decides what it may be
 * trusted with (see `verifyWebhook`). See docs/money.md.
 */

export interface AlipayOptions {
  appId: string;
  /** The application private key (应用私钥), PKCS#1 or PKCS#8 PEM. */
  privateKeyPem: string;
  /** Alipay's public key (支付宝公钥) for this application. */
  alipayPublicKeyPem: string;
  /** Default https://openapi.alipay.com/gateway.do (the sandbox: https://openapi-sandbox.dl.alipaydev.com/gateway.do). */
  gateway?: string;
}

export const ALIPAY_GATEWAY = 'https://openapi.alipay.com/gateway.do';
/**
 * Alipay sends no signed delivery time, only `notify_time` among the signed fields, so a
 * notification is refused once that is older than this. Alipay redelivers an unanswered one for
 * about 24 h 22 min (after 4 m, 10 m, 10 m, 1 h, 2 h, 6 h, 15 h), so 25 h lets every redelivery through.
 */
export const ALIPAY_NOTIFY_MAX_AGE_SECONDS = 25 * 3600;
/** Tolerated clock skew for a `notify_time` ahead of ours. */
export const ALIPAY_NOTIFY_MAX_SKEW_SECONDS = 300;
const NAME = 'Alipay';

/** How to answer a notification: the plain text `success`; anything else makes Alipay redeliver. */
export const alipayAck = { contentType: 'text/plain; charset=utf-8', success: 'success', failure: 'fail' } as const;

/** 2933 → `29.33`: Alipay amounts are yuan with two decimals, built from the integer, never a float. */
export function yuanFromFen(fen: number): string {
  return `${Math.floor(fen / 100)}.${String(fen % 100).padStart(2, '0')}`;
}

/** `29.33` → 2933, exactly; null unless it is plain digits with at most two decimals. */
export function fenFromYuan(text: string): number | null {
  const m = /^(\d{1,13})(?:\.(\d{1,2}))?$/.exec(text);
  return m ? Number(m[1]) * 100 + Number((m[2] ?? '').padEnd(2, '0')) : null;
}

/** The `yyyy-MM-dd HH:mm:ss` China time Alipay's `timestamp` and `time_expire` are written in. */
const alipayTime = (at: Date) => chinaWallClock(at).replace('T', ' ');

/** Alipay asks for subjects without `/`, `=` or `&`, at most 256 characters. */
const subjectOf = (description: string, orderId: string) => [...(description.replace(/[/=&]/g, ' ').trim() || orderId)].slice(0, 256).join('');

/** Our refund's Alipay reference: Alipay numbers no refund, a refund is its trade plus our request number. */
const refundRefOf = (tradeNo: string, outRequestNo: string) => `${tradeNo}:${outRequestNo}`;

const invalidSignature = (reason: string) => new AppError('invalid_signature', 401, reason);
const malformed = (field: string, message: string) => new AppError('validation_failed', 400, `Alipay notification: ${field} ${message}`, [{ field, message }]);

/** The notification's fields; a field sent twice is refused, since a signature can only cover one of them. */
function parseForm(rawBody: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of new URLSearchParams(rawBody)) {
    if (k in out) throw invalidSignature(`Field ${k.slice(0, 40)} appears twice`);
    out[k] = v;
  }
  return out;
}

export function alipayProvider(opts: AlipayOptions): PaymentProvider {
  // Normalized here (the SDK takes PKCS#1 unless told otherwise) and checked once at start-up.
  const privateKey = privateKeyFrom(opts.privateKeyPem, 'The Alipay application private key').export({ type: 'pkcs8', format: 'pem' }).toString();
  const alipayPublicKey = publicKeyFrom(opts.alipayPublicKeyPem, 'The Alipay public key').export({ type: 'spki', format: 'pem' }).toString();
  const sdk = new AlipaySdk({
    appId: opts.appId,
    privateKey,
    keyType: 'PKCS8',
    alipayPublicKey,
    gateway: opts.gateway ?? ALIPAY_GATEWAY,
    signType: 'RSA2',
    camelcase: false,
    timeout: 10_000,
  });
  // The SDK stamps requests with the server's local time; Alipay reads `timestamp` as China time, so we set it.
  const timestamp = () => alipayTime(new Date());

  return {
    name: 'alipay',
    currencies: ['CNY'],

    async startCheckout(req: CheckoutRequest): Promise<Checkout> {
      requireCny(req.currency, NAME);
      requirePositiveMinor(req.amountMinor, 'amountMinor');
      const url = sdk.pageExecute('alipay.trade.page.pay', 'GET', {
        bizContent: {
          out_trade_no: req.orderId,
          total_amount: yuanFromFen(req.amountMinor),
          subject: subjectOf(req.description, req.orderId),
          product_code: 'FAST_INSTANT_TRADE_PAY',
          time_expire: alipayTime(instantOf(req.expiresAt, 'expiresAt')),
        },
        notifyUrl: req.notifyUrl,
        returnUrl: req.returnUrl,
        timestamp: timestamp(),
      });
      return { kind: 'redirect', url };
    },

    /**
     * `rawBody` is the application/x-www-form-urlencoded body as received. Only RSA2 is accepted
     * (the SDK would let the notification choose RSA-SHA1), and only for our app_id.
     */
    verifyWebhook(rawBody, _headers, now): PaymentEvent {
      const p = parseForm(rawBody);
      if (!p.sign) throw invalidSignature('The notification is not signed');
      if (p.sign_type !== 'RSA2') throw invalidSignature(`Unsupported sign_type ${(p.sign_type ?? '').slice(0, 20)}`);
      if (!sdk.checkNotifySignV2(p)) throw invalidSignature('The signature does not match the notification');
      if (p.app_id !== opts.appId) throw invalidSignature('The notification is for another Alipay app');
      const notifiedAt = parseChinaWallClock(p.notify_time ?? '');
      if (!notifiedAt) throw malformed('notify_time', 'is not yyyy-MM-dd HH:mm:ss');
      const age = (now.getTime() - notifiedAt.getTime()) / 1000;
      if (age > ALIPAY_NOTIFY_MAX_AGE_SECONDS || age < -ALIPAY_NOTIFY_MAX_SKEW_SECONDS) {
        throw new AppError('stale_signature', 401, `notify_time is more than ${ALIPAY_NOTIFY_MAX_AGE_SECONDS / 3600} h before or ${ALIPAY_NOTIFY_MAX_SKEW_SECONDS} s after now`);
      }
      const id = p.notify_id;
      const orderId = p.out_trade_no;
      const tradeNo = p.trade_no;
      if (!id) throw malformed('notify_id', 'is missing');
      if (!orderId) throw malformed('out_trade_no', 'is missing');
      if (!tradeNo) throw malformed('trade_no', 'is missing');
      const amount = (field: string) => {
        const fen = fenFromYuan(p[field] ?? '');
        if (fen === null) throw malformed(field, 'is not an amount in yuan such as 29.33');
        return fen;
      };
      const status = p.trade_status;
      // A refund (made here or in Alipay's console) notifies with the trade's status plus refund_fee and gmt_refund.
      // TRADE_FINISHED is the trade's final notice after the refund period and repeats earlier refunds, so it is never one.
      const isRefund = (status === 'TRADE_SUCCESS' || status === 'TRADE_CLOSED') && (p.refund_fee !== undefined || p.gmt_refund !== undefined);
      if (isRefund) {
        const refundId = p.out_biz_no || undefined;
        return { id, type: 'refund.succeeded', orderId, refundRef: refundRefOf(tradeNo, refundId ?? id), refundId, amountMinor: amount('refund_fee'), amountIsCumulative: true, currency: 'CNY' };
      }
      if (status === 'TRADE_SUCCESS' || status === 'TRADE_FINISHED') {
        return { id, type: 'payment.succeeded', orderId, providerRef: tradeNo, amountMinor: amount('total_amount'), currency: 'CNY' };
      }
      if (status === 'TRADE_CLOSED') return { id, type: 'payment.failed', orderId, reason: 'TRADE_CLOSED' };
      throw new AppError('unknown_event_type', 400, `Unknown trade_status ${JSON.stringify(status ?? null).slice(0, 60)}`);
    },

    /**
     * `fund_change: 'Y'` means the money moved on this call: succeeded. Anything else (a retry of a
     * refund that already moved money answers 'N' too) stays pending until a refund notification
     * settles it (refund queries are not implemented).
     */
    async refund(req: RefundRequest): Promise<RefundResult> {
      requireCny(req.currency, NAME);
      requirePositiveMinor(req.amountMinor, 'amountMinor');
      let res: Record<string, any>;
      try {
        res = await sdk.exec(
          'alipay.trade.refund',
          {
            bizContent: {
              ...(req.providerRef ? { trade_no: req.providerRef } : {}),
              out_trade_no: req.orderId,
              refund_amount: yuanFromFen(req.amountMinor),
              // Alipay refunds a given out_request_no once: a retry answers the same refund.
              out_request_no: req.refundId,
              refund_reason: req.reason.slice(0, 256),
            },
            timestamp: timestamp(),
          },
          { validateSign: true },
        );
      } catch (err) {
        throw providerUnavailable(NAME, `refund request failed: ${(err as Error).message.slice(0, 300)}`);
      }
      const code = String(res.code ?? '');
      if (code === '10000') {
        const tradeNo = String(res.trade_no ?? req.providerRef);
        return { refundRef: refundRefOf(tradeNo, req.refundId), status: res.fund_change === 'Y' ? 'succeeded' : 'pending' };
      }
      const detail = `${code} ${String(res.sub_code ?? '')} ${String(res.sub_msg ?? res.msg ?? '')}`.trim();
      // 20000 (service unavailable) and ACQ.SYSTEM_ERROR leave the outcome open: retry with the same out_request_no.
      if (code === '20000' || res.sub_code === 'ACQ.SYSTEM_ERROR') throw providerUnavailable(NAME, detail);
      throw new AppError('provider_refund_failed', 502, `${NAME} refused the refund: ${detail}`);
    },
  };
}
