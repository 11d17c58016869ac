import type { Selectable } from 'kysely';
import type { Db, Trx } from '../../db/kysely.js';
import { isPostgres } from '../../db/kysely.js';
import type { EntryLinksTable } from '../../db/types.js';
import { json, jsonOrNull } from '../../db/codecs.js';
import type { SegmentRule } from '../../../../contracts/src/index.js';
import type { GroupTags } from '../groups/groups.repo.js';

export interface OverflowTemplate {
  name?: string | undefined;
  capacity?: number | undefined;
  tags?: GroupTags | undefined;
}

export interface EntryLink {
  id: string;
  community_id: string;
  code: string;
  name: string;
  channel: string;
  owner_user_id: string | null;
  owner_member_id: string | null;
  group_ids: string[];
  overflow_template: OverflowTemplate | null;
  segment_rules: SegmentRule[];
  expires_at: string | null;
  max_uses: number | null;
  uses: number;
  visits: number;
  status: 'active' | 'disabled';
  created_at: string;
}

export const toLink = (r: Selectable<EntryLinksTable>): EntryLink => ({
  id: r.id,
  community_id: r.community_id,
  code: r.code,
  name: r.name,
  channel: r.channel,
  owner_user_id: r.owner_user_id,
  owner_member_id: r.owner_member_id,
  group_ids: json<string[]>(r.group_ids),
  overflow_template: jsonOrNull<OverflowTemplate>(r.overflow_template),
  segment_rules: json<SegmentRule[]>(r.segment_rules),
  expires_at: r.expires_at,
  max_uses: r.max_uses,
  uses: r.uses,
  visits: r.visits,
  status: r.status as EntryLink['status'],
  created_at: r.created_at,
});

export async function findLink(db: Db | Trx, communityId: string, id: string) {
  const r = await db.selectFrom('entry_links').selectAll().where('community_id', '=', communityId).where('id', '=', id).executeTakeFirst();
  return r ? toLink(r) : null;
}

export async function findLinkByCode(db: Db | Trx, code: string) {
  const r = await db.selectFrom('entry_links').selectAll().where('code', '=', code).executeTakeFirst();
  return r ? toLink(r) : null;
}

/**
 * Re-reads the link holding its row lock (PostgreSQL), so joins through one link that overflow into
 * a new group do it one at a time. SQLite transactions are already serialized.
 */
export async function lockLink(trx: Trx, id: string): Promise<EntryLink> {
  let q = trx.selectFrom('entry_links').selectAll().where('id', '=', id);
  if (isPostgres(trx)) q = q.forUpdate();
  return toLink(await q.executeTakeFirstOrThrow());
}

export async function listLinksOfCommunity(db: Db, communityId: string) {
  return (await db.selectFrom('entry_links').selectAll().where('community_id', '=', communityId).orderBy('created_at').execute()).map(toLink);
}

export const findMemberLink = async (db: Db | Trx, communityId: string, memberId: string) => {
  const r = await db
    .selectFrom('entry_links')
    .selectAll()
    .where('community_id', '=', communityId)
    .where('owner_member_id', '=', memberId)
    .orderBy('created_at')
    .executeTakeFirst();
  return r ? toLink(r) : null;
};
