import type { Kysely } from 'kysely';
import { hasColumn, tsType } from './helpers.js';

/** A membership bought by an order names it; a full refund revokes it (ends it at the refund). */
export async function up(db: Kysely<any>): Promise<void> {
  if (!(await hasColumn(db, 'memberships', 'order_id'))) {
    await db.schema.alterTable('memberships').addColumn('order_id', 'text').execute();
  }
  if (!(await hasColumn(db, 'memberships', 'revoked_at'))) {
    await db.schema.alterTable('memberships').addColumn('revoked_at', tsType(db)).execute();
  }
  await db.schema.createIndex('memberships_order_idx').ifNotExists().unique().on('memberships').column('order_id').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('memberships_order_idx').ifExists().execute();
  await db.schema.alterTable('memberships').dropColumn('revoked_at').execute();
  await db.schema.alterTable('memberships').dropColumn('order_id').execute();
}
