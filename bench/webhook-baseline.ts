import { randomUUID } from 'node:crypto';
import type SQLite from 'better-sqlite3';
import { sha256 } from '../server/src/lib/hash.js';
import { newId } from '../server/src/lib/ids.js';
import { checkoutToken } from '../server/src/modules/payments/index.js';

export interface PendingOrder {
  id: string;
  memberId: string;
  amountMinor: number;
  currency: string;
}

/**
 * Pending orders as `POST /member/orders` leaves them (one per member, so that no rule about
 * buying twice applies), inserted directly in one transaction: the bench measures paying them.
 */
export function seedPendingOrders(sqlite: SQLite.Database, s: { communityId: string; productId: string; memberIds: string[]; amountMinor: number; currency: string; secret: string }): PendingOrder[] {
  const insert = sqlite.prepare(
    `INSERT INTO orders (id, community_id, member_id, product_id, status, amount_minor, currency, idempotency_key, request_hash, provider, checkout_token_hash, created_at, updated_at)
     VALUES (?, ?, ?, ?, 'pending', ?, ?, ?, ?, 'test', ?, ?, ?)`,
  );
  const at = new Date().toISOString();
  const orders: PendingOrder[] = [];
  sqlite.transaction(() => {
    for (const memberId of s.memberIds) {
      const id = newId('ord');
      insert.run(id, s.communityId, memberId, s.productId, s.amountMinor, s.currency, randomUUID(), sha256(JSON.stringify({ product_id: s.productId })), sha256(checkoutToken(s.secret, id)), at, at);
      orders.push({ id, memberId, amountMinor: s.amountMinor, currency: s.currency });
    }
  })();
  return orders;
}

/**
 * The floor for a paid webhook: the rows handling one writes (the event recorded, the order paid,
 * the membership, its id on the order, two ledger entries, `membership_granted` and `order_paid`,
 * the event's outcome) as raw prepared statements in one better-sqlite3 transaction per event, on
 * the same file with the same synchronous=FULL. The reads the service does first (the order, the
 * product, the member's latest membership) are left out. Returns transactions per second.
 */
export function rawWebhookBaseline(sqlite: SQLite.Database, ids: { communityId: string; productId: string; termDays: number }, orders: PendingOrder[]): number {
  const insertEvent = sqlite.prepare(
    `INSERT INTO payment_events (id, provider, event_id, type, community_id, order_id, payload, received_at, processed_at, outcome)
     VALUES (?, 'test', ?, 'payment.succeeded', NULL, ?, ?, ?, NULL, 'processing')`,
  );
  const markPaid = sqlite.prepare(
    `UPDATE orders SET status = 'paid', provider_ref = ?, paid_at = ?, cancelled_at = NULL, cancel_reason = NULL, updated_at = ?
     WHERE id = ? AND status IN ('pending', 'cancelled', 'expired')`,
  );
  const insertMembership = sqlite.prepare(
    `INSERT INTO memberships (id, community_id, member_id, product_id, order_id, source, granted_by_user_id, starts_at, expires_at, created_at)
     VALUES (?, ?, ?, ?, ?, 'order', NULL, ?, ?, ?)`,
  );
  const setEffects = sqlite.prepare(`UPDATE orders SET stock_reserved = 0, membership_id = ? WHERE id = ?`);
  const insertEntry = sqlite.prepare(
    `INSERT INTO ledger_entries (community_id, order_id, refund_id, account, amount_minor, currency, created_at) VALUES (?, ?, NULL, ?, ?, ?, ?)`,
  );
  const insertDomainEvent = sqlite.prepare(`INSERT INTO events (community_id, type, occurred_at, member_id, props, recorded_at) VALUES (?, ?, ?, ?, ?, ?)`);
  const setOutcome = sqlite.prepare(`UPDATE payment_events SET outcome = 'applied', community_id = ?, processed_at = ? WHERE id = ?`);

  const pay = sqlite.transaction((o: PendingOrder, i: number) => {
    const at = new Date().toISOString();
    const { communityId, productId } = ids;
    const logId = randomUUID();
    const eventId = `evt_raw_${i}`;
    insertEvent.run(logId, eventId, o.id, JSON.stringify({ id: eventId, data: { order_id: o.id } }), at);
    if (markPaid.run(`tpay_raw_${i}`, at, at, o.id).changes !== 1) throw new Error(`raw baseline: order ${o.id} was not pending`);
    const membershipId = randomUUID();
    const expires = new Date(Date.parse(at) + ids.termDays * 86_400_000).toISOString();
    insertMembership.run(membershipId, communityId, o.memberId, productId, o.id, at, expires, at);
    insertDomainEvent.run(communityId, 'membership_granted', at, o.memberId, JSON.stringify({ membership_id: membershipId, order_id: o.id, starts_at: at, expires_at: expires }), at);
    setEffects.run(membershipId, o.id);
    insertEntry.run(communityId, o.id, 'customer_payments', o.amountMinor, o.currency, at);
    insertEntry.run(communityId, o.id, 'revenue', -o.amountMinor, o.currency, at);
    insertDomainEvent.run(communityId, 'order_paid', at, o.memberId, JSON.stringify({ order_id: o.id, amount_minor: o.amountMinor, currency: o.currency }), at);
    setOutcome.run(communityId, at, logId);
  });
  const started = performance.now();
  orders.forEach((o, i) => pay(o, i));
  return (orders.length / (performance.now() - started)) * 1000;
}

/** Rows one paid webhook writes or updates (the statements above). */
export const ROWS_PER_WEBHOOK = 9;
