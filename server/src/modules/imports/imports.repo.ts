import { sql, type Selectable } from 'kysely';
import { isPostgres, type Db, type Trx } from '../../db/kysely.js';
import { encodeJson, json } from '../../db/codecs.js';
import { statementChunks } from '../../db/chunks.js';
import type { MemberIdentitiesTable } from '../../db/types.js';
import { newId } from '../../lib/ids.js';
import { LIMITS } from '../../../../contracts/src/index.js';
import { insertOutsideMemberRow } from '../members/index.js';

export type IdentityRow = Selectable<MemberIdentitiesTable>;

export interface Identity {
  id: string;
  community_id: string;
  platform: string;
  external_id: string;
  member_id: string;
  display_names: string[];
  first_seen_at: string;
  last_seen_at: string;
}

export const toIdentity = (r: IdentityRow): Identity => ({
  id: r.id,
  community_id: r.community_id,
  platform: r.platform,
  external_id: r.external_id,
  member_id: r.member_id,
  display_names: json<string[]>(r.display_names),
  first_seen_at: r.first_seen_at,
  last_seen_at: r.last_seen_at,
});

/** Rows per `IN (…)` list, well within both dialects' parameter limits. */
const CHUNK = 500;

export async function findIdentitiesByExternalIds(db: Db | Trx, communityId: string, platform: string, externalIds: readonly string[]): Promise<Identity[]> {
  const out: Identity[] = [];
  for (const chunk of statementChunks(externalIds, CHUNK)) {
    const rows = await db
      .selectFrom('member_identities')
      .selectAll()
      .where('community_id', '=', communityId)
      .where('platform', '=', platform)
      .where('external_id', 'in', chunk)
      .execute();
    out.push(...rows.map(toIdentity));
  }
  return out;
}

/** Identities of the platform that have been seen under this display name (exact match). */
export async function findIdentitiesByName(db: Db | Trx, communityId: string, platform: string, name: string): Promise<Identity[]> {
  const needle = `%${JSON.stringify(name).slice(1, -1).replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
  const text = isPostgres(db) ? sql<string>`display_names::text` : sql<string>`display_names`;
  const rows = await db
    .selectFrom('member_identities')
    .selectAll()
    .where('community_id', '=', communityId)
    .where('platform', '=', platform)
    .where(sql<boolean>`${text} LIKE ${needle} ESCAPE '\\'`)
    .orderBy('first_seen_at')
    .orderBy('id')
    .execute();
  return rows.map(toIdentity).filter((i) => i.display_names.includes(name));
}

export async function insertIdentity(trx: Trx | Db, i: Omit<Identity, 'id'>): Promise<string> {
  const id = newId('idn');
  await trx
    .insertInto('member_identities')
    .values({ ...i, id, display_names: encodeJson(i.display_names) })
    .execute();
  return id;
}

/**
 * Writes the names and first / last seen times of identities that exist (read in this transaction),
 * many a statement: an import batch touches most of its people, and one UPDATE each was most of
 * the batch's queries. An upsert on the identity's key that always conflicts, so it only updates.
 */
export async function updateIdentitiesSeen(trx: Trx, rows: readonly Identity[]): Promise<void> {
  for (const chunk of statementChunks(rows, CHUNK / 2)) {
    await trx
      .insertInto('member_identities')
      .values(chunk.map((r) => ({ ...r, display_names: encodeJson(r.display_names) })))
      .onConflict((oc) =>
        oc.columns(['community_id', 'platform', 'external_id']).doUpdateSet((eb) => ({
          display_names: eb.ref('excluded.display_names'),
          first_seen_at: eb.ref('excluded.first_seen_at'),
          last_seen_at: eb.ref('excluded.last_seen_at'),
        })),
      )
      .execute();
  }
}

/** A member known only from an import (insertOutsideMemberRow), status `left` until the pipeline seats them. */
export async function insertImportedMember(trx: Trx | Db, communityId: string, externalId: string, displayName: string, at: string): Promise<string> {
  // Unique per community: a member made elsewhere (the ingest API, a split) may hold it already.
  const free = !(await externalIdTaken(trx, communityId, externalId));
  const name = [...displayName].slice(0, LIMITS.name).join('') || externalId;
  // The suffix must be unique too: the member's own id, chosen before the row exists.
  const id = newId('mem');
  return insertOutsideMemberRow(trx, { id, communityId, externalId: free ? externalId : `${externalId}#${id}`, displayName: name, status: 'left', at });
}

const externalIdTaken = async (db: Db | Trx, communityId: string, externalId: string) =>
  !!(await db.selectFrom('members').select('id').where('community_id', '=', communityId).where('external_id', '=', externalId).executeTakeFirst());

/** Gives the member a better external id, unless another member has it already (it is unique). */
export async function renameExternalId(trx: Trx, communityId: string, memberId: string, from: string, to: string): Promise<void> {
  if (await externalIdTaken(trx, communityId, to)) return;
  await trx.updateTable('members').set({ external_id: to }).where('id', '=', memberId).where('external_id', '=', from).execute();
}

export async function findGroupIdByName(db: Db | Trx, communityId: string, name: string): Promise<string | undefined> {
  const r = await db
    .selectFrom('groups')
    .select('id')
    .where('community_id', '=', communityId)
    .where('name', '=', name)
    .orderBy('created_at')
    .orderBy('id')
    .executeTakeFirst();
  return r?.id;
}

export interface OpenSpan {
  id: string;
  member_id: string;
  group_id: string;
  joined_at: string;
}

export async function findOpenSpans(db: Db | Trx, communityId: string, memberIds: readonly string[]): Promise<OpenSpan[]> {
  const out: OpenSpan[] = [];
  for (const chunk of statementChunks(memberIds, CHUNK)) {
    out.push(
      ...(await db
        .selectFrom('member_spans')
        .select(['id', 'member_id', 'group_id', 'joined_at'])
        .where('community_id', '=', communityId)
        .where('member_id', 'in', chunk)
        .where('left_at', 'is', null)
        .execute()),
    );
  }
  return out;
}

export interface NewSpan {
  id: string;
  member_id: string;
  group_id: string;
  referrer_member_id: string | null;
  joined_at: string;
  left_at: string | null;
  left_kind: string | null;
}

export async function insertSpans(trx: Trx, communityId: string, spans: readonly NewSpan[]): Promise<void> {
  for (const chunk of statementChunks(spans, CHUNK)) {
    await trx
      .insertInto('member_spans')
      .values(chunk.map((s) => ({ ...s, community_id: communityId, entry_link_id: null })))
      .execute();
  }
}

export async function closeSpan(trx: Trx, spanId: string, at: string, kind: string): Promise<void> {
  await trx.updateTable('member_spans').set({ left_at: at, left_kind: kind }).where('id', '=', spanId).where('left_at', 'is', null).execute();
}

/** Seats taken (+) and freed (−) by an import batch; the count never goes below zero. */
export async function adjustSeats(trx: Trx, groupId: string, delta: number, at: string): Promise<void> {
  if (!delta) return;
  await trx
    .updateTable('groups')
    .set((eb) => ({
      seated_count: eb.case().when(eb('seated_count', '+', delta), '<', 0).then(0).else(eb('seated_count', '+', delta)).end(),
      updated_at: at,
    }))
    .where('id', '=', groupId)
    .execute();
}

export interface MemberFacts {
  id: string;
  status: string;
  first_joined_at: string | null;
  last_joined_at: string | null;
  left_at: string | null;
}

export async function findMemberFacts(db: Db | Trx, communityId: string, ids: readonly string[]): Promise<MemberFacts[]> {
  const out: MemberFacts[] = [];
  for (const chunk of statementChunks(ids, CHUNK)) {
    out.push(
      ...(await db
        .selectFrom('members')
        .select(['id', 'status', 'first_joined_at', 'last_joined_at', 'left_at'])
        .where('community_id', '=', communityId)
        .where('id', 'in', chunk)
        .execute()),
    );
  }
  return out;
}

export async function updateMemberState(
  trx: Trx,
  id: string,
  s: { status: string; current_group_id: string | null; first_joined_at: string | null; last_joined_at: string | null; left_at: string | null },
  at: string,
): Promise<void> {
  await trx.updateTable('members').set({ ...s, updated_at: at }).where('id', '=', id).execute();
}

const propText = (db: Db | Trx, key: string) => (isPostgres(db) ? sql<string>`props->>${key}` : sql<string>`json_extract(props, ${`$.${key}`})`);

/**
 * Authors of earlier imported messages of a chat, by message key: replies that cross import runs
 * still point at the member they answer. Rare (only replies whose target is not in this run).
 */
export async function findImportedAuthors(db: Db | Trx, communityId: string, source: string, keys: readonly string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const chunk of statementChunks(keys, CHUNK)) {
    const rows = await db
      .selectFrom('events')
      .select(['member_id', propText(db, 'key').as('key')])
      .where('community_id', '=', communityId)
      .where('type', 'in', ['message', 'reply'])
      .where(propText(db, 'import_source'), '=', source)
      .where(propText(db, 'key'), 'in', chunk)
      .execute();
    for (const r of rows) if (r.member_id && r.key) out.set(r.key, r.member_id);
  }
  return out;
}
