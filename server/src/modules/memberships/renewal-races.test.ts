import { afterEach, expect, it } from 'vitest';
import { fixedClock } from '../../lib/clock.js';
import { describeEachDialect, expectOk, useServer } from '../../test/harness.js';
import { addMember, addProduct, buy, clickPay, effectsOf, openShop, type Shop } from '../../test/money.js';
import { paymentProviders, type ChargeRequest, type PaymentProvider } from '../payments/index.js';
import { runMembershipJobs } from './index.js';

/**
 * What happens while an automatic renewal charge is at the provider (which may take seconds): the
 * member pays the same renewal order by hand, or another member the same run is about to charge
 * cancels. The test provider's charge is held open by a hook that does those things first.
 */
describeEachDialect('automatic renewal: what happens during the charge', (dialect) => {
  const clock = fixedClock(new Date('2026-05-01T08:00:00.000Z'));
  const ctx = useServer(dialect, { clock });
  const db = () => ctx.db.handle.db;
  const run = () => runMembershipJobs(ctx.server.app.deps);

  let restore: (() => void) | null = null;
  afterEach(() => restore?.());
  /** Runs `during` once per charge, before the test provider answers it. */
  function whileCharging(during: (req: ChargeRequest) => Promise<void>) {
    const provider = paymentProviders(ctx.server.app.deps.config).get('test') as PaymentProvider;
    const charge = provider.chargeSaved!;
    provider.chargeSaved = async (req) => {
      await during(req);
      return charge(req);
    };
    restore = () => {
      provider.chargeSaved = charge;
      restore = null;
    };
  }

  async function setup(): Promise<{ shop: Shop; productId: string }> {
    const shop = await openShop(ctx.server);
    const product = await addProduct(shop, { type: 'membership', name: '月度会员', price_minor: 3_000, term: 'days', term_days: 30 });
    return { shop, productId: product.id };
  }
  async function member(s: { shop: Shop; productId: string }, name: string) {
    const m = await addMember(ctx.server, s.shop, name);
    const order = expectOk(await buy(m.client, s.productId, `first-${m.id}`), 201);
    expect(expectOk(await clickPay(ctx.server, order, 'pay', { save_method: 'ok' })).status).toBe('paid');
    return { ...m, membershipId: (await effectsOf(ctx.db, order.id)).memberships[0]!.id };
  }
  const events = async (communityId: string, type: string) =>
    (await db().selectFrom('events').select(['member_id', 'props']).where('community_id', '=', communityId).where('type', '=', type).orderBy('id').execute()).map((r) => ({
      member_id: r.member_id,
      props: typeof r.props === 'string' ? JSON.parse(r.props) : r.props,
    }));
  const periods = (memberId: string) => db().selectFrom('memberships').select(['starts_at', 'expires_at']).where('member_id', '=', memberId).orderBy('starts_at').execute();

  it('the member pays the renewal order by hand while its automatic charge is under way: the second payment is flagged for staff', async () => {
    clock.set(new Date('2026-05-01T08:00:00.000Z'));
    const s = await setup();
    const m = await member(s, '小明'); // expires 2026-05-31T08:00Z
    const charged: string[] = [];
    whileCharging(async (req) => {
      const order = expectOk(await s.shop.staff.get(`${s.shop.base}/orders/${req.orderId}`));
      expect(expectOk(await clickPay(ctx.server, order)).status).toBe('paid');
      charged.push(req.orderId);
    });
    clock.set(new Date('2026-05-30T08:00:00.000Z'));
    await run();
    expect(charged).toHaveLength(1);
    // One renewal granted, by the payment by hand; the charge took the money a second time.
    expect((await periods(m.id)).map((p) => [p.starts_at, p.expires_at])).toEqual([
      ['2026-05-01T08:00:00.000Z', '2026-05-31T08:00:00.000Z'],
      ['2026-05-31T08:00:00.000Z', '2026-06-30T08:00:00.000Z'],
    ]);
    const flagged = await events(s.shop.communityId, 'duplicate_payment_detected');
    expect(flagged.map((e) => [e.member_id, e.props.order_id, e.props.amount_minor, e.props.same_order])).toEqual([[m.id, charged[0], 3_000, true]]);
  });

  it('a member who cancels while the run charges someone else before them is not charged', async () => {
    clock.set(new Date('2026-07-01T08:00:00.000Z'));
    const s = await setup();
    const first = await member(s, '甲'); // expires 2026-07-31T08:00Z
    clock.set(new Date('2026-07-01T09:00:00.000Z'));
    const second = await member(s, '乙'); // expires 2026-07-31T09:00Z, after the first: charged later in the run
    let cancelled = false;
    whileCharging(async () => {
      if (cancelled) return;
      cancelled = true;
      expectOk(await second.client.post(`/api/v1/member/memberships/${second.membershipId}/cancel`, { reason: '不续了' }));
    });
    clock.set(new Date('2026-07-30T09:00:00.000Z'));
    const report = await run();
    expect(report.renewals_charged).toBe(1);
    expect(await periods(first.id)).toHaveLength(2);
    expect(await periods(second.id)).toHaveLength(1);
    expect(await db().selectFrom('orders').select('id').where('renews_membership_id', '=', second.membershipId).where('status', '=', 'paid').execute()).toEqual([]);
  });

  it('a membership past its expiry (in grace, past due) cannot be paused: a pause would add unpaid time to it', async () => {
    clock.set(new Date('2026-09-01T08:00:00.000Z'));
    const s = await setup();
    const m = await addMember(ctx.server, s.shop, '丙');
    const order = expectOk(await buy(m.client, s.productId, 'plain'), 201);
    expect(expectOk(await clickPay(ctx.server, order, 'pay', { save_method: 'declines' })).status).toBe('paid');
    const membershipId = (await effectsOf(ctx.db, order.id)).memberships[0]!.id;
    clock.set(new Date('2026-09-30T08:00:00.000Z'));
    await run(); // declined: past due
    clock.set(new Date('2026-10-02T08:00:00.000Z')); // a day past expiry, inside the 7 days of grace
    const paused = await m.client.post(`/api/v1/member/memberships/${membershipId}/pause`, { until: '2026-12-01T08:00:00Z' });
    expect([paused.status, paused.body.code]).toEqual([409, 'membership_not_active']);
    expect((await periods(m.id)).map((p) => p.expires_at)).toEqual(['2026-10-01T08:00:00.000Z']);
    // Grace runs out as it would have: the membership ends for the failed payment.
    clock.set(new Date('2026-10-08T08:00:00.000Z'));
    expect((await run()).expired_memberships).toBe(1);
  });
});
