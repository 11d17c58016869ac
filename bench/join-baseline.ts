import { randomUUID } from 'node:crypto';
import type SQLite from 'better-sqlite3';

/**
 * The floor for a join: the same rows a Yutang join writes (member, application, membership span,
 * a seat taken with a conditional UPDATE, the link's use count, three events), as raw prepared
 * statements in one better-sqlite3 transaction per join, on the same file with the same
 * synchronous=FULL. Returns joins per second over `n` sequential joins.
 */
export function rawJoinBaseline(sqlite: SQLite.Database, ids: { communityId: string; groupId: string; linkId: string }, n: number): number {
  const now = () => new Date().toISOString();
  const insertMember = sqlite.prepare(
    `INSERT INTO members (id, community_id, display_name, status, profile, token_hash, entry_link_id, channel, current_group_id,
       first_joined_at, last_joined_at, banned, created_at, updated_at)
     VALUES (?, ?, ?, 'onboarding', '{}', ?, ?, 'raw', ?, ?, ?, 0, ?, ?)`,
  );
  const insertApplication = sqlite.prepare(
    `INSERT INTO applications (id, community_id, member_id, entry_link_id, threshold, answers, reviews, status, created_at, updated_at, decided_at)
     VALUES (?, ?, ?, ?, '{"mode":"all","criteria":[]}', '{}', '{}', 'passed', ?, ?, ?)`,
  );
  const takeSeat = sqlite.prepare(
    `UPDATE groups SET seated_count = seated_count + 1, updated_at = ? WHERE id = ? AND status = 'open' AND seated_count < capacity`,
  );
  const insertSpan = sqlite.prepare(
    `INSERT INTO member_spans (id, community_id, member_id, group_id, entry_link_id, joined_at) VALUES (?, ?, ?, ?, ?, ?)`,
  );
  const useLink = sqlite.prepare(`UPDATE entry_links SET uses = uses + 1 WHERE id = ?`);
  const insertEvent = sqlite.prepare(
    `INSERT INTO events (community_id, type, occurred_at, member_id, group_id, entry_link_id, channel, props, recorded_at)
     VALUES (?, ?, ?, ?, ?, ?, 'raw', '{}', ?)`,
  );
  const join = sqlite.transaction((i: number) => {
    const at = now();
    const memberId = randomUUID();
    const { communityId, groupId, linkId } = ids;
    insertMember.run(memberId, communityId, `raw${i}`, randomUUID(), linkId, groupId, at, at, at, at);
    insertApplication.run(randomUUID(), communityId, memberId, linkId, at, at, at);
    if (takeSeat.run(at, groupId).changes !== 1) throw new Error('raw baseline group is full');
    insertSpan.run(randomUUID(), communityId, memberId, groupId, linkId, at);
    useLink.run(linkId);
    for (const type of ['applied', 'threshold_passed', 'joined']) insertEvent.run(communityId, type, at, memberId, groupId, linkId, at);
  });
  const started = performance.now();
  for (let i = 0; i < n; i++) join(i);
  return (n / (performance.now() - started)) * 1000;
}
