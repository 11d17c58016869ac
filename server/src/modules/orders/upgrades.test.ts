import { expect, it } from 'vitest';
import { fixedClock } from '../../lib/clock.js';
import { type Client, describeEachDialect, expectOk, useServer } from '../../test/harness.js';
import { checkLedger } from './ledger.check.js';
import { unusedCredit } from './upgrades.service.js';
import { addMember, addProduct, buyAndPay, clickPay, effectsOf, openShop, refund } from '../../test/money.js';

const at = (iso: string) => new Date(iso);

describeEachDialect('membership upgrades: the unused part is credited', (dialect) => {
  const clock = fixedClock(at('2026-01-01T00:00:00.000Z'));
  const ctx = useServer(dialect, { clock });

  const upgrade = (member: Client, membershipId: string, productId: string, key: string) =>
    member.request('POST', `/api/v1/member/memberships/${membershipId}/upgrade`, { product_id: productId }, { 'idempotency-key': key });
  const chainOf = (memberId: string) =>
    ctx.db.handle.db
      .selectFrom('memberships')
      .select(['order_id', 'product_id', 'starts_at', 'expires_at', 'revoked_at', 'revoke_reason'])
      .where('member_id', '=', memberId)
      .orderBy('created_at')
      .orderBy('starts_at')
      .orderBy('expires_at')
      .execute();

  it('credits the unused, paid-for part of the chain; paying ends the chain and starts the new membership now; a refund does not revive it', async () => {
    clock.set(at('2026-01-01T00:00:00.000Z'));
    const shop = await openShop(ctx.server);
    const annual = await addProduct(shop, { type: 'membership', name: '年卡', price_minor: 36_599, term: 'annual' });
    const forever = await addProduct(shop, { type: 'membership', name: '终身会员', price_minor: 100_000, term: 'permanent' });
    const me = await addMember(ctx.server, shop, '小明');
    const y1 = await buyAndPay(ctx.server, me.client, annual.id, 'y1'); // 2026-01-01 → 2027-01-01
    clock.set(at('2026-06-01T00:00:00.000Z'));
    const y2 = await buyAndPay(ctx.server, me.client, annual.id, 'y2'); // renewal: 2027-01-01 → 2028-01-01
    expectOk(await refund(shop, y2.id, { amount_minor: 1_000, reason: '优惠' }, 'discount'), 201); // the renewal cost 35,599 in the end

    clock.set(at('2026-06-01T12:00:00.000Z'));
    // Unused: 213.5 of the first year's 365 days (29.5 left in June + 184 from July to December) of
    // 36,599 = 21,407.908…, plus the whole second year, 35,599: 57,006.908… → 57,006 (rounded down).
    const created = await upgrade(me.client, await membershipIdOf(y1.id), forever.id, 'up');
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ status: 'pending', product_id: forever.id, credit_minor: 57_006, amount_minor: 100_000 - 57_006, refunded_minor: 0 });
    expect(created.body.upgrade_from_membership_id).toBe(await membershipIdOf(y1.id));
    const retry = await upgrade(me.client, await membershipIdOf(y1.id), forever.id, 'up');
    expect([retry.status, retry.body.id]).toEqual([200, created.body.id]);
    // Named from the renewal, it is the same chain: a second upgrade order is a duplicate while this one waits.
    const second = await upgrade(me.client, await membershipIdOf(y2.id), forever.id, 'up-2');
    expect([second.status, second.body.code, second.body.existing_order_id]).toEqual([409, 'duplicate_purchase', created.body.id]);

    expect(expectOk(await clickPay(ctx.server, created.body)).status).toBe('paid');
    const now = '2026-06-01T12:00:00.000Z';
    const fx = await effectsOf(ctx.db, created.body.id);
    expect(await chainOf(me.id)).toEqual([
      { order_id: y1.id, product_id: annual.id, starts_at: '2026-01-01T00:00:00.000Z', expires_at: now, revoked_at: now, revoke_reason: 'upgraded' },
      { order_id: y2.id, product_id: annual.id, starts_at: '2027-01-01T00:00:00.000Z', expires_at: '2027-01-01T00:00:00.000Z', revoked_at: now, revoke_reason: 'upgraded' },
      { order_id: created.body.id, product_id: forever.id, starts_at: now, expires_at: null, revoked_at: null, revoke_reason: null },
    ]);
    // Only the money paid is in the ledger.
    expect(fx.byAccount).toEqual({ customer_payments: 42_994, revenue: -42_994 });
    const upgraded = await ctx.db.handle.db.selectFrom('events').select('props').where('type', '=', 'membership_upgraded').where('member_id', '=', me.id).execute();
    expect(upgraded.map((e) => (typeof e.props === 'string' ? JSON.parse(e.props) : e.props))).toEqual([
      { order_id: created.body.id, from_product_id: annual.id, to_product_id: forever.id, ended: [await membershipIdOf(y1.id), await membershipIdOf(y2.id)], credit_minor: 57_006 },
    ]);

    // Refunding the upgrade ends the permanent membership; the annual chain stays ended.
    clock.set(at('2026-06-02T00:00:00.000Z'));
    expectOk(await refund(shop, created.body.id, { amount_minor: 42_994, reason: '不要了' }, 'undo'), 201);
    expect((await chainOf(me.id)).map((m) => [m.product_id, m.revoked_at, m.revoke_reason])).toEqual([
      [annual.id, now, 'upgraded'],
      [annual.id, now, 'upgraded'],
      [forever.id, '2026-06-02T00:00:00.000Z', 'refunded'],
    ]);
    const gone = await upgrade(me.client, await membershipIdOf(y1.id), forever.id, 'up-3');
    expect([gone.status, gone.body.code]).toEqual([409, 'membership_not_active']);
  });

  it('pays an upgrade covered by its credit at once, without a provider and without ledger entries', async () => {
    clock.set(at('2026-06-01T12:00:00.000Z'));
    const shop = await openShop(ctx.server);
    const annual = await addProduct(shop, { type: 'membership', name: '年卡', price_minor: 36_599, term: 'annual' });
    const monthly = await addProduct(shop, { type: 'membership', name: '月卡', price_minor: 3_000, term: 'days', term_days: 30 });
    const me = await addMember(ctx.server, shop, '小红');
    const year = await buyAndPay(ctx.server, me.client, annual.id, 'y');
    // Nothing used yet: the credit is the whole 36,599, more than the 3,000 month; the rest is not paid out.
    const order = expectOk(await upgrade(me.client, await membershipIdOf(year.id), monthly.id, 'down'), 201);
    expect(order).toMatchObject({ status: 'paid', amount_minor: 0, credit_minor: 3_000, provider: 'none', provider_ref: null, checkout_url: null });
    expect((await effectsOf(ctx.db, order.id)).entries).toBe(0);
    expect((await chainOf(me.id)).map((m) => [m.product_id, m.starts_at, m.expires_at, m.revoke_reason])).toEqual([
      [annual.id, '2026-06-01T12:00:00.000Z', '2026-06-01T12:00:00.000Z', 'upgraded'],
      [monthly.id, '2026-06-01T12:00:00.000Z', '2026-07-01T12:00:00.000Z', null],
    ]);
    const nothing = await refund(shop, order.id, { amount_minor: 1, reason: 'free' }, 'r');
    expect([nothing.status, nothing.body.code]).toEqual([409, 'order_not_refundable']);
  });

  it('lets staff create the upgrade order for a member, and refuses what is not an upgrade', async () => {
    clock.set(at('2026-06-01T12:00:00.000Z'));
    const shop = await openShop(ctx.server);
    const annual = await addProduct(shop, { type: 'membership', name: '年卡', price_minor: 36_599, term: 'annual' });
    const monthly = await addProduct(shop, { type: 'membership', name: '月卡', price_minor: 3_000, term: 'days', term_days: 30 });
    const course = await addProduct(shop, { type: 'course', name: '课', price_minor: 990 });
    const me = await addMember(ctx.server, shop, '小刚');
    const other = await addMember(ctx.server, shop, '别人');
    const month = await buyAndPay(ctx.server, me.client, monthly.id, 'm');
    const mid = await membershipIdOf(month.id);

    clock.set(at('2026-06-11T12:00:00.000Z'));
    // 20 of 30 days left of 3,000: 2,000.
    const staffUp = (productId: string, key: string) => shop.staff.request('POST', `${shop.base}/memberships/${mid}/upgrade`, { product_id: productId }, { 'idempotency-key': key });
    const order = expectOk(await staffUp(annual.id, 'staff-up'), 201);
    expect(order).toMatchObject({ member_id: me.id, status: 'pending', credit_minor: 2_000, amount_minor: 34_599 });
    clock.advance(60_000);
    expect(expectOk(await clickPay(ctx.server, order)).status).toBe('paid');
    expect((await chainOf(me.id)).map((m) => [m.product_id, m.starts_at, m.expires_at, m.revoke_reason])).toEqual([
      [monthly.id, '2026-06-01T12:00:00.000Z', '2026-06-11T12:01:00.000Z', 'upgraded'],
      [annual.id, '2026-06-11T12:01:00.000Z', '2027-06-11T12:01:00.000Z', null],
    ]);

    const yearId = (await chainOf(me.id))[1]!.order_id!;
    const current = await membershipIdOf(yearId);
    const cases: [Client, string, string, number, string][] = [
      [me.client, current, annual.id, 409, 'membership_not_upgradable'],
      [me.client, current, course.id, 409, 'membership_not_upgradable'],
      [me.client, current, 'prd_none', 404, 'product_not_found'],
      [other.client, current, monthly.id, 404, 'membership_not_found'],
    ];
    for (const [client, membershipId, productId, status, code] of cases) {
      const r = await upgrade(client, membershipId, productId, `bad-${code}-${productId}`);
      expect([r.status, r.body.code], `${code} ${productId}`).toEqual([status, code]);
    }
    expect((await checkLedger(ctx.db.handle.db)).violations).toEqual([]);
  });

  it('credits a chain once: of two upgrade orders open on it, the one paid second grants nothing and is flagged for refund', async () => {
    clock.set(at('2026-06-01T12:00:00.000Z'));
    const shop = await openShop(ctx.server);
    const annual = await addProduct(shop, { type: 'membership', name: '年卡', price_minor: 36_500, term: 'annual' });
    const forever = await addProduct(shop, { type: 'membership', name: '终身会员', price_minor: 100_000, term: 'permanent' });
    const twoYears = await addProduct(shop, { type: 'membership', name: '两年卡', price_minor: 60_000, term: 'days', term_days: 730 });
    const me = await addMember(ctx.server, shop, '小亮');
    const year = await buyAndPay(ctx.server, me.client, annual.id, 'y'); // nothing used yet: the whole 36,500 is credit
    const mid = await membershipIdOf(year.id);
    const toForever = expectOk(await upgrade(me.client, mid, forever.id, 'up-forever'), 201);
    const toTwoYears = expectOk(await upgrade(me.client, mid, twoYears.id, 'up-two'), 201);
    expect([toForever.credit_minor, toTwoYears.credit_minor]).toEqual([36_500, 36_500]);

    clock.advance(60_000);
    expect(expectOk(await clickPay(ctx.server, toForever)).status).toBe('paid');
    expect(expectOk(await clickPay(ctx.server, toTwoYears)).status).toBe('paid');
    expect((await chainOf(me.id)).map((m) => [m.order_id, m.revoke_reason])).toEqual([
      [year.id, 'upgraded'],
      [toForever.id, null],
    ]);
    const second = await effectsOf(ctx.db, toTwoYears.id);
    expect([second.order.duplicate_of_order_id, second.memberships.length, second.byAccount.customer_payments]).toEqual([toForever.id, 0, 60_000 - 36_500]);
    expect((await checkLedger(ctx.db.handle.db)).violations).toEqual([]);
  });

  it('sums the credit exactly and rounds down once; a permanent period is never used up', () => {
    const now = Date.parse('2026-01-11T00:00:00.000Z');
    // A third of 1,000 left (10 of 30 days) is 333.33…, twice: 666.66… → 666, not 333 + 333.
    const third = { starts_at: '2025-12-22T00:00:00.000Z', expires_at: '2026-01-21T00:00:00.000Z', paid_minor: 1_000 };
    expect(unusedCredit([third, third], now)).toBe(666);
    expect(unusedCredit([{ starts_at: '2020-01-01T00:00:00.000Z', expires_at: null, paid_minor: 50_000 }, third], now)).toBe(50_333);
    expect(unusedCredit([{ ...third, expires_at: '2026-01-01T00:00:00.000Z' }], now)).toBe(0);
  });

  async function membershipIdOf(orderId: string) {
    return (await ctx.db.handle.db.selectFrom('memberships').select('id').where('order_id', '=', orderId).executeTakeFirstOrThrow()).id;
  }
});
