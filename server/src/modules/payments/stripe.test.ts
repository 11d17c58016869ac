import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { PaymentsConfig } from '../../config.js';
import { fixedClock } from '../../lib/clock.js';
import { deliverToStripeEndpoint, startFakeStripe, stripeEvent, type FakeStripe } from '../../test/fake-stripe.js';
import { describeEachDialect, expectOk, useServer } from '../../test/harness.js';
import { addMember, addProduct, buy, effectsOf, openShop, refund } from '../../test/money.js';

type Order = { id: string; amount_minor: number; currency: string; checkout_url: string | null; checkout_qr: string | null; provider: string };

describeEachDialect('Stripe: Checkout Sessions, signed webhooks, refunds through the real client', (dialect) => {
  const clock = fixedClock(new Date('2026-11-23T12:00:00.000Z'));
  const unixNow = () => Math.floor(clock.now().getTime() / 1000);
  const webhookSecret = `whsec_${randomBytes(24).toString('base64')}`;
  let fake: FakeStripe;
  beforeAll(async () => {
    fake = await startFakeStripe();
  });
  afterAll(() => fake?.close());
  const ctx = useServer(dialect, {
    clock,
    payments: (): PaymentsConfig => ({ default: 'stripe', test: { refunds: 'instant' }, stripe: { secretKey: 'sk_test_fake', webhookSecret, apiBase: fake.url }, wechatpay: null, alipay: null }),
  });

  const callsTo = (path: string) => fake.callsTo('POST', path);

  async function pendingOrder(price = 9_900) {
    const shop = await openShop(ctx.server);
    const course = await addProduct(shop, { type: 'course', name: '写作课', price_minor: price });
    const me = await addMember(ctx.server, shop, '小明');
    const order = expectOk(await buy(me.client, course.id, `k-${randomBytes(4).toString('hex')}`), 201) as Order;
    return { shop, me, course, order };
  }

  /** A Checkout Session event as Stripe sends it, for an order of ours. */
  const sessionEvent = (id: string, type: string, order: Order, session: Record<string, unknown> = {}) =>
    stripeEvent(
      id,
      type,
      {
        id: `cs_for_${order.id}`,
        object: 'checkout.session',
        client_reference_id: order.id,
        metadata: { order_id: order.id },
        payment_intent: `pi_for_${order.id}`,
        amount_total: order.amount_minor,
        currency: order.currency.toLowerCase(),
        payment_status: 'paid',
        customer: null,
        ...session,
      },
      unixNow(),
    );

  /** Delivers an event to the Stripe endpoint, signed as Stripe signs it unless told otherwise. */
  const deliver = (event: unknown, opts: { secret?: string; timestamp?: number; header?: string | null; raw?: string } = {}) =>
    deliverToStripeEndpoint(ctx.server.url, event, { ...opts, secret: opts.secret ?? webhookSecret, timestamp: opts.timestamp ?? unixNow() });

  const loggedFor = (orderId: string) =>
    ctx.db.handle.db.selectFrom('payment_events').select(['event_id', 'outcome']).where('order_id', '=', orderId).orderBy('received_at').orderBy('id').execute();

  it('buys through a Checkout Session: one line item at the server price, the order in the metadata, a key per order; a retry asks nothing again', async () => {
    const before = callsTo('/v1/checkout/sessions').length;
    const { me, course, order } = await pendingOrder(9_900);
    const sessions = callsTo('/v1/checkout/sessions').slice(before);
    expect(sessions.length).toBe(1);
    const call = sessions[0]!;
    expect(call.idempotencyKey).toBe(`checkout_${order.id}`);
    expect(call.form).toMatchObject({
      mode: 'payment',
      'line_items[0][quantity]': '1',
      'line_items[0][price_data][currency]': 'cny',
      'line_items[0][price_data][unit_amount]': '9900',
      'line_items[0][price_data][product_data][name]': '写作课',
      client_reference_id: order.id,
      'metadata[order_id]': order.id,
      'payment_intent_data[metadata][order_id]': order.id,
      success_url: 'http://yutang.test/pay/return?checkout=success',
      cancel_url: 'http://yutang.test/pay/return?checkout=cancelled',
      // The order times out 30 minutes after it was made; Stripe wants at least 30 minutes from now, so 31.
      expires_at: String(unixNow() + 31 * 60),
    });
    // A course does not renew: the card is not saved for later.
    expect(Object.keys(call.form).filter((k) => /customer_creation|setup_future_usage|save_for_renewal/.test(k))).toEqual([]);
    expect([order.provider, order.checkout_qr]).toEqual(['stripe', null]);
    expect(order.checkout_url).toMatch(/^https:\/\/checkout\.stripe\.test\/c\/pay\/cs_test_\d+$/);
    const row = (await effectsOf(ctx.db, order.id)).order;
    expect([row.checkout_kind, row.checkout_ref, row.provider_ref]).toEqual(['redirect', order.checkout_url!.split('/').pop(), null]);

    const key = (await ctx.db.handle.db.selectFrom('orders').select('idempotency_key').where('id', '=', order.id).executeTakeFirstOrThrow()).idempotency_key;
    const again = expectOk(await buy(me.client, course.id, key), 200) as Order;
    expect([again.id, again.checkout_url]).toEqual([order.id, order.checkout_url]);
    expect(callsTo('/v1/checkout/sessions').length).toBe(before + 1);
  });

  it('pays the order once for checkout.session.completed, whether delivered 5 times in a row or 20 times at once', async () => {
    const a = await pendingOrder();
    const sequential = [];
    for (let i = 0; i < 5; i++) sequential.push(await deliver(sessionEvent('evt_seq', 'checkout.session.completed', a.order)));
    expect(sequential.map((r) => [r.status, r.body.outcome])).toEqual([[200, 'applied'], ...Array.from({ length: 4 }, () => [200, 'duplicate'])]);

    const b = await pendingOrder();
    const storm = await Promise.all(Array.from({ length: 20 }, () => deliver(sessionEvent('evt_storm', 'checkout.session.completed', b.order))));
    expect(storm.map((r) => r.status)).toEqual(Array.from({ length: 20 }, () => 200));
    expect(storm.filter((r) => r.body.outcome === 'applied').length).toBe(1);
    expect(storm.filter((r) => r.body.outcome === 'duplicate').length).toBe(19);

    for (const { order } of [a, b]) {
      const fx = await effectsOf(ctx.db, order.id);
      expect([fx.order.status, fx.order.provider_ref, fx.entries, fx.sum, fx.events]).toEqual(['paid', `pi_for_${order.id}`, 2, 0, ['order_paid']]);
      expect(fx.byAccount).toEqual({ customer_payments: order.amount_minor, revenue: -order.amount_minor });
    }
    const mine = expectOk(await a.me.client.get('/api/v1/member/orders')).orders as Order[];
    expect(mine.map((o) => [o.id, o.checkout_url])).toEqual([[a.order.id, null]]);
  });

  it('refuses a bad signature or a stale timestamp, logs it and changes nothing; acknowledges what it does not act on', async () => {
    const { order } = await pendingOrder();
    const event = sessionEvent('evt_sig', 'checkout.session.completed', order);
    const now = unixNow();
    const tampered = JSON.stringify({ ...event, data: { object: { ...event.data.object, amount_total: 1 } } });
    const cases: [string, Parameters<typeof deliver>[1], number, string][] = [
      ['another secret', { secret: `whsec_${randomBytes(24).toString('base64')}` }, 401, 'invalid_signature'],
      ['tampered body', { raw: tampered }, 401, 'invalid_signature'],
      ['no header', { header: null }, 401, 'invalid_signature'],
      ['garbage header', { header: 't=abc,v1=xyz' }, 401, 'invalid_signature'],
      ['301 s old', { timestamp: now - 301 }, 401, 'stale_signature'],
    ];
    for (const [what, opts, status, code] of cases) {
      const r = await deliver(event, opts);
      expect([what, r.status, r.body.code]).toEqual([what, status, code]);
    }
    const unknown = await deliver({ ...event, id: 'evt_customer', type: 'customer.created' });
    expect([unknown.status, unknown.body.code]).toEqual([400, 'unknown_event_type']);
    // A session completed by a delayed payment method is not paid yet: acknowledged, nothing done.
    const unpaid = await deliver(sessionEvent('evt_unpaid', 'checkout.session.completed', order, { payment_status: 'unpaid' }));
    expect([unpaid.status, unpaid.body.outcome]).toEqual([200, 'ignored']);

    let fx = await effectsOf(ctx.db, order.id);
    expect([fx.order.status, fx.entries, fx.events]).toEqual(['pending', 0, []]);
    expect((await loggedFor(order.id)).map((l) => [l.event_id, l.outcome])).toEqual([
      [null, 'invalid_signature'],
      [null, 'invalid_signature'],
      [null, 'invalid_signature'],
      [null, 'invalid_signature'],
      [null, 'stale_signature'],
      [null, 'unknown_event_type'],
      ['evt_unpaid', 'ignored'],
    ]);

    // At the edge of Stripe's window, and the refused deliveries did not block the genuine event.
    const ok = await deliver(event, { timestamp: now - 300 });
    expect([ok.status, ok.body]).toEqual([200, { received: true, outcome: 'applied' }]);
    fx = await effectsOf(ctx.db, order.id);
    expect([fx.order.status, fx.sum, fx.events]).toEqual(['paid', 0, ['order_paid']]);
  });

  it('cancels the order when an asynchronous payment fails or the session expires', async () => {
    for (const type of ['checkout.session.async_payment_failed', 'checkout.session.expired']) {
      const { order } = await pendingOrder();
      const r = await deliver(sessionEvent(`evt_${type}`, type, order, { payment_status: 'unpaid', payment_intent: null }));
      expect([type, r.status, r.body.outcome]).toEqual([type, 200, 'applied']);
      const fx = await effectsOf(ctx.db, order.id);
      expect([fx.order.status, fx.order.cancel_reason, fx.entries]).toEqual(['cancelled', 'payment_failed', 0]);
      const events = await ctx.db.handle.db.selectFrom('events').select('type').where('member_id', '=', fx.order.member_id).where('type', 'like', 'order_%').execute();
      expect(events.map((e) => e.type).sort()).toEqual(['order_created', 'order_payment_failed']);
    }
  });

  it('refunds through Stripe with the order’s payment, the amount and an idempotency key; a refusal changes nothing', async () => {
    const { shop, order } = await pendingOrder(10_000);
    expect((await deliver(sessionEvent('evt_paid_refund', 'checkout.session.completed', order))).body.outcome).toBe('applied');

    const before = callsTo('/v1/refunds').length;
    const made = expectOk(await refund(shop, order.id, { amount_minor: 4_000, reason: '课程取消' }, 'r1'), 201);
    const calls = callsTo('/v1/refunds').slice(before);
    expect(calls.map((c) => [c.idempotencyKey, c.form])).toEqual([
      [`${order.id}:r1`, { payment_intent: `pi_for_${order.id}`, amount: '4000', 'metadata[order_id]': order.id, 'metadata[refund_id]': made.id }],
    ]);
    // A retry of the request answers with the first refund and asks Stripe nothing.
    expect(expectOk(await refund(shop, order.id, { amount_minor: 4_000, reason: '课程取消' }, 'r1'), 200).id).toBe(made.id);
    expect(callsTo('/v1/refunds').length).toBe(before + 1);

    // Stripe's own word on that refund is recognised by its reference.
    const refundRow = await ctx.db.handle.db.selectFrom('refunds').selectAll().where('id', '=', made.id).executeTakeFirstOrThrow();
    const refundEvent = {
      id: 'evt_refund_updated',
      object: 'event',
      type: 'refund.updated',
      created: unixNow(),
      data: { object: { id: refundRow.provider_ref, object: 'refund', status: 'succeeded', amount: 4_000, currency: 'cny', payment_intent: `pi_for_${order.id}`, metadata: { order_id: order.id, refund_id: made.id } } },
    };
    expect((await deliver(refundEvent)).body.outcome).toBe('already_applied');

    fake.state.refundStatus = 'failed';
    try {
      const refused = await refund(shop, order.id, { amount_minor: 1_000, reason: 'second try' }, 'r2');
      expect([refused.status, refused.body.code]).toEqual([502, 'refund_failed']);
    } finally {
      fake.state.refundStatus = 'succeeded';
    }
    const fx = await effectsOf(ctx.db, order.id);
    expect([fx.order.status, Number(fx.order.refunded_minor), fx.sum]).toEqual(['partially_refunded', 4_000, 0]);
    expect(fx.byAccount).toEqual({ customer_payments: 6_000, revenue: -10_000, refunds: 4_000 });
  });

  it('keeps the order pending without a checkout when Stripe fails; a retry with the same key starts it for the same order', async () => {
    const shop = await openShop(ctx.server);
    const course = await addProduct(shop, { type: 'course', name: '阅读课', price_minor: 5_000 });
    const me = await addMember(ctx.server, shop, '小红');
    const before = callsTo('/v1/checkout/sessions').length;
    fake.state.failCheckouts = 1;
    const failed = await buy(me.client, course.id, 'flaky');
    expect([failed.status, failed.body.code]).toEqual([502, 'provider_unavailable']);
    const rows = await ctx.db.handle.db.selectFrom('orders').selectAll().where('member_id', '=', me.id).execute();
    expect(rows.map((o) => [o.status, o.checkout_kind, o.checkout_url])).toEqual([['pending', null, null]]);

    const retried = expectOk(await buy(me.client, course.id, 'flaky'), 200) as Order;
    expect(retried.id).toBe(rows[0]!.id);
    expect(retried.checkout_url).toMatch(/^https:\/\/checkout\.stripe\.test\//);
    expect(callsTo('/v1/checkout/sessions').slice(before).map((c) => c.idempotencyKey)).toEqual([`checkout_${retried.id}`, `checkout_${retried.id}`]);
  });

  it('refuses a currency Stripe does not take and a provider that is not enabled, creating nothing', async () => {
    const shop = await openShop(ctx.server);
    const me = await addMember(ctx.server, shop, '小李');
    const odd = await addProduct(shop, { type: 'course', name: 'Test currency', price_minor: 100, currency: 'XTS' });
    const course = await addProduct(shop, { type: 'course', name: '写作课', price_minor: 100 });
    const before = fake.calls.length;

    const currency = await buy(me.client, odd.id, 'xts');
    expect([currency.status, currency.body.code]).toEqual([409, 'currency_not_supported']);
    const order = (provider: string, key: string) => me.client.request('POST', '/api/v1/member/orders', { product_id: course.id, provider }, { 'idempotency-key': key });
    const unknown = await order('paypal', 'paypal');
    expect([unknown.status, unknown.body.code, unknown.body.errors.map((e: { field: string }) => e.field)]).toEqual([400, 'validation_failed', ['provider']]);
    for (const name of ['wechatpay', 'alipay', 'test']) {
      const r = await order(name, name);
      expect([name, r.status, r.body.code]).toEqual([name, 400, 'provider_not_enabled']);
    }
    expect(await ctx.db.handle.db.selectFrom('orders').select('id').where('member_id', '=', me.id).execute()).toEqual([]);
    expect(fake.calls.length).toBe(before);

    // Naming the default explicitly is fine; the endpoints of providers that are not configured do not exist.
    expect((expectOk(await order('stripe', 'explicit'), 201) as Order).provider).toBe('stripe');
    const alipay = await fetch(`${ctx.server.url}/api/v1/webhooks/alipay`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'trade_status=TRADE_SUCCESS' });
    expect([alipay.status, ((await alipay.json()) as { code: string }).code]).toEqual([404, 'route_not_found']);
  });
});
