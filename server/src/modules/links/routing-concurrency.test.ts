import { beforeAll, expect, it } from 'vitest';
import { Client, describeEachDialect, expectOk, signUp, type ApiResponse, useServer, openSpansByGroup } from '../../test/harness.js';

describeEachDialect('entry-link routing under concurrent joins', (dialect) => {
  const ctx = useServer(dialect);
  let op: Client;
  let workspaceId: string;
  let slugs = 0;

  beforeAll(async () => {
    ({ client: op, workspaceId } = await signUp(ctx.server.url, 'owner@example.com', 'Owner'));
  });

  const community = async () =>
    expectOk(await op.post(`/api/v1/workspaces/${workspaceId}/communities`, { name: '跑步俱乐部', slug: `run-${++slugs}`, type: 'interest' }), 201).id as string;
  const group = async (cid: string, body: Record<string, unknown>) => expectOk(await op.post(`/api/v1/communities/${cid}/groups`, body), 201);
  const link = async (cid: string, body: Record<string, unknown>) =>
    expectOk(await op.post(`/api/v1/communities/${cid}/links`, { name: '公众号', channel: '公众号', ...body }), 201);
  const tryJoin = (code: string, body: Record<string, unknown>): Promise<ApiResponse> => new Client(ctx.server.url).post(`/api/v1/public/links/${code}/join`, body);
  const join = async (code: string, body: Record<string, unknown>) => expectOk(await tryJoin(code, body));
  const groupsOf = async (cid: string) => expectOk(await op.get(`/api/v1/communities/${cid}/groups`)).groups as any[];
  const getLink = async (cid: string, id: string) => expectOk(await op.get(`/api/v1/communities/${cid}/links/${id}`));

  /** Open spans per group, straight from the database. */
  const openSpans = (cid: string) => openSpansByGroup(ctx.db, cid);

  const tally = (ids: string[]) => {
    const m = new Map<string, number>();
    for (const id of ids) m.set(id, (m.get(id) ?? 0) + 1);
    return m;
  };

  it('50 parallel joins for the last 10 seats: exactly 10 seated, 40 routed to one new group', async () => {
    const cid = await community();
    const old = await group(cid, { name: '老群', capacity: 20 });
    const l = await link(cid, { group_ids: [old.id], overflow_template: { capacity: 100 } });
    for (let i = 0; i < 10; i++) expect((await join(l.code, { name: `先来${i}` })).member.group_id).toBe(old.id);

    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => tryJoin(l.code, { name: `并发${i}` })));
    expect(results.map((r) => r.status)).toEqual(Array(50).fill(200));
    const landed = tally(results.map((r) => r.body.member.group_id));
    expect(landed.get(old.id)).toBe(10);
    expect(landed.size).toBe(2);
    const [newId, newCount] = [...landed].find(([id]) => id !== old.id)!;
    expect(newCount).toBe(40);
    expect(results.every((r) => r.body.next === 'onboarding')).toBe(true);
    expect(new Set(results.map((r) => r.body.member.id)).size).toBe(50);

    const groups = await groupsOf(cid);
    expect(groups).toHaveLength(2);
    const oldAfter = groups.find((g) => g.id === old.id)!;
    const overflow = groups.find((g) => g.id === newId)!;
    expect([oldAfter.seated, oldAfter.capacity, oldAfter.free_seats, oldAfter.status]).toEqual([20, 20, 0, 'full']);
    expect([overflow.name, overflow.seated, overflow.capacity, overflow.status, overflow.created_from_link_id]).toEqual(['老群(2)', 40, 100, 'open', l.id]);

    const linkAfter = await getLink(cid, l.id);
    expect(linkAfter.group_ids).toEqual([old.id, newId]);
    expect(linkAfter.uses).toBe(60);

    // The database agrees with the counters: one open span per seated member.
    const spans = await openSpans(cid);
    expect(spans.get(old.id)).toBe(20);
    expect(spans.get(newId)).toBe(40);
    const seatedMembers = await ctx.db.handle.db
      .selectFrom('members')
      .select(['current_group_id', (eb) => eb.fn.countAll<number>().as('n')])
      .where('community_id', '=', cid)
      .groupBy('current_group_id')
      .execute();
    expect(new Map(seatedMembers.map((r) => [r.current_group_id, Number(r.n)]))).toEqual(new Map([[old.id, 20], [newId, 40]]));
    const events = expectOk(await op.get(`/api/v1/communities/${cid}/events?type=group_created`)).events as any[];
    expect(events.map((e) => e.group_id)).toEqual([old.id, newId]);
  });

  it('overflow groups overflow in turn: 30 parallel joins into groups of 5 make 6 full groups', async () => {
    const cid = await community();
    const first = await group(cid, { name: '小组', capacity: 5 });
    const l = await link(cid, { group_ids: [first.id] });

    const results = await Promise.all(Array.from({ length: 30 }, (_, i) => tryJoin(l.code, { name: `跑者${i}` })));
    expect(results.map((r) => r.status)).toEqual(Array(30).fill(200));

    const groups = await groupsOf(cid);
    // 30 people / 5 seats = 6 groups: the original and (2)…(6).
    expect(groups.map((g) => g.name).sort()).toEqual(['小组', '小组(2)', '小组(3)', '小组(4)', '小组(5)', '小组(6)']);
    for (const g of groups) {
      expect(g.capacity).toBe(5);
      expect(g.seated).toBeLessThanOrEqual(g.capacity);
      expect([g.seated, g.status]).toEqual([5, 'full']);
    }
    expect(groups.reduce((s, g) => s + g.seated, 0)).toBe(30);

    const landed = tally(results.map((r) => r.body.member.group_id));
    const spans = await openSpans(cid);
    for (const g of groups) {
      expect(landed.get(g.id)).toBe(5);
      expect(spans.get(g.id)).toBe(g.seated);
    }
    const linkAfter = await getLink(cid, l.id);
    expect(linkAfter.group_ids).toHaveLength(6);
    expect(new Set(linkAfter.group_ids)).toEqual(new Set(groups.map((g) => g.id)));
    expect(linkAfter.uses).toBe(30);
  });

  it('a link capped at 5 uses admits exactly 5 of 12 parallel joins', async () => {
    const cid = await community();
    const g = await group(cid, { name: '限量群', capacity: 100 });
    const l = await link(cid, { group_ids: [g.id], max_uses: 5 });
    const results = await Promise.all(Array.from({ length: 12 }, (_, i) => tryJoin(l.code, { name: `抢位${i}` })));
    const ok = results.filter((r) => r.status === 200);
    const refused = results.filter((r) => r.status !== 200);
    expect(ok).toHaveLength(5);
    expect(refused).toHaveLength(7);
    for (const r of refused) expect([r.status, r.body.code]).toEqual([410, 'link_exhausted']);
    expect((await getLink(cid, l.id)).uses).toBe(5);
    expect((await groupsOf(cid))[0].seated).toBe(5);
    expect((await openSpans(cid)).get(g.id)).toBe(5);
  });

  it('expired, exhausted and disabled links refuse joins with 410', async () => {
    const cid = await community();
    const g = await group(cid, { name: '群', capacity: 100 });

    const expired = await link(cid, { group_ids: [g.id], expires_at: new Date(Date.now() - 60_000).toISOString() });
    const r1 = await tryJoin(expired.code, { name: '迟到的人' });
    expect([r1.status, r1.body.code]).toEqual([410, 'link_expired']);
    const future = await link(cid, { group_ids: [g.id], expires_at: new Date(Date.now() + 3_600_000).toISOString() });
    expect((await join(future.code, { name: '准时的人' })).member.group_id).toBe(g.id);

    const capped = await link(cid, { group_ids: [g.id], max_uses: 2 });
    await join(capped.code, { name: '一号' });
    await join(capped.code, { name: '二号' });
    const r3 = await tryJoin(capped.code, { name: '三号' });
    expect([r3.status, r3.body.code]).toEqual([410, 'link_exhausted']);
    expect((await getLink(cid, capped.id)).uses).toBe(2);

    const disabled = await link(cid, { group_ids: [g.id] });
    expectOk(await op.patch(`/api/v1/communities/${cid}/links/${disabled.id}`, { disabled: true }));
    const r4 = await tryJoin(disabled.code, { name: '四号' });
    expect([r4.status, r4.body.code]).toEqual([410, 'link_disabled']);

    const missing = await tryJoin('nosuchcode', { name: '五号' });
    expect([missing.status, missing.body.code]).toEqual([404, 'link_not_found']);

    // Nobody was recorded for the refused joins: 1 + 2 seated, 3 members.
    expect((await groupsOf(cid))[0].seated).toBe(3);
    const members = expectOk(await op.get(`/api/v1/communities/${cid}/members`)).members as any[];
    expect(members.map((m) => m.display_name).sort()).toEqual(['一号', '二号', '准时的人'].sort());
  });

  it('segment rules route by profile.city, and a segment pool overflows on its own', async () => {
    const cid = await community();
    const general = await group(cid, { name: '综合群', capacity: 10 });
    const sh = await group(cid, { name: '上海群', capacity: 2, tags: { city: '上海' } });
    const north = await group(cid, { name: '京津群', capacity: 10 });
    const l = await link(cid, {
      group_ids: [general.id],
      segment_rules: [
        { field: 'city', in: ['上海'], group_ids: [sh.id] },
        { field: 'city', in: ['北京', '天津'], group_ids: [north.id] },
      ],
    });

    const at = async (name: string, profile?: Record<string, string>) => (await join(l.code, { name, ...(profile && { profile }) })).member.group_id;
    expect(await at('沪一', { city: '上海' })).toBe(sh.id);
    expect(await at('沪二', { city: ' 上海 ' })).toBe(sh.id);
    expect(await at('津一', { city: '天津' })).toBe(north.id);
    expect(await at('京一', { city: '北京', industry: '教育' })).toBe(north.id);
    expect(await at('穗一', { city: '广州' })).toBe(general.id);
    expect(await at('无名')).toBe(general.id);
    expect(await at('行业', { industry: '上海' })).toBe(general.id);

    // 上海群 is full: the third Shanghai join opens 上海群(2) for that segment only.
    const third = await at('沪三', { city: '上海' });
    expect([general.id, sh.id, north.id]).not.toContain(third);
    const groups = await groupsOf(cid);
    const shOverflow = groups.find((g) => g.id === third)!;
    expect([shOverflow.name, shOverflow.capacity, shOverflow.tags, shOverflow.seated]).toEqual(['上海群(2)', 2, { city: '上海' }, 1]);
    const linkAfter = await getLink(cid, l.id);
    expect(linkAfter.group_ids).toEqual([general.id]);
    expect(linkAfter.segment_rules[0].group_ids).toEqual([sh.id, third]);
    expect(linkAfter.segment_rules[1].group_ids).toEqual([north.id]);
    // The next Shanghai join fills the overflow group rather than making another.
    expect(await at('沪四', { city: '上海' })).toBe(third);

    const seated = new Map(groups.map((g) => [g.id, g.seated]));
    expect([seated.get(general.id), seated.get(sh.id), seated.get(north.id)]).toEqual([3, 2, 2]);
  });
});
