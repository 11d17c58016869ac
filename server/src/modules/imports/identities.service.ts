import type { Deps } from '../../lib/deps.js';
import type { Actor } from '../../http/access.js';
import { AppError, invalid, notFound } from '../../lib/errors.js';
import { insertEvent } from '../events/index.js';
import { findMember } from '../members/index.js';
import { insertImportedMember } from './imports.repo.js';
import { countIdentitiesOfMember, findIdentity, listIdentitiesPage, moveIdentities, moveIdentity, type IdentityWithMember } from './identities.repo.js';

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

const memberNotFound = (field: string) => new AppError('member_not_found', 404, 'member not found', [{ field, message: 'no such member in this community' }]);

/**
 * Tells the importers that two members are one person: every identity of `from` now names `into`,
 * so all later imports write to `into`. The event log is append-only (a trigger enforces it), so
 * what was recorded before stays as it was written: `from` keeps its events and spans. The merge
 * itself is recorded as a `members_merged` event.
 */
export async function mergeMembers(deps: Deps, communityId: string, actor: Actor, into: string, from: string) {
  if (into === from) throw invalid('from_member_id', 'must be another member than member_id');
  const at = deps.clock.now().toISOString();
  return deps.db.transaction().execute(async (trx) => {
    if (!(await findMember(trx, communityId, into))) throw memberNotFound('member_id');
    if (!(await findMember(trx, communityId, from))) throw memberNotFound('from_member_id');
    const identities = await moveIdentities(trx, communityId, from, into);
    await insertEvent(trx, { community_id: communityId, type: 'members_merged', occurred_at: at, member_id: into, actor_user_id: actor.userId, props: { from_member_id: from, identities } }, at);
    return { member_id: into, identities };
  });
}

/**
 * Tells the importers that one identity is a person of its own: it moves to a new member, which
 * later imports write to. What was recorded before stays with the member it was written for.
 */
export async function splitIdentity(deps: Deps, communityId: string, actor: Actor, identityId: string) {
  const at = deps.clock.now().toISOString();
  const memberId = await deps.db.transaction().execute(async (trx) => {
    const identity = await findIdentity(trx, communityId, identityId);
    if (!identity) throw new AppError('identity_not_found', 404, 'identity not found', [{ field: 'identity_id', message: 'no such identity in this community' }]);
    if ((await countIdentitiesOfMember(trx, communityId, identity.member_id)) < 2) {
      throw new AppError('invalid_state', 409, 'This is the member’s only identity: there is nothing to split off');
    }
    const id = await insertImportedMember(trx, communityId, `${identity.platform}:${identity.external_id}`, identity.display_names[0] ?? identity.external_id, at);
    await moveIdentity(trx, identity.id, id);
    await insertEvent(trx, { community_id: communityId, type: 'identity_split', occurred_at: at, member_id: id, actor_user_id: actor.userId, props: { from_member_id: identity.member_id, identity_id: identity.id } }, at);
    return id;
  });
  const [identity] = await listIdentitiesPage(deps.db, communityId, { member_id: memberId }, 1);
  if (!identity) throw notFound('identity');
  return { member_id: memberId, identity: presentIdentity(identity) };
}
