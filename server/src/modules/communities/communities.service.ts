import { CreateCommunity as CreateCommunitySchema, type AssignStaff, type CreateCommunity, type Threshold, type UpdateCommunity } from '../../../../contracts/src/index.js';
import { encodeJson } from '../../db/codecs.js';
import type { Deps } from '../../lib/deps.js';
import { AppError, forbidden, invalid, notFound } from '../../lib/errors.js';
import { newId } from '../../lib/ids.js';
import type { Actor } from '../../http/access.js';
import { insertEvent, markRollupsForRebuild } from '../events/index.js';
import { findUserByEmail, normalizeEmail } from '../auth/index.js';
import { findCommunityById, findCommunityBySlug, findCommunityRole, listCommunitiesOfWorkspace, type Community } from './communities.repo.js';
import { communityHealth } from './communities.health.js';
import { assertThresholdRefs } from '../thresholds/index.js';
import { findOrCreateDefaultWorkspace } from '../workspaces/index.js';
import type { Trx } from '../../db/kysely.js';

export async function createCommunity(
  deps: Deps,
  workspaceId: string,
  input: CreateCommunity,
  opts: { isDemo?: boolean; actorUserId?: string | null } = {},
): Promise<Community> {
  const now = deps.clock.now().toISOString();
  const id = newId('com');
  await deps.db.transaction().execute(async (trx) => {
    if (await findCommunityBySlug(trx, input.slug)) {
      throw new AppError('slug_taken', 409, 'This slug is taken', [{ field: 'slug', message: 'already in use' }]);
    }
    await trx
      .insertInto('communities')
      .values({
        id,
        workspace_id: workspaceId,
        slug: input.slug,
        name: input.name,
        value_proposition: input.value_proposition,
        values: encodeJson(input.values),
        type: input.type,
        monetization_modes: encodeJson(input.monetization_modes),
        time_zone: input.time_zone,
        currency: input.currency,
        rules: encodeJson(input.rules),
        threshold: encodeJson(input.threshold ?? { mode: 'all', criteria: [] }),
        renewal_grace_days: input.renewal_grace_days,
        is_demo: opts.isDemo ? 1 : 0,
        created_at: now,
        updated_at: now,
      })
      .execute();
    // A new community has no groups or products yet, so only reference-free thresholds are valid.
    if (input.threshold) await assertThresholdRefs(trx, id, input.threshold, 'threshold');
  });
  return (await findCommunityById(deps.db, id))!;
}

export async function getCommunity(deps: Deps, id: string): Promise<Community> {
  const c = await findCommunityById(deps.db, id);
  if (!c) throw notFound('community');
  return c;
}

export const listCommunities = (deps: Deps, workspaceId: string) => listCommunitiesOfWorkspace(deps.db, workspaceId);

export async function updateCommunity(deps: Deps, id: string, input: UpdateCommunity): Promise<Community> {
  const current = await getCommunity(deps, id);
  const set: Record<string, string | number> = { updated_at: deps.clock.now().toISOString() };
  if (input.name !== undefined) set.name = input.name;
  if (input.value_proposition !== undefined) set.value_proposition = input.value_proposition;
  if (input.values !== undefined) set.values = encodeJson(input.values);
  if (input.type !== undefined) set.type = input.type;
  if (input.monetization_modes !== undefined) set.monetization_modes = encodeJson(input.monetization_modes);
  if (input.time_zone !== undefined) set.time_zone = input.time_zone;
  if (input.currency !== undefined) set.currency = input.currency;
  if (input.renewal_grace_days !== undefined) set.renewal_grace_days = input.renewal_grace_days;
  if (input.rules !== undefined) set.rules = encodeJson({ ...current.rules, ...stripUndefined(input.rules) });
  await deps.db.transaction().execute(async (trx) => {
    await trx.updateTable('communities').set(set).where('id', '=', id).execute();
    // Rollups are keyed by local day, sum the community currency only, and count renewals with its grace days.
    const changed = <K extends 'time_zone' | 'currency' | 'renewal_grace_days'>(k: K) => input[k] !== undefined && input[k] !== current[k];
    if (changed('time_zone') || changed('currency') || changed('renewal_grace_days')) {
      await markRollupsForRebuild(trx, id);
    }
  });
  return getCommunity(deps, id);
}

export async function setCommunityThreshold(deps: Deps, id: string, threshold: Threshold): Promise<Community> {
  await deps.db.transaction().execute(async (trx) => {
    // The body is the threshold itself: errors name `criteria.…`, like its schema errors do.
    await assertThresholdRefs(trx, id, threshold, '');
    await trx
      .updateTable('communities')
      .set({ threshold: encodeJson(threshold), updated_at: deps.clock.now().toISOString() })
      .where('id', '=', id)
      .execute();
  });
  return getCommunity(deps, id);
}

export async function health(deps: Deps, id: string) {
  return communityHealth(deps.db, await getCommunity(deps, id), deps.clock.now());
}

/** Gives an existing account a staff role in the community (HQ admin, monitor 班长, leader 组长). */
export async function assignStaff(deps: Deps, communityId: string, actor: Actor, input: AssignStaff) {
  const user = await findUserByEmail(deps.db, normalizeEmail(input.email));
  if (!user) throw invalid('email', 'No account with this email; ask them to sign up first', 'user_not_found');
  const now = deps.clock.now().toISOString();
  await deps.db.transaction().execute(async (trx) => {
    await assertMayChangeRole(trx, communityId, actor, user.id, input.role);
    await trx
      .insertInto('community_roles')
      .values({ community_id: communityId, user_id: user.id, role: input.role, created_at: now })
      .onConflict((oc) => oc.columns(['community_id', 'user_id']).doUpdateSet({ role: input.role }))
      .execute();
    await recordRoleChange(trx, communityId, user.id, input.role, actor, now);
  });
  deps.authCache?.forgetCommunity(communityId);
  return user.id;
}

export async function removeStaff(deps: Deps, communityId: string, actor: Actor, userId: string) {
  const now = deps.clock.now().toISOString();
  await deps.db.transaction().execute(async (trx) => {
    await assertMayChangeRole(trx, communityId, actor, userId, null);
    const res = await trx.deleteFrom('community_roles').where('community_id', '=', communityId).where('user_id', '=', userId).executeTakeFirst();
    if (Number(res.numDeletedRows) === 0) throw notFound('user');
    await trx
      .updateTable('groups')
      .set({ monitor_user_id: null })
      .where('community_id', '=', communityId)
      .where('monitor_user_id', '=', userId)
      .execute();
    await trx
      .updateTable('groups')
      .set({ leader_user_id: null })
      .where('community_id', '=', communityId)
      .where('leader_user_id', '=', userId)
      .execute();
    await recordRoleChange(trx, communityId, userId, null, actor, now);
  });
  deps.authCache?.forgetCommunity(communityId);
}

/** Admins run HQ but only owners appoint, demote or remove admins. */
async function assertMayChangeRole(trx: Trx, communityId: string, actor: Actor, userId: string, role: string | null) {
  if (actor.role === 'owner') return;
  const current = await findCommunityRole(trx, communityId, userId);
  if (role === 'admin' || current?.role === 'admin') throw forbidden('Only an owner can appoint, demote or remove admins');
}

const recordRoleChange = (trx: Trx, communityId: string, userId: string, role: string | null, actor: Actor, now: string) =>
  insertEvent(
    trx,
    { community_id: communityId, type: 'role_changed', occurred_at: now, actor_user_id: actor.userId, props: { user_id: userId, role } },
    now,
  );

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/**
 * The community a CLI command names by `--community <slug>`; when there is none yet it is created
 * with defaults (name = slug, type interest, Asia/Shanghai, CNY) in the default workspace.
 */
export async function ensureCommunityBySlug(deps: Deps, slug: string): Promise<{ community: Community; created: boolean }> {
  const existing = await findCommunityBySlug(deps.db, slug);
  if (existing) return { community: existing, created: false };
  const input = CreateCommunitySchema.parse({ name: slug, slug, type: 'interest' });
  const workspaceId = await findOrCreateDefaultWorkspace(deps.db, deps.clock.now().toISOString());
  return { community: await createCommunity(deps, workspaceId, input), created: true };
}
