import type { Kysely } from 'kysely';
import { tsType } from './helpers.js';

/**
 * Idempotency keys of events that come from outside (chat-export imports, the event-ingest API):
 * a key is claimed in the transaction that writes its event, so a repeated import or a retried
 * batch adds nothing twice. `source` scopes keys: 'api', or 'import:<platform>:<chat>'.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('event_keys')
    .ifNotExists()
    .addColumn('community_id', 'text', (c) => c.notNull().references('communities.id').onDelete('cascade'))
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('key', 'text', (c) => c.notNull())
    .addColumn('created_at', tsType(db), (c) => c.notNull())
    .addPrimaryKeyConstraint('event_keys_pk', ['community_id', 'source', 'key'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('event_keys').ifExists().execute();
}
