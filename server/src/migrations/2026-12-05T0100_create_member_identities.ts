import type { Kysely } from 'kysely';
import { jsonType, tsType } from './helpers.js';

/**
 * How a platform names a member (Telegram `user123`, a WeChat wxid, a WhatsApp name): imports map
 * every person to a member through this table, so one person under several names or in several
 * chats of a platform is one member. Operators merge and split identities between members.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('member_identities')
    .ifNotExists()
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('community_id', 'text', (c) => c.notNull().references('communities.id').onDelete('cascade'))
    .addColumn('platform', 'text', (c) => c.notNull())
    .addColumn('external_id', 'text', (c) => c.notNull())
    .addColumn('member_id', 'text', (c) => c.notNull().references('members.id').onDelete('cascade'))
    .addColumn('display_names', jsonType(db), (c) => c.notNull())
    .addColumn('first_seen_at', tsType(db), (c) => c.notNull())
    .addColumn('last_seen_at', tsType(db), (c) => c.notNull())
    .addUniqueConstraint('member_identities_key', ['community_id', 'platform', 'external_id'])
    .execute();
  await db.schema.createIndex('member_identities_member_idx').ifNotExists().on('member_identities').columns(['member_id']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('member_identities').ifExists().execute();
}
