import type { Db } from '../../db/kysely.js';
import { countOrphanEntries, orderBalances, refundBalances } from './ledger.repo.js';

export interface LedgerReport {
  orders: number;
  paid_orders: number;
  /** Per currency: money in, money refunded, net. */
  totals: Record<string, { paid_minor: number; refunded_minor: number; net_minor: number; fees_minor: number }>;
  violations: string[];
}

const PAID = new Set(['paid', 'partially_refunded', 'refunded']);

/**
 * The ledger's invariants: every order's entries sum to zero, in one currency; what the
 * ledger says was paid and refunded is what the order and its succeeded refund rows say; what the
 * order holds for pending refunds is what its pending refund rows say; every succeeded refund has
 * its entries and no pending or failed one has any (entries only when money moved); no entry is
 * orphaned.
 */
export async function checkLedger(db: Db): Promise<LedgerReport> {
  const report: LedgerReport = { orders: 0, paid_orders: 0, totals: {}, violations: [] };
  for (const b of await orderBalances(db)) {
    report.orders++;
    const v = (msg: string) => report.violations.push(`order ${b.order_id} (${b.status}): ${msg}`);
    const paid = PAID.has(b.status);
    if (b.ledger_sum !== 0) v(`entries sum to ${b.ledger_sum}, not 0`);
    if (b.entry_currencies > 1) v('entries in more than one currency');
    if (b.paid_in !== (paid ? b.amount_minor : 0)) v(`ledger says ${b.paid_in} paid, the order ${paid ? b.amount_minor : 0}`);
    if (b.refunded_out !== b.refunded_minor) v(`ledger says ${b.refunded_out} refunded, the order ${b.refunded_minor}`);
    if (b.refunds_total !== b.refunded_minor) v(`succeeded refunds add up to ${b.refunds_total}, the order says ${b.refunded_minor}`);
    if (b.refunds_pending !== b.refund_pending_minor) v(`pending refunds add up to ${b.refunds_pending}, the order holds ${b.refund_pending_minor}`);
    if (b.fees < 0 || b.fees > b.paid_in) v(`provider fees of ${b.fees} outside 0…${b.paid_in}`);
    if (b.refunded_minor + b.refund_pending_minor > b.amount_minor) v(`refunded and pending ${b.refunded_minor + b.refund_pending_minor} pass the amount ${b.amount_minor}`);
    const expected = b.refunded_minor === 0 ? 'paid' : b.refunded_minor === b.amount_minor ? 'refunded' : 'partially_refunded';
    if (paid && b.status !== expected) v(`status should be ${expected}`);
    if (!paid && b.refunded_minor !== 0) v('refunded without being paid');
    if (!paid) continue;
    report.paid_orders++;
    const t = (report.totals[b.currency] ??= { paid_minor: 0, refunded_minor: 0, net_minor: 0, fees_minor: 0 });
    t.paid_minor += b.amount_minor;
    t.refunded_minor += b.refunded_minor;
    t.net_minor += b.amount_minor - b.refunded_minor;
    t.fees_minor += b.fees;
  }
  for (const r of await refundBalances(db)) {
    const v = (msg: string) => report.violations.push(`refund ${r.refund_id} (${r.status}) of order ${r.order_id}: ${msg}`);
    if (r.status === 'succeeded' && (r.refunded_out !== r.amount_minor || r.entries !== 2)) v(`entries move ${r.refunded_out} in ${r.entries} entries, not ${r.amount_minor} in 2`);
    if (r.status !== 'succeeded' && r.entries !== 0) v(`has ${r.entries} ledger entries though no money moved`);
  }
  const orphans = await countOrphanEntries(db);
  if (orphans) report.violations.push(`${orphans} ledger entries name no order`);
  return report;
}
