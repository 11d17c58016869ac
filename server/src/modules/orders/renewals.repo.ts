import { sql, type Selectable } from 'kysely';
import type { Db, Trx } from '../../db/kysely.js';
import type { MemberPaymentMethodsTable } from '../../db/types.js';
import { newId } from '../../lib/ids.js';

type Conn = Db | Trx;
export type PaymentMethodRow = Selectable<MemberPaymentMethodsTable>;

/**
 * The last period of its chain: no other unrevoked membership of the same member and product ends
 * later (or never). Renewals add such a period, so a renewed membership is never "the last".
 */
export const isLastOfChain = sql<boolean>`not exists (
  select 1 from memberships later
  where later.member_id = memberships.member_id and later.product_id = memberships.product_id
    and later.id <> memberships.id and later.revoked_at is null
    and (later.expires_at is null or later.expires_at > memberships.expires_at)
)`;

// Saved payment methods -----------------------------------------------------------------------

/** Keeps a method the member saved; saving it again refreshes it (and lifts a revocation). True when it is new. */
export async function upsertPaymentMethod(trx: Trx, m: { community_id: string; member_id: string; provider: string; ref: string }, at: string): Promise<boolean> {
  const r = await trx
    .insertInto('member_payment_methods')
    .values({ id: newId('pmt'), ...m, created_at: at, updated_at: at })
    .onConflict((oc) => oc.columns(['member_id', 'provider', 'ref']).doNothing())
    .executeTakeFirst();
  if (Number(r.numInsertedOrUpdatedRows ?? 0) === 1) return true;
  await trx
    .updateTable('member_payment_methods')
    .set({ updated_at: at, revoked_at: null, revoke_reason: null })
    .where('member_id', '=', m.member_id)
    .where('provider', '=', m.provider)
    .where('ref', '=', m.ref)
    .execute();
  return false;
}

/** The member's most recently saved method that still works; renewals charge this one. */
export const findCurrentPaymentMethod = (db: Conn, memberId: string) =>
  db
    .selectFrom('member_payment_methods')
    .selectAll()
    .where('member_id', '=', memberId)
    .where('revoked_at', 'is', null)
    .orderBy('updated_at', 'desc')
    .orderBy('id', 'desc')
    .executeTakeFirst();

export const revokePaymentMethod = (trx: Trx, m: { member_id: string; provider: string; ref: string }, reason: string, at: string) =>
  trx
    .updateTable('member_payment_methods')
    .set({ revoked_at: at, revoke_reason: reason })
    .where('member_id', '=', m.member_id)
    .where('provider', '=', m.provider)
    .where('ref', '=', m.ref)
    .where('revoked_at', 'is', null)
    .execute();

// Chains -----------------------------------------------------------------------------------------

export interface ChainKey {
  community_id: string;
  member_id: string;
  product_id: string;
}

/** Turns automatic renewal on unless it is on; true when this call changed it. */
export async function enableChainAutoRenew(trx: Trx, c: ChainKey, at: string): Promise<boolean> {
  const r = await trx
    .insertInto('membership_chains')
    .values({ ...c, auto_renew: 1, updated_at: at })
    .onConflict((oc) => oc.columns(['member_id', 'product_id']).doUpdateSet({ auto_renew: 1, updated_at: at }).where('membership_chains.auto_renew', '=', 0))
    .executeTakeFirst();
  return Number(r.numInsertedOrUpdatedRows ?? 0) === 1;
}

/** Turns automatic renewal off if it is on; true when this call changed it. */
export async function disableChainAutoRenew(trx: Trx, c: ChainKey, at: string): Promise<boolean> {
  const r = await trx
    .updateTable('membership_chains')
    .set({ auto_renew: 0, updated_at: at })
    .where('member_id', '=', c.member_id)
    .where('product_id', '=', c.product_id)
    .where('auto_renew', '=', 1)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

export async function isChainAutoRenewing(db: Conn, memberId: string, productId: string): Promise<boolean> {
  const row = await db.selectFrom('membership_chains').select('auto_renew').where('member_id', '=', memberId).where('product_id', '=', productId).executeTakeFirst();
  return row?.auto_renew === 1;
}

// Renewal attempts and dunning -------------------------------------------------------------------

/**
 * Last periods of auto-renewing chains that expire by `until` and not before `oldest` (older ones
 * are past any grace window): live, not cancelled, of an active product, of a member still in the
 * community. The caller decides from the attempts made so far whether one is due.
 */
export const findRenewalCandidates = (db: Conn, until: string, oldest: string, limit: number) =>
  db
    .selectFrom('memberships')
    .innerJoin('membership_chains as chain', (j) => j.onRef('chain.member_id', '=', 'memberships.member_id').onRef('chain.product_id', '=', 'memberships.product_id'))
    .innerJoin('communities', 'communities.id', 'memberships.community_id')
    .innerJoin('products', 'products.id', 'memberships.product_id')
    .innerJoin('members', 'members.id', 'memberships.member_id')
    .selectAll('memberships')
    .select(['communities.renewal_grace_days', 'products.name as product_name', 'products.price_minor', 'products.currency'])
    .where('chain.auto_renew', '=', 1)
    .where('memberships.ended_at', 'is', null)
    .where('memberships.revoked_at', 'is', null)
    .where('memberships.cancelled_at', 'is', null)
    .where('memberships.expires_at', 'is not', null)
    .where('memberships.expires_at', '<=', until)
    .where('memberships.expires_at', '>', oldest)
    .where('products.status', '=', 'active')
    .where('members.banned', '=', 0)
    .where('members.left_at', 'is', null)
    .where(isLastOfChain)
    .orderBy('memberships.expires_at')
    .limit(limit)
    .execute();
/** Whether a period found by `findRenewalCandidates` still renews automatically: its chain is on, and it is live, not cancelled and the last of its chain. */
export async function isStillAutoRenewing(db: Conn, membershipId: string): Promise<boolean> {
  const row = await db
    .selectFrom('memberships')
    .innerJoin('membership_chains as chain', (j) => j.onRef('chain.member_id', '=', 'memberships.member_id').onRef('chain.product_id', '=', 'memberships.product_id'))
    .select('memberships.id')
    .where('memberships.id', '=', membershipId)
    .where('chain.auto_renew', '=', 1)
    .where('memberships.ended_at', 'is', null)
    .where('memberships.revoked_at', 'is', null)
    .where('memberships.cancelled_at', 'is', null)
    .where(isLastOfChain)
    .executeTakeFirst();
  return !!row;
}
export type RenewalCandidate = Awaited<ReturnType<typeof findRenewalCandidates>>[number];

export async function findRenewalAttempts(db: Conn, membershipIds: string[]): Promise<Map<string, Set<number>>> {
  const out = new Map<string, Set<number>>();
  if (!membershipIds.length) return out;
  const rows = await db.selectFrom('membership_renewal_attempts').select(['membership_id', 'attempt']).where('membership_id', 'in', membershipIds).execute();
  for (const r of rows) out.set(r.membership_id, (out.get(r.membership_id) ?? new Set()).add(r.attempt));
  return out;
}

/** Claims one attempt of a period's renewal; false when it was claimed before (the key decides, not a prior read). */
export async function insertRenewalAttemptOnce(trx: Trx, membershipId: string, attempt: number, orderId: string, at: string): Promise<boolean> {
  const r = await trx
    .insertInto('membership_renewal_attempts')
    .values({ membership_id: membershipId, attempt, order_id: orderId, attempted_at: at, outcome: 'charging', reason: null })
    .onConflict((oc) => oc.columns(['membership_id', 'attempt']).doNothing())
    .executeTakeFirst();
  return Number(r.numInsertedOrUpdatedRows ?? 0) === 1;
}

/**
 * Records how an attempt of the renewal order `orderId` ended. The charge's answer and the provider's
 * webhook about it may race: the first word settles a `charging` or `pending` attempt and the other
 * changes nothing, except that a success always wins (the money moved). True when this call settled it.
 */
export async function settleRenewalAttempt(trx: Trx, membershipId: string, attempt: number, orderId: string, outcome: 'succeeded' | 'pending' | 'failed', reason: string | null): Promise<boolean> {
  const q = trx.updateTable('membership_renewal_attempts').set({ outcome, reason }).where('membership_id', '=', membershipId).where('attempt', '=', attempt).where('order_id', '=', orderId);
  const r = await (outcome === 'succeeded' ? q.where('outcome', '<>', 'succeeded') : q.where('outcome', 'in', ['charging', 'pending'])).executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

/** Marks the period past due from its first failed renewal; later failures keep that moment. */
export const markPastDue = (trx: Trx, membershipId: string, at: string) =>
  trx.updateTable('memberships').set({ past_due_since: at }).where('id', '=', membershipId).where('past_due_since', 'is', null).execute();
