import type { Db, Trx } from '../../db/kysely.js';
import type { CommunitiesTable } from '../../db/types.js';
import type { Selectable } from 'kysely';
import { flag, json } from '../../db/codecs.js';
import { Rules, Threshold, type CommunityRole, type CommunityType, type MonetizationMode } from '../../../../contracts/src/index.js';

export type CommunityRow = Selectable<CommunitiesTable>;

export interface Community {
  id: string;
  workspace_id: string;
  slug: string;
  name: string;
  value_proposition: string;
  values: string[];
  type: CommunityType;
  monetization_modes: MonetizationMode[];
  time_zone: string;
  currency: string;
  rules: Rules;
  threshold: Threshold;
  renewal_grace_days: number;
  is_demo: boolean;
  created_at: string;
  updated_at: string;
}

/** Rules and thresholds are parsed on read so rows written by older versions gain new defaults. */
export function toCommunity(r: CommunityRow): Community {
  return {
    id: r.id,
    workspace_id: r.workspace_id,
    slug: r.slug,
    name: r.name,
    value_proposition: r.value_proposition,
    values: json<string[]>(r.values),
    type: r.type as CommunityType,
    monetization_modes: json<MonetizationMode[]>(r.monetization_modes),
    time_zone: r.time_zone,
    currency: r.currency,
    rules: Rules.parse(json(r.rules)),
    threshold: Threshold.parse(json(r.threshold)),
    renewal_grace_days: r.renewal_grace_days,
    is_demo: flag(r.is_demo),
    created_at: r.created_at,
    updated_at: r.updated_at,
  };
}

export const findCommunityById = async (db: Db | Trx, id: string) => {
  const row = await db.selectFrom('communities').selectAll().where('id', '=', id).executeTakeFirst();
  return row ? toCommunity(row) : null;
};

/** The community's renewal grace window in days (what payments and expiry need, without parsing the rest). */
export async function findRenewalGraceDays(db: Db | Trx, communityId: string): Promise<number> {
  const row = await db.selectFrom('communities').select('renewal_grace_days').where('id', '=', communityId).executeTakeFirstOrThrow();
  return row.renewal_grace_days;
}

export const findCommunityBySlug = async (db: Db | Trx, slug: string) => {
  const row = await db.selectFrom('communities').selectAll().where('slug', '=', slug).executeTakeFirst();
  return row ? toCommunity(row) : null;
};

export const listCommunitiesOfWorkspace = async (db: Db, workspaceId: string) =>
  (await db.selectFrom('communities').selectAll().where('workspace_id', '=', workspaceId).orderBy('created_at').execute()).map(toCommunity);

export async function listStaff(db: Db, communityId: string, workspaceId: string) {
  const hq = await db
    .selectFrom('workspace_members')
    .innerJoin('users', 'users.id', 'workspace_members.user_id')
    .select(['users.id', 'users.name', 'users.email', 'workspace_members.role'])
    .where('workspace_members.workspace_id', '=', workspaceId)
    .execute();
  const roles = await db
    .selectFrom('community_roles')
    .innerJoin('users', 'users.id', 'community_roles.user_id')
    .select(['users.id', 'users.name', 'users.email', 'community_roles.role'])
    .where('community_roles.community_id', '=', communityId)
    .execute();
  const groups = await db
    .selectFrom('groups')
    .select(['id', 'monitor_user_id', 'leader_user_id'])
    .where('community_id', '=', communityId)
    .execute();
  const byUser = new Map<string, { user_id: string; name: string; email: string; role: CommunityRole; group_ids: string[] }>();
  for (const r of [...roles, ...hq]) byUser.set(r.id, { user_id: r.id, name: r.name, email: r.email, role: r.role as CommunityRole, group_ids: [] });
  for (const g of groups) {
    for (const uid of [g.monitor_user_id, g.leader_user_id]) if (uid) byUser.get(uid)?.group_ids.push(g.id);
  }
  return [...byUser.values()];
}

export const findCommunityRole = (db: Db | Trx, communityId: string, userId: string) =>
  db.selectFrom('community_roles').select('role').where('community_id', '=', communityId).where('user_id', '=', userId).executeTakeFirst();
