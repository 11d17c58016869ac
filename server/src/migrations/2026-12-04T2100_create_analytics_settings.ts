import type { Kysely } from 'kysely';
import { jsonType, tsType } from './helpers.js';

/** Per-community thresholds of member classification, churn risk and group health (absent row = defaults). */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('analytics_settings')
    .ifNotExists()
    .addColumn('community_id', 'text', (c) => c.primaryKey().references('communities.id').onDelete('cascade'))
    .addColumn('settings', jsonType(db), (c) => c.notNull())
    .addColumn('updated_at', tsType(db), (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('analytics_settings').ifExists().execute();
}
