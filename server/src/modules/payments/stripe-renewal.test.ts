import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { PaymentsConfig } from '../../config.js';
import { fixedClock } from '../../lib/clock.js';
import { cardOf, deliverToStripeEndpoint, startFakeStripe, stripeEvent, type CardBehaviour, type FakeStripe, type StripeCall } from '../../test/fake-stripe.js';
import { describeEachDialect, expectOk, useServer } from '../../test/harness.js';
import { addMember, addProduct, buy, effectsOf, openShop } from '../../test/money.js';
import { runMembershipJobs } from '../memberships/index.js';

/**
 * Automatic renewal through Stripe, the real `stripe` client against a fake Stripe API: an annual
 * membership (¥365, 365 days) bought through Checkout saves the card to a Stripe customer; the
 * renewal step charges it off-session 24 h before expiry and retries 1, 3 and 5 days after the
 * first failure, inside 7 days of grace. Dates are worked out by hand.
 */
describeEachDialect('Stripe: automatic renewal off-session and dunning', (dialect) => {
  const clock = fixedClock(new Date('2026-01-10T08:00:00.000Z'));
  const unixNow = () => Math.floor(clock.now().getTime() / 1000);
  const webhookSecret = `whsec_${randomBytes(24).toString('base64')}`;
  let fake: FakeStripe;
  beforeAll(async () => {
    fake = await startFakeStripe();
  });
  afterAll(() => fake?.close());
  const ctx = useServer(dialect, {
    clock,
    payments: (): PaymentsConfig => ({ default: 'stripe', test: { refunds: 'instant' }, stripe: { secretKey: 'sk_test_fake', webhookSecret, apiBase: fake.url }, wechatpay: null, alipay: null }),
  });
  const db = () => ctx.db.handle.db;
  const run = () => runMembershipJobs(ctx.server.app.deps);
  const at = async (iso: string) => {
    clock.set(new Date(iso));
    await run();
    await run();
  };
  const deliver = (event: unknown) => deliverToStripeEndpoint(ctx.server.url, event, { secret: webhookSecret, timestamp: unixNow() });
  const PRICE = 36_500;

  /** A member who bought the annual membership through Checkout; the completed session names the customer Stripe made for the card. */
  async function subscriber(card: CardBehaviour) {
    const shop = await openShop(ctx.server);
    const product = await addProduct(shop, { type: 'membership', name: '年度会员', price_minor: PRICE, term: 'annual' });
    const me = await addMember(ctx.server, shop, '小明');
    const before = fake.callsTo('POST', '/v1/checkout/sessions').length;
    const order = expectOk(await buy(me.client, product.id, `first-${me.id}`), 201);
    const session = fake.callsTo('POST', '/v1/checkout/sessions').slice(before)[0]!;
    const customer = `cus_${randomBytes(6).toString('hex')}`;
    fake.cards.set(customer, card);
    // Stripe echoes the session's metadata in its events.
    const metadata = { order_id: session.form['metadata[order_id]'], save_for_renewal: session.form['metadata[save_for_renewal]'] };
    const completed = stripeEvent(
      `evt_paid_${order.id}`,
      'checkout.session.completed',
      { id: `cs_for_${order.id}`, object: 'checkout.session', metadata, payment_intent: `pi_first_${order.id}`, amount_total: PRICE, currency: 'cny', payment_status: 'paid', customer },
      unixNow(),
    );
    expect((await deliver(completed)).body.outcome).toBe('applied');
    const membershipId = (await effectsOf(ctx.db, order.id)).memberships[0]!.id;
    return { shop, productId: product.id, me, order, session, customer, membershipId };
  }
  type Subscriber = Awaited<ReturnType<typeof subscriber>>;

  const charges = (s: Subscriber) => fake.callsTo('POST', '/v1/payment_intents').filter((c) => c.form.customer === s.customer);
  /** The PaymentIntent a charge call made, as Stripe's webhooks show it. */
  const intentOf = (call: StripeCall, id: string, status: string, extra: Record<string, unknown> = {}) => ({
    id,
    object: 'payment_intent',
    amount: Number(call.form.amount),
    amount_received: status === 'succeeded' ? Number(call.form.amount) : 0,
    currency: call.form.currency,
    customer: call.form.customer,
    payment_method: call.form.payment_method,
    metadata: { order_id: call.form['metadata[order_id]'], charge_key: call.form['metadata[charge_key]'] },
    status,
    ...extra,
  });
  const declinedIntent = (call: StripeCall, id: string) =>
    intentOf(call, id, 'requires_payment_method', { last_payment_error: { type: 'card_error', code: 'card_declined', decline_code: 'insufficient_funds' } });

  const events = (s: Subscriber, type: string) =>
    db()
      .selectFrom('events')
      .select(['occurred_at', 'props'])
      .where('member_id', '=', s.me.id)
      .where('type', '=', type)
      .orderBy('id')
      .execute()
      .then((rows) => rows.map((r) => ({ ...r, props: typeof r.props === 'string' ? JSON.parse(r.props) : r.props })));
  const failures = async (s: Subscriber) => (await events(s, 'renewal_payment_failed')).map((e) => [e.occurred_at, e.props.attempt, e.props.reason, e.props.retryable, e.props.next_retry_at]);
  const periods = async (s: Subscriber) =>
    (await db().selectFrom('memberships').select(['starts_at', 'expires_at']).where('member_id', '=', s.me.id).orderBy('starts_at').execute()).map((p) => [p.starts_at, p.expires_at]);
  const renewalOrders = (s: Subscriber) => db().selectFrom('orders').selectAll().where('renews_membership_id', '=', s.membershipId).execute();
  const attempts = async (s: Subscriber) =>
    (await db().selectFrom('membership_renewal_attempts').select(['attempt', 'outcome']).where('membership_id', '=', s.membershipId).orderBy('attempt').execute()).map((a) => [a.attempt, a.outcome]);
  const pastDueSince = async (s: Subscriber) => (await db().selectFrom('memberships').select('past_due_since').where('id', '=', s.membershipId).executeTakeFirstOrThrow()).past_due_since;
  const methods = (s: Subscriber) => db().selectFrom('member_payment_methods').select(['provider', 'ref', 'revoked_at', 'revoke_reason']).where('member_id', '=', s.me.id).execute();

  it('a renewable checkout saves the card; 24 h before expiry the card is charged off-session once, extending from the expiry', async () => {
    clock.set(new Date('2026-01-10T08:00:00.000Z'));
    const s = await subscriber('succeeds'); // expires 2027-01-10T08:00Z
    expect(s.session.form).toMatchObject({ customer_creation: 'always', 'payment_intent_data[setup_future_usage]': 'off_session', 'metadata[save_for_renewal]': 'true' });
    expect(await methods(s)).toEqual([{ provider: 'stripe', ref: s.customer, revoked_at: null, revoke_reason: null }]);
    expect((await events(s, 'membership_auto_renew_changed')).map((e) => [e.props.enabled, e.props.cause])).toEqual([[true, 'payment_method_saved']]);
    expect(expectOk(await s.me.client.post(`/api/v1/member/memberships/${s.membershipId}/auto-renew`, { enabled: true }))).toMatchObject({ auto_renew: true, expires_at: '2027-01-10T08:00:00.000Z' });

    await at('2027-01-09T07:59:59.999Z');
    expect(charges(s)).toEqual([]);

    clock.set(new Date('2027-01-09T08:00:00.000Z'));
    await Promise.all([run(), run()]);
    await run();
    const [order] = await renewalOrders(s);
    expect(fake.callsTo('GET', '/v1/payment_methods').filter((c) => c.query.customer === s.customer).map((c) => c.query)).toEqual([{ customer: s.customer, type: 'card', limit: '1' }]);
    expect(charges(s).map((c) => [c.idempotencyKey, c.form])).toEqual([
      [
        `${order!.id}:0`,
        {
          amount: String(PRICE),
          currency: 'cny',
          customer: s.customer,
          payment_method: cardOf(s.customer),
          off_session: 'true',
          confirm: 'true',
          description: '年度会员',
          'metadata[order_id]': order!.id,
          'metadata[charge_key]': `${order!.id}:0`,
        },
      ],
    ]);
    expect([order!.status, order!.provider, order!.paid_at]).toEqual(['paid', 'stripe', '2027-01-09T08:00:00.000Z']);
    expect(order!.provider_ref).toMatch(/^pi_test_/);
    expect(await periods(s)).toEqual([
      ['2026-01-10T08:00:00.000Z', '2027-01-10T08:00:00.000Z'],
      ['2027-01-10T08:00:00.000Z', '2028-01-10T08:00:00.000Z'],
    ]);
    expect(await attempts(s)).toEqual([[0, 'succeeded']]);

    // Stripe reports the payment too: already paid, nothing more.
    const reported = await deliver(stripeEvent('evt_pi_ok', 'payment_intent.succeeded', intentOf(charges(s)[0]!, order!.provider_ref!, 'succeeded'), unixNow()));
    expect([reported.status, reported.body.outcome]).toEqual([200, 'already_paid']);
    const fx = await effectsOf(ctx.db, order!.id);
    expect([fx.sum, fx.byAccount.customer_payments, fx.events]).toEqual([0, PRICE, ['membership_granted', 'order_paid']]);
    expect(await failures(s)).toEqual([]);
  });

  it('a declined card: past due, retried 1 and 3 days after the first failure; the retry that succeeds clears past due', async () => {
    clock.set(new Date('2026-02-01T08:00:00.000Z'));
    const s = await subscriber('insufficient_funds'); // expires 2027-02-01T08:00Z, grace until 2027-02-08T08:00Z

    await at('2027-01-31T08:00:00.000Z');
    expect(await failures(s)).toEqual([['2027-01-31T08:00:00.000Z', 0, 'insufficient_funds', true, '2027-02-01T08:00:00.000Z']]);
    expect(await pastDueSince(s)).toBe('2027-01-31T08:00:00.000Z');
    const [order] = await renewalOrders(s);
    expect(order!.status).toBe('pending');
    // Stripe reports the decline by webhook as well: told already, no second dunning event.
    const reported = await deliver(stripeEvent('evt_pi_declined_0', 'payment_intent.payment_failed', declinedIntent(charges(s)[0]!, 'pi_declined_0'), unixNow()));
    expect([reported.status, reported.body.outcome]).toEqual([200, 'already_applied']);
    expect(await failures(s)).toHaveLength(1);

    await at('2027-01-31T20:00:00.000Z');
    await at('2027-02-01T08:00:00.000Z'); // retry 1: declined
    fake.cards.set(s.customer, 'succeeds');
    await at('2027-02-02T08:00:00.000Z');
    expect(charges(s)).toHaveLength(2);
    await at('2027-02-03T08:00:00.000Z'); // retry 2: paid

    expect(charges(s).map((c) => c.idempotencyKey)).toEqual([`${order!.id}:0`, `${order!.id}:1`, `${order!.id}:2`]);
    expect(await failures(s)).toEqual([
      ['2027-01-31T08:00:00.000Z', 0, 'insufficient_funds', true, '2027-02-01T08:00:00.000Z'],
      ['2027-02-01T08:00:00.000Z', 1, 'insufficient_funds', true, '2027-02-03T08:00:00.000Z'],
    ]);
    expect(await attempts(s)).toEqual([
      [0, 'failed'],
      [1, 'failed'],
      [2, 'succeeded'],
    ]);
    expect(await periods(s)).toEqual([
      ['2026-02-01T08:00:00.000Z', '2027-02-01T08:00:00.000Z'],
      ['2027-02-01T08:00:00.000Z', '2028-02-01T08:00:00.000Z'],
    ]);
    expect(expectOk(await s.me.client.post(`/api/v1/member/memberships/${s.membershipId}/auto-renew`, { enabled: true }))).toMatchObject({
      active: true,
      auto_renew: true,
      past_due: false,
      expires_at: '2028-02-01T08:00:00.000Z',
    });
    await at('2027-02-06T08:00:00.000Z');
    expect(charges(s)).toHaveLength(3);
    expect((await renewalOrders(s)).map((o) => [o.status, Number(o.amount_minor)])).toEqual([['paid', PRICE]]);
  });

  it('authentication_required: no automatic retries, the card is not charged again and the member gets the pay link', async () => {
    clock.set(new Date('2026-03-01T08:00:00.000Z'));
    const s = await subscriber('authentication_required'); // expires 2027-03-01T08:00Z, grace until 2027-03-08T08:00Z

    await at('2027-02-28T08:00:00.000Z');
    const [order] = await renewalOrders(s);
    const [failed] = await events(s, 'renewal_payment_failed');
    expect(failed!.props).toEqual({
      audience: ['member', 'staff'],
      membership_id: s.membershipId,
      product_id: s.productId,
      order_id: order!.id,
      failed_order_id: order!.id,
      amount_minor: PRICE,
      currency: 'CNY',
      pay_url: expect.any(String),
      attempt: 0,
      reason: 'authentication_required',
      retryable: false,
      expires_at: '2027-03-01T08:00:00.000Z',
      grace_ends_at: '2027-03-08T08:00:00.000Z',
      past_due_since: '2027-02-28T08:00:00.000Z',
      next_retry_at: null,
    });
    expect(await methods(s)).toEqual([{ provider: 'stripe', ref: s.customer, revoked_at: '2027-02-28T08:00:00.000Z', revoke_reason: 'authentication_required' }]);

    for (const t of ['2027-03-01T08:00:00.000Z', '2027-03-03T08:00:00.000Z', '2027-03-05T08:00:00.000Z', '2027-03-07T08:00:00.000Z']) await at(t);
    expect(charges(s)).toHaveLength(1);
    expect(await failures(s)).toHaveLength(1);
    expect(await attempts(s)).toEqual([[0, 'failed']]);
    // Without a card that can be charged, automatic renewal cannot be turned on again.
    const again = await s.me.client.post(`/api/v1/member/memberships/${s.membershipId}/auto-renew`, { enabled: true });
    expect([again.status, again.body.code]).toEqual([409, 'payment_method_required']);

    await at('2027-03-08T08:00:00.000Z');
    expect((await events(s, 'membership_expired')).map((e) => e.props.reason)).toEqual(['payment_failed']);
    expect((await renewalOrders(s)).map((o) => o.status)).toEqual(['expired']);
  });

  it('the pay link of a renewal order opens a Checkout Session, another after Stripe let it expire; paying it renews from the expiry', async () => {
    clock.set(new Date('2026-03-01T08:00:00.000Z'));
    const s = await subscriber('authentication_required'); // expires 2027-03-01T08:00Z
    await at('2027-02-28T08:00:00.000Z');
    const [order] = await renewalOrders(s);
    const [failed] = await events(s, 'renewal_payment_failed');
    const payLink = new URL(failed!.props.pay_url as string);
    const open = () => fetch(`${ctx.server.url}${payLink.pathname}`, { redirect: 'manual' });
    const before = fake.callsTo('POST', '/v1/checkout/sessions').length;
    const sessions = () => fake.callsTo('POST', '/v1/checkout/sessions').slice(before);

    const first = await open();
    expect(first.status).toBe(303);
    expect(sessions().map((c) => [c.form['metadata[order_id]'], c.form['line_items[0][price_data][unit_amount]']])).toEqual([[order!.id, String(PRICE)]]);
    const firstUrl = first.headers.get('location');
    expect(firstUrl).toMatch(/^https:\/\/checkout\.stripe\.test\//);
    // Opened again, the same session.
    expect((await open()).headers.get('location')).toBe(firstUrl);
    expect(sessions()).toHaveLength(1);

    // Stripe let the session expire: the renewal order stays payable, and the link starts another session.
    const metadata = { order_id: order!.id };
    const expired = stripeEvent(`evt_exp_${order!.id}`, 'checkout.session.expired', { id: `cs_exp_${order!.id}`, object: 'checkout.session', metadata, payment_status: 'unpaid' }, unixNow());
    expect((await deliver(expired)).body.outcome).toBe('checkout_expired');
    expect((await renewalOrders(s)).map((o) => o.status)).toEqual(['pending']);
    const second = await open();
    expect(second.status).toBe(303);
    expect(sessions()).toHaveLength(2);
    expect(second.headers.get('location')).not.toBe(firstUrl);

    clock.set(new Date('2027-03-02T08:00:00.000Z'));
    const completed = stripeEvent(
      `evt_paid_${order!.id}`,
      'checkout.session.completed',
      { id: `cs_paid_${order!.id}`, object: 'checkout.session', metadata, payment_intent: `pi_renew_${order!.id}`, amount_total: PRICE, currency: 'cny', payment_status: 'paid' },
      unixNow(),
    );
    expect((await deliver(completed)).body.outcome).toBe('applied');
    expect(await periods(s)).toEqual([
      ['2026-03-01T08:00:00.000Z', '2027-03-01T08:00:00.000Z'],
      ['2027-03-01T08:00:00.000Z', '2028-02-29T08:00:00.000Z'], // annual: 365 days, and 2028 is a leap year
    ]);
    const paid = await open();
    expect([paid.status, await paid.text()]).toEqual([200, expect.stringContaining('This order is paid')]);
  });

  it('a charge still processing waits for Stripe: payment_intent.succeeded pays it, payment_intent.payment_failed starts dunning', async () => {
    clock.set(new Date('2026-04-01T08:00:00.000Z'));
    const a = await subscriber('processing');
    const b = await subscriber('processing'); // both expire 2027-04-01T08:00Z

    await at('2027-03-31T08:00:00.000Z');
    for (const s of [a, b]) {
      expect(charges(s)).toHaveLength(1);
      expect(await attempts(s)).toEqual([[0, 'pending']]);
      expect((await renewalOrders(s)).map((o) => o.status)).toEqual(['pending']);
      expect([await failures(s), await pastDueSince(s)]).toEqual([[], null]);
    }

    clock.set(new Date('2027-03-31T09:00:00.000Z'));
    const paid = await deliver(stripeEvent('evt_pi_a', 'payment_intent.succeeded', intentOf(charges(a)[0]!, 'pi_processing_a', 'succeeded'), unixNow()));
    expect([paid.status, paid.body.outcome]).toEqual([200, 'applied']);
    expect((await renewalOrders(a)).map((o) => [o.status, o.provider_ref])).toEqual([['paid', 'pi_processing_a']]);
    expect(await attempts(a)).toEqual([[0, 'succeeded']]);
    expect((await periods(a)).at(-1)).toEqual(['2027-04-01T08:00:00.000Z', '2028-03-31T08:00:00.000Z']);

    const failedEvent = stripeEvent('evt_pi_b', 'payment_intent.payment_failed', declinedIntent(charges(b)[0]!, 'pi_processing_b'), unixNow());
    expect((await deliver(failedEvent)).body.outcome).toBe('applied');
    expect((await deliver(failedEvent)).body.outcome).toBe('duplicate');
    expect(await failures(b)).toEqual([['2027-03-31T09:00:00.000Z', 0, 'insufficient_funds', true, '2027-04-01T09:00:00.000Z']]);
    expect([await attempts(b), await pastDueSince(b)]).toEqual([[[0, 'failed']], '2027-03-31T09:00:00.000Z']);

    fake.cards.set(b.customer, 'succeeds');
    await at('2027-04-01T09:00:00.000Z'); // retry 1
    expect(await attempts(b)).toEqual([
      [0, 'failed'],
      [1, 'succeeded'],
    ]);
    expect((await periods(b)).at(-1)).toEqual(['2027-04-01T08:00:00.000Z', '2028-03-31T08:00:00.000Z']);
    expect(charges(a)).toHaveLength(1);
  });

  it('Stripe out of reach: the attempt counts as a retryable failure; the charge Stripe made after all pays the order and is never repeated', async () => {
    clock.set(new Date('2026-05-01T08:00:00.000Z'));
    const s = await subscriber('unreachable'); // expires 2027-05-01T08:00Z

    await at('2027-04-30T08:00:00.000Z');
    expect(charges(s)).toHaveLength(1);
    expect(await failures(s)).toEqual([['2027-04-30T08:00:00.000Z', 0, 'provider_unreachable', true, '2027-05-01T08:00:00.000Z']]);
    expect(await methods(s)).toMatchObject([{ revoked_at: null }]);

    clock.set(new Date('2027-04-30T08:01:00.000Z'));
    const late = await deliver(stripeEvent('evt_pi_late', 'payment_intent.succeeded', intentOf(charges(s)[0]!, 'pi_answer_lost', 'succeeded'), unixNow()));
    expect(late.body.outcome).toBe('applied');
    expect(await attempts(s)).toEqual([[0, 'succeeded']]);
    expect((await periods(s)).at(-1)).toEqual(['2027-05-01T08:00:00.000Z', '2028-04-30T08:00:00.000Z']);

    for (const t of ['2027-05-01T08:00:00.000Z', '2027-05-03T08:00:00.000Z', '2027-05-05T08:00:00.000Z']) await at(t);
    expect(charges(s)).toHaveLength(1);
    expect((await renewalOrders(s)).map((o) => [o.status, o.provider_ref])).toEqual([['paid', 'pi_answer_lost']]);
  });
});
