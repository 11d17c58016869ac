import type { Deps } from '../../lib/deps.js';
import { AppError, notFound } from '../../lib/errors.js';
import { createOrder } from './orders.service.js';
import { findLiveChain, findMembershipInCommunity, findPeriodPrices, findProduct } from './orders.repo.js';

/** One period of a chain as far as credit goes: its span and what was paid for it. */
export interface PricedPeriod {
  starts_at: string;
  expires_at: string | null;
  paid_minor: number;
}

/**
 * The unused, paid-for part of a chain at `now`: for each period, what was paid for it × the part
 * of it still to run ÷ its length (a period still to come counts in full, a permanent one is never
 * used up). Summed as an exact fraction in integers and rounded down once, so the member is never
 * credited a fen more than they paid for.
 */
export function unusedCredit(periods: PricedPeriod[], now: number): number {
  let num = 0n;
  let den = 1n;
  for (const p of periods) {
    const paid = BigInt(Math.max(0, p.paid_minor));
    if (p.expires_at === null) {
      num += paid * den;
      continue;
    }
    const start = Date.parse(p.starts_at);
    const end = Date.parse(p.expires_at);
    const length = end - start;
    if (length <= 0) continue;
    const left = Math.min(length, Math.max(0, end - Math.max(now, start)));
    num = num * BigInt(length) + paid * BigInt(left) * den;
    den *= BigInt(length);
  }
  return Number(num / den);
}

/**
 * Creates the order that replaces a membership's chain by another membership product of the
 * community: the target's price less the chain's unused credit (never below zero; a credit larger
 * than the price is not paid out). Paying it ends the old chain and starts the new membership now;
 * an order with nothing to pay is paid at once. `memberId` limits it to the member's own memberships.
 */
export async function upgradeMembership(deps: Deps, communityId: string, membershipId: string, productId: string, key: string, memberId?: string) {
  const from = await findMembershipInCommunity(deps.db, communityId, membershipId);
  if (!from || (memberId && from.member_id !== memberId)) throw notFound('membership');
  const target = await findProduct(deps.db, communityId, productId);
  if (!target) throw new AppError('product_not_found', 404, 'product not found', [{ field: 'product_id', message: 'no such product in this community' }]);
  if (target.type !== 'membership') throw new AppError('membership_not_upgradable', 409, 'A membership can only be replaced by another membership product');
  if (target.id === from.product_id) throw new AppError('membership_not_upgradable', 409, 'This is the membership’s own product: renew it instead');
  const now = deps.clock.now();
  const chain = await findLiveChain(deps.db, from.member_id, from.product_id, now.toISOString());
  if (!chain.length) throw new AppError('membership_not_active', 409, 'The membership has already ended');
  const prices = new Map((await findPeriodPrices(deps.db, chain.flatMap((m) => (m.order_id ? [m.order_id] : [])))).map((r) => [r.id, Number(r.paid_minor)]));
  // A period granted by staff was not paid for: it earns no credit.
  const credit = unusedCredit(
    chain.map((m) => ({ starts_at: m.starts_at, expires_at: m.expires_at, paid_minor: (m.order_id && prices.get(m.order_id)) || 0 })),
    now.getTime(),
  );
  return createOrder(deps, communityId, from.member_id, { product_id: target.id }, key, { fromMembershipId: from.id, creditMinor: credit });
}
