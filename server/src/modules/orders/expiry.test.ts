import { expect, it } from 'vitest';
import { fixedClock } from '../../lib/clock.js';
import { describeEachDialect, expectOk, useServer } from '../../test/harness.js';
import { expireUnpaidOrders } from './orders.service.js';
import { addMember, addProduct, buy, clickPay, deliver, effectsOf, openShop, paidEvent } from '../../test/money.js';

describeEachDialect('unpaid orders expire after the timeout', (dialect) => {
  const clock = fixedClock(new Date('2026-05-01T08:00:00.000Z'));
  const ctx = useServer(dialect, { clock });

  it('expires pending orders older than 30 minutes once; their checkout stops, a late payment still lands', async () => {
    const shop = await openShop(ctx.server);
    const course = await addProduct(shop, { type: 'course', name: '写作课', price_minor: 6_900 });
    const me = await addMember(ctx.server, shop, '小明');
    const again = { allowDuplicate: true };
    const old1 = expectOk(await buy(me.client, course.id, 'a'), 201);
    const old2 = expectOk(await buy(me.client, course.id, 'b', again), 201);
    const paid = expectOk(await buy(me.client, course.id, 'c', again), 201);
    expect(expectOk(await clickPay(ctx.server, paid)).status).toBe('paid');
    clock.advance(20 * 60_000);
    const recent = expectOk(await buy(me.client, course.id, 'd', again), 201);

    clock.advance(10 * 60_000 + 1); // old1 and old2 are 30 min + 1 ms old, recent 10 min
    const deps = ctx.server.app.deps;
    expect(await expireUnpaidOrders(deps)).toBe(2);
    expect(await expireUnpaidOrders(deps)).toBe(0);

    const statuses = async () => Object.fromEntries(await Promise.all([old1, old2, paid, recent].map(async (o) => [o.id, (await effectsOf(ctx.db, o.id)).order.status])));
    expect(await statuses()).toEqual({ [old1.id]: 'expired', [old2.id]: 'expired', [paid.id]: 'paid', [recent.id]: 'pending' });
    const late = await clickPay(ctx.server, old1);
    expect([late.status, late.body.code]).toEqual([409, 'order_not_payable']);
    expect(expectOk(await shop.owner.get(`${shop.base}/orders/${old1.id}`)).checkout_url).toBeNull();
    expect(expectOk(await clickPay(ctx.server, recent)).status).toBe('paid');

    // The provider took the money before the order timed out: the payment still pays it.
    expect((await deliver(ctx.server, ctx.db, paidEvent('evt_late', old2))).body.outcome).toBe('applied');
    const fx = await effectsOf(ctx.db, old2.id);
    expect([fx.order.status, fx.sum, fx.events]).toEqual(['paid', 0, ['order_paid']]);
    const expired = await ctx.db.handle.db.selectFrom('events').select('id').where('community_id', '=', shop.communityId).where('type', '=', 'order_expired').execute();
    expect(expired.length).toBe(2);
  });
});
