import type { Db, Trx } from '../../db/kysely.js';
import { toIdentity, type Identity } from './imports.repo.js';

export interface IdentityWithMember extends Identity {
  member: { id: string; display_name: string; status: string };
}

export async function listIdentitiesPage(
  db: Db,
  communityId: string,
  f: { platform?: string | undefined; member_id?: string | undefined },
  limit: number,
  cursor?: string,
): Promise<IdentityWithMember[]> {
  let q = db
    .selectFrom('member_identities as i')
    .innerJoin('members as m', 'm.id', 'i.member_id')
    .selectAll('i')
    .select(['m.display_name as m_display_name', 'm.status as m_status'])
    .where('i.community_id', '=', communityId);
  if (f.platform) q = q.where('i.platform', '=', f.platform);
  if (f.member_id) q = q.where('i.member_id', '=', f.member_id);
  if (cursor) q = q.where('i.id', '>', cursor);
  const rows = await q.orderBy('i.id').limit(limit).execute();
  return rows.map((r) => ({ ...toIdentity(r), member: { id: r.member_id, display_name: r.m_display_name, status: r.m_status } }));
}

export async function findIdentity(db: Db | Trx, communityId: string, id: string): Promise<Identity | null> {
  const r = await db.selectFrom('member_identities').selectAll().where('community_id', '=', communityId).where('id', '=', id).executeTakeFirst();
  return r ? toIdentity(r) : null;
}

export async function countIdentitiesOfMember(db: Db | Trx, communityId: string, memberId: string): Promise<number> {
  const r = await db
    .selectFrom('member_identities')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('community_id', '=', communityId)
    .where('member_id', '=', memberId)
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

export async function moveIdentities(trx: Trx, communityId: string, from: string, to: string): Promise<number> {
  const r = await trx.updateTable('member_identities').set({ member_id: to }).where('community_id', '=', communityId).where('member_id', '=', from).executeTakeFirst();
  return Number(r.numUpdatedRows);
}

export async function moveIdentity(trx: Trx, id: string, to: string): Promise<void> {
  await trx.updateTable('member_identities').set({ member_id: to }).where('id', '=', id).execute();
}
