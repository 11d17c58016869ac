import type { Deps } from '../../lib/deps.js';
import { AppError, notFound } from '../../lib/errors.js';
import { insertEvent } from '../events/index.js';
import { releaseSeat } from '../groups/index.js';
import { RENEWAL_GRACE_DAYS, findLatestMembership } from '../orders/index.js';
import {
  findMembershipOf,
  findMembershipsExpiringBetween,
  findMembershipsToExpire,
  findProductGroups,
  groupsCoveredByOtherMemberships,
  insertReminderOnce,
  lockMember,
  markMembershipCancelled,
  markMembershipEnded,
  markMembershipPaused,
  removeFromGroup,
  type MembershipRow,
} from './memberships.repo.js';

const DAY = 86_400_000;

/** Days before expiry at which `membership_expiring` is recorded, largest first. */
export const REMINDER_DAYS = [7, 3, 1] as const;

/** Longest pause we accept; longer breaks are a cancellation and a new purchase. */
export const MAX_PAUSE_DAYS = 90;

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * Ends every membership whose expiry plus the grace window has passed (cancelled ones: whose expiry
 * has passed) and that was not renewed: `membership_expired`, and the member leaves the product's
 * paid groups (`removed`, reason `membership_expired`, span closed as `expired`, seat released)
 * unless another live membership covers that group. One transaction per membership; the conditional
 * `ended_at` write makes a second run, or a concurrent one, do nothing. Returns how many it ended.
 */
export async function expireMemberships(deps: Deps, batch = 500): Promise<{ expired: number; removed: number }> {
  const now = deps.clock.now().getTime();
  const at = iso(now);
  const graceCutoff = iso(now - RENEWAL_GRACE_DAYS * DAY);
  let expired = 0;
  let removed = 0;
  for (const m of await findMembershipsToExpire(deps.db, at, graceCutoff, batch)) {
    await deps.db.transaction().execute(async (trx) => {
      await lockMember(trx, m.member_id);
      if (!(await markMembershipEnded(trx, m.id, at))) return;
      expired++;
      await insertEvent(
        trx,
        {
          community_id: m.community_id,
          type: 'membership_expired',
          occurred_at: at,
          member_id: m.member_id,
          props: { membership_id: m.id, product_id: m.product_id, expires_at: m.expires_at, cancelled: !!m.cancelled_at },
        },
        at,
      );
      const covered = await groupsCoveredByOtherMemberships(trx, m.member_id, m.id, at, graceCutoff);
      for (const groupId of await findProductGroups(trx, m.product_id)) {
        if (covered.has(groupId)) continue;
        if (!(await removeFromGroup(trx, m.member_id, groupId, 'membership_expired', at))) continue;
        await releaseSeat(trx, groupId, at);
        removed++;
        await insertEvent(
          trx,
          { community_id: m.community_id, type: 'removed', occurred_at: at, member_id: m.member_id, group_id: groupId, props: { reason: 'membership_expired', membership_id: m.id } },
          at,
        );
      }
    });
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
 * without the grace window (`membership_cancelled` now, `membership_expired` then). Idempotent:
 * cancelling again returns the same membership.
 */
export async function cancelMembership(deps: Deps, communityId: string, memberId: string, membershipId: string, reason: string) {
  const at = deps.clock.now().toISOString();
  const last = await lastPeriod(deps, communityId, membershipId, memberId);
  await deps.db.transaction().execute(async (trx) => {
    await lockMember(trx, memberId);
    if (!(await markMembershipCancelled(trx, last.id, reason, at))) return;
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
  const untilIso = iso(end);
  const expiresAt = iso(Date.parse(last.expires_at!) + (end - now));
  await deps.db.transaction().execute(async (trx) => {
    await lockMember(trx, last.member_id);
    if (!(await markMembershipPaused(trx, last.id, at, untilIso, expiresAt))) throw new AppError('membership_paused', 409, 'The membership is already paused');
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

/** Wire shape of a membership and its lifecycle state. */
export function presentMembershipState(m: MembershipRow, now: Date) {
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
  };
}
