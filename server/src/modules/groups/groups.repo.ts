import type { Selectable } from 'kysely';
import type { Db, Trx } from '../../db/kysely.js';
import type { GroupsTable } from '../../db/types.js';
import { json, jsonOrNull } from '../../db/codecs.js';
import type { Threshold } from '../../../../contracts/src/index.js';

export type GroupRow = Selectable<GroupsTable>;
export type GroupTags = { theme?: string; tier?: string; city?: string; cohort?: string };

export interface Group {
  id: string;
  community_id: string;
  name: string;
  tags: GroupTags;
  capacity: number;
  seated: number;
  status: 'open' | 'full' | 'archived';
  monitor_user_id: string | null;
  leader_user_id: string | null;
  threshold: Threshold | null;
  created_from_link_id: string | null;
  created_at: string;
}

export const toGroup = (r: GroupRow): Group => ({
  id: r.id,
  community_id: r.community_id,
  name: r.name,
  tags: json<GroupTags>(r.tags),
  capacity: r.capacity,
  seated: r.seated_count,
  status: r.status as Group['status'],
  monitor_user_id: r.monitor_user_id,
  leader_user_id: r.leader_user_id,
  threshold: jsonOrNull<Threshold>(r.threshold),
  created_from_link_id: r.created_from_link_id,
  created_at: r.created_at,
});

export async function findGroup(db: Db | Trx, communityId: string, id: string): Promise<Group | null> {
  const row = await db.selectFrom('groups').selectAll().where('community_id', '=', communityId).where('id', '=', id).executeTakeFirst();
  return row ? toGroup(row) : null;
}

export async function findGroupsByIds(db: Db | Trx, communityId: string, ids: readonly string[]): Promise<Group[]> {
  if (!ids.length) return [];
  const rows = await db.selectFrom('groups').selectAll().where('community_id', '=', communityId).where('id', 'in', ids).execute();
  const byId = new Map(rows.map((r) => [r.id, toGroup(r)]));
  return ids.map((id) => byId.get(id)).filter((g): g is Group => !!g);
}

export async function listGroupsOfCommunity(db: Db, communityId: string): Promise<Group[]> {
  const rows = await db.selectFrom('groups').selectAll().where('community_id', '=', communityId).orderBy('created_at').orderBy('id').execute();
  return rows.map(toGroup);
}

/**
 * Takes one seat if the group is open and has one, atomically: the conditional UPDATE is what keeps
 * concurrent joins from overfilling a group on PostgreSQL (row lock + re-check) and on SQLite
 * (single writer). Returns false when no seat was taken.
 */
export async function takeSeat(trx: Trx, groupId: string, now: string): Promise<boolean> {
  const res = await trx
    .updateTable('groups')
    .set((eb) => ({
      seated_count: eb('seated_count', '+', 1),
      status: eb.case().when(eb('seated_count', '+', 1), '>=', eb.ref('capacity')).then('full').else('open').end(),
      updated_at: now,
    }))
    .where('id', '=', groupId)
    .where('status', '=', 'open')
    .whereRef('seated_count', '<', 'capacity')
    .executeTakeFirst();
  return Number(res.numUpdatedRows) === 1;
}

export async function releaseSeat(trx: Trx, groupId: string, now: string): Promise<void> {
  await trx
    .updateTable('groups')
    .set((eb) => ({
      seated_count: eb('seated_count', '-', 1),
      status: eb.case().when('status', '=', 'archived').then('archived').else('open').end(),
      updated_at: now,
    }))
    .where('id', '=', groupId)
    .where('seated_count', '>', 0)
    .execute();
}

export interface NewGroup {
  name: string;
  tags: GroupTags;
  capacity: number;
  monitor_user_id?: string | null;
  leader_user_id?: string | null;
  threshold?: Threshold | null;
  created_from_link_id?: string | null;
}

export async function insertGroup(trx: Trx | Db, id: string, communityId: string, g: NewGroup, now: string) {
  await trx
    .insertInto('groups')
    .values({
      id,
      community_id: communityId,
      name: g.name,
      tags: JSON.stringify(g.tags),
      capacity: g.capacity,
      status: 'open',
      monitor_user_id: g.monitor_user_id ?? null,
      leader_user_id: g.leader_user_id ?? null,
      threshold: g.threshold ? JSON.stringify(g.threshold) : null,
      created_from_link_id: g.created_from_link_id ?? null,
      created_at: now,
      updated_at: now,
    })
    .execute();
}

export const findGroupByName = (db: Db | Trx, communityId: string, name: string) =>
  db.selectFrom('groups').select(['id', 'status']).where('community_id', '=', communityId).where('name', '=', name).orderBy('created_at').orderBy('id').executeTakeFirst();

/**
 * Seats someone whose join happened elsewhere (a chat platform, reported by the ingest API): the
 * join is a fact, so it counts even past the capacity, and `releaseSeat` undoes it on leave.
 */
export async function occupySeat(trx: Trx, groupId: string, now: string): Promise<void> {
  await trx
    .updateTable('groups')
    .set((eb) => ({
      seated_count: eb('seated_count', '+', 1),
      status: eb.case().when('status', '=', 'archived').then('archived').when(eb('seated_count', '+', 1), '>=', eb.ref('capacity')).then('full').else('open').end(),
      updated_at: now,
    }))
    .where('id', '=', groupId)
    .execute();
}
