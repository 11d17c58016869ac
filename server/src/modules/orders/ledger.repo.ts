import { sql } from 'kysely';
import type { Db, Trx } from '../../db/kysely.js';

/**
 * Ledger accounts. A payment moves money from the customer into revenue; a refund moves it back;
 * a provider's fee, when it reports one, is taken from the money received.
 */
export type LedgerAccount = 'customer_payments' | 'revenue' | 'refunds' | 'provider_fees';

export interface LedgerLine {
  account: LedgerAccount;
  amount_minor: number;
}

/** Appends balanced entries for one order; refuses lines that do not sum to zero. */
export async function postEntries(
  trx: Trx,
  e: { community_id: string; order_id: string; refund_id: string | null; currency: string; created_at: string },
  lines: LedgerLine[],
) {
  if (lines.reduce((s, l) => s + l.amount_minor, 0) !== 0) throw new Error('ledger lines must sum to zero');
  await trx
    .insertInto('ledger_entries')
    .values(lines.map((l) => ({ ...e, account: l.account, amount_minor: l.amount_minor })))
    .execute();
}

export interface OrderBalance {
  order_id: string;
  community_id: string;
  status: string;
  amount_minor: number;
  refunded_minor: number;
  refund_pending_minor: number;
  currency: string;
  ledger_sum: number;
  paid_in: number;
  refunded_out: number;
  /** What the provider kept of the payment, when it reported a fee. */
  fees: number;
  /** Refund rows that succeeded, and those still pending. */
  refunds_total: number;
  refunds_pending: number;
  entry_currencies: number;
}

/** Per order: its totals next to what its ledger entries and refund rows say. */
export async function orderBalances(db: Db): Promise<OrderBalance[]> {
  const rows = await db
    .selectFrom('orders as o')
    .leftJoin(
      (eb) =>
        eb
          .selectFrom('ledger_entries')
          .select([
            'order_id',
            sql<number>`sum(amount_minor)`.as('ledger_sum'),
            sql<number>`sum(case when account = 'customer_payments' and amount_minor > 0 then amount_minor else 0 end)`.as('paid_in'),
            sql<number>`sum(case when account = 'refunds' then amount_minor else 0 end)`.as('refunded_out'),
            sql<number>`sum(case when account = 'provider_fees' then amount_minor else 0 end)`.as('fees'),
            sql<number>`count(distinct currency)`.as('entry_currencies'),
          ])
          .groupBy('order_id')
          .as('l'),
      (j) => j.onRef('l.order_id', '=', 'o.id'),
    )
    .leftJoin(
      (eb) =>
        eb
          .selectFrom('refunds')
          .select([
            'order_id',
            sql<number>`sum(case when status = 'succeeded' then amount_minor else 0 end)`.as('refunds_total'),
            sql<number>`sum(case when status = 'pending' then amount_minor else 0 end)`.as('refunds_pending'),
          ])
          .groupBy('order_id')
          .as('r'),
      (j) => j.onRef('r.order_id', '=', 'o.id'),
    )
    .select([
      'o.id as order_id',
      'o.community_id',
      'o.status',
      'o.amount_minor',
      'o.refunded_minor',
      'o.refund_pending_minor',
      'o.currency',
      'l.ledger_sum',
      'l.paid_in',
      'l.refunded_out',
      'l.fees',
      'l.entry_currencies',
      'r.refunds_total',
      'r.refunds_pending',
    ])
    .orderBy('o.id')
    .execute();
  return rows.map((r) => ({
    order_id: r.order_id,
    community_id: r.community_id,
    status: r.status,
    amount_minor: Number(r.amount_minor),
    refunded_minor: Number(r.refunded_minor),
    refund_pending_minor: Number(r.refund_pending_minor),
    currency: r.currency,
    ledger_sum: Number(r.ledger_sum ?? 0),
    paid_in: Number(r.paid_in ?? 0),
    refunded_out: Number(r.refunded_out ?? 0),
    fees: Number(r.fees ?? 0),
    refunds_total: Number(r.refunds_total ?? 0),
    refunds_pending: Number(r.refunds_pending ?? 0),
    entry_currencies: Number(r.entry_currencies ?? 0),
  }));
}

/** Ledger entries that name no order at all (they could never balance per order). */
export async function countOrphanEntries(db: Db): Promise<number> {
  const r = await db
    .selectFrom('ledger_entries as e')
    .leftJoin('orders as o', 'o.id', 'e.order_id')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('o.id', 'is', null)
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

export interface RefundBalance {
  refund_id: string;
  order_id: string;
  status: string;
  amount_minor: number;
  /** What the refund's entries moved into the `refunds` account, and how many entries it has. */
  refunded_out: number;
  entries: number;
}

/** Per refund row: its status and amount next to its ledger entries. */
export async function refundBalances(db: Db): Promise<RefundBalance[]> {
  const rows = await db
    .selectFrom('refunds as r')
    .leftJoin('ledger_entries as e', 'e.refund_id', 'r.id')
    .select([
      'r.id as refund_id',
      'r.order_id',
      'r.status',
      'r.amount_minor',
      sql<number>`sum(case when e.account = 'refunds' then e.amount_minor else 0 end)`.as('refunded_out'),
      sql<number>`count(e.id)`.as('entries'),
    ])
    .groupBy(['r.id', 'r.order_id', 'r.status', 'r.amount_minor'])
    .orderBy('r.id')
    .execute();
  return rows.map((r) => ({ ...r, amount_minor: Number(r.amount_minor), refunded_out: Number(r.refunded_out ?? 0), entries: Number(r.entries) }));
}
