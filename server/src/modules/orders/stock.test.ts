import { expect, it } from 'vitest';
import { fixedClock } from '../../lib/clock.js';
import { describeEachDialect, expectOk, useServer } from '../../test/harness.js';
import { checkLedger } from './ledger.check.js';
import { expireUnpaidOrders } from './orders.service.js';
import { addMember, addProduct, buy, buyAndPay, clickPay, deliver, effectsOf, openShop, paidEvent } from '../../test/money.js';

describeEachDialect('stock held by pending orders; a late payment for a unit sold meanwhile is refunded', (dialect) => {
  const clock = fixedClock(new Date('2026-10-01T08:00:00.000Z'));
  const ctx = useServer(dialect, { clock });
  const THIRTY_ONE_MINUTES = 31 * 60_000;

  const stockOf = async (productId: string) => (await ctx.db.handle.db.selectFrom('products').select('stock').where('id', '=', productId).executeTakeFirstOrThrow()).stock;
  const eventsAbout = async (orderId: string) =>
    (await ctx.db.handle.db.selectFrom('events').select(['type', 'member_id', 'props']).orderBy('id').execute())
      .map((e) => ({ ...e, props: (typeof e.props === 'string' ? JSON.parse(e.props) : e.props) as Record<string, unknown> }))
      .filter((e) => e.props.order_id === orderId);

  it('holds a unit from the moment the order is created; expiry and a failed payment give it back, once', async () => {
    const shop = await openShop(ctx.server);
    const book = await addProduct(shop, { type: 'goods', name: '签名书', price_minor: 12_800, stock: 2 });
    const [a, b, c] = await Promise.all(['甲', '乙', '丙'].map((n) => addMember(ctx.server, shop, n)));
    const oa = expectOk(await buy(a!.client, book.id, 'a'), 201);
    const ob = expectOk(await buy(b!.client, book.id, 'b'), 201);
    expect(await stockOf(book.id)).toBe(0);
    const none = await buy(c!.client, book.id, 'c');
    expect([none.status, none.body.code]).toEqual([409, 'out_of_stock']);

    expect(expectOk(await clickPay(ctx.server, ob, 'fail')).status).toBe('cancelled');
    expect(await stockOf(book.id)).toBe(1);
    const oc = expectOk(await buy(c!.client, book.id, 'c'), 201);
    expect(await stockOf(book.id)).toBe(0);

    clock.advance(THIRTY_ONE_MINUTES);
    expect(await expireUnpaidOrders(ctx.server.app.deps)).toBe(2);
    expect(await stockOf(book.id)).toBe(2);
    expect(await expireUnpaidOrders(ctx.server.app.deps)).toBe(0);
    // A payment failure reported for an order that already ended returns nothing a second time.
    expect((await deliver(ctx.server, ctx.db, { id: 'evt_fail_late', type: 'payment.failed', created: 1, data: { order_id: oc.id } })).body.outcome).toBe('ignored');
    expect(await stockOf(book.id)).toBe(2);
    const rows = await ctx.db.handle.db.selectFrom('orders').select(['id', 'status', 'stock_reserved']).where('product_id', '=', book.id).execute();
    expect(Object.fromEntries(rows.map((r) => [r.id, [r.status, r.stock_reserved]]))).toEqual({ [oa.id]: ['expired', 0], [ob.id]: ['cancelled', 0], [oc.id]: ['expired', 0] });
  });

  it('records a late payment whose unit was sold meanwhile and refunds it in full through the provider', async () => {
    const shop = await openShop(ctx.server);
    const seat = await addProduct(shop, { type: 'event', name: '线下沙龙', price_minor: 19_900, stock: 1 });
    const late = await addMember(ctx.server, shop, '迟到的');
    const other = await addMember(ctx.server, shop, '准时的');
    const stale = expectOk(await buy(late.client, seat.id, 'slow'), 201);
    clock.advance(THIRTY_ONE_MINUTES);
    expect(await expireUnpaidOrders(ctx.server.app.deps)).toBe(1);
    const sold = await buyAndPay(ctx.server, other.client, seat.id, 'fast');
    expect(await stockOf(seat.id)).toBe(0);

    // The provider had charged the slow buyer before the order timed out.
    const r = await deliver(ctx.server, ctx.db, paidEvent('evt_late_seat', stale));
    expect([r.status, r.body.outcome]).toEqual([200, 'sold_out']);
    const fx = await effectsOf(ctx.db, stale.id);
    expect([fx.order.status, Number(fx.order.refunded_minor), Number(fx.order.refund_pending_minor), fx.order.stock_reserved, fx.sum]).toEqual(['refunded', 19_900, 0, 0, 0]);
    expect(fx.byAccount).toEqual({ customer_payments: 0, revenue: -19_900, refunds: 19_900 });
    const refunds = await ctx.db.handle.db.selectFrom('refunds').selectAll().where('order_id', '=', stale.id).execute();
    expect(refunds.map((x) => [x.amount_minor, x.reason, x.status, x.idempotency_key, !!x.provider_ref])).toEqual([[19_900, 'sold_out', 'succeeded', 'sold_out', true]]);
    const events = await eventsAbout(stale.id);
    expect(events.map((e) => e.type)).toEqual(['order_created', 'order_expired', 'order_paid', 'refund_requested', 'order_sold_out', 'order_refunded']);
    // Addressed to the member (member_id) and visible to staff in the community's events.
    expect(events.find((e) => e.type === 'order_sold_out')).toMatchObject({ member_id: late.id, props: { product_id: seat.id, amount_minor: 19_900, refund_id: refunds[0]!.id } });
    const staffView = expectOk(await shop.staff.get(`${shop.base}/events?type=order_sold_out`));
    expect(staffView.events.map((e: any) => e.member_id)).toEqual([late.id]);

    // The seat stays with the buyer who paid in time; redelivery changes nothing.
    expect(await stockOf(seat.id)).toBe(0);
    expect((await effectsOf(ctx.db, sold.id)).order.status).toBe('paid');
    expect((await deliver(ctx.server, ctx.db, paidEvent('evt_late_seat', stale))).body.outcome).toBe('duplicate');
    expect((await eventsAbout(stale.id)).length).toBe(events.length);
    expect((await checkLedger(ctx.db.handle.db)).violations).toEqual([]);
  });

  it('lets a late payment that finds a unit left take it', async () => {
    const shop = await openShop(ctx.server);
    const book = await addProduct(shop, { type: 'goods', name: '书', price_minor: 4_500, stock: 3 });
    const me = await addMember(ctx.server, shop, '小明');
    const order = expectOk(await buy(me.client, book.id, 'o'), 201);
    clock.advance(THIRTY_ONE_MINUTES);
    await expireUnpaidOrders(ctx.server.app.deps);
    expect(await stockOf(book.id)).toBe(3);
    expect((await deliver(ctx.server, ctx.db, paidEvent('evt_late_book', order))).body.outcome).toBe('applied');
    expect(await stockOf(book.id)).toBe(2);
    const fx = await effectsOf(ctx.db, order.id);
    expect([fx.order.status, fx.order.stock_reserved, fx.byAccount]).toEqual(['paid', 1, { customer_payments: 4_500, revenue: -4_500 }]);
  });
});
