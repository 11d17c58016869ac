import type { Db, Trx } from '../../db/kysely.js';
import { json } from '../../db/codecs.js';
import { insertEvent } from '../events/index.js';
import { releaseSeat } from '../groups/index.js';

/**
 * The paid groups of a membership product: when a membership ends (expired after grace, or fully
 * refunded), the member leaves those of its groups that no other live membership gives access to.
 */

type Conn = Db | Trx;

/**
 * The groups the member's live memberships (other than `exceptId`) give access to: unrevoked, not
 * ended, started, and not past expiry plus grace (or past expiry once cancelled), not paused.
 */
export async function groupsCoveredByOtherMemberships(trx: Trx, memberId: string, exceptId: string, now: string, graceCutoff: string): Promise<Set<string>> {
  const rows = await trx
    .selectFrom('memberships')
    .innerJoin('products', 'products.id', 'memberships.product_id')
    .select(['products.group_ids', 'memberships.expires_at', 'memberships.cancelled_at', 'memberships.paused_at', 'memberships.paused_until'])
    .where('memberships.member_id', '=', memberId)
    .where('memberships.id', '<>', exceptId)
    .where('memberships.revoked_at', 'is', null)
    .where('memberships.ended_at', 'is', null)
    .where('memberships.starts_at', '<=', now)
    .execute();
  const out = new Set<string>();
  for (const r of rows) {
    const live = r.expires_at === null || r.expires_at > (r.cancelled_at ? now : graceCutoff);
    const paused = !!r.paused_at && !!r.paused_until && r.paused_at <= now && now < r.paused_until;
    if (!live || paused) continue;
    for (const g of json<string[]>(r.group_ids)) out.add(g);
  }
  return out;
}

export const findProductGroups = async (db: Conn, productId: string): Promise<string[]> => {
  const p = await db.selectFrom('products').select('group_ids').where('id', '=', productId).executeTakeFirst();
  return p ? json<string[]>(p.group_ids) : [];
};

/** Closes the member's open stay in the group and takes them out of it; true when there was one. */
export async function removeFromGroup(trx: Trx, memberId: string, groupId: string, reason: string, at: string): Promise<boolean> {
  const r = await trx
    .updateTable('members')
    .set({ status: 'removed', left_at: at, current_group_id: null, removal_reason: reason, updated_at: at })
    .where('id', '=', memberId)
    .where('current_group_id', '=', groupId)
    .where('status', 'in', ['active', 'onboarding'])
    .executeTakeFirst();
  if (Number(r.numUpdatedRows) !== 1) return false;
  await trx.updateTable('member_spans').set({ left_at: at, left_kind: 'expired' }).where('member_id', '=', memberId).where('group_id', '=', groupId).where('left_at', 'is', null).execute();
  return true;
}

/**
 * Takes the member out of the groups of `m`'s product that no other live membership covers: their
 * stay closes, the seat is released and `removed` is recorded with the reason. Returns how many.
 */
export async function leavePaidGroups(
  trx: Trx,
  m: { id: string; community_id: string; member_id: string; product_id: string },
  reason: 'membership_expired' | 'membership_refunded',
  at: string,
  graceCutoff: string,
): Promise<number> {
  const covered = await groupsCoveredByOtherMemberships(trx, m.member_id, m.id, at, graceCutoff);
  let removed = 0;
  for (const groupId of await findProductGroups(trx, m.product_id)) {
    if (covered.has(groupId)) continue;
    if (!(await removeFromGroup(trx, m.member_id, groupId, reason, at))) continue;
    await releaseSeat(trx, groupId, at);
    removed++;
    await insertEvent(trx, { community_id: m.community_id, type: 'removed', occurred_at: at, member_id: m.member_id, group_id: groupId, props: { reason, membership_id: m.id } }, at);
  }
  return removed;
}
