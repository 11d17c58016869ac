// WeChat Pay and Alipay end to end: configured from YUTANG_* variables, orders bought through the
// API against fake provider APIs, notifications signed as the providers sign them POSTed to the
// webhook endpoints, refunds asked for by staff through the API.
import { createVerify } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadConfig } from '../../config.js';
import { fixedClock } from '../../lib/clock.js';
import { describeEachDialect, expectOk, useServer } from '../../test/harness.js';
import {
  ALIPAY_APP_ID,
  API_V3_KEY,
  FakeAlipayGateway,
  FakeWechatPay,
  MERCHANT_SERIAL,
  PLATFORM_SERIAL,
  WECHAT_APP_ID,
  WECHAT_MCH_ID,
  alipayKeys,
  alipayNotification,
  alipayPaidFields,
  alipayRefundSuccess,
  alipayRequestContent,
  pemOf,
  stranger,
  wechatKeys,
  wechatNotification,
  wechatRefundAnswer,
  wechatRefundResource,
  wechatTransaction,
} from '../../test/fake-cn-gateways.js';
import { addMember, addProduct, buy, effectsOf, openShop, refund } from '../../test/money.js';
import { checkLedger, retryStalledRefunds } from '../orders/index.js';
import { checkoutToken } from './index.js';

type Order = { id: string; amount_minor: number; currency: string; status: string; provider: string; checkout_url: string | null; checkout_qr: string | null };
type Reply = { status: number; type: string; text: string };

describeEachDialect('WeChat Pay and Alipay through the HTTP server', (dialect) => {
  // 12:00 UTC is 20:00 in China, the time the providers write.
  const clock = fixedClock(new Date('2026-03-01T12:00:00.000Z'));
  const wechat = new FakeWechatPay();
  const alipay = new FakeAlipayGateway();
  beforeAll(() => Promise.all([wechat.start(), alipay.start()]));
  afterAll(() => Promise.all([wechat.close(), alipay.close()]));
  const ctx = useServer(dialect, {
    clock,
    // As an operator configures them; one key as a one-line variable with `\n` escapes.
    payments: () =>
      loadConfig({
        YUTANG_SECRET: 'cn-providers-e2e-secret-of-32-characters',
        YUTANG_PAYMENT_PROVIDER: 'wechatpay',
        YUTANG_WECHATPAY_MCHID: WECHAT_MCH_ID,
        YUTANG_WECHATPAY_APPID: WECHAT_APP_ID,
        YUTANG_WECHATPAY_SERIAL_NO: MERCHANT_SERIAL,
        YUTANG_WECHATPAY_PRIVATE_KEY: pemOf(wechatKeys.merchant.privateKey).replaceAll('\n', '\\n'),
        YUTANG_WECHATPAY_APIV3_KEY: API_V3_KEY,
        YUTANG_WECHATPAY_PLATFORM_PUBLIC_KEY: pemOf(wechatKeys.platform.publicKey),
        YUTANG_WECHATPAY_PLATFORM_SERIAL: PLATFORM_SERIAL,
        YUTANG_WECHATPAY_API_BASE: wechat.url,
        YUTANG_ALIPAY_APP_ID: ALIPAY_APP_ID,
        YUTANG_ALIPAY_PRIVATE_KEY: alipayKeys.app.privateKey.export({ type: 'pkcs1', format: 'pem' }).toString(),
        YUTANG_ALIPAY_PUBLIC_KEY: pemOf(alipayKeys.alipay.publicKey),
        YUTANG_ALIPAY_GATEWAY: alipay.url,
      }).payments,
  });

  let n = 0;
  /** A shop with a product, and a member about to buy it. */
  async function shopWith(product: Record<string, unknown>) {
    const shop = await openShop(ctx.server);
    const item = await addProduct(shop, product);
    const me = await addMember(ctx.server, shop, `学员${++n}`);
    return { shop, item, me };
  }

  async function post(provider: string, body: string, headers: Record<string, string>): Promise<Reply> {
    const res = await fetch(`${ctx.server.url}/api/v1/webhooks/${provider}`, { method: 'POST', headers, body });
    return { status: res.status, type: res.headers.get('content-type') ?? '', text: await res.text() };
  }
  const toWechat = (note: { body: string; headers: Record<string, string> }) => post('wechatpay', note.body, { 'content-type': 'application/json', ...note.headers });
  const toAlipay = (form: string) => post('alipay', form, { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' });

  const outcomesOf = async (provider: string, eventId: string) =>
    (await ctx.db.handle.db.selectFrom('payment_events').select('outcome').where('provider', '=', provider).where('event_id', '=', eventId).execute()).map((e) => e.outcome);
  const rejectedIds = async (provider: string) =>
    new Set((await ctx.db.handle.db.selectFrom('payment_events').select('id').where('provider', '=', provider).where('event_id', 'is', null).execute()).map((e) => e.id));
  const rejectedSince = async (provider: string, before: Set<string>) =>
    (await ctx.db.handle.db.selectFrom('payment_events').select(['id', 'outcome', 'order_id']).where('provider', '=', provider).where('event_id', 'is', null).orderBy('id').execute())
      .filter((e) => !before.has(e.id))
      .map((e) => [e.outcome, e.order_id]);
  const refundsOf = (orderId: string) =>
    ctx.db.handle.db.selectFrom('refunds').select(['id', 'amount_minor', 'status', 'provider_ref', 'failure_reason']).where('order_id', '=', orderId).orderBy('created_at').orderBy('id').execute();
  const expectLedgerClean = async () => expect((await checkLedger(ctx.db.handle.db)).violations).toEqual([]);

  // ── WeChat Pay ──────────────────────────────────────────────────────────────────────────────────

  /** A member's pending WeChat Pay order for a ¥199 annual membership. */
  async function wechatOrder() {
    const { shop, item, me } = await shopWith({ type: 'membership', name: '年度会员', price_minor: 19_900, term: 'annual' });
    const order = expectOk(await buy(me.client, item.id, `wx-${n}`, { provider: 'wechatpay' }), 201) as Order;
    return { shop, item, me, order };
  }
  const paidNote = (order: Order, transactionId: string, id: string) =>
    wechatNotification('TRANSACTION.SUCCESS', wechatTransaction(order.id, order.amount_minor, { transaction_id: transactionId }), { at: clock.now(), id });

  it('WeChat Pay: a Native order signed with the merchant key; the order shows the code_url as its QR code', async () => {
    const before = wechat.seen.length;
    const { me, item, order } = await wechatOrder();
    const calls = wechat.seen.slice(before);
    // The fake records only requests whose WECHATPAY2-SHA256-RSA2048 signature it verified.
    expect(calls.map((c) => [c.path, c.serialHeader])).toEqual([['/v3/pay/transactions/native', PLATFORM_SERIAL]]);
    expect(calls[0]!.body).toEqual({
      appid: WECHAT_APP_ID,
      mchid: WECHAT_MCH_ID,
      description: '年度会员',
      out_trade_no: `ord${order.id.slice(4)}`,
      // Created at 20:00 China time, unpaid orders time out after 30 minutes.
      time_expire: '2026-03-01T20:30:00+08:00',
      notify_url: 'http://yutang.test/api/v1/webhooks/wechatpay',
      amount: { total: 19_900, currency: 'CNY' },
    });
    const codeUrl = (calls[0]!.answer as { code_url: string }).code_url;
    expect(codeUrl).toMatch(/^weixin:\/\/wxpay\/bizpayurl\?pr=/);
    expect([order.provider, order.status, order.amount_minor, order.checkout_qr, order.checkout_url]).toEqual(['wechatpay', 'pending', 19_900, codeUrl, null]);

    // A retry answers the same order and asks WeChat Pay nothing; the install's default is WeChat Pay.
    const again = expectOk(await buy(me.client, item.id, `wx-${n}`, { provider: 'wechatpay' }), 200) as Order;
    expect([again.id, again.checkout_qr]).toEqual([order.id, codeUrl]);
    // The order's pay link shows the same code as a QR image, without asking WeChat Pay again.
    const page = await fetch(`${ctx.server.url}/pay/${checkoutToken(ctx.db.deps.config.secret, order.id)}`);
    expect([page.status, page.headers.get('content-type')]).toEqual([200, 'text/html; charset=utf-8']);
    expect(await page.text()).toMatch(/199\.00 CNY[\s\S]*<svg/);
    expect(wechat.seen.length).toBe(before + 1);
    const other = await shopWith({ type: 'course', name: '写作课', price_minor: 100 });
    const byDefault = expectOk(await buy(other.me.client, other.item.id, 'default'), 201) as Order;
    expect([byDefault.provider, byDefault.checkout_qr]).toEqual(['wechatpay', (wechat.seen.at(-1)!.answer as { code_url: string }).code_url]);
  });

  it('WeChat Pay: TRANSACTION.SUCCESS pays the order and grants the membership once, delivered 5 times in a row or 20 at once', async () => {
    const a = await wechatOrder();
    const sequential: Reply[] = [];
    const noteA = paidNote(a.order, '4200000001202603010000000001', 'EV-PAY-A');
    for (let i = 0; i < 5; i++) sequential.push(await toWechat(noteA));
    expect(sequential.map((r) => [r.status, r.text])).toEqual(Array.from({ length: 5 }, () => [204, '']));

    const b = await wechatOrder();
    const noteB = paidNote(b.order, '4200000001202603010000000002', 'EV-PAY-B');
    const storm = await Promise.all(Array.from({ length: 20 }, () => toWechat(noteB)));
    expect(storm.map((r) => [r.status, r.text])).toEqual(Array.from({ length: 20 }, () => [204, '']));

    for (const [{ order, me }, tx, eventId] of [
      [a, '4200000001202603010000000001', 'EV-PAY-A'],
      [b, '4200000001202603010000000002', 'EV-PAY-B'],
    ] as const) {
      expect(await outcomesOf('wechatpay', eventId)).toEqual(['applied']);
      const fx = await effectsOf(ctx.db, order.id);
      expect([fx.order.status, fx.order.provider_ref, fx.order.paid_at, fx.entries, fx.sum, fx.events]).toEqual(['paid', tx, '2026-03-01T12:00:00.000Z', 2, 0, ['membership_granted', 'order_paid']]);
      expect(fx.byAccount).toEqual({ customer_payments: 19_900, revenue: -19_900 });
      expect(fx.memberships.map((m) => [m.member_id, m.starts_at, m.expires_at, m.revoked_at])).toEqual([[me.id, '2026-03-01T12:00:00.000Z', '2027-03-01T12:00:00.000Z', null]]);
      // Paid: the member's order no longer shows a QR code to scan.
      const mine = expectOk(await me.client.get('/api/v1/member/orders')).orders as Order[];
      expect(mine.map((o) => [o.id, o.status, o.checkout_qr])).toEqual([[order.id, 'paid', null]]);
    }
    await expectLedgerClean();
  });

  it('WeChat Pay: a tampered, forged, stale or undecryptable notification is 401 {code: FAIL, message}, logged, and changes nothing', async () => {
    const { order } = await wechatOrder();
    const tx = '4200000001202603010000000003';
    const genuine = paidNote(order, tx, 'EV-PAY-C');
    const at = clock.now();
    const resource = wechatTransaction(order.id, order.amount_minor, { transaction_id: tx });
    const cases: [string, { body: string; headers: Record<string, string> }, string][] = [
      ['tampered body', { body: genuine.body.replace('"EV-PAY-C"', '"EV-PAY-D"'), headers: genuine.headers }, 'invalid_signature'],
      ['signed by a stranger', wechatNotification('TRANSACTION.SUCCESS', resource, { at, id: 'EV-PAY-C', signer: stranger.privateKey }), 'invalid_signature'],
      ['another serial', wechatNotification('TRANSACTION.SUCCESS', resource, { at, id: 'EV-PAY-C', serial: 'PUB_KEY_ID_0119000001092026010100000000000002' }), 'invalid_signature'],
      ['another APIv3 key', wechatNotification('TRANSACTION.SUCCESS', resource, { at, id: 'EV-PAY-C', key: 'f'.repeat(32) }), 'invalid_signature'],
      ['301 s old', wechatNotification('TRANSACTION.SUCCESS', resource, { at: new Date(at.getTime() - 301_000), id: 'EV-PAY-C' }), 'stale_signature'],
    ];
    const before = await rejectedIds('wechatpay');
    for (const [what, note] of cases) {
      const r = await toWechat(note);
      const body = JSON.parse(r.text) as Record<string, unknown>;
      expect([what, r.status, r.type, Object.keys(body).sort(), body.code, typeof body.message]).toEqual([what, 401, 'application/json; charset=utf-8', ['code', 'message'], 'FAIL', 'string']);
      expect((body.message as string).length).toBeGreaterThan(0);
    }
    // Nothing of the order is readable before the signature and decryption hold: logged without it.
    expect(await rejectedSince('wechatpay', before)).toEqual(cases.map(([, , code]) => [code, null]));
    let fx = await effectsOf(ctx.db, order.id);
    expect([fx.order.status, fx.entries, fx.events, fx.memberships.length]).toEqual(['pending', 0, [], 0]);
    expect(await outcomesOf('wechatpay', 'EV-PAY-C')).toEqual([]);

    // The refusals did not block the genuine notification.
    expect((await toWechat(genuine)).status).toBe(204);
    fx = await effectsOf(ctx.db, order.id);
    expect([fx.order.status, fx.sum, fx.events]).toEqual(['paid', 0, ['membership_granted', 'order_paid']]);
  });

  it('WeChat Pay refunds: out_refund_no is our refund id; PROCESSING stays pending until REFUND.SUCCESS or REFUND.ABNORMAL', async () => {
    const { shop, order } = await wechatOrder();
    const tx = '4200000001202603010000000004';
    expect((await toWechat(paidNote(order, tx, 'EV-PAY-R'))).status).toBe(204);
    const orderPath = `${shop.base}/orders/${order.id}`;
    const shown = async () => {
      const o = expectOk(await shop.staff.get(orderPath));
      return [o.status, o.refunded_minor, o.refund_pending_minor];
    };
    const wechatRefund = async (amount: number, key: string, refundRef: string) => {
      wechat.refundAnswer = wechatRefundAnswer('PROCESSING', { refundRef, refund: amount, total: 19_900 });
      const before = wechat.seen.length;
      const made = expectOk(await refund(shop, order.id, { amount_minor: amount, reason: '学员申请退款' }, key), 201);
      expect([made.status, made.amount_minor]).toEqual(['pending', amount]);
      expect(wechat.seen.slice(before).map((c) => [c.path, c.body])).toEqual([
        [
          '/v3/refund/domestic/refunds',
          {
            transaction_id: tx,
            out_refund_no: made.id,
            reason: '学员申请退款',
            // WeChat Pay reports refunds it finishes later to this endpoint, whatever the merchant platform says.
            notify_url: 'http://yutang.test/api/v1/webhooks/wechatpay',
            amount: { refund: amount, total: 19_900, currency: 'CNY' },
          },
        ],
      ]);
      return made.id as string;
    };
    const refundNote = (type: string, status: string, refundId: string, refundRef: string, amount: number, id: string) =>
      wechatNotification(type, wechatRefundResource(order.id, refundId, status, { transactionId: tx, refundRef, refund: amount, total: 19_900 }), { at: clock.now(), id });

    // A partial refund: pending, then confirmed; the membership stays.
    const r1 = await wechatRefund(4_000, 'r1', '50300000000000000000000000001');
    expect(await shown()).toEqual(['paid', 0, 4_000]);
    expect((await effectsOf(ctx.db, order.id)).entries).toBe(2);
    const ok1 = refundNote('REFUND.SUCCESS', 'SUCCESS', r1, '50300000000000000000000000001', 4_000, 'EV-RF-1');
    expect((await toWechat(ok1)).status).toBe(204);
    expect(await shown()).toEqual(['partially_refunded', 4_000, 0]);
    let fx = await effectsOf(ctx.db, order.id);
    expect([fx.entries, fx.byAccount, fx.memberships.map((m) => m.revoked_at)]).toEqual([4, { customer_payments: 15_900, revenue: -19_900, refunds: 4_000 }, [null]]);

    // The rest, then REFUND.ABNORMAL (the payer's card closed): failed, and the amount is free again.
    const r2 = await wechatRefund(15_900, 'r2', '50300000000000000000000000002');
    expect(await shown()).toEqual(['partially_refunded', 4_000, 15_900]);
    const over = await refund(shop, order.id, { amount_minor: 1, reason: 'too much' }, 'r-over');
    expect([over.status, over.body.code]).toEqual([409, 'refund_exceeds_remaining']);
    expect((await toWechat(refundNote('REFUND.ABNORMAL', 'ABNORMAL', r2, '50300000000000000000000000002', 15_900, 'EV-RF-2'))).status).toBe(204);
    expect(await shown()).toEqual(['partially_refunded', 4_000, 0]);
    expect((await refundsOf(order.id)).find((r) => r.id === r2)).toMatchObject({ status: 'failed', failure_reason: 'REFUND.ABNORMAL (ABNORMAL)' });
    expect((await effectsOf(ctx.db, order.id)).entries).toBe(4);

    // Asked again and confirmed: fully refunded, the membership ends now.
    clock.advance(60_000);
    const r3 = await wechatRefund(15_900, 'r3', '50300000000000000000000000003');
    const ok3 = refundNote('REFUND.SUCCESS', 'SUCCESS', r3, '50300000000000000000000000003', 15_900, 'EV-RF-3');
    expect((await toWechat(ok3)).status).toBe(204);
    // Redelivered: acknowledged, nothing more.
    expect((await toWechat(ok3)).status).toBe(204);
    expect(await shown()).toEqual(['refunded', 19_900, 0]);
    fx = await effectsOf(ctx.db, order.id);
    expect([fx.entries, fx.sum, fx.byAccount]).toEqual([6, 0, { customer_payments: 0, revenue: -19_900, refunds: 19_900 }]);
    expect(fx.memberships.map((m) => [m.revoked_at, m.revoke_reason])).toEqual([['2026-03-01T12:01:00.000Z', 'refunded']]);
    expect(fx.events).toEqual(['membership_granted', 'membership_revoked', 'order_paid', 'order_refunded', 'order_refunded']);
    expect((await refundsOf(order.id)).map((r) => [r.id, Number(r.amount_minor), r.status, r.provider_ref])).toEqual([
      [r1, 4_000, 'succeeded', '50300000000000000000000000001'],
      [r2, 15_900, 'failed', '50300000000000000000000000002'],
      [r3, 15_900, 'succeeded', '50300000000000000000000000003'],
    ]);
    expect(await Promise.all(['EV-RF-1', 'EV-RF-2', 'EV-RF-3'].map((id) => outcomesOf('wechatpay', id)))).toEqual([['applied'], ['applied'], ['applied']]);
    await expectLedgerClean();
    clock.set(new Date('2026-03-01T12:00:00.000Z'));
  });

  it('WeChat Pay refunds: a refusal fails the refund (502) and frees the amount; no answer leaves it pending until the stalled-refund job asks again with the same out_refund_no', async () => {
    const { shop, order } = await wechatOrder();
    expect((await toWechat(paidNote(order, '4200000001202603010000000005', 'EV-PAY-E'))).status).toBe(204);
    const refundCalls = () => wechat.seen.filter((c) => c.path === '/v3/refund/domestic/refunds');
    const before = refundCalls().length;

    wechat.refundAnswer = { status: 403, body: { code: 'NOT_ENOUGH', message: '基本账户余额不足' } };
    const refused = await refund(shop, order.id, { amount_minor: 19_900, reason: '退款' }, 'refused');
    expect([refused.status, refused.body.code]).toEqual([502, 'refund_failed']);

    wechat.refundAnswer = { status: 500, body: { code: 'SYSTEM_ERROR', message: '系统错误' } };
    const unanswered = expectOk(await refund(shop, order.id, { amount_minor: 19_900, reason: '退款' }, 'unanswered'), 201);
    expect(unanswered.status).toBe('pending');
    let fx = await effectsOf(ctx.db, order.id);
    expect([fx.order.status, Number(fx.order.refund_pending_minor), fx.entries]).toEqual(['paid', 19_900, 2]);

    wechat.refundAnswer = wechatRefundAnswer('SUCCESS', { refundRef: '50300000000000000000000000005', refund: 19_900, total: 19_900 });
    clock.advance(61_000);
    try {
      expect(await retryStalledRefunds(ctx.db.deps)).toBe(1);
    } finally {
      clock.set(new Date('2026-03-01T12:00:00.000Z'));
    }
    expect(refundCalls().slice(before).map((c) => c.body.out_refund_no)).toEqual([refused.body.refund_id, unanswered.id, unanswered.id]);
    expect((await refundsOf(order.id)).map((r) => [r.id, r.status, r.provider_ref])).toEqual([
      [refused.body.refund_id, 'failed', null],
      [unanswered.id, 'succeeded', '50300000000000000000000000005'],
    ]);
    fx = await effectsOf(ctx.db, order.id);
    expect([fx.order.status, Number(fx.order.refunded_minor), Number(fx.order.refund_pending_minor), fx.sum]).toEqual(['refunded', 19_900, 0, 0]);
    await expectLedgerClean();
  });

  // ── Alipay ──────────────────────────────────────────────────────────────────────────────────────

  /** A member's pending Alipay order for a ¥100 course. */
  async function alipayOrder() {
    const { shop, item, me } = await shopWith({ type: 'course', name: '21天深度阅读训练营', price_minor: 10_000 });
    const order = expectOk(await buy(me.client, item.id, `ali-${n}`, { provider: 'alipay' }), 201) as Order;
    return { shop, me, order };
  }
  /** A notification of the ¥100 trade, sent now (20:00 China time). */
  const tradeFields = (order: Order, tradeNo: string, overrides: Record<string, string> = {}) =>
    alipayPaidFields(order.id, {
      subject: '21天深度阅读训练营',
      total_amount: '100.00',
      receipt_amount: '100.00',
      invoice_amount: '100.00',
      buyer_pay_amount: '100.00',
      fund_bill_list: '[{"amount":"100.00","fundChannel":"ALIPAYACCOUNT"}]',
      gmt_create: '2026-03-01 19:58:01',
      gmt_payment: '2026-03-01 19:59:30',
      notify_time: '2026-03-01 20:00:00',
      trade_no: tradeNo,
      ...overrides,
    });

  async function paidAlipayOrder(tradeNo: string) {
    const o = await alipayOrder();
    const r = await toAlipay(alipayNotification(tradeFields(o.order, tradeNo, { notify_id: `n-pay-${tradeNo}` })));
    expect([r.status, r.text]).toEqual([200, 'success']);
    return o;
  }

  it('Alipay: the checkout is a page-pay URL of the gateway, signed with the app key', async () => {
    const { order } = await alipayOrder();
    expect([order.provider, order.checkout_qr]).toEqual(['alipay', null]);
    const url = new URL(order.checkout_url!);
    expect(url.origin + url.pathname).toBe(alipay.url);
    const params = Object.fromEntries(url.searchParams);
    expect(params).toMatchObject({
      app_id: ALIPAY_APP_ID,
      method: 'alipay.trade.page.pay',
      charset: 'utf-8',
      sign_type: 'RSA2',
      notify_url: 'http://yutang.test/api/v1/webhooks/alipay',
      return_url: 'http://yutang.test/pay/return',
    });
    expect(JSON.parse(params.biz_content!)).toEqual({
      out_trade_no: order.id,
      total_amount: '100.00',
      subject: '21天深度阅读训练营',
      product_code: 'FAST_INSTANT_TRADE_PAY',
      time_expire: '2026-03-01 20:30:00',
    });
    expect(createVerify('RSA-SHA256').update(alipayRequestContent(params)).verify(alipayKeys.app.publicKey, params.sign!, 'base64')).toBe(true);
    // The member's browser opens it: the gateway checks the signature too.
    const before = alipay.seen.length;
    expect((await fetch(url)).status).toBe(200);
    expect(alipay.seen.slice(before).map((s) => [s.method, s.biz.out_trade_no])).toEqual([['alipay.trade.page.pay', order.id]]);
  });

  it('Alipay: a signed TRADE_SUCCESS form is answered `success` and pays the order once; a tampered or forged one `fail` and changes nothing', async () => {
    const { order } = await alipayOrder();
    const tradeNo = '2026030122001400000000000001';
    const form = alipayNotification(tradeFields(order, tradeNo, { notify_id: 'n-pay-1' }));
    const before = await rejectedIds('alipay');
    const refused = [
      await toAlipay(form.replace('total_amount=100.00', 'total_amount=0.01')),
      await toAlipay(alipayNotification(tradeFields(order, tradeNo, { notify_id: 'n-pay-1' }), { signer: stranger.privateKey })),
      await toAlipay(alipayNotification(tradeFields(order, tradeNo, { notify_id: 'n-pay-1' }), { signType: 'RSA', algorithm: 'RSA-SHA1' })),
    ];
    expect(refused.map((r) => [r.status, r.type, r.text])).toEqual(Array.from({ length: 3 }, () => [401, 'text/plain; charset=utf-8', 'fail']));
    expect(await rejectedSince('alipay', before)).toEqual(Array.from({ length: 3 }, () => ['invalid_signature', null]));
    let fx = await effectsOf(ctx.db, order.id);
    expect([fx.order.status, fx.entries, fx.events]).toEqual(['pending', 0, []]);

    const replies = [];
    for (let i = 0; i < 3; i++) replies.push(await toAlipay(form));
    replies.push(...(await Promise.all(Array.from({ length: 10 }, () => toAlipay(form)))));
    expect(replies.map((r) => [r.status, r.type, r.text])).toEqual(Array.from({ length: 13 }, () => [200, 'text/plain; charset=utf-8', 'success']));
    expect(await outcomesOf('alipay', 'n-pay-1')).toEqual(['applied']);
    fx = await effectsOf(ctx.db, order.id);
    expect([fx.order.status, fx.order.provider_ref, fx.entries, fx.sum, fx.events]).toEqual(['paid', tradeNo, 2, 0, ['order_paid']]);
    expect(fx.byAccount).toEqual({ customer_payments: 10_000, revenue: -10_000 });
    await expectLedgerClean();
  });

  it('Alipay refunds: alipay.trade.refund with out_request_no; refund_fee is the running total, so a console refund is recorded with the difference only', async () => {
    const tradeNo = '2026030122001400000000000002';
    const { shop, order } = await paidAlipayOrder(tradeNo);
    const alipayRefund = async (amount: number, key: string, totalSoFar: string) => {
      alipay.refundAnswer = alipayRefundSuccess('Y', { refundFee: totalSoFar, tradeNo });
      const before = alipay.seen.length;
      const made = expectOk(await refund(shop, order.id, { amount_minor: amount, reason: '课程调整' }, key), 201);
      expect([made.status, made.amount_minor]).toEqual(['succeeded', amount]);
      expect(alipay.seen.slice(before).map((s) => [s.method, s.biz])).toEqual([
        ['alipay.trade.refund', { trade_no: tradeNo, out_trade_no: order.id, refund_amount: (amount / 100).toFixed(2), out_request_no: made.id, refund_reason: '课程调整' }],
      ]);
      return made.id as string;
    };
    const refundForm = (notifyId: string, refundFee: string, outBizNo?: string) =>
      alipayNotification(tradeFields(order, tradeNo, { notify_id: notifyId, refund_fee: refundFee, gmt_refund: '2026-03-01 20:00:00.120', ...(outBizNo ? { out_biz_no: outBizNo } : {}) }));
    const deliver = async (form: string) => {
      const r = await toAlipay(form);
      expect([r.status, r.text]).toEqual([200, 'success']);
    };

    // Two partial refunds through Yutang, each confirmed by a notification carrying the total so far.
    const r1 = await alipayRefund(3_000, 'r1', '30.00');
    await deliver(refundForm('n-rf-1', '30.00', r1));
    const r2 = await alipayRefund(2_000, 'r2', '50.00');
    await deliver(refundForm('n-rf-2', '50.00', r2));
    expect([await outcomesOf('alipay', 'n-rf-1'), await outcomesOf('alipay', 'n-rf-2')]).toEqual([['already_applied'], ['already_applied']]);

    // ¥15 refunded in Alipay's console: the notification says 65.00 in all and names no refund of ours.
    const inConsole = refundForm('n-rf-console', '65.00');
    await deliver(inConsole);
    await deliver(inConsole);
    // The same total under another notification id (a refund of ours confirmed again, say) adds nothing.
    await deliver(refundForm('n-rf-again', '65.00'));
    // The trade's final notice repeats the payment (and the refunded total): nothing to do.
    await deliver(alipayNotification(tradeFields(order, tradeNo, { notify_id: 'n-finished', trade_status: 'TRADE_FINISHED', refund_fee: '65.00', gmt_close: '2026-03-01 20:00:00' })));
    expect([await outcomesOf('alipay', 'n-rf-console'), await outcomesOf('alipay', 'n-rf-again'), await outcomesOf('alipay', 'n-finished')]).toEqual([['applied'], ['already_applied'], ['already_paid']]);

    const rows = await refundsOf(order.id);
    expect(rows.map((r) => [r.id === r1 ? 'r1' : r.id === r2 ? 'r2' : 'console', Number(r.amount_minor), r.status, r.provider_ref])).toEqual([
      ['r1', 3_000, 'succeeded', `${tradeNo}:${r1}`],
      ['r2', 2_000, 'succeeded', `${tradeNo}:${r2}`],
      ['console', 1_500, 'succeeded', `${tradeNo}:n-rf-console`],
    ]);
    const fx = await effectsOf(ctx.db, order.id);
    expect([fx.order.status, Number(fx.order.refunded_minor), Number(fx.order.refund_pending_minor), fx.entries, fx.sum]).toEqual(['partially_refunded', 6_500, 0, 8, 0]);
    expect(fx.byAccount).toEqual({ customer_payments: 3_500, revenue: -10_000, refunds: 6_500 });
    await expectLedgerClean();
  });

  // ── Both ────────────────────────────────────────────────────────────────────────────────────────

  it('refuses a product priced in another currency than CNY for either provider, creating nothing and asking neither', async () => {
    const { shop, item, me } = await shopWith({ type: 'course', name: 'Writing class', price_minor: 2_500, currency: 'USD' });
    const asked = [wechat.seen.length, alipay.seen.length];
    for (const provider of ['wechatpay', 'alipay', undefined]) {
      const r = await buy(me.client, item.id, `usd-${provider}`, provider ? { provider } : {});
      expect([provider, r.status, r.body.code, r.body.currencies]).toEqual([provider, 409, 'currency_not_supported', ['CNY']]);
    }
    expect(await ctx.db.handle.db.selectFrom('orders').select('id').where('member_id', '=', me.id).execute()).toEqual([]);
    const events = await ctx.db.handle.db.selectFrom('events').select('type').where('community_id', '=', shop.communityId).where('type', 'like', 'order_%').execute();
    expect(events).toEqual([]);
    expect([wechat.seen.length, alipay.seen.length]).toEqual(asked);
  });
});
