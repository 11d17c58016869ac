import type { Kysely } from 'kysely';
import { hasColumn, tsType } from './helpers.js';

/**
 * Membership lifecycle: expiry processing (`ended_at`), cancellation at period end, pause, and the
 * reminders already sent (one row per membership and days-before, so each is sent at most once).
 */
export async function up(db: Kysely<any>): Promise<void> {
  const ts = tsType(db);
  const columns: [string, 'ts' | 'text'][] = [
    ['ended_at', 'ts'],
    ['cancelled_at', 'ts'],
    ['cancel_reason', 'text'],
    ['paused_at', 'ts'],
    ['paused_until', 'ts'],
  ];
  for (const [name, type] of columns) {
    if (!(await hasColumn(db, 'memberships', name))) {
      await db.schema.alterTable('memberships').addColumn(name, type === 'ts' ? ts : 'text').execute();
    }
  }
  await db.schema.createIndex('memberships_expires_idx').ifNotExists().on('memberships').column('expires_at').execute();
  await db.schema
    .createTable('membership_reminders')
    .ifNotExists()
    .addColumn('membership_id', 'text', (c) => c.notNull().references('memberships.id').onDelete('cascade'))
    .addColumn('days_before', 'integer', (c) => c.notNull())
    .addColumn('sent_at', ts, (c) => c.notNull())
    .addPrimaryKeyConstraint('membership_reminders_pk', ['membership_id', 'days_before'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('membership_reminders').ifExists().execute();
  await db.schema.dropIndex('memberships_expires_idx').ifExists().execute();
  for (const name of ['paused_until', 'paused_at', 'cancel_reason', 'cancelled_at', 'ended_at']) {
    await db.schema.alterTable('memberships').dropColumn(name).execute();
  }
}
