import seedrandom from 'seedrandom';
import { expect, it } from 'vitest';
import { fixedClock } from '../../lib/clock.js';
import { describeEachDialect, useServer } from '../../test/harness.js';
import { checkLedger } from './ledger.check.js';
import { addMember, addProduct, buy, clickPay, deliver, openShop, paidEvent, refund } from '../../test/money.js';

/**
 * Random sequences of create / pay (checkout or webhook, with duplicate deliveries) / fail / refund
 * (with retries) / time passing, checked step by step and at the end against a small reference
 * model written from the rules in docs/money.md, not from the code under test.
 */

const DAY = 86_400_000;
const GRACE = 7 * DAY;
const TERM = 30 * DAY;

interface ModelOrder {
  id: string;
  checkout_url: string;
  amount_minor: number;
  currency: string;
  member: number;
  product: 'plan' | 'book' | 'course';
  status: string;
  refunded: number;
  /** Holds a unit of stock (books: from creation until paid and fully refunded, or ended unpaid). */
  held: boolean;
  period: Period | null;
}
interface Period {
  orderId: string;
  start: number;
  end: number;
  revoked: boolean;
}

describeEachDialect('money model: random operation sequences keep every invariant', (dialect) => {
  const clock = fixedClock(new Date('2026-02-01T00:00:00.000Z'));
  const ctx = useServer(dialect, { clock });

  it('matches the reference model after 300 random operations', async () => {
    const rng = seedrandom(`money-model-${dialect}`);
    const pick = <T>(xs: T[]): T | undefined => xs[Math.floor(rng() * xs.length)];
    const shop = await openShop(ctx.server);
    const products = {
      plan: await addProduct(shop, { type: 'membership', name: '月卡', price_minor: 3_000, term: 'days', term_days: 30 }),
      book: await addProduct(shop, { type: 'goods', name: '书', price_minor: 1_500, stock: 3 }),
      course: await addProduct(shop, { type: 'course', name: '课', price_minor: 990 }),
    };
    const members = await Promise.all([0, 1, 2, 3].map((i) => addMember(ctx.server, shop, `成员${i}`)));

    const orders: ModelOrder[] = [];
    const periods: Period[][] = members.map(() => []);
    const recordedEvents = new Set<string>();
    let stock = 3;
    let keyNo = 0;
    let lastRefund: { order: ModelOrder; body: { amount_minor: number; reason: string }; key: string; id: string } | null = null;

    const isPaid = (o: ModelOrder) => ['paid', 'partially_refunded', 'refunded'].includes(o.status);
    /** Applies a payment to the model; false when the order gave its unit back and the last one is gone. */
    const modelPay = (o: ModelOrder): boolean => {
      if (o.product === 'book' && !o.held) {
        if (stock === 0) return false;
        stock--;
        o.held = true;
      }
      o.status = 'paid';
      if (o.product === 'plan') {
        const now = clock.now().getTime();
        const live = periods[o.member]!.filter((p) => !p.revoked);
        const latest = live.length ? Math.max(...live.map((p) => p.end)) : null;
        const start = latest !== null && now <= latest + GRACE ? latest : now;
        o.period = { orderId: o.id, start, end: start + TERM, revoked: false };
        periods[o.member]!.push(o.period);
      }
      return true;
    };
    const modelRefund = (o: ModelOrder, amount: number) => {
      o.refunded += amount;
      o.status = o.refunded === o.amount_minor ? 'refunded' : 'partially_refunded';
      if (o.status !== 'refunded') return;
      if (o.held) stock++;
      o.held = false;
      const p = o.period;
      if (p && !p.revoked) {
        const now = clock.now().getTime();
        const end = Math.min(Math.max(p.start, now), p.end);
        const removed = p.end - end;
        const oldEnd = p.end;
        p.end = end;
        p.revoked = true;
        for (const q of periods[o.member]!) {
          if (q.revoked || q.start < oldEnd || removed === 0) continue;
          q.start -= removed;
          q.end -= removed;
        }
      }
    };

    for (let step = 0; step < 300; step++) {
      const roll = rng();
      const label = `step ${step}`;
      if (roll < 0.25) {
        const member = Math.floor(rng() * members.length);
        const product = pick(['plan', 'plan', 'book', 'course'] as const)!;
        // Buying again on purpose: the duplicate warning has its own tests.
        const r = await buy(members[member]!.client, products[product].id, `k${keyNo++}`, { allowDuplicate: true });
        if (product === 'book' && stock === 0) expect([label, r.body.code]).toEqual([label, 'out_of_stock']);
        else {
          expect([label, r.status]).toEqual([label, 201]);
          if (product === 'book') stock--;
          orders.push({ ...r.body, member, product, status: 'pending', refunded: 0, held: product === 'book', period: null });
        }
      } else if (roll < 0.4) {
        const o = pick(orders.filter((x) => x.status === 'pending'));
        if (!o) continue;
        const r = await clickPay(ctx.server, o);
        // A pending order holds its unit: paying it never runs out of stock.
        expect([label, modelPay(o), r.status, r.body.status]).toEqual([label, true, 200, 'paid']);
      } else if (roll < 0.6) {
        // A webhook for any order, often one delivered before.
        const o = pick(orders);
        if (!o) continue;
        const eventId = `evt_pay_${o.id}`;
        const r = await deliver(ctx.server, ctx.db, paidEvent(eventId, o));
        if (recordedEvents.has(eventId)) expect([label, r.body.outcome]).toEqual([label, 'duplicate']);
        else if (isPaid(o)) {
          // Paid through the checkout (its webhook would be recorded): this second payment has another
          // reference, so it is flagged for staff and grants nothing.
          expect([label, r.body.outcome]).toEqual([label, 'duplicate_payment']);
          recordedEvents.add(eventId);
        } else if (modelPay(o)) {
          expect([label, r.body.outcome]).toEqual([label, 'applied']);
          recordedEvents.add(eventId);
        } else {
          // The unit went to someone else: the payment is recorded and refunded in full at once.
          expect([label, r.body.outcome]).toEqual([label, 'sold_out']);
          recordedEvents.add(eventId);
          o.status = 'refunded';
          o.refunded = o.amount_minor;
        }
      } else if (roll < 0.65) {
        const o = pick(orders.filter((x) => x.status === 'pending'));
        if (!o) continue;
        expect((await clickPay(ctx.server, o, 'fail')).body.status).toBe('cancelled');
        o.status = 'cancelled';
        if (o.held) stock++;
        o.held = false;
      } else if (roll < 0.85) {
        const o = pick(orders.filter((x) => x.status !== 'pending' && x.status !== 'cancelled'));
        if (!o) continue;
        const amount = rng() < 0.5 ? o.amount_minor - o.refunded : 1 + Math.floor(rng() * o.amount_minor);
        const body = { amount_minor: Math.max(1, amount), reason: 'model' };
        const key = `r${keyNo++}`;
        const r = await refund(shop, o.id, body, key);
        const left = o.amount_minor - o.refunded;
        if (o.status === 'refunded' || !isPaid(o)) expect([label, r.body.code]).toEqual([label, 'order_not_refundable']);
        else if (body.amount_minor > left) expect([label, r.body.code, r.body.remaining_minor]).toEqual([label, 'refund_exceeds_remaining', left]);
        else {
          expect([label, r.status]).toEqual([label, 201]);
          modelRefund(o, body.amount_minor);
          lastRefund = { order: o, body, key, id: r.body.id };
        }
      } else if (roll < 0.9) {
        if (!lastRefund) continue;
        const r = await refund(shop, lastRefund.order.id, lastRefund.body, lastRefund.key);
        expect([label, r.status, r.body.id]).toEqual([label, 200, lastRefund.id]);
      } else {
        clock.advance(Math.floor(rng() * 12 * DAY));
      }
    }

    const k = ctx.db.handle.db;
    const rows = await k.selectFrom('orders').selectAll().where('community_id', '=', shop.communityId).execute();
    const byId = new Map(rows.map((r) => [r.id, r]));
    expect(orders.map((o) => [o.id, o.status, o.refunded])).toEqual(orders.map((o) => [o.id, byId.get(o.id)!.status, Number(byId.get(o.id)!.refunded_minor)]));
    const book = await k.selectFrom('products').select('stock').where('id', '=', products.book.id).executeTakeFirstOrThrow();
    expect(book.stock).toBe(stock);
    expect(stock).toBeGreaterThanOrEqual(0);

    // One membership per paid membership order, exactly where the model puts it.
    const memberships = await k.selectFrom('memberships').selectAll().where('community_id', '=', shop.communityId).execute();
    const expected = periods.flat().map((p) => [p.orderId, p.start, p.end, p.revoked]).sort();
    const actual = memberships.map((m) => [m.order_id, Date.parse(m.starts_at), Date.parse(m.expires_at!), m.revoked_at !== null]).sort();
    expect(actual).toEqual(expected);

    const events = await k.selectFrom('events').select('type').where('community_id', '=', shop.communityId).execute();
    const count = (t: string) => events.filter((e) => e.type === t).length;
    expect(count('order_paid')).toBe(orders.filter(isPaid).length);
    expect(count('membership_granted')).toBe(periods.flat().length);
    const report = await checkLedger(k);
    expect(report.violations).toEqual([]);
    // The run exercised every path.
    expect(orders.filter((o) => o.status === 'refunded').length).toBeGreaterThan(0);
    expect(orders.filter((o) => o.status === 'partially_refunded').length).toBeGreaterThan(0);
    expect(periods.flat().filter((p) => p.revoked).length).toBeGreaterThan(0);
    expect(orders.filter(isPaid).length).toBeGreaterThan(10);
  });
});
