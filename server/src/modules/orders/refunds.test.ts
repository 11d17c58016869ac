import { expect, it } from 'vitest';
import { fixedClock } from '../../lib/clock.js';
import { describeEachDialect, expectOk, useServer } from '../../test/harness.js';
import { checkLedger } from './ledger.check.js';
import { addMember, addProduct, buy, buyAndPay, effectsOf, openShop, refund } from '../../test/money.js';

const at = (iso: string) => new Date(iso);

describeEachDialect('memberships and refunds: renewal from the current expiry, partial and full refunds, no double refund', (dialect) => {
  const clock = fixedClock(at('2026-01-01T00:00:00.000Z'));
  const ctx = useServer(dialect, { clock });

  const membershipsOf = (memberId: string) =>
    ctx.db.handle.db.selectFrom('memberships').select(['order_id', 'starts_at', 'expires_at', 'revoked_at']).where('member_id', '=', memberId).orderBy('created_at').execute();

  it('extends a renewal paid before expiry or within the 7-day grace from the current expiry, and a later one from the day it is paid', async () => {
    clock.set(at('2026-01-01T00:00:00.000Z'));
    const shop = await openShop(ctx.server);
    const plan = await addProduct(shop, { type: 'membership', name: '月卡', price_minor: 3_000, term: 'days', term_days: 30 });
    const me = await addMember(ctx.server, shop, '小明');

    const o1 = await buyAndPay(ctx.server, me.client, plan.id, 'jan');
    clock.set(at('2026-01-20T00:00:00.000Z')); // 11 days before expiry
    const o2 = await buyAndPay(ctx.server, me.client, plan.id, 'feb');
    clock.set(at('2026-03-08T00:00:00.000Z')); // 6 days after the 2 March expiry: within grace
    const o3 = await buyAndPay(ctx.server, me.client, plan.id, 'mar');
    clock.set(at('2026-04-09T00:00:00.000Z')); // 8 days after the 1 April expiry: grace is over
    const o4 = await buyAndPay(ctx.server, me.client, plan.id, 'apr');

    expect(await membershipsOf(me.id)).toEqual([
      { order_id: o1.id, starts_at: '2026-01-01T00:00:00.000Z', expires_at: '2026-01-31T00:00:00.000Z', revoked_at: null },
      { order_id: o2.id, starts_at: '2026-01-31T00:00:00.000Z', expires_at: '2026-03-02T00:00:00.000Z', revoked_at: null },
      { order_id: o3.id, starts_at: '2026-03-02T00:00:00.000Z', expires_at: '2026-04-01T00:00:00.000Z', revoked_at: null },
      { order_id: o4.id, starts_at: '2026-04-09T00:00:00.000Z', expires_at: '2026-05-09T00:00:00.000Z', revoked_at: null },
    ]);
    const grants = await ctx.db.handle.db.selectFrom('events').select('props').where('type', '=', 'membership_granted').where('member_id', '=', me.id).orderBy('id').execute();
    expect(grants.map((g) => (typeof g.props === 'string' ? JSON.parse(g.props) : g.props).renewal)).toEqual([false, true, true, false]);
    const order = expectOk(await shop.staff.get(`${shop.base}/orders/${o2.id}`));
    expect(order.membership_id).not.toBeNull();

    // A full refund ends the membership the order bought, at the refund.
    clock.set(at('2026-04-10T00:00:00.000Z'));
    expectOk(await refund(shop, o4.id, { amount_minor: 3_000, reason: '不想要了' }, 'r1'), 201);
    const fx = await effectsOf(ctx.db, o4.id);
    expect(fx.memberships.map((m) => [m.expires_at, m.revoked_at])).toEqual([['2026-04-10T00:00:00.000Z', '2026-04-10T00:00:00.000Z']]);
    expect([fx.order.status, fx.sum, fx.byAccount]).toEqual(['refunded', 0, { customer_payments: 0, revenue: -3_000, refunds: 3_000 }]);
    expect(fx.events).toEqual(['membership_granted', 'membership_revoked', 'order_paid', 'order_refunded']);
  });

  it('does not let a fully refunded renewal that had not started yet count: it ends where it would have begun', async () => {
    clock.set(at('2026-06-01T00:00:00.000Z'));
    const shop = await openShop(ctx.server);
    const plan = await addProduct(shop, { type: 'membership', name: '年卡', price_minor: 36_500, term: 'annual' });
    const me = await addMember(ctx.server, shop, '小红');
    await buyAndPay(ctx.server, me.client, plan.id, 'y1');
    clock.set(at('2026-12-01T00:00:00.000Z'));
    const renewal = await buyAndPay(ctx.server, me.client, plan.id, 'y2');
    clock.set(at('2026-12-02T00:00:00.000Z'));
    expectOk(await refund(shop, renewal.id, { amount_minor: 36_500, reason: 'renewed by mistake' }, 'r'), 201);
    expect(await membershipsOf(me.id)).toEqual([
      { order_id: expect.any(String), starts_at: '2026-06-01T00:00:00.000Z', expires_at: '2027-06-01T00:00:00.000Z', revoked_at: null },
      { order_id: renewal.id, starts_at: '2027-06-01T00:00:00.000Z', expires_at: '2027-06-01T00:00:00.000Z', revoked_at: '2026-12-02T00:00:00.000Z' },
    ]);
    // The next renewal extends from the expiry that is left, 1 June 2027.
    const again = await buyAndPay(ctx.server, me.client, plan.id, 'y3');
    expect((await effectsOf(ctx.db, again.id)).memberships.map((m) => [m.starts_at, m.expires_at])).toEqual([['2027-06-01T00:00:00.000Z', '2028-05-31T00:00:00.000Z']]);
  });

  it('moves the renewals chained after a fully refunded period earlier, so the expiry stays the sum of the periods still paid for', async () => {
    const shop = await openShop(ctx.server);
    const plan = await addProduct(shop, { type: 'membership', name: '月卡', price_minor: 3_000, term: 'days', term_days: 30 });
    const me = await addMember(ctx.server, shop, '小李');
    const months = [];
    for (const day of ['01', '02', '03']) {
      clock.set(at(`2026-08-${day}T00:00:00.000Z`));
      months.push(await buyAndPay(ctx.server, me.client, plan.id, `m${day}`));
    }
    const [aug, sep, oct] = [months[0]!, months[1]!, months[2]!];
    const span = (orderId: string, starts: string, expires: string, revoked: string | null = null) => ({ order_id: orderId, starts_at: starts, expires_at: expires, revoked_at: revoked });
    expect(await membershipsOf(me.id)).toEqual([
      span(aug.id, '2026-08-01T00:00:00.000Z', '2026-08-31T00:00:00.000Z'),
      span(sep.id, '2026-08-31T00:00:00.000Z', '2026-09-30T00:00:00.000Z'),
      span(oct.id, '2026-09-30T00:00:00.000Z', '2026-10-30T00:00:00.000Z'),
    ]);

    clock.set(at('2026-08-10T00:00:00.000Z'));
    expectOk(await refund(shop, sep.id, { amount_minor: 3_000, reason: 'one month less' }, 'sep'), 201);
    expect(await membershipsOf(me.id)).toEqual([
      span(aug.id, '2026-08-01T00:00:00.000Z', '2026-08-31T00:00:00.000Z'),
      span(sep.id, '2026-08-31T00:00:00.000Z', '2026-08-31T00:00:00.000Z', '2026-08-10T00:00:00.000Z'),
      span(oct.id, '2026-08-31T00:00:00.000Z', '2026-09-30T00:00:00.000Z'),
    ]);
    // Refunding the current month ends it today: the 21 days left of it come off the next one's start.
    expectOk(await refund(shop, aug.id, { amount_minor: 3_000, reason: 'changed my mind' }, 'aug'), 201);
    expect(await membershipsOf(me.id)).toEqual([
      span(aug.id, '2026-08-01T00:00:00.000Z', '2026-08-10T00:00:00.000Z', '2026-08-10T00:00:00.000Z'),
      span(sep.id, '2026-08-31T00:00:00.000Z', '2026-08-31T00:00:00.000Z', '2026-08-10T00:00:00.000Z'),
      span(oct.id, '2026-08-10T00:00:00.000Z', '2026-09-09T00:00:00.000Z'),
    ]);
  });

  it('refunds in parts, never more than is left, once per Idempotency-Key; a partial refund keeps the membership', async () => {
    clock.set(at('2026-07-01T00:00:00.000Z'));
    const shop = await openShop(ctx.server);
    const plan = await addProduct(shop, { type: 'membership', name: '年卡', price_minor: 10_000, term: 'annual' });
    const me = await addMember(ctx.server, shop, '小刚');
    const order = await buyAndPay(ctx.server, me.client, plan.id, 'o');

    const first = await refund(shop, order.id, { amount_minor: 3_000, reason: '部分退款' }, 'part-1');
    expect([first.status, first.body.amount_minor]).toEqual([201, 3_000]);
    const retry = await refund(shop, order.id, { amount_minor: 3_000, reason: '部分退款' }, 'part-1');
    expect([retry.status, retry.body.id]).toEqual([200, first.body.id]);
    const reused = await refund(shop, order.id, { amount_minor: 5_000, reason: '部分退款' }, 'part-1');
    expect([reused.status, reused.body.code]).toEqual([409, 'idempotency_key_reused']);
    const tooMuch = await refund(shop, order.id, { amount_minor: 7_001, reason: 'too much' }, 'part-2');
    expect([tooMuch.status, tooMuch.body.code, tooMuch.body.remaining_minor]).toEqual([409, 'refund_exceeds_remaining', 7_000]);

    let fx = await effectsOf(ctx.db, order.id);
    expect([fx.order.status, Number(fx.order.refunded_minor), fx.sum]).toEqual(['partially_refunded', 3_000, 0]);
    expect(fx.byAccount).toEqual({ customer_payments: 7_000, revenue: -10_000, refunds: 3_000 });
    expect(fx.memberships.map((m) => [m.expires_at, m.revoked_at])).toEqual([['2027-07-01T00:00:00.000Z', null]]);

    expectOk(await refund(shop, order.id, { amount_minor: 7_000, reason: '全部退完' }, 'part-3'), 201);
    const after = await refund(shop, order.id, { amount_minor: 1, reason: 'again' }, 'part-4');
    expect([after.status, after.body.code]).toEqual([409, 'order_not_refundable']);
    fx = await effectsOf(ctx.db, order.id);
    expect([fx.order.status, Number(fx.order.refunded_minor), fx.sum]).toEqual(['refunded', 10_000, 0]);
    expect(fx.byAccount).toEqual({ customer_payments: 0, revenue: -10_000, refunds: 10_000 });
    expect(fx.memberships.map((m) => [m.expires_at, m.revoked_at])).toEqual([['2026-07-01T00:00:00.000Z', '2026-07-01T00:00:00.000Z']]);
    const shown = expectOk(await shop.staff.get(`${shop.base}/orders/${order.id}`));
    expect(shown.refunds.map((r: any) => r.amount_minor)).toEqual([3_000, 7_000]);
  });

  it('never refunds twice under concurrency: 10 parallel refunds of 40% take 80%, 10 parallel retries of one key make one refund', async () => {
    const shop = await openShop(ctx.server);
    const course = await addProduct(shop, { type: 'course', name: '写作课', price_minor: 10_000 });
    const me = await addMember(ctx.server, shop, '小美');
    const a = await buyAndPay(ctx.server, me.client, course.id, 'a');
    const racing = await Promise.all(Array.from({ length: 10 }, (_, i) => refund(shop, a.id, { amount_minor: 4_000, reason: 'race' }, `k${i}`)));
    expect(racing.filter((r) => r.status === 201).length).toBe(2);
    expect(racing.filter((r) => r.status === 409).map((r) => r.body.code)).toEqual(Array.from({ length: 8 }, () => 'refund_exceeds_remaining'));
    const fa = await effectsOf(ctx.db, a.id);
    expect([fa.order.status, Number(fa.order.refunded_minor), fa.sum, fa.entries]).toEqual(['partially_refunded', 8_000, 0, 6]);

    const b = await buyAndPay(ctx.server, me.client, course.id, 'b', { allowDuplicate: true });
    const retries = await Promise.all(Array.from({ length: 10 }, () => refund(shop, b.id, { amount_minor: 2_500, reason: 'retry' }, 'same')));
    expect(retries.every((r) => r.status === 200 || r.status === 201)).toBe(true);
    expect(new Set(retries.map((r) => r.body.id)).size).toBe(1);
    const fb = await effectsOf(ctx.db, b.id);
    expect([Number(fb.order.refunded_minor), fb.entries]).toEqual([2_500, 4]);
  });

  it('returns the unit of a fully refunded order to stock', async () => {
    const shop = await openShop(ctx.server);
    const seat = await addProduct(shop, { type: 'event', name: '线下沙龙', price_minor: 19_900, stock: 1 });
    const first = await addMember(ctx.server, shop, '甲');
    const second = await addMember(ctx.server, shop, '乙');
    const order = await buyAndPay(ctx.server, first.client, seat.id, 's');
    expect((await buy(second.client, seat.id, 's')).body.code).toBe('out_of_stock');
    expectOk(await refund(shop, order.id, { amount_minor: 9_900, reason: 'half' }, 'h'), 201);
    expect((await buy(second.client, seat.id, 's2')).body.code).toBe('out_of_stock');
    expectOk(await refund(shop, order.id, { amount_minor: 10_000, reason: 'rest' }, 'r'), 201);
    await buyAndPay(ctx.server, second.client, seat.id, 's3');
    const product = await ctx.db.handle.db.selectFrom('products').select('stock').where('id', '=', seat.id).executeTakeFirstOrThrow();
    expect(product.stock).toBe(0);
  });

  it('leaves a ledger that checks clean', async () => {
    const report = await checkLedger(ctx.db.handle.db);
    expect(report.violations).toEqual([]);
    // Paid 3,000×4 + 3,000×3 + 36,500×3 + 10,000 + 10,000×2 + 19,900×2; refunded 3,000 + 3,000×2 + 36,500 + 10,000 + 8,000 + 2,500 + 19,900.
    expect(report.totals.CNY).toEqual({ paid_minor: 200_300, refunded_minor: 85_900, fees_minor: 0, net_minor: 114_400 });
  });
});
