import type { Kysely } from 'kysely';
import { tsType } from './helpers.js';

/**
 * Payment methods members saved at a provider for later charges (automatic renewal). We keep only
 * the provider's reference, never card data. Saving the same method again refreshes `updated_at`,
 * which makes it the member's current one; a method the provider refuses for good is revoked.
 */
export async function up(db: Kysely<any>): Promise<void> {
  const ts = tsType(db);
  await db.schema
    .createTable('member_payment_methods')
    .ifNotExists()
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('community_id', 'text', (c) => c.notNull().references('communities.id').onDelete('cascade'))
    .addColumn('member_id', 'text', (c) => c.notNull().references('members.id').onDelete('cascade'))
    .addColumn('provider', 'text', (c) => c.notNull())
    .addColumn('ref', 'text', (c) => c.notNull())
    .addColumn('created_at', ts, (c) => c.notNull())
    .addColumn('updated_at', ts, (c) => c.notNull())
    .addColumn('revoked_at', ts)
    .addColumn('revoke_reason', 'text')
    .execute();
  await db.schema.createIndex('member_payment_methods_ref_idx').ifNotExists().unique().on('member_payment_methods').columns(['member_id', 'provider', 'ref']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('member_payment_methods').ifExists().execute();
}
