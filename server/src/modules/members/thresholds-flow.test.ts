import { beforeAll, expect, it } from 'vitest';
import { Client, describeEachDialect, expectOk, signUp, useServer } from '../../test/harness.js';

describeEachDialect('entry thresholds over HTTP', (dialect) => {
  const ctx = useServer(dialect);
  let op: Client;
  let workspaceId: string;
  let slugs = 0;

  beforeAll(async () => {
    ({ client: op, workspaceId } = await signUp(ctx.server.url, 'owner@example.com', 'Owner'));
  });

  async function community(threshold?: unknown): Promise<string> {
    const body: Record<string, unknown> = { name: '读书会', slug: `books-${++slugs}`, type: 'interest' };
    if (threshold) body.threshold = threshold;
    return expectOk(await op.post(`/api/v1/workspaces/${workspaceId}/communities`, body), 201).id as string;
  }
  const group = async (cid: string, body: Record<string, unknown>) => expectOk(await op.post(`/api/v1/communities/${cid}/groups`, body), 201);
  const link = async (cid: string, groupIds: string[], name = '公众号') =>
    expectOk(await op.post(`/api/v1/communities/${cid}/links`, { name, channel: name, group_ids: groupIds }), 201);
  const join = async (code: string, body: Record<string, unknown>) => expectOk(await new Client(ctx.server.url).post(`/api/v1/public/links/${code}/join`, body));
  const getGroup = async (cid: string, id: string) => expectOk(await op.get(`/api/v1/communities/${cid}/groups/${id}`));
  const events = async (cid: string) => expectOk(await op.get(`/api/v1/communities/${cid}/events?limit=1000`)).events as any[];
  const reviewQueue = async (cid: string) => expectOk(await op.get(`/api/v1/communities/${cid}/applications?queue=review`)).applications as any[];
  const pendingAll = async (cid: string) => expectOk(await op.get(`/api/v1/communities/${cid}/applications`)).applications as any[];
  const openSpans = (memberId: string) =>
    ctx.db.handle.db.selectFrom('member_spans').selectAll().where('member_id', '=', memberId).where('left_at', 'is', null).execute();
  const ids = (xs: { id: string }[]) => xs.map((x) => x.id).sort();
  const self = async (token: string) => expectOk(await new Client(ctx.server.url, token).get('/api/v1/member'));

  const questionnaire = {
    type: 'questionnaire',
    questions: [
      { id: 'industry', text: '你的行业？', kind: 'choice', options: ['教育', '科技', '金融'] },
      { id: 'intro', text: '介绍一下自己' },
    ],
    auto_accept: [
      { question_id: 'industry', one_of: ['教育', '科技'] },
      { question_id: 'intro', min_length: 10 },
    ],
    on_mismatch: 'review',
  };
  const good = { industry: '科技', intro: '我在做开源社区平台的开发' };
  const bad = { industry: '金融', intro: '我在做开源社区平台的开发' };

  it('questionnaire: matching answers join at once; others wait for review; approval seats, rejection does not', async () => {
    const cid = await community({ mode: 'all', criteria: [questionnaire] });
    const main = await group(cid, { name: '主群', capacity: 50 });
    const l = await link(cid, [main.id]);

    const ok = await join(l.code, { name: '小明', answers: good });
    expect(ok.next).toBe('onboarding');
    expect(ok.member.status).toBe('onboarding');
    expect(ok.member.group_id).toBe(main.id);
    expect(ok.application.status).toBe('passed');
    expect(ok.application.progress).toEqual([{ type: 'questionnaire', status: 'passed', detail: 'Answers accepted automatically' }]);

    const toApprove = await join(l.code, { name: '小红', answers: bad });
    const toReject = await join(l.code, { name: '小刚', answers: bad });
    // Missing an answer: pending, but waiting on the applicant, not on staff.
    const incomplete = await join(l.code, { name: '小李', answers: { industry: '教育' } });
    for (const j of [toApprove, toReject]) {
      expect(j.next).toBe('wait_for_threshold');
      expect(j.member.status).toBe('applicant');
      expect(j.member.group_id).toBeNull();
      expect(j.application.status).toBe('pending');
      expect(j.application.progress).toEqual([{ type: 'questionnaire', status: 'pending', detail: 'Answers are waiting for review' }]);
    }
    expect(incomplete.next).toBe('wait_for_threshold');
    expect(incomplete.application.progress).toEqual([
      { type: 'questionnaire', status: 'pending', detail: 'Answer: 介绍一下自己', current: 1, required: 2 },
    ]);
    expect((await getGroup(cid, main.id)).seated).toBe(1);

    // Staff see the two mismatches in the review queue with their progress and answers; the
    // incomplete one only among all pending applications.
    const queue = await reviewQueue(cid);
    expect(ids(queue)).toEqual(ids([toApprove.application, toReject.application]));
    const queued = queue.find((a) => a.id === toApprove.application.id)!;
    expect(queued.member_id).toBe(toApprove.member.id);
    expect(queued.mode).toBe('all');
    expect(queued.answers).toEqual(bad);
    expect(queued.progress).toEqual([{ type: 'questionnaire', status: 'pending', detail: 'Answers are waiting for review' }]);
    expect(ids(await pendingAll(cid))).toEqual(ids([toApprove.application, toReject.application, incomplete.application]));

    // The applicant sees the same progress.
    const mine = await self(toApprove.member_token);
    expect(mine.member.status).toBe('applicant');
    expect(mine.application.id).toBe(toApprove.application.id);
    expect(mine.application.progress).toEqual(queued.progress);

    // Approval seats the applicant.
    const approved = expectOk(await op.post(`/api/v1/communities/${cid}/applications/${toApprove.application.id}/review`, { decision: 'approve' }));
    expect(approved.status).toBe('passed');
    expect(approved.decided_at).not.toBeNull();
    expect(approved.progress).toEqual([{ type: 'questionnaire', status: 'passed', detail: 'Answers approved by staff' }]);
    const seated = expectOk(await op.get(`/api/v1/communities/${cid}/members/${toApprove.member.id}`));
    expect(seated.status).toBe('onboarding');
    expect(seated.group_id).toBe(main.id);
    expect(seated.first_joined_at).not.toBeNull();
    expect((await getGroup(cid, main.id)).seated).toBe(2);
    expect(await openSpans(toApprove.member.id)).toHaveLength(1);
    let log = await events(cid);
    const joinedApproved = log.filter((e) => e.type === 'joined' && e.member_id === toApprove.member.id);
    expect(joinedApproved).toHaveLength(1);
    expect(joinedApproved[0]).toMatchObject({ group_id: main.id, entry_link_id: l.id, channel: '公众号', props: { rejoin: false } });
    expect(log.filter((e) => e.type === 'application_reviewed' && e.member_id === toApprove.member.id).map((e) => e.props.decision)).toEqual(['approve']);
    expect(log.filter((e) => e.type === 'threshold_passed' && e.member_id === toApprove.member.id)).toHaveLength(1);

    // Rejection: the member is rejected and no group changes.
    const groupsBefore = expectOk(await op.get(`/api/v1/communities/${cid}/groups`)).groups;
    const rejected = expectOk(await op.post(`/api/v1/communities/${cid}/applications/${toReject.application.id}/review`, { decision: 'reject' }));
    expect(rejected.status).toBe('rejected');
    expect(rejected.progress).toEqual([{ type: 'questionnaire', status: 'failed', detail: 'Answers rejected by staff' }]);
    const r = expectOk(await op.get(`/api/v1/communities/${cid}/members/${toReject.member.id}`));
    expect(r.status).toBe('rejected');
    expect(r.group_id).toBeNull();
    expect(r.first_joined_at).toBeNull();
    expect(expectOk(await op.get(`/api/v1/communities/${cid}/groups`)).groups).toEqual(groupsBefore);
    expect(await openSpans(toReject.member.id)).toHaveLength(0);
    log = await events(cid);
    expect(log.filter((e) => e.member_id === toReject.member.id).map((e) => e.type)).toEqual(['applied', 'application_reviewed', 'application_rejected']);
    expect((await self(toReject.member_token)).member.status).toBe('rejected');

    // A decided application cannot be reviewed again; the queue is empty now.
    const again = await op.post(`/api/v1/communities/${cid}/applications/${toReject.application.id}/review`, { decision: 'approve' });
    expect(again.status).toBe(409);
    expect(again.body.code).toBe('invalid_state');
    expect(await reviewQueue(cid)).toEqual([]);
  });

  it('questionnaire with on_mismatch reject: a mismatch is rejected at once', async () => {
    const cid = await community({ criteria: [{ ...questionnaire, on_mismatch: 'reject' }] });
    const main = await group(cid, { name: '主群', capacity: 50 });
    const l = await link(cid, [main.id]);
    const j = await join(l.code, { name: '小刚', answers: bad });
    expect(j.next).toBe('rejected');
    expect(j.member.status).toBe('rejected');
    expect(j.application.status).toBe('rejected');
    expect(j.application.progress).toEqual([{ type: 'questionnaire', status: 'failed', detail: 'Answers do not meet the requirements' }]);
    expect((await getGroup(cid, main.id)).seated).toBe(0);
    expect(await reviewQueue(cid)).toEqual([]);
  });

  it('invitation threshold of 3: the applicant is seated in VIP at the third invitee, not before', async () => {
    const cid = await community();
    const general = await group(cid, { name: '交流群', capacity: 100 });
    const vip = await group(cid, { name: 'VIP', capacity: 10, threshold: { mode: 'all', criteria: [{ type: 'invitation', count: 3 }] } });
    const vipLink = await link(cid, [vip.id], 'VIP海报');

    const a = await join(vipLink.code, { name: '阿强' });
    expect(a.next).toBe('wait_for_threshold');
    expect(a.member.status).toBe('applicant');
    expect(a.application.progress).toEqual([{ type: 'invitation', status: 'pending', detail: 'Invite 3 more people who join', current: 0, required: 3 }]);
    // It waits on the applicant, not on staff.
    expect(await reviewQueue(cid)).toEqual([]);
    expect((await pendingAll(cid)).map((x) => x.id)).toEqual([a.application.id]);

    const me = new Client(ctx.server.url, a.member_token);
    const invite = expectOk(await me.get('/api/v1/member/invite-link'));
    expect(invite.owner_member_id).toBe(a.member.id);
    expect(invite.channel).toBe('member_invite');
    // Invitees go to groups without a threshold of their own.
    expect(invite.group_ids).toEqual([general.id]);
    expect(expectOk(await me.get('/api/v1/member/invite-link')).id).toBe(invite.id);

    const invitees: any[] = [];
    for (let i = 1; i <= 3; i++) {
      const inv = await join(invite.code, { name: `朋友${i}` });
      invitees.push(inv);
      expect(inv.next).toBe('onboarding');
      expect(inv.member.group_id).toBe(general.id);
      expect(inv.member.attribution).toEqual({ entry_link_id: invite.id, channel: 'member_invite', referrer_member_id: a.member.id });
      const view = await self(a.member_token);
      if (i < 3) {
        expect(view.member.status).toBe('applicant');
        expect(view.member.group_id).toBeNull();
        expect(view.application.status).toBe('pending');
        expect(view.application.progress).toEqual([
          { type: 'invitation', status: 'pending', detail: `Invite ${3 - i} more people who join`, current: i, required: 3 },
        ]);
        expect((await getGroup(cid, vip.id)).seated).toBe(0);
        // Staff see the same progress.
        const staffView = expectOk(await op.get(`/api/v1/communities/${cid}/applications/${a.application.id}`));
        expect(staffView.progress).toEqual(view.application.progress);
      } else {
        expect(view.member.status).toBe('onboarding');
        expect(view.member.group_id).toBe(vip.id);
        expect(view.application.status).toBe('passed');
        expect(view.application.progress).toEqual([{ type: 'invitation', status: 'passed', detail: 'Invited 3 members', current: 3, required: 3 }]);
      }
    }
    expect((await getGroup(cid, vip.id)).seated).toBe(1);
    expect((await getGroup(cid, general.id)).seated).toBe(3);
    expect(await pendingAll(cid)).toEqual([]);

    const referred = expectOk(await op.get(`/api/v1/communities/${cid}/members?referrer_member_id=${a.member.id}`)).members as any[];
    expect(referred.map((m) => m.id).sort()).toEqual(invitees.map((x) => x.member.id).sort());

    // A's seat came with the third invitee's join: its events follow that join in the log.
    const log = await events(cid);
    const aJoined = log.filter((e) => e.type === 'joined' && e.member_id === a.member.id);
    expect(aJoined).toHaveLength(1);
    expect(aJoined[0]).toMatchObject({ group_id: vip.id, entry_link_id: vipLink.id, referrer_member_id: null });
    const thirdJoined = log.find((e) => e.type === 'joined' && e.member_id === invitees[2]!.member.id)!;
    expect(aJoined[0].id).toBeGreaterThan(thirdJoined.id);
    const secondJoined = log.find((e) => e.type === 'joined' && e.member_id === invitees[1]!.member.id)!;
    expect(log.filter((e) => e.member_id === a.member.id && e.id < secondJoined.id).map((e) => e.type)).toEqual(['applied']);
    expect(await openSpans(a.member.id)).toEqual([expect.objectContaining({ group_id: vip.id })]);
  });

  it('invitees joining in parallel through several links the applicant owns: every one counts, the applicant is seated once', async () => {
    // Each link routes to its own group, so the joins do not queue on one group's seat counter.
    for (let round = 0; round < 8; round++) {
      const cid = await community();
      const vip = await group(cid, { name: 'VIP', capacity: 10, threshold: { criteria: [{ type: 'invitation', count: 5 }] } });
      const vipLink = await link(cid, [vip.id], 'VIP');
      const a = await join(vipLink.code, { name: '达人' });
      const links = [];
      for (let i = 0; i < 5; i++) {
        const g = await group(cid, { name: `分群${i}`, capacity: 10 });
        links.push(expectOk(await op.post(`/api/v1/communities/${cid}/links`, { name: `渠道${i}`, channel: 'kol', group_ids: [g.id], owner_member_id: a.member.id }), 201));
      }
      const invitees = await Promise.all(links.map((l, i) => join(l.code, { name: `粉丝${i}` })));
      expect(invitees.every((x) => x.member.attribution.referrer_member_id === a.member.id)).toBe(true);
      const view = await self(a.member_token);
      expect([view.member.status, view.member.group_id, view.application.status]).toEqual(['onboarding', vip.id, 'passed']);
      expect((await getGroup(cid, vip.id)).seated).toBe(1);
      expect(await openSpans(a.member.id)).toHaveLength(1);
    }
  });

  it('a pending applicant cannot apply a second time; a rejected one may reapply with the member token', async () => {
    const cid = await community({ criteria: [{ type: 'application' }] });
    const main = await group(cid, { name: '主群', capacity: 10 });
    const l = await link(cid, [main.id]);
    const a = await join(l.code, { name: '申请人' });
    const second = await new Client(ctx.server.url, a.member_token).post(`/api/v1/public/links/${l.code}/join`, { name: '申请人' });
    expect([second.status, second.body.code]).toEqual([409, 'invalid_state']);
    expect((await reviewQueue(cid)).map((x) => x.id)).toEqual([a.application.id]);

    // Were a second application accepted, approving both would seat the member twice.
    expectOk(await op.post(`/api/v1/communities/${cid}/applications/${a.application.id}/review`, { decision: 'reject' }));
    const again = expectOk(await new Client(ctx.server.url, a.member_token).post(`/api/v1/public/links/${l.code}/join`, { name: '申请人' }));
    expect(again.member.id).toBe(a.member.id);
    expect(again.member.status).toBe('applicant');
    expect(again.application.id).not.toBe(a.application.id);
    expectOk(await op.post(`/api/v1/communities/${cid}/applications/${again.application.id}/review`, { decision: 'approve' }));
    expect((await self(a.member_token)).member).toMatchObject({ status: 'onboarding', group_id: main.id });
    expect((await getGroup(cid, main.id)).seated).toBe(1);
    expect(await openSpans(a.member.id)).toHaveLength(1);
  });

  it('all-of needs questionnaire and application; any-of takes either', async () => {
    const q = { ...questionnaire, on_mismatch: 'review' };
    const cid = await community();
    const gAll = await group(cid, { name: '全都要', capacity: 50, threshold: { mode: 'all', criteria: [q, { type: 'application', prompt: '为什么加入？' }] } });
    const gAny = await group(cid, { name: '任一', capacity: 50, threshold: { mode: 'any', criteria: [q, { type: 'application' }] } });
    const lAll = await link(cid, [gAll.id], 'all');
    const lAny = await link(cid, [gAny.id], 'any');

    // all: the questionnaire passes on its own, yet the application still waits for staff.
    const allGood = await join(lAll.code, { name: '甲', answers: good });
    expect(allGood.next).toBe('wait_for_threshold');
    expect(allGood.application.mode).toBe('all');
    expect(allGood.application.progress.map((p: any) => [p.type, p.status])).toEqual([
      ['questionnaire', 'passed'],
      ['application', 'pending'],
    ]);
    // any: the same answers are enough.
    const anyGood = await join(lAny.code, { name: '乙', answers: good });
    expect(anyGood.next).toBe('onboarding');
    expect(anyGood.member.group_id).toBe(gAny.id);
    expect(anyGood.application.mode).toBe('any');
    expect(anyGood.application.progress.map((p: any) => [p.type, p.status])).toEqual([
      ['questionnaire', 'passed'],
      ['application', 'pending'],
    ]);
    // any with mismatching answers: both wait for staff.
    const anyBad = await join(lAny.code, { name: '丙', answers: bad });
    expect(anyBad.next).toBe('wait_for_threshold');
    expect(anyBad.application.progress.map((p: any) => p.status)).toEqual(['pending', 'pending']);

    const queue = await reviewQueue(cid);
    expect(ids(queue)).toEqual(ids([allGood.application, anyBad.application]));

    expectOk(await op.post(`/api/v1/communities/${cid}/applications/${allGood.application.id}/review`, { decision: 'approve' }));
    const a1 = await self(allGood.member_token);
    expect(a1.member.status).toBe('onboarding');
    expect(a1.member.group_id).toBe(gAll.id);
    expect(a1.application.progress.map((p: any) => p.status)).toEqual(['passed', 'passed']);

    expectOk(await op.post(`/api/v1/communities/${cid}/applications/${anyBad.application.id}/review`, { decision: 'reject' }));
    const a2 = await self(anyBad.member_token);
    expect(a2.member.status).toBe('rejected');
    expect(a2.member.group_id).toBeNull();
    expect(a2.application.progress.map((p: any) => p.status)).toEqual(['failed', 'failed']);

    expect((await getGroup(cid, gAll.id)).seated).toBe(1);
    expect((await getGroup(cid, gAny.id)).seated).toBe(1);
  });

  it('paid: paying for a required membership seats the applicant, in the payment; a full refund takes the seat back', async () => {
    const cid = await community();
    const paidGroup = await group(cid, { name: '会员群', capacity: 20 });
    const annual = expectOk(await op.post(`/api/v1/communities/${cid}/products`, { type: 'membership', name: '年度会员', price_minor: 36500, term: 'annual', group_ids: [paidGroup.id] }), 201);
    expectOk(await op.patch(`/api/v1/communities/${cid}/groups/${paidGroup.id}`, { threshold: { criteria: [{ type: 'paid', product_ids: [annual.id] }] } }));
    const l = await link(cid, [paidGroup.id], '付费');
    const j = await join(l.code, { name: '付费用户' });
    expect(j.next).toBe('wait_for_threshold');

    const applicant = new Client(ctx.server.url, j.member_token);
    const order = expectOk(await applicant.request('POST', '/api/v1/member/orders', { product_id: annual.id }, { 'idempotency-key': 'k' }), 201);
    expect((await self(j.member_token)).member.status).toBe('applicant');
    const token = new URL(order.checkout_url).pathname.split('/').pop()!;
    expect(expectOk(await new Client(ctx.server.url).post(`/api/v1/public/checkout/${token}/pay`)).status).toBe('paid');

    const view = await self(j.member_token);
    expect([view.member.status, view.member.group_id, view.application.status]).toEqual(['onboarding', paidGroup.id, 'passed']);
    expect((await getGroup(cid, paidGroup.id)).seated).toBe(1);
    const log = (await events(cid)).filter((e) => e.member_id === j.member.id).map((e) => e.type);
    expect(log.indexOf('membership_granted')).toBeLessThan(log.indexOf('joined'));
    expect(log).toEqual(expect.arrayContaining(['applied', 'order_created', 'membership_granted', 'joined', 'order_paid']));

    // Refunding in part keeps the membership and the seat; refunding the rest ends both.
    const refund = (amount: number, key: string) => op.request('POST', `/api/v1/communities/${cid}/orders/${order.id}/refunds`, { amount_minor: amount, reason: '退款' }, { 'idempotency-key': key });
    expectOk(await refund(10_000, 'r1'), 201);
    expect([(await self(j.member_token)).member.status, (await getGroup(cid, paidGroup.id)).seated]).toEqual(['onboarding', 1]);
    expectOk(await refund(26_500, 'r2'), 201);
    expect([(await self(j.member_token)).member.status, (await self(j.member_token)).member.group_id, (await getGroup(cid, paidGroup.id)).seated]).toEqual(['removed', null, 0]);
    const removed = (await events(cid)).filter((e) => e.member_id === j.member.id && e.type === 'removed');
    expect(removed.map((e) => [e.group_id, e.props.reason])).toEqual([[paidGroup.id, 'membership_refunded']]);
  });

  it('paid: staff granting a live membership of a required product seats the applicant', async () => {
    const cid = await community();
    const annual = expectOk(await op.post(`/api/v1/communities/${cid}/products`, { type: 'membership', name: '年度会员', price_minor: 36500, term: 'annual' }), 201);
    const other = expectOk(await op.post(`/api/v1/communities/${cid}/products`, { type: 'membership', name: '体验会员', price_minor: 990, term: 'days', term_days: 7 }), 201);
    const paidGroup = await group(cid, { name: '会员群', capacity: 20, threshold: { criteria: [{ type: 'paid', product_ids: [annual.id] }] } });
    const l = await link(cid, [paidGroup.id], '付费');

    const j = await join(l.code, { name: '付费用户' });
    expect(j.next).toBe('wait_for_threshold');
    expect(j.application.progress).toEqual([{ type: 'paid', status: 'pending', detail: 'Buy one of the required memberships', current: 0, required: 1 }]);
    expect(await reviewQueue(cid)).toEqual([]);

    const grant = (productId: string, extra: Record<string, unknown> = {}) =>
      op.post(`/api/v1/communities/${cid}/members/${j.member.id}/memberships`, { product_id: productId, ...extra });
    // Another product, and an already expired grant of the right one, do not count.
    expectOk(await grant(other.id), 201);
    const expired = expectOk(await grant(annual.id, { expires_at: '2000-01-01T00:00:00Z' }), 201);
    expect(expired.expires_at).toBe('2000-01-01T00:00:00.000Z');
    let view = await self(j.member_token);
    expect(view.member.status).toBe('applicant');
    expect(view.application.progress[0]).toMatchObject({ status: 'pending', current: 0, required: 1 });
    expect((await getGroup(cid, paidGroup.id)).seated).toBe(0);

    const live = expectOk(await grant(annual.id), 201);
    expect(live.product_id).toBe(annual.id);
    expect(live.source).toBe('admin_grant');
    // An annual term: about 365 days from now.
    const days = (Date.parse(live.expires_at) - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(364.9);
    expect(days).toBeLessThan(365.1);

    view = await self(j.member_token);
    expect(view.member.status).toBe('onboarding');
    expect(view.member.group_id).toBe(paidGroup.id);
    expect(view.application.status).toBe('passed');
    expect(view.application.progress).toEqual([{ type: 'paid', status: 'passed', detail: 'Membership is active', current: 1, required: 1 }]);
    expect((await getGroup(cid, paidGroup.id)).seated).toBe(1);
    const log = await events(cid);
    expect(log.filter((e) => e.member_id === j.member.id).map((e) => e.type)).toEqual([
      'applied',
      'membership_granted',
      'membership_granted',
      'membership_granted',
      'threshold_passed',
      'joined',
    ]);
  });
});
