// The metrics of GET …/metrics against a small reference implementation written here straight from
// PRODUCT.md's definitions. It reads the raw tables (spans, events, orders, refunds, memberships)
// and shares no code with the module under test. The fixture is built through the real API with
// a fixed clock that moves between steps.
import { DateTime } from 'luxon';
import { expect, it } from 'vitest';
import { Client, describeEachDialect, expectOk, useServer } from '../../test/harness.js';
import { addMember, addProduct, buyAndPay, openShop, refund, type Shop } from '../../test/money.js';
import { fixedClock } from '../../lib/clock.js';
import { insertEvent } from '../events/index.js';

const DAY = 86_400_000;
const ENGAGEMENT = ['message', 'post', 'reply', 'check_in', 'event_attended', 'reaction'];

interface Raw {
  currency: string;
  spans: { member_id: string; joined_at: string; left_at: string | null }[];
  events: { type: string; member_id: string | null; occurred_at: string; referrer_member_id: string | null }[];
  orders: { id: string; member_id: string; product_id: string; amount_minor: number; currency: string; paid_at: string | null }[];
  refunds: { amount_minor: number; created_at: string }[];
  products: { id: string; trial_of_product_id: string | null }[];
  memberships: { member_id: string; product_id: string; order_id: string | null; source: string; expires_at: string | null; revoked_at: string | null }[];
}

/** PRODUCT.md's definitions, written out naively over the raw rows. */
function reference(raw: Raw, zone: string, from: string, to: string) {
  const t0 = DateTime.fromISO(`${from}T00:00:00`, { zone }).toMillis();
  const t1 = DateTime.fromISO(`${to}T00:00:00`, { zone }).toMillis();
  const at = (s: string) => new Date(s).getTime();
  const within = (s: string) => at(s) >= t0 && at(s) < t1;
  const paid = raw.orders.filter((o) => o.paid_at !== null);
  const people = [...new Set([...raw.spans.map((s) => s.member_id), ...paid.map((o) => o.member_id)])];

  // member at t: any span with joined_at < t ≤ left_at (or open); with no span at all, from the first paid order.
  const memberAt = (p: string, t: number) => {
    const spans = raw.spans.filter((s) => s.member_id === p);
    if (spans.length) return spans.some((s) => at(s.joined_at) < t && (s.left_at === null || at(s.left_at) >= t));
    const first = Math.min(...paid.filter((o) => o.member_id === p).map((o) => at(o.paid_at!)));
    return first < t;
  };
  const membersAt = (t: number) => people.filter((p) => memberAt(p, t));
  const atT0 = membersAt(t0);
  const atT1 = membersAt(t1);
  // No group moves exist: every joined event opens a community stay and every left/removed closes one.
  const joinEvents = raw.events.filter((e) => e.type === 'joined' && within(e.occurred_at));
  const leaveEvents = raw.events.filter((e) => (e.type === 'left' || e.type === 'removed') && within(e.occurred_at));
  const buyersWithoutSpans = people.filter((p) => !raw.spans.some((s) => s.member_id === p));
  const paidJoins = buyersWithoutSpans.filter((p) => {
    const first = Math.min(...paid.filter((o) => o.member_id === p).map((o) => at(o.paid_at!)));
    return first >= t0 && first < t1;
  });
  const joins = joinEvents.length + paidJoins.length;
  const leaves = leaveEvents.length;
  const periodMembers = new Set([...atT0, ...joinEvents.map((e) => e.member_id!), ...paidJoins]);
  const ratio = (n: number, d: number) => ({ value: d === 0 ? null : n / d, numerator: n, denominator: d });

  const active = [...periodMembers].filter((p) => raw.events.some((e) => e.member_id === p && ENGAGEMENT.includes(e.type) && within(e.occurred_at))).length;
  const paying = [...periodMembers].filter((p) => paid.some((o) => o.member_id === p && within(o.paid_at!))).length;
  const countBy = (p: string) => paid.filter((o) => o.member_id === p && at(o.paid_at!) < t1).length;
  const buyers = people.filter((p) => countBy(p) >= 1);

  const orderMemberships = raw.memberships.filter((m) => m.source === 'order' && m.revoked_at === null);
  const paidAtOf = (orderId: string | null) => at(raw.orders.find((o) => o.id === orderId)!.paid_at!);
  const expiring = orderMemberships.filter((m) => m.expires_at !== null && within(m.expires_at));
  const renewed = expiring.filter((m) =>
    orderMemberships.some((n) => n !== m && n.member_id === m.member_id && n.product_id === m.product_id && paidAtOf(n.order_id) > paidAtOf(m.order_id) && paidAtOf(n.order_id) <= at(m.expires_at!) + 7 * DAY),
  ).length;

  // 续班率: each person who paid for a trial product in the period, from their first such payment p,
  // converted if they paid for the full product the trial leads to within [p, p + 30 days].
  let trialBuyers = 0;
  let trialConverted = 0;
  for (const trial of raw.products.filter((p) => p.trial_of_product_id !== null)) {
    for (const p of people) {
      const times = paid.filter((o) => o.member_id === p && o.product_id === trial.id && within(o.paid_at!)).map((o) => at(o.paid_at!));
      if (!times.length) continue;
      trialBuyers++;
      const first = Math.min(...times);
      if (paid.some((o) => o.member_id === p && o.product_id === trial.trial_of_product_id && at(o.paid_at!) >= first && at(o.paid_at!) <= first + 30 * DAY)) trialConverted++;
    }
  }

  const gmv = paid.filter((o) => within(o.paid_at!)).reduce((s, o) => s + o.amount_minor, 0);
  const refunded = raw.refunds.filter((r) => within(r.created_at)).reduce((s, r) => s + r.amount_minor, 0);
  const referred = new Set(joinEvents.filter((e) => e.referrer_member_id !== null).map((e) => e.member_id)).size;
  const money = (amount_minor: number) => ({ amount_minor, currency: raw.currency });
  expect(atT1.length, 'members_t1 = members_t0 + joins − leaves').toBe(atT0.length + joins - leaves);
  return {
    members_t0: atT0.length,
    members_t1: atT1.length,
    period_members: periodMembers.size,
    joins,
    leaves,
    leave_rate: ratio(leaves, atT0.length + joins),
    active_members: active,
    active_rate: ratio(active, periodMembers.size),
    paying_members: paying,
    paid_rate: ratio(paying, periodMembers.size),
    repurchase_rate: ratio(buyers.filter((p) => countBy(p) >= 2).length, buyers.length),
    renewal_rate: ratio(renewed, expiring.length),
    trial_renewal_rate: ratio(trialConverted, trialBuyers),
    gmv: money(gmv),
    refunds: money(refunded),
    net_revenue: money(gmv - refunded),
    arpu: { ...ratio(gmv - refunded, periodMembers.size), currency: raw.currency },
    arppu: { ...ratio(gmv, paying), currency: raw.currency },
    k_factor: ratio(referred, atT0.length),
  };
}

async function readRaw(k: any, communityId: string): Promise<Raw> {
  const community = await k.selectFrom('communities').select('currency').where('id', '=', communityId).executeTakeFirstOrThrow();
  const where = (table: string) => k.selectFrom(table).selectAll().where('community_id', '=', communityId).execute();
  const orders = (await where('orders')) as Raw['orders'];
  return {
    currency: community.currency,
    spans: await where('member_spans'),
    events: await where('events'),
    orders: orders.map((o) => ({ ...o, amount_minor: Number(o.amount_minor) })),
    refunds: ((await where('refunds')) as Raw['refunds']).map((r) => ({ ...r, amount_minor: Number(r.amount_minor) })),
    products: await where('products'),
    memberships: await where('memberships'),
  };
}

const PERIODS: [string, string][] = [
  ['2026-01-01', '2026-02-01'],
  ['2026-02-01', '2026-03-01'],
  ['2026-03-01', '2026-04-01'],
  ['2026-04-01', '2026-05-01'],
  ['2026-01-31', '2026-02-01'],
  ['2026-02-01', '2026-02-02'],
  ['2026-01-01', '2026-05-01'],
  ['2025-06-01', '2025-07-01'],
];

describeEachDialect('metrics match a reference implementation of the definitions', (dialect) => {
  const clock = fixedClock(new Date('2026-01-01T00:00:00Z'));
  const ctx = useServer(dialect, { clock });
  let shop: Shop;
  let readKey: string;
  const at = (iso: string) => clock.set(new Date(iso));

  it('agree on every metric for several periods and two time zones', async () => {
    const server = ctx.server;
    shop = await openShop(server);
    const annual = await addProduct(shop, { type: 'membership', name: '年度会员', price_minor: 9900, term: 'annual' });
    const monthly = await addProduct(shop, { type: 'membership', name: '月度会员', price_minor: 3000, term: 'days', term_days: 30 });
    const course = await addProduct(shop, { type: 'course', name: '写作课', price_minor: 990 });
    const full = await addProduct(shop, { type: 'course', name: '写作正课', price_minor: 69_900 });
    const trial = await addProduct(shop, { type: 'course', name: '写作体验课', price_minor: 990, trial_of_product_id: full.id });
    const none = expectOk(await shop.staff.get(`${shop.base}/metrics?from=2026-01-01&to=2026-02-01`));
    expect(none.trial_renewal_rate).toEqual({ value: null, numerator: 0, denominator: 0 }); // trial products exist, no trial buyers yet
    readKey = expectOk(await shop.owner.post(`${shop.base}/api-keys`, { name: 'reader', scopes: ['read'] }), 201).secret;
    const engage = async (memberId: string, type: string, occurred: string) => {
      await insertEvent(ctx.db.handle.db, { community_id: shop.communityId, type, occurred_at: occurred, member_id: memberId }, occurred);
    };

    at('2026-01-05T10:00:00Z');
    const a = await addMember(server, shop, '阿安');
    const b = await addMember(server, shop, '阿博');
    at('2026-01-06T10:00:00Z');
    const invite = expectOk(await a.client.get('/api/v1/member/invite-link'));
    const joinVia = async (code: string, name: string) => {
      const r = expectOk(await new Client(server.url).post(`/api/v1/public/links/${code}/join`, { name }));
      return { id: r.member.id as string, client: new Client(server.url, r.member_token) };
    };
    const c = await joinVia(invite.code, '阿川');
    at('2026-01-10T10:00:00Z');
    const aAnnual = await buyAndPay(server, a.client, annual.id, 'a-annual');
    const bCourse = await buyAndPay(server, b.client, course.id, 'b-course');
    await buyAndPay(server, a.client, trial.id, 'a-trial');
    at('2026-01-12T10:00:00Z');
    await engage(a.id, 'message', '2026-01-12T10:00:00.000Z');
    await engage(c.id, 'reply', '2026-01-12T11:00:00.000Z');
    await engage(a.id, 'link_visited', '2026-01-13T11:00:00.000Z'); // not engagement
    at('2026-01-13T10:00:00Z');
    await buyAndPay(server, a.client, full.id, 'a-full'); // converts 3 days after the trial
    at('2026-01-15T10:00:00Z');
    await buyAndPay(server, c.client, monthly.id, 'c-month-1'); // expires 2026-02-14
    at('2026-01-20T10:00:00Z');
    expectOk(await b.client.post('/api/v1/member/leave', { reason: '太忙' }));
    at('2026-01-25T10:00:00Z');
    await buyAndPay(server, c.client, trial.id, 'c-trial');
    // 16:30 UTC on 31 January is 00:30 on 1 February in Shanghai.
    at('2026-01-31T16:30:00Z');
    const d = await addMember(server, shop, '阿德');
    await engage(b.id, 'message', '2026-01-31T17:00:00.000Z'); // B is not a member then
    await engage(d.id, 'check_in', '2026-01-31T16:45:00.000Z');
    at('2026-02-02T10:00:00Z');
    await buyAndPay(server, d.client, trial.id, 'd-trial');
    at('2026-02-03T10:00:00Z');
    expectOk(await new Client(server.url, null).request('POST', `/api/v1/public/links/${shop.linkCode}/join`, { name: '阿博' }, { authorization: `Bearer ${b.client.bearer}` }));
    at('2026-02-10T10:00:00Z');
    await buyAndPay(server, a.client, course.id, 'a-course');
    await engage(b.id, 'reaction', '2026-02-10T12:00:00.000Z');
    await buyAndPay(server, b.client, trial.id, 'b-trial'); // never converts
    at('2026-02-16T10:00:00Z');
    await buyAndPay(server, c.client, monthly.id, 'c-month-2'); // inside grace: renews to 2026-03-16
    await buyAndPay(server, c.client, full.id, 'c-full'); // converts 22 days after a January trial, in February
    at('2026-02-20T10:00:00Z');
    expectOk(await refund(shop, aAnnual.id, { amount_minor: 9900, reason: '退款' }, 'r-a'), 201); // a January order, refunded in February
    at('2026-02-21T10:00:00Z');
    expectOk(await refund(shop, bCourse.id, { amount_minor: 500, reason: '部分退款' }, 'r-b'), 201);
    at('2026-02-25T10:00:00Z');
    await buyAndPay(server, d.client, monthly.id, 'd-month-1'); // expires 2026-03-27
    at('2026-03-02T10:00:00Z');
    await joinVia(invite.code, '阿娥');
    at('2026-03-05T10:00:00Z');
    expectOk(await shop.staff.post(`${shop.base}/members/${c.id}/remove`, { reason: '发广告' }));
    await engage(d.id, 'post', '2026-03-20T10:00:00.000Z');
    at('2026-03-20T10:00:00Z');
    await buyAndPay(server, d.client, full.id, 'd-full'); // 46 days after the trial: outside the window
    at('2026-04-10T10:00:00Z');
    await buyAndPay(server, d.client, monthly.id, 'd-month-2'); // after grace (2026-04-03): not a renewal
    at('2026-04-11T10:00:00Z');
    await buyAndPay(server, b.client, course.id, 'b-course-2', { allowDuplicate: true }); // bought again on purpose
    expectOk(await refund(shop, bCourse.id, { amount_minor: 490, reason: '余款' }, 'r-b-2'), 201);

    const raw = await readRaw(ctx.db.handle.db, shop.communityId);
    let nonTrivial = 0;
    for (const zone of ['Asia/Shanghai', 'America/New_York', 'UTC']) {
      expectOk(await shop.staff.patch(shop.base, { time_zone: zone }));
      for (const [from, to] of PERIODS) {
        const got = expectOk(await shop.staff.get(`${shop.base}/metrics?from=${from}&to=${to}`));
        const want = reference(raw, zone, from, to);
        const { metrics_version, community_id, time_zone, currency, period, ...values } = got;
        expect(values, `${zone} ${from}..${to}`).toEqual(want);
        expect([typeof metrics_version, community_id, time_zone, currency]).toEqual(['string', shop.communityId, zone, 'CNY']);
        expect(period).toEqual({ from, to, t0: DateTime.fromISO(from, { zone }).toUTC().toISO(), t1: DateTime.fromISO(to, { zone }).toUTC().toISO() });
        if (want.joins && want.leaves && want.gmv.amount_minor) nonTrivial++;
      }
    }
    expect(nonTrivial).toBeGreaterThan(3);

    // Spot checks by hand, so that the reference itself is anchored.
    expectOk(await shop.staff.patch(shop.base, { time_zone: 'Asia/Shanghai' }));
    const feb1 = expectOk(await shop.staff.get(`${shop.base}/metrics?from=2026-02-01&to=2026-02-02`));
    expect(feb1.period.t0).toBe('2026-01-31T16:00:00.000Z');
    expect([feb1.members_t0, feb1.joins, feb1.active_members]).toEqual([2, 1, 1]); // A, C; D joined at 00:30 and checked in
    const feb = expectOk(await shop.staff.get(`${shop.base}/metrics?from=2026-02-01&to=2026-03-01`));
    expect(feb.renewal_rate).toEqual({ value: 1, numerator: 1, denominator: 1 });
    expect(feb.refunds).toEqual({ amount_minor: 10_400, currency: 'CNY' });
    expect(feb.trial_renewal_rate).toEqual({ value: 0, numerator: 0, denominator: 2 }); // D after the window, B never
    const jan = expectOk(await shop.staff.get(`${shop.base}/metrics?from=2026-01-01&to=2026-02-01`));
    expect(jan.trial_renewal_rate).toEqual({ value: 1, numerator: 2, denominator: 2 }); // A in January, C in February
    expectOk(await shop.staff.patch(shop.base, { time_zone: 'UTC' }));
    const jan31 = expectOk(await shop.staff.get(`${shop.base}/metrics?from=2026-01-31&to=2026-02-01`));
    expect([jan31.joins, jan31.active_members]).toEqual([1, 1]);
  });

  it('links a trial only to a full product of the same community', async () => {
    const full = expectOk(await shop.staff.post(`${shop.base}/products`, { type: 'course', name: '正课', price_minor: 69_900 }), 201);
    const trial = expectOk(await shop.staff.post(`${shop.base}/products`, { type: 'course', name: '体验课', price_minor: 990, trial_of_product_id: full.id }), 201);
    const other = await openShop(ctx.server);
    const foreign = await addProduct(other, { type: 'course', name: '别家正课', price_minor: 100 });
    for (const target of [trial.id, foreign.id, 'prd_nope']) {
      const r = await shop.staff.post(`${shop.base}/products`, { type: 'course', name: '坏体验课', price_minor: 990, trial_of_product_id: target });
      expect([r.status, r.body.code, r.body.errors?.map((e: { field: string }) => e.field)], target).toEqual([400, 'validation_failed', ['trial_of_product_id']]);
    }
    const listed = expectOk(await shop.staff.get(`${shop.base}/products`)).products.find((p: { id: string }) => p.id === trial.id);
    expect(listed.trial_of_product_id).toBe(full.id);
  });

  it('refuses bad periods naming the field, and answers read-scoped API keys', async () => {
    const base = `${shop.base}/metrics`;
    const cases: [string, string][] = [
      ['?to=2026-02-01', 'query.from'],
      ['?from=2026-02-01&to=01/03/2026', 'query.to'],
      ['?from=2026-02-30&to=2026-03-01', 'query.from'],
      ['?from=2026-02-01&to=2026-02-01', 'query.to'],
      ['?from=2026-02-01&to=2026-01-01', 'query.to'],
      ['?from=2026-02-01&to=2026-03-01&zone=UTC', 'query.zone'],
    ];
    for (const [q, field] of cases) {
      const r = await shop.staff.get(base + q);
      expect([r.status, r.body.code, r.body.errors?.map((e: { field: string }) => e.field)], q).toEqual([400, 'validation_failed', [field]]);
      expect(r.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    }
    expect((await new Client(ctx.server.url, readKey).get(`${base}?from=2026-01-01&to=2026-02-01`)).status).toBe(200);
  });
});
