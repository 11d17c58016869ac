import { expect, it } from 'vitest';
import { fixedClock } from '../../lib/clock.js';
import { describeEachDialect, expectOk, useServer } from '../../test/harness.js';
import { TEST_REFUND_ERROR_SUFFIX, TEST_REFUND_UNANSWERED_SUFFIX } from '../payments/index.js';
import { checkLedger } from './ledger.check.js';
import { findOrderById } from './orders.repo.js';
import { claimRefund } from './refunds.effects.js';
import { retryStalledRefunds } from './refunds.service.js';
import { addMember, addProduct, buy, buyAndPay, deliver, effectsOf, openShop, paidEvent, refund, refundEvent } from '../../test/money.js';

/** Refunds as real providers make them: accepted now, confirmed or refused later by webhook. */
describeEachDialect('refunds through an asynchronous provider: pending, then confirmed or refused by webhook', (dialect) => {
  const clock = fixedClock(new Date('2026-09-01T08:00:00.000Z'));
  const ctx = useServer(dialect, { clock, payments: { default: 'test', test: { refunds: 'webhook' }, stripe: null, wechatpay: null, alipay: null } });

  const refundRow = (id: string) => ctx.db.handle.db.selectFrom('refunds').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
  const eventsOf = async (type: string, orderId: string) =>
    (await ctx.db.handle.db.selectFrom('events').select(['props', 'member_id']).where('type', '=', type).execute()).filter((e) => JSON.stringify(e.props).includes(orderId));

  it('keeps a refund pending (claimed, nothing moved) until refund.succeeded; refund.failed frees the amount', async () => {
    const shop = await openShop(ctx.server);
    const plan = await addProduct(shop, { type: 'membership', name: '年卡', price_minor: 10_000, term: 'annual' });
    const me = await addMember(ctx.server, shop, '小明');
    const order = await buyAndPay(ctx.server, me.client, plan.id, 'o');
    const orderPath = `${shop.base}/orders/${order.id}`;

    const first = await refund(shop, order.id, { amount_minor: 6_000, reason: '部分退款' }, 'a');
    expect([first.status, first.body.status, first.body.settled_at, first.body.amount_minor]).toEqual([201, 'pending', null, 6_000]);
    let shown = expectOk(await shop.staff.get(orderPath));
    expect([shown.status, shown.refunded_minor, shown.refund_pending_minor]).toEqual(['paid', 0, 6_000]);
    // The pending refund blocks over-refunding: 4,000 is left, not 10,000.
    const over = await refund(shop, order.id, { amount_minor: 4_001, reason: 'too much' }, 'b');
    expect([over.status, over.body.code, over.body.remaining_minor]).toEqual([409, 'refund_exceeds_remaining', 4_000]);
    let fx = await effectsOf(ctx.db, order.id);
    expect([fx.entries, fx.byAccount]).toEqual([2, { customer_payments: 10_000, revenue: -10_000 }]);

    // The provider confirms it, echoing our refund id; a second delivery under another id changes nothing.
    const ref = (await refundRow(first.body.id)).provider_ref!;
    expect(ref).toMatch(/^tref_/);
    const confirmed = await deliver(ctx.server, ctx.db, refundEvent('evt_r1', 'refund.succeeded', order, { ref, refundId: first.body.id, amount: 6_000 }));
    expect(confirmed.body.outcome).toBe('applied');
    expect((await deliver(ctx.server, ctx.db, refundEvent('evt_r1b', 'refund.succeeded', order, { ref, amount: 6_000 }))).body.outcome).toBe('already_applied');
    shown = expectOk(await shop.staff.get(orderPath));
    expect([shown.status, shown.refunded_minor, shown.refund_pending_minor]).toEqual(['partially_refunded', 6_000, 0]);
    expect(shown.refunds.map((r: any) => [r.id, r.status, r.settled_at])).toEqual([[first.body.id, 'succeeded', '2026-09-01T08:00:00.000Z']]);
    fx = await effectsOf(ctx.db, order.id);
    expect([fx.entries, fx.byAccount]).toEqual([4, { customer_payments: 4_000, revenue: -10_000, refunds: 6_000 }]);
    expect(fx.memberships.map((m) => m.revoked_at)).toEqual([null]);

    // The rest, refused by the provider (matched by its reference alone): the claim is given back.
    const rest = expectOk(await refund(shop, order.id, { amount_minor: 4_000, reason: '全部退完' }, 'c'), 201);
    const restRef = (await refundRow(rest.id)).provider_ref!;
    const declined = await deliver(ctx.server, ctx.db, refundEvent('evt_r2', 'refund.failed', order, { ref: restRef, reason: 'card closed' }));
    expect(declined.body.outcome).toBe('applied');
    shown = expectOk(await shop.staff.get(orderPath));
    expect([shown.status, shown.refunded_minor, shown.refund_pending_minor]).toEqual(['partially_refunded', 6_000, 0]);
    expect(shown.refunds.find((r: any) => r.id === rest.id)).toMatchObject({ status: 'failed', failure_reason: 'card closed' });
    expect((await eventsOf('refund_failed', order.id)).map((e) => e.member_id)).toEqual([me.id]);
    // The failed refund stays failed for its key; a second failure report changes nothing.
    const replay = await refund(shop, order.id, { amount_minor: 4_000, reason: '全部退完' }, 'c');
    expect([replay.status, replay.body.code, replay.body.refund_id]).toEqual([502, 'refund_failed', rest.id]);
    expect((await deliver(ctx.server, ctx.db, refundEvent('evt_r2b', 'refund.failed', order, { ref: restRef }))).body.outcome).toBe('ignored');

    // The amount can be refunded again; a full refund ends the membership only once the money went back.
    const again = expectOk(await refund(shop, order.id, { amount_minor: 4_000, reason: '再退一次' }, 'd'), 201);
    expect((await effectsOf(ctx.db, order.id)).memberships.map((m) => m.revoked_at)).toEqual([null]);
    clock.advance(60_000);
    const againRef = (await refundRow(again.id)).provider_ref!;
    expect((await deliver(ctx.server, ctx.db, refundEvent('evt_r3', 'refund.succeeded', order, { ref: againRef, refundId: again.id, amount: 4_000 }))).body.outcome).toBe('applied');
    fx = await effectsOf(ctx.db, order.id);
    expect([fx.order.status, Number(fx.order.refunded_minor), Number(fx.order.refund_pending_minor), fx.sum]).toEqual(['refunded', 10_000, 0, 0]);
    expect(fx.byAccount).toEqual({ customer_payments: 0, revenue: -10_000, refunds: 10_000 });
    expect(fx.memberships.map((m) => [m.revoked_at, m.revoke_reason])).toEqual([['2026-09-01T08:01:00.000Z', 'refunded']]);
  });

  it('frees the amount when the provider call fails (502 refund_failed), and still records the refund if the provider refunded after all', async () => {
    const shop = await openShop(ctx.server);
    const course = await addProduct(shop, { type: 'course', name: '写作课', price_minor: 5_000 });
    const me = await addMember(ctx.server, shop, '小红');
    const order = expectOk(await buy(me.client, course.id, 'o'), 201);
    expect((await deliver(ctx.server, ctx.db, paidEvent('evt_pay_err', order, `tpay_x${TEST_REFUND_ERROR_SUFFIX}`))).body.outcome).toBe('applied');

    const failed = await refund(shop, order.id, { amount_minor: 5_000, reason: '退款' }, 'k');
    expect([failed.status, failed.body.code]).toEqual([502, 'refund_failed']);
    const row = await refundRow(failed.body.refund_id);
    expect([row.status, row.provider_ref, row.failure_reason]).toEqual(['failed', null, 'test provider: refunds of this payment are refused']);
    let fx = await effectsOf(ctx.db, order.id);
    expect([fx.order.status, Number(fx.order.refunded_minor), Number(fx.order.refund_pending_minor), fx.entries]).toEqual(['paid', 0, 0, 2]);
    expect((await eventsOf('refund_failed', order.id)).length).toBe(1);
    // A retry with the same key gets the same failure; the provider call is not repeated.
    const retry = await refund(shop, order.id, { amount_minor: 5_000, reason: '退款' }, 'k');
    expect([retry.status, retry.body.code, retry.body.refund_id]).toEqual([502, 'refund_failed', failed.body.refund_id]);

    // The call had reached the provider after all: its confirmation completes the refund we gave up on.
    const late = await deliver(ctx.server, ctx.db, refundEvent('evt_late_ok', 'refund.succeeded', order, { ref: 'tref_late', refundId: failed.body.refund_id }));
    expect(late.body.outcome).toBe('applied');
    fx = await effectsOf(ctx.db, order.id);
    expect([fx.order.status, Number(fx.order.refunded_minor), fx.sum, fx.byAccount.refunds]).toEqual(['refunded', 5_000, 0, 5_000]);
    expect(await refundRow(failed.body.refund_id)).toMatchObject({ status: 'succeeded', provider_ref: 'tref_late' });
  });

  it('keeps a refund pending, its amount claimed, when the provider call ends without an answer; the confirmation completes it', async () => {
    const shop = await openShop(ctx.server);
    const course = await addProduct(shop, { type: 'course', name: '口才课', price_minor: 6_000 });
    const me = await addMember(ctx.server, shop, '小青');
    const order = expectOk(await buy(me.client, course.id, 'o'), 201);
    expect((await deliver(ctx.server, ctx.db, paidEvent('evt_pay_lost', order, `tpay_x${TEST_REFUND_UNANSWERED_SUFFIX}`))).body.outcome).toBe('applied');

    // The provider may have refunded: nothing is freed, and no second refund can take the same money.
    const sent = expectOk(await refund(shop, order.id, { amount_minor: 6_000, reason: '退款' }, 'k'), 201);
    expect([sent.status, sent.amount_minor]).toEqual(['pending', 6_000]);
    const more = await refund(shop, order.id, { amount_minor: 1, reason: '再退' }, 'k2');
    expect([more.status, more.body.code]).toEqual([409, 'refund_exceeds_remaining']);
    let fx = await effectsOf(ctx.db, order.id);
    expect([fx.order.status, Number(fx.order.refunded_minor), Number(fx.order.refund_pending_minor), fx.entries]).toEqual(['paid', 0, 6_000, 2]);
    expect((await eventsOf('refund_failed', order.id)).length).toBe(0);

    const ok = await deliver(ctx.server, ctx.db, refundEvent('evt_lost_ok', 'refund.succeeded', order, { ref: 'tref_lost', refundId: sent.id }));
    expect(ok.body.outcome).toBe('applied');
    fx = await effectsOf(ctx.db, order.id);
    expect([fx.order.status, Number(fx.order.refunded_minor), Number(fx.order.refund_pending_minor), fx.sum]).toEqual(['refunded', 6_000, 0, 0]);
  });

  it('refuses to refund an order whose provider is no longer configured, claiming nothing; a stalled one of it waits for the provider', async () => {
    const shop = await openShop(ctx.server);
    const course = await addProduct(shop, { type: 'course', name: '摄影课', price_minor: 4_000 });
    const me = await addMember(ctx.server, shop, '小影');
    const order = await buyAndPay(ctx.server, me.client, course.id, 'o');
    const deps = ctx.server.app.deps;
    const stalled = await deps.db.transaction().execute(async (trx) =>
      claimRefund(trx, (await findOrderById(trx, order.id))!, { amountMinor: 1_000, reason: 'crash', idempotencyKey: 'crashed', requestHash: null, actorUserId: null }, clock.now().toISOString()),
    );
    // As if the install had since dropped the provider the order was paid through.
    await deps.db.updateTable('orders').set({ provider: 'stripe' }).where('id', '=', order.id).execute();

    const refused = await refund(shop, order.id, { amount_minor: 1_000, reason: '退款' }, 'k');
    expect([refused.status, refused.body.code]).toEqual([409, 'provider_not_enabled']);
    clock.advance(60_001);
    expect(await retryStalledRefunds(deps)).toBe(0);
    const rows = await deps.db.selectFrom('refunds').select(['id', 'status']).where('order_id', '=', order.id).execute();
    expect(rows).toEqual([{ id: stalled.id, status: 'pending' }]);
    const fx = await effectsOf(ctx.db, order.id);
    expect([Number(fx.order.refund_pending_minor), Number(fx.order.refunded_minor)]).toEqual([1_000, 0]);
  });

  it('sends again, after a minute, a refund claimed by a process that stopped before calling the provider', async () => {
    const shop = await openShop(ctx.server);
    const course = await addProduct(shop, { type: 'course', name: '阅读课', price_minor: 8_000 });
    const me = await addMember(ctx.server, shop, '小刚');
    const order = await buyAndPay(ctx.server, me.client, course.id, 'o');
    const deps = ctx.server.app.deps;
    // Step one of refundOrder, and then nothing: what a crash before the provider call leaves.
    const row = await deps.db.transaction().execute(async (trx) =>
      claimRefund(trx, (await findOrderById(trx, order.id))!, { amountMinor: 3_000, reason: 'crash', idempotencyKey: 'crashed', requestHash: null, actorUserId: null }, clock.now().toISOString()),
    );

    // A refund made at the provider meanwhile could be this one: it waits until ours has its reference.
    const unmatched = await deliver(ctx.server, ctx.db, refundEvent('evt_provider', 'refund.succeeded', order, { ref: 'tref_dashboard', amount: 1_000 }));
    expect([unmatched.status, unmatched.body.code]).toEqual([409, 'refund_unmatched']);

    expect(await retryStalledRefunds(deps)).toBe(0);
    clock.advance(60_001);
    expect(await retryStalledRefunds(deps)).toBe(1);
    expect(await retryStalledRefunds(deps)).toBe(0);
    const sent = await refundRow(row.id);
    expect([sent.status, sent.provider_ref?.startsWith('tref_')]).toEqual(['pending', true]);
    expect((await deliver(ctx.server, ctx.db, refundEvent('evt_ours', 'refund.succeeded', order, { ref: sent.provider_ref!, amount: 3_000 }))).body.outcome).toBe('applied');

    // Redelivered, the refund made at the provider now applies as its own refund.
    expect((await deliver(ctx.server, ctx.db, refundEvent('evt_provider', 'refund.succeeded', order, { ref: 'tref_dashboard', amount: 1_000 }))).body.outcome).toBe('applied');
    const fx = await effectsOf(ctx.db, order.id);
    expect([fx.order.status, Number(fx.order.refunded_minor), fx.byAccount.refunds]).toEqual(['partially_refunded', 4_000, 4_000]);
    const shown = expectOk(await shop.staff.get(`${shop.base}/orders/${order.id}`));
    expect(shown.refunds.map((r: any) => [r.amount_minor, r.status, r.reason])).toEqual([
      [3_000, 'succeeded', 'crash'],
      [1_000, 'succeeded', 'refunded at the provider'],
    ]);
  });

  it('checks that succeeded refunds have their entries and pending or failed ones have none', async () => {
    const k = ctx.db.handle.db;
    const shop = await openShop(ctx.server);
    const course = await addProduct(shop, { type: 'course', name: '课', price_minor: 2_000 });
    const me = await addMember(ctx.server, shop, '小李');
    const order = await buyAndPay(ctx.server, me.client, course.id, 'o');
    const open = expectOk(await refund(shop, order.id, { amount_minor: 500, reason: 'pending' }, 'p'), 201);
    expect((await checkLedger(k)).violations).toEqual([]);

    // Entries for money that never moved are a violation.
    await k
      .insertInto('ledger_entries')
      .values([
        { community_id: shop.communityId, order_id: order.id, refund_id: open.id, currency: 'CNY', account: 'customer_payments', amount_minor: -500, created_at: clock.now().toISOString() },
        { community_id: shop.communityId, order_id: order.id, refund_id: open.id, currency: 'CNY', account: 'refunds', amount_minor: 500, created_at: clock.now().toISOString() },
      ])
      .execute();
    expect((await checkLedger(k)).violations).toEqual([
      `order ${order.id} (paid): ledger says 500 refunded, the order 0`,
      `refund ${open.id} (pending) of order ${order.id}: has 2 ledger entries though no money moved`,
    ]);
  });
});
