import { sql, type Kysely } from 'kysely';
import { bigType, emptyJsonArray, emptyJsonObject, jsonType, tsType } from './helpers.js';

export async function up(db: Kysely<any>): Promise<void> {
  const ts = tsType(db);
  const json = jsonType(db);

  await db.schema
    .createTable('communities')
    .ifNotExists()
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('workspace_id', 'text', (c) => c.notNull().references('workspaces.id').onDelete('cascade'))
    .addColumn('slug', 'text', (c) => c.notNull().unique())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('value_proposition', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('values', json, (c) => c.notNull().defaultTo(emptyJsonArray(db)))
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('monetization_modes', json, (c) => c.notNull().defaultTo(emptyJsonArray(db)))
    .addColumn('time_zone', 'text', (c) => c.notNull())
    .addColumn('currency', 'text', (c) => c.notNull())
    .addColumn('rules', json, (c) => c.notNull().defaultTo(emptyJsonObject(db)))
    .addColumn('threshold', json, (c) => c.notNull().defaultTo(emptyJsonObject(db)))
    .addColumn('is_demo', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', ts, (c) => c.notNull())
    .addColumn('updated_at', ts, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('communities_workspace_idx').ifNotExists().on('communities').column('workspace_id').execute();

  await db.schema
    .createTable('community_roles')
    .ifNotExists()
    .addColumn('community_id', 'text', (c) => c.notNull().references('communities.id').onDelete('cascade'))
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('role', 'text', (c) => c.notNull())
    .addColumn('created_at', ts, (c) => c.notNull())
    .addPrimaryKeyConstraint('community_roles_pk', ['community_id', 'user_id'])
    .execute();
  await db.schema.createIndex('community_roles_user_idx').ifNotExists().on('community_roles').column('user_id').execute();

  await db.schema
    .createTable('groups')
    .ifNotExists()
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('community_id', 'text', (c) => c.notNull().references('communities.id').onDelete('cascade'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('tags', json, (c) => c.notNull().defaultTo(emptyJsonObject(db)))
    .addColumn('capacity', 'integer', (c) => c.notNull())
    .addColumn('seated_count', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('monitor_user_id', 'text', (c) => c.references('users.id').onDelete('set null'))
    .addColumn('leader_user_id', 'text', (c) => c.references('users.id').onDelete('set null'))
    .addColumn('threshold', json)
    .addColumn('created_from_link_id', 'text')
    .addColumn('created_at', ts, (c) => c.notNull())
    .addColumn('updated_at', ts, (c) => c.notNull())
    .addCheckConstraint('groups_seats_check', sql`seated_count >= 0 and seated_count <= capacity`)
    .execute();
  await db.schema.createIndex('groups_community_idx').ifNotExists().on('groups').columns(['community_id', 'created_at']).execute();

  await db.schema
    .createTable('entry_links')
    .ifNotExists()
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('community_id', 'text', (c) => c.notNull().references('communities.id').onDelete('cascade'))
    .addColumn('code', 'text', (c) => c.notNull().unique())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('channel', 'text', (c) => c.notNull())
    .addColumn('owner_user_id', 'text', (c) => c.references('users.id').onDelete('set null'))
    .addColumn('owner_member_id', 'text')
    .addColumn('group_ids', json, (c) => c.notNull().defaultTo(emptyJsonArray(db)))
    .addColumn('overflow_template', json)
    .addColumn('segment_rules', json, (c) => c.notNull().defaultTo(emptyJsonArray(db)))
    .addColumn('expires_at', ts)
    .addColumn('max_uses', 'integer')
    .addColumn('uses', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('visits', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('created_at', ts, (c) => c.notNull())
    .addColumn('updated_at', ts, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('entry_links_community_idx').ifNotExists().on('entry_links').column('community_id').execute();
  await db.schema.createIndex('entry_links_owner_member_idx').ifNotExists().on('entry_links').column('owner_member_id').execute();

  await db.schema
    .createTable('members')
    .ifNotExists()
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('community_id', 'text', (c) => c.notNull().references('communities.id').onDelete('cascade'))
    .addColumn('external_id', 'text')
    .addColumn('display_name', 'text', (c) => c.notNull())
    .addColumn('nickname', 'text')
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('profile', json, (c) => c.notNull().defaultTo(emptyJsonObject(db)))
    .addColumn('token_hash', 'text', (c) => c.notNull().unique())
    .addColumn('entry_link_id', 'text')
    .addColumn('channel', 'text')
    .addColumn('referrer_member_id', 'text')
    .addColumn('current_group_id', 'text')
    .addColumn('introduction', 'text')
    .addColumn('rules_accepted_at', ts)
    .addColumn('introduced_at', ts)
    .addColumn('onboarded_at', ts)
    .addColumn('first_joined_at', ts)
    .addColumn('last_joined_at', ts)
    .addColumn('left_at', ts)
    .addColumn('removal_reason', 'text')
    .addColumn('banned', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', ts, (c) => c.notNull())
    .addColumn('updated_at', ts, (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('members_external_idx')
    .ifNotExists()
    .unique()
    .on('members')
    .columns(['community_id', 'external_id'])
    .execute();
  await db.schema.createIndex('members_community_status_idx').ifNotExists().on('members').columns(['community_id', 'status']).execute();
  await db.schema.createIndex('members_referrer_idx').ifNotExists().on('members').columns(['community_id', 'referrer_member_id']).execute();

  // One row per stay in a group: the membership spans that PRODUCT.md's "member at t" is defined over.
  await db.schema
    .createTable('member_spans')
    .ifNotExists()
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('community_id', 'text', (c) => c.notNull().references('communities.id').onDelete('cascade'))
    .addColumn('member_id', 'text', (c) => c.notNull().references('members.id').onDelete('cascade'))
    .addColumn('group_id', 'text', (c) => c.notNull().references('groups.id').onDelete('cascade'))
    .addColumn('entry_link_id', 'text')
    .addColumn('referrer_member_id', 'text')
    .addColumn('joined_at', ts, (c) => c.notNull())
    .addColumn('left_at', ts)
    .addColumn('left_kind', 'text')
    .execute();
  await db.schema.createIndex('member_spans_member_idx').ifNotExists().on('member_spans').columns(['member_id', 'left_at']).execute();
  await db.schema.createIndex('member_spans_group_idx').ifNotExists().on('member_spans').columns(['group_id', 'left_at']).execute();
  await db.schema.createIndex('member_spans_community_idx').ifNotExists().on('member_spans').columns(['community_id', 'joined_at']).execute();

  await db.schema
    .createTable('applications')
    .ifNotExists()
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('community_id', 'text', (c) => c.notNull().references('communities.id').onDelete('cascade'))
    .addColumn('member_id', 'text', (c) => c.notNull().references('members.id').onDelete('cascade'))
    .addColumn('entry_link_id', 'text')
    .addColumn('threshold', json, (c) => c.notNull())
    .addColumn('answers', json, (c) => c.notNull().defaultTo(emptyJsonObject(db)))
    .addColumn('reviews', json, (c) => c.notNull().defaultTo(emptyJsonObject(db)))
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('created_at', ts, (c) => c.notNull())
    .addColumn('updated_at', ts, (c) => c.notNull())
    .addColumn('decided_at', ts)
    .execute();
  await db.schema.createIndex('applications_community_status_idx').ifNotExists().on('applications').columns(['community_id', 'status']).execute();
  await db.schema.createIndex('applications_member_idx').ifNotExists().on('applications').columns(['member_id', 'status']).execute();

  await db.schema
    .createTable('products')
    .ifNotExists()
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('community_id', 'text', (c) => c.notNull().references('communities.id').onDelete('cascade'))
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('price_minor', bigType(db), (c) => c.notNull())
    .addColumn('currency', 'text', (c) => c.notNull())
    .addColumn('term', 'text')
    .addColumn('term_days', 'integer')
    .addColumn('group_ids', json, (c) => c.notNull().defaultTo(emptyJsonArray(db)))
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('created_at', ts, (c) => c.notNull())
    .addColumn('updated_at', ts, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('products_community_idx').ifNotExists().on('products').column('community_id').execute();

  await db.schema
    .createTable('memberships')
    .ifNotExists()
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('community_id', 'text', (c) => c.notNull().references('communities.id').onDelete('cascade'))
    .addColumn('member_id', 'text', (c) => c.notNull().references('members.id').onDelete('cascade'))
    .addColumn('product_id', 'text', (c) => c.notNull().references('products.id'))
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('granted_by_user_id', 'text')
    .addColumn('starts_at', ts, (c) => c.notNull())
    .addColumn('expires_at', ts)
    .addColumn('created_at', ts, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('memberships_member_idx').ifNotExists().on('memberships').columns(['member_id', 'product_id']).execute();

  await db.schema
    .createTable('api_keys')
    .ifNotExists()
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('community_id', 'text', (c) => c.notNull().references('communities.id').onDelete('cascade'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('key_hash', 'text', (c) => c.notNull().unique())
    .addColumn('prefix', 'text', (c) => c.notNull())
    .addColumn('scopes', json, (c) => c.notNull())
    .addColumn('created_by_user_id', 'text')
    .addColumn('created_at', ts, (c) => c.notNull())
    .addColumn('last_used_at', ts)
    .addColumn('revoked_at', ts)
    .execute();
  await db.schema.createIndex('api_keys_community_idx').ifNotExists().on('api_keys').column('community_id').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const t of [
    'api_keys',
    'memberships',
    'products',
    'applications',
    'member_spans',
    'members',
    'entry_links',
    'groups',
    'community_roles',
    'communities',
  ]) {
    await db.schema.dropTable(t).ifExists().execute();
  }
}
