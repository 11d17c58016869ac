// WeChat group notices name people by display name only, their messages by wxid: the pipeline puts
// a join or leave named "Y" on the one wxid seen as "Y" in the file, and keeps an ambiguous name apart.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { bytesSource } from '../../test/chat-parsers.js';
import { describeEachDialect, expectOk, signUp, useServer, type TestDb } from '../../test/harness.js';
import { fileSource } from './parse-support.js';
import { parseWeChat } from './wechat.js';
import { importChat } from './index.js';

const FILE = join(import.meta.dirname, '../../../../test/fixtures/wechat/names-and-wxids.csv');

/** Per imported member (by its external id): status, identities, and its events in time order. */
async function people(db: TestDb, communityId: string) {
  const k = db.handle.db;
  const members = await k.selectFrom('members').select(['id', 'external_id', 'status']).where('community_id', '=', communityId).where('external_id', 'like', 'wechat:%').execute();
  const extOf = new Map(members.map((m) => [m.id, m.external_id]));
  const identities = await k.selectFrom('member_identities').select(['external_id', 'member_id']).where('community_id', '=', communityId).execute();
  const events = await k
    .selectFrom('events')
    .select(['type', 'member_id', 'occurred_at', 'referrer_member_id'])
    .where('community_id', '=', communityId)
    .where('type', 'in', ['joined', 'left', 'removed', 'message', 'reply'])
    .orderBy('occurred_at')
    .orderBy('id')
    .execute();
  const out: Record<string, { status: string; identities: string[]; events: string[] }> = {};
  for (const m of members) {
    out[m.external_id ?? m.id] = {
      status: m.status,
      identities: identities.filter((i) => i.member_id === m.id).map((i) => i.external_id).sort(),
      events: events
        .filter((e) => e.member_id === m.id)
        .map((e) => `${e.type} ${new Date(e.occurred_at).toISOString().slice(11, 16)}${e.referrer_member_id ? ` ref ${extOf.get(e.referrer_member_id) ?? '?'}` : ''}`),
    };
  }
  return out;
}

describeEachDialect('WeChat names in group notices', (dialect) => {
  const ctx = useServer(dialect);

  it('a join or leave by name lands on the one wxid of that name; an ambiguous name stays apart and is reported', async () => {
    const { client, workspaceId } = await signUp(ctx.server.url, 'wechat-names@example.com');
    const community = expectOk(await client.post(`/api/v1/workspaces/${workspaceId}/communities`, { name: '读书会', slug: 'wechat-names', type: 'interest' }), 201);
    const run = () => importChat(ctx.db.deps, community.id, { format: 'wechat', parser: parseWeChat, open: () => fileSource(FILE), parse: { timeZone: 'Asia/Shanghai', chat: '读书会' } });

    const report = await run();
    // Hand count over the 11 rows of names-and-wxids.csv (times 09:xx in Shanghai = 01:xx UTC):
    // messages rows 2,3,4,6,7,11 = 6; authors wxid_alice, lilei, chen, ming1, ming2 = 5;
    // joins 陈晨 (row 1), 小明 (row 5), 韩梅梅 (row 8) = 3; leaves 李雷 (row 9), 陈晨 (row 10) = 2.
    expect(report).toMatchObject({ messages: 6, authors: 5, joins: 3, leaves: 2, first_at: '2024-06-01T01:01:00.000Z', last_at: '2024-06-01T01:41:00.000Z', problem_count: 0 });
    // 小明 wrote under two wxids: the QR join of "小明" is neither of them.
    expect(report.ambiguous_names).toEqual([{ name: '小明', external_ids: ['wxid_ming1', 'wxid_ming2'] }]);

    // Seven people: five wxids, the ambiguous 小明 of the join, and 韩梅梅 who never wrote.
    // 陈晨 was invited (row 1) before her first message (row 4) and removed (row 10): one member, with
    // the wxid; Alice, who invited her and removed her, too. 李雷 wrote (row 3), then left (row 9).
    const want = {
      'wechat:wxid_alice': { status: 'active', identities: ['wxid_alice'], events: ['joined 01:01', 'message 01:01', 'message 01:41'] },
      'wechat:wxid_lilei': { status: 'left', identities: ['wxid_lilei'], events: ['joined 01:02', 'message 01:02', 'left 01:30'] },
      'wechat:wxid_chen': { status: 'removed', identities: ['wxid_chen'], events: ['joined 01:00 ref wechat:wxid_alice', 'message 01:03', 'removed 01:40'] },
      'wechat:wxid_ming1': { status: 'active', identities: ['wxid_ming1'], events: ['joined 01:11', 'message 01:11'] },
      'wechat:wxid_ming2': { status: 'active', identities: ['wxid_ming2'], events: ['joined 01:12', 'message 01:12'] },
      'wechat:name:小明': { status: 'active', identities: ['name:小明'], events: ['joined 01:10'] },
      'wechat:name:韩梅梅': { status: 'active', identities: ['name:韩梅梅'], events: ['joined 01:20'] },
    };
    expect(await people(ctx.db, community.id)).toEqual(want);

    // Importing again adds nothing, and maps the same names the same way.
    const again = await run();
    expect([again.messages, again.authors, again.joins, again.leaves, again.imported, again.duplicates]).toEqual([6, 5, 3, 2, 0, report.imported]);
    expect(report.imported).toBe(11);
    expect(await people(ctx.db, community.id)).toEqual(want);
  });

  it('across two exports: names are matched to the wxids of the earlier one, and a name two of them used is not', async () => {
    const { client, workspaceId } = await signUp(ctx.server.url, 'wechat-names-2@example.com');
    const community = expectOk(await client.post(`/api/v1/workspaces/${workspaceId}/communities`, { name: '读书会', slug: 'wechat-names-2', type: 'interest' }), 201);
    const lines = readFileSync(FILE, 'utf8').split('\r\n');
    // Data rows are lines[1..11]: the first export has the messages of rows 2,3,4,6,7, the second
    // export every notice (rows 1,5,8,9,10) and Alice's photo (row 11).
    const part = (rows: number[]) => Buffer.from([lines[0], ...rows.map((r) => lines[r])].join('\r\n') + '\r\n');
    const run = (bytes: Buffer) => importChat(ctx.db.deps, community.id, { format: 'wechat', parser: parseWeChat, open: () => bytesSource(bytes), parse: { timeZone: 'Asia/Shanghai', chat: '读书会' } });

    const first = await run(part([2, 3, 4, 6, 7]));
    expect(first).toMatchObject({ messages: 5, authors: 5, joins: 0, leaves: 0, ambiguous_names: [] });
    const second = await run(part([1, 5, 8, 9, 10, 11]));
    expect(second).toMatchObject({ messages: 1, authors: 1, joins: 3, leaves: 2, problem_count: 0 });
    // Nobody of the second file wrote as 小明; in the community, two wxids did.
    expect(second.ambiguous_names).toEqual([{ name: '小明', external_ids: ['wxid_ming1', 'wxid_ming2'] }]);
    // 陈晨 was a member from her message (09:03) in the first import: the earlier invite (09:00)
    // changes nothing (docs/imports.md: oldest export first). Her removal is hers all the same.
    // Matched through the database, "陈晨" and "李雷" are name-only identities of the wxids' members;
    // "Alice" wrote in the second file too, so it is her wxid there directly.
    expect(await people(ctx.db, community.id)).toEqual({
      'wechat:wxid_alice': { status: 'active', identities: ['wxid_alice'], events: ['joined 01:01', 'message 01:01', 'message 01:41'] },
      'wechat:wxid_lilei': { status: 'left', identities: ['name:李雷', 'wxid_lilei'], events: ['joined 01:02', 'message 01:02', 'left 01:30'] },
      'wechat:wxid_chen': { status: 'removed', identities: ['name:陈晨', 'wxid_chen'], events: ['joined 01:03', 'message 01:03', 'removed 01:40'] },
      'wechat:wxid_ming1': { status: 'active', identities: ['wxid_ming1'], events: ['joined 01:11', 'message 01:11'] },
      'wechat:wxid_ming2': { status: 'active', identities: ['wxid_ming2'], events: ['joined 01:12', 'message 01:12'] },
      'wechat:name:小明': { status: 'active', identities: ['name:小明'], events: ['joined 01:10'] },
      'wechat:name:韩梅梅': { status: 'active', identities: ['name:韩梅梅'], events: ['joined 01:20'] },
    });
  });
});
