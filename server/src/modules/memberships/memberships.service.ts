import type { Deps } from '../../lib/deps.js';
import { AppError, notFound } from '../../lib/errors.js';
import { insertEvent } from '../events/index.js';
import { findCurrentPaymentMethod, findLatestMembership, leavePaidGroups, lockMemberForMembership, setAutoRenew } from '../orders/index.js';
import { paymentProviders } from '../payments/index.js';
import type { MembershipEndReason } from '../../../../contracts/src/index.js';
import {
  findGraceDaysInUse,
  findMembershipOf,
  findMembershipsExpiringBetween,
  findMembershipsToExpire,
  insertReminderOnce,
  markMembershipCancelled,
  markMembershipEnded,
  markMembershipPaused,
  type MembershipRow,
  type MembershipState,
} from './memberships.repo.js';

const DAY = 86_400_000;

/** Days before expiry at which `membership_expiring` is recorded, largest first. */
export const REMINDER_DAYS = [7, 3, 1] as const;

/** Longest pause we accept; longer breaks are a cancellation and a new purchase. */
export const MAX_PAUSE_DAYS = 90;

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * Ends every membership whose expiry plus its community's grace window has passed (cancelled ones:
 * whose expiry has passed) and that was not renewed: `membership_expired` with the reason
 * (`cancelled`, `payment_failed` when its automatic renewal kept failing, else `not_renewed`), and
 * the member leaves the product's paid groups (`removed`, reason `membership_expired`, span closed
 * as `expired`, seat released) unless another live membership covers that group. One transaction
 * per membership; the conditional `ended_at` write makes a second run, or a concurrent one, do
 * nothing. Returns how many it ended.
 */
export async function expireMemberships(deps: Deps, batch = 500): Promise<{ expired: number; removed: number }> {
  const now = deps.clock.now().getTime();
  const at = iso(now);
  let expired = 0;
  let removed = 0;
  for (const graceDays of await findGraceDaysInUse(deps.db)) {
    const graceCutoff = iso(now - graceDays * DAY);
    for (const m of await findMembershipsToExpire(deps.db, at, graceDays, graceCutoff, batch)) {
      const reason: MembershipEndReason = m.cancelled_at ? 'cancelled' : m.past_due_since ? 'payment_failed' : 'not_renewed';
      await deps.db.transaction().execute(async (trx) => {
        await lockMemberForMembership(trx, m.member_id);
        if (!(await markMembershipEnded(trx, m.id, reason, at))) return;
        expired++;
        await insertEvent(
          trx,
          {
            community_id: m.community_id,
            type: 'membership_expired',
            occurred_at: at,
            member_id: m.member_id,
            props: { membership_id: m.id, product_id: m.product_id, expires_at: m.expires_at, cancelled: !!m.cancelled_at, reason },
          },
          at,
        );
        // A member's memberships are all of one community, so its grace window applies to them all.
        removed += await leavePaidGroups(trx, m, 'membership_expired', at, graceCutoff);
      });
    }
  }
  return { expired, removed };
}

/**
 * Records `membership_expiring` for memberships that expire within the largest reminder window.
 * A membership gets the reminder of the smallest N whose moment (expiry − N days) has passed; one it
 * reached late (bought 2 days before expiry) gets only that one, not the stale larger ones. Each
 * (membership, N) at most once, decided by the unique key of `membership_reminders`.
 */
export async function sendExpiryReminders(deps: Deps, days: readonly number[] = REMINDER_DAYS, batch = 500): Promise<number> {
  const sorted = [...days].sort((a, b) => a - b);
  const now = deps.clock.now().getTime();
  const at = iso(now);
  let sent = 0;
  for (const m of await findMembershipsExpiringBetween(deps.db, at, iso(now + sorted[sorted.length - 1]! * DAY), batch)) {
    const left = Date.parse(m.expires_at!) - now;
    const n = sorted.find((d) => left <= d * DAY);
    if (n === undefined) continue;
    await deps.db.transaction().execute(async (trx) => {
      if (!(await insertReminderOnce(trx, m.id, n, at))) return;
      sent++;
      await insertEvent(
        trx,
        { community_id: m.community_id, type: 'membership_expiring', occurred_at: at, member_id: m.member_id, props: { membership_id: m.id, product_id: m.product_id, expires_at: m.expires_at, days_before: n } },
        at,
      );
    });
  }
  return sent;
}

/** The chain's last period, which cancellation and pause act on; 404 unless it is the caller's to see. */
async function lastPeriod(deps: Deps, communityId: string, membershipId: string, memberId?: string): Promise<MembershipRow> {
  const m = await findMembershipOf(deps.db, communityId, membershipId);
  if (!m || (memberId && m.member_id !== memberId)) throw notFound('membership');
  const last = (await findLatestMembership(deps.db, m.member_id, m.product_id)) ?? m;
  if (last.ended_at || last.revoked_at) throw new AppError('membership_not_active', 409, 'The membership has already ended');
  if (last.expires_at === null) throw new AppError('membership_not_active', 409, 'A permanent membership has no period to cancel or pause');
  return last;
}

/**
 * Cancels at period end: access stays until the current expiry, after which the membership ends
 * without the grace window (`membership_cancelled` now, `membership_expired` then), and automatic
 * renewal stops. Idempotent: cancelling again returns the same membership.
 */
export async function cancelMembership(deps: Deps, communityId: string, memberId: string, membershipId: string, reason: string) {
  const at = deps.clock.now().toISOString();
  const last = await lastPeriod(deps, communityId, membershipId, memberId);
  await deps.db.transaction().execute(async (trx) => {
    await lockMemberForMembership(trx, memberId);
    if (!(await markMembershipCancelled(trx, last.id, reason, at))) return;
    await setAutoRenew(trx, { community_id: communityId, member_id: memberId, product_id: last.product_id }, false, 'cancelled', at, last.id);
    await insertEvent(
      trx,
      { community_id: communityId, type: 'membership_cancelled', occurred_at: at, member_id: memberId, props: { membership_id: last.id, product_id: last.product_id, expires_at: last.expires_at, reason } },
      at,
    );
  });
  return (await findMembershipOf(deps.db, communityId, last.id))!;
}

/**
 * Pauses from now until `until`: the paused time is added to the expiry at once (so nothing has to
 * run on resume), and while paused the membership does not count as live access. A membership can
 * be paused again only after the previous pause ended.
 */
export async function pauseMembership(deps: Deps, communityId: string, membershipId: string, until: string, by: { memberId?: string; userId?: string }) {
  const now = deps.clock.now().getTime();
  const at = iso(now);
  const end = Date.parse(until);
  if (!(end > now)) throw new AppError('validation_failed', 400, 'A pause ends in the future', [{ field: 'until', message: 'must be later than now' }]);
  if (end - now > MAX_PAUSE_DAYS * DAY) throw new AppError('validation_failed', 400, `A pause lasts at most ${MAX_PAUSE_DAYS} days`, [{ field: 'until', message: `at most ${MAX_PAUSE_DAYS} days from now` }]);
  const last = await lastPeriod(deps, communityId, membershipId, by.memberId);
  if (last.cancelled_at) throw new AppError('membership_not_active', 409, 'A cancelled membership cannot be paused');
  // A period that has run out (in grace, or past it) is renewed, not paused: a pause would add time nobody paid for.
  if (Date.parse(last.expires_at!) <= now) throw new AppError('membership_not_active', 409, 'The membership has run out: renew it instead');
  // The pause is kept on the chain's last period; while a renewal paid ahead waits to begin, the
  // running period would keep its access and the pause would only add time at the end.
  if (last.starts_at > at) throw new AppError('membership_renewal_pending', 409, `A renewal is paid ahead from ${last.starts_at}; pause once it has begun`);
  const untilIso = iso(end);
  const expiresAt = iso(Date.parse(last.expires_at!) + (end - now));
  await deps.db.transaction().execute(async (trx) => {
    await lockMemberForMembership(trx, last.member_id);
    if (!(await markMembershipPaused(trx, last.id, at, untilIso, last.expires_at!, expiresAt))) throw new AppError('membership_paused', 409, 'The membership is already paused');
    await insertEvent(
      trx,
      {
        community_id: communityId,
        type: 'membership_paused',
        occurred_at: at,
        member_id: last.member_id,
        actor_user_id: by.userId ?? null,
        props: { membership_id: last.id, product_id: last.product_id, paused_until: untilIso, expires_at_before: last.expires_at, expires_at: expiresAt },
      },
      at,
    );
  });
  return (await findMembershipOf(deps.db, communityId, last.id))!;
}

/**
 * The member turns automatic renewal of the chain on or off. Turning it on needs a saved payment
 * method that its provider can charge, and a membership that is not cancelled.
 */
export async function setMembershipAutoRenew(deps: Deps, communityId: string, memberId: string, membershipId: string, enabled: boolean) {
  const at = deps.clock.now().toISOString();
  const last = await lastPeriod(deps, communityId, membershipId, memberId);
  if (enabled) {
    if (last.cancelled_at) throw new AppError('membership_not_active', 409, 'A membership cancelled at period end does not renew');
    const method = await findCurrentPaymentMethod(deps.db, memberId);
    if (!method || !paymentProviders(deps.config).get(method.provider)?.chargeSaved) {
      throw new AppError('payment_method_required', 409, 'Pay once with a saved payment method to renew automatically');
    }
  }
  await deps.db.transaction().execute(async (trx) => {
    await lockMemberForMembership(trx, memberId);
    await setAutoRenew(trx, { community_id: communityId, member_id: memberId, product_id: last.product_id }, enabled, 'member', at, last.id);
  });
  return (await findMembershipOf(deps.db, communityId, last.id))!;
}

/** Wire shape of a membership and its lifecycle state. */
export function presentMembershipState(m: MembershipState, now: Date) {
  const at = now.toISOString();
  const paused = !!m.paused_at && !!m.paused_until && m.paused_at <= at && at < m.paused_until;
  const active = !m.revoked_at && !m.ended_at && m.starts_at <= at && (m.expires_at === null || at < m.expires_at) && !paused;
  return {
    id: m.id,
    member_id: m.member_id,
    product_id: m.product_id,
    source: m.source,
    starts_at: m.starts_at,
    expires_at: m.expires_at,
    active,
    cancelled_at: m.cancelled_at,
    cancel_reason: m.cancel_reason,
    paused_until: m.paused_until,
    ended_at: m.ended_at,
    end_reason: m.end_reason as MembershipEndReason | null,
    auto_renew: m.auto_renew === 1,
    past_due: !!m.past_due_since && !m.ended_at && !m.revoked_at,
    past_due_since: m.past_due_since,
  };
}
