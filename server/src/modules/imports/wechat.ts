import { Readable } from 'node:stream';
import { type CsvError, type Options as CsvOptions, parse } from 'csv-parse';
import { DateTime } from 'luxon';
import { ContentKeys, isoUtc, LocalClock } from './parse-support.js';
import type { ChatParser, ImportIdentity, ImportRecord, ParsedItem, ParseOptions } from './records.js';

/**
 * WeChat chat CSVs as written by the desktop export tools (PyWxDump, WeChatMsg/留痕 and the like):
 * one header row, then one message per row. Columns are found by name, in any order; a header
 * matches when it equals one of the names below ignoring case, `_` and spaces.
 */
const COLUMNS = {
  key: ['msgsvrid', 'msgserverid', 'serverid', 'svrid'],
  typeName: ['typename', 'msgtypename'],
  type: ['type', 'msgtype'],
  subType: ['subtype'],
  isSender: ['issender', 'isself', 'issend'],
  senderId: ['sender', 'senderid', 'senderwxid', 'talker', 'strtalker', 'wxid', 'talkerwxid'],
  senderName: ['sendername', 'sendernickname', 'displayname', 'nickname', 'remark', 'talkername', 'name'],
  room: ['roomname', 'room', 'chatroom', 'chatroomname', 'roomid', 'chatname', 'groupname'],
  text: ['msg', 'strcontent', 'content', 'message', 'text'],
  time: ['createtime', 'strtime', 'time', 'datetime', 'msgtime', 'timestamp'],
} as const;
type Column = keyof typeof COLUMNS;

/** Longest row kept (csv-parse refuses longer ones), so a broken quote cannot swallow the file into memory. */
const MAX_ROW = 1024 * 1024;
/** Bytes looked at to decide the encoding. */
const SNIFF = 64 * 1024;

const normaliseHeader = (h: string) => h.replace(/^\ufeff/, '').toLowerCase().replace(/[\s_-]/g, '');

/** Every column present for each field, best first: a row's value is the first non-empty one, so a
 *  blank `sender` on a system row falls back to `talker`, and a blank NickName to Remark. */
type Index = Partial<Record<Column, number[]>>;

function indexHeader(header: string[]): Index {
  const names = header.map(normaliseHeader);
  const index: Index = {};
  for (const col of Object.keys(COLUMNS) as Column[]) {
    const found = COLUMNS[col].map((c) => names.indexOf(c)).filter((i) => i >= 0);
    if (found.length) index[col] = found;
  }
  return index;
}

/** Byte order mark, else UTF-8 if the first bytes are valid UTF-8, else GB18030 (what Chinese-locale Windows tools write). */
export function sniffEncoding(head: Uint8Array): 'utf-8' | 'utf-16le' | 'gb18030' {
  if (head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf) return 'utf-8';
  if (head[0] === 0xff && head[1] === 0xfe) return 'utf-16le';
  try {
    // stream: a multi-byte character cut by the end of the sample is not an error.
    new TextDecoder('utf-8', { fatal: true }).decode(head, { stream: true });
    return 'utf-8';
  } catch {
    return 'gb18030';
  }
}

async function* decoded(input: AsyncIterable<Uint8Array>, onEncoding: (e: string) => void): AsyncGenerator<string> {
  const head: Uint8Array[] = [];
  let size = 0;
  let decoder: TextDecoder | null = null;
  const start = () => {
    const joined = Buffer.concat(head);
    const encoding = sniffEncoding(joined);
    onEncoding(encoding);
    decoder = new TextDecoder(encoding);
    return decoder.decode(joined, { stream: true });
  };
  for await (const chunk of input) {
    if (decoder) {
      const text = (decoder as TextDecoder).decode(chunk, { stream: true });
      if (text) yield text;
      continue;
    }
    head.push(chunk);
    size += chunk.length;
    if (size >= SNIFF) {
      const text = start();
      head.length = 0;
      if (text) yield text;
    }
  }
  if (!decoder) {
    const text = start();
    if (text) yield text;
  }
  const tail = (decoder as TextDecoder | null)?.decode() ?? '';
  if (tail) yield tail;
}

type Kind =
  | { kind: 'message'; attachment?: string; dropText?: boolean }
  | { kind: 'system' }
  | { kind: 'service'; action: string };

const TYPE_NAMES: Record<string, Kind> = {
  文本: { kind: 'message' },
  图片: { kind: 'message', attachment: 'photo', dropText: true },
  视频: { kind: 'message', attachment: 'video', dropText: true },
  语音: { kind: 'message', attachment: 'voice', dropText: true },
  表情包: { kind: 'message', attachment: 'sticker', dropText: true },
  动画表情: { kind: 'message', attachment: 'sticker', dropText: true },
  引用消息: { kind: 'message' },
  引用回复: { kind: 'message' },
  链接: { kind: 'message', attachment: 'link' },
  卡片式链接: { kind: 'message', attachment: 'link' },
  分享链接: { kind: 'message', attachment: 'link' },
  文件: { kind: 'message', attachment: 'file' },
  位置: { kind: 'message', attachment: 'location' },
  名片: { kind: 'message', attachment: 'contact' },
  合并转发的聊天记录: { kind: 'message', attachment: 'forward' },
  聊天记录: { kind: 'message', attachment: 'forward' },
  小程序: { kind: 'message', attachment: 'link' },
  转账: { kind: 'message', attachment: 'transfer' },
  红包: { kind: 'message', attachment: 'red_packet' },
  音乐与音频: { kind: 'message', attachment: 'link' },
  系统通知: { kind: 'system' },
  系统消息: { kind: 'system' },
  系统提示: { kind: 'system' },
  撤回消息: { kind: 'service', action: 'recall' },
  拍一拍: { kind: 'service', action: 'pat' },
  语音通话: { kind: 'service', action: 'call' },
  视频通话: { kind: 'service', action: 'call' },
  音视频通话: { kind: 'service', action: 'call' },
};

/** WeChat's numeric message types, for tools that write `Type`/`SubType` instead of a type name. */
function kindOfType(type: number, subType: number): Kind {
  switch (type) {
    case 1:
      return { kind: 'message' };
    case 3:
      return { kind: 'message', attachment: 'photo', dropText: true };
    case 34:
      return { kind: 'message', attachment: 'voice', dropText: true };
    case 42:
      return { kind: 'message', attachment: 'contact' };
    case 43:
      return { kind: 'message', attachment: 'video', dropText: true };
    case 47:
      return { kind: 'message', attachment: 'sticker', dropText: true };
    case 48:
      return { kind: 'message', attachment: 'location' };
    case 49:
      if (subType === 6) return { kind: 'message', attachment: 'file' };
      if (subType === 57) return { kind: 'message' };
      if (subType === 19) return { kind: 'message', attachment: 'forward' };
      if (subType === 2000) return { kind: 'message', attachment: 'transfer' };
      return { kind: 'message', attachment: 'link' };
    case 50:
      return { kind: 'service', action: 'call' };
    case 10000:
    case 10002:
      return { kind: 'system' };
    default:
      return { kind: 'message' };
  }
}

const stripQuotes = (s: string) => s.trim().replace(/^["“”「『']+|["“”」』']+$/g, '').trim();
const isYou = (s: string) => s === '你' || s === '您';

/** Names in a system line are display names, separated by 、 (or ，) when several people are named. */
const splitNames = (s: string) =>
  s
    .split(/[、，,]/)
    .map(stripQuotes)
    .filter(Boolean);

interface SystemParse {
  joins?: { member: string; by?: string; via: 'link' | 'added' | 'qr' | 'unknown' }[];
  leaves?: { member: string; by?: string }[];
  service?: { action: string; actor?: string };
}

const Q = '["“”]?';

/** WeChat's group notices (Simplified Chinese). "你" is the exporting user, who has no name here. */
export function parseWeChatSystem(raw: string): SystemParse {
  const text = raw.trim();
  let m: RegExpExecArray | null;
  const by = (name: string) => (isYou(stripQuotes(name)) ? undefined : stripQuotes(name));
  const people = (names: string) => splitNames(names).filter((n) => !isYou(n));

  if ((m = new RegExp(`^(.+?)邀请(.+?)加入了群聊`).exec(text))) {
    const members = people(m[2]!);
    const inviter = by(m[1]!);
    return members.length ? { joins: members.map((member) => ({ member, by: inviter, via: 'added' as const })) } : { service: { action: 'joined' } };
  }
  if ((m = new RegExp(`^(.+?)通过扫描(.+?)分享的二维码加入群聊`).exec(text))) {
    const members = people(m[1]!);
    const sharer = by(m[2]!);
    return members.length ? { joins: members.map((member) => ({ member, by: sharer, via: 'qr' as const })) } : { service: { action: 'joined' } };
  }
  if ((m = /^(.+?)通过扫描二维码加入群聊/.exec(text))) {
    const members = people(m[1]!);
    return members.length ? { joins: members.map((member) => ({ member, via: 'qr' as const })) } : { service: { action: 'joined' } };
  }
  if ((m = /^(.+?)通过(.+?)分享的(?:群聊)?链接加入(?:了)?群聊/.exec(text))) {
    const members = people(m[1]!);
    const sharer = by(m[2]!);
    return members.length ? { joins: members.map((member) => ({ member, by: sharer, via: 'link' as const })) } : { service: { action: 'joined' } };
  }
  if ((m = /^(.+?)加入了群聊/.exec(text))) {
    const members = people(m[1]!);
    return members.length ? { joins: members.map((member) => ({ member, via: 'unknown' as const })) } : { service: { action: 'joined' } };
  }
  if ((m = /^(.+?)将(.+?)移出了?群聊/.exec(text))) {
    const members = people(m[2]!);
    const remover = by(m[1]!);
    return members.length ? { leaves: members.map((member) => ({ member, by: remover })) } : { service: { action: 'removed' } };
  }
  if ((m = /^(.+?)(?:被移出了?群聊|已?退出了?群聊|移出了群聊)/.exec(text))) {
    const members = people(m[1]!);
    return members.length ? { leaves: members.map((member) => ({ member })) } : { service: { action: 'left' } };
  }
  if ((m = new RegExp(`^(.+?)修改群名为${Q}`).exec(text))) return { service: { action: 'subject', actor: by(m[1]!) } };
  if ((m = /^(.+?)撤回了一条消息/.exec(text))) return { service: { action: 'recall', actor: by(m[1]!) } };
  if ((m = /^(.+?)拍了拍/.exec(text))) return { service: { action: 'pat', actor: by(m[1]!) } };
  return { service: { action: 'system' } };
}

/** Group notices name people by display name only: a name-only identity (`name:` prefix, see
 *  NAME_ONLY_PREFIX in imports.service.ts), which the pipeline matches to the wxid that used the name. */
const nameIdentity = (name: string): ImportIdentity => ({ platform: 'wechat', external_id: `name:${name}`, display_name: name });

function parseTime(raw: string, clock: LocalClock): string | null {
  const s = raw.trim();
  if (/^\d{9,10}$/.test(s)) return isoUtc(Number(s) * 1000);
  if (/^\d{12,13}$/.test(s)) return isoUtc(Number(s));
  const m = /^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})[ T](\d{1,2}):(\d{2})(?::(\d{2}))?$/.exec(s);
  if (!m) return null;
  return clock.toUtc(+m[1]!, +m[2]!, +m[3]!, +m[4]!, +m[5]!, m[6] ? +m[6] : 0);
}

interface Row {
  row: number;
  record: string[];
}

/** Parses a WeChat CSV export (UTF-8 with or without BOM, or GB18030). Locations are `row N`, the header being row 1. */
export const parseWeChat: ChatParser = async function* (input, options: ParseOptions): AsyncGenerator<ParsedItem> {
  if (!DateTime.now().setZone(options.timeZone).isValid) {
    yield { kind: 'problem', location: 'row 1', reason: `unknown time zone "${options.timeZone}"` };
    return;
  }
  // Rows and skipped rows are numbered as csv-parse meets them (both callbacks run in file order),
  // so problems can be put back in order with the records around them.
  let rowNo = 0;
  const problems: { row: number; reason: string }[] = [];
  const csvOptions: CsvOptions = {
    bom: true,
    relax_quotes: true,
    relax_column_count: true,
    skip_empty_lines: true,
    max_record_size: MAX_ROW,
    skip_records_with_error: true,
    // The returned shape replaces the record; csv-parse types it as the record itself.
    on_record: ((record: string[]) => ({ row: ++rowNo, record })) as unknown as CsvOptions['on_record'],
    on_skip: (err: CsvError | undefined) => {
      rowNo += 1;
      problems.push({ row: rowNo, reason: `unreadable CSV row: ${err?.message ?? 'malformed'}` });
      return undefined;
    },
  };
  const csv = parse(csvOptions);
  let encoding = '';
  const source = Readable.from(decoded(input, (e) => (encoding = e)));
  source.on('error', (err) => csv.destroy(err));
  source.pipe(csv);

  const keys = new ContentKeys();
  const clock = new LocalClock(options.timeZone);
  let index: Index | null = null;
  const flushProblems = function* (before: number): Generator<ParsedItem> {
    while (problems.length && problems[0]!.row < before) {
      const p = problems.shift()!;
      yield { kind: 'problem', location: `row ${p.row}`, reason: p.reason };
    }
  };

  try {
    for await (const { row, record } of csv as AsyncIterable<Row>) {
      yield* flushProblems(row);
      if (!index) {
        index = indexHeader(record);
        const missing = (['time', 'text'] as const).filter((c) => index![c] === undefined);
        if (missing.length) {
          yield {
            kind: 'problem',
            location: 'row 1',
            reason: `the header has no ${missing.map((c) => COLUMNS[c][0]).join(' or ')} column (read as ${encoding || 'utf-8'}: ${record.slice(0, 12).join(', ').slice(0, 200)})`,
          };
          csv.destroy();
          return;
        }
        continue;
      }
      yield* rowRecords(row, record, index);
    }
  } catch (err) {
    yield* flushProblems(Infinity);
    yield { kind: 'problem', location: `row ${rowNo + 1}`, reason: `cannot read the CSV from here on: ${(err as Error).message}` };
    return;
  } finally {
    source.destroy();
  }
  yield* flushProblems(Infinity);

  function* rowRecords(row: number, record: string[], idx: Index): Generator<ParsedItem> {
    const get = (c: Column, accept: (v: string) => boolean = () => true) => {
      for (const i of idx[c] ?? []) {
        const value = (record[i] ?? '').trim();
        if (value && accept(value)) return value;
      }
      return '';
    };
    const location = `row ${row}`;
    const at = parseTime(get('time'), clock);
    if (!at) {
      yield { kind: 'problem', location, reason: `cannot read the time "${get('time').slice(0, 40)}" (unix seconds or YYYY-MM-DD HH:MM:SS)` };
      return;
    }
    const typeName = get('typeName');
    const numeric = Number.parseInt(get('type'), 10);
    const kind: Kind =
      TYPE_NAMES[typeName] ?? (Number.isFinite(numeric) ? kindOfType(numeric, Number.parseInt(get('subType'), 10)) : { kind: 'message' });
    const text = get('text');
    // A chat id (`…@chatroom`) in a talker column names the conversation, not the person.
    const isRoomId = (v: string) => v.endsWith('@chatroom');
    const senderId = get('senderId', (v) => !isRoomId(v));
    const chat = get('room') || get('senderId', isRoomId) || options.chat || 'WeChat';
    const senderName = get('senderName');
    const isSender = get('isSender') === '1';
    const author: ImportIdentity | null =
      senderId || senderName
        ? { platform: 'wechat', external_id: senderId || senderName, display_name: senderName || senderId }
        : isSender
          ? { platform: 'wechat', external_id: 'me', display_name: '我' }
          : null;
    const svrId = get('key');
    const key = svrId && svrId !== '0' ? svrId : keys.next(get('time'), author?.external_id ?? '', typeName || get('type'), text);
    const base = { key, at, chat, location };

    if (kind.kind === 'service') {
      yield { ...base, kind: 'service', action: kind.action, ...(author ? { actor: author } : {}) };
      return;
    }
    if (kind.kind === 'system') {
      yield* systemRecords(base, text);
      return;
    }
    if (!author) {
      yield { kind: 'problem', location, reason: 'the message names no sender (no talker/sender/NickName value)' };
      return;
    }
    yield {
      ...base,
      kind: 'message',
      author,
      text: kind.dropText ? '' : text,
      ...(kind.attachment ? { attachment: kind.attachment } : {}),
    };
  }
};

function* systemRecords(base: { key: string; at: string; chat: string; location: string }, text: string): Generator<ImportRecord> {
  const sys = parseWeChatSystem(text);
  let i = 0;
  const sub = () => (i++ === 0 ? base.key : `${base.key}:${i - 1}`);
  for (const j of sys.joins ?? []) {
    yield { ...base, key: sub(), kind: 'join', member: nameIdentity(j.member), via: j.via, ...(j.by ? { by: nameIdentity(j.by) } : {}) };
  }
  for (const l of sys.leaves ?? []) {
    yield { ...base, key: sub(), kind: 'leave', member: nameIdentity(l.member), ...(l.by ? { by: nameIdentity(l.by) } : {}) };
  }
  if (sys.service) {
    yield { ...base, key: sub(), kind: 'service', action: sys.service.action, ...(sys.service.actor ? { actor: nameIdentity(sys.service.actor) } : {}) };
  }
}
