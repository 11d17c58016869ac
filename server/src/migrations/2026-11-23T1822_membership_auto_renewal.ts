import type { Kysely } from 'kysely';
import { hasColumn, tsType } from './helpers.js';

/**
 * Automatic renewal and dunning. A chain (a member's periods of one product) renews automatically
 * when `membership_chains.auto_renew` is set. Each period is charged for its renewal at most once
 * per attempt number (`membership_renewal_attempts`: 0 the first charge, 1… the retries); a period
 * whose renewal failed is past due from `past_due_since`. `end_reason` says why a period ended.
 * A renewal order names the period it renews and stays payable until `pay_until` (the grace end)
 * instead of the unpaid-order timeout.
 */
export async function up(db: Kysely<any>): Promise<void> {
  const ts = tsType(db);
  await db.schema
    .createTable('membership_chains')
    .ifNotExists()
    .addColumn('member_id', 'text', (c) => c.notNull().references('members.id').onDelete('cascade'))
    .addColumn('product_id', 'text', (c) => c.notNull().references('products.id'))
    .addColumn('community_id', 'text', (c) => c.notNull().references('communities.id').onDelete('cascade'))
    .addColumn('auto_renew', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('updated_at', ts, (c) => c.notNull())
    .addPrimaryKeyConstraint('membership_chains_pk', ['member_id', 'product_id'])
    .execute();
  await db.schema
    .createTable('membership_renewal_attempts')
    .ifNotExists()
    .addColumn('membership_id', 'text', (c) => c.notNull().references('memberships.id').onDelete('cascade'))
    .addColumn('attempt', 'integer', (c) => c.notNull())
    .addColumn('order_id', 'text', (c) => c.notNull())
    .addColumn('attempted_at', ts, (c) => c.notNull())
    .addColumn('outcome', 'text', (c) => c.notNull())
    .addColumn('reason', 'text')
    .addPrimaryKeyConstraint('membership_renewal_attempts_pk', ['membership_id', 'attempt'])
    .execute();
  const columns: [table: string, column: string, type: 'ts' | 'text'][] = [
    ['memberships', 'past_due_since', 'ts'],
    ['memberships', 'end_reason', 'text'],
    ['orders', 'renews_membership_id', 'text'],
    ['orders', 'pay_until', 'ts'],
  ];
  for (const [table, column, type] of columns) {
    if (!(await hasColumn(db, table, column))) await db.schema.alterTable(table).addColumn(column, type === 'ts' ? ts : 'text').execute();
  }
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const [table, column] of [['orders', 'pay_until'], ['orders', 'renews_membership_id'], ['memberships', 'end_reason'], ['memberships', 'past_due_since']] as const) {
    await db.schema.alterTable(table).dropColumn(column).execute();
  }
  await db.schema.dropTable('membership_renewal_attempts').ifExists().execute();
  await db.schema.dropTable('membership_chains').ifExists().execute();
}
