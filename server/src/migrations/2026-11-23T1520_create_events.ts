import { sql, type Kysely } from 'kysely';
import { emptyJsonObject, isPg, jsonType, tsType } from './helpers.js';

/**
 * The append-only domain event log. Every change worth measuring writes one row here in the same
 * transaction as the change; analytics and automation read from it and nothing updates it.
 */
export async function up(db: Kysely<any>): Promise<void> {
  const ts = tsType(db);
  await db.schema
    .createTable('events')
    .ifNotExists()
    .addColumn('id', isPg(db) ? 'bigserial' : 'integer', (c) =>
      isPg(db) ? c.primaryKey() : c.primaryKey().autoIncrement(),
    )
    .addColumn('community_id', 'text', (c) => c.notNull().references('communities.id').onDelete('cascade'))
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('occurred_at', ts, (c) => c.notNull())
    .addColumn('member_id', 'text')
    .addColumn('group_id', 'text')
    .addColumn('entry_link_id', 'text')
    .addColumn('channel', 'text')
    .addColumn('referrer_member_id', 'text')
    .addColumn('actor_user_id', 'text')
    .addColumn('props', jsonType(db), (c) => c.notNull().defaultTo(emptyJsonObject(db)))
    .addColumn('recorded_at', ts, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('events_community_time_idx').ifNotExists().on('events').columns(['community_id', 'occurred_at']).execute();
  await db.schema
    .createIndex('events_community_type_time_idx')
    .ifNotExists()
    .on('events')
    .columns(['community_id', 'type', 'occurred_at'])
    .execute();
  await db.schema.createIndex('events_member_idx').ifNotExists().on('events').columns(['member_id', 'occurred_at']).execute();
  if (!isPg(db)) {
    // SQLite cannot forbid updates declaratively; triggers keep the log append-only.
    await sql`CREATE TRIGGER IF NOT EXISTS events_no_update BEFORE UPDATE ON events
      BEGIN SELECT RAISE(ABORT, 'events are append-only'); END`.execute(db);
  } else {
    await sql`CREATE OR REPLACE FUNCTION yutang_events_append_only() RETURNS trigger AS $$
      BEGIN RAISE EXCEPTION 'events are append-only'; END $$ LANGUAGE plpgsql`.execute(db);
    await sql`DROP TRIGGER IF EXISTS events_no_update ON events`.execute(db);
    await sql`CREATE TRIGGER events_no_update BEFORE UPDATE ON events
      FOR EACH ROW EXECUTE FUNCTION yutang_events_append_only()`.execute(db);
  }
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('events').ifExists().execute();
  if (isPg(db)) await sql`DROP FUNCTION IF EXISTS yutang_events_append_only()`.execute(db);
}
