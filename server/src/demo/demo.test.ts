import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestDb, describeEachDialect, openSpansByGroup, type TestDb } from '../test/harness.js';
import { createDemo, DEMO_SLUG } from './demo.js';
import { checkLedger } from '../modules/orders/index.js';
import { DateTime } from 'luxon';
import { classifyCommunityMembers, communityChurnRisk, communityGroupHealth } from '../modules/analytics/index.js';

/** What a demo looks like, without ids, so two runs can be compared. */
async function shape(db: TestDb) {
  const q = db.handle.db;
  const community = await q.selectFrom('communities').selectAll().where('slug', '=', DEMO_SLUG).executeTakeFirstOrThrow();
  const groups = await q.selectFrom('groups').select(['name', 'capacity', 'seated_count', 'status']).where('community_id', '=', community.id).orderBy('name').execute();
  const statuses = await q.selectFrom('members').select(['status', (eb) => eb.fn.countAll<number>().as('n')]).where('community_id', '=', community.id).groupBy('status').orderBy('status').execute();
  const channels = await q.selectFrom('members').select(['channel', (eb) => eb.fn.countAll<number>().as('n')]).where('community_id', '=', community.id).groupBy('channel').orderBy('channel').execute();
  const events = await q.selectFrom('events').select(['type', (eb) => eb.fn.countAll<number>().as('n')]).where('community_id', '=', community.id).groupBy('type').orderBy('type').execute();
  const orders = await q
    .selectFrom('orders')
    .innerJoin('products', 'products.id', 'orders.product_id')
    .select(['products.name', 'orders.status', (eb) => eb.fn.countAll<number>().as('n'), (eb) => eb.fn.sum<number>('orders.refunded_minor').as('refunded')])
    .where('orders.community_id', '=', community.id)
    .groupBy(['products.name', 'orders.status'])
    .orderBy('products.name')
    .orderBy('orders.status')
    .execute();
  const num = <T extends { n: number }>(rows: T[]) => rows.map((r) => ({ ...r, n: Number(r.n) }));
  return { community, groups, statuses: num(statuses), channels: num(channels), events: num(events), orders: num(orders).map((o) => ({ ...o, refunded: Number(o.refunded) })) };
}

describeEachDialect('demo community', (dialect) => {
  let a: TestDb;
  let b: TestDb;
  beforeAll(async () => {
    a = await createTestDb(dialect);
    b = await createTestDb(dialect);
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
  });

  it('is deterministic from its seed, marked as demo, and consistent with its own event log', async () => {
    const opts = { seed: 7, people: 300, days: 120 };
    expect(await createDemo(a.handle, opts)).not.toBeNull();
    expect(await createDemo(b.handle, opts)).not.toBeNull();
    expect(await createDemo(a.handle, opts)).toBeNull(); // second call leaves the existing demo alone

    const x = await shape(a);
    const y = await shape(b);
    expect(x.groups).toEqual(y.groups);
    expect(x.statuses).toEqual(y.statuses);
    expect(x.channels).toEqual(y.channels);
    expect(JSON.stringify(x.events)).toEqual(JSON.stringify(y.events));
    expect(x.orders).toEqual(y.orders);

    expect(x.community.is_demo).toBe(1);
    expect(x.community.name).toContain('演示');
    expect(x.groups).toHaveLength(6);
    // Four channels plus members' own invite links.
    expect(x.channels.map((c) => c.channel)).toEqual(expect.arrayContaining(['公众号', '朋友圈', '合作伙伴', '视频号', 'member_invite']));
    const count = (t: string) => x.events.find((e) => e.type === t)?.n ?? 0;
    expect(count('left')).toBeGreaterThan(0);
    expect(count('applied')).toBe(300);
    // The daily jobs ran: reminders before expiry and lapsed monthly memberships ended.
    expect(count('membership_expiring')).toBeGreaterThan(0);
    expect(count('membership_expired')).toBeGreaterThan(0);

    // Seats agree with open spans, and members now = joins − leaves (no removals in the demo).
    const q = a.handle.db;
    const cid = x.community.id;
    const open = await openSpansByGroup(a, cid);
    const seated = await q.selectFrom('groups').select(['id', 'seated_count']).where('community_id', '=', cid).execute();
    for (const g of seated) expect(open.get(g.id) ?? 0).toBe(g.seated_count);
    const inGroups = seated.reduce((s, g) => s + g.seated_count, 0);
    expect(inGroups).toBe(count('joined') - count('left'));
    const members = x.statuses.filter((s) => s.status === 'active' || s.status === 'onboarding').reduce((s, r) => s + r.n, 0);
    expect(members).toBe(inGroups);

    // Money: paid orders of every product, a few refunds, trial buyers who went on to the full course,
    // and a ledger that checks clean.
    const paid = (name: string) => x.orders.filter((o) => o.name === name && o.status !== 'pending' && o.status !== 'cancelled').reduce((s, o) => s + o.n, 0);
    for (const name of ['年度会员', '月度会员', '深度阅读体验课', '21天深度阅读训练营']) expect(paid(name), name).toBeGreaterThan(0);
    expect(x.orders.some((o) => o.refunded > 0)).toBe(true);
    const products = await q.selectFrom('products').select(['id', 'name', 'price_minor', 'trial_of_product_id']).where('community_id', '=', cid).execute();
    const trial = products.find((p) => p.trial_of_product_id !== null)!;
    expect([trial.price_minor, products.find((p) => p.id === trial.trial_of_product_id)?.price_minor].map(Number)).toEqual([990, 69900]);
    const buyersOf = async (productId: string) =>
      new Set((await q.selectFrom('orders').select('member_id').where('product_id', '=', productId).where('paid_at', 'is not', null).execute()).map((o) => o.member_id));
    const trialBuyers = await buyersOf(trial.id);
    const fullBuyers = await buyersOf(trial.trial_of_product_id!);
    expect([...trialBuyers].filter((m) => fullBuyers.has(m)).length).toBeGreaterThan(0);
    // Analytics of the last 30 days are not degenerate: every archetype, true fans, a dead and an ad group,
    // members at risk, and the reach of the links.
    const to = DateTime.now().setZone('Asia/Shanghai').toISODate()!;
    const from = DateTime.fromISO(to).minus({ days: 30 }).toISODate()!;
    const classified = await classifyCommunityMembers(a.deps, cid, { from, to });
    for (const [k, n] of Object.entries(classified.summary.archetypes)) expect(n, k).toBeGreaterThan(0);
    expect(classified.summary.levels.true_fan).toBeGreaterThan(0);
    expect(classified.summary.levels.fan).toBeGreaterThan(0);
    const health = await communityGroupHealth(a.deps, cid, { from, to });
    // Groups the link has not filled yet are dead too; of the groups with members, only the quiet one.
    expect(health.groups.filter((g) => g.dead && g.period_members > 0).map((g) => g.name)).toEqual(['北京分会']);
    expect(health.groups.filter((g) => g.ad_group).map((g) => g.name)).toEqual(['鱼塘读书会1群']);
    const risk = await communityChurnRisk(a.deps, cid, { as_of: DateTime.fromISO(to).minus({ days: 1 }).toISODate()! });
    expect(new Set(risk.members.flatMap((m) => m.reasons.map((r) => r.kind)))).toEqual(new Set(['inactive', 'expiring', 'declining']));
    for (const t of ['reply', 'reaction', 'post', 'check_in', 'event_attended', 'message', 'message_reported', 'link_visited']) expect(count(t), t).toBeGreaterThan(0);
    const ledger = await checkLedger(q);
    expect(ledger.violations).toEqual([]);
    expect(ledger.paid_orders).toBeGreaterThan(0);
  });
});
