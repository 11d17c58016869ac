// WeChat Pay API v3 against a fake API on a random port that checks the merchant's request
// signatures and signs its answers, and notifications built the way WeChat Pay builds them.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { newId } from '../../lib/ids.js';
import {
  FakeWechatPay,
  PLATFORM_SERIAL,
  WECHAT_APP_ID as APP_ID,
  WECHAT_MCH_ID as MCH_ID,
  pemOf,
  stranger,
  wechatNotification,
  wechatPayOptions,
  wechatRefundAnswer,
  wechatRefundResource as refundResource,
  wechatTransaction as transaction,
  type WechatNotificationOptions,
} from '../../test/fake-cn-gateways.js';
import type { PaymentProvider } from './provider.js';
import { wechatPayProvider, type WechatPayOptions } from './wechatpay.js';

const fake = new FakeWechatPay();
let options: WechatPayOptions;
let provider: PaymentProvider;

beforeAll(async () => {
  await fake.start();
  options = wechatPayOptions(fake.url);
  provider = wechatPayProvider(options);
});

afterAll(() => fake.close());

beforeEach(() => {
  fake.seen = [];
  fake.answerSigning = 'platform';
});

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return (err as { code: string }).code;
  }
  throw new Error('expected an error');
}

const checkout = (overrides: Partial<Parameters<PaymentProvider['startCheckout']>[0]> = {}) =>
  provider.startCheckout({
    orderId: newId('ord'),
    amountMinor: 2933,
    currency: 'CNY',
    description: '年度会员',
    returnUrl: 'https://shop.example.com/orders/done',
    notifyUrl: 'https://shop.example.com/api/v1/webhooks/wechatpay',
    expiresAt: '2026-03-01T12:15:00.000Z',
    now: new Date('2026-03-01T12:00:00.000Z'),
    ...overrides,
  });

describe('WeChat Pay checkout', () => {
  it('places a signed Native order and returns its QR code URL', async () => {
    const orderId = newId('ord');
    const result = await checkout({ orderId });
    expect(result.kind).toBe('qr');
    expect(result.kind === 'qr' && result.codeUrl).toMatch(/^weixin:\/\/wxpay\/bizpayurl\?pr=/);
    expect(fake.seen).toHaveLength(1);
    const { path, body, serialHeader } = fake.seen[0]!;
    expect(path).toBe('/v3/pay/transactions/native');
    expect(serialHeader).toBe(PLATFORM_SERIAL);
    expect(body).toEqual({
      appid: APP_ID,
      mchid: MCH_ID,
      description: '年度会员',
      out_trade_no: `ord${orderId.slice(4)}`,
      // 12:15 UTC is 20:15 in China.
      time_expire: '2026-03-01T20:15:00+08:00',
      notify_url: 'https://shop.example.com/api/v1/webhooks/wechatpay',
      amount: { total: 2933, currency: 'CNY' },
    });
    expect(body.out_trade_no).toMatch(/^[A-Za-z0-9_\-|*]{6,32}$/);
  });

  it('cuts a long description to 127 bytes of UTF-8 without splitting a character', async () => {
    // 读 is 3 bytes: 42 of them are 126 bytes, a 43rd would be 129.
    await checkout({ description: '读'.repeat(60) });
    expect(fake.seen[0]!.body.description).toBe('读'.repeat(42));
    // 1 + 42 × 3 = 127 exactly; the emoji (4 bytes) after it would not fit in any part.
    await checkout({ description: `a${'读'.repeat(42)}👍🏽` });
    expect(fake.seen[1]!.body.description).toBe(`a${'读'.repeat(42)}`);
  });

  it('refuses currencies other than CNY without calling WeChat Pay', async () => {
    await expect(checkout({ currency: 'USD' })).rejects.toMatchObject({ code: 'currency_not_supported', status: 409 });
    expect(fake.seen).toHaveLength(0);
  });

  it('is refused by the API when the request is signed with another key', async () => {
    const impostor = wechatPayProvider({ ...options, privateKeyPem: pemOf(stranger.privateKey) });
    await expect(impostor.startCheckout({ orderId: newId('ord'), amountMinor: 100, currency: 'CNY', description: 'x', returnUrl: 'https://a/', notifyUrl: 'https://a/n', expiresAt: '2026-03-01T12:15:00Z', now: new Date('2026-03-01T12:00:00Z') })).rejects.toMatchObject({
      code: 'provider_checkout_failed',
      message: expect.stringContaining('SIGN_ERROR'),
    });
    expect(fake.seen).toHaveLength(0);
  });

  it.each([
    ['unsigned', 'Missing'],
    ['stranger', 'does not match'],
    ['wrong-serial', 'Wechatpay-Serial'],
    ['tampered', 'does not match'],
    ['stale', 'more than 300 s'],
  ] as const)('refuses an answer that is %s', async (signing, reason) => {
    fake.answerSigning = signing;
    await expect(checkout()).rejects.toMatchObject({ code: 'provider_unavailable', message: expect.stringContaining(reason) });
  });

  it('refuses order ids that cannot become an out_trade_no', async () => {
    await expect(checkout({ orderId: 'order-1' })).rejects.toMatchObject({ code: 'validation_failed' });
  });
});

const NOW = new Date('2026-03-01T12:00:00Z');

/** A notification signed now (NOW) unless told otherwise. */
const notification = (eventType: string, resource: object, o: Partial<WechatNotificationOptions> = {}) => wechatNotification(eventType, resource, { at: NOW, ...o });

describe('WeChat Pay notifications', () => {
  const orderId = newId('ord');
  const refundId = newId('rfd');

  it('turns a paid transaction into payment.succeeded with the exact fen', () => {
    const n = notification('TRANSACTION.SUCCESS', transaction(orderId), { id: 'EV-2026030112000001' });
    expect(provider.verifyWebhook(n.body, n.headers, NOW)).toEqual({
      id: 'EV-2026030112000001',
      type: 'payment.succeeded',
      orderId,
      providerRef: '4200000985202603016547112345',
      amountMinor: 2933,
      currency: 'CNY',
    });
  });

  it('turns refund notifications into refund.succeeded and refund.failed with our refund id', () => {
    const ok = notification('REFUND.SUCCESS', refundResource(orderId, refundId, 'SUCCESS'), { id: 'EV-R1' });
    expect(provider.verifyWebhook(ok.body, ok.headers, NOW)).toEqual({
      id: 'EV-R1',
      type: 'refund.succeeded',
      orderId,
      refundRef: '50300908092026030112345678901',
      refundId,
      amountMinor: 1000,
      currency: 'CNY',
    });
    for (const [type, status] of [
      ['REFUND.ABNORMAL', 'ABNORMAL'],
      ['REFUND.CLOSED', 'CLOSED'],
    ]) {
      const n = notification(type!, refundResource(orderId, refundId, status!), { id: `EV-${status}` });
      expect(provider.verifyWebhook(n.body, n.headers, NOW)).toEqual({
        id: `EV-${status}`,
        type: 'refund.failed',
        orderId,
        refundRef: '50300908092026030112345678901',
        refundId,
        reason: `${type} (${status})`,
      });
    }
  });

  it('accepts a signature up to 300 s either side of now and refuses one beyond as stale', () => {
    for (const s of [-300, 300]) {
      const n = notification('TRANSACTION.SUCCESS', transaction(orderId), { at: new Date(NOW.getTime() + s * 1000) });
      expect(provider.verifyWebhook(n.body, n.headers, NOW).type).toBe('payment.succeeded');
    }
    for (const s of [-301, 301]) {
      const n = notification('TRANSACTION.SUCCESS', transaction(orderId), { at: new Date(NOW.getTime() + s * 1000) });
      expect(codeOf(() => provider.verifyWebhook(n.body, n.headers, NOW))).toBe('stale_signature');
    }
  });

  it('refuses a tampered body, another signer, another serial and missing headers', () => {
    const n = notification('TRANSACTION.SUCCESS', transaction(orderId));
    const verify = (body: string, headers: Record<string, string | undefined>) => codeOf(() => provider.verifyWebhook(body, headers, NOW));
    expect(verify(n.body.replace('TRANSACTION.SUCCESS', 'REFUND.SUCCESS'), n.headers)).toBe('invalid_signature');
    expect(verify(`${n.body} `, n.headers)).toBe('invalid_signature');
    const forged = notification('TRANSACTION.SUCCESS', transaction(orderId), { signer: stranger.privateKey });
    expect(verify(forged.body, forged.headers)).toBe('invalid_signature');
    const rotated = notification('TRANSACTION.SUCCESS', transaction(orderId), { serial: 'PUB_KEY_ID_0119000001092026010100000000000002' });
    expect(verify(rotated.body, rotated.headers)).toBe('invalid_signature');
    for (const h of ['wechatpay-timestamp', 'wechatpay-nonce', 'wechatpay-signature', 'wechatpay-serial']) {
      expect(verify(n.body, { ...n.headers, [h]: undefined })).toBe('invalid_signature');
    }
    // WeChat Pay probes merchants with deliberately wrong signatures of this form.
    expect(verify(n.body, { ...n.headers, 'wechatpay-signature': 'WECHATPAY/SIGNTEST/abcdef' })).toBe('invalid_signature');
  });

  it('refuses a resource that does not decrypt: flipped ciphertext, flipped tag, short, or another APIv3 key', () => {
    const flip = (at: (b: Buffer) => number) => (b: Buffer) => {
      const c = Buffer.from(b);
      c[at(c)]! ^= 1;
      return c;
    };
    for (const o of [{ mangle: flip(() => 0) }, { mangle: flip((b) => b.length - 1) }, { mangle: (b: Buffer) => b.subarray(0, 10) }, { key: randomBytes(16).toString('hex') }]) {
      const n = notification('TRANSACTION.SUCCESS', transaction(orderId), o);
      expect(codeOf(() => provider.verifyWebhook(n.body, n.headers, NOW))).toBe('invalid_signature');
    }
  });

  it('refuses a transaction of another merchant or app', () => {
    for (const other of [{ mchid: '1900000110' }, { appid: 'wx0000000000000000' }]) {
      const n = notification('TRANSACTION.SUCCESS', { ...transaction(orderId), ...other });
      expect(codeOf(() => provider.verifyWebhook(n.body, n.headers, NOW))).toBe('invalid_signature');
    }
  });

  it('answers unknown_event_type for other event types', () => {
    const n = notification('TRANSACTION.CLOSED', transaction(orderId));
    expect(codeOf(() => provider.verifyWebhook(n.body, n.headers, NOW))).toBe('unknown_event_type');
  });

  it('passes an out_trade_no it did not make through unchanged', () => {
    const n = notification('TRANSACTION.SUCCESS', { ...transaction(orderId), out_trade_no: 'POS-20260301-0001' });
    expect(provider.verifyWebhook(n.body, n.headers, NOW)).toMatchObject({ orderId: 'POS-20260301-0001' });
  });
});

describe('WeChat Pay refunds', () => {
  const request = (overrides: Partial<Parameters<PaymentProvider['refund']>[0]> = {}) => {
    const refundId = newId('rfd');
    return { refundId, orderId: newId('ord'), providerRef: '4200000985202603016547112345', amountMinor: 1000, totalMinor: 2933, currency: 'CNY', reason: '学员申请退款', idempotencyKey: refundId, ...overrides };
  };
  const answer = (status: string) => wechatRefundAnswer(status);

  it('sends a signed refund with our refund id as out_refund_no and maps SUCCESS to succeeded', async () => {
    fake.refundAnswer = answer('SUCCESS');
    const req = request();
    expect(await provider.refund(req)).toEqual({ refundRef: '50300908092026030112345678901', status: 'succeeded' });
    expect(fake.seen[0]!.path).toBe('/v3/refund/domestic/refunds');
    expect(fake.seen[0]!.body).toEqual({
      transaction_id: '4200000985202603016547112345',
      out_refund_no: req.refundId,
      reason: '学员申请退款',
      amount: { refund: 1000, total: 2933, currency: 'CNY' },
    });
  });

  it('names the order when there is no transaction id, and sends the refund notify URL when configured', async () => {
    fake.refundAnswer = answer('SUCCESS');
    const withNotify = wechatPayProvider({ ...options, refundNotifyUrl: 'https://shop.example.com/api/v1/webhooks/wechatpay' });
    const req = request({ providerRef: '' });
    await withNotify.refund(req);
    expect(fake.seen[0]!.body).toMatchObject({ out_trade_no: `ord${req.orderId.slice(4)}`, notify_url: 'https://shop.example.com/api/v1/webhooks/wechatpay' });
    expect(fake.seen[0]!.body).not.toHaveProperty('transaction_id');
  });

  it('maps PROCESSING to pending', async () => {
    fake.refundAnswer = answer('PROCESSING');
    expect(await provider.refund(request())).toEqual({ refundRef: '50300908092026030112345678901', status: 'pending' });
  });

  it.each(['CLOSED', 'ABNORMAL'])('throws provider_refund_failed for %s', async (status) => {
    fake.refundAnswer = answer(status);
    await expect(provider.refund(request())).rejects.toMatchObject({ code: 'provider_refund_failed' });
  });

  it('throws provider_refund_failed when WeChat Pay refuses, provider_unavailable when it errs', async () => {
    fake.refundAnswer = { status: 403, body: { code: 'NOT_ENOUGH', message: '基本账户余额不足' } };
    await expect(provider.refund(request())).rejects.toMatchObject({ code: 'provider_refund_failed', message: expect.stringContaining('NOT_ENOUGH') });
    fake.refundAnswer = { status: 500, body: { code: 'SYSTEM_ERROR', message: '系统错误' } };
    await expect(provider.refund(request())).rejects.toMatchObject({ code: 'provider_unavailable' });
  });

  it('does not trust an unsigned success', async () => {
    fake.refundAnswer = answer('SUCCESS');
    fake.answerSigning = 'unsigned';
    await expect(provider.refund(request())).rejects.toMatchObject({ code: 'provider_unavailable' });
  });

  it('refuses currencies other than CNY', async () => {
    await expect(provider.refund(request({ currency: 'EUR' }))).rejects.toMatchObject({ code: 'currency_not_supported' });
    expect(fake.seen).toHaveLength(0);
  });
});

describe('WeChat Pay options', () => {
  it('refuses an APIv3 key that is not 32 bytes and keys that are not keys', () => {
    expect(() => wechatPayProvider({ ...options, apiV3Key: 'short' })).toThrow(/32 bytes/);
    expect(() => wechatPayProvider({ ...options, privateKeyPem: 'nope' })).toThrow(/private key/);
    expect(() => wechatPayProvider({ ...options, platformPublicKeyPem: 'nope' })).toThrow(/public key/);
  });
});
