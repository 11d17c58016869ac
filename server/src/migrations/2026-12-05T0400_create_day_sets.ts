import { sql, type Kysely } from 'kysely';
import { bigType, isPg, tsType } from './helpers.js';

/**
 * Per-day member sets, so distinct-member counts over any run of days need no row scan (issue 5,
 * KPI latency computed afresh):
 * - `member_ordinals`: a dense number per member of a community (1, 2, …), assigned once and never
 *   reused, that the sets are indexed by;
 * - `analytics_day_sets`: one set per community, local day and kind (active, payers, stay starts,
 *   referred stay starts, members at the day's local midnight), stored as a bitset or a sorted list
 *   of ordinals, whichever is smaller (rollups/day-sets.ts).
 * - `membership_renewals`: each live order membership with an end, and whether it was renewed
 *   (another live membership of the same member and product created after it and by its end plus
 *   the community's grace days);
 * - `trial_orders`: each paid order of a trial product, and whether the member paid for the full
 *   product within the conversion window after it;
 * - `analytics_flow_days` gains the day's GMV and refunds in the community currency, and the
 *   memberships ending that day and renewed among them (`refunds_settled_idx` finds a day's refunds).
 * Derived and rebuildable: existing communities are marked for a full rebuild, which fills them.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('member_ordinals')
    .ifNotExists()
    .addColumn('community_id', 'text', (c) => c.notNull())
    .addColumn('member_id', 'text', (c) => c.notNull())
    .addColumn('n', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('member_ordinals_pk', ['community_id', 'member_id'])
    .execute();
  await db.schema.createIndex('member_ordinals_n_idx').ifNotExists().unique().on('member_ordinals').columns(['community_id', 'n']).execute();
  await db.schema
    .createTable('analytics_day_sets')
    .ifNotExists()
    .addColumn('community_id', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('day', 'text', (c) => c.notNull())
    .addColumn('members', 'integer', (c) => c.notNull())
    .addColumn('bits', isPg(db) ? 'bytea' : 'blob', (c) => c.notNull())
    .addPrimaryKeyConstraint('analytics_day_sets_pk', ['community_id', 'kind', 'day'])
    .execute();
  const ts = tsType(db);
  await db.schema
    .createTable('membership_renewals')
    .ifNotExists()
    .addColumn('community_id', 'text', (c) => c.notNull())
    .addColumn('membership_id', 'text', (c) => c.notNull())
    .addColumn('member_id', 'text', (c) => c.notNull())
    .addColumn('expires_at', ts, (c) => c.notNull())
    .addColumn('renewed', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('membership_renewals_pk', ['community_id', 'membership_id'])
    .execute();
  await db.schema.createIndex('membership_renewals_member_idx').ifNotExists().on('membership_renewals').columns(['community_id', 'member_id']).execute();
  await db.schema.createIndex('membership_renewals_expiry_idx').ifNotExists().on('membership_renewals').columns(['community_id', 'expires_at']).execute();
  await db.schema
    .createTable('trial_orders')
    .ifNotExists()
    .addColumn('community_id', 'text', (c) => c.notNull())
    .addColumn('order_id', 'text', (c) => c.notNull())
    .addColumn('member_id', 'text', (c) => c.notNull())
    .addColumn('product_id', 'text', (c) => c.notNull())
    .addColumn('paid_at', ts, (c) => c.notNull())
    .addColumn('converted', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('trial_orders_pk', ['community_id', 'order_id'])
    .execute();
  await db.schema.createIndex('trial_orders_member_idx').ifNotExists().on('trial_orders').columns(['community_id', 'member_id']).execute();
  await db.schema.createIndex('trial_orders_paid_idx').ifNotExists().on('trial_orders').columns(['community_id', 'paid_at', 'member_id', 'product_id', 'converted']).execute();
  await db.schema.createIndex('refunds_settled_idx').ifNotExists().on('refunds').columns(['community_id', 'settled_at']).execute();
  const big = bigType(db);
  for (const column of ['gmv_minor', 'refunds_minor', 'expiring', 'renewed']) {
    await db.schema.alterTable('analytics_flow_days').addColumn(column, big, (c) => c.notNull().defaultTo(0)).execute();
  }
  await sql`INSERT INTO analytics_dirty (community_id, hour, tx) SELECT id, '*', 0 FROM communities`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const column of ['gmv_minor', 'refunds_minor', 'expiring', 'renewed']) await db.schema.alterTable('analytics_flow_days').dropColumn(column).execute();
  await db.schema.dropIndex('refunds_settled_idx').ifExists().execute();
  await db.schema.dropTable('trial_orders').ifExists().execute();
  await db.schema.dropTable('membership_renewals').ifExists().execute();
  await db.schema.dropTable('analytics_day_sets').ifExists().execute();
  await db.schema.dropTable('member_ordinals').ifExists().execute();
}
