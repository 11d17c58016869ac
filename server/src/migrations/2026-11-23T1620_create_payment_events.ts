import type { Kysely } from 'kysely';
import { jsonType, tsType } from './helpers.js';

/**
 * Every webhook delivery that reached us. An accepted event keeps its provider's event id, unique
 * per provider: inserting it in the transaction that applies its effect is what makes redelivery
 * harmless. Rejected deliveries (bad signature, stale, unknown type, retry later) are kept with a
 * null event id, so they never block the genuine event.
 */
export async function up(db: Kysely<any>): Promise<void> {
  const ts = tsType(db);
  await db.schema
    .createTable('payment_events')
    .ifNotExists()
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('provider', 'text', (c) => c.notNull())
    .addColumn('event_id', 'text')
    .addColumn('type', 'text')
    .addColumn('community_id', 'text', (c) => c.references('communities.id').onDelete('cascade'))
    .addColumn('order_id', 'text')
    .addColumn('payload', jsonType(db))
    .addColumn('received_at', ts, (c) => c.notNull())
    .addColumn('processed_at', ts)
    .addColumn('outcome', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('payment_events_event_idx').ifNotExists().unique().on('payment_events').columns(['provider', 'event_id']).execute();
  await db.schema.createIndex('payment_events_order_idx').ifNotExists().on('payment_events').column('order_id').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('payment_events').ifExists().execute();
}
