import type { Trx } from '../../db/kysely.js';
import { insertEvent } from '../events/index.js';
import type { OrderRow } from './orders.repo.js';
import { disableChainAutoRenew, enableChainAutoRenew, upsertPaymentMethod, type ChainKey } from './renewals.repo.js';

/** Why automatic renewal changed, as recorded on `membership_auto_renew_changed`. */
export type AutoRenewCause = 'payment_method_saved' | 'member' | 'cancelled';

/**
 * Turns a chain's automatic renewal on or off and records `membership_auto_renew_changed` when
 * that changed something; a second call with the same value records nothing.
 */
export async function setAutoRenew(trx: Trx, chain: ChainKey, enabled: boolean, cause: AutoRenewCause, at: string, membershipId: string | null): Promise<boolean> {
  const changed = enabled ? await enableChainAutoRenew(trx, chain, at) : await disableChainAutoRenew(trx, chain, at);
  if (changed) {
    await insertEvent(
      trx,
      { community_id: chain.community_id, type: 'membership_auto_renew_changed', occurred_at: at, member_id: chain.member_id, props: { membership_id: membershipId, product_id: chain.product_id, enabled, cause } },
      at,
    );
  }
  return changed;
}

/**
 * A payment that saved its method: the method is kept for the member (and becomes the one renewals
 * charge), and a membership's chain starts renewing automatically with it.
 */
export async function keepPaymentMethod(trx: Trx, order: OrderRow, ref: string, membershipId: string | null, at: string): Promise<void> {
  if (await upsertPaymentMethod(trx, { community_id: order.community_id, member_id: order.member_id, provider: order.provider, ref }, at)) {
    await insertEvent(trx, { community_id: order.community_id, type: 'payment_method_saved', occurred_at: at, member_id: order.member_id, props: { order_id: order.id, provider: order.provider } }, at);
  }
  if (membershipId) await setAutoRenew(trx, { community_id: order.community_id, member_id: order.member_id, product_id: order.product_id }, true, 'payment_method_saved', at, membershipId);
}
