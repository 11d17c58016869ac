import type { Kysely } from 'kysely';
import { bigType, hasColumn } from './helpers.js';

/**
 * Upgrades: an order may replace a membership chain (`upgrade_from_membership_id`), paying the
 * target's price less `credit_minor`, the unused part of the chain. Revocations say why
 * (`refunded`, `upgraded`).
 */
export async function up(db: Kysely<any>): Promise<void> {
  if (!(await hasColumn(db, 'orders', 'credit_minor'))) {
    await db.schema.alterTable('orders').addColumn('credit_minor', bigType(db), (c) => c.notNull().defaultTo(0)).execute();
  }
  if (!(await hasColumn(db, 'orders', 'upgrade_from_membership_id'))) {
    await db.schema.alterTable('orders').addColumn('upgrade_from_membership_id', 'text').execute();
  }
  if (!(await hasColumn(db, 'memberships', 'revoke_reason'))) {
    await db.schema.alterTable('memberships').addColumn('revoke_reason', 'text').execute();
  }
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('memberships').dropColumn('revoke_reason').execute();
  await db.schema.alterTable('orders').dropColumn('upgrade_from_membership_id').execute();
  await db.schema.alterTable('orders').dropColumn('credit_minor').execute();
}
