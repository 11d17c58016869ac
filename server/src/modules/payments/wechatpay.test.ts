// WeChat Pay API v3 against a fake API on a random port that checks the merchant's request
// signatures and signs its answers, and notifications built here the way WeChat Pay builds them.
import { createCipheriv, createSign, createVerify, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { newId } from '../../lib/ids.js';
import type { PaymentProvider } from './provider.js';
import { wechatPayProvider, type WechatPayOptions } from './wechatpay.js';

const rsa = () => generateKeyPairSync('rsa', { modulusLength: 2048 });
const merchant = rsa();
const platform = rsa();
const stranger = rsa();
const pemOf = (k: KeyObject) => k.export({ type: k.type === 'private' ? 'pkcs8' : 'spki', format: 'pem' }).toString();

const MCH_ID = '1900000109';
const APP_ID = 'wxd678efh567hg6787';
const MERCHANT_SERIAL = '5157F09EFDC096DE15EBE81A47057A7232F1B8E1';
const PLATFORM_SERIAL = 'PUB_KEY_ID_0119000001092025010100000000000001';
/** 32 ASCII characters, as the merchant platform issues them. */
const API_V3_KEY = randomBytes(16).toString('hex');

const signWith = (key: KeyObject, message: string) => createSign('RSA-SHA256').update(message).sign(key, 'base64');

interface Seen {
  path: string;
  authorization: string;
  serialHeader: string | undefined;
  body: Record<string, any>;
}

/** The fake WeChat Pay API: refuses requests not signed by the merchant key, signs every answer. */
class FakeWechatPay {
  server!: Server;
  url = '';
  seen: Seen[] = [];
  /** Who signs the answers and how. */
  answerSigning: 'platform' | 'stranger' | 'unsigned' | 'wrong-serial' | 'tampered' | 'stale' = 'platform';
  /** What the next refund answers. */
  refundAnswer: { status: number; body: Record<string, unknown> } = { status: 200, body: {} };

  async start() {
    this.server = createServer((req, res) => {
      let raw = '';
      req.setEncoding('utf8');
      req.on('data', (c: string) => (raw += c));
      req.on('end', () => this.handle(req, raw, res));
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  private handle(req: IncomingMessage, raw: string, res: ServerResponse) {
    const authorization = req.headers.authorization ?? '';
    if (!this.authorized(req.method!, req.url!, authorization, raw)) return this.answer(res, 401, { code: 'SIGN_ERROR', message: '签名错误' });
    const body = JSON.parse(raw) as Record<string, any>;
    this.seen.push({ path: req.url!, authorization, serialHeader: req.headers['wechatpay-serial'] as string | undefined, body });
    if (req.url === '/v3/pay/transactions/native') return this.answer(res, 200, { code_url: `weixin://wxpay/bizpayurl?pr=${randomBytes(5).toString('hex')}` });
    if (req.url === '/v3/refund/domestic/refunds') return this.answer(res, this.refundAnswer.status, this.refundAnswer.body);
    this.answer(res, 404, { code: 'NOT_FOUND', message: 'no such API' });
  }

  /** WECHATPAY2-SHA256-RSA2048 over METHOD\nURL\ntimestamp\nnonce\nbody\n with the merchant's public key. */
  private authorized(method: string, url: string, authorization: string, raw: string): boolean {
    const m = /^WECHATPAY2-SHA256-RSA2048 (.+)$/.exec(authorization);
    if (!m) return false;
    const fields = Object.fromEntries([...m[1]!.matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1]!, x[2]!]));
    if (fields.mchid !== MCH_ID || fields.serial_no !== MERCHANT_SERIAL || !fields.signature) return false;
    const message = `${method}\n${url}\n${fields.timestamp}\n${fields.nonce_str}\n${raw}\n`;
    return createVerify('RSA-SHA256').update(message).verify(merchant.publicKey, fields.signature, 'base64');
  }

  private answer(res: ServerResponse, status: number, payload: unknown) {
    const body = JSON.stringify(payload);
    const now = Math.floor(Date.now() / 1000);
    const timestamp = String(this.answerSigning === 'stale' ? now - 301 : now);
    const nonce = randomBytes(16).toString('hex');
    const key = this.answerSigning === 'stranger' ? stranger.privateKey : platform.privateKey;
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (this.answerSigning !== 'unsigned') {
      headers['wechatpay-timestamp'] = timestamp;
      headers['wechatpay-nonce'] = nonce;
      headers['wechatpay-signature'] = signWith(key, `${timestamp}\n${nonce}\n${body}\n`);
      headers['wechatpay-serial'] = this.answerSigning === 'wrong-serial' ? 'PUB_KEY_ID_OTHER' : PLATFORM_SERIAL;
    }
    res.writeHead(status, headers).end(this.answerSigning === 'tampered' ? body.replace('}', ',"x":1}') : body);
  }
}

const fake = new FakeWechatPay();
let options: WechatPayOptions;
let provider: PaymentProvider;

beforeAll(async () => {
  await fake.start();
  options = {
    mchId: MCH_ID,
    appId: APP_ID,
    serialNo: MERCHANT_SERIAL,
    privateKeyPem: pemOf(merchant.privateKey),
    apiV3Key: API_V3_KEY,
    platformPublicKeyPem: pemOf(platform.publicKey),
    platformSerial: PLATFORM_SERIAL,
    apiBase: fake.url,
  };
  provider = wechatPayProvider(options);
});

afterAll(() => new Promise<void>((resolve) => fake.server.close(() => resolve())));

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

interface NotificationOptions {
  signer?: KeyObject;
  serial?: string;
  at?: Date;
  key?: string;
  mangle?: (ciphertextAndTag: Buffer) => Buffer;
  id?: string;
}

/** A notification as WeChat Pay sends it: the resource AES-256-GCM encrypted, the body signed with the platform key. */
function notification(eventType: string, resource: object, o: NotificationOptions = {}) {
  const nonce = randomBytes(6).toString('hex');
  const associatedData = eventType.startsWith('REFUND') ? 'refund' : 'transaction';
  const cipher = createCipheriv('aes-256-gcm', Buffer.from(o.key ?? API_V3_KEY, 'utf8'), Buffer.from(nonce, 'utf8'));
  cipher.setAAD(Buffer.from(associatedData, 'utf8'));
  const sealed = Buffer.concat([cipher.update(JSON.stringify(resource), 'utf8'), cipher.final(), cipher.getAuthTag()]);
  const body = JSON.stringify({
    id: o.id ?? `EV-${randomBytes(8).toString('hex')}`,
    create_time: '2026-03-01T20:00:00+08:00',
    resource_type: 'encrypt-resource',
    event_type: eventType,
    summary: '支付成功',
    resource: { original_type: associatedData, algorithm: 'AEAD_AES_256_GCM', ciphertext: (o.mangle ?? ((b) => b))(sealed).toString('base64'), associated_data: associatedData, nonce },
  });
  const timestamp = String(Math.floor((o.at ?? NOW).getTime() / 1000));
  const signatureNonce = randomBytes(16).toString('hex');
  const headers: Record<string, string> = {
    'wechatpay-timestamp': timestamp,
    'wechatpay-nonce': signatureNonce,
    'wechatpay-signature': signWith(o.signer ?? platform.privateKey, `${timestamp}\n${signatureNonce}\n${body}\n`),
    'wechatpay-serial': o.serial ?? PLATFORM_SERIAL,
    'wechatpay-signature-type': 'WECHATPAY2-SHA256-RSA2048',
  };
  return { body, headers };
}

const transaction = (orderId: string, total = 2933) => ({
  mchid: MCH_ID,
  appid: APP_ID,
  out_trade_no: `ord${orderId.slice(4)}`,
  transaction_id: '4200000985202603016547112345',
  trade_type: 'NATIVE',
  trade_state: 'SUCCESS',
  trade_state_desc: '支付成功',
  bank_type: 'OTHERS',
  success_time: '2026-03-01T19:59:58+08:00',
  payer: { openid: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o' },
  amount: { total, payer_total: total, currency: 'CNY', payer_currency: 'CNY' },
});

const refundResource = (orderId: string, refundId: string, status: string) => ({
  mchid: MCH_ID,
  out_trade_no: `ord${orderId.slice(4)}`,
  transaction_id: '4200000985202603016547112345',
  out_refund_no: refundId,
  refund_id: '50300908092026030112345678901',
  refund_status: status,
  success_time: '2026-03-01T20:05:00+08:00',
  user_received_account: '支付用户零钱',
  amount: { total: 2933, refund: 1000, payer_total: 2933, payer_refund: 1000 },
});

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
  const answer = (status: string) => ({ status: 200, body: { refund_id: '50300908092026030112345678901', out_refund_no: 'x', status, amount: { refund: 1000, total: 2933, currency: 'CNY' } } });

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
