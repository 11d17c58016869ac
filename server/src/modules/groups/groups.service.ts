import type { CreateGroup, OrgNode, UpdateGroup } from '../../../../contracts/src/index.js';
import type { Db, Trx } from '../../db/kysely.js';
import type { Deps } from '../../lib/deps.js';
import { AppError, invalid, notFound } from '../../lib/errors.js';
import { newId } from '../../lib/ids.js';
import type { Actor } from '../../http/access.js';
import { canReachGroup, resolveCommunityActor } from '../communities/index.js';
import { assertThresholdRefs } from '../thresholds/index.js';
import { insertEvent } from '../events/index.js';
import { findGroup, insertGroup, listGroupsOfCommunity, type Group, type NewGroup } from './groups.repo.js';

/** A monitor must hold the monitor role (or HQ); a leader the leader role or above. */
async function assertStaff(db: Db, communityId: string, userId: string | null | undefined, role: 'monitor' | 'leader', field: string) {
  if (!userId) return;
  const actor = await resolveCommunityActor(db, userId, communityId);
  const ok = actor && (actor.role === 'owner' || actor.role === 'admin' || actor.role === role || (role === 'leader' && actor.role === 'monitor'));
  if (!ok) throw invalid(field, `This account has no ${role} role in the community`);
}

/** Inserts a group and its `group_created` event; used by the API and by entry-link overflow. */
export async function addGroup(trx: Trx, communityId: string, g: NewGroup, now: string, actorUserId: string | null): Promise<string> {
  const id = newId('grp');
  await insertGroup(trx, id, communityId, g, now);
  await insertEvent(
    trx,
    {
      community_id: communityId,
      type: 'group_created',
      occurred_at: now,
      group_id: id,
      entry_link_id: g.created_from_link_id ?? null,
      actor_user_id: actorUserId,
      props: { name: g.name, capacity: g.capacity, overflow: !!g.created_from_link_id },
    },
    now,
  );
  return id;
}

export async function createGroup(deps: Deps, communityId: string, actor: Actor, input: CreateGroup): Promise<Group> {
  await assertStaff(deps.db, communityId, input.monitor_user_id, 'monitor', 'monitor_user_id');
  await assertStaff(deps.db, communityId, input.leader_user_id, 'leader', 'leader_user_id');
  const now = deps.clock.now().toISOString();
  const id = await deps.db.transaction().execute(async (trx) => {
    if (input.threshold) await assertThresholdRefs(trx, communityId, input.threshold, 'threshold');
    return addGroup(trx, communityId, input, now, actor.userId);
  });
  // A monitor's or leader's reach is the set of groups they run.
  deps.authCache?.forgetCommunity(communityId);
  return (await findGroup(deps.db, communityId, id))!;
}

export async function getGroup(deps: Deps, communityId: string, actor: Actor, id: string): Promise<Group> {
  const g = await findGroup(deps.db, communityId, id);
  if (!g || !canReachGroup(actor, g.id)) throw notFound('group');
  return g;
}

export async function listGroups(deps: Deps, communityId: string, actor: Actor): Promise<Group[]> {
  return (await listGroupsOfCommunity(deps.db, communityId)).filter((g) => canReachGroup(actor, g.id));
}

export async function updateGroup(deps: Deps, communityId: string, actor: Actor, id: string, input: UpdateGroup): Promise<Group> {
  await assertStaff(deps.db, communityId, input.monitor_user_id, 'monitor', 'monitor_user_id');
  await assertStaff(deps.db, communityId, input.leader_user_id, 'leader', 'leader_user_id');
  const now = deps.clock.now().toISOString();
  await deps.db.transaction().execute(async (trx) => {
    const g = await findGroup(trx, communityId, id);
    if (!g || !canReachGroup(actor, g.id)) throw notFound('group');
    if (input.threshold) await assertThresholdRefs(trx, communityId, input.threshold, 'threshold');
    const capacity = input.capacity ?? g.capacity;
    if (capacity < g.seated) {
      throw new AppError('capacity_below_seated', 409, `The group already seats ${g.seated}; capacity cannot go below that`, [
        { field: 'capacity', message: `at least ${g.seated}` },
      ]);
    }
    const archived = input.archived ?? g.status === 'archived';
    await trx
      .updateTable('groups')
      .set({
        ...(input.name !== undefined && { name: input.name }),
        ...(input.tags !== undefined && { tags: JSON.stringify(input.tags) }),
        ...(input.monitor_user_id !== undefined && { monitor_user_id: input.monitor_user_id }),
        ...(input.leader_user_id !== undefined && { leader_user_id: input.leader_user_id }),
        ...(input.threshold !== undefined && { threshold: input.threshold ? JSON.stringify(input.threshold) : null }),
        capacity,
        status: archived ? 'archived' : g.seated >= capacity ? 'full' : 'open',
        updated_at: now,
      })
      .where('id', '=', id)
      .where('community_id', '=', communityId)
      .execute();
  });
  deps.authCache?.forgetCommunity(communityId);
  return (await findGroup(deps.db, communityId, id))!;
}

/**
 * HQ → monitor (班长) → leader (组长) → groups with their member counts. A group without a monitor
 * hangs under HQ directly; without a leader, under its monitor.
 */
export async function orgTree(deps: Deps, communityId: string, actor: Actor): Promise<OrgNode> {
  const groups = await listGroups(deps, communityId, actor);
  const userIds = [...new Set(groups.flatMap((g) => [g.monitor_user_id, g.leader_user_id]).filter((x): x is string => !!x))];
  const users = userIds.length ? await deps.db.selectFrom('users').select(['id', 'name']).where('id', 'in', userIds).execute() : [];
  const nameOf = new Map(users.map((u) => [u.id, u.name]));
  const hq: OrgNode = { kind: 'hq', id: communityId, name: 'HQ', children: [] };
  const monitors = new Map<string, OrgNode>();
  const leaders = new Map<string, OrgNode>();
  for (const g of groups.filter((g) => g.status !== 'archived')) {
    let parent = hq;
    if (g.monitor_user_id) {
      let m = monitors.get(g.monitor_user_id);
      if (!m) {
        m = { kind: 'monitor', id: g.monitor_user_id, name: nameOf.get(g.monitor_user_id) ?? '', children: [] };
        monitors.set(g.monitor_user_id, m);
        hq.children.push(m);
      }
      parent = m;
    }
    if (g.leader_user_id) {
      const key = `${parent.id}/${g.leader_user_id}`;
      let l = leaders.get(key);
      if (!l) {
        l = { kind: 'leader', id: g.leader_user_id, name: nameOf.get(g.leader_user_id) ?? '', children: [] };
        leaders.set(key, l);
        parent.children.push(l);
      }
      parent = l;
    }
    parent.children.push({ kind: 'group', id: g.id, name: g.name, members: g.seated, children: [] });
  }
  return hq;
}
