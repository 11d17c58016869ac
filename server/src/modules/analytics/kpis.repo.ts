import { sql } from 'kysely';
import { isPostgres, type Db } from '../../db/kysely.js';
import type { AnalyticsDaysTable } from '../../db/types.js';
import { sumsRow } from '../../db/codecs.js';
import type { DaySetReader } from '../rollups/index.js';

/** Reads of the daily rollups for the KPI dashboard. Days are local 'YYYY-MM-DD', `[fromDay, toDay)`. */

export type SplitDim = 'group' | 'channel' | 'staff' | 'referrer';

/** A key's sums of the analytics_days counters over the days asked. */
export type DaySums = Omit<AnalyticsDaysTable, 'community_id' | 'day' | 'dim' | 'active_members'> & {
  /** Σ over the days of that day's distinct active members. */
  active_member_days: number;
};

/** Sums of analytics_days per key of one dimension ('all' has the one key ''). */
export async function sumDaysByKey(db: Db, communityId: string, dim: 'all' | SplitDim, fromDay: string, toDay: string): Promise<DaySums[]> {
  const rows = await db
    .selectFrom('analytics_days')
    .select((eb) => [
      'key',
      eb.fn.sum<number>('link_visits').as('link_visits'),
      eb.fn.sum<number>('applications').as('applications'),
      eb.fn.sum<number>('joins').as('joins'),
      eb.fn.sum<number>('leaves').as('leaves'),
      eb.fn.sum<number>('onboarded').as('onboarded'),
      eb.fn.sum<number>('engagement').as('engagement'),
      eb.fn.sum<number>('messages').as('messages'),
      eb.fn.sum<number>('member_replies').as('member_replies'),
      eb.fn.sum<number>('ads').as('ads'),
      eb.fn.sum<number>('orders_paid').as('orders_paid'),
      eb.fn.sum<number>('gmv_minor').as('gmv_minor'),
      eb.fn.sum<number>('refunds_minor').as('refunds_minor'),
      eb.fn.sum<number>('active_members').as('active_member_days'),
      eb.fn.sum<number>('conversation').as('conversation'),
    ])
    .where('community_id', '=', communityId)
    .where('dim', '=', dim)
    .where('day', '>=', fromDay)
    .where('day', '<', toDay)
    .groupBy('key')
    .execute();
  return rows.map((r) => sumsRow<DaySums, 'key'>(r, 'key'));
}

/** Joins − leaves per key over every day before `beforeDay`: the key's members at its start. */
export async function netJoinsBefore(db: Db, communityId: string, dim: SplitDim, beforeDay: string): Promise<Map<string, number>> {
  const rows = await db
    .selectFrom('analytics_days')
    .select((eb) => ['key', eb.fn.sum<number>('joins').as('joins'), eb.fn.sum<number>('leaves').as('leaves')])
    .where('community_id', '=', communityId)
    .where('dim', '=', dim)
    .where('day', '<', beforeDay)
    .groupBy('key')
    .execute();
  return new Map(rows.map((r) => [r.key, Number(r.joins ?? 0) - Number(r.leaves ?? 0)]));
}

/** Distinct members with ≥1 engagement event on the days [fromDay, toDay): the union of the days' active sets. */
export async function countActiveMembers(sets: DaySetReader, fromDay: string, toDay: string): Promise<number> {
  return (await sets.union('active', fromDay, toDay)).size;
}

/**
 * Distinct active members per key of a dimension over [fromDay, toDay): the group they engaged
 * in, or the member's first entry link / its staff owner (else their first group's monitor) /
 * their referrer — the attribution analytics_days uses for engagement events.
 */
export async function countActiveMembersByKey(db: Db, communityId: string, dim: SplitDim, fromDay: string, toDay: string): Promise<Map<string, number>> {
  const key =
    dim === 'group'
      ? sql`d.group_id`
      : dim === 'channel'
        ? sql`COALESCE(m.entry_link_id, '')`
        : dim === 'referrer'
          ? sql`COALESCE(m.referrer_member_id, '')`
          : sql`COALESCE(l.owner_user_id, fg.monitor_user_id, '')`;
  const rows = await sql<{ key: string; n: number }>`
    SELECT k.key AS key, COUNT(DISTINCT k.member_id) AS n FROM (
      SELECT ${key} AS key, d.member_id AS member_id
      FROM analytics_member_days d
      LEFT JOIN members m ON m.id = d.member_id
      LEFT JOIN entry_links l ON l.id = m.entry_link_id
      LEFT JOIN member_firsts mf ON mf.community_id = ${communityId} AND mf.member_id = d.member_id
      LEFT JOIN groups fg ON fg.id = mf.group_id
      WHERE d.community_id = ${communityId} AND d.day >= ${fromDay} AND d.day < ${toDay} AND d.engagement > 0
    ) k GROUP BY k.key`.execute(db);
  return new Map(rows.rows.map((r) => [r.key, Number(r.n)]));
}

/**
 * NPS answers of the period: `survey_answered` events by members with an integer `props.score` of
 * 0–10; a member who answered more than once counts with their last answer. Promoters score 9–10,
 * detractors 0–6.
 */
export async function countNpsAnswers(db: Db, communityId: string, t0: string, t1: string): Promise<{ answers: number; promoters: number; detractors: number }> {
  const score = isPostgres(db)
    ? sql`CASE WHEN jsonb_typeof(e.props->'score') = 'number' THEN (e.props->>'score')::numeric END`
    : sql`CASE WHEN json_type(e.props, '$.score') IN ('integer', 'real') THEN json_extract(e.props, '$.score') END`;
  const r = await sql<{ answers: number; promoters: number; detractors: number }>`
    SELECT COUNT(*) AS answers, COALESCE(SUM(CASE WHEN a.score >= 9 THEN 1 ELSE 0 END), 0) AS promoters,
      COALESCE(SUM(CASE WHEN a.score <= 6 THEN 1 ELSE 0 END), 0) AS detractors
    FROM (
      SELECT x.score, ROW_NUMBER() OVER (PARTITION BY x.member_id ORDER BY x.occurred_at DESC, x.id DESC) AS n FROM (
        SELECT e.member_id, e.occurred_at, e.id, ${score} AS score FROM events e
        WHERE e.community_id = ${communityId} AND e.type = 'survey_answered' AND e.member_id IS NOT NULL AND e.occurred_at >= ${t0} AND e.occurred_at < ${t1}
      ) x WHERE x.score IN (0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10)
    ) a WHERE a.n = 1`.execute(db);
  const row = r.rows[0];
  return { answers: Number(row?.answers ?? 0), promoters: Number(row?.promoters ?? 0), detractors: Number(row?.detractors ?? 0) };
}
