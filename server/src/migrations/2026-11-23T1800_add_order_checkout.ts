import type { Kysely } from 'kysely';
import { hasColumn } from './helpers.js';

/**
 * The checkout a provider started for an order: `checkout_kind` `redirect` (open `checkout_url`)
 * or `qr` (show `checkout_url`, a code URL, as a QR code); `checkout_ref` is the provider's id of
 * it (a Stripe Checkout Session), apart from `provider_ref`, the payment. All null while no
 * checkout was started (the provider failed; a retry of the request starts one).
 */
export async function up(db: Kysely<any>): Promise<void> {
  for (const column of ['checkout_kind', 'checkout_url', 'checkout_ref']) {
    if (!(await hasColumn(db, 'orders', column))) await db.schema.alterTable('orders').addColumn(column, 'text').execute();
  }
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const column of ['checkout_ref', 'checkout_url', 'checkout_kind']) await db.schema.alterTable('orders').dropColumn(column).execute();
}
