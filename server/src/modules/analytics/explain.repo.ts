import type { Db } from '../../db/kysely.js';

/** Names and external ids of members of a community, looked up in chunks (bound-parameter limits). */
export async function findMemberLabels(db: Db, communityId: string, ids: string[]) {
  const out: { id: string; display_name: string; external_id: string | null }[] = [];
  const unique = [...new Set(ids)];
  for (let i = 0; i < unique.length; i += 1000) {
    const chunk = unique.slice(i, i + 1000);
    out.push(...(await db.selectFrom('members').select(['id', 'display_name', 'external_id']).where('community_id', '=', communityId).where('id', 'in', chunk).execute()));
  }
  return out;
}
