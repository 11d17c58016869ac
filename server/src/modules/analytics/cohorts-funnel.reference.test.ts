// Cohorts, lifecycle and funnels against a small reference implementation written here from
// docs/analytics.md. The reference reads only `log`, the list of things the test did (visits,
// applications, joins, leaves, onboarding, engagement, payments), never the database and never
// the module under test. The fixture is built through the real API with a fixed clock.
import { DateTime } from 'luxon';
import { expect, it } from 'vitest';
import { Client, describeEachDialect, expectOk, useServer } from '../../test/harness.js';
import { addProduct, buyAndPay, openShop, type Shop } from '../../test/money.js';
import { fixedClock } from '../../lib/clock.js';
import { insertEvent } from '../events/index.js';

const DAY = 86_400_000;
type G = 'day' | 'week' | 'month';

/** One thing the test did. `owner`: the entry link's owner user; `monitor`: the group's monitor. */
type Entry =
  | { kind: 'visit'; at: number; channel: string; owner: string | null }
  | { kind: 'applied'; at: number; member: string; channel: string; owner: string | null }
  | { kind: 'joined'; at: number; member: string; channel: string; owner: string | null; group: string; monitor: string | null }
  | { kind: 'left' | 'onboarded' | 'engaged'; at: number; member: string }
  | { kind: 'paid'; at: number; member: string; product: 'trial' | 'full' | 'monthly' };

// ---- the reference -------------------------------------------------------------------------

const of = <K extends Entry['kind']>(log: Entry[], kind: K) => log.filter((e): e is Extract<Entry, { kind: K }> => e.kind === kind);
const ratio = (n: number, d: number) => ({ value: d === 0 ? null : n / d, numerator: n, denominator: d });

/** Local start of the day/ISO week/month holding `at`, as a local date string. */
function bucketOf(at: number, zone: string, g: G): string {
  const local = DateTime.fromMillis(at).setZone(zone);
  const date = g === 'month' ? local.set({ day: 1 }) : g === 'week' ? local.minus({ days: local.weekday - 1 }) : local;
  return date.toFormat('yyyy-MM-dd');
}
const addBuckets = (date: string, g: G, n: number) => DateTime.fromISO(date).plus(g === 'day' ? { days: n } : g === 'week' ? { weeks: n } : { months: n }).toFormat('yyyy-MM-dd');
const midnight = (date: string, zone: string) => DateTime.fromISO(`${date}T00:00:00`, { zone }).toMillis();

function firstJoin(log: Entry[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const j of of(log, 'joined')) if (!m.has(j.member) || j.at < m.get(j.member)!) m.set(j.member, j.at);
  return m;
}

function bucketList(from: string, to: string, zone: string, g: G): string[] {
  const out: string[] = [];
  for (let b = bucketOf(midnight(from, zone), zone, g); midnight(b, zone) < midnight(to, zone); b = addBuckets(b, g, 1)) out.push(b);
  return out;
}

function refCohorts(log: Entry[], zone: string, g: G, from: string, to: string, now: number, periods?: number) {
  const starts = bucketList(from, to, zone, g);
  const n = periods ?? starts.length - 1;
  const joins = firstJoin(log);
  return {
    periods: n,
    cohorts: starts.map((start) => {
      const members = [...joins].filter(([, at]) => bucketOf(at, zone, g) === start).map(([m]) => m);
      const cells = Array.from({ length: n + 1 }, (_, k) => {
        const b = addBuckets(start, g, k);
        if (midnight(b, zone) > now) return null;
        const retained = members.filter((m) => of(log, 'engaged').some((e) => e.member === m && bucketOf(e.at, zone, g) === b));
        return ratio(retained.length, members.length);
      });
      return { start, size: members.length, cells };
    }),
  };
}

function refLifecycle(log: Entry[], zone: string, g: G, from: string, to: string) {
  const joins = firstJoin(log);
  const activeIn = (b: string) => new Set(of(log, 'engaged').filter((e) => joins.has(e.member) && bucketOf(e.at, zone, g) === b).map((e) => e.member));
  return bucketList(from, to, zone, g).map((b) => {
    const joinedBefore = (m: string) => joins.get(m)! < midnight(b, zone);
    const now = [...activeIn(b)].filter(joinedBefore);
    const prev = activeIn(addBuckets(b, g, -1));
    return {
      start: b,
      new: [...joins.values()].filter((at) => bucketOf(at, zone, g) === b).length,
      returning: now.filter((m) => prev.has(m)).length,
      resurrecting: now.filter((m) => !prev.has(m)).length,
      dormant: 0 - [...prev].filter((m) => joinedBefore(m) && !activeIn(b).has(m)).length,
    };
  });
}

type Split = 'channel' | 'group' | 'staff';
function keyOf(log: Entry[], m: string, split: Split): string | null {
  const joined = of(log, 'joined').filter((j) => j.member === m).sort((a, b) => a.at - b.at)[0];
  const applied = of(log, 'applied').filter((j) => j.member === m).sort((a, b) => a.at - b.at)[0];
  if (split === 'group') return joined?.group ?? null;
  if (split === 'channel') return (joined ?? applied)?.channel ?? null;
  return joined ? (joined.owner ?? joined.monitor) : (applied?.owner ?? null);
}

function withRates(steps: { key: string; unit: 'events' | 'people'; count: number | null }[]) {
  const entrants = steps.find((s) => s.unit === 'people')!.count!;
  return steps.map((s, i) => ({
    ...s,
    from_previous: i === 0 || steps[i - 1]!.count === null ? null : ratio(s.count!, steps[i - 1]!.count!),
    from_first: s.unit === 'events' ? null : ratio(s.count!, entrants),
  }));
}

/** Funnel steps for people entering in [t0, t1): each step needs every earlier one within the window. */
function refFunnel(log: Entry[], zone: string, from: string, to: string, w: number, split: Split | undefined, trial: boolean, labels: Map<string, string>) {
  const t0 = midnight(from, zone);
  const t1 = midnight(to, zone);
  const people = [...new Set(log.filter((e) => 'member' in e).map((e) => (e as { member: string }).member))];
  const when = (m: string, kind: Entry['kind'], product?: string) => log.filter((e) => e.kind === kind && (e as { member?: string }).member === m && (!product || (e as { product?: string }).product === product)).map((e) => e.at).sort((a, b) => a - b);
  const entrants = people.flatMap((m) => {
    const at = trial ? when(m, 'paid', 'trial')[0] : when(m, 'applied')[0];
    if (at === undefined || at < t0 || at >= t1) return [];
    const inW = (t: number | undefined) => t !== undefined && t >= at && t <= at + w * DAY;
    const paid = when(m, 'paid');
    const steps = trial
      ? [when(m, 'engaged').some(inW), when(m, 'paid', 'full').some(inW)]
      : [inW(when(m, 'joined')[0]), inW(when(m, 'onboarded')[0]), when(m, 'engaged').some(inW), inW(paid[0]), inW(paid[1])];
    let reached = 1;
    while (reached <= steps.length && steps[reached - 1]) reached++;
    return [{ m, reached }];
  });
  const keys = trial ? ['trial_paid', 'engaged', 'full_paid'] : ['visited', 'applied', 'joined', 'onboarded', 'engaged', 'paid', 'repeat_paid'];
  const visits = of(log, 'visit').filter((v) => v.at >= t0 && v.at < t1);
  const stepsFor = (es: typeof entrants, vs: number | null) =>
    withRates(keys.map((key, i) => (!trial && i === 0 ? { key, unit: 'events' as const, count: vs } : { key, unit: 'people' as const, count: es.filter((e) => e.reached > i - (trial ? 0 : 1)).length })));
  const steps = stepsFor(entrants, visits.length);
  if (!split) return { steps, split: null };
  const visitKey = (v: (typeof visits)[number]) => (split === 'channel' ? v.channel : v.owner);
  const rowKeys = new Set<string | null>(entrants.map((e) => keyOf(log, e.m, split)));
  if (!trial && split !== 'group') for (const v of visits) rowKeys.add(visitKey(v));
  const rows = [...rowKeys].map((key) => ({
    key,
    label: key === null ? 'none' : (labels.get(key) ?? key),
    steps: stepsFor(
      entrants.filter((e) => keyOf(log, e.m, split) === key),
      split === 'group' ? null : visits.filter((v) => visitKey(v) === key).length,
    ),
  }));
  const size = (r: (typeof rows)[number]) => r.steps.find((s) => s.unit === 'people')!.count!;
  rows.sort((a, b) => size(b) - size(a) || (a.key === null ? 1 : b.key === null ? -1 : a.key.localeCompare(b.key, 'en')));
  return { steps, split: { by: split, rows } };
}

// ---- the fixture ---------------------------------------------------------------------------

describeEachDialect('cohorts, lifecycle and funnels match a reference implementation', (dialect) => {
  const clock = fixedClock(new Date('2026-01-01T00:00:00Z'));
  const ctx = useServer(dialect, { clock });
  let shop: Shop;
  const at = (iso: string) => clock.set(new Date(iso));
  const now = () => clock.now().getTime();

  it('agree on every cohort cell, lifecycle count and funnel step, in three time zones', async () => {
    const server = ctx.server;
    shop = await openShop(server);
    const log: Entry[] = [];
    const owner = expectOk(await shop.owner.get(`${shop.base}/links`)).links[0].owner_user_id as string;
    const g1 = expectOk(await shop.owner.get(`${shop.base}/groups`)).groups[0].id as string;
    const g2 = expectOk(await shop.owner.post(`${shop.base}/groups`, { name: '二群', capacity: 100, monitor_user_id: owner }), 201).id as string;
    const g3 = expectOk(await shop.staff.post(`${shop.base}/groups`, { name: '三群', capacity: 100 }), 201).id as string;
    // L1 through the owner's session (owned by them); L2 and L3 through an API key (no owner).
    const links = {
      L1: { code: shop.linkCode, channel: '公众号', owner, group: g1, monitor: null },
      L2: { code: expectOk(await shop.staff.post(`${shop.base}/links`, { name: '小红书', channel: '小红书', group_ids: [g2] }), 201).code, channel: '小红书', owner: null, group: g2, monitor: owner },
      L3: { code: expectOk(await shop.staff.post(`${shop.base}/links`, { name: '朋友圈', channel: '朋友圈', group_ids: [g3] }), 201).code, channel: '朋友圈', owner: null, group: g3, monitor: null },
    };
    const full = await addProduct(shop, { type: 'course', name: '写作正课', price_minor: 69_900 });
    const trial = await addProduct(shop, { type: 'course', name: '写作体验课', price_minor: 990, trial_of_product_id: full.id });
    const monthly = await addProduct(shop, { type: 'membership', name: '月度会员', price_minor: 3000, term: 'days', term_days: 30 });
    const products = { trial: trial.id, full: full.id, monthly: monthly.id };
    const clients = new Map<string, Client>();

    const visit = async (l: keyof typeof links) => {
      expectOk(await new Client(server.url).post(`/api/v1/public/links/${links[l].code}/visits`, {}));
      log.push({ kind: 'visit', at: now(), channel: links[l].channel, owner: links[l].owner });
    };
    const join = async (l: keyof typeof links, name: string, again?: string) => {
      const link = links[l];
      const r = again
        ? expectOk(await new Client(server.url, null).request('POST', `/api/v1/public/links/${link.code}/join`, { name }, { authorization: `Bearer ${clients.get(again)!.bearer}` }))
        : expectOk(await new Client(server.url).post(`/api/v1/public/links/${link.code}/join`, { name }));
      const member = r.member.id as string;
      if (!again) clients.set(member, new Client(server.url, r.member_token));
      log.push({ kind: 'applied', at: now(), member, channel: link.channel, owner: link.owner });
      log.push({ kind: 'joined', at: now(), member, channel: link.channel, owner: link.owner, group: link.group, monitor: link.monitor });
      return member;
    };
    const onboard = async (m: string, nickname: string) => {
      const c = clients.get(m)!;
      expectOk(await c.post('/api/v1/member/onboarding/rules', { accepted: true }));
      expectOk(await c.post('/api/v1/member/onboarding/nickname', { nickname }));
      expect(expectOk(await c.post('/api/v1/member/onboarding/introduction', { text: `大家好，我是${nickname}，喜欢读书和写作` })).member.status).toBe('active');
      log.push({ kind: 'onboarded', at: now(), member: m });
    };
    const engage = async (m: string, type: string, iso: string) => {
      await insertEvent(ctx.db.handle.db, { community_id: shop.communityId, type, occurred_at: iso, member_id: m }, iso);
      log.push({ kind: 'engaged', at: Date.parse(iso), member: m });
    };
    const pay = async (m: string, product: keyof typeof products, key: string) => {
      await buyAndPay(server, clients.get(m)!, products[product], key);
      log.push({ kind: 'paid', at: now(), member: m, product });
    };
    const leave = async (m: string) => {
      expectOk(await clients.get(m)!.post('/api/v1/member/leave', { reason: '太忙' }));
      log.push({ kind: 'left', at: now(), member: m });
    };

    // Monday 5 January 2026.
    at('2026-01-05T02:00:00Z');
    await visit('L1');
    await visit('L1');
    await visit('L2');
    const a = await join('L1', '阿安');
    at('2026-01-05T03:00:00Z');
    await visit('L2');
    const b = await join('L2', '阿博');
    at('2026-01-06T03:00:00Z');
    await onboard(a, '小安');
    await engage(a, 'message', '2026-01-07T03:00:00.000Z');
    at('2026-01-08T03:00:00Z');
    await pay(a, 'trial', 'a-trial');
    // 16:30 UTC on Sunday 11 January is 00:30 on Monday 12 January in Shanghai: another week there.
    await engage(b, 'reaction', '2026-01-11T16:30:00.000Z');
    at('2026-01-11T17:00:00Z');
    await visit('L3');
    const c = await join('L3', '阿川');
    at('2026-01-13T03:00:00Z');
    await pay(a, 'full', 'a-full');
    await engage(a, 'reply', '2026-01-13T04:00:00.000Z');
    at('2026-01-14T03:00:00Z');
    await engage(c, 'check_in', '2026-01-14T03:00:00.000Z');
    await pay(c, 'monthly', 'c-month-1');
    at('2026-01-15T03:00:00Z');
    await leave(b);
    at('2026-01-19T03:00:00Z');
    await join('L1', '阿博', b); // rejoins: a second application, still the first cohort
    await engage(b, 'message', '2026-01-20T03:00:00.000Z');
    at('2026-01-20T05:00:00Z');
    await visit('L1');
    const d = await join('L1', '阿德');
    at('2026-01-21T05:00:00Z');
    await onboard(d, '小德');
    await engage(d, 'post', '2026-01-26T15:59:59.000Z'); // 23:59:59 in Shanghai
    at('2026-01-27T05:00:00Z');
    await pay(d, 'trial', 'd-trial'); // never engages afterwards, never buys the full course
    at('2026-02-02T05:00:00Z');
    await visit('L2');
    const e = await join('L2', '阿娥');
    await engage(e, 'message', '2026-02-03T16:00:00.000Z'); // 00:00 on 4 February in Shanghai
    await engage(a, 'message', '2026-02-04T03:00:00.000Z');
    at('2026-02-13T03:00:00Z');
    await pay(c, 'monthly', 'c-month-2'); // the renewal, outside C's 14-day window
    await engage(c, 'message', '2026-02-13T04:00:00.000Z');
    at('2026-02-18T03:00:00Z');
    await pay(e, 'trial', 'e-trial');
    await engage(e, 'reply', '2026-02-18T04:00:00.000Z');
    at('2026-02-20T03:00:00Z');
    await pay(e, 'full', 'e-full');
    at('2026-02-25T00:00:00Z'); // "now": later periods are in the future

    const labels = new Map([[owner, 'Owner'], [g1, '一群'], [g2, '二群'], [g3, '三群']]);
    let nonTrivial = 0;
    for (const zone of ['Asia/Shanghai', 'America/New_York', 'UTC']) {
      expectOk(await shop.staff.patch(shop.base, { time_zone: zone }));
      for (const [g, from, to, periods] of [
        ['week', '2026-01-05', '2026-03-02', undefined],
        ['week', '2026-01-07', '2026-02-10', 6],
        ['day', '2026-01-10', '2026-01-16', 3],
        ['month', '2026-01-01', '2026-04-01', undefined],
      ] as [G, string, string, number | undefined][]) {
        const q = `from=${from}&to=${to}&granularity=${g}`;
        const got = expectOk(await shop.staff.get(`${shop.base}/analytics/cohorts?${q}${periods === undefined ? '' : `&periods=${periods}`}`));
        const want = refCohorts(log, zone, g, from, to, now(), periods);
        expect({ periods: got.periods, cohorts: got.cohorts }, `cohorts ${zone} ${q}`).toEqual(want);
        expect([got.community_id, got.time_zone, got.granularity, typeof got.metrics_version]).toEqual([shop.communityId, zone, g, 'string']);
        const life = expectOk(await shop.staff.get(`${shop.base}/analytics/lifecycle?${q}`));
        const wantLife = refLifecycle(log, zone, g, from, to);
        expect(life.buckets, `lifecycle ${zone} ${q}`).toEqual(wantLife);
        if (want.cohorts.some((c) => c.cells.some((x) => x && x.numerator > 0 && x.numerator < x.denominator))) nonTrivial++;
        if (wantLife.some((r) => r.returning && r.dormant)) nonTrivial++;
      }
      for (const [from, to] of [
        ['2026-01-05', '2026-01-19'],
        ['2026-01-12', '2026-02-01'],
        ['2026-01-01', '2026-03-01'],
      ]) {
        for (const w of [undefined, 3]) {
          for (const split of [undefined, 'channel', 'group', 'staff'] as const) {
            for (const preset of [false, true]) {
              const q = `from=${from}&to=${to}${w ? `&window_days=${w}` : ''}${split ? `&split=${split}` : ''}${preset ? '&preset=trial' : ''}`;
              const got = expectOk(await shop.staff.get(`${shop.base}/analytics/funnel?${q}`));
              const want = refFunnel(log, zone, from, to, w ?? (preset ? 30 : 14), split, preset, labels);
              expect({ steps: got.steps, split: got.split }, `funnel ${zone} ${q}`).toEqual(want);
              expect([got.window_days, got.preset]).toEqual([w ?? (preset ? 30 : 14), preset ? 'trial' : null]);
              if (want.steps.at(-1)!.count && want.steps[1]!.count! > want.steps.at(-1)!.count!) nonTrivial++;
            }
          }
        }
      }
    }
    expect(nonTrivial).toBeGreaterThan(20);

    // Spot checks by hand, so that the reference itself is anchored.
    expectOk(await shop.staff.patch(shop.base, { time_zone: 'Asia/Shanghai' }));
    const weeks = expectOk(await shop.staff.get(`${shop.base}/analytics/cohorts?from=2026-01-05&to=2026-01-19&granularity=week`));
    expect(weeks.cohorts.map((x: { size: number }) => x.size)).toEqual([2, 1]); // A, B; C joined at 01:00 on Monday 12th
    expect(weeks.cohorts[0].cells[1]).toEqual({ value: 1, numerator: 2, denominator: 2 }); // A replied, B reacted at 00:30 Monday
    const funnel = expectOk(await shop.staff.get(`${shop.base}/analytics/funnel?from=2026-01-05&to=2026-01-19`));
    expect(funnel.steps.map((s: { count: number }) => s.count)).toEqual([5, 3, 3, 1, 1, 1, 1]); // only A onboarded: B and C stop there though C engaged and paid
    expect(funnel.steps[1].from_previous).toEqual({ value: 3 / 5, numerator: 3, denominator: 5 });
    const trialFunnel = expectOk(await shop.staff.get(`${shop.base}/analytics/funnel?from=2026-01-01&to=2026-03-01&preset=trial`));
    expect(trialFunnel.steps.map((s: { count: number }) => s.count)).toEqual([3, 2, 2]); // A and E convert; D never engages after the trial
  });

  it('refuses bad input naming the field', async () => {
    const cases: [string, string][] = [
      ['cohorts?to=2026-02-01', 'query.from'],
      ['cohorts?from=2026-01-01&to=2026-02-01&granularity=year', 'query.granularity'],
      ['cohorts?from=2026-01-01&to=2026-02-01&periods=-1', 'query.periods'],
      ['cohorts?from=2026-02-01&to=2026-01-01', 'query.to'],
      ['cohorts?from=2020-01-01&to=2026-01-01&granularity=day', 'query.to'],
      ['lifecycle?from=2026-02-30&to=2026-03-01', 'query.from'],
      ['lifecycle?from=2026-01-01&to=2026-02-01&periods=3', 'query.periods'],
      ['funnel?from=2026-01-01&to=2026-02-01&window_days=0', 'query.window_days'],
      ['funnel?from=2026-01-01&to=2026-02-01&split=referrer', 'query.split'],
      ['funnel?from=2026-01-01&to=2026-02-01&preset=vip', 'query.preset'],
      ['funnel?from=2026-01-01&to=2026-01-01', 'query.to'],
    ];
    for (const [q, field] of cases) {
      const r = await shop.staff.get(`${shop.base}/analytics/${q}`);
      expect([r.status, r.body.code, r.body.errors?.map((x: { field: string }) => x.field)], q).toEqual([400, 'validation_failed', [field]]);
    }
  });
});
