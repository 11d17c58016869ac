import type { Db, Trx } from '../../db/kysely.js';
import { flag } from '../../db/codecs.js';
import { newId } from '../../lib/ids.js';
import type { WorkspaceRole } from '../../../../contracts/src/index.js';

export async function createWorkspaceForUser(trx: Trx | Db, userId: string, name: string, now: string, isDemo = false) {
  const id = newId('ws');
  await trx.insertInto('workspaces').values({ id, name, is_demo: isDemo ? 1 : 0, created_at: now }).execute();
  await trx.insertInto('workspace_members').values({ workspace_id: id, user_id: userId, role: 'owner', created_at: now }).execute();
  return id;
}

/** Workspaces created before any account existed (the demo) go to the install owner. */
export async function claimOwnerlessWorkspaces(trx: Trx, userId: string, now: string) {
  const ownerless = await trx
    .selectFrom('workspaces')
    .select('id')
    .where((eb) => eb.not(eb.exists(eb.selectFrom('workspace_members').select('user_id').whereRef('workspace_id', '=', 'workspaces.id'))))
    .execute();
  for (const w of ownerless) {
    await trx.insertInto('workspace_members').values({ workspace_id: w.id, user_id: userId, role: 'owner', created_at: now }).execute();
  }
}

export async function listWorkspacesForUser(db: Db, userId: string) {
  const rows = await db
    .selectFrom('workspaces')
    .innerJoin('workspace_members', 'workspace_members.workspace_id', 'workspaces.id')
    .select(['workspaces.id', 'workspaces.name', 'workspaces.is_demo', 'workspaces.created_at', 'workspace_members.role'])
    .where('workspace_members.user_id', '=', userId)
    .orderBy('workspaces.created_at')
    .execute();
  return rows.map((r) => ({
    id: r.id,
    name: r.name,
    role: r.role as WorkspaceRole,
    is_demo: flag(r.is_demo),
    created_at: r.created_at,
  }));
}

export async function findWorkspaceRole(db: Db | Trx, userId: string, workspaceId: string): Promise<WorkspaceRole | null> {
  const row = await db
    .selectFrom('workspace_members')
    .select('role')
    .where('user_id', '=', userId)
    .where('workspace_id', '=', workspaceId)
    .executeTakeFirst();
  return (row?.role as WorkspaceRole | undefined) ?? null;
}

/**
 * The workspace CLI commands put new communities in: the oldest non-demo workspace, or a new
 * ownerless one (the install owner claims it on sign-up).
 */
export async function findOrCreateDefaultWorkspace(db: Db, now: string): Promise<string> {
  const first = await db.selectFrom('workspaces').select('id').where('is_demo', '=', 0).orderBy('created_at').orderBy('id').limit(1).executeTakeFirst();
  if (first) return first.id;
  const id = newId('ws');
  await db.insertInto('workspaces').values({ id, name: 'Default workspace', is_demo: 0, created_at: now }).execute();
  return id;
}
