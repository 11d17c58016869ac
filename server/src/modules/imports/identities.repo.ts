import { sql } from 'kysely';
import { isPostgres, type Db, type Trx } from '../../db/kysely.js';
import { encodeJson, json } from '../../db/codecs.js';
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

export async function identitiesOfMember(db: Db | Trx, communityId: string, memberId: string): Promise<Identity[]> {
  const rows = await db.selectFrom('member_identities').selectAll().where('community_id', '=', communityId).where('member_id', '=', memberId).orderBy('first_seen_at').orderBy('id').execute();
  return rows.map(toIdentity);
}

/** Whether the member has anything a merge may not move: orders, memberships, applications, payment methods, own links. */
export async function hasNativeRecords(db: Db | Trx, memberId: string): Promise<boolean> {
  for (const table of ['orders', 'memberships', 'applications', 'member_payment_methods'] as const) {
    if (await db.selectFrom(table).select('member_id').where('member_id', '=', memberId).limit(1).executeTakeFirst()) return true;
  }
  return !!(await db.selectFrom('entry_links').select('id').where('owner_member_id', '=', memberId).limit(1).executeTakeFirst());
}

export async function moveIdentities(trx: Trx, communityId: string, from: string, to: string): Promise<number> {
  const r = await trx.updateTable('member_identities').set({ member_id: to }).where('community_id', '=', communityId).where('member_id', '=', from).executeTakeFirst();
  return Number(r.numUpdatedRows);
}

export async function moveIdentity(trx: Trx, id: string, to: string): Promise<void> {
  await trx.updateTable('member_identities').set({ member_id: to }).where('id', '=', id).execute();
}

/** Everything of `from` in the event log and spans becomes `to`'s: actor, referrer and member ids inside props. */
export async function repointMember(trx: Trx, communityId: string, from: string, to: string): Promise<{ events: number; spans: number }> {
  const ev = await trx.updateTable('events').set({ member_id: to }).where('community_id', '=', communityId).where('member_id', '=', from).executeTakeFirst();
  await trx.updateTable('events').set({ referrer_member_id: to }).where('community_id', '=', communityId).where('referrer_member_id', '=', from).execute();
  await rewritePropsMember(trx, communityId, from, to, () => true);
  const sp = await trx.updateTable('member_spans').set({ member_id: to }).where('community_id', '=', communityId).where('member_id', '=', from).executeTakeFirst();
  await trx.updateTable('member_spans').set({ referrer_member_id: to }).where('community_id', '=', communityId).where('referrer_member_id', '=', from).execute();
  await trx.updateTable('members').set({ referrer_member_id: to }).where('community_id', '=', communityId).where('referrer_member_id', '=', from).execute();
  return { events: Number(ev.numUpdatedRows), spans: Number(sp.numUpdatedRows) };
}

const propsText = (db: Db | Trx) => (isPostgres(db) ? sql<string>`props::text` : sql<string>`props`);

/** Replaces member id `from` by `to` in the props of the events `which` selects (to_member_id, by_member_id, …). */
export async function rewritePropsMember(trx: Trx, communityId: string, from: string, to: string, which: (props: Record<string, unknown>) => boolean): Promise<void> {
  const rows = await trx
    .selectFrom('events')
    .select(['id', 'props'])
    .where('community_id', '=', communityId)
    .where(sql<boolean>`${propsText(trx)} LIKE ${`%${from}%`}`)
    .execute();
  for (const r of rows) {
    const props = json<Record<string, unknown>>(r.props);
    if (!which(props)) continue;
    let changed = false;
    for (const [k, v] of Object.entries(props)) {
      if (v === from) {
        props[k] = to;
        changed = true;
      }
    }
    if (changed) await trx.updateTable('events').set({ props: encodeJson(props) }).where('id', '=', r.id).execute();
  }
}

/** Imported events of one identity of a member (props.identity and props.platform, as the import writes them). */
export async function importedEventsOf(trx: Trx, communityId: string, memberId: string, platform: string, externalId: string) {
  const rows = await trx.selectFrom('events').select(['id', 'type', 'group_id', 'occurred_at', 'props']).where('community_id', '=', communityId).where('member_id', '=', memberId).execute();
  return rows
    .map((r) => ({ ...r, id: Number(r.id), props: json<Record<string, unknown>>(r.props) }))
    .filter((r) => r.props.platform === platform && r.props.identity === externalId);
}

export async function setEventsMember(trx: Trx, ids: readonly number[], memberId: string): Promise<void> {
  for (let i = 0; i < ids.length; i += 500) await trx.updateTable('events').set({ member_id: memberId }).where('id', 'in', ids.slice(i, i + 500)).execute();
}

/** Moves the member's span in the group that started at this instant (the one a moved `joined` event opened). */
export async function moveSpanStartedAt(trx: Trx, from: string, to: string, groupId: string, joinedAt: string): Promise<number> {
  const r = await trx.updateTable('member_spans').set({ member_id: to }).where('member_id', '=', from).where('group_id', '=', groupId).where('joined_at', '=', joinedAt).executeTakeFirst();
  return Number(r.numUpdatedRows);
}

export async function spansOf(db: Db | Trx, memberId: string) {
  return db.selectFrom('member_spans').select(['group_id', 'joined_at', 'left_at', 'left_kind']).where('member_id', '=', memberId).orderBy('joined_at').execute();
}

/** Seats follow open spans again for these groups (after spans changed hands). */
export async function recountSeats(trx: Trx, groupIds: readonly string[], at: string): Promise<void> {
  for (const g of groupIds) {
    const r = await trx.selectFrom('member_spans').select((eb) => eb.fn.count<number>('member_id').distinct().as('n')).where('group_id', '=', g).where('left_at', 'is', null).executeTakeFirstOrThrow();
    await trx.updateTable('groups').set({ seated_count: Number(r.n), updated_at: at }).where('id', '=', g).execute();
  }
}

export async function deleteMember(trx: Trx, communityId: string, id: string): Promise<void> {
  await trx.deleteFrom('members').where('community_id', '=', communityId).where('id', '=', id).execute();
}

export async function setMemberExternalId(trx: Trx, id: string, externalId: string | null, at: string): Promise<void> {
  await trx.updateTable('members').set({ external_id: externalId, updated_at: at }).where('id', '=', id).execute();
}
