import { sql, type Kysely } from 'kysely';
import { bigType, isPg, tsType } from './helpers.js';

/**
 * Derived tables that let the period metrics be counted without re-sorting every membership span
 * (issue 5, KPI latency):
 * - `member_stays`: each member's stays (overlapping spans merged; see countPeriodMetrics), with the
 *   end of the member's previous stay, kept by the rollup refresh for the members whose joins,
 *   leaves or paid orders changed;
 * - `member_purchases`: each buyer's first and second paid order instants;
 * - `analytics_flow_days`: per local day, the stays that started and ended and the members whose
 *   first and second paid orders fell on it, so members at t0 and buyers by t1 are sums over days;
 * - `member_firsts`: each member's first group (by their first span), whose monitor is the staff
 *   owner of members who came through no staff link;
 * - `analytics_generations`: a counter each rollup refresh or rebuild that changes a community's
 *   rows bumps, so answers computed from them can be reused until it moves;
 * - `analytics_days.conversation`: messages + posts + replies by members, so two-way share needs no
 *   member-day scan;
 * - `orders_paid_idx`: the period's paid orders by range.
 * Existing communities are marked for a full rebuild, which fills them.
 *
 * Derived tables carry no foreign key to communities: on PostgreSQL each key is a per-row trigger
 * that cost about a tenth of a rollup rebuild; the rollups' own keys are dropped for the same reason.
 */
export async function up(db: Kysely<any>): Promise<void> {
  const ts = tsType(db);
  const big = bigType(db);
  await db.schema
    .createTable('member_stays')
    .ifNotExists()
    .addColumn('community_id', 'text', (c) => c.notNull())
    .addColumn('member_id', 'text', (c) => c.notNull())
    .addColumn('start_at', ts, (c) => c.notNull())
    .addColumn('end_at', ts)
    .addColumn('prev_end_at', ts)
    .addColumn('referred', 'integer', (c) => c.notNull().defaultTo(0))
    .addPrimaryKeyConstraint('member_stays_pk', ['community_id', 'member_id', 'start_at'])
    .execute();
  await db.schema.createIndex('member_stays_start_idx').ifNotExists().on('member_stays').columns(['community_id', 'start_at', 'prev_end_at']).execute();
  await db.schema.createIndex('member_stays_end_idx').ifNotExists().on('member_stays').columns(['community_id', 'end_at']).execute();
  await db.schema
    .createTable('member_purchases')
    .ifNotExists()
    .addColumn('community_id', 'text', (c) => c.notNull())
    .addColumn('member_id', 'text', (c) => c.notNull())
    .addColumn('first_paid_at', ts, (c) => c.notNull())
    .addColumn('second_paid_at', ts)
    .addPrimaryKeyConstraint('member_purchases_pk', ['community_id', 'member_id'])
    .execute();
  await db.schema.createIndex('member_purchases_first_idx').ifNotExists().on('member_purchases').columns(['community_id', 'first_paid_at']).execute();
  await db.schema.createIndex('member_purchases_second_idx').ifNotExists().on('member_purchases').columns(['community_id', 'second_paid_at']).execute();
  await db.schema
    .createTable('analytics_flow_days')
    .ifNotExists()
    .addColumn('community_id', 'text', (c) => c.notNull())
    .addColumn('day', 'text', (c) => c.notNull())
    .addColumn('stay_starts', big, (c) => c.notNull().defaultTo(0))
    .addColumn('stay_ends', big, (c) => c.notNull().defaultTo(0))
    .addColumn('first_purchases', big, (c) => c.notNull().defaultTo(0))
    .addColumn('second_purchases', big, (c) => c.notNull().defaultTo(0))
    .addPrimaryKeyConstraint('analytics_flow_days_pk', ['community_id', 'day'])
    .execute();
  await db.schema
    .createTable('analytics_generations')
    .ifNotExists()
    .addColumn('community_id', 'text', (c) => c.primaryKey())
    .addColumn('generation', big, (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('member_firsts')
    .ifNotExists()
    .addColumn('community_id', 'text', (c) => c.notNull())
    .addColumn('member_id', 'text', (c) => c.notNull())
    .addColumn('group_id', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('member_firsts_pk', ['community_id', 'member_id'])
    .execute();
  if (isPg(db)) {
    await sql`ALTER TABLE analytics_member_days DROP CONSTRAINT IF EXISTS analytics_member_days_community_id_fkey`.execute(db);
    await sql`ALTER TABLE analytics_days DROP CONSTRAINT IF EXISTS analytics_days_community_id_fkey`.execute(db);
  }
  await db.schema.alterTable('analytics_days').addColumn('conversation', big, (c) => c.notNull().defaultTo(0)).execute();
  await db.schema.createIndex('orders_paid_idx').ifNotExists().on('orders').columns(['community_id', 'paid_at']).execute();
  await sql`INSERT INTO analytics_dirty (community_id, hour, tx) SELECT id, '*', 0 FROM communities`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('orders_paid_idx').ifExists().execute();
  await db.schema.alterTable('analytics_days').dropColumn('conversation').execute();
  await db.schema.dropTable('member_firsts').ifExists().execute();
  await db.schema.dropTable('analytics_generations').ifExists().execute();
  await db.schema.dropTable('analytics_flow_days').ifExists().execute();
  await db.schema.dropTable('member_purchases').ifExists().execute();
  await db.schema.dropTable('member_stays').ifExists().execute();
}
