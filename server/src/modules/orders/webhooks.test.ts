import { json } from '../../db/codecs.js';
import seedrandom from 'seedrandom';
import { expect, it } from 'vitest';
import { fixedClock } from '../../lib/clock.js';
import { describeEachDialect, expectOk, useServer } from '../../test/harness.js';
import { checkLedger } from './ledger.check.js';
import { addMember, addProduct, buy, deliver, effectsOf, openShop, paidEvent, pool } from '../../test/money.js';

const DAY = 86_400_000;

describeEachDialect('webhooks: signed, idempotent, in any order', (dialect) => {
  // A still clock, so that the edges of the 300 s window can be tested to the second.
  const clock = fixedClock(new Date('2026-11-23T12:00:00.000Z'));
  const ctx = useServer(dialect, { clock });

  async function pendingOrder(price = 9_900) {
    const shop = await openShop(ctx.server);
    const course = await addProduct(shop, { type: 'course', name: '课程', price_minor: price });
    const me = await addMember(ctx.server, shop, '小明');
    const order = expectOk(await buy(me.client, course.id, 'k'), 201) as { id: string; amount_minor: number; currency: string };
    return { shop, me, order };
  }

  const loggedFor = (orderId: string) =>
    ctx.db.handle.db.selectFrom('payment_events').select(['event_id', 'outcome', 'type']).where('order_id', '=', orderId).orderBy('received_at').orderBy('id').execute();

  it('accepts only a good signature within 300 s; rejected deliveries are logged and change nothing', async () => {
    const { order } = await pendingOrder();
    const event = paidEvent('evt_sig', order);
    const now = Math.floor(clock.now().getTime() / 1000);
    const cases: [string, Parameters<typeof deliver>[3], number, string][] = [
      ['wrong secret', { secret: 'not-the-install-secret' }, 401, 'invalid_signature'],
      ['tampered body', { raw: JSON.stringify({ ...event, data: { ...event.data, amount_minor: 1 } }) }, 401, 'invalid_signature'],
      ['no header', { header: null }, 401, 'invalid_signature'],
      ['garbage header', { header: 't=abc,v1=xyz' }, 401, 'invalid_signature'],
      ['301 s old', { unix: now - 301 }, 401, 'stale_signature'],
      ['301 s ahead', { unix: now + 301 }, 401, 'stale_signature'],
    ];
    for (const [what, opts, status, code] of cases) {
      const r = await deliver(ctx.server, ctx.db, event, opts);
      expect([what, r.status, r.body.code], what).toEqual([what, status, code]);
    }
    const unknown = await deliver(ctx.server, ctx.db, { ...event, id: 'evt_unknown', type: 'payment.teleported' });
    expect([unknown.status, unknown.body.code]).toEqual([400, 'unknown_event_type']);
    const mismatch = await deliver(ctx.server, ctx.db, { ...event, id: 'evt_cheap', data: { ...event.data, amount_minor: 100 } });
    expect([mismatch.status, mismatch.body.code]).toEqual([400, 'amount_mismatch']);

    let fx = await effectsOf(ctx.db, order.id);
    expect([fx.order.status, fx.entries, fx.events]).toEqual(['pending', 0, []]);
    const logged = await loggedFor(order.id);
    expect(logged.map((l) => [l.event_id, l.outcome])).toEqual([
      [null, 'invalid_signature'],
      [null, 'invalid_signature'],
      [null, 'invalid_signature'],
      [null, 'invalid_signature'],
      [null, 'stale_signature'],
      [null, 'stale_signature'],
      [null, 'unknown_event_type'],
      [null, 'amount_mismatch'],
    ]);

    // At the edge of the window, and the refused deliveries did not block the genuine event.
    const ok = await deliver(ctx.server, ctx.db, event, { unix: now - 300 });
    expect([ok.status, ok.body]).toEqual([200, { received: true, outcome: 'applied' }]);
    fx = await effectsOf(ctx.db, order.id);
    expect([fx.order.status, fx.order.provider_ref, fx.sum, fx.events]).toEqual(['paid', 'tpay_evt_sig', 0, ['order_paid']]);
  });

  it('applies the same event once whether delivered 5 times in a row or 50 times at once', async () => {
    const a = await pendingOrder();
    const sequential = [];
    for (let i = 0; i < 5; i++) sequential.push(await deliver(ctx.server, ctx.db, paidEvent('evt_seq', a.order)));
    expect(sequential.map((r) => [r.status, r.body.outcome])).toEqual([[200, 'applied'], ...Array.from({ length: 4 }, () => [200, 'duplicate'])]);

    const b = await pendingOrder();
    const storm = await Promise.all(Array.from({ length: 50 }, () => deliver(ctx.server, ctx.db, paidEvent('evt_storm', b.order))));
    expect(storm.every((r) => r.status === 200)).toBe(true);
    expect(storm.filter((r) => r.body.outcome === 'applied').length).toBe(1);
    expect(storm.filter((r) => r.body.outcome === 'duplicate').length).toBe(49);

    for (const { order } of [a, b]) {
      const fx = await effectsOf(ctx.db, order.id);
      expect([fx.order.status, fx.entries, fx.sum, fx.events]).toEqual(['paid', 2, 0, ['order_paid']]);
      expect((await loggedFor(order.id)).filter((l) => l.event_id !== null).length).toBe(1);
    }
    // A second, different event paying the same order changes nothing either.
    const other = await deliver(ctx.server, ctx.db, paidEvent('evt_other', b.order, 'tpay_evt_storm'));
    expect(other.body.outcome).toBe('already_paid');
    expect((await effectsOf(ctx.db, b.order.id)).entries).toBe(2);
  });

  it('applies 100 distinct events exactly once across 500 shuffled, concurrent deliveries with duplicates', async () => {
    const shop = await openShop(ctx.server);
    const plan = await addProduct(shop, { type: 'membership', name: '月卡', price_minor: 3_000, term: 'days', term_days: 30 });
    const members = await Promise.all(Array.from({ length: 10 }, (_, i) => addMember(ctx.server, shop, `会员${i}`)));
    const orders: { id: string; amount_minor: number; currency: string; member_id: string }[] = [];
    for (const [i, m] of members.entries()) {
      for (let j = 0; j < 10; j++) orders.push(expectOk(await buy(m.client, plan.id, `order-${i}-${j}`, { allowDuplicate: true }), 201));
    }
    const rng = seedrandom(`storm-${dialect}`);
    const deliveries = orders.map((_, i) => i);
    while (deliveries.length < 500) deliveries.push(Math.floor(rng() * orders.length));
    for (let i = deliveries.length - 1; i > 0; i--) {
      const j = Math.floor(rng() * (i + 1));
      [deliveries[i], deliveries[j]] = [deliveries[j]!, deliveries[i]!];
    }
    const results = await pool(deliveries.map((i) => () => deliver(ctx.server, ctx.db, paidEvent(`evt_${i}`, orders[i]!))), 25);
    expect(results.filter((r) => r.status !== 200)).toEqual([]);
    expect(results.filter((r) => r.body.outcome === 'applied').length).toBe(100);
    expect(results.filter((r) => r.body.outcome === 'duplicate').length).toBe(400);

    const k = ctx.db.handle.db;
    const rows = await k.selectFrom('orders').select(['status']).where('community_id', '=', shop.communityId).execute();
    expect(rows.filter((o) => o.status === 'paid').length).toBe(100);
    const paidEvents = await k.selectFrom('events').select('id').where('community_id', '=', shop.communityId).where('type', '=', 'order_paid').execute();
    expect(paidEvents.length).toBe(100);
    const entries = await k.selectFrom('ledger_entries').select('amount_minor').where('community_id', '=', shop.communityId).execute();
    expect(entries.length).toBe(200);
    // Each member's ten paid months form one unbroken chain: expiry = first start + 10 × 30 days.
    for (const m of members) {
      const spans = await k.selectFrom('memberships').selectAll().where('member_id', '=', m.id).orderBy('starts_at').execute();
      expect(spans.length).toBe(10);
      for (let i = 1; i < spans.length; i++) expect(spans[i]!.starts_at).toBe(spans[i - 1]!.expires_at);
      expect(Date.parse(spans.at(-1)!.expires_at!) - Date.parse(spans[0]!.starts_at)).toBe(10 * 30 * DAY);
    }
    expect((await checkLedger(k)).violations).toEqual([]);
  });

  it('asks for a refund that arrives before its payment to be redelivered, then ends refunded', async () => {
    const { order } = await pendingOrder(5_000);
    const refundEvent = { id: 'evt_refund', type: 'refund.succeeded', created: 1, data: { order_id: order.id, refund_ref: 'tref_1', amount_minor: 5_000, currency: 'CNY' } };
    const early = await deliver(ctx.server, ctx.db, refundEvent);
    expect([early.status, early.body.code]).toEqual([409, 'order_not_paid']);
    expect((await effectsOf(ctx.db, order.id)).order.status).toBe('pending');

    expect((await deliver(ctx.server, ctx.db, paidEvent('evt_paid', order))).body.outcome).toBe('applied');
    const again = await deliver(ctx.server, ctx.db, refundEvent);
    expect([again.status, again.body.outcome]).toEqual([200, 'applied']);
    expect((await deliver(ctx.server, ctx.db, refundEvent)).body.outcome).toBe('duplicate');
    // The same refund under another event id is recognised by its refund reference.
    expect((await deliver(ctx.server, ctx.db, { ...refundEvent, id: 'evt_refund_2' })).body.outcome).toBe('already_applied');

    const fx = await effectsOf(ctx.db, order.id);
    expect([fx.order.status, Number(fx.order.refunded_minor), fx.sum]).toEqual(['refunded', 5_000, 0]);
    expect(fx.byAccount).toEqual({ customer_payments: 0, revenue: -5_000, refunds: 5_000 });
    expect(fx.events).toEqual(['order_paid', 'order_refunded']);
    expect((await loggedFor(order.id)).map((l) => [l.event_id, l.outcome])).toEqual([
      [null, 'order_not_paid'],
      ['evt_paid', 'applied'],
      ['evt_refund', 'applied'],
      ['evt_refund_2', 'already_applied'],
    ]);
  });

  it('lets a late payment.succeeded pay an order whose checkout failed; payment.failed never unpays', async () => {
    const { order } = await pendingOrder(2_000);
    expect((await deliver(ctx.server, ctx.db, { id: 'evt_fail', type: 'payment.failed', created: 1, data: { order_id: order.id } })).body.outcome).toBe('applied');
    expect((await effectsOf(ctx.db, order.id)).order.status).toBe('cancelled');
    expect((await deliver(ctx.server, ctx.db, paidEvent('evt_late', order))).body.outcome).toBe('applied');
    expect((await deliver(ctx.server, ctx.db, { id: 'evt_fail_2', type: 'payment.failed', created: 1, data: { order_id: order.id } })).body.outcome).toBe('ignored');
    const fx = await effectsOf(ctx.db, order.id);
    expect([fx.order.status, fx.entries, fx.sum]).toEqual(['paid', 2, 0]);
  });

  it('flags a second payment of the same order for staff: it grants nothing and the ledger keeps one payment', async () => {
    const { order } = await pendingOrder(3_000);
    expect((await deliver(ctx.server, ctx.db, paidEvent('evt_first', order, 'tpay_first'))).body.outcome).toBe('applied');
    // The same payment again is no news; another payment of the same order is.
    expect((await deliver(ctx.server, ctx.db, paidEvent('evt_first_again', order, 'tpay_first'))).body.outcome).toBe('already_paid');
    expect((await deliver(ctx.server, ctx.db, paidEvent('evt_second', order, 'tpay_second'))).body.outcome).toBe('duplicate_payment');
    const fx = await effectsOf(ctx.db, order.id);
    expect([fx.order.status, fx.order.provider_ref, fx.entries, fx.sum]).toEqual(['paid', 'tpay_first', 2, 0]);
    const flagged = await ctx.db.handle.db.selectFrom('events').select(['props']).where('type', '=', 'duplicate_payment_detected').execute();
    expect(flagged.map((e) => json<Record<string, unknown>>(e.props)).filter((p) => p.order_id === order.id)).toEqual([
      expect.objectContaining({ provider_ref: 'tpay_second', amount_minor: 3_000, same_order: true }),
    ]);
  });

  it('books the fee a provider reports: taken from the money received, once, and the ledger still balances', async () => {
    const { order } = await pendingOrder(10_000);
    const paid = { ...paidEvent('evt_fee', order, 'tpay_fee'), data: { ...paidEvent('evt_fee', order, 'tpay_fee').data, fee_minor: 60 } };
    for (let i = 0; i < 3; i++) expect((await deliver(ctx.server, ctx.db, paid)).status).toBe(200);
    // The same payment reported again by another event adds no second fee.
    expect((await deliver(ctx.server, ctx.db, { ...paid, id: 'evt_fee_again' })).body.outcome).toBe('already_paid');
    const fx = await effectsOf(ctx.db, order.id);
    expect([fx.order.status, fx.sum, fx.byAccount]).toEqual(['paid', 0, { customer_payments: 9_940, revenue: -10_000, provider_fees: 60 }]);
    const report = await checkLedger(ctx.db.handle.db);
    expect(report.violations).toEqual([]);
    expect(report.totals.CNY?.fees_minor).toBeGreaterThanOrEqual(60);
  });
});
