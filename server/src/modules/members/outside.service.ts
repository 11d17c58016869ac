import type { Trx } from '../../db/kysely.js';
import { occupySeat } from '../groups/index.js';
import { closeSpan } from './members.service.js';
import { lastSpanOf, openSpan, type MemberRow } from './members.repo.js';

/**
 * The member lifecycle as reported by an outside system (the ingest API): the same spans, seats and
 * member columns as a native join or leave, so member counts and the leave rate see them. There is
 * no threshold or onboarding to pass: the join already happened on the other platform.
 */

/** Why a reported join or leave cannot apply to the member's spans as they are, or null when it can. */
export async function outsideLifecycleProblem(trx: Trx, m: MemberRow | undefined, kind: 'joined' | 'left' | 'removed', at: string): Promise<string | null> {
  const last = m ? await lastSpanOf(trx, m.id) : undefined;
  if (kind === 'joined') {
    if (last && !last.left_at) return `already a member since ${last.joined_at}`;
    if (last?.left_at && last.left_at > at) return `out of order: the member's last span ended at ${last.left_at}, after this join`;
    return null;
  }
  if (!last || last.left_at) return 'not a member at that time';
  if (last.joined_at > at) return `out of order: the member joined at ${last.joined_at}, after this leave`;
  return null;
}

export async function joinedElsewhere(trx: Trx, m: MemberRow, groupId: string, at: string): Promise<void> {
  await openSpan(trx, { community_id: m.community_id, member_id: m.id, group_id: groupId, joined_at: at });
  await occupySeat(trx, groupId, at);
  await trx
    .updateTable('members')
    .set({ status: 'active', current_group_id: groupId, first_joined_at: m.first_joined_at ?? at, last_joined_at: at, left_at: null, removal_reason: null, updated_at: at })
    .where('id', '=', m.id)
    .execute();
}

export async function leftElsewhere(trx: Trx, m: MemberRow, kind: 'left' | 'removed', at: string): Promise<void> {
  await closeSpan(trx, m, kind, at);
  await trx.updateTable('members').set({ status: kind, left_at: at, current_group_id: null, updated_at: at }).where('id', '=', m.id).execute();
}
