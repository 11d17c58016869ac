import { sql } from 'kysely';
import { isPostgres, type Db } from '../../db/kysely.js';
import { ENGAGEMENT_TYPES, type Granularity } from '../../../../contracts/src/index.js';

/**
 * The start day ('YYYY-MM-DD') of the bucket holding a local day, by date arithmetic on the day
 * itself (no time zone involved): the day, the Monday of its ISO week, or the 1st of its month.
 */
function bucketOfDay(db: Db, g: Granularity) {
  if (g === 'day') return sql<string>`d.day`;
  if (g === 'month') return sql<string>`(substr(d.day, 1, 7) || '-01')`;
  return isPostgres(db)
    ? sql<string>`to_char(CAST(d.day AS date) - (EXTRACT(ISODOW FROM CAST(d.day AS date))::int - 1), 'YYYY-MM-DD')`
    : sql<string>`date(d.day, '-' || ((CAST(strftime('%w', d.day) AS INTEGER) + 6) % 7) || ' days')`;
}

/**
 * Who was active in which bucket: distinct (member, bucket start day) with ≥1 engagement event
 * (ENGAGEMENT_TYPES, by the member) on a local day of [fromDay, toDay), read from the daily
 * rollups (analytics_member_days.engagement) and grouped in SQL. Cohorts and lifecycle read
 * activity here; refresh the rollups first.
 */
export async function findActiveBuckets(db: Db, communityId: string, g: Granularity, fromDay: string, toDay: string): Promise<{ member_id: string; bucket: string }[]> {
  const bucket = bucketOfDay(db, g);
  const r = await sql<{ member_id: string; bucket: string }>`
    SELECT d.member_id AS member_id, ${bucket} AS bucket FROM analytics_member_days d
    WHERE d.community_id = ${communityId} AND d.day >= ${fromDay} AND d.day < ${toDay} AND d.engagement > 0
    GROUP BY d.member_id, ${bucket}`.execute(db);
  return r.rows;
}

/**
 * Engagement events (ENGAGEMENT_TYPES with a member) in [from, to) by the members of `members`
 * (a sub-select): the funnel's first-engagement step, which needs exact instants for its window.
 */
export const findEngagementEvents = (db: Db, communityId: string, from: string, to: string, members?: ReturnType<typeof entrantCandidates>) => {
  let q = db
    .selectFrom('events')
    .select(['member_id', 'occurred_at'])
    .where('community_id', '=', communityId)
    .where('type', 'in', [...ENGAGEMENT_TYPES])
    .where('member_id', 'is not', null)
    .where('occurred_at', '>=', from)
    .where('occurred_at', '<', to);
  if (members) q = q.where('member_id', 'in', members);
  return q.execute();
};

/**
 * People who may enter a funnel of [from, to): members with an `applied` event then (default
 * funnel), or with a paid order of a trial product then (trial preset). A superset of the
 * entrants (the definitions keep only first applications / first trial payments).
 */
export function entrantCandidates(db: Db, communityId: string, preset: 'trial' | null, from: string, to: string) {
  if (preset === 'trial')
    return db
      .selectFrom('orders')
      .innerJoin('products', 'products.id', 'orders.product_id')
      .select('orders.member_id')
      .where('orders.community_id', '=', communityId)
      .where('products.trial_of_product_id', 'is not', null)
      .where('orders.paid_at', '>=', from)
      .where('orders.paid_at', '<', to);
  return db
    .selectFrom('events')
    .select('member_id')
    .where('community_id', '=', communityId)
    .where('type', '=', 'applied')
    .where('member_id', 'is not', null)
    .where('occurred_at', '>=', from)
    .where('occurred_at', '<', to);
}
