import { expect, it } from 'vitest';
import { fixedClock } from '../../lib/clock.js';
import { describeEachDialect, expectOk, useServer } from '../../test/harness.js';
import { checkLedger } from './ledger.check.js';
import { expireUnpaidOrders } from './orders.service.js';
import { addMember, addProduct, buy, buyAndPay, clickPay, deliver, effectsOf, openShop, paidEvent, refund } from '../../test/money.js';

describeEachDialect('duplicate purchases: warned before paying, flagged when paid anyway', (dialect) => {
  const clock = fixedClock(new Date('2026-04-01T08:00:00.000Z'));
  const ctx = useServer(dialect, { clock });
  const THIRTY_ONE_MINUTES = 31 * 60_000;

  it('answers 409 duplicate_purchase for a pending order of the same product or a product held for good, unless allow_duplicate', async () => {
    const shop = await openShop(ctx.server);
    const annual = await addProduct(shop, { type: 'membership', name: '年卡', price_minor: 19_900, term: 'annual' });
    const forever = await addProduct(shop, { type: 'membership', name: '终身会员', price_minor: 99_900, term: 'permanent' });
    const course = await addProduct(shop, { type: 'course', name: '写作课', price_minor: 69_900 });
    const me = await addMember(ctx.server, shop, '小明');

    // A second checkout while the first waits for payment.
    const first = expectOk(await buy(me.client, annual.id, 'a1'), 201);
    const second = await buy(me.client, annual.id, 'a2');
    expect([second.status, second.body.code, second.body.existing_order_id]).toEqual([409, 'duplicate_purchase', first.id]);
    // Confirmed, the same key now creates it (the refusal created nothing).
    const confirmed = expectOk(await buy(me.client, annual.id, 'a2', { allowDuplicate: true }), 201);
    expect(expectOk(await clickPay(ctx.server, first)).status).toBe('paid');
    expect(expectOk(await clickPay(ctx.server, confirmed)).status).toBe('paid');
    // Both count: a confirmed second year extends the first; neither is flagged.
    const years = await ctx.db.handle.db.selectFrom('memberships').select(['starts_at', 'expires_at']).where('member_id', '=', me.id).orderBy('starts_at').execute();
    expect(years).toEqual([
      { starts_at: '2026-04-01T08:00:00.000Z', expires_at: '2027-04-01T08:00:00.000Z' },
      { starts_at: '2027-04-01T08:00:00.000Z', expires_at: '2028-03-31T08:00:00.000Z' },
    ]);
    // Renewing an annual membership is not a duplicate.
    const renewal = expectOk(await buy(me.client, annual.id, 'a3'), 201);
    expect(expectOk(await clickPay(ctx.server, renewal, 'fail')).status).toBe('cancelled');

    // A permanent membership and a course are held for good.
    await buyAndPay(ctx.server, me.client, forever.id, 'f1');
    const held = (await ctx.db.handle.db.selectFrom('memberships').select('id').where('member_id', '=', me.id).where('product_id', '=', forever.id).executeTakeFirstOrThrow()).id;
    const again = await buy(me.client, forever.id, 'f2');
    expect([again.status, again.body.code, again.body.existing_membership_id, again.body.existing_order_id]).toEqual([409, 'duplicate_purchase', held, undefined]);
    const bought = await buyAndPay(ctx.server, me.client, course.id, 'c1');
    const twice = await buy(me.client, course.id, 'c2');
    expect([twice.status, twice.body.code, twice.body.existing_order_id]).toEqual([409, 'duplicate_purchase', bought.id]);
    // Once refunded in full, the course can be bought again.
    expectOk(await refund(shop, bought.id, { amount_minor: 69_900, reason: '退课' }, 'r'), 201);
    expectOk(await buy(me.client, course.id, 'c3'), 201);
    expect((await ctx.db.handle.db.selectFrom('orders').select('id').where('member_id', '=', me.id).where('duplicate_of_order_id', 'is not', null).execute()).length).toBe(0);
  });

  it('flags a payment that lands for a second checkout of the same product: nothing granted, an event for staff, listed for refund', async () => {
    const shop = await openShop(ctx.server);
    const forever = await addProduct(shop, { type: 'membership', name: '终身会员', price_minor: 99_900, term: 'permanent' });
    const monthly = await addProduct(shop, { type: 'membership', name: '月卡', price_minor: 3_000, term: 'days', term_days: 30 });
    const me = await addMember(ctx.server, shop, '小红');

    // The first checkout times out; the member starts another and pays it; then the first payment lands.
    const slowForever = expectOk(await buy(me.client, forever.id, 'f-slow'), 201);
    const slowMonth = expectOk(await buy(me.client, monthly.id, 'm-slow'), 201);
    clock.advance(THIRTY_ONE_MINUTES);
    await expireUnpaidOrders(ctx.server.app.deps);
    expect([(await effectsOf(ctx.db, slowForever.id)).order.status, (await effectsOf(ctx.db, slowMonth.id)).order.status]).toEqual(['expired', 'expired']);
    const paidForever = await buyAndPay(ctx.server, me.client, forever.id, 'f-fast');
    const paidMonth = await buyAndPay(ctx.server, me.client, monthly.id, 'm-fast');
    const monthEnd = new Date(clock.now().getTime() + 30 * 86_400_000).toISOString();

    for (const [slow, paid] of [
      [slowForever, paidForever],
      [slowMonth, paidMonth],
    ] as const) {
      const r = await deliver(ctx.server, ctx.db, paidEvent(`evt_${slow.id}`, slow));
      expect([r.status, r.body.outcome]).toEqual([200, 'duplicate_flagged']);
      const fx = await effectsOf(ctx.db, slow.id);
      // The money is recorded (it was taken), nothing more is granted.
      expect([fx.order.status, fx.order.duplicate_of_order_id, fx.order.membership_id, fx.memberships, fx.byAccount]).toEqual([
        'paid',
        paid.id,
        null,
        [],
        { customer_payments: slow.amount_minor, revenue: -slow.amount_minor },
      ]);
      const detected = await ctx.db.handle.db.selectFrom('events').select(['member_id', 'props']).where('type', '=', 'duplicate_payment_detected').execute();
      expect(detected.filter((e) => JSON.stringify(e.props).includes(slow.id)).map((e) => e.member_id)).toEqual([me.id]);
    }
    // The monthly membership was not extended by the duplicate.
    const months = await ctx.db.handle.db.selectFrom('memberships').select('expires_at').where('member_id', '=', me.id).where('product_id', '=', monthly.id).execute();
    expect(months).toEqual([{ expires_at: monthEnd }]);

    const flagged = expectOk(await shop.staff.get(`${shop.base}/orders?flagged=duplicate`));
    expect(flagged.orders.map((o: any) => [o.id, o.duplicate_of_order_id]).sort()).toEqual(
      [
        [slowForever.id, paidForever.id],
        [slowMonth.id, paidMonth.id],
      ].sort(),
    );
    // Staff refund them with the refund API; the memberships bought by the orders kept are untouched.
    for (const slow of [slowForever, slowMonth]) expectOk(await refund(shop, slow.id, { amount_minor: slow.amount_minor, reason: 'duplicate payment' }, `dup-${slow.id}`), 201);
    const live = await ctx.db.handle.db.selectFrom('memberships').select(['order_id', 'revoked_at']).where('member_id', '=', me.id).execute();
    expect(live.map((m) => [m.order_id, m.revoked_at]).sort()).toEqual(
      [
        [paidForever.id, null],
        [paidMonth.id, null],
      ].sort(),
    );
    expect((await checkLedger(ctx.db.handle.db)).violations).toEqual([]);
  });
});
