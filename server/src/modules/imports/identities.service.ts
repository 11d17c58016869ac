import type { Trx } from '../../db/kysely.js';
import type { Deps } from '../../lib/deps.js';
import type { Actor } from '../../http/access.js';
import { AppError, invalid, notFound } from '../../lib/errors.js';
import { insertEvent, markRollupsForRebuild } from '../events/index.js';
import { findMember } from '../members/index.js';
import { findMemberFacts, insertImportedMember, updateMemberState } from './imports.repo.js';
import {
  deleteMember,
  findIdentity,
  hasNativeRecords,
  identitiesOfMember,
  importedEventsOf,
  listIdentitiesPage,
  moveIdentities,
  moveIdentity,
  moveSpanStartedAt,
  recountSeats,
  repointMember,
  rewritePropsMember,
  setEventsMember,
  setMemberExternalId,
  spansOf,
  type IdentityWithMember,
} from './identities.repo.js';

export const presentIdentity = (i: IdentityWithMember) => ({
  id: i.id,
  platform: i.platform,
  external_id: i.external_id,
  display_names: i.display_names,
  first_seen_at: i.first_seen_at,
  last_seen_at: i.last_seen_at,
  member: { id: i.member.id, display_name: i.member.display_name, status: i.member.status as 'active' },
});

export async function listIdentities(deps: Deps, communityId: string, q: { platform?: string | undefined; member_id?: string | undefined; limit: number; cursor?: string | undefined }) {
  const rows = await listIdentitiesPage(deps.db, communityId, q, q.limit + 1, q.cursor);
  const page = rows.slice(0, q.limit);
  return { identities: page.map(presentIdentity), next_cursor: rows.length > q.limit ? page.at(-1)!.id : null };
}

/** A member's status, current group and join/leave dates as their spans say, after spans changed hands. */
async function settleFromSpans(trx: Trx, communityId: string, memberId: string, at: string) {
  const [m] = await findMemberFacts(trx, communityId, [memberId]);
  if (!m) return;
  const spans = await spansOf(trx, memberId);
  if (!spans.length) return;
  const open = spans.filter((s) => !s.left_at);
  const lastLeft = spans.filter((s) => s.left_at).sort((a, b) => (a.left_at! < b.left_at! ? -1 : 1)).at(-1);
  await updateMemberState(
    trx,
    memberId,
    {
      status: open.length ? (m.status === 'onboarding' || m.status === 'active' ? m.status : 'active') : lastLeft?.left_kind === 'removed' ? 'removed' : 'left',
      current_group_id: open.at(-1)?.group_id ?? null,
      first_joined_at: spans[0]!.joined_at,
      last_joined_at: spans.at(-1)!.joined_at,
      left_at: open.length ? null : (lastLeft?.left_at ?? null),
    },
    at,
  );
}

/**
 * One person known as two members: `from`'s identities, events (as actor, referrer and reply or
 * reaction target) and membership spans become `into`'s, and `from` is deleted. A member with
 * orders, memberships, applications or links of their own is never the one absorbed: money and
 * admissions are not re-pointed. Rollups are rebuilt, as every figure of both may change.
 */
export async function mergeMembers(deps: Deps, communityId: string, actor: Actor, into: string, from: string) {
  if (into === from) throw invalid('from_member_id', 'must be another member than member_id');
  const at = deps.clock.now().toISOString();
  return deps.db.transaction().execute(async (trx) => {
    const keep = await findMember(trx, communityId, into);
    if (!keep) throw new AppError('member_not_found', 404, 'member not found', [{ field: 'member_id', message: 'no such member in this community' }]);
    const gone = await findMember(trx, communityId, from);
    if (!gone) throw new AppError('member_not_found', 404, 'member not found', [{ field: 'from_member_id', message: 'no such member in this community' }]);
    if (await hasNativeRecords(trx, from)) {
      throw new AppError('member_not_mergeable', 409, 'This member has orders, memberships, applications or links of their own; merge the other way round', [
        { field: 'from_member_id', message: 'has records a merge does not move' },
      ]);
    }
    const groups = new Set([...(await spansOf(trx, into)), ...(await spansOf(trx, from))].map((s) => s.group_id));
    const identities = await moveIdentities(trx, communityId, from, into);
    const moved = await repointMember(trx, communityId, from, into);
    await deleteMember(trx, communityId, from);
    await settleFromSpans(trx, communityId, into, at);
    await recountSeats(trx, [...groups], at);
    await insertEvent(trx, { community_id: communityId, type: 'members_merged', occurred_at: at, member_id: into, actor_user_id: actor.userId, props: { from_member_id: from, identities } }, at);
    await markRollupsForRebuild(trx, communityId);
    return { member_id: into, identities, events: moved.events, spans: moved.spans };
  });
}

/**
 * One identity wrongly taken for the member's: it becomes a new member with the imported events
 * it wrote (messages, replies, reactions, its joins and leaves), the spans those joins opened,
 * and the replies and reactions aimed at its messages. Native events stay with the member.
 */
export async function splitIdentity(deps: Deps, communityId: string, actor: Actor, identityId: string) {
  const at = deps.clock.now().toISOString();
  const result = await deps.db.transaction().execute(async (trx) => {
    const identity = await findIdentity(trx, communityId, identityId);
    if (!identity) throw new AppError('identity_not_found', 404, 'identity not found', [{ field: 'identity_id', message: 'no such identity in this community' }]);
    const oldId = identity.member_id;
    const others = (await identitiesOfMember(trx, communityId, oldId)).filter((i) => i.id !== identity.id);
    if (!others.length) throw new AppError('invalid_state', 409, 'This is the member’s only identity: there is nothing to split off');
    const old = (await findMember(trx, communityId, oldId))!;
    const externalId = `${identity.platform}:${identity.external_id}`;
    if (old.external_id === externalId) await setMemberExternalId(trx, oldId, `${others[0]!.platform}:${others[0]!.external_id}`, at);
    const newId = await insertImportedMember(trx, communityId, externalId, identity.display_names[0] ?? identity.external_id, at);
    await moveIdentity(trx, identity.id, newId);

    const events = await importedEventsOf(trx, communityId, oldId, identity.platform, identity.external_id);
    await setEventsMember(trx, events.map((e) => e.id), newId);
    let spans = 0;
    const groups = new Set<string>();
    for (const e of events) {
      if (e.type !== 'joined' || !e.group_id) continue;
      spans += await moveSpanStartedAt(trx, oldId, newId, e.group_id, e.occurred_at);
      groups.add(e.group_id);
    }
    // Replies and reactions aimed at the identity's messages now aim at the new member.
    const messageKeys = new Set(events.filter((e) => e.type === 'message' || e.type === 'reply').map((e) => `${String(e.props.import_source)}\u0000${String(e.props.key)}`));
    await rewritePropsMember(trx, communityId, oldId, newId, (p) => {
      const target = p.reply_to ?? p.message_key;
      return target !== undefined && messageKeys.has(`${String(p.import_source)}\u0000${String(target)}`);
    });
    await settleFromSpans(trx, communityId, oldId, at);
    await settleFromSpans(trx, communityId, newId, at);
    await recountSeats(trx, [...groups], at);
    await insertEvent(trx, { community_id: communityId, type: 'identity_split', occurred_at: at, member_id: newId, actor_user_id: actor.userId, props: { from_member_id: oldId, identity_id: identity.id } }, at);
    await markRollupsForRebuild(trx, communityId);
    return { member_id: newId, events: events.length, spans };
  });
  const [identity] = await listIdentitiesPage(deps.db, communityId, { member_id: result.member_id }, 1);
  if (!identity) throw notFound('identity');
  return { ...result, identity: presentIdentity(identity) };
}
