import type { Kysely } from 'kysely';
import { hasColumn } from './helpers.js';

/** Goods and paid events have a limited number of units or seats; null means unlimited. */
export async function up(db: Kysely<any>): Promise<void> {
  if (!(await hasColumn(db, 'products', 'stock'))) {
    await db.schema.alterTable('products').addColumn('stock', 'integer').execute();
  }
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('products').dropColumn('stock').execute();
}
