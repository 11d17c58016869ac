import type { Kysely } from 'kysely';
import { hasColumn } from './helpers.js';

/** Each community sets its own renewal grace window (days after expiry); 7 as before. */
export async function up(db: Kysely<any>): Promise<void> {
  if (!(await hasColumn(db, 'communities', 'renewal_grace_days'))) {
    await db.schema.alterTable('communities').addColumn('renewal_grace_days', 'integer', (c) => c.notNull().defaultTo(7)).execute();
  }
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('communities').dropColumn('renewal_grace_days').execute();
}
