import type { Selectable } from 'kysely';
import { type Db, type Trx } from '../../db/kysely.js';
import type { MembershipsTable } from '../../db/types.js';
import { isLastOfChain } from '../orders/index.js';

export type MembershipRow = Selectable<MembershipsTable>;
/** A membership with its chain's automatic-renewal setting. */
export type MembershipState = MembershipRow & { auto_renew: number };
type Conn = Db | Trx;

/** The grace windows communities use, so that expiry can work through one window at a time. */
export async function findGraceDaysInUse(db: Conn): Promise<number[]> {
  const rows = await db.selectFrom('communities').select('renewal_grace_days').distinct().orderBy('renewal_grace_days').execute();
  return rows.map((r) => r.renewal_grace_days);
}

/**
 * Memberships of communities with a `graceDays` window that are due to end: not yet ended or
 * revoked, the last of their chain, and past their expiry plus grace (`graceCutoff` = now − grace)
 * — or, once cancelled, past their expiry (`now`).
 */
export const findMembershipsToExpire = (db: Conn, now: string, graceDays: number, graceCutoff: string, limit: number) =>
  db
    .selectFrom('memberships')
    .innerJoin('communities', 'communities.id', 'memberships.community_id')
    .selectAll('memberships')
    .where('communities.renewal_grace_days', '=', graceDays)
    .where('memberships.ended_at', 'is', null)
    .where('memberships.revoked_at', 'is', null)
    .where('memberships.expires_at', 'is not', null)
    .where((eb) => eb.or([eb('memberships.expires_at', '<=', graceCutoff), eb.and([eb('memberships.cancelled_at', 'is not', null), eb('memberships.expires_at', '<=', now)])]))
    .where(isLastOfChain)
    .orderBy('memberships.expires_at')
    .limit(limit)
    .execute();

/** Memberships that expire within (now, until]: live, not cancelled, the last of their chain. */
export const findMembershipsExpiringBetween = (db: Conn, now: string, until: string, limit: number) =>
  db
    .selectFrom('memberships')
    .selectAll()
    .where('ended_at', 'is', null)
    .where('revoked_at', 'is', null)
    .where('cancelled_at', 'is', null)
    .where('expires_at', '>', now)
    .where('expires_at', '<=', until)
    .where(isLastOfChain)
    .orderBy('expires_at')
    .limit(limit)
    .execute();

/** Marks the membership ended, and why, unless something already did; true for the one caller that did. */
export async function markMembershipEnded(trx: Trx, id: string, reason: string, at: string): Promise<boolean> {
  const r = await trx.updateTable('memberships').set({ ended_at: at, end_reason: reason }).where('id', '=', id).where('ended_at', 'is', null).where('revoked_at', 'is', null).executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

/** Records a reminder as sent; false when it had been (the unique key decides, not a prior read). */
export async function insertReminderOnce(trx: Trx, membershipId: string, daysBefore: number, at: string): Promise<boolean> {
  const r = await trx
    .insertInto('membership_reminders')
    .values({ membership_id: membershipId, days_before: daysBefore, sent_at: at })
    .onConflict((oc) => oc.columns(['membership_id', 'days_before']).doNothing())
    .executeTakeFirst();
  return Number(r.numInsertedOrUpdatedRows ?? 0) === 1;
}

export const findMembershipOf = (db: Conn, communityId: string, id: string): Promise<MembershipState | undefined> =>
  db
    .selectFrom('memberships')
    .leftJoin('membership_chains as chain', (j) => j.onRef('chain.member_id', '=', 'memberships.member_id').onRef('chain.product_id', '=', 'memberships.product_id'))
    .selectAll('memberships')
    .select((eb) => eb.fn.coalesce('chain.auto_renew', eb.lit(0)).as('auto_renew'))
    .where('memberships.community_id', '=', communityId)
    .where('memberships.id', '=', id)
    .executeTakeFirst();

export async function markMembershipCancelled(trx: Trx, id: string, reason: string, at: string): Promise<boolean> {
  const r = await trx
    .updateTable('memberships')
    .set({ cancelled_at: at, cancel_reason: reason })
    .where('id', '=', id)
    .where('cancelled_at', 'is', null)
    .where('ended_at', 'is', null)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

/**
 * Starts a pause and pushes the expiry by its length in one conditional write, unless the period
 * changed since `expiresAt` was worked out from `expiresBefore` (paused, ended or refunded meanwhile).
 */
export async function markMembershipPaused(trx: Trx, id: string, at: string, until: string, expiresBefore: string, expiresAt: string): Promise<boolean> {
  const r = await trx
    .updateTable('memberships')
    .set({ paused_at: at, paused_until: until, expires_at: expiresAt })
    .where('id', '=', id)
    .where('ended_at', 'is', null)
    .where('revoked_at', 'is', null)
    .where('expires_at', '=', expiresBefore)
    .where((eb) => eb.or([eb('paused_until', 'is', null), eb('paused_until', '<=', at)]))
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}


