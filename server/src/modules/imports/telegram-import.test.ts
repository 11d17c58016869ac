import { createReadStream, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeEachDialect, expectOk, signUp, useServer, type TestDb } from '../../test/harness.js';
import { importChat, parseTelegram, type ImportReport } from './index.js';

const FIXTURES = join(import.meta.dirname, '../../../../test/fixtures/telegram');
const fixture = (name: string) => join(FIXTURES, name);

function run(db: TestDb, communityId: string, file: string, extra: { strict?: boolean; group?: string; batchSize?: number } = {}): Promise<ImportReport> {
  return importChat(db.deps, communityId, {
    format: 'telegram',
    parser: parseTelegram,
    open: () => createReadStream(file, { highWaterMark: 1024 }),
    parse: { timeZone: 'Asia/Shanghai' },
    ...extra,
  });
}

/**
 * The reference for the report: counted over JSON.parse of the raw export, by the rules of
 * docs/imports.md, without the parser under test.
 */
function reference(path: string) {
  const doc = JSON.parse(readFileSync(path, 'utf8'));
  const chats = doc.messages ? [doc] : [...(doc.chats?.list ?? []), ...(doc.left_chats?.list ?? [])].filter((c: any) => !['personal_chat', 'saved_messages', 'bot_chat'].includes(c.type));
  const all = chats.flatMap((c: any) => c.messages).filter((m: any) => m.id && m.date_unixtime);
  const messages = all.filter((m: any) => m.type === 'message');
  const times = messages.map((m: any) => Number(m.date_unixtime)).sort((a: number, b: number) => a - b);
  let joins = 0;
  let leaves = 0;
  for (const m of all) {
    if (m.action === 'join_group_by_link') joins++;
    if (m.action === 'invite_members') joins += m.members.length;
    if (m.action === 'create_group') joins += m.members.length + (m.members.includes(m.actor) ? 0 : 1);
    if (m.action === 'remove_members') leaves += m.members.length;
  }
  return {
    messages: messages.length,
    authors: new Set(messages.map((m: any) => m.from_id)).size,
    joins,
    leaves,
    first_at: times.length ? new Date(times[0]! * 1000).toISOString() : null,
    last_at: times.length ? new Date(times.at(-1)! * 1000).toISOString() : null,
  };
}

/** What the community holds, by names and instants (ids differ between runs): equal fingerprints, equal data. */
async function fingerprint(db: TestDb, communityId: string) {
  const k = db.handle.db;
  const names = new Map((await k.selectFrom('members').select(['id', 'display_name']).where('community_id', '=', communityId).execute()).map((m) => [m.id, m.display_name]));
  const groups = new Map((await k.selectFrom('groups').select(['id', 'name', 'seated_count']).where('community_id', '=', communityId).execute()).map((g) => [g.id, g]));
  const members = (await k.selectFrom('members').select(['display_name', 'status', 'first_joined_at', 'left_at']).where('community_id', '=', communityId).execute()).map((m) => JSON.stringify(m)).sort();
  const spans = (await k.selectFrom('member_spans').selectAll().where('community_id', '=', communityId).execute())
    .map((s) => [names.get(s.member_id), groups.get(s.group_id)?.name, s.joined_at, s.left_at, s.left_kind, s.referrer_member_id && names.get(s.referrer_member_id)].join(' | '))
    .sort();
  const events = (await k.selectFrom('events').select(['type', 'member_id', 'occurred_at', 'props']).where('community_id', '=', communityId).where('type', 'not in', ['group_created', 'members_merged', 'identity_split']).execute())
    .map((e) => {
      const p = typeof e.props === 'string' ? JSON.parse(e.props) : e.props;
      return [e.type, e.member_id && names.get(e.member_id), e.occurred_at, p.to_member_id ? names.get(p.to_member_id) : '-'].join(' | ');
    })
    .sort();
  const identities = (await k.selectFrom('member_identities').select(['external_id', 'member_id', 'display_names']).where('community_id', '=', communityId).execute())
    .map((i) => `${i.external_id} → ${names.get(i.member_id)}`)
    .sort();
  const byType: Record<string, number> = {};
  for (const e of events) byType[e.split(' | ')[0]!] = (byType[e.split(' | ')[0]!] ?? 0) + 1;
  return { members, spans, events, identities, byType, seats: [...groups.values()].map((g) => `${g.name}: ${g.seated_count}`).sort() };
}

describeEachDialect('Telegram Desktop import', (dialect) => {
  const ctx = useServer(dialect);
  let n = 0;
  async function community() {
    const { client, workspaceId } = await signUp(ctx.server.url, `tg${++n}@example.com`);
    const c = expectOk(await client.post(`/api/v1/workspaces/${workspaceId}/communities`, { name: `读书会 ${n}`, slug: `tg-${n}`, type: 'interest' }), 201);
    return { client, id: c.id as string };
  }

  it('imports a single-chat export: the report and the data match the hand count', async () => {
    const { client, id } = await community();
    const report = await run(ctx.db, id, fixture('single-chat.json'));
    const ref = reference(fixture('single-chat.json'));
    // By hand: 14 messages by 9 people (user1001–1008 and the channel signature); joins: create_group
    // 2 + invite 3 + link 1 + invite 1 + invite 1 + link 1 = 9; leaves: 赵六 removed, Dave left = 2;
    // skipped: pin_message and edit_group_title.
    expect(report).toMatchObject({ format: 'telegram', messages: 14, authors: 9, joins: 9, leaves: 2, first_at: '2026-01-02T02:05:00.000Z', last_at: '2026-02-03T00:00:00.000Z', skipped: 2, duplicates: 0, problems: [] });
    expect(report).toMatchObject(ref);
    expect(report.imported).toBe(14 + 9 + 2);

    const f = await fingerprint(ctx.db, id);
    // 10 people: the 9 authors and 陈静, invited and silent. Name-only invitees (Alice Chen, 李娜, Bob
    // Smith, Carol, 赵六) are one member with the id they later wrote under: 15 identities.
    expect(f.members).toHaveLength(10);
    expect(f.identities).toHaveLength(15);
    expect(f.identities).toContain('name:Alice Chen → Alice Chen');
    expect(f.identities).toContain('user1002 → Alice Chen');
    // 9 joins + the channel's first message (a member from it) = 10 spans, 8 still open.
    expect(f.spans).toHaveLength(10);
    expect(f.seats).toEqual(['鱼塘读书会 Reading Club: 8']);
    // 10 plain messages, 4 replies (#5, #10, #21, #23), 4 reactions by named reactors (2 on #8, 2 on #20).
    expect(f.byType).toEqual({ joined: 10, left: 1, removed: 1, message: 10, reply: 4, reaction: 4 });
    expect(f.spans).toContain('赵六 | 鱼塘读书会 Reading Club | 2026-01-10T00:00:00.000Z | 2026-01-10T01:00:00.000Z | removed | 王小明');
    expect(f.spans).toContain('Dave | 鱼塘读书会 Reading Club | 2026-01-12T00:00:00.000Z | 2026-01-15T00:00:00.000Z | left | ');
    expect(f.spans).toContain('Carol | 鱼塘读书会 Reading Club | 2026-01-08T00:00:00.000Z |  |  | Alice Chen');
    // Replies point at the replied-to author, so two-way interaction counts them.
    expect(f.events).toContain('reply | 李娜 | 2026-01-03T01:00:00.000Z | Alice Chen');
    expect(f.events).toContain('reply | Bob Smith | 2026-01-20T11:00:00.000Z | 李娜');
    expect(f.events).toContain('reaction | 王小明 | 2026-01-05T12:30:00.000Z | 张伟');

    // January in Asia/Shanghai: 9 joins, 2 leaves, 7 members at the end; active: every period member
    // but 陈静 (8 of 9). #22 (2026-01-31T16:30Z) is already 1 February there.
    const jan = expectOk(await client.get(`/api/v1/communities/${id}/metrics?from=2026-01-01&to=2026-02-01`));
    expect(jan).toMatchObject({ members_t0: 0, joins: 9, leaves: 2, members_t1: 7, period_members: 9, active_members: 8 });
    // February: the channel's first message makes it a member; active: 王小明 (#22), Alice (#23), the channel (#24).
    const feb = expectOk(await client.get(`/api/v1/communities/${id}/metrics?from=2026-02-01&to=2026-03-01`));
    expect(feb).toMatchObject({ members_t0: 7, joins: 1, leaves: 0, members_t1: 8, period_members: 8, active_members: 3 });
    // Two-way interaction in January: replies #5 (李娜 → Alice), #10 (Alice → 张伟), #21 (Bob → 李娜)
    // over 8 plain messages (#2 #4 #6 #8 #12 #14 #17 #20) + those 3 replies.
    const kpis = expectOk(await client.get(`/api/v1/communities/${id}/analytics/kpis?from=2026-01-01&to=2026-02-01`));
    expect(kpis.figures.two_way_share.current).toMatchObject({ numerator: 3, denominator: 11 });
  });

  it('imports the same file twice, or two overlapping exports, into the same data', async () => {
    const once = await community();
    await run(ctx.db, once.id, fixture('single-chat.json'));
    const expected = await fingerprint(ctx.db, once.id);

    const again = await run(ctx.db, once.id, fixture('single-chat.json'), { batchSize: 7 });
    // The report describes the file; nothing is written the second time.
    expect(again).toMatchObject({ messages: 14, authors: 9, joins: 9, leaves: 2, imported: 0, duplicates: 25, skipped: 27 });
    expect(await fingerprint(ctx.db, once.id)).toEqual(expected);

    const split = await community();
    const first = await run(ctx.db, split.id, fixture('single-chat-part1.json'));
    const second = await run(ctx.db, split.id, fixture('single-chat-part2.json'), { batchSize: 4 });
    // Part 1 is #1–#12, part 2 is #8–#24: #8, #10, #12 and Carol's invite (#11) come twice.
    expect(first).toMatchObject(reference(fixture('single-chat-part1.json')));
    expect(second).toMatchObject({ ...reference(fixture('single-chat-part2.json')), duplicates: 4 });
    // Including #21's reply to #5, which only part 1 holds.
    expect(await fingerprint(ctx.db, split.id)).toEqual(expected);

    // Batch boundaries change nothing: one record per transaction gives the same data.
    const single = await community();
    await run(ctx.db, single.id, fixture('single-chat.json'), { batchSize: 1 });
    expect(await fingerprint(ctx.db, single.id)).toEqual(expected);
  });

  it('imports the group chats of a full-account export and reports the bad record by location', async () => {
    const { id } = await community();
    const report = await run(ctx.db, id, fixture('full-account.json'));
    // By hand: personal chat and saved messages are passed over; 上海读书小组 #2 #3 #6 and Old Book Swap
    // #1 #2 = 5 messages by 李娜, 王小明, Frank 周, Bob Smith; joins: create_group 2 + link 1;
    // leaves: 李娜 leaves Old Book Swap; one problem: #5 has no date.
    expect(report).toMatchObject({ messages: 5, authors: 4, joins: 3, leaves: 1, skipped: 1, problem_count: 1, aborted: false });
    expect(report.problems).toEqual([{ location: 'chats.list[1].messages[4]', reason: 'message without a valid date' }]);
    expect(report).toMatchObject(reference(fixture('full-account.json')));
    const f = await fingerprint(ctx.db, id);
    expect(f.members).toHaveLength(4);
    expect(f.seats).toEqual(['Old Book Swap: 1', '上海读书小组 Shanghai Readers: 3']);
    // Spans: 3 joins in 上海读书小组; in Old Book Swap 李娜 and Bob are members from their first message.
    expect(f.spans).toHaveLength(5);
    expect(f.spans).toContain('李娜 | Old Book Swap | 2026-02-20T03:00:00.000Z | 2026-02-21T00:00:00.000Z | left | ');
    expect(f.byType).toEqual({ joined: 5, left: 1, message: 3, reply: 2, reaction: 1 });
  });

  it('--strict imports nothing from a file with a bad record, and names it', async () => {
    const { id } = await community();
    const strict = await run(ctx.db, id, fixture('bad-record.json'), { strict: true });
    expect(strict).toMatchObject({ aborted: true, imported: 0, problem_count: 1, problems: [{ location: 'messages[1]', reason: 'message without a valid date' }] });
    const f = await fingerprint(ctx.db, id);
    expect([f.members, f.spans, f.events, f.seats]).toEqual([[], [], [], []]);
    const keys = await ctx.db.handle.db.selectFrom('event_keys').select('key').where('community_id', '=', id).execute();
    expect(keys).toEqual([]);
    // Without --strict the two good messages go in.
    const lenient = await run(ctx.db, id, fixture('bad-record.json'));
    expect(lenient).toMatchObject({ messages: 2, imported: 2, problem_count: 1, skipped: 1 });
    expect((await fingerprint(ctx.db, id)).byType).toEqual({ joined: 2, message: 2 });
  });

  it('merges members and splits identities for later imports, leaving the recorded history as it is', async () => {
    const { client, id } = await community();
    await run(ctx.db, id, fixture('single-chat.json'));
    const original = await fingerprint(ctx.db, id);
    const c = `/api/v1/communities/${id}/identities`;
    const all = expectOk(await client.get(`${c}?platform=telegram&limit=200`)).identities;
    expect(all).toHaveLength(15);
    const alice = all.filter((i: any) => i.member.display_name === 'Alice Chen');
    expect(alice.map((i: any) => i.external_id).sort()).toEqual(['name:Alice Chen', 'user1002']);
    const placeholder = alice.find((i: any) => i.external_id === 'name:Alice Chen');
    const writer = alice.find((i: any) => i.external_id === 'user1002').member.id;

    const split = expectOk(await client.post(`${c}/split`, { identity_id: placeholder.id }));
    expect(split.identity).toMatchObject({ id: placeholder.id, external_id: 'name:Alice Chen', display_names: ['Alice Chen'], member: { id: split.member_id, display_name: 'Alice Chen' } });
    expect(expectOk(await client.get(`${c}?member_id=${writer}`)).identities.map((i: any) => i.external_id)).toEqual(['user1002']);
    // Now the identity is its member's only one: nothing left to split.
    const again = await client.post(`${c}/split`, { identity_id: placeholder.id });
    expect([again.status, again.body.code]).toEqual([409, 'invalid_state']);

    const self = await client.post(`${c}/merge`, { member_id: writer, from_member_id: writer });
    expect([self.status, self.body.errors]).toEqual([400, [{ field: 'from_member_id', message: 'must be another member than member_id' }]]);
    const nobody = await client.post(`${c}/merge`, { member_id: writer, from_member_id: 'mem_nobody' });
    expect([nobody.status, nobody.body.code, nobody.body.errors[0].field]).toEqual([404, 'member_not_found', 'from_member_id']);
    expect(expectOk(await client.post(`${c}/merge`, { member_id: writer, from_member_id: split.member_id }))).toEqual({ member_id: writer, identities: 1 });
    expect(expectOk(await client.get(`${c}?member_id=${writer}`)).identities.map((i: any) => i.external_id).sort()).toEqual(['name:Alice Chen', 'user1002']);

    // The event log and the spans are as the import wrote them; the split member stays, without identities.
    const after = await fingerprint(ctx.db, id);
    expect({ ...after, members: after.members.length }).toEqual({ ...original, members: 11 });

    // Later imports follow the mapping: the channel signature merged into 王小明 writes as 王小明.
    const channel = all.find((i: any) => i.external_id === 'channel1234567890').member.id;
    const wang = all.find((i: any) => i.external_id === 'user1001').member.id;
    expectOk(await client.post(`${c}/merge`, { member_id: wang, from_member_id: channel }));
    const later = { ...JSON.parse(readFileSync(fixture('single-chat.json'), 'utf8')), messages: [{ id: 25, type: 'message', date: '2026-02-04T08:00:00', date_unixtime: '1770163200', from: '鱼塘读书会 Reading Club', from_id: 'channel1234567890', text: 'Reminder: meetup on Feb 10' }] };
    await importChat(ctx.db.deps, id, { format: 'telegram', parser: parseTelegram, open: async function* () { yield Buffer.from(JSON.stringify(later)); }, parse: { timeZone: 'UTC' } });
    const wangEvents = expectOk(await client.get(`/api/v1/communities/${id}/events?limit=1000&member_id=${wang}&type=message`)).events;
    expect(wangEvents.map((e: any) => e.occurred_at)).toContain('2026-02-04T00:00:00.000Z');
  });

  it('in --strict mode, a mutated export is imported whole or not at all', async () => {
    const { id } = await community();
    const base = readFileSync(fixture('single-chat.json'), 'utf8');
    const k = ctx.db.handle.db;
    const count = async () => {
      const rows = await Promise.all(
        (['events', 'members', 'member_spans', 'event_keys', 'member_identities'] as const).map((t) => k.selectFrom(t).select((eb) => eb.fn.countAll<number>().as('n')).where('community_id', '=', id).executeTakeFirstOrThrow()),
      );
      return rows.map((r) => Number(r.n));
    };
    let seed = 7;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    let aborted = 0;
    for (let i = 0; i < 150; i++) {
      const doc = JSON.parse(base);
      // A different chat each time, so a clean file writes something new.
      doc.name = `fuzz ${i}`;
      const m = doc.messages[Math.floor(rand() * doc.messages.length)];
      const key = Object.keys(m)[Math.floor(rand() * Object.keys(m).length)]!;
      if (i % 2) delete m[key];
      else m[key] = [null, 'x', {}, 3.5][i % 4];
      let text = JSON.stringify(doc);
      if (i % 5 === 0) text = text.slice(0, Math.floor(rand() * text.length));
      const before = await count();
      const report = await importChat(ctx.db.deps, id, {
        format: 'telegram',
        parser: parseTelegram,
        open: async function* () {
          yield Buffer.from(text);
        },
        parse: { timeZone: 'UTC' },
        strict: true,
        batchSize: 5,
      });
      const after = await count();
      if (report.problem_count) {
        aborted++;
        expect(report.aborted).toBe(true);
        expect(after).toEqual(before);
        for (const p of report.problems) expect(p.location).toMatch(/messages\[\d+\]|byte \d+|file/);
      } else {
        expect(report.imported).toBeGreaterThan(0);
        expect(after[0]).toBeGreaterThan(before[0]!);
      }
    }
    expect(aborted).toBeGreaterThan(30);
  });
});

describe('Telegram parser on mutated input', () => {
  it('never throws on thousands of mutated exports, and every problem names a location', async () => {
    const base = readFileSync(fixture('single-chat.json'));
    const doc = JSON.parse(base.toString('utf8'));
    let seed = 20261205;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const pick = <T>(xs: T[]) => xs[Math.floor(rand() * xs.length)]!;
    const weird = [null, 42, -1, 1.5, '', 'x', [], {}, true, '2026-13-45', '99999999999999'];
    let problems = 0;
    for (let i = 0; i < 3000; i++) {
      let bytes: Buffer;
      const op = i % 4;
      if (op === 0) bytes = base.subarray(0, Math.floor(rand() * base.length));
      else if (op === 1) {
        bytes = Buffer.from(base);
        for (let k = 0; k < 1 + Math.floor(rand() * 4); k++) bytes[Math.floor(rand() * bytes.length)] = Math.floor(rand() * 256);
      } else {
        const d = structuredClone(doc);
        const m = pick(d.messages) as Record<string, unknown>;
        const key = pick(Object.keys(m));
        if (op === 2) delete m[key];
        else m[key] = pick(weird);
        if (rand() < 0.1) d.messages = pick(weird);
        bytes = Buffer.from(JSON.stringify(d));
      }
      const items = [];
      for await (const item of parseTelegram((async function* () { yield bytes.subarray(0, 100); yield bytes.subarray(100); })(), { timeZone: 'Asia/Shanghai' })) items.push(item);
      for (const item of items) {
        if (item.kind !== 'problem') continue;
        problems++;
        expect(item.location).toMatch(/^(messages\[\d+\]|after messages\[\d+\]|byte \d+|file)$/);
        expect(item.reason).not.toBe('');
      }
    }
    expect(problems).toBeGreaterThan(1000);
  });
});
