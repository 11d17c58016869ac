import { describe, expect, it } from 'vitest';
import { bytesSource, checkItem, collect, fixture, fixtureBytes, mutate, seeded, summarize } from '../../test/chat-parsers.js';
import { parseDiscord, REPLY_AUTHOR_WINDOW } from './discord.js';
import { fileSource } from './parse-support.js';
import type { ImportJoin, ImportLeave, ImportMessage, ImportService } from './records.js';

const parseFile = (name: string, timeZone = 'UTC') => collect(parseDiscord(fileSource(fixture(`discord/${name}`)), { timeZone }));
const parseJson = (value: unknown) => collect(parseDiscord(bytesSource(Buffer.from(typeof value === 'string' ? value : JSON.stringify(value, null, 2))), { timeZone: 'UTC' }));
const messages = (records: { kind: string }[]) => records.filter((r): r is ImportMessage => r.kind === 'message');

/** A separate reference over the raw fixture (JSON.parse of a small file): people's messages are
 *  Default/Reply by non-bots; joins are GuildMemberJoin/RecipientAdd by non-bots; leaves RecipientRemove. */
function reference(name: string) {
  const doc = JSON.parse(fixtureBytes(`discord/${name}`).toString('utf8').replace(/^\ufeff/, '')) as {
    messages: { type: string; timestamp: string; author: { id: string; isBot: boolean } }[];
  };
  const spoken = doc.messages.filter((m) => !m.author.isBot && (m.type === 'Default' || m.type === 'Reply'));
  const times = spoken.map((m) => Date.parse(m.timestamp)).sort((a, b) => a - b);
  return {
    messages: spoken.length,
    authors: new Set(spoken.map((m) => m.author.id)).size,
    joins: doc.messages.filter((m) => !m.author.isBot && (m.type === 'GuildMemberJoin' || m.type === 'RecipientAdd')).length,
    leaves: doc.messages.filter((m) => !m.author.isBot && m.type === 'RecipientRemove').length,
    first_at: new Date(times[0]!).toISOString().replace('.000Z', 'Z'),
    last_at: new Date(times.at(-1)!).toISOString().replace('.000Z', 'Z'),
  };
}

describe('Discord parser on DiscordChatExporter exports', () => {
  it('guild channel: members, bots, replies, reactions, mentions, attachments', async () => {
    const { records, problems } = await parseFile('guild-general.json', 'Asia/Shanghai');
    expect(problems).toEqual([]);
    // By hand: messages 小明 ×3, Alice, Bob ×2, 王磊 (sticker) = 7; authors 4; joins 小明, 王磊 (Carl-bot's join is a
    // service line) = 2; services: MEE6 message, pin, thread, Carl-bot join, Carl-bot reply = 5.
    const { services, ...figures } = summarize(records);
    expect(services).toBe(5);
    expect(figures).toEqual({ messages: 7, authors: 4, joins: 2, leaves: 0, first_at: '2024-01-10T01:01:12.345Z', last_at: '2024-01-12T01:00:00Z' });
    expect(figures).toEqual(reference('guild-general.json'));
    expect(records.every((r) => r.chat === 'Rust 中文社区 / general')).toBe(true);

    const msgs = messages(records);
    const byKey = new Map(msgs.map((m) => [m.key, m]));
    expect(byKey.get('1194000000000000001')!.reactions).toEqual([
      {
        emoji: '👋',
        count: 2,
        by: [
          { platform: 'discord', external_id: '310000000000000002', display_name: 'Alice 🦀' },
          { platform: 'discord', external_id: '310000000000000003', display_name: 'bobthebuilder' },
        ],
      },
    ]);
    expect(byKey.get('1194000000000000002')!.mentions).toEqual([{ platform: 'discord', external_id: '310000000000000001', display_name: '小明' }]);
    // A reply to a message seen earlier names its author; one to a message outside the file does not.
    expect(byKey.get('1194000000000000003')).toMatchObject({ reply_to: '1194000000000000002', reply_to_author: { external_id: '310000000000000002' } });
    expect(byKey.get('1194000000000000009')!.reply_to).toBe('1180000000000000000');
    expect(byKey.get('1194000000000000009')!.reply_to_author).toBeUndefined();
    expect(byKey.get('1194000000000000006')).toMatchObject({ attachment: 'photo', edited: true, text: '' });
    expect(byKey.get('1194000000000000008')).toMatchObject({ attachment: 'sticker' });
    // Custom emoji without a user list: count only; the bot among the mentions is dropped.
    expect(byKey.get('1194000000000000012')).toMatchObject({ reactions: [{ emoji: 'ferris', count: 3, by: [] }], text: 'Thanks all 🙏\n下周见 <@310000000000000002> <@235148962103951360>' });
    expect(byKey.get('1194000000000000012')!.mentions!.map((m) => m.external_id)).toEqual(['310000000000000002']);
    expect(records.filter((r): r is ImportService => r.kind === 'service').map((s) => s.action)).toEqual([
      'bot_message',
      'ChannelPinnedMessage',
      'ThreadCreated',
      'bot_joined',
      'bot_message',
    ]);
    expect(records.map((r) => r.location)).toEqual(records.map((_, i) => `messages[${i}]`));
  });

  it('group DM, minified with a BOM: recipients added and removed', async () => {
    const { records, problems } = await parseFile('group-dm-minified.json');
    expect(problems).toEqual([]);
    const { services, ...figures } = summarize(records);
    expect(figures).toEqual(reference('group-dm-minified.json'));
    // By hand: 3 messages by 3 people, 2 added, 2 removed (Sam left on his own, 美美 removed by 林月), 1 rename.
    expect(figures).toMatchObject({ messages: 3, authors: 3, joins: 2, leaves: 2 });
    expect(services).toBe(1);
    expect(records[0]!.chat).toBe('Direct Messages / Trip planning');
    const joined = records.filter((r): r is ImportJoin => r.kind === 'join');
    expect(joined.map((j) => [j.member.display_name, j.by?.display_name, j.via])).toEqual([
      ['Sam', '林月', 'added'],
      ['美美', '林月', 'added'],
    ]);
    const left = records.filter((r): r is ImportLeave => r.kind === 'leave');
    expect(left.map((l) => [l.member.display_name, l.by?.display_name ?? null])).toEqual([
      ['Sam', null],
      ['美美', '林月'],
    ]);
  });

  it('reads the same in 1-byte chunks', async () => {
    const bytes = fixtureBytes('discord/guild-general.json');
    const whole = await collect(parseDiscord(bytesSource(bytes), { timeZone: 'UTC' }));
    const tiny = await collect(parseDiscord(bytesSource(bytes, 1), { timeZone: 'UTC' }));
    expect(tiny.all).toEqual(whole.all);
  });
});

describe('Discord parser edges', () => {
  const author = { id: '1', name: 'a', nickname: 'A', isBot: false };
  it('a bad message is a problem naming its index; the others are kept', async () => {
    const { records, problems } = await parseJson({
      guild: { id: '9', name: 'G' },
      channel: { id: '8', name: 'c' },
      messages: [
        { id: '100', type: 'Default', timestamp: '2024-01-01T00:00:00+00:00', content: 'ok', author },
        { id: '101', type: 'Default', timestamp: 'not a time', content: 'bad', author },
        { id: '102', type: 'Default', timestamp: '2024-01-01T00:00:01+00:00', content: 'no author' },
        7,
        { id: '104', type: 'Default', timestamp: '2024-01-01T08:00:02+08:00', content: 'ok too', author },
      ],
    });
    expect(problems.map((p) => p.location)).toEqual(['messages[1]', 'messages[2]', 'messages[3]']);
    expect(messages(records).map((m) => [m.key, m.at, m.chat])).toEqual([
      ['100', '2024-01-01T00:00:00Z', 'G / c'],
      ['104', '2024-01-01T00:00:02Z', 'G / c'],
    ]);
  });

  it('broken JSON stops with a problem naming the line, after the records before it', async () => {
    const text = JSON.stringify({ guild: { id: '9', name: 'G' }, channel: { id: '8', name: 'c' }, messages: [{ id: '1', type: 'Default', timestamp: '2024-01-01T00:00:00Z', content: 'x', author }] }, null, 2);
    const broken = text.slice(0, text.lastIndexOf(']')) + ',\n    {"id": "2", "content": tru\n  ]\n}';
    const { records, problems } = await parseJson(broken);
    expect(records).toHaveLength(1);
    expect(problems).toHaveLength(1);
    expect(problems[0]!.location).toMatch(/^line \d+$/);
    // The tokenizer holds up to 16 characters back while a literal might still complete, so it can
    // notice the error a line or two later: the location is where it noticed.
    const errorLine = broken.split('\n').findIndex((l) => l.includes('tru')) + 1;
    const reported = Number(problems[0]!.location.slice(5));
    expect(reported).toBeGreaterThanOrEqual(errorLine);
    expect(reported).toBeLessThanOrEqual(errorLine + 2);
  });

  it('not an export: a top-level array, or an object without messages', async () => {
    expect((await parseJson([1, 2])).all).toEqual([{ kind: 'problem', location: 'line 1', reason: expect.stringMatching(/not an object/) }]);
    expect((await parseJson({ guild: {} })).all).toEqual([{ kind: 'problem', location: 'line 1', reason: expect.stringMatching(/no "messages"/) }]);
  });

  it('names reply authors within the documented window of recent messages, and only there', async () => {
    const other = { id: '2', name: 'b', isBot: false };
    const list: unknown[] = [];
    const n = REPLY_AUTHOR_WINDOW + 1;
    for (let i = 0; i < n; i++) list.push({ id: String(1000 + i), type: 'Default', timestamp: '2024-01-01T00:00:00Z', content: '', author: i === 0 || i === n - 1 ? other : author });
    // Message 1000 is now one past the window; message 1000 + n - 1 is the latest.
    list.push({ id: 'r1', type: 'Reply', timestamp: '2024-01-01T00:00:01Z', content: '', author, reference: { messageId: '1000' } });
    list.push({ id: 'r2', type: 'Reply', timestamp: '2024-01-01T00:00:01Z', content: '', author, reference: { messageId: String(1000 + n - 1) } });
    const { records } = await parseJson(JSON.stringify({ guild: { id: '9', name: 'G' }, channel: { id: '8', name: 'c' }, messages: list }));
    const [r1, r2] = messages(records).slice(-2);
    expect(r1).toMatchObject({ key: 'r1', reply_to: '1000' });
    expect(r1!.reply_to_author).toBeUndefined();
    expect(r2).toMatchObject({ key: 'r2', reply_to_author: { external_id: '2' } });
  });
});

describe('Discord fuzz', () => {
  it('never throws on thousands of mutated exports; every problem names a line or a message', async () => {
    const files = ['guild-general.json', 'group-dm-minified.json'].map((f) => fixtureBytes(`discord/${f}`));
    const alphabet = ['{', '}', '[', ']', '"', ',', ':', 'null', '"type": "Reply"', '"isBot": true', '"timestamp": "2024-99-99"', '"messages": ', '\\u00', '1e999', '-', '\n'];
    const rnd = seeded(20240110);
    let problems = 0;
    for (let i = 0; i < 2000; i++) {
      const bytes = mutate(rnd.pick(files), rnd, alphabet);
      const { all } = await collect(parseDiscord(bytesSource(bytes, 1 + rnd.int(2000)), { timeZone: 'UTC' }));
      for (const item of all) {
        const bad = checkItem(item, /^(line \d+|messages\[\d+\])$/);
        if (bad) throw new Error(`case ${i}: ${bad}: ${JSON.stringify(item)}`);
        if (item.kind === 'problem') problems += 1;
      }
    }
    expect(problems).toBeGreaterThan(100);
  });
});
