import type { Db } from '../../db/kysely.js';

/** Number of `link_visited` events in [from, to) (the money formula's reach). Switchable to analytics_days.link_visits. */
export async function countLinkVisitsBetween(db: Db, communityId: string, from: string, to: string): Promise<number> {
  const row = await db
    .selectFrom('events')
    .select((eb) => eb.fn.countAll<number | string | bigint>().as('n'))
    .where('community_id', '=', communityId)
    .where('type', '=', 'link_visited')
    .where('occurred_at', '>=', from)
    .where('occurred_at', '<', to)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}
