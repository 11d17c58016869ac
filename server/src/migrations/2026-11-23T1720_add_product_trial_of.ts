import type { Kysely } from 'kysely';
import { hasColumn } from './helpers.js';

/** A product (typically a low-price trial course) can be the trial of a full product of the same community. */
export async function up(db: Kysely<any>): Promise<void> {
  if (!(await hasColumn(db, 'products', 'trial_of_product_id'))) {
    await db.schema.alterTable('products').addColumn('trial_of_product_id', 'text').execute();
  }
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('products').dropColumn('trial_of_product_id').execute();
}
