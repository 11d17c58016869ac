// Stand-ins for WeChat Pay API v3 and the Alipay gateway on random ports, keys generated here, and
// notifications built and signed the way the real providers build them. The providers' unit tests
// talk to them directly; the end-to-end tests through the HTTP server.
import { createCipheriv, createSign, createVerify, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AlipayOptions, WechatPayOptions } from '../modules/payments/index.js';

const rsa = () => generateKeyPairSync('rsa', { modulusLength: 2048 });

/** PEM of a generated key: PKCS#8 for a private key, SPKI for a public one. */
export const pemOf = (k: KeyObject) => k.export({ type: k.type === 'private' ? 'pkcs8' : 'spki', format: 'pem' }).toString();

export const signWith = (key: KeyObject, message: string, algorithm = 'RSA-SHA256') => createSign(algorithm).update(message, 'utf8').sign(key, 'base64');

/** A key pair neither provider nor merchant configured: its signatures are forgeries. */
export const stranger = rsa();

/** A plain HTTP server on a random port of 127.0.0.1 that hands each request over with its whole body. */
async function listen(handle: (req: IncomingMessage, raw: string, res: ServerResponse) => void): Promise<{ server: Server; origin: string }> {
  const server = createServer((req, res) => {
    let raw = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (raw += c));
    req.on('end', () => handle(req, raw, res));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

const closeServer = (server: Server | undefined) =>
  new Promise<void>((resolve) => {
    if (!server) return resolve();
    server.closeAllConnections();
    server.close(() => resolve());
  });

// ── WeChat Pay API v3 ────────────────────────────────────────────────────────────────────────────

export const WECHAT_MCH_ID = '1900000109';
export const WECHAT_APP_ID = 'wxd678efh567hg6787';
export const MERCHANT_SERIAL = '5157F09EFDC096DE15EBE81A47057A7232F1B8E1';
export const PLATFORM_SERIAL = 'PUB_KEY_ID_0119000001092025010100000000000001';
/** 32 ASCII characters, as the merchant platform issues them. */
export const API_V3_KEY = randomBytes(16).toString('hex');
/** The merchant's API key and WeChat Pay's platform key (公钥模式). */
export const wechatKeys = { merchant: rsa(), platform: rsa() };

/** The provider options that match the fake (what YUTANG_WECHATPAY_* configure). */
export const wechatPayOptions = (apiBase: string): WechatPayOptions => ({
  mchId: WECHAT_MCH_ID,
  appId: WECHAT_APP_ID,
  serialNo: MERCHANT_SERIAL,
  privateKeyPem: pemOf(wechatKeys.merchant.privateKey),
  apiV3Key: API_V3_KEY,
  platformPublicKeyPem: pemOf(wechatKeys.platform.publicKey),
  platformSerial: PLATFORM_SERIAL,
  apiBase,
});

export interface WechatSeen {
  path: string;
  authorization: string;
  serialHeader: string | undefined;
  body: Record<string, any>;
  /** What the fake answered. */
  answer: unknown;
}

/** The fake WeChat Pay API: refuses requests not signed by the merchant key, signs every answer. */
export class FakeWechatPay {
  server?: Server;
  url = '';
  /** The requests whose signature checked out, in order. */
  seen: WechatSeen[] = [];
  /** Who signs the answers and how. */
  answerSigning: 'platform' | 'stranger' | 'unsigned' | 'wrong-serial' | 'tampered' | 'stale' = 'platform';
  /** What the next refund answers. */
  refundAnswer: { status: number; body: Record<string, unknown> } = { status: 200, body: {} };

  async start() {
    const { server, origin } = await listen((req, raw, res) => this.handle(req, raw, res));
    this.server = server;
    this.url = origin;
  }

  close = () => closeServer(this.server);

  private handle(req: IncomingMessage, raw: string, res: ServerResponse) {
    const authorization = req.headers.authorization ?? '';
    if (!this.authorized(req.method!, req.url!, authorization, raw)) return this.answer(res, 401, { code: 'SIGN_ERROR', message: '签名错误' });
    const seen: WechatSeen = { path: req.url!, authorization, serialHeader: req.headers['wechatpay-serial'] as string | undefined, body: JSON.parse(raw) as Record<string, any>, answer: null };
    this.seen.push(seen);
    const [status, payload]: [number, unknown] =
      req.url === '/v3/pay/transactions/native'
        ? [200, { code_url: `weixin://wxpay/bizpayurl?pr=${randomBytes(5).toString('hex')}` }]
        : req.url === '/v3/refund/domestic/refunds'
          ? [this.refundAnswer.status, this.refundAnswer.body]
          : [404, { code: 'NOT_FOUND', message: 'no such API' }];
    seen.answer = payload;
    this.answer(res, status, payload);
  }

  /** WECHATPAY2-SHA256-RSA2048 over METHOD\nURL\ntimestamp\nnonce\nbody\n with the merchant's public key. */
  private authorized(method: string, url: string, authorization: string, raw: string): boolean {
    const m = /^WECHATPAY2-SHA256-RSA2048 (.+)$/.exec(authorization);
    if (!m) return false;
    const fields = Object.fromEntries([...m[1]!.matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1]!, x[2]!]));
    if (fields.mchid !== WECHAT_MCH_ID || fields.serial_no !== MERCHANT_SERIAL || !fields.signature) return false;
    const message = `${method}\n${url}\n${fields.timestamp}\n${fields.nonce_str}\n${raw}\n`;
    return createVerify('RSA-SHA256').update(message).verify(wechatKeys.merchant.publicKey, fields.signature, 'base64');
  }

  private answer(res: ServerResponse, status: number, payload: unknown) {
    const body = JSON.stringify(payload);
    const now = Math.floor(Date.now() / 1000);
    const timestamp = String(this.answerSigning === 'stale' ? now - 301 : now);
    const nonce = randomBytes(16).toString('hex');
    const key = this.answerSigning === 'stranger' ? stranger.privateKey : wechatKeys.platform.privateKey;
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

/** WeChat Pay's answer to a refund request, for `FakeWechatPay.refundAnswer`. */
export const wechatRefundAnswer = (status: string, o: { refundRef?: string; refund?: number; total?: number } = {}) => ({
  status: 200,
  body: { refund_id: o.refundRef ?? '50300908092026030112345678901', out_refund_no: 'x', status, amount: { refund: o.refund ?? 1000, total: o.total ?? 2933, currency: 'CNY' } },
});

export interface WechatNotificationOptions {
  /** When WeChat Pay signed it (`Wechatpay-Timestamp`). */
  at: Date;
  signer?: KeyObject;
  serial?: string;
  key?: string;
  mangle?: (ciphertextAndTag: Buffer) => Buffer;
  id?: string;
}

/** A notification as WeChat Pay sends it: the resource AES-256-GCM encrypted, the body signed with the platform key. */
export function wechatNotification(eventType: string, resource: object, o: WechatNotificationOptions) {
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
  const timestamp = String(Math.floor(o.at.getTime() / 1000));
  const signatureNonce = randomBytes(16).toString('hex');
  const headers: Record<string, string> = {
    'wechatpay-timestamp': timestamp,
    'wechatpay-nonce': signatureNonce,
    'wechatpay-signature': signWith(o.signer ?? wechatKeys.platform.privateKey, `${timestamp}\n${signatureNonce}\n${body}\n`),
    'wechatpay-serial': o.serial ?? PLATFORM_SERIAL,
    'wechatpay-signature-type': 'WECHATPAY2-SHA256-RSA2048',
  };
  return { body, headers };
}

/** `ord_…` → `ord…`, as the order id travels in out_trade_no. */
const outTradeNo = (orderId: string) => `ord${orderId.slice(4)}`;

/** The decrypted resource of a TRANSACTION.SUCCESS notification for one of our orders. */
export const wechatTransaction = (orderId: string, total = 2933, overrides: Record<string, unknown> = {}) => ({
  mchid: WECHAT_MCH_ID,
  appid: WECHAT_APP_ID,
  out_trade_no: outTradeNo(orderId),
  transaction_id: '4200000985202603016547112345',
  trade_type: 'NATIVE',
  trade_state: 'SUCCESS',
  trade_state_desc: '支付成功',
  bank_type: 'OTHERS',
  success_time: '2026-03-01T19:59:58+08:00',
  payer: { openid: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o' },
  amount: { total, payer_total: total, currency: 'CNY', payer_currency: 'CNY' },
  ...overrides,
});

/** The decrypted resource of a REFUND.* notification; `refundId` is our refund id (out_refund_no). */
export const wechatRefundResource = (orderId: string, refundId: string, status: string, o: { transactionId?: string; refundRef?: string; refund?: number; total?: number } = {}) => ({
  mchid: WECHAT_MCH_ID,
  out_trade_no: outTradeNo(orderId),
  transaction_id: o.transactionId ?? '4200000985202603016547112345',
  out_refund_no: refundId,
  refund_id: o.refundRef ?? '50300908092026030112345678901',
  refund_status: status,
  success_time: '2026-03-01T20:05:00+08:00',
  user_received_account: '支付用户零钱',
  amount: { total: o.total ?? 2933, refund: o.refund ?? 1000, payer_total: o.total ?? 2933, payer_refund: o.refund ?? 1000 },
});

// ── Alipay ───────────────────────────────────────────────────────────────────────────────────────

export const ALIPAY_APP_ID = '2021004100000001';
/** The application's key and Alipay's own. */
export const alipayKeys = { app: rsa(), alipay: rsa() };

/** The provider options that match the fake (what YUTANG_ALIPAY_* configure); the app key in PKCS#1, as Alipay's key tool writes it for non-Java languages. */
export const alipayOptions = (gateway: string): AlipayOptions => ({
  appId: ALIPAY_APP_ID,
  privateKeyPem: alipayKeys.app.privateKey.export({ type: 'pkcs1', format: 'pem' }).toString(),
  alipayPublicKeyPem: pemOf(alipayKeys.alipay.publicKey),
  gateway,
});

/** Alipay's request rule: every parameter but `sign`, empty ones left out, sorted, `k=v` joined by `&`. */
export const alipayRequestContent = (params: Record<string, string>) =>
  Object.keys(params)
    .filter((k) => k !== 'sign' && params[k] !== '')
    .sort()
    .map((k) => `${k}=${params[k]}`)
    .join('&');

/** Alipay's notification rule: every parameter but `sign` and `sign_type`, sorted, `k=v` joined by `&`. */
const notifyContent = (params: Record<string, string>) =>
  Object.keys(params)
    .filter((k) => k !== 'sign' && k !== 'sign_type')
    .sort()
    .map((k) => `${k}=${params[k]}`)
    .join('&');

export interface AlipaySeen {
  method: string;
  params: Record<string, string>;
  biz: Record<string, any>;
}

/** The fake gateway: page payments by GET, API calls by POST, each refused unless signed with the app key. */
export class FakeAlipayGateway {
  server?: Server;
  /** The gateway URL, `…/gateway.do`. */
  url = '';
  /** The requests whose signature checked out, in order. */
  seen: AlipaySeen[] = [];
  answerSigner: KeyObject = alipayKeys.alipay.privateKey;
  /** The next refund's answer (inside alipay_trade_refund_response). */
  refundAnswer: Record<string, unknown> = {};

  async start() {
    const { server, origin } = await listen((req, raw, res) => this.handle(req, raw, res));
    this.server = server;
    this.url = `${origin}/gateway.do`;
  }

  close = () => closeServer(this.server);

  private handle(req: IncomingMessage, raw: string, res: ServerResponse) {
    const url = new URL(req.url!, 'http://gateway');
    const params: Record<string, string> = {};
    for (const source of [url.searchParams, new URLSearchParams(raw)]) for (const [k, v] of source) params[k] = v;
    const verified = params.sign_type === 'RSA2' && !!params.sign && createVerify('RSA-SHA256').update(alipayRequestContent(params), 'utf8').verify(alipayKeys.app.publicKey, params.sign, 'base64');
    const method = params.method ?? '';
    if (verified) this.seen.push({ method, params, biz: JSON.parse(params.biz_content ?? '{}') });
    if (req.method === 'GET') {
      res.writeHead(verified ? 200 : 400, { 'content-type': 'text/html; charset=utf-8' }).end(verified ? '<title>支付宝 - 网上支付 安全快速！</title>' : 'isv.invalid-signature');
      return;
    }
    const answer = verified ? this.refundAnswer : { code: '40002', msg: 'Invalid Arguments', sub_code: 'isv.invalid-signature', sub_msg: '验签出错' };
    const inner = JSON.stringify(answer);
    const key = `${method.replaceAll('.', '_')}_response`;
    res.writeHead(200, { 'content-type': 'text/html;charset=utf-8' }).end(`{"${key}":${inner},"sign":"${signWith(this.answerSigner, inner)}"}`);
  }
}

export const ALIPAY_TRADE_NO = '2026030122001404330501234567';

/** Alipay's answer to alipay.trade.refund that went through; `refundFee` is the trade's total refunded so far, in yuan. */
export const alipayRefundSuccess = (fundChange: 'Y' | 'N', o: { refundFee?: string; tradeNo?: string } = {}) => ({
  code: '10000',
  msg: 'Success',
  buyer_logon_id: 'csq***@sandbox.com',
  fund_change: fundChange,
  gmt_refund_pay: '2026-03-01 20:01:00',
  out_trade_no: 'x',
  refund_fee: o.refundFee ?? '10.00',
  trade_no: o.tradeNo ?? ALIPAY_TRADE_NO,
});

/** A notification's fields as Alipay sends them for a paid computer-website trade of 29.33 yuan. */
export const alipayPaidFields = (orderId: string, overrides: Record<string, string> = {}): Record<string, string> => ({
  gmt_create: '2026-03-01 19:58:01',
  charset: 'utf-8',
  seller_email: 'shop@example.com',
  subject: '21天深度阅读训练营',
  buyer_id: '2088102122524333',
  invoice_amount: '29.33',
  notify_id: '2026030100222195802004331234567890',
  fund_bill_list: '[{"amount":"29.33","fundChannel":"ALIPAYACCOUNT"}]',
  notify_type: 'trade_status_sync',
  trade_status: 'TRADE_SUCCESS',
  receipt_amount: '29.33',
  app_id: ALIPAY_APP_ID,
  buyer_pay_amount: '29.33',
  seller_id: '2088102119685838',
  gmt_payment: '2026-03-01 19:58:02',
  notify_time: '2026-03-01 19:58:03',
  version: '1.0',
  out_trade_no: orderId,
  total_amount: '29.33',
  trade_no: ALIPAY_TRADE_NO,
  auth_app_id: ALIPAY_APP_ID,
  buyer_logon_id: 'csq***@sandbox.com',
  point_amount: '0.00',
  ...overrides,
});

/** Signs the fields with `signer` (Alipay's key by default) and form-encodes them; `spaces` chooses how a space is escaped. */
export function alipayNotification(fields: Record<string, string>, o: { signer?: KeyObject; signType?: string; algorithm?: string; spaces?: '+' | '%20' } = {}): string {
  const all = { ...fields, sign_type: o.signType ?? 'RSA2' };
  const signed = { ...all, sign: signWith(o.signer ?? alipayKeys.alipay.privateKey, notifyContent(all), o.algorithm) };
  const body = new URLSearchParams(signed).toString();
  return o.spaces === '%20' ? body.replaceAll('+', '%20') : body;
}
