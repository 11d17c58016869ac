import { expect, it } from 'vitest';
import { fixedClock } from '../../lib/clock.js';
import { Client, describeEachDialect, expectOk, useServer } from '../../test/harness.js';
import { addProduct, buyAndPay, openShop, type Shop } from '../../test/money.js';
import { runMembershipJobs } from './index.js';

const MIN = 60_000;

describeEachDialect('membership expiry, reminders, cancellation and pause', (dialect) => {
  const clock = fixedClock(new Date('2026-05-01T08:00:00.000Z'));
  const ctx = useServer(dialect, { clock });
  const db = () => ctx.db.handle.db;
  const run = () => runMembershipJobs(ctx.server.app.deps);

  /** A shop with a 30-day membership whose paid group it opens (the group's threshold asks for it). */
  async function paidShop() {
    const shop = await openShop(ctx.server);
    const group = expectOk(await shop.owner.post(`${shop.base}/groups`, { name: '会员群', capacity: 10 }), 201);
    const product = await addProduct(shop, { type: 'membership', name: '月度会员', price_minor: 3_000, term: 'days', term_days: 30, group_ids: [group.id] });
    expectOk(await shop.owner.request('PATCH', `${shop.base}/groups/${group.id}`, { threshold: { criteria: [{ type: 'paid', product_ids: [product.id] }] } }));
    const link = expectOk(await shop.owner.post(`${shop.base}/links`, { name: '会员', channel: '会员', group_ids: [group.id] }), 201);
    return { shop, groupId: group.id as string, productId: product.id, linkCode: link.code as string };
  }

  /** Joins through the paid link and is seated by a staff grant of the membership (expires in 30 days). */
  async function seatedMember(p: Awaited<ReturnType<typeof paidShop>>, name: string) {
    const joined = expectOk(await new Client(ctx.server.url).post(`/api/v1/public/links/${p.linkCode}/join`, { name }));
    expect(joined.application.status).toBe('pending');
    const grant = expectOk(await p.shop.staff.post(`${p.shop.base}/members/${joined.member.id}/memberships`, { product_id: p.productId }), 201);
    const client = new Client(ctx.server.url, joined.member_token);
    expect(expectOk(await client.get('/api/v1/member')).member.group_id).toBe(p.groupId);
    return { id: joined.member.id as string, client, membershipId: grant.id as string };
  }

  const seated = async (shop: Shop, groupId: string) => expectOk(await shop.staff.get(`${shop.base}/groups/${groupId}`)).seated as number;
  const events = (communityId: string, type: string) =>
    db().selectFrom('events').select(['member_id', 'group_id', 'occurred_at', 'props']).where('community_id', '=', communityId).where('type', '=', type).orderBy('id').execute()
      .then((rows) => rows.map((r) => ({ ...r, props: typeof r.props === 'string' ? JSON.parse(r.props) : r.props })));
  const membership = (id: string) => db().selectFrom('memberships').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
  const member = (id: string) => db().selectFrom('members').select(['status', 'current_group_id', 'removal_reason']).where('id', '=', id).executeTakeFirstOrThrow();
  const spans = (id: string) => db().selectFrom('member_spans').select(['group_id', 'left_at', 'left_kind']).where('member_id', '=', id).execute();

  it('reminds 7, 3 and 1 days before expiry once each; ends access only after the 7-day grace; a second run does nothing', async () => {
    clock.set(new Date('2026-05-01T08:00:00.000Z'));
    const p = await paidShop();
    const m = await seatedMember(p, '小明');
    expect((await membership(m.membershipId)).expires_at).toBe('2026-05-31T08:00:00.000Z');
    expect(await seated(p.shop, p.groupId)).toBe(1);
    const reminders = async () => (await events(p.shop.communityId, 'membership_expiring')).map((e) => [e.occurred_at, e.props.days_before]);

    const at = async (iso: string) => {
      clock.set(new Date(iso));
      await run();
      await run();
    };
    await at('2026-05-24T07:59:59.999Z'); // 7 days − 1 ms before expiry: not yet
    expect(await reminders()).toEqual([]);
    await at('2026-05-24T08:00:00.000Z');
    await at('2026-05-25T08:00:00.000Z');
    await at('2026-05-28T08:00:00.000Z');
    await at('2026-05-30T08:00:00.000Z');
    await at('2026-05-30T20:00:00.000Z');
    expect(await reminders()).toEqual([
      ['2026-05-24T08:00:00.000Z', 7],
      ['2026-05-28T08:00:00.000Z', 3],
      ['2026-05-30T08:00:00.000Z', 1],
    ]);

    // Expired, but inside the grace window (until 2026-06-07T08:00Z): access stays.
    await at('2026-05-31T08:00:00.000Z');
    await at('2026-06-07T07:59:59.999Z');
    expect(await events(p.shop.communityId, 'membership_expired')).toEqual([]);
    expect(await seated(p.shop, p.groupId)).toBe(1);

    clock.set(new Date('2026-06-07T08:00:00.000Z'));
    const first = await run();
    expect(first.expired_memberships).toBeGreaterThanOrEqual(1);
    expect(await run()).toEqual({ expired_orders: 0, expired_memberships: 0, removed_from_groups: 0, reminders: 0, renewals_charged: 0, renewals_failed: 0, refunds_retried: 0 });

    expect((await membership(m.membershipId)).ended_at).toBe('2026-06-07T08:00:00.000Z');
    expect(await seated(p.shop, p.groupId)).toBe(0);
    expect(await member(m.id)).toEqual({ status: 'removed', current_group_id: null, removal_reason: 'membership_expired' });
    expect(await spans(m.id)).toEqual([{ group_id: p.groupId, left_at: '2026-06-07T08:00:00.000Z', left_kind: 'expired' }]);
    const expired = await events(p.shop.communityId, 'membership_expired');
    expect(expired.map((e) => [e.member_id, e.props.membership_id, e.props.expires_at])).toEqual([[m.id, m.membershipId, '2026-05-31T08:00:00.000Z']]);
    const removed = await events(p.shop.communityId, 'removed');
    expect(removed.map((e) => [e.member_id, e.group_id, e.occurred_at, e.props.reason])).toEqual([[m.id, p.groupId, '2026-06-07T08:00:00.000Z', 'membership_expired']]);
  });

  it('a renewal paid inside the grace window extends from the expiry and keeps the member seated', async () => {
    clock.set(new Date('2026-07-01T08:00:00.000Z'));
    const p = await paidShop();
    const m = await seatedMember(p, '小红'); // expires 2026-07-31T08:00Z
    clock.set(new Date('2026-08-03T08:00:00.000Z')); // 3 days into grace
    await run();
    const order = await buyAndPay(ctx.server, m.client, p.productId, 'renew-1');
    const renewal = await db().selectFrom('memberships').selectAll().where('order_id', '=', order.id).executeTakeFirstOrThrow();
    expect([renewal.starts_at, renewal.expires_at]).toEqual(['2026-07-31T08:00:00.000Z', '2026-08-30T08:00:00.000Z']);

    clock.set(new Date('2026-08-07T08:00:00.001Z')); // the first period's grace is over
    await run();
    expect(await events(p.shop.communityId, 'membership_expired')).toEqual([]);
    expect(await seated(p.shop, p.groupId)).toBe(1);

    clock.set(new Date('2026-09-06T08:00:00.000Z')); // the renewal's expiry + 7 days
    await run();
    await run();
    expect((await events(p.shop.communityId, 'membership_expired')).map((e) => e.props.membership_id)).toEqual([renewal.id]);
    expect(await seated(p.shop, p.groupId)).toBe(0);
    expect((await membership(m.membershipId)).ended_at).toBeNull(); // superseded by the renewal, never expired itself
  });

  it('another live membership covering the group keeps the member seated when one expires', async () => {
    clock.set(new Date('2026-10-01T08:00:00.000Z'));
    const p = await paidShop();
    const m = await seatedMember(p, '小刚');
    const lifetime = await addProduct(p.shop, { type: 'membership', name: '终身会员', price_minor: 99_900, term: 'permanent', group_ids: [p.groupId] });
    expectOk(await p.shop.staff.post(`${p.shop.base}/members/${m.id}/memberships`, { product_id: lifetime.id }), 201);
    clock.set(new Date('2026-11-07T08:00:00.000Z')); // 2026-10-31T08:00Z + 7 days
    await run();
    expect((await events(p.shop.communityId, 'membership_expired')).map((e) => e.props.membership_id)).toEqual([m.membershipId]);
    expect(await events(p.shop.communityId, 'removed')).toEqual([]);
    expect(await seated(p.shop, p.groupId)).toBe(1);
    expect((await member(m.id)).current_group_id).toBe(p.groupId);
  });

  it('cancel at period end: access until expiry, no reminders, then ends without grace', async () => {
    clock.set(new Date('2027-01-01T08:00:00.000Z'));
    const p = await paidShop();
    const m = await seatedMember(p, '小丽'); // expires 2027-01-31T08:00Z
    const other = await seatedMember(p, '小王');
    clock.set(new Date('2027-01-11T08:00:00.000Z'));
    const notMine = await other.client.post(`/api/v1/member/memberships/${m.membershipId}/cancel`, { reason: 'x' });
    expect([notMine.status, notMine.body.code]).toEqual([404, 'membership_not_found']);

    const cancelled = expectOk(await m.client.post(`/api/v1/member/memberships/${m.membershipId}/cancel`, { reason: '太忙了' }));
    expect(cancelled).toMatchObject({ id: m.membershipId, active: true, cancelled_at: '2027-01-11T08:00:00.000Z', cancel_reason: '太忙了', expires_at: '2027-01-31T08:00:00.000Z' });
    expectOk(await m.client.post(`/api/v1/member/memberships/${m.membershipId}/cancel`, { reason: 'again' }));
    expect((await events(p.shop.communityId, 'membership_cancelled')).map((e) => [e.member_id, e.props.reason])).toEqual([[m.id, '太忙了']]);

    clock.set(new Date('2027-01-30T08:00:00.000Z'));
    await run();
    // Only the member who did not cancel is reminded; this run comes 1 day before, past the 7 and 3.
    expect((await events(p.shop.communityId, 'membership_expiring')).map((e) => [e.member_id, e.props.days_before])).toEqual([[other.id, 1]]);
    clock.set(new Date('2027-01-31T07:59:59.999Z'));
    await run();
    expect(await events(p.shop.communityId, 'membership_expired')).toEqual([]);
    clock.set(new Date('2027-01-31T08:00:00.000Z'));
    await run();
    await run();
    expect((await events(p.shop.communityId, 'membership_expired')).map((e) => [e.member_id, e.props.cancelled])).toEqual([[m.id, true]]);
    expect((await events(p.shop.communityId, 'removed')).map((e) => e.member_id)).toEqual([m.id]);
    expect(await seated(p.shop, p.groupId)).toBe(1); // the other member still sits, in grace
    const again = await m.client.post(`/api/v1/member/memberships/${m.membershipId}/cancel`, { reason: 'late' });
    expect([again.status, again.body.code]).toEqual([409, 'membership_not_active']);

    // Buying again 3 days later, inside what would be the grace window: a cancelled membership had
    // none, so the new period starts at the payment, not at the old expiry (no days lost).
    clock.set(new Date('2027-02-03T08:00:00.000Z'));
    const order = await buyAndPay(ctx.server, m.client, p.productId, 'back');
    const period = await db().selectFrom('memberships').select(['starts_at', 'expires_at']).where('order_id', '=', order.id).executeTakeFirstOrThrow();
    expect(period).toEqual({ starts_at: '2027-02-03T08:00:00.000Z', expires_at: '2027-03-05T08:00:00.000Z' });
  });

  it('pause: access suspended while paused, expiry pushed by the paused time; by the member or staff', async () => {
    clock.set(new Date('2027-03-01T08:00:00.000Z'));
    const p = await paidShop();
    const m = await seatedMember(p, '小周'); // expires 2027-03-31T08:00Z
    clock.set(new Date('2027-03-11T08:00:00.000Z'));
    const paused = expectOk(await m.client.post(`/api/v1/member/memberships/${m.membershipId}/pause`, { until: '2027-03-21T08:00:00Z' }));
    expect(paused).toMatchObject({ active: false, paused_until: '2027-03-21T08:00:00.000Z', expires_at: '2027-04-10T08:00:00.000Z' });
    const twice = await m.client.post(`/api/v1/member/memberships/${m.membershipId}/pause`, { until: '2027-03-25T08:00:00Z' });
    expect([twice.status, twice.body.code]).toEqual([409, 'membership_paused']);
    const past = await m.client.post(`/api/v1/member/memberships/${m.membershipId}/pause`, { until: '2027-03-01T08:00:00Z' });
    expect([past.status, past.body.code]).toEqual([400, 'validation_failed']);

    clock.set(new Date('2027-03-25T08:00:00.000Z'));
    const byStaff = expectOk(await p.shop.staff.post(`${p.shop.base}/memberships/${m.membershipId}/pause`, { until: '2027-03-27T08:00:00Z' }));
    expect(byStaff).toMatchObject({ active: false, expires_at: '2027-04-12T08:00:00.000Z' });
    const paused2 = await events(p.shop.communityId, 'membership_paused');
    expect(paused2.map((e) => [e.props.expires_at_before, e.props.expires_at])).toEqual([
      ['2027-03-31T08:00:00.000Z', '2027-04-10T08:00:00.000Z'],
      ['2027-04-10T08:00:00.000Z', '2027-04-12T08:00:00.000Z'],
    ]);

    clock.set(new Date('2027-04-19T07:59:59.999Z')); // pushed expiry 2027-04-12T08:00Z + 7 days − 1 ms
    await run();
    expect(await events(p.shop.communityId, 'membership_expired')).toEqual([]);
    expect(await seated(p.shop, p.groupId)).toBe(1);
    clock.set(new Date('2027-04-19T08:00:00.000Z'));
    await run();
    expect((await events(p.shop.communityId, 'membership_expired')).map((e) => e.member_id)).toEqual([m.id]);
    expect(await seated(p.shop, p.groupId)).toBe(0);
  });

  it('pause waits while a renewal paid ahead has not begun: no free time at the end', async () => {
    clock.set(new Date('2027-05-01T08:00:00.000Z'));
    const p = await paidShop();
    const m = await seatedMember(p, '小米'); // expires 2027-05-31T08:00Z
    clock.set(new Date('2027-05-20T08:00:00.000Z'));
    await buyAndPay(ctx.server, m.client, p.productId, 'ahead'); // 2027-05-31 → 2027-06-30
    const refused = await m.client.post(`/api/v1/member/memberships/${m.membershipId}/pause`, { until: '2027-06-10T08:00:00.000Z' });
    expect([refused.status, refused.body.code]).toEqual([409, 'membership_renewal_pending']);
    expect(await events(p.shop.communityId, 'membership_paused')).toEqual([]);
    // Once the renewal period runs, it can be paused.
    clock.set(new Date('2027-06-01T08:00:00.000Z'));
    expectOk(await m.client.post(`/api/v1/member/memberships/${m.membershipId}/pause`, { until: '2027-06-11T08:00:00.000Z' }));
  });

  it('concurrent runs have one effect: one reminder, one expiry, one removal, one seat released', async () => {
    clock.set(new Date('2027-05-01T08:00:00.000Z'));
    const p = await paidShop();
    const a = await seatedMember(p, '小甲');
    const b = await seatedMember(p, '小乙');
    expect(await seated(p.shop, p.groupId)).toBe(2);
    clock.set(new Date('2027-05-28T08:00:00.000Z')); // 3 days before 2027-05-31T08:00Z
    await Promise.all([run(), run(), run(), run()]);
    const reminded = (await events(p.shop.communityId, 'membership_expiring')).map((e) => `${e.member_id}:${e.props.days_before}`);
    expect(reminded.sort()).toEqual([`${a.id}:3`, `${b.id}:3`].sort());
    clock.set(new Date('2027-06-07T08:00:00.000Z'));
    await Promise.all([run(), run(), run(), run()]);
    expect((await events(p.shop.communityId, 'membership_expired')).map((e) => e.member_id).sort()).toEqual([a.id, b.id].sort());
    expect((await events(p.shop.communityId, 'removed')).map((e) => e.member_id).sort()).toEqual([a.id, b.id].sort());
    expect(await seated(p.shop, p.groupId)).toBe(0);
  });

  it('runMembershipJobs also times out unpaid orders', async () => {
    clock.set(new Date('2027-06-01T08:00:00.000Z'));
    const p = await paidShop();
    const joined = expectOk(await new Client(ctx.server.url).post(`/api/v1/public/links/${p.shop.linkCode}/join`, { name: '小李' }));
    const c = new Client(ctx.server.url, joined.member_token);
    expectOk(await c.request('POST', '/api/v1/member/orders', { product_id: p.productId }, { 'idempotency-key': 'k' }), 201);
    clock.advance(30 * MIN + 1);
    expect((await run()).expired_orders).toBe(1);
    expect((await run()).expired_orders).toBe(0);
  });
});
