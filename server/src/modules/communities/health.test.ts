import { afterAll, beforeAll, expect, it } from 'vitest';
import { fixedClock } from '../../lib/clock.js';
import { insertEvent } from '../events/index.js';
import { Client, createTestDb, describeEachDialect, expectOk, signUp, startServer, type TestDb, type TestServer } from '../../test/harness.js';

interface Item {
  key: string;
  label: string;
  status: 'ok' | 'weak' | 'missing';
  reason: string;
}
interface Health {
  community_id: string;
  elements: Item[];
  pillars: Item[];
  missing: number;
  weak: number;
}

const NOW = new Date('2026-12-01T08:00:00.000Z');
const DAY = 86400_000;

/** key → status of every item, elements and pillars apart (rules appears in both). */
const statuses = (h: Health) => ({
  elements: Object.fromEntries(h.elements.map((i) => [i.key, i.status])),
  pillars: Object.fromEntries(h.pillars.map((i) => [i.key, i.status])),
});
const reasonOf = (items: Item[], key: string) => items.find((i) => i.key === key)!.reason;

describeEachDialect('community health check (five elements, four pillars)', (dialect) => {
  let db: TestDb;
  let server: TestServer;
  const clock = fixedClock(NOW);
  beforeAll(async () => {
    db = await createTestDb(dialect, clock);
    server = await startServer(db);
  });
  afterAll(async () => {
    await server?.close();
    await db?.close();
  });

  it('reports what is missing, what is weak, and turns ok as the operator fills the community in', async () => {
    const { client: op, workspaceId } = await signUp(server.url, 'owner@example.com', 'Owner');
    const { user: monitor } = await signUp(server.url, 'monitor@example.com', 'Monitor');
    const { user: leader } = await signUp(server.url, 'leader@example.com', 'Leader');
    const cid = expectOk(await op.post(`/api/v1/workspaces/${workspaceId}/communities`, { name: '读书会', slug: 'readers', type: 'knowledge' }), 201)
      .id as string;
    const health = async () => expectOk<Health>(await op.get(`/api/v1/communities/${cid}/health`));

    // 1. Bare community: no values, default rules (only banned topics), no groups, no products,
    //    no events, free entry, empty value proposition. Every item is missing.
    const bare = await health();
    expect(bare.community_id).toBe(cid);
    expect(bare.elements.map((i) => [i.key, i.label])).toEqual([
      ['values', '价值观念'],
      ['rules', '规章制度'],
      ['organization', '组织机构'],
      ['interaction', '交互式活动'],
      ['revenue', '收益'],
    ]);
    expect(bare.pillars.map((i) => [i.key, i.label])).toEqual([
      ['value', '价值'],
      ['threshold', '门槛'],
      ['rules', '规则'],
      ['kol', 'KOL'],
    ]);
    for (const i of [...bare.elements, ...bare.pillars]) {
      expect(i.status, i.key).toBe('missing');
      expect(i.reason.trim().length, i.key).toBeGreaterThan(0);
    }
    expect([bare.missing, bare.weak]).toEqual([9, 0]);
    // Default rules carry banned topics, so three gaps remain.
    expect(reasonOf(bare.elements, 'rules')).toBe('Missing: announcement, introduction template, nickname format.');

    // 2. Half-done: one value, a short proposition, an announcement only, a monetization mode with
    //    nothing for sale, two groups of which one has a monitor and none a leader, and one group
    //    with its own threshold while the community entry stays free.
    expectOk(await op.post(`/api/v1/communities/${cid}/staff`, { email: 'monitor@example.com', role: 'monitor' }));
    expectOk(await op.post(`/api/v1/communities/${cid}/staff`, { email: 'leader@example.com', role: 'leader' }));
    expectOk(
      await op.patch(`/api/v1/communities/${cid}`, {
        values: ['好学'],
        value_proposition: '一起读书',
        monetization_modes: ['membership'],
        rules: { announcement: '每月读一本书' },
      }),
    );
    const g1 = expectOk(await op.post(`/api/v1/communities/${cid}/groups`, { name: '一群', monitor_user_id: monitor.id }), 201);
    const g2 = expectOk(
      await op.post(`/api/v1/communities/${cid}/groups`, { name: '二群', threshold: { mode: 'all', criteria: [{ type: 'application' }] } }),
      201,
    );
    const half = await health();
    expect(statuses(half)).toEqual({
      elements: { values: 'weak', rules: 'weak', organization: 'weak', interaction: 'missing', revenue: 'weak' },
      pillars: { value: 'weak', threshold: 'weak', rules: 'weak', kol: 'weak' },
    });
    expect([half.missing, half.weak]).toEqual([1, 8]);
    expect(reasonOf(half.elements, 'rules')).toBe('Missing: introduction template, nickname format.');
    expect(reasonOf(half.elements, 'organization')).toBe('Only one level below HQ: 1 groups have a monitor, 0 a leader.');
    expect(reasonOf(half.pillars, 'rules')).toBe('Newcomers meet no introduction template, nickname format.');
    expect(reasonOf(half.pillars, 'threshold')).toBe('Community entry is free; only 1 groups have their own threshold.');
    expect(reasonOf(half.pillars, 'kol')).toBe('1 of 2 groups have neither a monitor nor a leader.');

    // Ten people join group 1 while entry is free: they are onboarding, which counts as active.
    const link = expectOk(await op.post(`/api/v1/communities/${cid}/links`, { name: '公众号', channel: '公众号', group_ids: [g1.id] }), 201);
    const memberIds: string[] = [];
    for (let i = 0; i < 10; i++) {
      const j = expectOk(await new Client(server.url).post(`/api/v1/public/links/${link.code}/join`, { name: `读者${i}` }));
      expect(j.member.status).toBe('onboarding');
      memberIds.push(j.member.id);
    }

    // 3. Everything but interaction: two values, a real proposition, all rules, monitor and leader on
    //    every group, a product for sale and a paid community threshold.
    const patched = expectOk(
      await op.patch(`/api/v1/communities/${cid}`, {
        values: ['好学', '分享'],
        value_proposition: '每月共读一本好书，线上讨论，线下见面',
        rules: { introduction_template: '我是{姓名}，在读{书名}', nickname_format: '城市-姓名' },
      }),
    );
    // A partial rules update keeps the rules it does not name.
    expect(patched.rules).toEqual({
      announcement: '每月读一本书',
      introduction_template: '我是{姓名}，在读{书名}',
      nickname_format: '城市-姓名',
      perks: [],
      welcome_message: '',
      banned_topics: ['politics', 'religion', 'ads'],
    });
    for (const g of [g1, g2]) {
      expectOk(await op.patch(`/api/v1/communities/${cid}/groups/${g.id}`, { monitor_user_id: monitor.id, leader_user_id: leader.id }));
    }
    const product = expectOk(
      await op.post(`/api/v1/communities/${cid}/products`, { type: 'membership', name: '年卡', price_minor: 19900, term: 'annual' }),
      201,
    );
    expectOk(await op.put(`/api/v1/communities/${cid}/threshold`, { mode: 'all', criteria: [{ type: 'paid', product_ids: [product.id] }] }));

    const full = await health();
    expect(statuses(full)).toEqual({
      elements: { values: 'ok', rules: 'ok', organization: 'ok', interaction: 'missing', revenue: 'ok' },
      pillars: { value: 'ok', threshold: 'ok', rules: 'ok', kol: 'ok' },
    });
    expect([full.missing, full.weak]).toEqual([1, 0]);
    expect(reasonOf(full.elements, 'revenue')).toBe('1 products are for sale.');
    expect(reasonOf(full.pillars, 'threshold')).toBe('Entry requires: paid.');
    expect(reasonOf(full.elements, 'interaction')).toBe('No messages, check-ins, attendance or other engagement in the last 30 days.');

    // A group without a monitor or leader makes KOL weak; archiving it takes it out of the count.
    const g3 = expectOk(await op.post(`/api/v1/communities/${cid}/groups`, { name: '三群' }), 201);
    const withG3 = await health();
    expect(statuses(withG3).pillars.kol).toBe('weak');
    expect(statuses(withG3).elements.organization).toBe('ok');
    expectOk(await op.patch(`/api/v1/communities/${cid}/groups/${g3.id}`, { archived: true }));
    expect(statuses(await health()).pillars.kol).toBe('ok');

    // 4. Interaction. Engagement older than 30 days and non-engagement events do not count.
    const at = (ms: number) => new Date(NOW.getTime() - ms).toISOString();
    const message = (memberId: string, ago = 0) =>
      insertEvent(db.handle.db, { community_id: cid, type: 'message', occurred_at: at(ago), member_id: memberId, group_id: g1.id }, NOW.toISOString());
    await message(memberIds[9]!, 31 * DAY);
    await insertEvent(db.handle.db, { community_id: cid, type: 'left', occurred_at: at(0), member_id: memberIds[8]! }, NOW.toISOString());
    expect(statuses(await health()).elements.interaction).toBe('missing');

    // One member of ten (twice; counted once) is below the 20% bar: weak.
    await message(memberIds[0]!, DAY);
    await message(memberIds[0]!, 2 * DAY);
    const one = await health();
    expect(statuses(one).elements.interaction).toBe('weak');
    expect(reasonOf(one.elements, 'interaction')).toBe('Only 1 of 10 members engaged in the last 30 days.');

    // Two of ten is exactly 20%: ok.
    await message(memberIds[1]!, 29 * DAY);
    const two = await health();
    expect(statuses(two).elements.interaction).toBe('ok');
    expect(reasonOf(two.elements, 'interaction')).toBe('2 members engaged in the last 30 days.');
    expect([two.missing, two.weak]).toEqual([0, 0]);
    for (const i of [...two.elements, ...two.pillars]) expect(i.reason.trim().length, i.key).toBeGreaterThan(0);

    // Time passes: 2 more days and the 29-day-old message drops out of the window.
    clock.advance(2 * DAY);
    expect(statuses(await health()).elements.interaction).toBe('weak');
  });

  it('is for admins: a monitor of the community gets 403, an outsider 404', async () => {
    const { client: op, workspaceId } = await signUp(server.url, 'owner2@example.com', 'Owner2');
    const { client: mon } = await signUp(server.url, 'monitor2@example.com', 'Monitor2');
    const { client: outsider } = await signUp(server.url, 'outsider@example.com', 'Outsider');
    const cid = expectOk(await op.post(`/api/v1/workspaces/${workspaceId}/communities`, { name: 'Two', slug: 'two', type: 'interest' }), 201).id as string;
    expectOk(await op.post(`/api/v1/communities/${cid}/staff`, { email: 'monitor2@example.com', role: 'monitor' }));
    expect((await mon.get(`/api/v1/communities/${cid}/health`)).status).toBe(403);
    expect((await outsider.get(`/api/v1/communities/${cid}/health`)).status).toBe(404);
    expect((await op.get(`/api/v1/communities/${cid}/health`)).status).toBe(200);
  });
});
