import type { Kysely } from 'kysely';
import { hasColumn } from './helpers.js';

/**
 * Orders imported from elsewhere (CSV): `source` is `checkout` for orders bought here and `import`
 * for imported ones; `import_key` is a hash of the normalized CSV row, unique per community, so
 * importing the same file again adds nothing.
 */
export async function up(db: Kysely<any>): Promise<void> {
  if (!(await hasColumn(db, 'orders', 'source'))) {
    await db.schema.alterTable('orders').addColumn('source', 'text', (c) => c.notNull().defaultTo('checkout')).execute();
  }
  if (!(await hasColumn(db, 'orders', 'import_key'))) {
    await db.schema.alterTable('orders').addColumn('import_key', 'text').execute();
  }
  await db.schema.createIndex('orders_import_key_idx').ifNotExists().unique().on('orders').columns(['community_id', 'import_key']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('orders_import_key_idx').ifExists().execute();
  await db.schema.alterTable('orders').dropColumn('import_key').execute();
  await db.schema.alterTable('orders').dropColumn('source').execute();
}
