import { expect, it } from 'vitest';
import { describeEachDialect, expectOk, useServer } from '../../test/harness.js';
import { checkLedger } from './ledger.check.js';
import { addMember, addProduct, buy, buyAndPay, clickPay, effectsOf, openShop } from '../../test/money.js';

describeEachDialect('orders: idempotent creation, server prices, last-unit concurrency', (dialect) => {
  const ctx = useServer(dialect);

  it('creates one order per Idempotency-Key, priced by the product, and refuses the key for another body', async () => {
    const shop = await openShop(ctx.server);
    const course = await addProduct(shop, { type: 'course', name: '写作课', price_minor: 69_900 });
    const trial = await addProduct(shop, { type: 'course', name: '试听课', price_minor: 990 });
    const me = await addMember(ctx.server, shop, '小明');

    const first = await buy(me.client, course.id, 'key-1');
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ status: 'pending', amount_minor: 69_900, currency: 'CNY', member_id: me.id, product_id: course.id, refunded_minor: 0, provider: 'test' });
    expect(first.body.checkout_url).toMatch(/^http:\/\/yutang\.test\/pay\/ck_[\w-]{43}$/);

    const retries = await Promise.all(Array.from({ length: 10 }, () => buy(me.client, course.id, 'key-1')));
    expect(retries.map((r) => [r.status, r.body.id])).toEqual(Array.from({ length: 10 }, () => [200, first.body.id]));

    const reused = await buy(me.client, trial.id, 'key-1');
    expect([reused.status, reused.body.code]).toEqual([409, 'idempotency_key_reused']);
    expect(reused.headers.get('content-type')).toMatch(/^application\/problem\+json/);

    // Ten first attempts at once with a fresh key: one order, created once.
    const racing = await Promise.all(Array.from({ length: 10 }, () => buy(me.client, trial.id, 'key-race')));
    expect(new Set(racing.map((r) => r.body.id)).size).toBe(1);
    expect(racing.map((r) => r.status).sort()).toEqual([...Array.from({ length: 9 }, () => 200), 201]);

    // The client never sends a price: a price field is an unknown field.
    const priced = await me.client.request('POST', '/api/v1/member/orders', { product_id: course.id, amount_minor: 1 }, { 'idempotency-key': 'key-2' });
    expect([priced.status, priced.body.errors]).toEqual([400, [{ field: 'amount_minor', message: 'unknown field' }]]);
    const keyless = await me.client.post('/api/v1/member/orders', { product_id: course.id });
    expect([keyless.status, keyless.body.code, keyless.body.errors[0].field]).toEqual([400, 'validation_failed', 'headers.idempotency-key']);

    // Another member may use the same key: keys are per member.
    const other = await addMember(ctx.server, shop, '小红');
    const theirs = expectOk(await buy(other.client, course.id, 'key-1'), 201);
    expect(theirs.id).not.toBe(first.body.id);

    const staff = expectOk(await shop.owner.get(`${shop.base}/orders`));
    expect(staff.orders.map((o: any) => o.id).sort()).toEqual([first.body.id, racing[0]!.body.id, theirs.id].sort());
    const mine = expectOk(await me.client.get('/api/v1/member/orders'));
    expect(mine.orders.map((o: any) => o.id).sort()).toEqual([first.body.id, racing[0]!.body.id].sort());
    const created = await ctx.db.handle.db.selectFrom('events').select('props').where('type', '=', 'order_created').where('community_id', '=', shop.communityId).execute();
    expect(created.length).toBe(3);
  });

  it('pays through the checkout: one paid order, balanced ledger entries, an order_paid event; a paid order cannot be paid again', async () => {
    const shop = await openShop(ctx.server);
    const course = await addProduct(shop, { type: 'course', name: '写作课', price_minor: 69_900 });
    const me = await addMember(ctx.server, shop, '小明');
    const order = await buyAndPay(ctx.server, me.client, course.id, 'k');
    const again = await clickPay(ctx.server, order);
    expect([again.status, again.body.code]).toEqual([409, 'order_not_payable']);

    const fx = await effectsOf(ctx.db, order.id);
    expect(fx.order.status).toBe('paid');
    expect(fx.order.provider_ref).toMatch(/^tpay_/);
    expect(fx.byAccount).toEqual({ customer_payments: 69_900, revenue: -69_900 });
    expect([fx.entries, fx.sum, fx.events]).toEqual([2, 0, ['order_paid']]);
    const shown = expectOk(await shop.owner.get(`${shop.base}/orders/${order.id}`));
    expect([shown.status, shown.checkout_url, shown.refunds]).toEqual(['paid', null, []]);

    // A failed payment cancels a pending order and moves no money.
    // The member confirms buying the course again (see duplicates.test.ts for the warning).
    const second = expectOk(await buy(me.client, course.id, 'k2', { allowDuplicate: true }), 201);
    expect(expectOk(await clickPay(ctx.server, second, 'fail')).status).toBe('cancelled');
    const failed = await effectsOf(ctx.db, second.id);
    expect([failed.order.status, failed.entries, failed.order.provider_ref]).toEqual(['cancelled', 0, null]);

    const page = await fetch(order.checkout_url.replace('http://yutang.test', ctx.server.url));
    expect(page.status).toBe(200);
    const missing = await fetch(`${ctx.server.url}/pay/ck_${'x'.repeat(43)}`);
    expect([missing.status, (await missing.json()).code]).toEqual([404, 'checkout_not_found']);
  });

  it('sells the last unit once: 20 parallel buyers, one order holds it, 19 out_of_stock before anyone is sent to pay', async () => {
    const shop = await openShop(ctx.server);
    const book = await addProduct(shop, { type: 'goods', name: '签名书', price_minor: 12_800, stock: 1 });
    const buyers = await Promise.all(Array.from({ length: 20 }, (_, i) => addMember(ctx.server, shop, `买家${i}`)));
    const results = await Promise.all(buyers.map((b) => buy(b.client, book.id, 'last-one')));

    const created = results.filter((r) => r.status === 201);
    expect(created.length).toBe(1);
    const refused = results.filter((r) => r.status !== 201);
    expect(refused.map((r) => [r.status, r.body.code])).toEqual(Array.from({ length: 19 }, () => [409, 'out_of_stock']));
    // The 19 got no order, hence no checkout URL: nobody is sent to pay for a unit that is gone.
    const stock = async () => (await ctx.db.handle.db.selectFrom('products').select('stock').where('id', '=', book.id).executeTakeFirstOrThrow()).stock;
    expect(await stock()).toBe(0);
    let rows = await ctx.db.handle.db.selectFrom('orders').selectAll().where('product_id', '=', book.id).execute();
    expect(rows.map((o) => [o.id, o.status, o.stock_reserved])).toEqual([[created[0]!.body.id, 'pending', 1]]);

    expect(expectOk(await clickPay(ctx.server, created[0]!.body)).status).toBe('paid');
    expect(await stock()).toBe(0);
    rows = await ctx.db.handle.db.selectFrom('orders').selectAll().where('product_id', '=', book.id).execute();
    expect(rows.map((o) => o.status)).toEqual(['paid']);
    const entries = await ctx.db.handle.db.selectFrom('ledger_entries').select('order_id').where('community_id', '=', shop.communityId).execute();
    expect(new Set(entries.map((e) => e.order_id))).toEqual(new Set([rows[0]!.id]));
    const paidEvents = await ctx.db.handle.db.selectFrom('events').select('id').where('community_id', '=', shop.communityId).where('type', '=', 'order_paid').execute();
    expect(paidEvents.length).toBe(1);

    // A new order for the sold-out product is refused up front.
    const late = await buy(buyers[0]!.client, book.id, 'too-late');
    expect([late.status, late.body.code]).toEqual([409, 'out_of_stock']);
  });

  it('keeps the ledger append-only and balanced', async () => {
    const k = ctx.db.handle.db;
    const entry = await k.selectFrom('ledger_entries').select('id').executeTakeFirstOrThrow();
    await expect(k.updateTable('ledger_entries').set({ amount_minor: 1 }).where('id', '=', entry.id).execute()).rejects.toThrow(/append-only/);
    await expect(k.deleteFrom('ledger_entries').where('id', '=', entry.id).execute()).rejects.toThrow(/append-only/);
    const report = await checkLedger(k);
    expect(report.violations).toEqual([]);
    expect(report.paid_orders).toBe(2);
    expect(report.totals).toEqual({ CNY: { paid_minor: 69_900 + 12_800, refunded_minor: 0, fees_minor: 0, net_minor: 69_900 + 12_800 } });
  });
});
