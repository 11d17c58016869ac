import type { Kysely } from 'kysely';
import { hasColumn } from './helpers.js';

/**
 * Duplicate purchases: `allow_duplicate` records that the member confirmed buying again what they
 * hold or are already paying for; `duplicate_of_order_id` flags a paid order that repeated another
 * one (it granted nothing), for staff to refund.
 */
export async function up(db: Kysely<any>): Promise<void> {
  if (!(await hasColumn(db, 'orders', 'allow_duplicate'))) {
    await db.schema.alterTable('orders').addColumn('allow_duplicate', 'integer', (c) => c.notNull().defaultTo(0)).execute();
  }
  if (!(await hasColumn(db, 'orders', 'duplicate_of_order_id'))) {
    await db.schema.alterTable('orders').addColumn('duplicate_of_order_id', 'text').execute();
  }
  await db.schema.createIndex('orders_member_product_idx').ifNotExists().on('orders').columns(['member_id', 'product_id', 'status']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('orders_member_product_idx').ifExists().execute();
  await db.schema.alterTable('orders').dropColumn('duplicate_of_order_id').execute();
  await db.schema.alterTable('orders').dropColumn('allow_duplicate').execute();
}
