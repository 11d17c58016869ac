import type { Db, Trx } from '../../db/kysely.js';
import { newId } from '../../lib/ids.js';

export interface PaymentEventLog {
  provider: string;
  event_id: string | null;
  type: string | null;
  community_id: string | null;
  order_id: string | null;
  payload: string | null;
  received_at: string;
  processed_at: string | null;
  outcome: string;
}

/**
 * Records an accepted event unless its id was recorded before; true when this call recorded it.
 * Run it in the transaction that applies the event: on PostgreSQL a concurrent duplicate waits
 * for that transaction and then inserts nothing, so only one delivery ever applies.
 */
export async function insertPaymentEventOnce(trx: Trx, e: PaymentEventLog): Promise<string | null> {
  const id = newId('pev');
  const r = await trx
    .insertInto('payment_events')
    .values({ id, ...e })
    .onConflict((oc) => oc.columns(['provider', 'event_id']).doNothing())
    .executeTakeFirst();
  return Number(r.numInsertedOrUpdatedRows ?? 0) === 1 ? id : null;
}

export const setPaymentEventOutcome = (trx: Trx, id: string, outcome: string, communityId: string | null, processedAt: string) =>
  trx.updateTable('payment_events').set({ outcome, community_id: communityId, processed_at: processedAt }).where('id', '=', id).execute();

/** Logs a delivery that was refused; its event id is kept only in the payload, so it blocks nothing. */
export const logRejectedPaymentEvent = (db: Db, e: Omit<PaymentEventLog, 'event_id' | 'processed_at'>) =>
  db.insertInto('payment_events').values({ id: newId('pev'), ...e, event_id: null, processed_at: null }).execute();
