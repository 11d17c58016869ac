import { expect, it } from 'vitest';
import { Client, expectOk, signUp, describeEachDialect, useServer } from '../../test/harness.js';

describeEachDialect('operator builds a community and people join through an entry link', (dialect) => {
  const ctx = useServer(dialect);

  it('signs up, builds 3 groups of 5, seats 16 people (a 4th group appears), onboards, lists attribution', async () => {
    const { client: op, workspaceId } = await signUp(ctx.server.url, 'owner@example.com', 'Owner');

    const community = expectOk(
      await op.post(`/api/v1/workspaces/${workspaceId}/communities`, {
        name: '跑步俱乐部',
        slug: 'runners',
        type: 'interest',
        value_proposition: '每周一起跑步，互相督促，分享训练心得',
        values: ['坚持', '互助'],
        monetization_modes: ['membership'],
        rules: { nickname_format: '城市-行业-姓名', introduction_template: '我是{姓名}，来自{城市}' },
      }),
      201,
    );
    expect(community.time_zone).toBe('Asia/Shanghai');
    expect(community.currency).toBe('CNY');
    expect(community.rules.banned_topics).toEqual(['politics', 'religion', 'ads']);
    const cid = community.id as string;

    const groups: any[] = [];
    for (const n of [1, 2, 3]) {
      groups.push(expectOk(await op.post(`/api/v1/communities/${cid}/groups`, { name: `跑团${n}群`, capacity: 5, tags: { city: '上海' } }), 201));
    }
    const link = expectOk(
      await op.post(`/api/v1/communities/${cid}/links`, { name: '公众号菜单', channel: '公众号', group_ids: groups.map((g) => g.id), overflow_template: { name: '跑团' } }),
      201,
    );
    expect(link.url).toMatch(/\/j\/[a-z0-9]+$/);

    // The link page records a visit and shows a QR code.
    const page = await new Client(ctx.server.url).get(`/j/${link.code}`);
    expect(page.status).toBe(200);
    expect(page.body).toContain('<svg');

    const joined: { member: any; member_token: string; next: string }[] = [];
    for (let i = 0; i < 16; i++) {
      joined.push(expectOk(await new Client(ctx.server.url).post(`/api/v1/public/links/${link.code}/join`, { name: `跑者${i}` })));
    }
    expect(joined.every((j) => j.next === 'onboarding' && j.member_token.startsWith('ymt_'))).toBe(true);

    const after = expectOk(await op.get(`/api/v1/communities/${cid}/groups`)).groups as any[];
    expect(after).toHaveLength(4);
    const overflow = after.find((g) => !groups.some((o) => o.id === g.id))!;
    expect(overflow.name).toBe('跑团(4)');
    expect(overflow.created_from_link_id).toBe(link.id);
    expect(overflow.capacity).toBe(5);
    // First 15 fill the three groups in order; the 16th opens the new group.
    expect(after.map((g) => [g.seated, g.status])).toEqual([[5, 'full'], [5, 'full'], [5, 'full'], [1, 'open']]);
    expect(joined.slice(0, 5).every((j) => j.member.group_id === groups[0].id)).toBe(true);
    expect(joined[15]!.member.group_id).toBe(overflow.id);
    const linkAfter = expectOk(await op.get(`/api/v1/communities/${cid}/links/${link.id}`));
    expect(linkAfter.group_ids).toEqual([...groups.map((g) => g.id), overflow.id]);
    expect(linkAfter.uses).toBe(16);
    expect(linkAfter.visits).toBe(1);

    // Onboarding: a wrong nickname gets the expected format; a right one passes.
    const me = new Client(ctx.server.url, joined[0]!.member_token);
    expectOk(await me.post('/api/v1/member/onboarding/rules', { accepted: true }));
    const wrong = await me.post('/api/v1/member/onboarding/nickname', { nickname: '小明' });
    expect(wrong.status).toBe(400);
    expect(wrong.headers.get('content-type')).toContain('application/problem+json');
    expect(wrong.body.code).toBe('nickname_format');
    expect(wrong.body.detail).toContain('城市-行业-姓名');
    expect(wrong.body.errors[0].field).toBe('nickname');
    expectOk(await me.post('/api/v1/member/onboarding/nickname', { nickname: '上海-教育-小明' }));
    const done = expectOk(await me.post('/api/v1/member/onboarding/introduction', { text: '我是小明，来自上海，在学校教数学，想跑半马' }));
    expect(done.member.status).toBe('active');
    expect(done.member.nickname).toBe('上海-教育-小明');
    expect(done.welcome).not.toBeNull();

    const listed = expectOk(await op.get(`/api/v1/communities/${cid}/members?limit=50`)).members as any[];
    expect(listed).toHaveLength(16);
    for (const m of listed) {
      expect(m.attribution).toEqual({ entry_link_id: link.id, channel: '公众号', referrer_member_id: null });
    }
    expect(listed.filter((m) => m.status === 'active')).toHaveLength(1);

    // Everything that happened is in the event log.
    const events = expectOk(await op.get(`/api/v1/communities/${cid}/events?limit=1000`)).events as any[];
    const count = (t: string) => events.filter((e) => e.type === t).length;
    expect([count('link_visited'), count('applied'), count('joined'), count('onboarded'), count('group_created')]).toEqual([1, 16, 16, 1, 4]);
    expect(events.filter((e) => e.type === 'joined').every((e) => e.entry_link_id === link.id && e.channel === '公众号')).toBe(true);
  });
});
