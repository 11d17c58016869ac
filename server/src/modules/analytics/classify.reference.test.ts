// Member classification, churn risk and group health against a small reference implementation
// written here from docs/analytics.md. The reference reads only the fixture list this test builds
// (who joined which group when, through whose invite; orders paid; engagement events) — not the
// database and not the code under test. The fixture goes through the real API with a fixed clock;
// engagement is inserted as events, as an import would bring it.
import { DateTime } from 'luxon';
import { expect, it } from 'vitest';
import { Client, describeEachDialect, expectOk, useServer } from '../../test/harness.js';
import { addProduct, buyAndPay, openShop } from '../../test/money.js';
import { fixedClock } from '../../lib/clock.js';
import { insertEvent } from '../events/index.js';

const DAY = 86_400_000;

interface Fixture {
  spans: { member: string; group: string; joined: number; referrer: string | null }[];
  orders: { member: string; product: string; paid: number; membership: boolean }[];
  memberships: { id: string; member: string; product: string; created: number; expires: number }[];
  events: { type: string; member: string; group: string | null; at: number; to?: string; negative?: boolean; is_ad?: boolean }[];
  failures: { member: string; membership: string; at: number }[];
  groups: { id: string; name: string; created: number; capacity: number; seated: number }[];
}

/** The documented defaults, written out again. */
const S = {
  w: { message: 1, post: 2, reply: 2, reaction: 0.5, check_in: 1, event_attended: 3, replies_received: 2, reactions_received: 1 },
  cap: 60,
  th: { payments: 1, renewals: 1, tenure_days: 60, engagement_score: 50, two_way: 3, referrals: 1 } as Record<string, number>,
  fan: 2,
  trueFan: 4,
};

const ENG = ['message', 'post', 'reply', 'reaction', 'check_in', 'event_attended'];

function refMembers(fx: Fixture, zone: string, from: string, to: string, trueFanMin = S.trueFan) {
  const t0 = DateTime.fromISO(from, { zone }).toMillis();
  const t1 = DateTime.fromISO(to, { zone }).toMillis();
  const days = Math.round(DateTime.fromISO(to, { zone }).diff(DateTime.fromISO(from, { zone }), 'days').days);
  const inP = (t: number) => t >= t0 && t < t1;
  const people = [...new Set(fx.spans.filter((s) => s.joined < t1).map((s) => s.member))];
  const ev = fx.events.filter((e) => inP(e.at));
  const out: Record<string, { score: number; level: string; archetype: string; values: Record<string, number> }> = {};
  for (const m of people) {
    const mine = ev.filter((e) => e.member === m && ENG.includes(e.type));
    const n = (t: string) => mine.filter((e) => e.type === t).length;
    const toMe = ev.filter((e) => e.to === m && e.member !== m);
    const repliesIn = toMe.filter((e) => e.type === 'reply').length;
    const reactIn = toMe.filter((e) => e.type === 'reaction' && !e.negative).length;
    const negIn = toMe.filter((e) => e.type === 'reaction' && e.negative).length;
    const reportsIn = toMe.filter((e) => e.type === 'message_reported').length;
    const points =
      S.w.message * n('message') + S.w.post * n('post') + S.w.reply * n('reply') + S.w.reaction * n('reaction') +
      S.w.check_in * n('check_in') + S.w.event_attended * n('event_attended') + S.w.replies_received * repliesIn + S.w.reactions_received * reactIn;
    const score = Math.min(100, Math.round((100 * points * 30) / days / S.cap));
    const paid = fx.orders.filter((o) => o.member === m && o.paid < t1);
    const renewals = paid.filter((o) => o.membership && paid.some((p) => p.product === o.product && p.paid < o.paid)).length;
    const partners = new Set([
      ...ev.filter((e) => e.type === 'reply' && e.member === m && e.to && e.to !== m).map((e) => e.to!),
      ...ev.filter((e) => e.type === 'reply' && e.to === m && e.member !== m).map((e) => e.member),
    ]);
    const referrals = new Set(fx.spans.filter((s) => s.referrer === m && s.joined < t1).map((s) => s.member)).size;
    const first = Math.min(...fx.spans.filter((s) => s.member === m).map((s) => s.joined));
    const values: Record<string, number> = { payments: paid.length, renewals, tenure_days: Math.floor((t1 - first) / DAY), engagement_score: score, two_way: partners.size, referrals };
    const met = Object.keys(S.th).filter((k) => values[k]! >= S.th[k]!).length;
    const level = met >= trueFanMin ? 'true_fan' : met >= S.fan ? 'fan' : 'user';
    const events = mine.length;
    const authored = n('message') + n('post') + n('reply');
    const flagged = negIn + reportsIn;
    const positiveGiven = mine.filter((e) => e.type === 'reaction' && !e.negative).length;
    const activeDays = new Set(mine.map((e) => DateTime.fromMillis(e.at, { zone }).toISODate())).size;
    let archetype = 'observer';
    if (flagged >= 2 && flagged / Math.max(1, authored) >= 0.3) archetype = 'opponent';
    else if (repliesIn + reactIn >= 10 && referrals >= 1) archetype = 'opinion_leader';
    else if (events <= 2) archetype = 'observer';
    else if (n('check_in') + n('event_attended') >= 4 && n('reply') <= 0.2 * events) archetype = 'learner';
    else if (n('reply') + positiveGiven >= 5 && activeDays >= 4) archetype = 'supporter';
    out[m] = { score, level, archetype, values };
  }
  return out;
}

function refChurn(fx: Fixture, zone: string, asOf: string) {
  const at = DateTime.fromISO(asOf, { zone }).plus({ days: 1 }).toMillis();
  const current = [...new Set(fx.spans.filter((s) => s.joined < at).map((s) => s.member))]; // nobody leaves in this fixture
  const out: Record<string, string[]> = {};
  for (const m of current) {
    const reasons: string[] = [];
    if (fx.failures.some((f) => f.member === m && f.at < at && f.at >= at - 14 * DAY)) reasons.push('payment_failed');
    const ms = fx.memberships.filter((x) => x.member === m && x.created < at);
    if (ms.some((x) => x.expires >= at && x.expires < at + 14 * DAY && !ms.some((y) => y.product === x.product && y.created > x.created))) reasons.push('expiring');
    const times = fx.events.filter((e) => e.member === m && ENG.includes(e.type) && e.at < at).map((e) => e.at);
    const inactive = times.length > 0 && at - Math.max(...times) >= 14 * DAY;
    if (inactive) reasons.push('inactive');
    const recent = times.filter((t) => t >= at - 14 * DAY).length;
    const prev = times.filter((t) => t < at - 14 * DAY && t >= at - 28 * DAY).length;
    if (!inactive && prev >= 4 && recent <= 0.5 * prev) reasons.push('declining');
    if (reasons.length) out[m] = reasons;
  }
  return out;
}

function refGroups(fx: Fixture, zone: string, from: string, to: string) {
  const t0 = DateTime.fromISO(from, { zone }).toMillis();
  const t1 = DateTime.fromISO(to, { zone }).toMillis();
  const inP = (t: number) => t >= t0 && t < t1;
  const anyAd = fx.events.some((e) => (e.type === 'message' || e.type === 'post') && e.is_ad && inP(e.at));
  const out: Record<string, { active: [number, number]; ad: number | null; dead: boolean; ad_group: boolean; since: number | null; silent: number }> = {};
  const days = Math.round(DateTime.fromISO(to, { zone }).diff(DateTime.fromISO(from, { zone }), 'days').days);
  for (const g of fx.groups) {
    const members = new Set(fx.spans.filter((s) => s.group === g.id && s.joined < t1).map((s) => s.member));
    const eng = fx.events.filter((e) => e.group === g.id && ENG.includes(e.type) && e.at < t1);
    const inside = eng.filter((e) => inP(e.at));
    const active = new Set(inside.filter((e) => members.has(e.member)).map((e) => e.member)).size;
    const msgs = inside.filter((e) => e.type === 'message' || e.type === 'post');
    const ad = anyAd && msgs.length ? msgs.filter((e) => e.is_ad).length / msgs.length : null;
    const since = eng.length ? Math.floor((t1 - Math.max(...eng.map((e) => e.at))) / DAY) : null;
    const rate = members.size ? active / members.size : null;
    const dead = (since === null ? t1 - g.created >= 7 * DAY : since >= 7) || (rate !== null && rate < 0.05);
    out[g.name] = { active: [active, members.size], ad, dead, ad_group: ad !== null && ad >= 0.3, since, silent: days - new Set(inside.map((e) => DateTime.fromMillis(e.at, { zone }).toISODate())).size };
  }
  return out;
}

describeEachDialect('member classification, churn risk and group health match a reference', (dialect) => {
  const clock = fixedClock(new Date('2026-01-01T00:00:00Z'));
  const ctx = useServer(dialect, { clock });
  const at = (iso: string) => clock.set(new Date(iso));

  it('agree on scores, levels, archetypes, churn reasons and group flags', async () => {
    const server = ctx.server;
    at('2026-01-02T02:00:00Z');
    const shop = await openShop(server);
    const fx: Fixture = { spans: [], orders: [], memberships: [], events: [], failures: [], groups: [] };
    const annual = await addProduct(shop, { type: 'membership', name: '年度会员', price_minor: 9900, term: 'annual' });
    const monthly = await addProduct(shop, { type: 'membership', name: '月度会员', price_minor: 3000, term: 'days', term_days: 30 });
    const course = await addProduct(shop, { type: 'course', name: '写作课', price_minor: 990 });
    const names = new Map<string, string>();
    const join = async (code: string, name: string, referrer: string | null) => {
      const r = expectOk(await new Client(server.url).post(`/api/v1/public/links/${code}/join`, { name }));
      fx.spans.push({ member: r.member.id, group: r.member.group_id, joined: clock.now().getTime(), referrer });
      names.set(name, r.member.id);
      return { id: r.member.id as string, client: new Client(server.url, r.member_token) };
    };
    const pay = async (m: { id: string; client: Client }, product: { id: string }, kind: 'annual' | 'monthly' | 'course', key: string) => {
      const order = await buyAndPay(server, m.client, product.id, key);
      const paid = clock.now().getTime();
      fx.orders.push({ member: m.id, product: product.id, paid, membership: kind !== 'course' });
      if (kind === 'course') return null;
      const membershipId = expectOk(await shop.staff.get(`${shop.base}/orders/${order.id}`)).membership_id as string;
      const prev = fx.memberships.filter((x) => x.member === m.id && x.product === product.id).at(-1);
      const startsAt = prev && prev.expires >= paid - 7 * DAY ? Math.max(prev.expires, paid) : paid;
      const expires = kind === 'annual' ? DateTime.fromMillis(startsAt, { zone: 'UTC' }).plus({ years: 1 }).toMillis() : startsAt + 30 * DAY;
      fx.memberships.push({ id: membershipId, member: m.id, product: product.id, created: paid, expires });
      return membershipId;
    };
    const ev = async (type: string, m: { id: string }, iso: string, o: { to?: { id: string }; negative?: boolean; is_ad?: boolean; group?: string } = {}) => {
      const group = o.group ?? fx.spans.find((s) => s.member === m.id)!.group;
      const t = Date.parse(iso);
      fx.events.push({ type, member: m.id, group, at: t, ...(o.to ? { to: o.to.id } : {}), ...(o.negative ? { negative: true } : {}), ...(o.is_ad ? { is_ad: true } : {}) });
      const props: Record<string, unknown> = {};
      if (o.to) props.to_member_id = o.to.id;
      if (o.negative) props.negative = true;
      if (o.is_ad) props.is_ad = true;
      await insertEvent(ctx.db.handle.db, { community_id: shop.communityId, type, occurred_at: new Date(t).toISOString(), member_id: m.id, group_id: group, props }, new Date(t).toISOString());
    };
    const march = (d: number, h = 4) => new Date(Date.UTC(2026, 2, d, h)).toISOString();

    at('2026-01-05T02:00:00Z');
    const A = await join(shop.linkCode, '阿安', null);
    at('2026-01-06T02:00:00Z');
    const B = await join(shop.linkCode, '阿博', null);
    const inviteA = expectOk(await A.client.get('/api/v1/member/invite-link')).code;
    const inviteB = expectOk(await B.client.get('/api/v1/member/invite-link')).code;
    at('2026-01-07T02:00:00Z');
    const C = await join(inviteA, '阿川', A.id);
    at('2026-01-08T02:00:00Z');
    const D = await join(inviteA, '阿德', A.id);
    at('2026-01-09T02:00:00Z');
    const g1 = fx.spans[0]!.group;
    const adGroup = expectOk(await shop.owner.post(`${shop.base}/groups`, { name: '二群', capacity: 100 }), 201);
    const deadGroup = expectOk(await shop.owner.post(`${shop.base}/groups`, { name: '三群', capacity: 50 }), 201);
    const adLink = expectOk(await shop.owner.post(`${shop.base}/links`, { name: '海报', channel: '朋友圈', group_ids: [adGroup.id] }), 201).code;
    const deadLink = expectOk(await shop.owner.post(`${shop.base}/links`, { name: '书店', channel: '合作伙伴', group_ids: [deadGroup.id] }), 201).code;
    at('2026-01-10T02:00:00Z');
    const H = await join(deadLink, '阿禾', null);
    await pay(A, annual, 'annual', 'a-annual');
    const aAnnual = fx.memberships.at(-1)!.id;
    at('2026-02-01T02:00:00Z');
    const E = await join(inviteB, '阿娥', B.id);
    await ev('message', H, '2026-02-01T03:00:00Z');
    at('2026-02-10T02:00:00Z');
    const F = await join(adLink, '阿福', null);
    const G = await join(adLink, '阿谷', null);
    at('2026-02-20T02:00:00Z');
    await pay(C, monthly, 'monthly', 'c-month-1'); // expires 2026-03-22
    await pay(D, course, 'course', 'd-course');

    // March: A is talked to (opinion leader), B replies and reacts (supporter), C checks in (learner),
    // D draws negative reactions and a report (opponent), E barely shows (observer), F posts ads in 二群.
    for (const [i, who] of [B, C, D, B, E, B, C, D, B, C].entries()) {
      await ev(i % 2 ? 'reaction' : 'reply', who, march(2 + i), { to: A });
    }
    await ev('message', A, '2026-02-28T16:30:00Z'); // 00:30 on 1 March in Shanghai
    for (const d of [3, 4, 5, 6]) await ev('message', A, march(d, 9));
    for (const [i, who] of [B, C, D].entries()) await ev('reply', A, march(7 + i), { to: who });
    for (const d of [2, 3, 4, 5, 8, 9, 11, 20]) await ev('reply', B, march(d, 12), { to: d % 2 ? C : D });
    for (const d of [6, 10, 21]) await ev('reaction', B, march(d, 13), { to: C });
    await ev('message', B, march(22));
    for (const d of [24, 25, 26]) await ev('post', B, march(d));
    await ev('reaction', B, march(23), { to: D, negative: true });
    for (const d of [2, 3, 4, 6, 8, 9]) await ev('check_in', C, march(d, 1));
    await ev('event_attended', C, march(15));
    await ev('message', C, march(16));
    at('2026-03-20T02:00:00Z');
    await pay(C, monthly, 'monthly', 'c-month-2'); // renews: 2026-03-22 → 2026-04-21
    for (const d of [3, 5, 7, 12]) await ev('message', D, march(d, 14));
    await ev('reaction', E, march(4), { to: D, negative: true });
    await ev('message_reported', A, march(12, 15), { to: D });
    for (const d of [10, 11, 12, 13]) await ev('message', F, march(d), { is_ad: true });
    await ev('message', F, march(14));
    await ev('message', G, march(15));
    await ev('reply', G, march(28), { to: F });
    await ev('post', G, '2026-03-31T16:30:00Z'); // 00:30 on 1 April in Shanghai: outside March
    at('2026-03-25T02:00:00Z');
    await pay(G, monthly, 'monthly', 'g-month'); // expires 2026-04-24 … outside the window of 31 March
    at('2026-03-25T03:00:00Z');
    fx.failures.push({ member: A.id, membership: aAnnual, at: clock.now().getTime() });
    await insertEvent(ctx.db.handle.db, { community_id: shop.communityId, type: 'renewal_payment_failed', occurred_at: clock.now().toISOString(), member_id: A.id, props: { membership_id: aAnnual } }, clock.now().toISOString());
    at('2026-03-30T02:00:00Z');
    const groups = expectOk(await shop.staff.get(`${shop.base}/groups`)).groups as { id: string; name: string; created_at: string; capacity: number; seated_count: number }[];
    for (const g of groups) fx.groups.push({ id: g.id, name: g.name, created: Date.parse(g.created_at), capacity: g.capacity, seated: g.seated_count });
    expect(new Set(fx.spans.filter((s) => [A, B, C, D, E].some((m) => m.id === s.member)).map((s) => s.group))).toEqual(new Set([g1]));

    const zone = expectOk(await shop.staff.get(shop.base)).time_zone as string;
    const byName = new Map([...names].map(([n, id]) => [id, n]));

    // Classification, for March and for the whole quarter.
    for (const [from, to] of [['2026-03-01', '2026-04-01'], ['2026-01-01', '2026-04-01'], ['2026-03-10', '2026-03-17']] as const) {
      const got = expectOk(await shop.staff.get(`${shop.base}/analytics/members?from=${from}&to=${to}`));
      const want = refMembers(fx, zone, from, to);
      const seen = Object.fromEntries(got.members.map((m: any) => [byName.get(m.member_id), { score: m.engagement_score, level: m.level, archetype: m.archetype, values: Object.fromEntries(m.criteria.map((c: any) => [c.key, c.value])) }]));
      expect(seen, `${from}..${to}`).toEqual(Object.fromEntries(Object.entries(want).map(([id, v]) => [byName.get(id), v])));
      expect(got.summary.levels.true_fan).toBe(Object.values(want).filter((w) => w.level === 'true_fan').length);
      expect(got.metrics_version).toEqual(expect.any(String));
    }
    const marchOut = expectOk(await shop.staff.get(`${shop.base}/analytics/members?from=2026-03-01&to=2026-04-01`));
    const arch = Object.fromEntries(marchOut.members.map((m: any) => [m.display_name, m.archetype]));
    // One of each archetype, anchored by hand.
    expect([arch['阿安'], arch['阿博'], arch['阿德'], arch['阿川'], arch['阿娥']]).toEqual(['opinion_leader', 'supporter', 'opponent', 'learner', 'observer']);
    const level = Object.fromEntries(marchOut.members.map((m: any) => [m.display_name, m.level]));
    expect([level['阿安'], level['阿博']]).toEqual(['true_fan', 'true_fan']);
    // B never paid and is a true fan all the same (seed 002): listed so they are not neglected.
    expect(marchOut.summary.unpaid_true_fans.map((m: any) => m.display_name)).toEqual(['阿博']);
    expect(marchOut.summary.true_fans).toEqual({ count: 2, goal: 1000, progress: 0.002 });
    const filtered = expectOk(await shop.staff.get(`${shop.base}/analytics/members?from=2026-03-01&to=2026-04-01&archetype=learner`));
    expect(filtered.members.map((m: any) => m.display_name)).toEqual(['阿川']);
    expect(filtered.summary).toEqual(marchOut.summary);
    const csv = await shop.staff.get(`${shop.base}/analytics/members?from=2026-03-01&to=2026-04-01&format=csv&level=true_fan`);
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(String(csv.body).trim().split('\r\n')).toHaveLength(3);

    // Tuning: with all six criteria required nobody is a true fan, and the reference agrees.
    expectOk(await shop.staff.put(`${shop.base}/analytics/settings`, { fan_levels: { true_fan_min_met: 6 } }));
    const strict = expectOk(await shop.staff.get(`${shop.base}/analytics/members?from=2026-03-01&to=2026-04-01`));
    const strictWant = refMembers(fx, zone, '2026-03-01', '2026-04-01', 6);
    expect(strict.members.map((m: any) => m.level)).toEqual(strict.members.map((m: any) => strictWant[m.member_id]!.level));
    expect(strict.summary.levels.true_fan).toBe(0);
    expect(expectOk(await shop.staff.get(`${shop.base}/analytics/settings`)).settings.fan_levels.true_fan_min_met).toBe(6);
    expectOk(await shop.staff.put(`${shop.base}/analytics/settings`, {}));

    // Churn risk.
    for (const asOf of ['2026-03-31', '2026-03-15', '2026-02-20']) {
      const got = expectOk(await shop.staff.get(`${shop.base}/analytics/churn-risk?as_of=${asOf}`));
      const want = refChurn(fx, zone, asOf);
      expect(Object.fromEntries(got.members.map((m: any) => [byName.get(m.member_id), m.reasons.map((r: any) => r.kind)])), asOf).toEqual(
        Object.fromEntries(Object.entries(want).map(([id, r]) => [byName.get(id), r])),
      );
      const scores = got.members.map((m: any) => m.score);
      expect(scores).toEqual([...scores].sort((a, b) => b - a));
    }
    const risk = expectOk(await shop.staff.get(`${shop.base}/analytics/churn-risk?as_of=2026-03-31`));
    const riskOf = (n: string) => risk.members.find((m: any) => m.display_name === n);
    expect(riskOf('阿安').reasons[0].kind).toBe('payment_failed');
    expect(riskOf('阿安').membership.id).toBe(aAnnual);
    expect(riskOf('阿禾').reasons.map((r: any) => r.kind)).toEqual(['inactive']);
    const mid = expectOk(await shop.staff.get(`${shop.base}/analytics/churn-risk?as_of=2026-03-15`));
    expect(mid.members.find((m: any) => m.display_name === '阿川').reasons.map((r: any) => r.kind)).toEqual(['expiring']); // 22 March, not renewed yet

    // Group health.
    const health = expectOk(await shop.staff.get(`${shop.base}/analytics/group-health?from=2026-03-01&to=2026-04-01`));
    const wantGroups = refGroups(fx, zone, '2026-03-01', '2026-04-01');
    expect(
      Object.fromEntries(
        health.groups.map((g: any) => [
          g.name,
          { active: [g.active_rate.numerator, g.active_rate.denominator], ad: g.ad_ratio.value, dead: g.dead, ad_group: g.ad_group, since: g.days_since_last_engagement, silent: g.silent_days },
        ]),
      ),
    ).toEqual(wantGroups);
    expect(health.groups.filter((g: any) => g.dead).map((g: any) => g.name)).toEqual(['三群']);
    expect(health.groups.filter((g: any) => g.ad_group).map((g: any) => g.name)).toEqual(['二群']);
  });
});
