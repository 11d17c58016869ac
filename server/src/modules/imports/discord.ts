import { DateTime } from 'luxon';
import Assembler from 'stream-json/core/assembler.js';
import { jsonParser, type Token } from 'stream-json/core/parser.js';
import { isoUtc, RecentMap } from './parse-support.js';
import type { ChatParser, ImportIdentity, ImportMessage, ParsedItem, ParseOptions } from './records.js';

/**
 * DiscordChatExporter JSON (`{guild, channel, dateRange, exportedAt, messages: [...], messageCount}`).
 *
 * Streamed token by token: the header objects (guild, channel) and each message are assembled one at
 * a time, everything else is skipped, so memory holds one message whatever the file size.
 */

/** How many recent message authors are remembered to name the author of a reply's target. Replies to
 *  messages further back than this get `reply_to` without `reply_to_author`. */
export const REPLY_AUTHOR_WINDOW = 50_000;

/** stream-chain's end-of-input marker (a registered symbol, so no import of the transitive package). */
const FLUSH = Symbol.for('object-stream.none') as unknown as string;

interface DceUser {
  id?: unknown;
  name?: unknown;
  nickname?: unknown;
  isBot?: unknown;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
const idOf = (v: unknown): string | undefined => str(v) ?? (typeof v === 'number' && Number.isFinite(v) ? String(v) : undefined);
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function identity(u: unknown): ImportIdentity | null {
  if (!isObject(u)) return null;
  const user = u as DceUser;
  const id = idOf(user.id);
  if (!id) return null;
  return { platform: 'discord', external_id: id, display_name: str(user.nickname) ?? str(user.name) ?? id };
}

const isBot = (u: unknown) => isObject(u) && u.isBot === true;
const humans = (list: unknown): ImportIdentity[] =>
  Array.isArray(list) ? list.filter((u) => !isBot(u)).flatMap((u) => identity(u) ?? []) : [];

function attachmentKind(m: Record<string, unknown>): string | undefined {
  if (Array.isArray(m.stickers) && m.stickers.length) return 'sticker';
  if (!Array.isArray(m.attachments) || !m.attachments.length) return undefined;
  const first: unknown = m.attachments[0];
  const name = (isObject(first) && (str(first.fileName) ?? str(first.url))) || '';
  const ext = /\.([a-z0-9]+)(?:\?.*)?$/i.exec(name)?.[1]?.toLowerCase() ?? '';
  if (['jpg', 'jpeg', 'png', 'webp', 'heic', 'bmp'].includes(ext)) return 'photo';
  if (ext === 'gif') return 'gif';
  if (['mp4', 'mov', 'webm', 'mkv'].includes(ext)) return 'video';
  if (['mp3', 'ogg', 'wav', 'm4a', 'flac', 'opus'].includes(ext)) return 'audio';
  return 'file';
}

/** Message types that carry a person's words; everything else is a join, a leave or a service line. */
const SPOKEN = new Set(['Default', 'Reply', 'ThreadStarterMessage']);

interface Context {
  chat: string;
  zone: string;
  authors: RecentMap<string, ImportIdentity | null>;
}

/** One element of `messages` to records (or a problem). */
export function discordMessage(raw: unknown, index: number, ctx: Context): ParsedItem[] {
  const location = `messages[${index}]`;
  const problem = (reason: string): ParsedItem[] => [{ kind: 'problem', location, reason }];
  if (!isObject(raw)) return problem('not an object');
  const key = idOf(raw.id);
  if (!key) return problem('no id');
  const at = instant(str(raw.timestamp), ctx.zone);
  if (!at) return problem(`cannot read the timestamp ${JSON.stringify(raw.timestamp ?? null)?.slice(0, 40)}`);
  const author = identity(raw.author);
  if (!author) return problem('no author id');
  const type = str(raw.type) ?? 'Default';
  const bot = isBot(raw.author);
  ctx.authors.set(key, bot ? null : author);
  const base = { key, at, chat: ctx.chat, location };

  // Bots are not members: their messages (and their joins) are kept as service lines, counted as skipped.
  if (bot) return [{ ...base, kind: 'service', action: type === 'GuildMemberJoin' ? 'bot_joined' : 'bot_message' }];

  if (type === 'GuildMemberJoin') return [{ ...base, kind: 'join', member: author, via: 'unknown' }];
  if (type === 'RecipientAdd' || type === 'RecipientRemove') {
    // Group DMs and threads: the person added or removed is the first mention; the author did it.
    const target = Array.isArray(raw.mentions) ? identity(raw.mentions[0]) : null;
    if (!target) return [{ ...base, kind: 'service', action: type, actor: author }];
    if (type === 'RecipientAdd') return [{ ...base, kind: 'join', member: target, via: 'added', by: author }];
    return [{ ...base, kind: 'leave', member: target, ...(target.external_id === author.external_id ? {} : { by: author }) }];
  }
  if (!SPOKEN.has(type)) return [{ ...base, kind: 'service', action: type, actor: author }];

  const message: ImportMessage = { ...base, kind: 'message', author, text: typeof raw.content === 'string' ? raw.content : '' };
  const attachment = attachmentKind(raw);
  if (attachment) message.attachment = attachment;
  if (str(raw.timestampEdited)) message.edited = true;
  const ref = isObject(raw.reference) ? idOf(raw.reference.messageId) : undefined;
  if (type === 'Reply' && ref) {
    message.reply_to = ref;
    const target = ctx.authors.get(ref);
    if (target) message.reply_to_author = target;
  }
  if (Array.isArray(raw.reactions) && raw.reactions.length) {
    message.reactions = raw.reactions.flatMap((r) => {
      if (!isObject(r) || !isObject(r.emoji)) return [];
      const emoji = str(r.emoji.name) ?? str(r.emoji.code) ?? idOf(r.emoji.id);
      const count = typeof r.count === 'number' && Number.isInteger(r.count) && r.count > 0 ? r.count : 0;
      return emoji && count ? [{ emoji, count, by: humans(r.users) }] : [];
    });
  }
  const mentions = humans(raw.mentions);
  if (mentions.length) message.mentions = mentions;
  return [message];
}

/** DiscordChatExporter writes offsets (`2024-01-10T09:01:12.345+08:00`): Date reads those exactly and
 *  fast; anything else goes through luxon, local to the import's zone. */
function instant(stamp: string | undefined, zone: string): string | null {
  if (!stamp) return null;
  if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,7})?(?:Z|[+-]\d{2}:\d{2})$/.test(stamp)) {
    const ms = Date.parse(stamp);
    if (Number.isFinite(ms)) return isoUtc(ms);
  }
  const when = DateTime.fromISO(stamp, { zone });
  return when.isValid ? isoUtc(when.toMillis()) : null;
}

type Section = 'guild' | 'channel' | 'message';

/** Parses a DiscordChatExporter JSON export. Record locations are `messages[i]`; syntax errors name the
 *  `line N` where the tokenizer noticed them, which can be a line or two past the fault (it looks ahead
 *  up to 16 characters to finish a literal). */
export const parseDiscord: ChatParser = async function* (input, options: ParseOptions): AsyncGenerator<ParsedItem> {
  if (!DateTime.now().setZone(options.timeZone).isValid) {
    yield { kind: 'problem', location: 'line 1', reason: `unknown time zone "${options.timeZone}"` };
    return;
  }
  const tokenize = jsonParser({ streamValues: false, maxDepth: 64, maxPackedLength: 16 * 1024 * 1024 });
  const ctx: Context = { chat: options.chat ?? 'Discord', zone: options.timeZone, authors: new RecentMap(REPLY_AUTHOR_WINDOW) };
  let guild = '';
  let channel = '';

  let started = false;
  let finished = false;
  let topKey: string | null = null;
  let inMessages = false;
  let sawMessages = false;
  let skip = 0;
  let index = 0;
  let capture: { asm: Assembler; section: Section; index: number } | null = null;
  const out: ParsedItem[] = [];

  const opens = (t: Token) => t.name === 'startObject' || t.name === 'startArray';
  const closes = (t: Token) => t.name === 'endObject' || t.name === 'endArray';
  const isValue = (t: Token) =>
    opens(t) || t.name === 'stringValue' || t.name === 'numberValue' || t.name === 'nullValue' || t.name === 'trueValue' || t.name === 'falseValue';

  const captured = (section: Section, value: unknown, at: number) => {
    if (section === 'message') {
      out.push(...discordMessage(value, at, ctx));
      return;
    }
    const name = isObject(value) ? (str(value.name) ?? idOf(value.id) ?? '') : '';
    if (section === 'guild') guild = name;
    else channel = name;
    if (guild || channel) ctx.chat = [guild, channel].filter(Boolean).join(' / ');
  };

  /** Returns a reason when the document is not the shape we read. */
  const step = (t: Token): string | null => {
    if (capture) {
      capture.asm.consume(t);
      if (capture.asm.done) {
        const { section, asm, index: at } = capture;
        capture = null;
        captured(section, asm.current, at);
      }
      return null;
    }
    if (skip > 0) {
      if (opens(t)) skip += 1;
      else if (closes(t)) skip -= 1;
      return null;
    }
    if (finished) return null;
    if (!started) {
      if (t.name !== 'startObject') return 'the file is not a DiscordChatExporter JSON export (its top level is not an object)';
      started = true;
      return null;
    }
    if (inMessages) {
      if (t.name === 'endArray') {
        inMessages = false;
        return null;
      }
      capture = { asm: new Assembler(), section: 'message', index: index++ };
      return step(t);
    }
    if (t.name === 'keyValue') {
      topKey = t.value;
      return null;
    }
    if (t.name === 'endObject') {
      finished = true;
      return null;
    }
    if (!isValue(t)) return null;
    if (topKey === 'messages' && t.name === 'startArray') {
      inMessages = true;
      sawMessages = true;
      return null;
    }
    if (topKey === 'guild' || topKey === 'channel') {
      capture = { asm: new Assembler(), section: topKey, index: 0 };
      return step(t);
    }
    if (opens(t)) skip = 1;
    return null;
  };

  const decoder = new TextDecoder('utf-8');
  let line = 1;
  const feed = function* (piece: string): Generator<ParsedItem, boolean> {
    let tokens: unknown;
    try {
      tokens = tokenize(piece);
    } catch (err) {
      yield* out.splice(0);
      yield { kind: 'problem', location: `line ${line}`, reason: `invalid JSON${inMessages ? ` in messages[${index - (capture ? 1 : 0)}]` : ''}: ${(err as Error).message}` };
      return false;
    }
    const list = typeof tokens === 'object' && tokens !== null ? (tokens as { values?: Token[] }).values ?? [] : [];
    for (const t of list) {
      const reason = step(t);
      if (reason) {
        yield* out.splice(0);
        yield { kind: 'problem', location: `line ${line}`, reason };
        return false;
      }
    }
    yield* out.splice(0);
    return true;
  };

  for await (const chunk of input) {
    const text = decoder.decode(chunk, { stream: true });
    // Fed a line at a time so a syntax error can name its line.
    let start = 0;
    for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', start)) {
      if (!(yield* feed(text.slice(start, nl + 1)))) return;
      start = nl + 1;
      line += 1;
    }
    if (start < text.length && !(yield* feed(text.slice(start)))) return;
  }
  const rest = decoder.decode();
  if (rest && !(yield* feed(rest))) return;
  if (!started) {
    yield { kind: 'problem', location: `line ${line}`, reason: 'the file is empty' };
    return;
  }
  if (!(yield* feed(FLUSH))) return;
  if (!sawMessages) yield { kind: 'problem', location: 'line 1', reason: 'no "messages" array: not a DiscordChatExporter JSON export' };
};
