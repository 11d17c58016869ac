// The KPI dashboard against a reference written here over the raw events and members of a fixture
// built through the API (Asia/Shanghai, events minutes either side of local midnight).
import { DateTime } from 'luxon';
import { expect, it } from 'vitest';
import { describeEachDialect, expectOk, useServer } from '../../test/harness.js';
import { addMember, addProduct, buyAndPay, openShop, refund } from '../../test/money.js';
import { fixedClock } from '../../lib/clock.js';
import { insertEvent } from '../events/index.js';
import { rebuildRollups } from '../rollups/index.js';

const ZONE = 'Asia/Shanghai';
const ENGAGEMENT = ['message', 'post', 'reply', 'check_in', 'event_attended', 'reaction'];
interface RawEvent { type: string; member_id: string | null; group_id: string | null; entry_link_id: string | null; occurred_at: string; props: unknown }

const local = (iso: string) => DateTime.fromISO(iso, { zone: 'utc' }).setZone(ZONE).toISODate()!;
const shift = (day: string, n: number) => DateTime.fromISO(day, { zone: 'utc' }).plus({ days: n }).toISODate()!;
const propsOf = (p: unknown) => (typeof p === 'string' ? JSON.parse(p) : p) as Record<string, any>;
const ratio = (n: number, d: number) => ({ value: d === 0 ? null : n / d, numerator: n, denominator: d });

/** DAU/WAU/MAU/stickiness/two-way share and per-group / per-channel rows, naively from the events. */
function reference(events: RawEvent[], members: Map<string, { link: string | null; group: string | null }>, from: string, to: string) {
  const inDays = (e: RawEvent, a: string, b: string) => local(e.occurred_at) >= a && local(e.occurred_at) < b;
  const engaged = (a: string, b: string) => new Set(events.filter((e) => e.member_id && ENGAGEMENT.includes(e.type) && inDays(e, a, b)).map((e) => e.member_id));
  const days: string[] = [];
  for (let d = from; d < to; d = shift(d, 1)) days.push(d);
  const dauSum = days.reduce((s, d) => s + engaged(d, shift(d, 1)).size, 0);
  const dau = ratio(dauSum, days.length);
  const mau = engaged(shift(to, -30), to).size;
  const period = events.filter((e) => inDays(e, from, to));
  const replies = period.filter((e) => e.type === 'reply' && e.member_id && propsOf(e.props).to_member_id && propsOf(e.props).to_member_id !== e.member_id).length;
  const conversation = period.filter((e) => ['message', 'post', 'reply'].includes(e.type)).length;
  // NPS: each member's last valid answer (an integer 0–10) in the period.
  const lastScore = new Map<string, number>();
  for (const e of [...period].sort((x, y) => (x.occurred_at < y.occurred_at ? -1 : 1))) {
    const score = propsOf(e.props).score;
    if (e.type === 'survey_answered' && e.member_id && Number.isInteger(score) && score >= 0 && score <= 10) lastScore.set(e.member_id, score);
  }
  const promoters = [...lastScore.values()].filter((v) => v >= 9).length;
  const detractors = [...lastScore.values()].filter((v) => v <= 6).length;
  const split = (keyOf: (e: RawEvent) => string) => {
    const rows = new Map<string, { joins: number; leaves: number; start: number; engagement: number; active: Set<string>; orders_paid: number; gmv: number; refunds: number }>();
    const row = (k: string) => rows.get(k) ?? rows.set(k, { joins: 0, leaves: 0, start: 0, engagement: 0, active: new Set(), orders_paid: 0, gmv: 0, refunds: 0 }).get(k)!;
    for (const e of events) {
      const k = keyOf(e);
      const before = local(e.occurred_at) < from;
      if (before && e.type === 'joined') row(k).start++;
      if (before && (e.type === 'left' || e.type === 'removed')) row(k).start--;
      if (!inDays(e, from, to)) continue;
      if (!['joined', 'left', 'removed', 'order_paid', 'order_refunded', ...ENGAGEMENT, 'link_visited', 'applied', 'onboarded'].includes(e.type)) continue;
      const r = row(k);
      if (e.type === 'joined') r.joins++;
      if (e.type === 'left' || e.type === 'removed') r.leaves++;
      if (ENGAGEMENT.includes(e.type) && e.member_id) {
        r.engagement++;
        r.active.add(e.member_id);
      }
      if (e.type === 'order_paid') {
        r.orders_paid++;
        r.gmv += propsOf(e.props).amount_minor;
      }
      if (e.type === 'order_refunded') r.refunds += propsOf(e.props).amount_minor;
    }
    return [...rows]
      .filter(([, r]) => r.joins + r.leaves + r.engagement + r.orders_paid + r.refunds > 0 || false)
      .map(([key, r]) => ({ key, joins: r.joins, leaves: r.leaves, members_start: r.start, leave_rate: ratio(r.leaves, r.start + r.joins), active_members: r.active.size, engagement: r.engagement, orders_paid: r.orders_paid, gmv: r.gmv, refunds: r.refunds }))
      .sort((a, b) => (a.key < b.key ? -1 : 1));
  };
  return {
    figures: {
      dau,
      wau: engaged(shift(to, -7), to).size,
      mau,
      stickiness: ratio(dau.value ?? 0, mau),
      two_way_share: ratio(replies, conversation),
      nps: ratio(promoters - detractors, lastScore.size),
      nps_promoters: promoters,
      nps_detractors: detractors,
    },
    // Orders carry no group: they count in the buyer's current group.
    group: split((e) => e.group_id ?? (e.type.startsWith('order_') && e.member_id ? members.get(e.member_id)?.group ?? '' : '')),
    channel: split((e) => e.entry_link_id ?? (e.member_id ? members.get(e.member_id)?.link ?? '' : '')),
  };
}

describeEachDialect('KPI dashboard matches a reference over the raw events', (dialect) => {
  const clock = fixedClock(new Date('2026-03-01T00:00:00Z'));
  const ctx = useServer(dialect, { clock });
  const at = (iso: string) => clock.set(new Date(iso));

  it('agrees on the rollup figures and the splits, and carries every /metrics figure with its previous period', async () => {
    const server = ctx.server;
    const shop = await openShop(server);
    expectOk(await shop.staff.patch(shop.base, { time_zone: ZONE }));
    const course = await addProduct(shop, { type: 'course', name: '写作课', price_minor: 990 });
    const engage = (memberId: string, type: string, occurred: string, props: Record<string, unknown> = {}, group: string | null = null) =>
      insertEvent(ctx.db.handle.db, { community_id: shop.communityId, type, occurred_at: occurred, member_id: memberId, group_id: group, props }, occurred);

    at('2026-03-02T10:00:00Z');
    const a = await addMember(server, shop, '阿安');
    const b = await addMember(server, shop, '阿博');
    at('2026-03-10T15:50:00Z'); // 23:50 in Shanghai
    const c = await addMember(server, shop, '阿川');
    const group = (await ctx.db.handle.db.selectFrom('members').select('current_group_id').where('id', '=', a.id).executeTakeFirstOrThrow()).current_group_id;
    await engage(a.id, 'message', '2026-03-10T15:59:00.000Z', {}, group); // 23:59 local, 10 March
    await engage(b.id, 'reply', '2026-03-10T16:01:00.000Z', { to_member_id: a.id }, group); // 00:01 local, 11 March
    await engage(a.id, 'reply', '2026-03-10T16:02:00.000Z', { to_member_id: a.id }, group); // to self: not two-way
    await engage(c.id, 'reaction', '2026-03-11T03:00:00.000Z', { to_member_id: b.id, negative: true });
    await engage(c.id, 'check_in', '2026-03-31T16:10:00.000Z', {}, group); // 1 April local
    at('2026-03-12T10:00:00Z');
    const order = await buyAndPay(server, a.client, course.id, 'a-1');
    await buyAndPay(server, b.client, course.id, 'b-1');
    expectOk(await refund(shop, order.id, { amount_minor: 300, reason: '部分退款' }, 'r-1'), 201);
    at('2026-03-20T10:00:00Z');
    expectOk(await b.client.post('/api/v1/member/leave', { reason: '太忙' }));
    await engage(a.id, 'post', '2026-03-25T12:00:00.000Z', { is_ad: true }, group);
    // Survey answers: B changes their mind (the last answer counts), C's first answer is no score.
    await engage(a.id, 'survey_answered', '2026-03-21T02:00:00.000Z', { score: 10 });
    await engage(b.id, 'survey_answered', '2026-03-21T03:00:00.000Z', { score: 3 });
    await engage(b.id, 'survey_answered', '2026-03-22T03:00:00.000Z', { score: 9 });
    await engage(c.id, 'survey_answered', '2026-03-23T03:00:00.000Z', { score: 'great' });
    await engage(c.id, 'survey_answered', '2026-03-23T04:00:00.000Z', { score: 5 });

    const events = (await ctx.db.handle.db.selectFrom('events').selectAll().where('community_id', '=', shop.communityId).execute()) as RawEvent[];
    const members = new Map((await ctx.db.handle.db.selectFrom('members').select(['id', 'entry_link_id', 'current_group_id']).where('community_id', '=', shop.communityId).execute()).map((m) => [m.id, { link: m.entry_link_id, group: m.current_group_id }]));
    let nonTrivial = 0;
    for (const [from, to] of [['2026-03-01', '2026-04-01'], ['2026-03-11', '2026-03-12'], ['2026-03-10', '2026-03-17'], ['2026-04-01', '2026-04-02']] as const) {
      const want = reference(events, members, from, to);
      const got = expectOk(await shop.staff.get(`${shop.base}/analytics/kpis?from=${from}&to=${to}&split=group`));
      const metrics = expectOk(await shop.staff.get(`${shop.base}/metrics?from=${from}&to=${to}`));
      for (const [k, v] of Object.entries(want.figures)) expect(got.figures[k].current, `${from} ${k}`).toEqual(v);
      const { metrics_version, community_id, time_zone, currency: _currency, period, ...values } = metrics;
      for (const [k, v] of Object.entries(values)) expect(got.figures[k].current, `${from} ${k}`).toEqual(v);
      expect([got.metrics_version, got.community_id, got.time_zone, got.period]).toEqual([metrics_version, community_id, time_zone, period]);
      const days = DateTime.fromISO(to).diff(DateTime.fromISO(from), 'days').days;
      const prevFrom = shift(from, -days);
      expect(got.previous_period.from).toBe(prevFrom);
      const prevWant = reference(events, members, prevFrom, from);
      expect(got.figures.mau.previous).toEqual(prevWant.figures.mau);
      const gmv = got.figures.gmv;
      expect(gmv.change.absolute).toBe(gmv.current.amount_minor - gmv.previous.amount_minor);
      const rows = (r: ReturnType<typeof reference>['group']) => r.map(({ gmv: g, refunds: f, ...x }) => ({ ...x, gmv: { amount_minor: g, currency: 'CNY' }, refunds: { amount_minor: f, currency: 'CNY' } }));
      const pick = (r: any) => ({ key: r.key, joins: r.joins, leaves: r.leaves, members_start: r.members_start, leave_rate: r.leave_rate, active_members: r.active_members, engagement: r.engagement, orders_paid: r.orders_paid, gmv: r.gmv, refunds: r.refunds });
      expect(got.split.rows.map(pick), `${from} group`).toEqual(rows(want.group));
      const byChannel = expectOk(await shop.staff.get(`${shop.base}/analytics/kpis?from=${from}&to=${to}&split=channel`));
      expect(byChannel.split.rows.map(pick), `${from} channel`).toEqual(rows(want.channel));
      if (want.figures.dau.numerator > 0 && want.figures.two_way_share.numerator > 0) nonTrivial++;
    }
    expect(nonTrivial).toBeGreaterThanOrEqual(2);
    // By hand for March: A 10 and B 9 promote, C 5 detracts: (2 − 1) ÷ 3.
    const march = expectOk(await shop.staff.get(`${shop.base}/analytics/kpis?from=2026-03-01&to=2026-04-01`));
    expect([march.figures.nps.current, march.figures.nps_promoters.current, march.figures.nps_detractors.current]).toEqual([{ value: 1 / 3, numerator: 1, denominator: 3 }, 2, 1]);
    // The full rebuild (chunked, per-member attribution lookups) writes the very rows the incremental path did.
    const db = ctx.db.handle.db;
    const snapshot = async () => ({
      days: await db.selectFrom('analytics_days').selectAll().where('community_id', '=', shop.communityId).orderBy('day').orderBy('dim').orderBy('key').execute(),
      members: await db.selectFrom('analytics_member_days').selectAll().where('community_id', '=', shop.communityId).orderBy('day').orderBy('member_id').orderBy('group_id').execute(),
    });
    const incremental = await snapshot();
    expect(incremental.days.some((r) => r.dim === 'staff' && r.key !== '')).toBe(true);
    await rebuildRollups(ctx.db.deps, { communityId: shop.communityId, daysPerChunk: 3 });
    expect(await snapshot()).toEqual(incremental);
    // Anchored by hand: on 11 March (local) B replied to A (00:01) and C reacted; A's 23:59 message was on 10 March.
    const day = expectOk(await shop.staff.get(`${shop.base}/analytics/kpis?from=2026-03-11&to=2026-03-12`));
    expect(day.figures.dau.current).toEqual({ value: 3, numerator: 3, denominator: 1 });
    expect(day.figures.two_way_share.current).toEqual({ value: 0.5, numerator: 1, denominator: 2 });
    // The same dashboard again is served from the cache until an event changes the rollups.
    await engage(c.id, 'reply', '2026-03-11T05:00:00.000Z', { to_member_id: a.id }, group);
    const again = expectOk(await shop.staff.get(`${shop.base}/analytics/kpis?from=2026-03-11&to=2026-03-12`));
    expect(again.figures.two_way_share.current).toEqual({ value: 2 / 3, numerator: 2, denominator: 3 });
  });

  it('refuses a bad split naming the field', async () => {
    const shop = await openShop(ctx.server);
    const r = await shop.staff.get(`${shop.base}/analytics/kpis?from=2026-03-01&to=2026-04-01&split=planet`);
    expect([r.status, r.body.code, r.body.errors?.map((e: { field: string }) => e.field)]).toEqual([400, 'validation_failed', ['query.split']]);
  });
});
