import type { Kysely } from 'kysely';
import { bigType, hasColumn, tsType } from './helpers.js';

/**
 * Refunds through asynchronous providers: a refund is `pending` from the moment its amount is
 * claimed until the provider confirms it (`succeeded`, `settled_at`) or refuses it (`failed`,
 * `failure_reason`). The order keeps the claimed amount in `refund_pending_minor`, apart from
 * `refunded_minor` (money that went back), so that the two together never pass what was paid.
 * Refunds recorded before this change were confirmed when they were asked for: `succeeded`.
 */
export async function up(db: Kysely<any>): Promise<void> {
  if (!(await hasColumn(db, 'refunds', 'status'))) {
    await db.schema.alterTable('refunds').addColumn('status', 'text', (c) => c.notNull().defaultTo('succeeded')).execute();
  }
  if (!(await hasColumn(db, 'refunds', 'settled_at'))) await db.schema.alterTable('refunds').addColumn('settled_at', tsType(db)).execute();
  if (!(await hasColumn(db, 'refunds', 'failure_reason'))) await db.schema.alterTable('refunds').addColumn('failure_reason', 'text').execute();
  if (!(await hasColumn(db, 'orders', 'refund_pending_minor'))) {
    await db.schema.alterTable('orders').addColumn('refund_pending_minor', bigType(db), (c) => c.notNull().defaultTo(0)).execute();
  }
  await db.schema.createIndex('refunds_status_idx').ifNotExists().on('refunds').columns(['status', 'created_at']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('refunds_status_idx').ifExists().execute();
  await db.schema.alterTable('orders').dropColumn('refund_pending_minor').execute();
  for (const name of ['failure_reason', 'settled_at', 'status']) await db.schema.alterTable('refunds').dropColumn(name).execute();
}
