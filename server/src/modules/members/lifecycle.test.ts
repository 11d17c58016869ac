import { beforeAll, expect, it } from 'vitest';
import { Client, describeEachDialect, expectOk, signUp, type ApiResponse, useServer } from '../../test/harness.js';

describeEachDialect('member lifecycle: leave, removal, ban, rejoin', (dialect) => {
  const ctx = useServer(dialect);
  let op: Client;
  let opUserId: string;
  let workspaceId: string;
  let slugs = 0;

  beforeAll(async () => {
    let user: { id: string };
    ({ client: op, workspaceId, user } = await signUp(ctx.server.url, 'owner@example.com', 'Owner'));
    opUserId = user.id;
  });

  const community = async () =>
    expectOk(await op.post(`/api/v1/workspaces/${workspaceId}/communities`, { name: '摄影社', slug: `photo-${++slugs}`, type: 'interest' }), 201).id as string;
  const tryJoin = (code: string, body: Record<string, unknown>, token?: string): Promise<ApiResponse> =>
    new Client(ctx.server.url, token ?? null).post(`/api/v1/public/links/${code}/join`, body);
  const join = async (code: string, body: Record<string, unknown>, token?: string) => expectOk(await tryJoin(code, body, token));
  const groupsOf = async (cid: string) => expectOk(await op.get(`/api/v1/communities/${cid}/groups`)).groups as any[];
  const getGroup = async (cid: string, id: string) => expectOk(await op.get(`/api/v1/communities/${cid}/groups/${id}`));
  const getMember = async (cid: string, id: string) => expectOk(await op.get(`/api/v1/communities/${cid}/members/${id}`));
  const events = async (cid: string, memberId: string) => expectOk(await op.get(`/api/v1/communities/${cid}/events?limit=1000&member_id=${memberId}`)).events as any[];
  const spansOf = (memberId: string) =>
    ctx.db.handle.db.selectFrom('member_spans').selectAll().where('member_id', '=', memberId).orderBy('joined_at').orderBy('id').execute();
  const pause = () => new Promise((r) => setTimeout(r, 5));

  it('leave frees the seat; rejoining with the member token keeps one record and opens a new span', async () => {
    const cid = await community();
    const g = await group(cid, '一群', 2);
    const l = expectOk(await op.post(`/api/v1/communities/${cid}/links`, { name: '朋友圈', channel: '朋友圈', group_ids: [g.id] }), 201);

    const a = await join(l.code, { name: '阿光' });
    const b = await join(l.code, { name: '阿明' });
    expect([a.member.group_id, b.member.group_id]).toEqual([g.id, g.id]);
    expect(await getGroup(cid, g.id)).toMatchObject({ seated: 2, status: 'full' });

    // An active member cannot join again, with or without going through onboarding first.
    const dup = await tryJoin(l.code, { name: '阿光' }, a.member_token);
    expect([dup.status, dup.body.code]).toEqual([409, 'already_member']);

    await pause();
    const meA = new Client(ctx.server.url, a.member_token);
    const left = expectOk(await meA.post('/api/v1/member/leave', { reason: '太忙了' }));
    expect(left.member.status).toBe('left');
    expect(left.member.group_id).toBeNull();
    expect(left.member.left_at).not.toBeNull();
    expect(await getGroup(cid, g.id)).toMatchObject({ seated: 1, status: 'open', free_seats: 1 });
    const [span] = await spansOf(a.member.id);
    expect(span).toMatchObject({ group_id: g.id, left_kind: 'left' });
    expect(span!.left_at).not.toBeNull();

    // Leaving twice is refused.
    const again = await meA.post('/api/v1/member/leave', {});
    expect([again.status, again.body.code]).toEqual([409, 'invalid_state']);

    // The freed seat goes to the next person instead of a new group.
    const d = await join(l.code, { name: '阿德' });
    expect(d.member.group_id).toBe(g.id);
    expect(await groupsOf(cid)).toHaveLength(1);
    expect(await getGroup(cid, g.id)).toMatchObject({ seated: 2, status: 'full' });

    // A rejoins with the member token: same record, no new token, a new span in the overflow group.
    await pause();
    const back = await join(l.code, { name: '阿光' }, a.member_token);
    expect(back.member.id).toBe(a.member.id);
    expect(back.member_token).toBeUndefined();
    expect(back.next).toBe('onboarding');
    expect(back.member.status).toBe('onboarding');
    expect(back.member.left_at).toBeNull();
    expect(back.member.first_joined_at).toBe(a.member.first_joined_at);
    expect(back.member.last_joined_at > a.member.last_joined_at).toBe(true);
    const groups = await groupsOf(cid);
    expect(groups.map((x) => [x.name, x.seated])).toEqual([
      ['一群', 2],
      ['一群(2)', 1],
    ]);
    expect(back.member.group_id).toBe(groups[1].id);
    const spans = await spansOf(a.member.id);
    expect(spans.map((s) => [s.group_id, s.left_kind, s.left_at === null])).toEqual([
      [g.id, 'left', false],
      [groups[1].id, null, true],
    ]);
    const members = expectOk(await op.get(`/api/v1/communities/${cid}/members`)).members as any[];
    expect(members).toHaveLength(3);
    expect(members.filter((m) => m.display_name === '阿光')).toHaveLength(1);

    const log = await events(cid, a.member.id);
    expect(log.map((e) => e.type)).toEqual(['applied', 'joined', 'left', 'applied', 'joined']);
    expect(log[1]).toMatchObject({ group_id: g.id, props: { rejoin: false } });
    expect(log[2]).toMatchObject({ group_id: g.id, props: { reason: '太忙了' } });
    expect(log[4]).toMatchObject({ group_id: groups[1].id, props: { rejoin: true } });

    // The member token still works and shows the current state.
    const view = expectOk(await meA.get('/api/v1/member'));
    expect(view.member).toMatchObject({ id: a.member.id, status: 'onboarding', group_id: groups[1].id });
    expect(view.application.status).toBe('passed');
  });

  it('staff removal records the reason; without a ban the member may rejoin, with a ban they may not', async () => {
    const cid = await community();
    const g = await group(cid, '二群', 10);
    const l = expectOk(await op.post(`/api/v1/communities/${cid}/links`, { name: '海报', channel: '海报', group_ids: [g.id] }), 201);
    const b = await join(l.code, { name: '小白', external_id: 'wx_b' });
    const d = await join(l.code, { name: '小黑', external_id: 'wx_d' });
    expect((await getGroup(cid, g.id)).seated).toBe(2);

    // B finishes onboarding, so a later rejoin skips it.
    const meB = new Client(ctx.server.url, b.member_token);
    expectOk(await meB.post('/api/v1/member/onboarding/rules', { accepted: true }));
    expectOk(await meB.post('/api/v1/member/onboarding/nickname', { nickname: '小白' }));
    const onboarded = expectOk(await meB.post('/api/v1/member/onboarding/introduction', { text: '大家好，我是小白，喜欢拍风景' }));
    expect(onboarded.member.status).toBe('active');
    const dupActive = await tryJoin(l.code, { name: '小白' }, b.member_token);
    expect([dupActive.status, dupActive.body.code]).toEqual([409, 'already_member']);

    const removedB = expectOk(await op.post(`/api/v1/communities/${cid}/members/${b.member.id}/remove`, { reason: '刷屏' }));
    expect(removedB).toMatchObject({ status: 'removed', group_id: null, removal_reason: '刷屏' });
    expect((await getGroup(cid, g.id)).seated).toBe(1);
    const removedD = expectOk(await op.post(`/api/v1/communities/${cid}/members/${d.member.id}/remove`, { reason: '发广告', ban: true }));
    expect(removedD).toMatchObject({ status: 'removed', group_id: null, removal_reason: '发广告' });
    expect((await getGroup(cid, g.id)).seated).toBe(0);
    expect((await spansOf(d.member.id)).map((s) => s.left_kind)).toEqual(['removed']);

    // Removing someone who is no longer in a group is refused.
    const twice = await op.post(`/api/v1/communities/${cid}/members/${d.member.id}/remove`, { reason: '再次' });
    expect([twice.status, twice.body.code]).toEqual([409, 'invalid_state']);

    // The banned member cannot come back, with their token or under the same external id.
    const banned = await tryJoin(l.code, { name: '小黑' }, d.member_token);
    expect([banned.status, banned.body.code]).toEqual([403, 'member_banned']);
    const sameId = await tryJoin(l.code, { name: '小黑', external_id: 'wx_d' });
    expect([sameId.status, sameId.body.code]).toEqual([409, 'identity_in_use']);
    expect(await getMember(cid, d.member.id)).toMatchObject({ status: 'removed', group_id: null });
    expect((await getGroup(cid, g.id)).seated).toBe(0);

    // B was not banned: they rejoin under the same record, already onboarded, and the reason clears.
    const back = await join(l.code, { name: '小白' }, b.member_token);
    expect(back.next).toBe('done');
    expect(back.member).toMatchObject({ id: b.member.id, status: 'active', group_id: g.id, removal_reason: null });
    expect((await getGroup(cid, g.id)).seated).toBe(1);
    expect((await spansOf(b.member.id)).map((s) => s.left_kind)).toEqual(['removed', null]);

    const logB = await events(cid, b.member.id);
    const removedEvent = logB.find((e) => e.type === 'removed')!;
    expect(removedEvent).toMatchObject({ group_id: g.id, actor_user_id: opUserId, props: { reason: '刷屏', ban: false } });
    expect(logB.filter((e) => e.type === 'joined').map((e) => e.props.rejoin)).toEqual([false, true]);
    const logD = await events(cid, d.member.id);
    expect(logD.map((e) => e.type)).toEqual(['applied', 'joined', 'removed']);
    expect(logD[2]).toMatchObject({ group_id: g.id, actor_user_id: opUserId, props: { reason: '发广告', ban: true } });

    const members = expectOk(await op.get(`/api/v1/communities/${cid}/members`)).members as any[];
    expect(members.map((m) => [m.display_name, m.status]).sort()).toEqual([
      ['小白', 'active'],
      ['小黑', 'removed'],
    ]);
  });

  async function group(cid: string, name: string, capacity: number) {
    return expectOk(await op.post(`/api/v1/communities/${cid}/groups`, { name, capacity }), 201);
  }
});
