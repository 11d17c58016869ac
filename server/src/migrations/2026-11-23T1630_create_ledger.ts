import { sql, type Kysely } from 'kysely';
import { bigType, isPg, tsType } from './helpers.js';

/**
 * The append-only double-entry ledger in minor units. Each money movement writes entries that sum
 * to zero per order (a payment: +customer_payments, −revenue; a refund: −customer_payments,
 * +refunds). Nothing updates or deletes an entry: a correction is a new entry.
 */
export async function up(db: Kysely<any>): Promise<void> {
  const ts = tsType(db);
  await db.schema
    .createTable('ledger_entries')
    .ifNotExists()
    .addColumn('id', isPg(db) ? 'bigserial' : 'integer', (c) => (isPg(db) ? c.primaryKey() : c.primaryKey().autoIncrement()))
    .addColumn('community_id', 'text', (c) => c.notNull().references('communities.id').onDelete('cascade'))
    .addColumn('order_id', 'text', (c) => c.notNull())
    .addColumn('refund_id', 'text')
    .addColumn('account', 'text', (c) => c.notNull())
    .addColumn('amount_minor', bigType(db), (c) => c.notNull())
    .addColumn('currency', 'text', (c) => c.notNull())
    .addColumn('created_at', ts, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('ledger_entries_order_idx').ifNotExists().on('ledger_entries').column('order_id').execute();
  await db.schema.createIndex('ledger_entries_community_idx').ifNotExists().on('ledger_entries').columns(['community_id', 'created_at']).execute();
  if (!isPg(db)) {
    await sql`CREATE TRIGGER IF NOT EXISTS ledger_entries_no_update BEFORE UPDATE ON ledger_entries
      BEGIN SELECT RAISE(ABORT, 'ledger entries are append-only'); END`.execute(db);
    // Deleting a community cascades to its entries; a lone entry may not be deleted.
    await sql`CREATE TRIGGER IF NOT EXISTS ledger_entries_no_delete BEFORE DELETE ON ledger_entries
      WHEN EXISTS (SELECT 1 FROM communities WHERE id = OLD.community_id)
      BEGIN SELECT RAISE(ABORT, 'ledger entries are append-only'); END`.execute(db);
  } else {
    await sql`CREATE OR REPLACE FUNCTION yutang_ledger_append_only() RETURNS trigger AS $$
      BEGIN
        IF TG_OP = 'DELETE' AND NOT EXISTS (SELECT 1 FROM communities WHERE id = OLD.community_id) THEN RETURN OLD; END IF;
        RAISE EXCEPTION 'ledger entries are append-only';
      END $$ LANGUAGE plpgsql`.execute(db);
    await sql`DROP TRIGGER IF EXISTS ledger_entries_no_change ON ledger_entries`.execute(db);
    await sql`CREATE TRIGGER ledger_entries_no_change BEFORE UPDATE OR DELETE ON ledger_entries
      FOR EACH ROW EXECUTE FUNCTION yutang_ledger_append_only()`.execute(db);
  }
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('ledger_entries').ifExists().execute();
  if (isPg(db)) await sql`DROP FUNCTION IF EXISTS yutang_ledger_append_only()`.execute(db);
}
