import type { z } from 'zod';
import type { OrderOut, OrderStatus, RefundOut, RefundStatus } from '../../../../contracts/src/index.js';
import type { Deps } from '../../lib/deps.js';
import { testCheckoutUrl } from '../payments/index.js';
import type { OrderRow, RefundRow } from './orders.repo.js';

export const checkoutUrl = (deps: Deps, orderId: string) => testCheckoutUrl(deps.config.publicUrl, deps.config.secret, orderId);

/**
 * Where the member pays a pending order. The pay link is derived from the install (so it follows
 * `YUTANG_PUBLIC_URL` and serves orders from before checkouts were stored): the test provider's page,
 * and for a real provider's order without a checkout yet the link that starts one; otherwise what
 * the provider returned.
 */
function checkoutOf(deps: Deps, o: OrderRow): { checkout_url: string | null; checkout_qr: string | null } {
  if (o.status !== 'pending') return { checkout_url: null, checkout_qr: null };
  // The test provider's page, and the pay link of an order whose provider has no checkout for it yet.
  if (o.provider === 'test' || !o.checkout_kind) return { checkout_url: checkoutUrl(deps, o.id), checkout_qr: null };
  return { checkout_url: o.checkout_kind === 'redirect' ? o.checkout_url : null, checkout_qr: o.checkout_kind === 'qr' ? o.checkout_url : null };
}

export const presentOrder = (deps: Deps, o: OrderRow): z.infer<typeof OrderOut> => ({
  id: o.id,
  community_id: o.community_id,
  member_id: o.member_id,
  product_id: o.product_id,
  status: o.status as OrderStatus,
  amount_minor: Number(o.amount_minor),
  refunded_minor: Number(o.refunded_minor),
  refund_pending_minor: Number(o.refund_pending_minor),
  credit_minor: Number(o.credit_minor),
  currency: o.currency,
  provider: o.provider,
  provider_ref: o.provider_ref,
  membership_id: o.membership_id,
  upgrade_from_membership_id: o.upgrade_from_membership_id,
  duplicate_of_order_id: o.duplicate_of_order_id,
  paid_at: o.paid_at,
  cancelled_at: o.cancelled_at,
  created_at: o.created_at,
  ...checkoutOf(deps, o),
});

export const presentRefund = (r: RefundRow): z.infer<typeof RefundOut> => ({
  id: r.id,
  order_id: r.order_id,
  amount_minor: Number(r.amount_minor),
  currency: r.currency,
  reason: r.reason,
  status: r.status as RefundStatus,
  failure_reason: r.failure_reason,
  created_at: r.created_at,
  settled_at: r.settled_at,
});
