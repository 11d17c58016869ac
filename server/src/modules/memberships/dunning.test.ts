import { expect, it } from 'vitest';
import { fixedClock } from '../../lib/clock.js';
import { Client, describeEachDialect, expectOk, useServer } from '../../test/harness.js';
import { addMember, addProduct, buy, buyAndPay, clickPay, deliver, effectsOf, openShop, paidEvent, tokenOf, type Shop } from '../../test/money.js';
import { runMembershipJobs, type MembershipJobsReport } from './index.js';

/**
 * Automatic renewal and dunning. The test provider's saved methods behave like Stripe's test cards:
 * `ok` ones are charged, `declines` ones are declined. Defaults: charged 24 h before expiry,
 * retried 1, 3 and 5 days after the first failure, 7 days of grace. Dates are worked out by hand.
 */
describeEachDialect('automatic renewal and dunning', (dialect) => {
  const clock = fixedClock(new Date('2026-05-01T08:00:00.000Z'));
  const ctx = useServer(dialect, { clock });
  const db = () => ctx.db.handle.db;
  const run = () => runMembershipJobs(ctx.server.app.deps);
  const at = async (iso: string) => {
    clock.set(new Date(iso));
    await run();
    await run();
  };

  interface Setup {
    shop: Shop;
    groupId: string;
    productId: string;
  }
  /** A shop whose 30-day membership (¥30) opens the group its link seats people in; optionally its own grace window. */
  async function setup(graceDays?: number): Promise<Setup> {
    const shop = await openShop(ctx.server);
    if (graceDays !== undefined) expectOk(await shop.staff.patch(shop.base, { renewal_grace_days: graceDays }));
    const groupId = expectOk(await shop.staff.get(`${shop.base}/groups`)).groups[0].id as string;
    const product = await addProduct(shop, { type: 'membership', name: '月度会员', price_minor: 3_000, term: 'days', term_days: 30, group_ids: [groupId] });
    return { shop, groupId, productId: product.id };
  }
  /** A member seated in the group who pays the membership at the checkout, saving a method (or not). */
  async function member(s: Setup, name: string, save?: 'ok' | 'declines') {
    const m = await addMember(ctx.server, s.shop, name);
    expect(expectOk(await m.client.get('/api/v1/member')).member.group_id).toBe(s.groupId);
    const order = expectOk(await buy(m.client, s.productId, `first-${m.id}`), 201);
    expect(expectOk(await clickPay(ctx.server, order, 'pay', save ? { save_method: save } : {})).status).toBe('paid');
    const membershipId = (await effectsOf(ctx.db, order.id)).memberships[0]!.id;
    return { ...m, membershipId };
  }
  type Member = Awaited<ReturnType<typeof member>>;

  const events = (communityId: string, type: string) =>
    db()
      .selectFrom('events')
      .select(['member_id', 'group_id', 'occurred_at', 'props'])
      .where('community_id', '=', communityId)
      .where('type', '=', type)
      .orderBy('id')
      .execute()
      .then((rows) => rows.map((r) => ({ ...r, props: typeof r.props === 'string' ? JSON.parse(r.props) : r.props })));
  const failures = async (s: Setup, m: Member) =>
    (await events(s.shop.communityId, 'renewal_payment_failed')).filter((e) => e.member_id === m.id).map((e) => [e.occurred_at, e.props.attempt, e.props.next_retry_at]);
  const expired = async (s: Setup) => (await events(s.shop.communityId, 'membership_expired')).map((e) => [e.member_id, e.props.reason]);
  const membership = (id: string) => db().selectFrom('memberships').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
  /** The member's periods of the product, oldest first: [starts_at, expires_at]. */
  const periods = async (m: Member) =>
    (await db().selectFrom('memberships').select(['starts_at', 'expires_at']).where('member_id', '=', m.id).orderBy('starts_at').execute()).map((p) => [p.starts_at, p.expires_at]);
  const renewalOrders = (membershipId: string) => db().selectFrom('orders').selectAll().where('renews_membership_id', '=', membershipId).execute();
  const attempts = async (membershipId: string) =>
    (await db().selectFrom('membership_renewal_attempts').select(['attempt', 'outcome', 'attempted_at']).where('membership_id', '=', membershipId).orderBy('attempt').execute()).map((a) => [
      a.attempt,
      a.outcome,
      a.attempted_at,
    ]);
  const seatOf = async (m: Member) => (await db().selectFrom('members').select(['current_group_id', 'status', 'removal_reason']).where('id', '=', m.id).executeTakeFirstOrThrow());
  /** The chain's state as the member sees it (turning renewal on again changes nothing when it is on). */
  const state = async (m: Member) => expectOk(await m.client.post(`/api/v1/member/memberships/${m.membershipId}/auto-renew`, { enabled: true }));

  it('charges the saved method 24 h before expiry and extends from the expiry, exactly once however the runs overlap', async () => {
    clock.set(new Date('2026-05-01T08:00:00.000Z'));
    const s = await setup();
    const a = await member(s, '小明', 'ok'); // expires 2026-05-31T08:00Z
    // A method saved through a provider webhook counts the same.
    const b = { ...(await addMember(ctx.server, s.shop, '小红')), membershipId: '' };
    const order = expectOk(await buy(b.client, s.productId, 'b-1'), 201);
    const paid = { ...paidEvent('evt_b1', order), data: { ...paidEvent('evt_b1', order).data, payment_method_ref: 'tpm_ok_from_webhook' } };
    expect((await deliver(ctx.server, ctx.db, paid)).body.outcome).toBe('applied');
    b.membershipId = (await effectsOf(ctx.db, order.id)).memberships[0]!.id;

    expect((await events(s.shop.communityId, 'payment_method_saved')).map((e) => e.member_id)).toEqual([a.id, b.id]);
    expect((await events(s.shop.communityId, 'membership_auto_renew_changed')).map((e) => [e.member_id, e.props.enabled, e.props.cause])).toEqual([
      [a.id, true, 'payment_method_saved'],
      [b.id, true, 'payment_method_saved'],
    ]);
    expect(await state(a)).toMatchObject({ auto_renew: true, past_due: false, past_due_since: null, expires_at: '2026-05-31T08:00:00.000Z' });

    await at('2026-05-30T07:59:59.999Z');
    expect(await renewalOrders(a.membershipId)).toEqual([]);

    clock.set(new Date('2026-05-30T08:00:00.000Z'));
    const reports: MembershipJobsReport[] = await Promise.all([run(), run(), run(), run()]);
    reports.push(await run());
    expect(reports.reduce((n, r) => n + r.renewals_charged, 0)).toBe(2);
    expect(reports.reduce((n, r) => n + r.renewals_failed, 0)).toBe(0);
    for (const m of [a, b]) {
      const orders = await renewalOrders(m.membershipId);
      expect(orders.map((o) => [o.status, Number(o.amount_minor), o.idempotency_key, o.paid_at])).toEqual([['paid', 3_000, `renewal:${m.membershipId}`, '2026-05-30T08:00:00.000Z']]);
      const fx = await effectsOf(ctx.db, orders[0]!.id);
      expect([fx.sum, fx.byAccount.customer_payments, fx.events]).toEqual([0, 3_000, ['membership_granted', 'order_paid']]);
      expect(await periods(m)).toEqual([
        ['2026-05-01T08:00:00.000Z', '2026-05-31T08:00:00.000Z'],
        ['2026-05-31T08:00:00.000Z', '2026-06-30T08:00:00.000Z'],
      ]);
      expect(await attempts(m.membershipId)).toEqual([[0, 'succeeded', '2026-05-30T08:00:00.000Z']]);
    }
    expect(await state(a)).toMatchObject({ auto_renew: true, past_due: false, expires_at: '2026-06-30T08:00:00.000Z' });

    // The next period renews the same way, a day before it ends.
    await at('2026-06-29T08:00:00.000Z');
    expect((await periods(a)).at(-1)).toEqual(['2026-06-30T08:00:00.000Z', '2026-07-30T08:00:00.000Z']);
    expect(await events(s.shop.communityId, 'renewal_payment_failed')).toEqual([]);
  });

  it('a declined renewal: past due, retried 1, 3 and 5 days after the first failure, access kept through grace, then ended for payment_failed', async () => {
    clock.set(new Date('2026-07-01T08:00:00.000Z'));
    const s = await setup();
    const m = await member(s, '小刚', 'declines'); // expires 2026-07-31T08:00Z; grace until 2026-08-07T08:00Z

    await at('2026-07-30T07:59:59.999Z');
    expect(await failures(s, m)).toEqual([]);
    await at('2026-07-30T08:00:00.000Z'); // first charge: declined
    const [order] = await renewalOrders(m.membershipId);
    const shown = expectOk(await s.shop.staff.get(`${s.shop.base}/orders/${order!.id}`));
    expect([shown.status, shown.amount_minor]).toEqual(['pending', 3_000]);
    const [first] = await events(s.shop.communityId, 'renewal_payment_failed');
    expect(first!.props).toEqual({
      audience: ['member', 'staff'],
      membership_id: m.membershipId,
      product_id: s.productId,
      order_id: order!.id,
      failed_order_id: order!.id,
      amount_minor: 3_000,
      currency: 'CNY',
      pay_url: shown.checkout_url,
      attempt: 0,
      reason: 'card_declined',
      retryable: true,
      expires_at: '2026-07-31T08:00:00.000Z',
      grace_ends_at: '2026-08-07T08:00:00.000Z',
      past_due_since: '2026-07-30T08:00:00.000Z',
      next_retry_at: '2026-07-31T08:00:00.000Z',
    });
    expect(await state(m)).toMatchObject({ active: true, auto_renew: true, past_due: true, past_due_since: '2026-07-30T08:00:00.000Z' });

    for (const t of ['2026-07-30T20:00:00.000Z', '2026-07-31T07:59:59.999Z', '2026-07-31T08:00:00.000Z', '2026-08-01T08:00:00.000Z', '2026-08-02T08:00:00.000Z']) await at(t);
    for (const t of ['2026-08-03T08:00:00.000Z', '2026-08-04T08:00:00.000Z', '2026-08-05T08:00:00.000Z', '2026-08-06T08:00:00.000Z', '2026-08-07T07:59:59.999Z']) await at(t);
    expect(await failures(s, m)).toEqual([
      ['2026-07-30T08:00:00.000Z', 0, '2026-07-31T08:00:00.000Z'],
      ['2026-07-31T08:00:00.000Z', 1, '2026-08-02T08:00:00.000Z'],
      ['2026-08-02T08:00:00.000Z', 2, '2026-08-04T08:00:00.000Z'],
      ['2026-08-04T08:00:00.000Z', 3, null],
    ]);
    expect((await attempts(m.membershipId)).map(([n, outcome]) => [n, outcome])).toEqual([
      [0, 'failed'],
      [1, 'failed'],
      [2, 'failed'],
      [3, 'failed'],
    ]);
    expect(await renewalOrders(m.membershipId)).toHaveLength(1);
    // Expired, past due, still inside grace: the member keeps the seat.
    expect(await expired(s)).toEqual([]);
    expect(await seatOf(m)).toMatchObject({ current_group_id: s.groupId });
    expect(await state(m)).toMatchObject({ active: false, past_due: true, ended_at: null });

    await at('2026-08-07T08:00:00.000Z');
    expect(await expired(s)).toEqual([[m.id, 'payment_failed']]);
    expect((await events(s.shop.communityId, 'removed')).map((e) => [e.member_id, e.group_id, e.props.reason])).toEqual([[m.id, s.groupId, 'membership_expired']]);
    expect(await seatOf(m)).toEqual({ current_group_id: null, status: 'removed', removal_reason: 'membership_expired' });
    expect(await membership(m.membershipId)).toMatchObject({ ended_at: '2026-08-07T08:00:00.000Z', end_reason: 'payment_failed' });
    // The pay link closes with the grace window.
    expect((await renewalOrders(m.membershipId)).map((o) => o.status)).toEqual(['expired']);
    expect(await failures(s, m)).toHaveLength(4);
  });

  it('a retry succeeds once the member has saved a working method: past due clears, the renewal extends from the expiry', async () => {
    clock.set(new Date('2026-09-01T08:00:00.000Z'));
    const s = await setup();
    const m = await member(s, '小丽', 'declines'); // expires 2026-10-01T08:00Z
    await at('2026-09-30T08:00:00.000Z');
    expect(await failures(s, m)).toEqual([['2026-09-30T08:00:00.000Z', 0, '2026-10-01T08:00:00.000Z']]);

    // Buying something else with a working card makes that card the one renewals charge.
    clock.set(new Date('2026-09-30T12:00:00.000Z'));
    const course = await addProduct(s.shop, { type: 'course', name: '写作课', price_minor: 990 });
    const bought = expectOk(await buy(m.client, course.id, 'course'), 201);
    expect(expectOk(await clickPay(ctx.server, bought, 'pay', { save_method: 'ok' })).status).toBe('paid');

    await at('2026-10-01T08:00:00.000Z'); // retry 1
    expect(await periods(m)).toEqual([
      ['2026-09-01T08:00:00.000Z', '2026-10-01T08:00:00.000Z'],
      ['2026-10-01T08:00:00.000Z', '2026-10-31T08:00:00.000Z'],
    ]);
    expect(await state(m)).toMatchObject({ active: true, auto_renew: true, past_due: false, past_due_since: null, expires_at: '2026-10-31T08:00:00.000Z' });
    for (const t of ['2026-10-03T08:00:00.000Z', '2026-10-05T08:00:00.000Z', '2026-10-08T08:00:00.000Z']) await at(t);
    expect(await attempts(m.membershipId)).toEqual([
      [0, 'failed', '2026-09-30T08:00:00.000Z'],
      [1, 'succeeded', '2026-10-01T08:00:00.000Z'],
    ]);
    expect(await failures(s, m)).toHaveLength(1);
    expect(await expired(s)).toEqual([]);
    expect(await seatOf(m)).toMatchObject({ current_group_id: s.groupId });
  });

  it('paying the renewal order by hand from the pay link clears past due and extends from the old expiry', async () => {
    clock.set(new Date('2026-11-01T08:00:00.000Z'));
    const s = await setup();
    const m = await member(s, '小周', 'declines'); // expires 2026-12-01T08:00Z
    await at('2026-11-30T08:00:00.000Z');
    await at('2026-12-01T08:00:00.000Z');
    const [failed] = await events(s.shop.communityId, 'renewal_payment_failed');
    const link = { checkout_url: failed!.props.pay_url as string };

    // A failure at the pay link leaves the order payable and tells only the member.
    clock.set(new Date('2026-12-02T09:00:00.000Z'));
    expect(expectOk(await clickPay(ctx.server, link, 'fail')).status).toBe('pending');
    const byHand = (await events(s.shop.communityId, 'renewal_payment_failed')).at(-1)!;
    expect([byHand.props.audience, byHand.props.attempt, byHand.props.past_due_since, byHand.props.pay_url]).toEqual([['member'], null, null, link.checkout_url]);
    expect((await membership(m.membershipId)).past_due_since).toBe('2026-11-30T08:00:00.000Z');

    clock.set(new Date('2026-12-02T10:00:00.000Z'));
    expect(expectOk(await clickPay(ctx.server, link)).status).toBe('paid');
    expect(await periods(m)).toEqual([
      ['2026-11-01T08:00:00.000Z', '2026-12-01T08:00:00.000Z'],
      ['2026-12-01T08:00:00.000Z', '2026-12-31T08:00:00.000Z'],
    ]);
    expect(await state(m)).toMatchObject({ active: true, past_due: false, expires_at: '2026-12-31T08:00:00.000Z' });
    for (const t of ['2026-12-03T08:00:00.000Z', '2026-12-05T08:00:00.000Z', '2026-12-08T08:00:00.000Z']) await at(t);
    expect((await attempts(m.membershipId)).map(([n]) => n)).toEqual([0, 1]);
    expect(await failures(s, m)).toHaveLength(3);
    expect(await expired(s)).toEqual([]);
    expect(await seatOf(m)).toMatchObject({ current_group_id: s.groupId });
  });

  it('each community’s grace window (0 and 14 days) decides expiry, renewal extension and retries', async () => {
    clock.set(new Date('2027-01-01T08:00:00.000Z'));
    const zero = await setup(0);
    const fourteen = await setup(14);
    const fresh = await openShop(ctx.server);
    expect(expectOk(await fresh.staff.get(fresh.base)).renewal_grace_days).toBe(7);
    expect(expectOk(await zero.shop.staff.get(zero.shop.base)).renewal_grace_days).toBe(0);
    for (const bad of [61, -1, 1.5, '7']) {
      const res = await zero.shop.staff.patch(zero.shop.base, { renewal_grace_days: bad });
      expect([res.status, res.body.code, res.body.errors.map((e: { field: string }) => e.field)]).toEqual([400, 'validation_failed', ['renewal_grace_days']]);
    }
    // All expire 2027-01-31T08:00Z.
    const [a, b, e] = [await member(zero, '甲'), await member(zero, '乙'), await member(zero, '戊', 'declines')];
    const [c, d, f] = [await member(fourteen, '丙'), await member(fourteen, '丁'), await member(fourteen, '己', 'declines')];

    await at('2027-01-30T08:00:00.000Z'); // first charges: declined; no retry fits a 0-day grace
    expect(await failures(zero, e)).toEqual([['2027-01-30T08:00:00.000Z', 0, null]]);
    expect(await failures(fourteen, f)).toEqual([['2027-01-30T08:00:00.000Z', 0, '2027-01-31T08:00:00.000Z']]);
    await at('2027-01-31T07:59:59.999Z');
    expect(await expired(zero)).toEqual([]);

    // Grace 0: a renewal paid at the expiry instant extends from it; the expiry ends the others at once.
    clock.set(new Date('2027-01-31T08:00:00.000Z'));
    await buyAndPay(ctx.server, b.client, zero.productId, 'b-2');
    await run();
    await run();
    expect((await expired(zero)).sort()).toEqual([[a.id, 'not_renewed'], [e.id, 'payment_failed']].sort());
    expect(await seatOf(a)).toMatchObject({ current_group_id: null, removal_reason: 'membership_expired' });
    expect(await periods(b)).toEqual([
      ['2027-01-01T08:00:00.000Z', '2027-01-31T08:00:00.000Z'],
      ['2027-01-31T08:00:00.000Z', '2027-03-02T08:00:00.000Z'],
    ]);
    expect(await seatOf(b)).toMatchObject({ current_group_id: zero.groupId });
    expect((await attempts(e.membershipId)).map(([n]) => n)).toEqual([0]);
    // 1 ms later it is a new membership from the payment.
    clock.set(new Date('2027-01-31T08:00:00.001Z'));
    await buyAndPay(ctx.server, a.client, zero.productId, 'a-2');
    expect((await periods(a)).at(-1)).toEqual(['2027-01-31T08:00:00.001Z', '2027-03-02T08:00:00.001Z']);

    // Grace 14: retries on days 1, 3 and 5 all fit; access until 2027-02-14T08:00Z.
    for (const t of ['2027-02-02T08:00:00.000Z', '2027-02-04T08:00:00.000Z', '2027-02-14T07:59:59.999Z']) await at(t);
    expect((await failures(fourteen, f)).map(([time, n]) => [time, n])).toEqual([
      ['2027-01-30T08:00:00.000Z', 0],
      ['2027-01-31T08:00:00.000Z', 1],
      ['2027-02-02T08:00:00.000Z', 2],
      ['2027-02-04T08:00:00.000Z', 3],
    ]);
    expect(await expired(fourteen)).toEqual([]);
    expect(await seatOf(c)).toMatchObject({ current_group_id: fourteen.groupId });
    // Paid 14 days after the expiry: still a renewal from it (with the default 7 days it would start now).
    clock.set(new Date('2027-02-14T08:00:00.000Z'));
    await buyAndPay(ctx.server, d.client, fourteen.productId, 'd-2');
    expect((await periods(d)).at(-1)).toEqual(['2027-01-31T08:00:00.000Z', '2027-03-02T08:00:00.000Z']);
    await run();
    expect((await expired(fourteen)).sort()).toEqual([[c.id, 'not_renewed'], [f.id, 'payment_failed']].sort());
    expect(await seatOf(d)).toMatchObject({ current_group_id: fourteen.groupId });
  });

  it('turning automatic renewal off, or cancelling, stops the charges; turning it on needs a saved method', async () => {
    clock.set(new Date('2027-03-01T08:00:00.000Z'));
    const s = await setup();
    const [p, q, r, plain] = [await member(s, '子', 'ok'), await member(s, '丑', 'ok'), await member(s, '寅', 'declines'), await member(s, '卯')]; // all expire 2027-03-31T08:00Z
    const off = expectOk(await p.client.post(`/api/v1/member/memberships/${p.membershipId}/auto-renew`, { enabled: false }));
    expect(off).toMatchObject({ id: p.membershipId, auto_renew: false });
    expectOk(await p.client.post(`/api/v1/member/memberships/${p.membershipId}/auto-renew`, { enabled: false }));
    expect(expectOk(await q.client.post(`/api/v1/member/memberships/${q.membershipId}/cancel`, { reason: '不续了' }))).toMatchObject({ auto_renew: false, cancel_reason: '不续了' });
    const again = await q.client.post(`/api/v1/member/memberships/${q.membershipId}/auto-renew`, { enabled: true });
    expect([again.status, again.body.code]).toEqual([409, 'membership_not_active']);
    const noMethod = await plain.client.post(`/api/v1/member/memberships/${plain.membershipId}/auto-renew`, { enabled: true });
    expect([noMethod.status, noMethod.body.code]).toEqual([409, 'payment_method_required']);
    const notMine = await plain.client.post(`/api/v1/member/memberships/${p.membershipId}/auto-renew`, { enabled: false });
    expect([notMine.status, notMine.body.code]).toEqual([404, 'membership_not_found']);
    const changes = (await events(s.shop.communityId, 'membership_auto_renew_changed')).filter((e) => !e.props.enabled);
    expect(changes.map((e) => [e.member_id, e.props.cause])).toEqual([
      [p.id, 'member'],
      [q.id, 'cancelled'],
    ]);

    await at('2027-03-30T08:00:00.000Z');
    expect([...(await renewalOrders(p.membershipId)), ...(await renewalOrders(q.membershipId))]).toEqual([]);
    expect(await failures(s, r)).toHaveLength(1);
    // Past due, then switched off: no more retries.
    clock.set(new Date('2027-03-30T09:00:00.000Z'));
    expect(expectOk(await r.client.post(`/api/v1/member/memberships/${r.membershipId}/auto-renew`, { enabled: false }))).toMatchObject({ auto_renew: false, past_due: true });
    await at('2027-03-31T08:00:00.000Z');
    expect(await expired(s)).toEqual([[q.id, 'cancelled']]);
    for (const t of ['2027-04-02T08:00:00.000Z', '2027-04-04T08:00:00.000Z', '2027-04-07T08:00:00.000Z']) await at(t);
    expect((await attempts(r.membershipId)).map(([n]) => n)).toEqual([0]);
    expect((await expired(s)).sort()).toEqual([[q.id, 'cancelled'], [p.id, 'not_renewed'], [r.id, 'payment_failed'], [plain.id, 'not_renewed']].sort());
    expect(await renewalOrders(p.membershipId)).toEqual([]);
  });

  it('a manual renewal whose payment fails tells the member, with a pay link to the period’s renewal order', async () => {
    clock.set(new Date('2027-05-01T08:00:00.000Z'));
    const s = await setup();
    const [x, y] = [await member(s, '小辰'), await member(s, '小巳')]; // expire 2027-05-31T08:00Z
    const z = await addMember(ctx.server, s.shop, '小午');

    clock.set(new Date('2027-05-20T08:00:00.000Z'));
    const tried = expectOk(await buy(x.client, s.productId, 'x-2'), 201);
    expect(expectOk(await clickPay(ctx.server, tried, 'fail')).status).toBe('cancelled');
    const [renewal] = await renewalOrders(x.membershipId);
    expect([renewal!.status, renewal!.idempotency_key, renewal!.pay_until]).toEqual(['pending', `renewal:${x.membershipId}`, '2027-06-07T08:00:00.000Z']);
    const [ev] = await events(s.shop.communityId, 'renewal_payment_failed');
    expect(ev!.member_id).toBe(x.id);
    expect(ev!.props).toMatchObject({ audience: ['member'], order_id: renewal!.id, failed_order_id: tried.id, attempt: null, past_due_since: null, next_retry_at: null, grace_ends_at: '2027-06-07T08:00:00.000Z' });
    expect((await membership(x.membershipId)).past_due_since).toBeNull();

    // Through the provider's webhook too; a second failure points at the same renewal order. Buying
    // anew while that order waits is a duplicate purchase unless the member insists.
    const again = await buy(y.client, s.productId, 'y-0');
    expect(again.status).toBe(201);
    expect((await deliver(ctx.server, ctx.db, { id: 'evt_fail_y-0', type: 'payment.failed', created: 1, data: { order_id: again.body.id } })).body.outcome).toBe('applied');
    const refused = await buy(y.client, s.productId, 'y-1');
    expect([refused.status, refused.body.code, refused.body.existing_order_id]).toEqual([409, 'duplicate_purchase', (await renewalOrders(y.membershipId))[0]!.id]);
    for (const key of ['y-2', 'y-3']) {
      const o = expectOk(await buy(y.client, s.productId, key, { allowDuplicate: true }), 201);
      expect((await deliver(ctx.server, ctx.db, { id: `evt_fail_${key}`, type: 'payment.failed', created: 1, data: { order_id: o.id } })).body.outcome).toBe('applied');
    }
    const yFailed = (await events(s.shop.communityId, 'renewal_payment_failed')).filter((e) => e.member_id === y.id);
    expect(yFailed).toHaveLength(3);
    expect(new Set(yFailed.map((e) => e.props.order_id)).size).toBe(1);
    // No membership, nothing to renew.
    const first = expectOk(await buy(z.client, s.productId, 'z-1'), 201);
    expect(expectOk(await clickPay(ctx.server, first, 'fail')).status).toBe('cancelled');
    expect((await events(s.shop.communityId, 'renewal_payment_failed')).map((e) => e.member_id)).not.toContain(z.id);

    // The checkout page posts no body unless a method is saved.
    clock.set(new Date('2027-06-02T08:00:00.000Z'));
    expect(expectOk(await new Client(ctx.server.url).request('POST', `/api/v1/public/checkout/${tokenOf({ checkout_url: ev!.props.pay_url })}/pay`)).status).toBe('paid');
    expect((await periods(x)).at(-1)).toEqual(['2027-05-31T08:00:00.000Z', '2027-06-30T08:00:00.000Z']);

    await at('2027-06-07T08:00:00.000Z');
    expect((await renewalOrders(y.membershipId)).map((o) => o.status)).toEqual(['expired']);
    expect(await expired(s)).toEqual([[y.id, 'not_renewed']]);
  });
});
