import type { Db } from '../../db/kysely.js';
import type { CommunityRole } from '../../../../contracts/src/index.js';
import type { Actor } from '../../http/access.js';

/**
 * The caller's role in a community: workspace owners and admins are the community's owner/admin
 * (HQ); everyone else needs a community role. Monitors and leaders carry the groups they run.
 * Returns null when the caller has no business in the community (the API then answers 404).
 */
export async function resolveCommunityActor(db: Db, userId: string, communityId: string): Promise<Actor | null> {
  const row = await db
    .selectFrom('communities')
    .leftJoin('workspace_members', (j) =>
      j.onRef('workspace_members.workspace_id', '=', 'communities.workspace_id').on('workspace_members.user_id', '=', userId),
    )
    .leftJoin('community_roles', (j) =>
      j.onRef('community_roles.community_id', '=', 'communities.id').on('community_roles.user_id', '=', userId),
    )
    .select(['workspace_members.role as ws_role', 'community_roles.role as c_role'])
    .where('communities.id', '=', communityId)
    .executeTakeFirst();
  if (!row) return null;
  if (row.ws_role === 'owner' || row.ws_role === 'admin') {
    return { userId, apiKeyId: null, role: row.ws_role, groupIds: null };
  }
  if (!row.c_role) return null;
  const role = row.c_role as CommunityRole;
  if (role === 'owner' || role === 'admin') return { userId, apiKeyId: null, role, groupIds: null };
  const groups = await db
    .selectFrom('groups')
    .select('id')
    .where('community_id', '=', communityId)
    .where((eb) => eb.or([eb('monitor_user_id', '=', userId), eb('leader_user_id', '=', userId)]))
    .execute();
  return { userId, apiKeyId: null, role, groupIds: new Set(groups.map((g) => g.id)) };
}

export const communityExists = async (db: Db, communityId: string) =>
  !!(await db.selectFrom('communities').select('id').where('id', '=', communityId).executeTakeFirst());

/** HQ sees every group; monitors and leaders only their own. */
export function canReachGroup(actor: Actor, groupId: string | null): boolean {
  if (actor.groupIds === null) return true;
  return groupId !== null && actor.groupIds.has(groupId);
}
