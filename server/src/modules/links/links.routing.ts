import type { Trx } from '../../db/kysely.js';
import { encodeJson } from '../../db/codecs.js';
import { AppError } from '../../lib/errors.js';
import { addGroup, findGroupsByIds, takeSeat } from '../groups/index.js';
import { lockLink, type EntryLink } from './links.repo.js';

/** The pool an applicant is routed through: the first segment rule that matches, else the link's. */
export function choosePool(link: EntryLink, facts: Record<string, string>): { pool: string[]; rule: number | null } {
  const i = link.segment_rules.findIndex((r) => {
    const v = facts[r.field];
    return v !== undefined && r.in.includes(v.trim());
  });
  return i >= 0 ? { pool: link.segment_rules[i]!.group_ids, rule: i } : { pool: link.group_ids, rule: null };
}

/** `读书会(3)` → `读书会`: overflow groups are named after the pool's first group. */
const baseName = (name: string) => name.replace(/\s*[(（]\d+[)）]\s*$/, '');

/**
 * Seats one person through an entry link: the first group of the pool with a free seat, else a new
 * group made from the pool's template (`name(n)`) and appended to the pool. Must run inside the
 * join's transaction.
 */
export async function routeThroughLink(
  trx: Trx,
  linkId: string,
  facts: Record<string, string>,
  now: string,
): Promise<{ groupId: string; createdGroup: boolean }> {
  const link = await lockLink(trx, linkId);
  const { pool, rule } = choosePool(link, facts);
  for (const groupId of pool) {
    if (await takeSeat(trx, groupId, now)) return { groupId, createdGroup: false };
  }
  const [first] = await findGroupsByIds(trx, link.community_id, pool);
  if (!first) throw new AppError('link_disabled', 409, 'This entry link has no groups to join');
  const t = link.overflow_template ?? {};
  const groupId = await addGroup(
    trx,
    link.community_id,
    {
      name: `${t.name ?? baseName(first.name)}(${pool.length + 1})`,
      capacity: t.capacity ?? first.capacity,
      tags: t.tags ?? first.tags,
      threshold: first.threshold,
      monitor_user_id: first.monitor_user_id,
      leader_user_id: first.leader_user_id,
      created_from_link_id: link.id,
    },
    now,
    null,
  );
  const grown = [...pool, groupId];
  if (rule === null) {
    await trx.updateTable('entry_links').set({ group_ids: encodeJson(grown), updated_at: now }).where('id', '=', link.id).execute();
  } else {
    const rules = link.segment_rules.map((r, i) => (i === rule ? { ...r, group_ids: grown } : r));
    await trx.updateTable('entry_links').set({ segment_rules: encodeJson(rules), updated_at: now }).where('id', '=', link.id).execute();
  }
  if (!(await takeSeat(trx, groupId, now))) throw new Error(`new overflow group ${groupId} refused its first seat`);
  return { groupId, createdGroup: true };
}
