import { sql, type Kysely } from 'kysely';
import { bigType, tsType } from './helpers.js';

/**
 * Orders and their refunds. An order buys one unit of one product; its total is copied from the
 * product when it is created. `idempotency_key` is unique per member, so a retried request finds
 * the order it created; `request_hash` tells a retry from a different request reusing the key.
 */
export async function up(db: Kysely<any>): Promise<void> {
  const ts = tsType(db);
  const money = bigType(db);
  await db.schema
    .createTable('orders')
    .ifNotExists()
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('community_id', 'text', (c) => c.notNull().references('communities.id').onDelete('cascade'))
    .addColumn('member_id', 'text', (c) => c.notNull().references('members.id').onDelete('cascade'))
    .addColumn('product_id', 'text', (c) => c.notNull().references('products.id'))
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('amount_minor', money, (c) => c.notNull())
    .addColumn('refunded_minor', money, (c) => c.notNull().defaultTo(0))
    .addColumn('currency', 'text', (c) => c.notNull())
    .addColumn('idempotency_key', 'text', (c) => c.notNull())
    .addColumn('request_hash', 'text', (c) => c.notNull())
    .addColumn('provider', 'text', (c) => c.notNull())
    .addColumn('provider_ref', 'text')
    .addColumn('checkout_token_hash', 'text', (c) => c.notNull().unique())
    .addColumn('stock_reserved', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('membership_id', 'text')
    .addColumn('paid_at', ts)
    .addColumn('cancelled_at', ts)
    .addColumn('cancel_reason', 'text')
    .addColumn('created_at', ts, (c) => c.notNull())
    .addColumn('updated_at', ts, (c) => c.notNull())
    .addCheckConstraint('orders_amounts_check', sql`amount_minor >= 0 and refunded_minor >= 0 and refunded_minor <= amount_minor`)
    .execute();
  await db.schema
    .createIndex('orders_idempotency_idx')
    .ifNotExists()
    .unique()
    .on('orders')
    .columns(['community_id', 'member_id', 'idempotency_key'])
    .execute();
  await db.schema.createIndex('orders_provider_ref_idx').ifNotExists().unique().on('orders').columns(['provider', 'provider_ref']).execute();
  await db.schema.createIndex('orders_community_idx').ifNotExists().on('orders').columns(['community_id', 'created_at']).execute();
  await db.schema.createIndex('orders_member_idx').ifNotExists().on('orders').columns(['member_id', 'created_at']).execute();

  await db.schema
    .createTable('refunds')
    .ifNotExists()
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('community_id', 'text', (c) => c.notNull().references('communities.id').onDelete('cascade'))
    .addColumn('order_id', 'text', (c) => c.notNull().references('orders.id').onDelete('cascade'))
    .addColumn('amount_minor', money, (c) => c.notNull())
    .addColumn('currency', 'text', (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('idempotency_key', 'text')
    .addColumn('request_hash', 'text')
    .addColumn('provider_ref', 'text')
    .addColumn('actor_user_id', 'text')
    .addColumn('created_at', ts, (c) => c.notNull())
    .addCheckConstraint('refunds_amount_check', sql`amount_minor > 0`)
    .execute();
  await db.schema.createIndex('refunds_idempotency_idx').ifNotExists().unique().on('refunds').columns(['order_id', 'idempotency_key']).execute();
  await db.schema.createIndex('refunds_provider_ref_idx').ifNotExists().unique().on('refunds').columns(['order_id', 'provider_ref']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('refunds').ifExists().execute();
  await db.schema.dropTable('orders').ifExists().execute();
}
