// Alipay against a fake gateway on a random port that checks the app's RSA2 request signatures and
// signs its answers with a generated Alipay key, and notifications form-encoded and signed the way
// Alipay does it.
import { createVerify } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { newId } from '../../lib/ids.js';
import {
  ALIPAY_APP_ID as APP_ID,
  ALIPAY_TRADE_NO as TRADE_NO,
  FakeAlipayGateway,
  alipayKeys,
  alipayNotification as notification,
  alipayOptions,
  alipayPaidFields as paidFields,
  alipayRefundSuccess,
  alipayRequestContent as requestContent,
  stranger,
} from '../../test/fake-cn-gateways.js';
import { alipayProvider, fenFromYuan, yuanFromFen, type AlipayOptions } from './alipay.js';
import type { PaymentProvider, RefundRequest } from './provider.js';

const gateway = new FakeAlipayGateway();
let options: AlipayOptions;
let provider: PaymentProvider;

beforeAll(async () => {
  await gateway.start();
  options = alipayOptions(gateway.url);
  provider = alipayProvider(options);
});

afterAll(() => gateway.close());

beforeEach(() => {
  gateway.seen = [];
  gateway.answerSigner = alipayKeys.alipay.privateKey;
});

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return (err as { code: string }).code;
  }
  throw new Error('expected an error');
}

/** China wall-clock `yyyy-MM-dd HH:mm:ss` → instant, computed apart from the code under test. */
const fromChinaTime = (text: string) => new Date(`${text.replace(' ', 'T')}+08:00`);

describe('Alipay amounts', () => {
  it('writes fen as yuan and reads it back exactly', () => {
    expect(yuanFromFen(2933)).toBe('29.33');
    expect(fenFromYuan('29.33')).toBe(2933);
    expect(yuanFromFen(1)).toBe('0.01');
    expect(yuanFromFen(990)).toBe('9.90');
    expect(yuanFromFen(69900)).toBe('699.00');
    expect(fenFromYuan('9.9')).toBe(990);
    expect(fenFromYuan('699')).toBe(69900);
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1e12 }), (fen) => {
        const digits = String(fen).padStart(3, '0');
        const yuan = `${digits.slice(0, -2)}.${digits.slice(-2)}`;
        return yuanFromFen(fen) === yuan && fenFromYuan(yuan) === fen;
      }),
    );
  });

  it('reads nothing but plain yuan with at most two decimals', () => {
    for (const bad of ['', '29.333', '29.3.3', '-1.00', '+1.00', '1e3', ' 29.33', '29.33 ', '29.', '.5', '1,000.00', 'NaN']) expect(fenFromYuan(bad)).toBeNull();
  });
});

const checkoutRequest = (overrides: Partial<Parameters<PaymentProvider['startCheckout']>[0]> = {}) => ({
  orderId: newId('ord'),
  amountMinor: 2933,
  currency: 'CNY',
  description: '21天深度阅读训练营',
  returnUrl: 'https://shop.example.com/orders/done',
  notifyUrl: 'https://shop.example.com/api/v1/webhooks/alipay',
  expiresAt: '2026-03-01T12:15:00.000Z',
  now: new Date('2026-03-01T12:00:00.000Z'),
  ...overrides,
});

describe('Alipay checkout', () => {
  it('returns a page-pay URL signed with the app key that the gateway accepts', async () => {
    const req = checkoutRequest();
    const before = Math.floor(Date.now() / 1000) * 1000;
    const result = await provider.startCheckout(req);
    const after = Date.now();
    expect(result.kind).toBe('redirect');
    const url = new URL(result.kind === 'redirect' ? result.url : '');
    expect(url.origin + url.pathname).toBe(gateway.url);
    const params = Object.fromEntries(url.searchParams);
    expect(params).toMatchObject({
      app_id: APP_ID,
      method: 'alipay.trade.page.pay',
      charset: 'utf-8',
      sign_type: 'RSA2',
      version: '1.0',
      notify_url: req.notifyUrl,
      return_url: req.returnUrl,
    });
    expect(JSON.parse(params.biz_content!)).toEqual({
      out_trade_no: req.orderId,
      total_amount: '29.33',
      subject: '21天深度阅读训练营',
      product_code: 'FAST_INSTANT_TRADE_PAY',
      time_expire: '2026-03-01 20:15:00',
    });
    // The timestamp is China time whatever the server's time zone (the tests run in UTC).
    const stamped = fromChinaTime(params.timestamp!).getTime();
    expect(stamped).toBeGreaterThanOrEqual(before);
    expect(stamped).toBeLessThanOrEqual(after);
    expect(createVerify('RSA-SHA256').update(requestContent(params)).verify(alipayKeys.app.publicKey, params.sign!, 'base64')).toBe(true);

    expect((await fetch(url)).status).toBe(200);
    expect(gateway.seen).toHaveLength(1);
    const tampered = new URL(url);
    tampered.searchParams.set('biz_content', params.biz_content!.replace('"29.33"', '"0.01"'));
    expect((await fetch(tampered)).status).toBe(400);
  });

  it('keeps the subject free of / = & and within 256 characters', async () => {
    const result = await provider.startCheckout(checkoutRequest({ description: `A/B=C&D ${'书'.repeat(300)}` }));
    const subject: string = JSON.parse(new URL(result.kind === 'redirect' ? result.url : '').searchParams.get('biz_content')!).subject;
    expect(subject).toBe(`A B C D ${'书'.repeat(248)}`);
  });

  it('refuses currencies other than CNY', async () => {
    await expect(provider.startCheckout(checkoutRequest({ currency: 'USD' }))).rejects.toMatchObject({ code: 'currency_not_supported', status: 409 });
  });
});

const NOW = new Date('2026-03-01T12:00:00Z');

describe('Alipay notifications', () => {
  const orderId = newId('ord');
  const refundId = newId('rfd');
  const verify = (body: string, now = NOW) => provider.verifyWebhook(body, { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' }, now);

  it('turns TRADE_SUCCESS into payment.succeeded with the exact fen', () => {
    expect(verify(notification(paidFields(orderId)))).toEqual({
      id: '2026030100222195802004331234567890',
      type: 'payment.succeeded',
      orderId,
      providerRef: TRADE_NO,
      amountMinor: 2933,
      currency: 'CNY',
    });
    expect(verify(notification(paidFields(orderId, { trade_status: 'TRADE_FINISHED', total_amount: '0.01' })))).toMatchObject({ type: 'payment.succeeded', amountMinor: 1 });
  });

  it('verifies the body as received, whichever way spaces and symbols are escaped', () => {
    const fields = paidFields(orderId, { subject: '读书会 年度会员 A&B=C %20' });
    for (const spaces of ['+', '%20'] as const) expect(verify(notification(fields, { spaces })).type).toBe('payment.succeeded');
  });

  it('turns a refund into refund.succeeded with our refund id, and a closed unpaid trade into payment.failed', () => {
    const partial = paidFields(orderId, { notify_id: 'n-refund-1', refund_fee: '10.00', gmt_refund: '2026-03-01 19:59:30.123', out_biz_no: refundId });
    expect(verify(notification(partial))).toEqual({
      id: 'n-refund-1',
      type: 'refund.succeeded',
      orderId,
      refundRef: `${TRADE_NO}:${refundId}`,
      refundId,
      amountMinor: 1000,
      amountIsCumulative: true,
      currency: 'CNY',
    });
    const inConsole = paidFields(orderId, { notify_id: 'n-refund-2', trade_status: 'TRADE_CLOSED', refund_fee: '29.33', gmt_refund: '2026-03-01 19:59:30.123', gmt_close: '2026-03-01 19:59:30' });
    expect(verify(notification(inConsole))).toEqual({ id: 'n-refund-2', type: 'refund.succeeded', orderId, refundRef: `${TRADE_NO}:n-refund-2`, amountMinor: 2933, amountIsCumulative: true, currency: 'CNY' });
    expect(verify(notification(paidFields(orderId, { trade_status: 'TRADE_CLOSED', gmt_close: '2026-03-01 19:59:30' })))).toEqual({
      id: '2026030100222195802004331234567890',
      type: 'payment.failed',
      orderId,
      reason: 'TRADE_CLOSED',
    });
  });

  it('refuses a tampered body, another key, RSA-SHA1, a missing signature and a repeated field', () => {
    const good = notification(paidFields(orderId));
    expect(codeOf(() => verify(good.replace('total_amount=29.33', 'total_amount=0.01')))).toBe('invalid_signature');
    expect(codeOf(() => verify(notification(paidFields(orderId), { signer: stranger.privateKey })))).toBe('invalid_signature');
    expect(codeOf(() => verify(notification(paidFields(orderId), { signType: 'RSA', algorithm: 'RSA-SHA1' })))).toBe('invalid_signature');
    expect(codeOf(() => verify(good.replace(/&sign=[^&]*/, '')))).toBe('invalid_signature');
    expect(codeOf(() => verify(`${good}&total_amount=0.01`))).toBe('invalid_signature');
  });

  it('refuses a genuine notification for another app', () => {
    expect(codeOf(() => verify(notification(paidFields(orderId, { app_id: '2021004100000002' }))))).toBe('invalid_signature');
  });

  it('accepts notify_time up to 25 h old and refuses older ones or ones more than 300 s ahead', () => {
    const sent = fromChinaTime('2026-03-01 19:58:03').getTime();
    const body = notification(paidFields(orderId));
    expect(verify(body, new Date(sent + 25 * 3600_000)).type).toBe('payment.succeeded');
    expect(codeOf(() => verify(body, new Date(sent + 25 * 3600_000 + 1000)))).toBe('stale_signature');
    expect(verify(body, new Date(sent - 300_000)).type).toBe('payment.succeeded');
    expect(codeOf(() => verify(body, new Date(sent - 301_000)))).toBe('stale_signature');
    expect(codeOf(() => verify(notification(paidFields(orderId, { notify_time: '2026-03-01T19:58:03' }))))).toBe('validation_failed');
  });

  it('refuses malformed amounts, even signed', () => {
    for (const total_amount of ['29.333', '29,33', '-29.33', '2.9e1', '']) {
      expect(codeOf(() => verify(notification(paidFields(orderId, { total_amount }))))).toBe('validation_failed');
    }
    expect(codeOf(() => verify(notification(paidFields(orderId, { refund_fee: '10.001', gmt_refund: '2026-03-01 19:59:30' }))))).toBe('validation_failed');
  });

  it('answers unknown_event_type for other trade states', () => {
    expect(codeOf(() => verify(notification(paidFields(orderId, { trade_status: 'WAIT_BUYER_PAY' }))))).toBe('unknown_event_type');
  });
});

describe('Alipay refunds', () => {
  const request = (overrides: Partial<RefundRequest> = {}): RefundRequest => {
    const refundId = newId('rfd');
    return { refundId, orderId: newId('ord'), providerRef: TRADE_NO, amountMinor: 1000, totalMinor: 2933, currency: 'CNY', reason: '学员申请退款', idempotencyKey: refundId, ...overrides };
  };
  const success = (fundChange: 'Y' | 'N') => alipayRefundSuccess(fundChange);

  it('calls alipay.trade.refund signed, with our refund id as out_request_no; fund_change Y is succeeded', async () => {
    gateway.refundAnswer = success('Y');
    const req = request();
    expect(await provider.refund(req)).toEqual({ refundRef: `${TRADE_NO}:${req.refundId}`, status: 'succeeded' });
    expect(gateway.seen).toHaveLength(1);
    expect(gateway.seen[0]!.method).toBe('alipay.trade.refund');
    expect(gateway.seen[0]!.biz).toEqual({ trade_no: TRADE_NO, out_trade_no: req.orderId, refund_amount: '10.00', out_request_no: req.refundId, refund_reason: '学员申请退款' });
  });

  it('leaves fund_change N pending', async () => {
    gateway.refundAnswer = success('N');
    expect(await provider.refund(request())).toMatchObject({ status: 'pending' });
  });

  it('sends 29.33 yuan for 2933 fen', async () => {
    gateway.refundAnswer = success('Y');
    await provider.refund(request({ amountMinor: 2933 }));
    expect(gateway.seen[0]!.biz.refund_amount).toBe('29.33');
  });

  it('throws provider_refund_failed when Alipay refuses, provider_unavailable when it cannot say', async () => {
    gateway.refundAnswer = { code: '40004', msg: 'Business Failed', sub_code: 'ACQ.TRADE_HAS_CLOSE', sub_msg: '交易已经关闭' };
    await expect(provider.refund(request())).rejects.toMatchObject({ code: 'provider_refund_failed', message: expect.stringContaining('ACQ.TRADE_HAS_CLOSE') });
    gateway.refundAnswer = { code: '20000', msg: 'Service Currently Unavailable', sub_code: 'isp.unknow-error', sub_msg: '系统繁忙' };
    await expect(provider.refund(request())).rejects.toMatchObject({ code: 'provider_unavailable' });
  });

  it('does not trust an answer signed with another key', async () => {
    gateway.refundAnswer = success('Y');
    gateway.answerSigner = stranger.privateKey;
    await expect(provider.refund(request())).rejects.toMatchObject({ code: 'provider_unavailable' });
  });

  it('is refused by the gateway when the request is signed with another app key', async () => {
    gateway.refundAnswer = success('Y');
    const impostor = alipayProvider({ ...options, privateKeyPem: stranger.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() });
    await expect(impostor.refund(request())).rejects.toMatchObject({ code: 'provider_refund_failed', message: expect.stringContaining('isv.invalid-signature') });
    expect(gateway.seen).toHaveLength(0);
  });

  it('refuses currencies other than CNY', async () => {
    await expect(provider.refund(request({ currency: 'HKD' }))).rejects.toMatchObject({ code: 'currency_not_supported' });
    expect(gateway.seen).toHaveLength(0);
  });
});
