import type { Kysely } from 'kysely';
import { bigType } from './helpers.js';

/**
 * Daily rollups of the event log (issue 5): per member and group, and per community dimension,
 * keyed by the day local to the community's time zone. `analytics_dirty` marks the UTC hours whose
 * events changed since the rollups were last recomputed (`tx`: the writing transaction on
 * PostgreSQL, so a mark is never absorbed by an older one being claimed; 0 on SQLite). An `hour` of
 * '*' asks for a full rebuild of the community (its time zone or currency changed).
 */
export async function up(db: Kysely<any>): Promise<void> {
  const big = bigType(db);
  const counters = (t: any, names: string[]) => names.reduce((b, n) => b.addColumn(n, big, (c: any) => c.notNull().defaultTo(0)), t);
  await counters(
    db.schema
      .createTable('analytics_member_days')
      .ifNotExists()
      .addColumn('community_id', 'text', (c) => c.notNull().references('communities.id').onDelete('cascade'))
      .addColumn('day', 'text', (c) => c.notNull())
      .addColumn('member_id', 'text', (c) => c.notNull())
      .addColumn('group_id', 'text', (c) => c.notNull()),
    ['engagement', 'messages', 'posts', 'replies', 'reactions', 'check_ins', 'attended', 'replies_received', 'reactions_received', 'negative_received', 'reports_received', 'ads'],
  )
    .addPrimaryKeyConstraint('analytics_member_days_pk', ['community_id', 'day', 'member_id', 'group_id'])
    .execute();
  await counters(
    db.schema
      .createTable('analytics_days')
      .ifNotExists()
      .addColumn('community_id', 'text', (c) => c.notNull().references('communities.id').onDelete('cascade'))
      .addColumn('day', 'text', (c) => c.notNull())
      .addColumn('dim', 'text', (c) => c.notNull())
      .addColumn('key', 'text', (c) => c.notNull()),
    ['link_visits', 'applications', 'joins', 'leaves', 'onboarded', 'engagement', 'messages', 'member_replies', 'ads', 'orders_paid', 'gmv_minor', 'refunds_minor', 'active_members'],
  )
    .addPrimaryKeyConstraint('analytics_days_pk', ['community_id', 'day', 'dim', 'key'])
    .execute();
  await db.schema.createIndex('analytics_days_dim_idx').ifNotExists().on('analytics_days').columns(['community_id', 'dim', 'day']).execute();
  await db.schema
    .createTable('analytics_dirty')
    .ifNotExists()
    .addColumn('community_id', 'text', (c) => c.notNull())
    .addColumn('hour', 'text', (c) => c.notNull())
    .addColumn('tx', big, (c) => c.notNull())
    .addPrimaryKeyConstraint('analytics_dirty_pk', ['community_id', 'hour', 'tx'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('analytics_dirty').ifExists().execute();
  await db.schema.dropTable('analytics_days').ifExists().execute();
  await db.schema.dropTable('analytics_member_days').ifExists().execute();
}
