// The money formula, the referrer league and the explain lists against a small reference
// implementation written here from docs/analytics.md. It reads only the fixture list — what the test
// did through the API, with the clock at each step — never the database nor the code under test.
import { DateTime } from 'luxon';
import { expect, it } from 'vitest';
import { Client, describeEachDialect, expectOk, signUp, useServer } from '../../test/harness.js';
import { addProduct, buyAndPay, openShop, refund, type Shop } from '../../test/money.js';
import { fixedClock } from '../../lib/clock.js';

const ZONE = 'Asia/Shanghai';

type Step =
  | { kind: 'visit'; at: number; link: string }
  | { kind: 'join'; at: number; member: string; link: string; group: string }
  | { kind: 'leave'; at: number; member: string }
  | { kind: 'pay'; at: number; member: string; order: string; amount: number }
  | { kind: 'refund'; at: number; member: string; amount: number };

interface World {
  steps: Step[];
  /** link code → owning user / member */
  links: Map<string, { user: string | null; member: string | null }>;
  /** group id → leader and monitor user ids */
  groups: Map<string, { leader: string | null; monitor: string | null }>;
}

const bounds = (from: string, to: string) => [DateTime.fromISO(from, { zone: ZONE }).toMillis(), DateTime.fromISO(to, { zone: ZONE }).toMillis()] as const;

/** Membership from the fixture list: every join opens a stay, every leave closes the member's open one (no group moves here). */
function staysOf(steps: Step[]) {
  const stays: { member: string; start: number; end: number | null; link: string; group: string }[] = [];
  for (const s of steps) {
    if (s.kind === 'join') stays.push({ member: s.member, start: s.at, end: null, link: s.link, group: s.group });
    if (s.kind === 'leave') stays.find((x) => x.member === s.member && x.end === null)!.end = s.at;
  }
  return stays;
}

/** The inputs of the money formula, and the people behind /metrics figures, for [from, to). */
function periodFigures(w: World, from: string, to: string) {
  const [t0, t1] = bounds(from, to);
  const inside = (t: number) => t >= t0 && t < t1;
  const stays = staysOf(w.steps);
  const atT0 = new Set(stays.filter((s) => s.start < t0 && (s.end === null || s.end >= t0)).map((s) => s.member));
  const joins = stays.filter((s) => inside(s.start));
  const leaves = stays.filter((s) => s.end !== null && inside(s.end));
  const periodMembers = new Set([...atT0, ...joins.map((s) => s.member)]);
  const pays = w.steps.filter((s): s is Extract<Step, { kind: 'pay' }> => s.kind === 'pay' && inside(s.at));
  const paying = new Set([...periodMembers].filter((m) => pays.some((p) => p.member === m)));
  const visits = w.steps.filter((s) => s.kind === 'visit' && inside(s.at)).length;
  const refunds = w.steps.filter((s): s is Extract<Step, { kind: 'refund' }> => s.kind === 'refund' && inside(s.at));
  return { atT0, joins, leaves, periodMembers, paying, pays, visits, refunds, gmv: pays.reduce((n, p) => n + p.amount, 0) };
}

/** reach × join rate × payers per join × ARPPU, and its log-mean (LMDI) decomposition, written out. */
function referenceFormula(w: World, from: string, to: string) {
  const days = DateTime.fromISO(to).diff(DateTime.fromISO(from), 'days').days;
  const prevFrom = DateTime.fromISO(from).minus({ days }).toISODate()!;
  const cur = periodFigures(w, from, to);
  const prev = periodFigures(w, prevFrom, from);
  const useVisits = cur.visits + prev.visits > 0;
  const factors = (p: typeof cur) => {
    const reach = useVisits ? p.visits : p.periodMembers.size;
    return [
      [reach, 1],
      [p.joins.length, reach],
      [p.paying.size, p.joins.length],
      [p.gmv, p.paying.size],
    ] as [number, number][];
  };
  const f1 = factors(cur);
  const f0 = factors(prev);
  const holds = (f: [number, number][]) => !f.some(([n, d]) => d === 0 && n > 0);
  let contributions: number[] | null = null;
  if (holds(f0) && holds(f1)) {
    const [r0, r1] = [prev.gmv, cur.gmv];
    if (r0 > 0 && r1 > 0) {
      const l = r0 === r1 ? r0 : (r1 - r0) / (Math.log(r1) - Math.log(r0));
      contributions = f1.map(([n, d], i) => l * Math.log(n / d / (f0[i]![0] / f0[i]![1])));
    } else if (r0 === 0 && r1 === 0) contributions = [0, 0, 0, 0];
    else {
      const zero = (r0 === 0 ? f0 : f1).findIndex(([n]) => n === 0);
      contributions = f1.map((_, i) => (i === zero ? r1 - r0 : 0));
    }
  }
  return { prevFrom, useVisits, f0, f1, r0: prev.gmv, r1: cur.gmv, contributions };
}

/** The referrer league from the fixture list (docs/analytics.md "Referrers and KOLs"). */
function referenceLeague(w: World, from: string, to: string) {
  const [t0, t1] = bounds(from, to);
  const inside = (t: number) => t >= t0 && t < t1;
  const stays = staysOf(w.steps).filter((s) => s.start < t1);
  const credits = (link: string, group: string) => {
    const l = w.links.get(link)!;
    const g = w.groups.get(group);
    const keys = [l.member && `member:${l.member}`, l.user && `staff:${l.user}`, g?.leader && `staff:${g.leader}`, g?.monitor && `staff:${g.monitor}`];
    return [...new Set(keys.filter((k): k is string => !!k))];
  };
  const keys = new Set<string>();
  for (const s of stays) credits(s.link, s.group).forEach((k) => keys.add(k));
  for (const s of w.steps) if (s.kind === 'visit' && inside(s.at)) credits(s.link, '').forEach((k) => keys.add(k));
  for (const g of w.groups.values()) for (const u of [g.leader, g.monitor]) if (u) keys.add(`staff:${u}`);
  const ratio = (n: number, d: number) => ({ value: d === 0 ? null : n / d, numerator: n, denominator: d });
  const rows = [...keys].map((key) => {
    const mine = stays.filter((s) => credits(s.link, s.group).includes(key));
    const people = new Set(mine.map((s) => s.member));
    const joined = mine.filter((s) => inside(s.start));
    const fresh = new Set(joined.map((s) => s.member));
    const pays = w.steps.filter((s): s is Extract<Step, { kind: 'pay' }> => s.kind === 'pay');
    const refunds = w.steps.filter((s): s is Extract<Step, { kind: 'refund' }> => s.kind === 'refund');
    const sum = (xs: { amount: number }[]) => xs.reduce((n, x) => n + x.amount, 0);
    const atT0 = new Set(mine.filter((s) => s.start < t0 && (s.end === null || s.end >= t0)).map((s) => s.member));
    const ledGroups = [...w.groups].filter(([, g]) => `staff:${g.leader}` === key || `staff:${g.monitor}` === key).map(([id]) => id);
    const inGroups = staysOf(w.steps).filter((s) => ledGroups.includes(s.group));
    return {
      key,
      invites: w.steps.filter((s) => s.kind === 'visit' && inside(s.at) && credits(s.link, '').includes(key)).length,
      joins: joined.length,
      k: fresh.size,
      paid_conversion: ratio([...fresh].filter((m) => pays.some((p) => p.member === m && inside(p.at))).length, fresh.size),
      revenue_minor: sum(pays.filter((p) => people.has(p.member) && inside(p.at))),
      people: people.size,
      ltv: ratio(sum(pays.filter((p) => people.has(p.member) && p.at < t1)) - sum(refunds.filter((r) => people.has(r.member) && r.at < t1)), people.size),
      leave_rate: ratio(mine.filter((s) => s.end !== null && inside(s.end)).length, atT0.size + joined.length),
      group_leave_rate: ledGroups.length
        ? ratio(
            inGroups.filter((s) => s.end !== null && inside(s.end)).length,
            inGroups.filter((s) => s.start < t0 && (s.end === null || s.end >= t0)).length + inGroups.filter((s) => inside(s.start)).length,
          )
        : null,
    };
  });
  const quartile = (vs: number[]) => vs.map((v) => v > 0 && vs.filter((x) => x > v).length < Math.ceil(vs.length / 4));
  const inTop = (r: (typeof rows)[number], field: 'revenue_minor' | 'joins') => {
    const same = rows.filter((x) => x.key.split(':')[0] === r.key.split(':')[0]);
    return quartile(same.map((x) => x[field]))[same.indexOf(r)];
  };
  return rows.map((r) => {
    const leave = (r.group_leave_rate ?? r.leave_rate).value;
    const verdict = inTop(r, 'revenue_minor') && inTop(r, 'joins') ? 'reward' : r.joins === 0 && leave !== null && leave >= 0.5 ? 'replace' : 'keep';
    return { ...r, verdict };
  });
}

describeEachDialect('money formula, referrers and explain match a reference implementation', (dialect) => {
  const clock = fixedClock(new Date('2026-01-01T00:00:00Z'));
  const ctx = useServer(dialect, { clock });
  let shop: Shop;
  const world: World = { steps: [], links: new Map(), groups: new Map() };
  const at = (iso: string) => clock.set(new Date(iso));
  const now = () => clock.now().getTime();

  it('builds the fixture', async () => {
    const server = ctx.server;
    shop = await openShop(server);
    const me = expectOk(await shop.owner.get('/api/v1/auth/me')).user.id as string;
    const leader = await signUp(server.url, `leader-${dialect}-${Date.now()}@example.com`, '组长');
    const monitor = await signUp(server.url, `monitor-${dialect}-${Date.now()}@example.com`, '班长');
    expectOk(await shop.owner.post(`${shop.base}/staff`, { email: leader.user.email, role: 'leader' }));
    expectOk(await shop.owner.post(`${shop.base}/staff`, { email: monitor.user.email, role: 'monitor' }));
    const g2 = expectOk(await shop.owner.post(`${shop.base}/groups`, { name: '二群', capacity: 1000, leader_user_id: leader.user.id, monitor_user_id: monitor.user.id }), 201);
    world.groups.set(g2.id, { leader: leader.user.id, monitor: monitor.user.id });
    const l2 = expectOk(await shop.owner.post(`${shop.base}/links`, { name: '视频号', channel: '视频号', group_ids: [g2.id] }), 201);
    world.links.set(shop.linkCode, { user: me, member: null });
    world.links.set(l2.code, { user: me, member: null });
    const course = await addProduct(shop, { type: 'course', name: '写作课', price_minor: 990 });
    const annual = await addProduct(shop, { type: 'membership', name: '年度会员', price_minor: 9900, term: 'annual' });
    const clients = new Map<string, Client>();

    const visit = async (code: string, n = 1) => {
      for (let i = 0; i < n; i++) {
        expectOk(await new Client(server.url).post(`/api/v1/public/links/${code}/visits`, {}));
        world.steps.push({ kind: 'visit', at: now(), link: code });
      }
    };
    const join = async (code: string, name: string, as?: string) => {
      const r = expectOk(
        await new Client(server.url, null).request('POST', `/api/v1/public/links/${code}/join`, { name }, as ? { authorization: `Bearer ${clients.get(as)!.bearer}` } : {}),
      );
      const id = r.member.id as string;
      if (r.member_token) clients.set(id, new Client(server.url, r.member_token));
      world.steps.push({ kind: 'join', at: now(), member: id, link: code, group: r.member.group_id });
      return id;
    };
    const leave = async (id: string) => {
      expectOk(await clients.get(id)!.post('/api/v1/member/leave', { reason: '忙' }));
      world.steps.push({ kind: 'leave', at: now(), member: id });
    };
    const pay = async (id: string, product: { id: string; price_minor: number }, key: string, again = false) => {
      const o = await buyAndPay(server, clients.get(id)!, product.id, key, { allowDuplicate: again });
      world.steps.push({ kind: 'pay', at: now(), member: id, order: o.id, amount: o.amount_minor });
      return o;
    };

    at('2026-01-05T10:00:00Z');
    await visit(shop.linkCode, 3);
    await visit(l2.code, 2);
    const a = await join(shop.linkCode, '阿安');
    const b = await join(l2.code, '阿博');
    at('2026-01-06T10:00:00Z');
    const invite = expectOk(await clients.get(a)!.get('/api/v1/member/invite-link'));
    world.links.set(invite.code, { user: null, member: a });
    await visit(invite.code, 2);
    const c = await join(invite.code, '阿川');
    at('2026-01-10T10:00:00Z');
    await pay(a, course, 'a-course');
    const cAnnual = await pay(c, annual, 'c-annual');
    at('2026-01-20T10:00:00Z');
    await leave(b);
    at('2026-01-31T16:30:00Z'); // 00:30 on 1 February in Shanghai
    await visit(l2.code);
    const d = await join(l2.code, '阿德');
    at('2026-02-03T10:00:00Z');
    await join(shop.linkCode, '阿博', b); // B rejoins through the staff link into the first group
    at('2026-02-05T10:00:00Z');
    await visit(invite.code, 3);
    const e = await join(invite.code, '阿娥');
    const f = await join(invite.code, '阿飞');
    at('2026-02-10T10:00:00Z');
    await pay(e, course, 'e-course');
    await pay(a, annual, 'a-annual');
    await pay(d, course, 'd-course');
    at('2026-02-15T10:00:00Z');
    expectOk(await refund(shop, cAnnual.id, { amount_minor: 9900, reason: '退款' }, 'r-c'), 201);
    world.steps.push({ kind: 'refund', at: now(), member: c, amount: 9900 });
    at('2026-02-20T10:00:00Z');
    await leave(f);
    at('2026-03-05T10:00:00Z');
    await pay(a, course, 'a-course-2', true); // a payer in a month without joins
    at('2026-03-10T10:00:00Z');
    await leave(c);
    expect(world.steps.length).toBeGreaterThan(20);
  });

  const PERIODS: [string, string][] = [
    ['2026-02-01', '2026-03-01'],
    ['2026-01-01', '2026-02-01'], // previous period empty: revenue from 0
    ['2026-03-01', '2026-04-01'], // payers without joins: the formula does not hold
    ['2026-02-01', '2026-02-02'],
    ['2026-01-01', '2026-04-01'],
  ];

  it('money formula: factors, revenue and LMDI contributions', async () => {
    let decomposed = 0;
    for (const [from, to] of PERIODS) {
      const got = expectOk(await shop.staff.get(`${shop.base}/analytics/money-formula?from=${from}&to=${to}`));
      const want = referenceFormula(world, from, to);
      const label = `${from}..${to}`;
      expect([got.community_id, got.time_zone, typeof got.metrics_version], label).toEqual([shop.communityId, ZONE, 'string']);
      expect([got.period.from, got.previous_period.from, got.previous_period.to], label).toEqual([from, want.prevFrom, from]);
      expect(got.reach_source, label).toBe(want.useVisits ? 'link_visits' : 'audience');
      expect(got.revenue, label).toEqual({ current: want.r1, previous: want.r0, change: want.r1 - want.r0 });
      expect(got.factors.map((x: { key: string }) => x.key)).toEqual(['reach', 'join_rate', 'paid_conversion', 'arppu']);
      got.factors.forEach((x: any, i: number) => {
        const [n, d] = want.f1[i]!;
        const [pn, pd] = want.f0[i]!;
        expect([x.numerator, x.denominator, x.value], `${label} ${x.key}`).toEqual([n, d, d === 0 ? null : n / d]);
        expect([x.previous.numerator, x.previous.denominator, x.previous.value], `${label} ${x.key} previous`).toEqual([pn, pd, pd === 0 ? null : pn / pd]);
      });
      if (want.contributions === null) {
        expect(got.factors.map((x: any) => x.contribution), label).toEqual([null, null, null, null]);
        expect(got.reason, label).toEqual(expect.any(String));
        continue;
      }
      decomposed++;
      got.factors.forEach((x: any, i: number) => expect(x.contribution, `${label} ${x.key}`).toBeCloseTo(want.contributions![i]!, 6));
      const sum = got.factors.reduce((s: number, x: any) => s + x.contribution, 0);
      expect(sum, `${label}: contributions add up to the change`).toBeCloseTo(want.r1 - want.r0, 6);
      const top = want.contributions.reduce((best, c, i) => (Math.abs(c) > Math.abs(want.contributions![best]!) ? i : best), 0);
      expect(got.top_factor, label).toBe(want.contributions[top] === 0 ? null : got.factors[top].key);
      // Where the formula holds, the factors multiply to the revenue.
      const product = got.factors.reduce((p: number, x: any) => (p === 0 || x.value === null ? p : p * x.value), 1);
      expect(got.factors.some((x: any) => x.value === 0) ? 0 : product, label).toBeCloseTo(want.r1, 6);
    }
    expect(decomposed).toBeGreaterThanOrEqual(3);

    // Anchors by hand: January starts from an empty December, so reach (first zero factor) takes all of it.
    const jan = expectOk(await shop.staff.get(`${shop.base}/analytics/money-formula?from=2026-01-01&to=2026-02-01`));
    expect(jan.factors.map((x: any) => x.contribution)).toEqual([10_890, 0, 0, 0]);
    expect(jan.top_factor).toBe('reach');
    const mar = expectOk(await shop.staff.get(`${shop.base}/analytics/money-formula?from=2026-03-01&to=2026-04-01`));
    expect([mar.holds, mar.top_factor]).toEqual([{ current: false, previous: true }, null]);
    const feb = expectOk(await shop.staff.get(`${shop.base}/analytics/money-formula?from=2026-02-01&to=2026-03-01`));
    expect(feb.paid_rate.current).toEqual({ value: 3 / 6, numerator: 3, denominator: 6 }); // A, D, E of A, B, C, D, E, F
    expect(feb.factors[2]).toMatchObject({ numerator: 3, denominator: 4 }); // payers per join: D, B again, E, F
  });

  it('money formula: a community without link visits uses its audience as reach', async () => {
    const other = await openShop(ctx.server);
    const course = await addProduct(other, { type: 'course', name: '课', price_minor: 500 });
    at('2026-05-03T10:00:00Z');
    const x = expectOk(await new Client(ctx.server.url).post(`/api/v1/public/links/${other.linkCode}/join`, { name: '小许' }));
    await buyAndPay(ctx.server, new Client(ctx.server.url, x.member_token), course.id, 'x-course');
    const got = expectOk(await other.staff.get(`${other.base}/analytics/money-formula?from=2026-05-01&to=2026-06-01`));
    expect(got.reach_source).toBe('audience');
    expect(got.factors.map((f: any) => [f.key, f.numerator, f.denominator])).toEqual([
      ['reach', 1, 1],
      ['join_rate', 1, 1],
      ['paid_conversion', 1, 1],
      ['arppu', 500, 1],
    ]);
    expect(got.factors.map((f: any) => f.contribution)).toEqual([500, 0, 0, 0]);
  });

  it('referrers: league figures and verdicts', async () => {
    for (const [from, to] of PERIODS) {
      const got = expectOk(await shop.staff.get(`${shop.base}/analytics/referrers?from=${from}&to=${to}`));
      const metrics = expectOk(await shop.staff.get(`${shop.base}/metrics?from=${from}&to=${to}`));
      expect(got.community_k_factor).toEqual(metrics.k_factor);
      const want = referenceLeague(world, from, to);
      const byKey = new Map(got.referrers.map((r: any) => [`${r.kind}:${r.id}`, r]));
      expect([...byKey.keys()].sort(), `${from}..${to}`).toEqual(want.map((r) => r.key).sort());
      for (const w of want) {
        const { key, ...figures } = w;
        const { kind: _kind, id: _id, name, rank, ...rest } = byKey.get(key) as any;
        expect(rest, `${from}..${to} ${key}`).toEqual(figures);
        expect([typeof name, rank > 0]).toEqual(['string', true]);
      }
      const ranks = got.referrers.map((r: any) => [r.rank, r.revenue_minor, r.joins]);
      expect(ranks.map((r: number[]) => r[0])).toEqual(ranks.map((_: unknown, i: number) => i + 1));
      for (let i = 1; i < ranks.length; i++) expect(ranks[i - 1][1] > ranks[i][1] || (ranks[i - 1][1] === ranks[i][1] && ranks[i - 1][2] >= ranks[i][2])).toBe(true);
    }
    // By hand, February: A brought E and F (and C before); the monitor and leader of 二群 brought D.
    const feb = expectOk(await shop.staff.get(`${shop.base}/analytics/referrers?from=2026-02-01&to=2026-03-01`));
    const a = feb.referrers.find((r: any) => r.kind === 'member');
    expect([a.name, a.invites, a.joins, a.people, a.revenue_minor, a.leave_rate]).toEqual(['阿安', 3, 2, 3, 990, { value: 1 / 3, numerator: 1, denominator: 3 }]);
    expect(a.ltv).toEqual({ value: 990 / 3, numerator: 990, denominator: 3 }); // C's 9900 paid and refunded, E's 990
    const verdicts = new Set(feb.referrers.map((r: any) => r.verdict));
    expect(verdicts.has('reward')).toBe(true);
    const mar = expectOk(await shop.staff.get(`${shop.base}/analytics/referrers?from=2026-03-01&to=2026-04-01`));
    expect(mar.referrers.find((r: any) => r.kind === 'member').verdict).toBe('replace'); // no joins, C left: 1 of 2
  });

  it('explain: the lists behind every figure add up to /metrics, name the same people, and come as CSV', async () => {
    const parts: [string, string, (m: any) => number][] = [
      ['members_t0', 'numerator', (m) => m.members_t0],
      ['members_t1', 'numerator', (m) => m.members_t1],
      ['period_members', 'numerator', (m) => m.period_members],
      ['joins', 'numerator', (m) => m.joins],
      ['leaves', 'numerator', (m) => m.leaves],
      ['active_members', 'numerator', (m) => m.active_members],
      ['paying_members', 'numerator', (m) => m.paying_members],
      ['gmv', 'numerator', (m) => m.gmv.amount_minor],
      ['refunds', 'numerator', (m) => m.refunds.amount_minor],
      ...['leave_rate', 'active_rate', 'paid_rate', 'repurchase_rate', 'renewal_rate', 'trial_renewal_rate', 'k_factor', 'arppu'].flatMap(
        (k) =>
          [
            [k, 'numerator', (m: any) => m[k].numerator],
            [k, 'denominator', (m: any) => m[k].denominator],
          ] as [string, string, (m: any) => number][],
      ),
    ];
    for (const [from, to] of PERIODS) {
      const metrics = expectOk(await shop.staff.get(`${shop.base}/metrics?from=${from}&to=${to}`));
      const want = periodFigures(world, from, to);
      for (const [metric, part, figure] of parts) {
        const got = expectOk(await shop.staff.get(`${shop.base}/metrics/explain?from=${from}&to=${to}&metric=${metric}&part=${part}`));
        const label = `${from}..${to} ${metric} ${part}`;
        expect([got.metric, got.part, got.count], label).toEqual([metric, part, got.rows.length]);
        const isMoney = ['gmv', 'refunds'].includes(metric) || (metric === 'arppu' && part === 'numerator');
        expect(isMoney ? got.amount_minor : got.count, label).toBe(figure(metrics));
      }
      const ids = async (metric: string, part = 'numerator') =>
        expectOk(await shop.staff.get(`${shop.base}/metrics/explain?from=${from}&to=${to}&metric=${metric}&part=${part}`)).rows.map((r: any) => r.member_id).sort();
      expect(await ids('members_t0'), from).toEqual([...want.atT0].sort());
      expect(await ids('period_members'), from).toEqual([...want.periodMembers].sort());
      expect(await ids('paid_rate'), from).toEqual([...want.paying].sort());
      expect(await ids('joins'), from).toEqual(want.joins.map((s) => s.member).sort());
      expect(await ids('leaves'), from).toEqual(want.leaves.map((s) => s.member).sort());
      expect(await ids('gmv'), from).toEqual(want.pays.map((p) => p.member).sort());
      expect(await ids('refunds'), from).toEqual(want.refunds.map((r) => r.member).sort());
    }
    const csv = await shop.staff.get(`${shop.base}/metrics/explain?from=2026-02-01&to=2026-03-01&metric=paid_rate&part=denominator&format=csv`);
    expect([csv.status, csv.headers.get('content-type')]).toEqual([200, 'text/csv; charset=utf-8']);
    const lines = (csv.body as string).trimEnd().split('\r\n');
    expect(lines[0]).toBe('member_id,display_name,external_id,item,at,amount_minor');
    expect(lines.length - 1).toBe(periodFigures(world, '2026-02-01', '2026-03-01').periodMembers.size);
    expect(lines.some((l) => l.includes('阿娥'))).toBe(true);
    const gmv = expectOk(await shop.staff.get(`${shop.base}/metrics/explain?from=2026-02-01&to=2026-03-01&metric=gmv`));
    expect(gmv.rows.map((r: any) => r.item).sort()).toEqual(
      world.steps
        .filter((s): s is Extract<Step, { kind: 'pay' }> => s.kind === 'pay' && s.at >= bounds('2026-02-01', '2026-03-01')[0] && s.at < bounds('2026-02-01', '2026-03-01')[1])
        .map((s) => s.order)
        .sort(),
    );
  });
});
