import { DateTime } from 'luxon';
import { jsonParser, type Token } from 'stream-json/core/parser.js';
import { detached } from './parse-support.js';
import type { ChatParser, ImportIdentity, ImportRecord, ParsedItem, ParseOptions } from './records.js';

/**
 * Telegram Desktop's JSON export ("Export chat history" → JSON, or "Export Telegram data" for the
 * whole account), read as a token stream so memory stays constant whatever the file size: only
 * one message object is assembled at a time.
 *
 * Layouts: a single chat's `result.json` (`{name, type, id, messages: […]}`) and a full-account
 * export (`{…, chats: {list: [{name, type, id, messages}]}, left_chats: {list: […]}}`). Personal
 * chats, saved messages and bot chats of a full export are not community chats and are passed over.
 */

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Obj = { [k: string]: Json };

/** stream-chain's end-of-input marker: the tokenizer's last call, which flushes a trailing number. */
const FLUSH = Symbol.for('object-stream.none') as unknown as string;

/** Chat types of a full-account export that are one person's, not a community's. */
const PRIVATE_CHAT_TYPES = new Set(['personal_chat', 'saved_messages', 'bot_chat']);

/** `media_type` values as the record contract names attachments. */
const MEDIA: Record<string, string> = {
  sticker: 'sticker',
  video_file: 'video',
  video_message: 'video',
  voice_message: 'voice',
  audio_file: 'audio',
  animation: 'animation',
};

interface Chat {
  name?: string;
  type?: string;
  id?: string;
  /** Display name → from_id, as seen in this chat: invite and remove lists name people only. */
  ids: Map<string, string>;
}

const str = (v: Json | undefined): string | undefined => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : undefined);
const isObj = (v: Json | undefined): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** `text` is a string or a list of strings and `{type, text}` segments; formatting is dropped. */
export function flattenText(v: Json | undefined): string {
  if (typeof v === 'string') return v;
  if (!Array.isArray(v)) return '';
  return v.map((s) => (typeof s === 'string' ? s : isObj(s) ? (str(s.text) ?? '') : '')).join('');
}

function instantOf(m: Obj, field: 'date' | 'edited', options: ParseOptions): string | undefined {
  const unix = str(m[`${field}_unixtime`]);
  if (unix !== undefined && /^\d{1,12}$/.test(unix)) return new Date(Number(unix) * 1000).toISOString();
  // Without date_unixtime (older exports) the date is the exporting computer's local time.
  const local = str(m[field]);
  if (local === undefined) return undefined;
  const dt = DateTime.fromISO(local, { zone: options.timeZone });
  return dt.isValid ? dt.toUTC().toISO()! : undefined;
}

function chatName(chat: Chat, options: ParseOptions): string {
  return chat.name?.trim() || (chat.id ? `Telegram chat ${chat.id}` : options.chat || 'Telegram chat');
}

/** A person named by id (from_id / actor_id) or, in invite and remove lists, by name only. */
function person(chat: Chat, id: string | undefined, name: string | undefined): ImportIdentity | undefined {
  if (id) {
    if (name && chat.ids.get(name) !== id) chat.ids.set(detached(name), detached(id));
    return { platform: 'telegram', external_id: id, display_name: name ?? id };
  }
  if (!name) return undefined;
  const known = chat.ids.get(name);
  return { platform: 'telegram', external_id: known ?? `name:${name}`, display_name: name };
}

function* recordsOf(m: Json, location: string, chat: Chat, options: ParseOptions): Generator<ParsedItem> {
  const problem = (reason: string): ParsedItem => ({ kind: 'problem', location, reason });
  if (!isObj(m)) return yield problem('a message must be an object');
  const id = m.id;
  if (typeof id !== 'number' || !Number.isInteger(id)) return yield problem('message without a numeric id');
  const at = instantOf(m, 'date', options);
  if (!at) return yield problem('message without a valid date');
  const key = String(id);
  const base = { key, at, chat: chatName(chat, options), location };
  const type = str(m.type) ?? 'message';

  if (type === 'message') {
    const author = person(chat, str(m.from_id), str(m.from) ?? undefined);
    if (!author) return yield problem('message without from_id');
    const rec: ImportRecord = { ...base, kind: 'message', author, text: flattenText(m.text) };
    const replyTo = m.reply_to_message_id;
    if (typeof replyTo === 'number' || typeof replyTo === 'string') rec.reply_to = String(replyTo);
    const attachment = m.photo !== undefined ? 'photo' : str(m.media_type) ? (MEDIA[str(m.media_type)!] ?? 'file') : m.file !== undefined ? 'file' : undefined;
    if (attachment) rec.attachment = attachment;
    if (m.edited !== undefined || m.edited_unixtime !== undefined) rec.edited = true;
    if (Array.isArray(m.reactions)) {
      rec.reactions = m.reactions.filter(isObj).map((r) => ({
        emoji: str(r.emoji) ?? str(r.document_id) ?? str(r.type) ?? '?',
        count: typeof r.count === 'number' ? r.count : 0,
        by: (Array.isArray(r.recent) ? r.recent : []).filter(isObj).flatMap((p) => person(chat, str(p.from_id), str(p.from)) ?? []),
      }));
    }
    if (Array.isArray(m.text_entities)) {
      const mentions = m.text_entities.filter(isObj).flatMap((e) => (e.type === 'mention_name' && str(e.user_id) ? [person(chat, `user${str(e.user_id)}`, str(e.text))!] : []));
      if (mentions.length) rec.mentions = mentions;
    }
    return yield rec;
  }
  if (type !== 'service') return yield problem(`unknown message type "${type}"`);

  const action = str(m.action) ?? 'unknown';
  const actor = person(chat, str(m.actor_id), str(m.actor) ?? undefined);
  const names = Array.isArray(m.members) ? m.members.map((n) => str(n)).filter((n): n is string => !!n) : [];
  const actorIs = (name: string) => actor && (actor.display_name === name || actor.external_id === chat.ids.get(name));
  switch (action) {
    case 'join_group_by_link':
    case 'join_group_by_request':
      if (!actor) return yield problem(`${action} without actor_id`);
      return yield { ...base, kind: 'join', member: actor, via: action === 'join_group_by_link' ? 'link' : 'unknown' };
    case 'create_group':
    case 'invite_members': {
      const people = action === 'create_group' && actor && !names.some(actorIs) ? [actor.display_name, ...names] : names;
      if (!people.length) return yield problem(`${action} without members`);
      let i = 0;
      for (const name of people) {
        const self = actorIs(name);
        const member = self ? actor! : person(chat, undefined, name)!;
        const rec: ImportRecord = { ...base, key: `${key}:${i++}`, kind: 'join', member, via: self ? 'unknown' : 'added' };
        if (!self && actor) rec.by = actor;
        yield rec;
      }
      return;
    }
    case 'remove_members': {
      if (!names.length) return yield problem('remove_members without members');
      let i = 0;
      for (const name of names) {
        const self = actorIs(name);
        const rec: ImportRecord = { ...base, key: `${key}:${i++}`, kind: 'leave', member: self ? actor! : person(chat, undefined, name)! };
        if (!self && actor) rec.by = actor;
        yield rec;
      }
      return;
    }
    default: {
      const rec: ImportRecord = { ...base, kind: 'service', action };
      if (actor) rec.actor = actor;
      return yield rec;
    }
  }
}

type Role = 'root' | 'chats' | 'chatlist' | 'chat' | 'messages' | 'other';
interface Frame {
  array: boolean;
  role: Role;
  key: string | null;
  index: number;
}

/** Builds one JSON value from tokens; `push` returns true when the value is complete. */
class Builder {
  private stack: { value: Obj | Json[]; key: string | null }[] = [];
  value: Json = null;
  push(t: Token): boolean {
    switch (t.name) {
      case 'startObject':
      case 'startArray':
        this.stack.push({ value: t.name === 'startObject' ? {} : [], key: null });
        return false;
      case 'keyValue':
        this.stack.at(-1)!.key = t.value;
        return false;
      case 'endObject':
      case 'endArray':
        return this.put(this.stack.pop()!.value);
      case 'stringValue':
        return this.put(t.value);
      case 'numberValue':
        return this.put(Number(t.value));
      case 'nullValue':
      case 'trueValue':
      case 'falseValue':
        return this.put(t.value);
      default:
        return false;
    }
  }
  private put(v: Json): boolean {
    const top = this.stack.at(-1);
    if (!top) {
      this.value = v;
      return true;
    }
    if (Array.isArray(top.value)) top.value.push(v);
    else Object.defineProperty(top.value, top.key!, { value: v, enumerable: true, writable: true, configurable: true });
    return false;
  }
}

/** Telegram Desktop JSON export → records, in file order. A malformed file ends in one problem naming where it broke. */
export const parseTelegram: ChatParser = async function* (input, options) {
  let bytes = 0;
  // Decoded here (not by the parser) so a character split across chunks survives and a BOM is dropped.
  async function* text() {
    const decoder = new TextDecoder('utf-8');
    for await (const chunk of input) {
      bytes += chunk.byteLength;
      const s = decoder.decode(chunk, { stream: true });
      if (s) yield s;
    }
    const rest = decoder.decode();
    if (rest) yield rest;
  }
  const frames: Frame[] = [];
  let chat: Chat = { ids: new Map() };
  const root: Chat = chat;
  let sawMessages = false;
  // Set by `step` (a closure), so typed with `as`: control flow would narrow it to null for good.
  let building = null as { builder: Builder; location: string; skip: boolean } | null;
  let lastLocation: string | null = null;

  const locationOf = (index: number) => {
    const path: string[] = [];
    frames.forEach((f, k) => {
      if (f.role === 'chatlist') path.push(`${frames[k - 2]?.key ?? 'chats'}.list[${f.index}]`);
    });
    return [...path, `messages[${index}]`].join('.');
  };
  /** Where a new value sits: its parent frame and its key or index there. */
  const slot = () => {
    const parent = frames.at(-1);
    if (parent?.array) parent.index++;
    return parent;
  };
  const roleOf = (parent: Frame | undefined, array: boolean): Role => {
    if (!parent) return array ? 'other' : 'root';
    if (parent.role === 'root' && parent.key === 'messages' && array) return 'messages';
    if (parent.role === 'root' && (parent.key === 'chats' || parent.key === 'left_chats') && !array) return 'chats';
    if (parent.role === 'chats' && parent.key === 'list' && array) return 'chatlist';
    if (parent.role === 'chatlist' && !array) return 'chat';
    if (parent.role === 'chat' && parent.key === 'messages' && array) return 'messages';
    return 'other';
  };

  /** Records made by one chunk's tokens, yielded after the chunk: the tokens of a chunk are walked
   *  synchronously, as awaiting each token was a promise per token (a third of the import's garbage). */
  const out: ParsedItem[] = [];
  const step = (t: Token) => {
    if (building) {
      if (!building.builder.push(t)) return;
      const { builder, location, skip } = building;
      building = null;
      lastLocation = location;
      if (!skip) for (const item of recordsOf(builder.value, location, chat, options)) out.push(item);
      return;
    }
    switch (t.name) {
      case 'startObject':
      case 'startArray': {
        const array = t.name === 'startArray';
        const parent = slot();
        if (parent?.role === 'messages') {
          const b = new Builder();
          b.push(t);
          building = { builder: b, location: locationOf(parent.index), skip: !!chat.type && PRIVATE_CHAT_TYPES.has(chat.type) };
          break;
        }
        const role = roleOf(parent, array);
        if (role === 'chat') chat = { ids: new Map() };
        if (role === 'messages') sawMessages = true;
        frames.push({ array, role, key: null, index: -1 });
        break;
      }
      case 'endObject':
      case 'endArray':
        if (frames.pop()?.role === 'chat') chat = root;
        break;
      case 'keyValue':
        frames.at(-1)!.key = t.value;
        break;
      case 'stringValue':
      case 'numberValue':
      case 'nullValue':
      case 'trueValue':
      case 'falseValue': {
        const parent = slot();
        if (parent?.role === 'messages') {
          lastLocation = locationOf(parent.index);
          out.push({ kind: 'problem', location: lastLocation, reason: 'a message must be an object' });
        } else if ((parent?.role === 'root' || parent?.role === 'chat') && t.name !== 'nullValue') {
          // A copy: a slice would keep the whole chunk it came from for as long as the chat.
          const v = detached(String(t.value));
          if (parent.key === 'name') chat.name = v;
          else if (parent.key === 'type') chat.type = v;
          else if (parent.key === 'id') chat.id = v;
        }
        break;
      }
      default:
        break;
    }
  };
  const tokenize = jsonParser({ streamValues: false });
  const feed = (piece: string) => {
    const got: unknown = tokenize(piece);
    if (typeof got === 'object' && got !== null && 'values' in got) for (const t of got.values as Token[]) step(t);
  };

  try {
    for await (const piece of text()) {
      feed(piece);
      yield* out.splice(0);
    }
    feed(FLUSH);
    yield* out.splice(0);
  } catch (err) {
    yield* out.splice(0);
    const where = building?.location ?? (lastLocation ? `after ${lastLocation}` : `byte ${bytes}`);
    yield { kind: 'problem', location: where, reason: `not valid JSON: ${err instanceof Error ? err.message : String(err)}` };
    return;
  }
  if (building) yield { kind: 'problem', location: building.location, reason: 'the file ends inside this message' };
  else if (frames.length) yield { kind: 'problem', location: lastLocation ? `after ${lastLocation}` : `byte ${bytes}`, reason: 'the file ends early' };
  else if (!sawMessages) yield { kind: 'problem', location: 'file', reason: 'no messages list: not a Telegram Desktop JSON export' };
};
