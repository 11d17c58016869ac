// appendEvents: many events in multi-row statements land in the log in the order given, each
// community's rows with its own id, and the UTC hours they touch are marked stale for the rollups.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestDb, describeEachDialect, type TestDb } from '../../test/harness.js';
import { ensureCommunityBySlug } from '../communities/index.js';
import { appendEvents, listEvents, type NewEvent } from './index.js';

describeEachDialect('appendEvents', (dialect) => {
  let t: TestDb;
  beforeAll(async () => {
    t = await createTestDb(dialect);
  });
  afterAll(() => t.close());

  it('writes every event in order across statement boundaries and marks their hours', async () => {
    const a = (await ensureCommunityBySlug(t.deps, 'append-a')).community.id;
    const b = (await ensureCommunityBySlug(t.deps, 'append-b')).community.id;
    // 2,345 events (more than two full statements), every 7th for the other community, 97 s apart.
    const base = Date.parse('2026-03-01T15:30:00.000Z');
    const input: NewEvent[] = Array.from({ length: 2345 }, (_, i) => ({
      community_id: i % 7 === 0 ? b : a,
      type: i % 3 === 0 ? 'reply' : 'message',
      occurred_at: new Date(base + i * 97_000).toISOString(),
      member_id: `m${i % 50}`,
      group_id: i % 2 ? 'g1' : null,
      props: i % 3 === 0 ? { to_member_id: `m${(i + 1) % 50}` } : {},
    }));
    await t.handle.db.transaction().execute((trx) => appendEvents(trx, input, '2026-03-05T00:00:00.000Z'));

    for (const cid of [a, b]) {
      const expected = input.filter((e) => e.community_id === cid);
      const rows = await listEvents(t.handle.db, cid, { after_id: 0, limit: 5000 });
      expect(rows.map((r) => [r.type, r.occurred_at, r.member_id, r.group_id, r.props])).toEqual(
        expected.map((e) => [e.type, e.occurred_at, e.member_id, e.group_id ?? null, e.props]),
      );
      const hours = await t.handle.db.selectFrom('analytics_dirty').select('hour').where('community_id', '=', cid).execute();
      expect(hours.map((h) => h.hour).sort()).toEqual([...new Set(expected.map((e) => e.occurred_at.slice(0, 13)))].sort());
    }
  });
});
