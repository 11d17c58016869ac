import type { Selectable } from 'kysely';
import type { Db, Trx } from '../../db/kysely.js';
import { prepared } from '../../db/prepared.js';
import type { ApplicationsTable, MembersTable } from '../../db/types.js';
import { json } from '../../db/codecs.js';
import type { MemberStatus, Threshold } from '../../../../contracts/src/index.js';
import type { Review } from '../thresholds/index.js';
import { newId, secretToken } from '../../lib/ids.js';
import { sha256 } from '../../lib/hash.js';

export type MemberRow = Selectable<MembersTable>;
export type ApplicationRow = Selectable<ApplicationsTable>;

export interface Application {
  id: string;
  community_id: string;
  member_id: string;
  entry_link_id: string | null;
  threshold: Threshold;
  answers: Record<string, string>;
  reviews: Record<string, Review>;
  status: 'pending' | 'passed' | 'rejected';
  created_at: string;
  decided_at: string | null;
}

export const toApplication = (r: ApplicationRow): Application => ({
  id: r.id,
  community_id: r.community_id,
  member_id: r.member_id,
  entry_link_id: r.entry_link_id,
  threshold: json<Threshold>(r.threshold),
  answers: json<Record<string, string>>(r.answers),
  reviews: json<Record<string, Review>>(r.reviews),
  status: r.status as Application['status'],
  created_at: r.created_at,
  decided_at: r.decided_at,
});

const memberById = prepared((db, communityId: string, id: string) =>
  db.selectFrom('members').selectAll().where('community_id', '=', communityId).where('id', '=', id),
);
/** A new member has not joined, been onboarded or left yet: the columns those steps fill. */
export const UNSTARTED_MEMBER = {
  nickname: null,
  current_group_id: null,
  introduction: null,
  rules_accepted_at: null,
  introduced_at: null,
  onboarded_at: null,
  first_joined_at: null,
  last_joined_at: null,
  left_at: null,
  removal_reason: null,
} as const;

export const findMember = async (db: Db | Trx, communityId: string, id: string): Promise<MemberRow | undefined> =>
  (await memberById(db, communityId, id))[0];

export const findMemberByExternalId = (db: Db | Trx, communityId: string, externalId: string) =>
  db.selectFrom('members').selectAll().where('community_id', '=', communityId).where('external_id', '=', externalId).executeTakeFirst();

export async function findApplication(db: Db | Trx, communityId: string, id: string) {
  const r = await db.selectFrom('applications').selectAll().where('community_id', '=', communityId).where('id', '=', id).executeTakeFirst();
  return r ? toApplication(r) : null;
}

export async function findLatestApplication(db: Db | Trx, memberId: string) {
  const r = await db
    .selectFrom('applications')
    .selectAll()
    .where('member_id', '=', memberId)
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .executeTakeFirst();
  return r ? toApplication(r) : null;
}

export async function findPendingApplications(db: Db | Trx, communityId: string, memberIds: string[]) {
  if (!memberIds.length) return [];
  const rows = await db
    .selectFrom('applications')
    .selectAll()
    .where('community_id', '=', communityId)
    .where('member_id', 'in', memberIds)
    .where('status', '=', 'pending')
    .execute();
  return rows.map(toApplication);
}

/** People who became members through this member's own invite links. */
export async function countInvitedMembers(db: Db | Trx, communityId: string, memberId: string): Promise<number> {
  const row = await db
    .selectFrom('members')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('community_id', '=', communityId)
    .where('referrer_member_id', '=', memberId)
    .where('first_joined_at', 'is not', null)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

export async function activeProductIds(db: Db | Trx, memberId: string, now: string): Promise<Set<string>> {
  const rows = await db
    .selectFrom('memberships')
    .select('product_id')
    .where('member_id', '=', memberId)
    .where('starts_at', '<=', now)
    .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]))
    .execute();
  return new Set(rows.map((r) => r.product_id));
}

export interface MemberFilter {
  status?: MemberStatus | undefined;
  group_id?: string | undefined;
  entry_link_id?: string | undefined;
  referrer_member_id?: string | undefined;
  /** Restrict to members seated in these groups (monitors, leaders). */
  groupIds?: ReadonlySet<string> | null;
}

export async function listMembersPage(db: Db, communityId: string, f: MemberFilter, limit: number, cursor?: string) {
  let q = db.selectFrom('members').selectAll().where('community_id', '=', communityId);
  if (f.status) q = q.where('status', '=', f.status);
  if (f.group_id) q = q.where('current_group_id', '=', f.group_id);
  if (f.entry_link_id) q = q.where('entry_link_id', '=', f.entry_link_id);
  if (f.referrer_member_id) q = q.where('referrer_member_id', '=', f.referrer_member_id);
  if (f.groupIds) {
    const ids = [...f.groupIds];
    if (!ids.length) return [];
    q = q.where('current_group_id', 'in', ids);
  }
  if (cursor) q = q.where('id', '>', cursor);
  return q.orderBy('id').limit(limit).execute();
}

// ---- members whose lifecycle happens elsewhere (the ingest API) ----

/** The member's latest membership span, open or not. */
export const lastSpanOf = (db: Db | Trx, memberId: string) =>
  db
    .selectFrom('member_spans')
    .select(['id', 'group_id', 'joined_at', 'left_at'])
    .where('member_id', '=', memberId)
    .orderBy('joined_at', 'desc')
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirst();

/**
 * A person known from an outside system (the ingest API, a chat import) by external id: no member
 * token is handed out, since they act on the other platform, not here; not onboarded.
 */
export async function insertOutsideMemberRow(
  trx: Trx | Db,
  m: { id?: string; communityId: string; externalId: string; displayName: string; status: 'applicant' | 'left'; at: string; channel?: string | null },
): Promise<string> {
  const id = m.id ?? newId('mem');
  await trx
    .insertInto('members')
    .values({
      id,
      community_id: m.communityId,
      external_id: m.externalId,
      display_name: m.displayName,
      status: m.status,
      profile: '{}',
      token_hash: sha256(secretToken()),
      entry_link_id: null,
      channel: m.channel ?? null,
      referrer_member_id: null,
      ...UNSTARTED_MEMBER,
      created_at: m.at,
      updated_at: m.at,
    })
    .execute();
  return id;
}

/** A person first seen through the ingest API: an applicant until a join says they are a member. */
export async function insertOutsideMember(trx: Trx, communityId: string, externalId: string, displayName: string, at: string): Promise<MemberRow> {
  const id = await insertOutsideMemberRow(trx, { communityId, externalId, displayName, status: 'applicant', at });
  return (await findMember(trx, communityId, id))!;
}

export async function openSpan(trx: Trx, s: { community_id: string; member_id: string; group_id: string; joined_at: string }) {
  await trx
    .insertInto('member_spans')
    .values({ id: newId('spn'), ...s, entry_link_id: null, referrer_member_id: null, left_at: null, left_kind: null })
    .execute();
}

export async function closeOpenSpan(trx: Trx, memberId: string, kind: 'left' | 'removed', at: string) {
  await trx.updateTable('member_spans').set({ left_at: at, left_kind: kind }).where('member_id', '=', memberId).where('left_at', 'is', null).execute();
}
