import type { Insertable } from 'kysely';
import type { OrdersTable } from '../../db/types.js';
import { sha256 } from '../../lib/hash.js';
import { checkoutToken } from '../payments/index.js';

type OrderFields = Pick<Insertable<OrdersTable>, 'id' | 'community_id' | 'member_id' | 'product_id' | 'amount_minor' | 'currency' | 'idempotency_key' | 'request_hash' | 'provider'> &
  Partial<Pick<Insertable<OrdersTable>, 'allow_duplicate' | 'credit_minor' | 'upgrade_from_membership_id' | 'renews_membership_id' | 'pay_until'>>;

/**
 * A new order row: pending, unpaid, and reachable by its pay link (the order keeps the SHA-256 of
 * its checkout token, never the token). Orders from the API and the renewal orders the jobs open
 * both start so.
 */
export const newOrderRow = (secret: string, at: string, o: OrderFields): Insertable<OrdersTable> => ({
  ...o,
  status: 'pending',
  provider_ref: null,
  checkout_token_hash: sha256(checkoutToken(secret, String(o.id))),
  membership_id: null,
  paid_at: null,
  cancelled_at: null,
  cancel_reason: null,
  created_at: at,
  updated_at: at,
});
