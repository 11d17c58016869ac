import { describe, expect, it } from 'vitest';
import { bytesSource, checkItem, collect, fixture, fixtureBytes, mutate, seeded, summarize } from '../../test/chat-parsers.js';
import { fileSource } from './parse-support.js';
import type { ImportJoin, ImportLeave, ImportMessage, ImportService, ParseOptions } from './records.js';
import { parseWhatsApp, whatsappParser } from './whatsapp.js';

const parseFile = (name: string, options: ParseOptions) => collect(parseWhatsApp(() => fileSource(fixture(`whatsapp/${name}`)), options));
const parseText = (text: string, options: ParseOptions = { timeZone: 'UTC' }) => collect(parseWhatsApp(() => bytesSource(Buffer.from(text)), options));
const messages = (records: { kind: string }[]) => records.filter((r): r is ImportMessage => r.kind === 'message');

describe('WhatsApp parser on real-shaped exports', () => {
  it('Android en-US, 12 h with U+202F before PM, m/d/y decided by 1/13/24', async () => {
    const { records, problems } = await parseFile('android-en-us-12h.txt', { timeZone: 'America/New_York' });
    expect(problems).toEqual([]);
    // Hand count. messages: Emma 8:05, Liam 8:06 ×2, +1 415… 11:59, Olivia media, Olivia deleted,
    // Sophia 12:31, Emma 1/13 8:00 = 8; authors Emma, Liam, +14155550132, Olivia, Sophia = 5;
    // joins: Liam, Olivia, +1 415… (added), Sophia (link) = 4; leaves: Liam left, Olivia removed = 2;
    // service: encryption, created, subject, icon = 4. EST is UTC−5.
    expect(summarize(records)).toEqual({
      messages: 8,
      authors: 5,
      joins: 4,
      leaves: 2,
      services: 4,
      first_at: '2023-12-31T01:05:00Z',
      last_at: '2024-01-14T01:00:00Z',
    });
    const msgs = messages(records);
    // 12:00 AM is midnight: 00:00 EST = 05:00Z.
    expect(msgs.find((m) => m.attachment === 'media')).toMatchObject({ at: '2023-12-31T05:00:00Z', text: '', author: { external_id: 'Olivia Brown' } });
    expect(msgs.find((m) => m.author.external_id === '+14155550132')).toMatchObject({
      text: 'Hi all, this is Noah\nSaved my number as Noah please',
      author: { display_name: '+1 415 555 0132' },
      at: '2023-12-31T04:59:00Z',
    });
    expect(msgs.find((m) => m.location === 'line 11')).toMatchObject({ text: '', edited: true });
    expect(msgs.find((m) => m.author.external_id === 'Sophia Davis')).toMatchObject({ text: 'Hello! Which chapter are we on?', edited: true, at: '2023-12-31T17:31:00Z' });
    const liam = msgs.filter((m) => m.author.external_id === 'Liam Smith');
    expect(liam).toHaveLength(2);
    expect(liam[0]!.key).not.toBe(liam[1]!.key);
    const joins = records.filter((r): r is ImportJoin => r.kind === 'join');
    expect(joins.map((j) => [j.member.external_id, j.via, j.by?.external_id ?? null])).toEqual([
      ['Liam Smith', 'added', 'Emma Johnson'],
      ['Olivia Brown', 'added', 'Emma Johnson'],
      ['+14155550132', 'added', 'Emma Johnson'],
      ['Sophia Davis', 'link', null],
    ]);
    const leaves = records.filter((r): r is ImportLeave => r.kind === 'leave');
    expect(leaves.map((l) => [l.member.external_id, l.by?.external_id ?? null])).toEqual([
      ['Liam Smith', null],
      ['Olivia Brown', 'Emma Johnson'],
    ]);
    expect(records.filter((r): r is ImportService => r.kind === 'service').map((s) => s.action)).toEqual(['encryption', 'created', 'subject', 'icon']);
    expect(new Set(records.map((r) => r.key)).size).toBe(records.length);
  });

  it('Android en-GB 24 h with Chinese names, a phone number, attachments with captions', async () => {
    const { records, problems } = await parseFile('android-en-gb-24h-zh.txt', { timeZone: 'Asia/Shanghai', chat: '读书会' });
    expect(problems).toEqual([]);
    // messages: 王芳 21:43, 李雷 21:45, +86 21:46, 韩梅梅 23:59, 张伟 00:01, 李雷 08:30, 王芳 13/01 = 7;
    // authors 王芳 李雷 +8613800138000 韩梅梅 张伟 = 5; joins 李雷 韩梅梅 +86… (one "added" line), 张伟 (link) = 4;
    // leaves 韩梅梅 = 1; service: encryption (LRM-led line), created = 2.
    expect(summarize(records)).toEqual({
      messages: 7,
      authors: 5,
      joins: 4,
      leaves: 1,
      services: 2,
      first_at: '2023-12-31T13:43:00Z',
      last_at: '2024-01-13T01:15:00Z',
    });
    expect(records.every((r) => r.chat === '读书会')).toBe(true);
    const msgs = messages(records);
    expect(msgs[0]).toMatchObject({ text: '大家好！欢迎加入读书会\n第一次活动定在周六下午三点\n地点：南山图书馆', location: 'line 4' });
    expect(msgs.find((m) => m.author.external_id === '+8613800138000')).toMatchObject({ attachment: 'photo', text: '这是上次活动的照片' });
    expect(msgs.find((m) => m.location === 'line 13')).toMatchObject({ attachment: 'voice', text: '' });
    expect(records[0]).toMatchObject({ kind: 'service', action: 'encryption' });
  });

  it('iOS brackets with seconds, LRM-led lines, group-name system lines, "~ name" non-contacts', async () => {
    const { records, problems } = await parseFile('ios-en-gb-brackets.txt', { timeZone: 'Europe/London' });
    expect(problems).toEqual([]);
    // messages: Chloe 18:35, Tom 18:36, Tom image, Chloe attached photo, 陈静 = 5 ("Missed voice call" is a
    // service line); authors Chloe, Tom, 陈静 = 3; joins Tom (added), 陈静 (link) = 2; leaves Tom = 1;
    // services: encryption, created, call = 3. London is UTC in February.
    expect(summarize(records)).toEqual({
      messages: 5,
      authors: 3,
      joins: 2,
      leaves: 1,
      services: 3,
      first_at: '2024-02-14T18:35:02Z',
      last_at: '2024-02-15T07:06:01Z',
    });
    const text = JSON.stringify(records);
    expect(text).not.toMatch(/[\u200e\u200f\r]/);
    expect(text).not.toContain('Weekend Hikers');
    const msgs = messages(records);
    expect(msgs.filter((m) => m.attachment === 'photo').map((m) => m.author.external_id)).toEqual(['Tom Wilson', 'Chloe Martin']);
    expect(msgs.at(-1)).toMatchObject({ author: { external_id: '陈静', display_name: '陈静' }, text: '大家好，我是陈静，周六一起！' });
    expect(msgs[0]!.text).toBe('Saturday: Box Hill loop, 14 km. Meet at Dorking station 9:00');
  });

  it('iOS y-m-d', async () => {
    const { records, problems } = await parseFile('ios-ymd.txt', { timeZone: 'Asia/Shanghai' });
    expect(problems).toEqual([]);
    // 4 messages by 赵敏 and Alex Chen; Shanghai is UTC+8.
    expect(summarize(records)).toEqual({ messages: 4, authors: 2, joins: 0, leaves: 0, services: 0, first_at: '2023-12-31T13:41:05Z', last_at: '2023-12-31T16:00:01Z' });
    expect(messages(records)[1]!.text).toBe('我来！\nBringing snacks');
    expect(messages(records)[3]).toMatchObject({ text: '新年快乐 🎉', edited: true });
  });

  it('German d.m.yy, localised media placeholder', async () => {
    const { records, problems } = await parseFile('android-de.txt', { timeZone: 'Europe/Berlin' });
    expect(problems).toEqual([]);
    // 4 messages (Jonas ×2, Lena ×2); the German encryption notice is an unrecognised system line; CET = UTC+1.
    expect(summarize(records)).toEqual({ messages: 4, authors: 2, joins: 0, leaves: 0, services: 1, first_at: '2023-12-31T20:41:00Z', last_at: '2024-01-01T09:15:00Z' });
    expect(messages(records)[2]).toMatchObject({ attachment: 'media', text: '' });
    expect(messages(records)[3]!.text).toBe('Frohes neues Jahr\nWir sehen uns am Dienstag');
  });

  it('Spanish "p. m." with U+202F, 12:00 a. m. is midnight', async () => {
    const { records, problems } = await parseFile('android-es-mx-ampm.txt', { timeZone: 'America/Mexico_City' });
    expect(problems).toEqual([]);
    // Mexico City is UTC−6 (no DST since 2022): 9:41 p. m. → 03:41Z next day; 12:00 a. m. → 06:00Z; 12:30 p. m. → 18:30Z.
    expect(messages(records).map((m) => m.at)).toEqual(['2024-01-01T03:41:00Z', '2024-01-01T05:59:00Z', '2024-01-01T06:00:00Z', '2024-01-01T18:30:00Z']);
    expect(summarize(records).authors).toBe(2);
  });
});

describe('WhatsApp date order', () => {
  it('asks for --date-format when no date decides it', async () => {
    const { all } = await parseFile('ambiguous-dates.txt', { timeZone: 'UTC' });
    expect(all).toHaveLength(1);
    expect(all[0]).toMatchObject({ kind: 'problem', location: 'line 1' });
    expect((all[0] as { reason: string }).reason).toMatch(/--date-format d\/m\/y.*m\/d\/y/);
  });

  it('--date-format decides an ambiguous file either way', async () => {
    const mdy = await parseFile('ambiguous-dates.txt', { timeZone: 'UTC', dateFormat: 'm/d/y' });
    expect(mdy.problems).toEqual([]);
    expect(messages(mdy.records).map((m) => m.at)).toEqual(['2024-01-02T10:00:00Z', '2024-01-02T10:05:00Z', '2024-03-04T18:20:00Z']);
    const dmy = await parseFile('ambiguous-dates.txt', { timeZone: 'UTC', dateFormat: 'dd/mm/yyyy' });
    expect(messages(dmy.records).map((m) => m.at)).toEqual(['2024-02-01T10:00:00Z', '2024-02-01T10:05:00Z', '2024-04-03T18:20:00Z']);
  });

  it('a forced order that a line contradicts makes that line a problem', async () => {
    const { records, problems } = await parseText('12/31/23, 9:41 PM - A: one\n1/1/24, 9:00 AM - B: two\n', { timeZone: 'UTC', dateFormat: 'd/m/y' });
    expect(problems).toEqual([{ kind: 'problem', location: 'line 1', reason: expect.stringMatching(/no such date/) }]);
    expect(messages(records).map((m) => m.at)).toEqual(['2024-01-01T09:00:00Z']);
  });

  it('refuses a file whose dates contradict each other, and an unknown --date-format', async () => {
    const conflicting = await parseText('13/01/2024, 10:00 - A: hi\n01/13/2024, 10:00 - B: hi\n');
    expect(conflicting.all).toEqual([{ kind: 'problem', location: 'line 1', reason: expect.stringMatching(/--date-format/) }]);
    const unknown = await parseText('13/01/2024, 10:00 - A: hi\n', { timeZone: 'UTC', dateFormat: 'q/r/s' });
    expect(unknown.all).toEqual([{ kind: 'problem', location: 'line 1', reason: expect.stringMatching(/not one of/) }]);
  });
});

describe('WhatsApp parser edges', () => {
  it('reports a line before the first message and an impossible time, and keeps the rest', async () => {
    const { records, problems } = await parseText('garbage first line\n13/01/2024, 25:00 - A: bad hour\ncontinuation of the bad one\n14/01/2024, 10:00 - B: fine\n');
    expect(problems.map((p) => p.location)).toEqual(['line 1', 'line 2']);
    expect(messages(records)).toHaveLength(1);
    expect(messages(records)[0]).toMatchObject({ text: 'fine', location: 'line 4' });
  });

  it('cuts a runaway message at 64 KiB with a problem, keeping a prefix', async () => {
    const body = Array.from({ length: 80 }, (_, i) => `${i}`.padEnd(1000, 'x')).join('\n');
    const { records, problems } = await parseText(`13/01/2024, 10:00 - A: start\n${body}\n14/01/2024, 10:00 - B: next\n`);
    expect(problems).toEqual([{ kind: 'problem', location: 'line 1', reason: expect.stringMatching(/longer than 65536/) }]);
    const [first, second] = messages(records);
    expect(first!.text.length).toBeLessThanOrEqual(64 * 1024);
    expect(`start\n${body}`.startsWith(first!.text)).toBe(true);
    expect(second).toMatchObject({ text: 'next', location: 'line 82' });
  });

  it('applies the zone offset on each side of a DST change', async () => {
    const { records } = await parseText('30/03/2024, 23:00 - A: winter\n31/03/2024, 03:30 - A: summer\n27/10/2024, 01:59 - A: summer again\n27/10/2024, 03:00 - A: winter again\n', {
      timeZone: 'Europe/Berlin',
    });
    // CET is UTC+1, CEST UTC+2; the switches are 31 March 02:00 and 27 October 03:00 local.
    expect(messages(records).map((m) => m.at)).toEqual(['2024-03-30T22:00:00Z', '2024-03-31T01:30:00Z', '2024-10-26T23:59:00Z', '2024-10-27T02:00:00Z']);
  });

  it('yields the same records whatever the chunking (1-byte chunks)', async () => {
    const bytes = fixtureBytes('whatsapp/android-en-gb-24h-zh.txt');
    const whole = await collect(parseWhatsApp(() => bytesSource(bytes), { timeZone: 'Asia/Shanghai' }));
    const tiny = await collect(parseWhatsApp(() => bytesSource(bytes, 1), { timeZone: 'Asia/Shanghai' }));
    expect(tiny.all).toEqual(whole.all);
  });

  it('an overlapping later export yields the same keys for the shared messages', async () => {
    const text = fixtureBytes('whatsapp/android-en-us-12h.txt').toString('utf8');
    const lines = text.split('\n');
    // A later export from the same phone: starts at line 6 (the first duplicate line) and has one more message.
    const later = lines.slice(5).join('\n') + '1/14/24, 9:00\u202fAM - Liam Smith: one more\n';
    const a = await parseText(text, { timeZone: 'America/New_York' });
    const b = await parseText(later, { timeZone: 'America/New_York' });
    const keysA = new Set(a.records.map((r) => r.key));
    const shared = b.records.filter((r) => keysA.has(r.key));
    expect(shared.length).toBe(b.records.length - 1);
    expect(b.records.filter((r) => !keysA.has(r.key)).map((r) => r.location)).toEqual([`line ${lines.length - 5}`]);
  });

  it('the registry shape needs a re-readable input, and says so when given a one-shot stream', async () => {
    const bytes = fixtureBytes('whatsapp/ios-ymd.txt');
    const ok = await collect(whatsappParser(bytesSource(bytes), { timeZone: 'UTC' }));
    expect(messages(ok.records)).toHaveLength(4);
    const once = (async function* () {
      yield bytes;
    })();
    const bad = await collect(whatsappParser(once, { timeZone: 'UTC' }));
    expect(bad.records).toEqual([]);
    expect(bad.problems[0]!.reason).toMatch(/re-readable/);
  });

  it('an empty file yields nothing; a text file that is not an export yields one problem', async () => {
    expect((await parseText('')).all).toEqual([]);
    expect((await parseText('hello\nworld\n')).all).toEqual([{ kind: 'problem', location: 'line 1', reason: expect.stringMatching(/WhatsApp timestamp/) }]);
  });
});

describe('WhatsApp fuzz', () => {
  it('never throws on thousands of mutated exports; every problem names a line', async () => {
    const files = ['android-en-us-12h.txt', 'android-en-gb-24h-zh.txt', 'ios-en-gb-brackets.txt', 'ios-ymd.txt', 'android-de.txt', 'android-es-mx-ampm.txt'].map((f) =>
      fixtureBytes(`whatsapp/${f}`),
    );
    const alphabet = ['\n', '\r\n', ': ', ' - ', '[', ']', '/', '.', ', ', '\u202fPM', ' a. m.', '\u200e', '<Media omitted>', ' left', ' added ', '99', '0', '\u0000', '\ufffd'];
    const rnd = seeded(20231231);
    let problems = 0;
    for (let i = 0; i < 2500; i++) {
      const bytes = mutate(rnd.pick(files), rnd, alphabet);
      const { all } = await collect(parseWhatsApp(() => bytesSource(bytes, 1 + rnd.int(300)), { timeZone: 'Asia/Shanghai' }));
      for (const item of all) {
        const bad = checkItem(item, /^line \d+$/);
        if (bad) throw new Error(`case ${i}: ${bad}: ${JSON.stringify(item)}`);
        if (item.kind === 'problem') problems += 1;
      }
    }
    // The mutations do reach the error paths.
    expect(problems).toBeGreaterThan(100);
  });
});
