import { sql, type RawBuilder } from 'kysely';
import { isPostgres, type Db, type Trx } from '../../db/kysely.js';
import type { DayBounds } from './rollups.repo.js';

/**
 * SQL of the per-day member sets (analytics_day_sets) and the member ordinals they are indexed by.
 * Joins to member_ordinals are written as CROSS JOIN: SQLite then keeps the written order (the
 * day's rows first, one ordinal lookup each) instead of scanning every ordinal when the table has no
 * statistics yet; PostgreSQL plans a CROSS JOIN with conditions like any inner join.
 */

type Q = Db | Trx;

/**
 * - active: members with ≥1 engagement event that local day (analytics_member_days.engagement);
 * - payers: members with a paid order (paid, partially or fully refunded since) paid that day;
 * - starts / referred_starts: members whose stay (member_stays), or referred stay, started that day;
 * - members_at: members whose stay holds the day's local midnight t0 (start < t0 ≤ end, or open);
 * - active_week / active_month: the union of the active sets of the ISO week starting on `day` (a
 *   Monday) / of the month starting on `day` (the 1st), so a long period reads few sets.
 */
export type DaySetKind = 'active' | 'active_week' | 'active_month' | 'payers' | 'starts' | 'referred_starts' | 'members_at';

const text = (v: string): RawBuilder<string> => sql<string>`CAST(${v} AS text)`;
const ts = (db: Q, v: string) => (isPostgres(db) ? sql`CAST(${v} AS timestamptz)` : sql`${v}`);
const boundsTable = (db: Q, days: readonly DayBounds[]) =>
  sql`rollup_days (day, t0, t1) AS (VALUES ${sql.join(days.map((d) => sql`(${text(d.day)}, ${ts(db, d.t0)}, ${ts(db, d.t1)})`))})`;

/**
 * Numbers the members that `source` (a SELECT of `member_id`) names and that have no ordinal yet,
 * after the community's highest. Run under lockCommunityRollups, like every rollup write.
 */
export async function assignOrdinals(trx: Trx, communityId: string, source: RawBuilder<unknown>): Promise<void> {
  await sql`
    INSERT INTO member_ordinals (community_id, member_id, n)
    SELECT ${text(communityId)}, x.member_id,
      (SELECT COALESCE(MAX(o.n), 0) FROM member_ordinals o WHERE o.community_id = ${communityId}) + ROW_NUMBER() OVER (ORDER BY x.member_id)
    FROM (
      SELECT DISTINCT s.member_id AS member_id FROM (${source}) s
      WHERE s.member_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM member_ordinals o WHERE o.community_id = ${communityId} AND o.member_id = s.member_id)
    ) x`.execute(trx);
}

export async function findOrdinals(db: Q, communityId: string, memberIds: readonly string[]): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (let i = 0; i < memberIds.length; i += 500) {
    const rows = await db
      .selectFrom('member_ordinals')
      .select(['member_id', 'n'])
      .where('community_id', '=', communityId)
      .where('member_id', 'in', memberIds.slice(i, i + 500))
      .execute();
    for (const r of rows) out.set(r.member_id, Number(r.n));
  }
  return out;
}

/** (day, ordinal) pairs of the active members and payers of some local days. */
export async function findActivityOrdinals(trx: Trx, communityId: string, days: readonly DayBounds[]) {
  const c = communityId;
  const labels = days.map((d) => d.day);
  await assignOrdinals(
    trx,
    c,
    sql`SELECT member_id FROM analytics_member_days WHERE community_id = ${c} AND day IN (${sql.join(labels)}) AND engagement > 0`,
  );
  const active = await sql<{ day: string; n: number }>`
    SELECT d.day AS day, o.n AS n FROM analytics_member_days d CROSS JOIN member_ordinals o
    WHERE d.community_id = ${c} AND d.day IN (${sql.join(labels)}) AND d.engagement > 0 AND o.community_id = ${c} AND o.member_id = d.member_id`.execute(trx);
  const paidIn = sql`SELECT rd.day AS day, x.member_id AS member_id FROM rollup_days rd CROSS JOIN orders x WHERE x.community_id = ${c}
    AND x.paid_at >= rd.t0 AND x.paid_at < rd.t1 AND x.paid_at IS NOT NULL AND x.status IN ('paid', 'partially_refunded', 'refunded')`;
  await assignOrdinals(trx, c, sql`WITH ${boundsTable(trx, days)} SELECT p.member_id FROM (${paidIn}) p`);
  const payers = await sql<{ day: string; n: number }>`
    WITH ${boundsTable(trx, days)}
    SELECT p.day AS day, o.n AS n FROM (${paidIn}) p CROSS JOIN member_ordinals o WHERE o.community_id = ${c} AND o.member_id = p.member_id`.execute(trx);
  return { active: active.rows, payers: payers.rows };
}

/** (day, ordinal, referred) of the stays that start on some local days. */
export async function findStartOrdinals(trx: Trx, communityId: string, days: readonly DayBounds[]) {
  const c = communityId;
  const r = await sql<{ day: string; n: number; referred: number }>`
    WITH ${boundsTable(trx, days)}
    SELECT rd.day AS day, o.n AS n, st.referred AS referred FROM rollup_days rd CROSS JOIN member_stays st CROSS JOIN member_ordinals o
    WHERE st.community_id = ${c} AND st.start_at >= rd.t0 AND st.start_at < rd.t1 AND o.community_id = ${c} AND o.member_id = st.member_id`.execute(trx);
  return r.rows;
}

export interface OrdinalStay {
  n: number;
  start: number;
  end: number | null;
}

const ms = (v: unknown) => (v instanceof Date ? v.getTime() : Date.parse(String(v)));

/** Every stay of the community with its member's ordinal (members_at from scratch). */
export async function findAllStays(trx: Trx, communityId: string): Promise<OrdinalStay[]> {
  const rows = await sql<{ n: number; start_at: unknown; end_at: unknown }>`
    SELECT o.n AS n, st.start_at AS start_at, st.end_at AS end_at FROM member_stays st
    JOIN member_ordinals o ON o.community_id = st.community_id AND o.member_id = st.member_id
    WHERE st.community_id = ${communityId}`.execute(trx);
  return rows.rows.map((r) => ({ n: Number(r.n), start: ms(r.start_at), end: r.end_at === null ? null : ms(r.end_at) }));
}

/** The stays of some members, by member id. */
export async function findStaysOf(db: Q, communityId: string, memberIds: readonly string[]): Promise<Map<string, { start: number; end: number | null }[]>> {
  const out = new Map<string, { start: number; end: number | null }[]>();
  for (let i = 0; i < memberIds.length; i += 500) {
    const rows = await db
      .selectFrom('member_stays')
      .select(['member_id', 'start_at', 'end_at'])
      .where('community_id', '=', communityId)
      .where('member_id', 'in', memberIds.slice(i, i + 500))
      .execute();
    for (const r of rows) {
      const list = out.get(r.member_id) ?? [];
      list.push({ start: ms(r.start_at), end: r.end_at === null ? null : ms(r.end_at) });
      out.set(r.member_id, list);
    }
  }
  return out;
}

/** Every stay of the members with a stay starting or ending in [from, to) (ISO instants). */
export async function findStaysChangingBetween(db: Q, communityId: string, from: string, to: string): Promise<OrdinalStay[]> {
  const c = communityId;
  const f = ts(db, from);
  const t = ts(db, to);
  const rows = await sql<{ n: number; start_at: unknown; end_at: unknown }>`
    SELECT o.n AS n, st.start_at AS start_at, st.end_at AS end_at FROM member_stays st CROSS JOIN member_ordinals o
    WHERE o.community_id = st.community_id AND o.member_id = st.member_id AND st.community_id = ${c} AND st.member_id IN (
      SELECT a.member_id FROM member_stays a WHERE a.community_id = ${c} AND a.start_at >= ${f} AND a.start_at < ${t}
      UNION SELECT b.member_id FROM member_stays b WHERE b.community_id = ${c} AND b.end_at >= ${f} AND b.end_at < ${t}
    )`.execute(db);
  return rows.rows.map((r) => ({ n: Number(r.n), start: ms(r.start_at), end: r.end_at === null ? null : ms(r.end_at) }));
}

/** Replaces the sets of one kind for some days; `keepEmpty` stores empty sets too (members_at: a day's row says it was computed). */
export async function writeDaySets(trx: Trx, communityId: string, kind: DaySetKind, days: readonly string[], sets: ReadonlyMap<string, { members: number; bits: Uint8Array }>): Promise<void> {
  for (let i = 0; i < days.length; i += 200) {
    await trx.deleteFrom('analytics_day_sets').where('community_id', '=', communityId).where('kind', '=', kind).where('day', 'in', days.slice(i, i + 200)).execute();
  }
  const rows = days.flatMap((day) => {
    const s = sets.get(day);
    return s ? [{ community_id: communityId, kind, day, members: s.members, bits: s.bits }] : [];
  });
  for (let i = 0; i < rows.length; i += 20) await trx.insertInto('analytics_day_sets').values(rows.slice(i, i + 20)).execute();
}

/** The stored sets of one kind on the local days [fromDay, toDay). */
export async function readDaySets(db: Q, communityId: string, kind: DaySetKind, fromDay: string, toDay: string): Promise<{ day: string; bits: Uint8Array }[]> {
  return db
    .selectFrom('analytics_day_sets')
    .select(['day', 'bits'])
    .where('community_id', '=', communityId)
    .where('kind', '=', kind)
    .where('day', '>=', fromDay)
    .where('day', '<', toDay)
    .orderBy('day')
    .execute();
}

/** The stored set of one kind and day, if any. */
export async function readDaySet(db: Q, communityId: string, kind: DaySetKind, day: string): Promise<Uint8Array | null> {
  const r = await db.selectFrom('analytics_day_sets').select('bits').where('community_id', '=', communityId).where('kind', '=', kind).where('day', '=', day).executeTakeFirst();
  return r?.bits ?? null;
}

/** The days that have a stored set of a kind. */
export async function findSetDays(db: Q, communityId: string, kind: DaySetKind): Promise<string[]> {
  const rows = await db.selectFrom('analytics_day_sets').select('day').where('community_id', '=', communityId).where('kind', '=', kind).orderBy('day').execute();
  return rows.map((r) => r.day);
}

/** The latest day before `day` with a stored set of the kind, and that set. */
export async function findSetBefore(db: Q, communityId: string, kind: DaySetKind, day: string): Promise<{ day: string; bits: Uint8Array } | null> {
  const r = await db
    .selectFrom('analytics_day_sets')
    .select(['day', 'bits'])
    .where('community_id', '=', communityId)
    .where('kind', '=', kind)
    .where('day', '<', day)
    .orderBy('day', 'desc')
    .limit(1)
    .executeTakeFirst();
  return r ?? null;
}

export async function deleteDaySets(trx: Trx, communityId: string, kind: DaySetKind): Promise<void> {
  await trx.deleteFrom('analytics_day_sets').where('community_id', '=', communityId).where('kind', '=', kind).execute();
}
