/**
 * What every chat-export parser yields, whatever the platform: the import pipeline maps these to
 * members (through identities), membership spans and engagement events. Parsers are streaming
 * (async generators over a byte stream) and never touch the database.
 */

export type ImportPlatform = 'telegram' | 'whatsapp' | 'discord' | 'wechat';

/** A person as the export names them. `external_id` is stable on the platform when it has one
 *  (Telegram `user123`, Discord snowflake, WeChat wxid); WhatsApp has only the display name or
 *  phone number as written, so its parser uses that. Where an export that has ids names someone by
 *  display name only (Telegram invite lists, WeChat group notices), `external_id` is
 *  `name:<display name>`, and the pipeline matches it to the identity with an id of that name. */
export interface ImportIdentity {
  platform: ImportPlatform;
  external_id: string;
  display_name: string;
}

/** Where a record came from, for error messages: `line 12`, `messages[3051]`, `row 7`. */
export type ImportLocation = string;

interface RecordBase {
  /** Stable across re-exports of the same chat: the platform's message id where there is one,
   *  else a hash of (chat, timestamp, author, text) with a per-duplicate counter. Scoped by the
   *  pipeline to (platform, chat). */
  key: string;
  /** ISO-8601 UTC instant. */
  at: string;
  /** The chat or channel the record belongs to (Telegram chat name, Discord `guild / channel`,
   *  WeChat room name, WhatsApp file's chat); the pipeline maps it to a group unless --group. */
  chat: string;
  location: ImportLocation;
}

export interface ImportMessage extends RecordBase {
  kind: 'message';
  author: ImportIdentity;
  /** Plain text with formatting segments flattened; '' for media-only messages. */
  text: string;
  /** The key of the message this one replies to, when the export says. */
  reply_to?: string;
  /** The author of the message replied to, when known (Discord, WeChat quotes). */
  reply_to_author?: ImportIdentity;
  /** Media placeholder kind when the message is or carries an attachment: 'photo', 'video', 'file', 'sticker', 'voice', … */
  attachment?: string;
  edited?: boolean;
  /** Reactions by person where the export lists them; count-only reactions have an empty `by`. */
  reactions?: { emoji: string; count: number; by: ImportIdentity[] }[];
  mentions?: ImportIdentity[];
}

export interface ImportJoin extends RecordBase {
  kind: 'join';
  member: ImportIdentity;
  /** Who added them, when someone did. */
  by?: ImportIdentity;
  via: 'link' | 'added' | 'qr' | 'unknown';
}

export interface ImportLeave extends RecordBase {
  kind: 'leave';
  member: ImportIdentity;
  /** Who removed them; absent when they left on their own. */
  by?: ImportIdentity;
}

/** Service lines that are neither messages nor joins/leaves (pins, subject changes, calls, …). Counted as skipped. */
export interface ImportService extends RecordBase {
  kind: 'service';
  action: string;
  actor?: ImportIdentity;
}

export type ImportRecord = ImportMessage | ImportJoin | ImportLeave | ImportService;

/** A line or record the parser could not read; the pipeline reports it (and in --strict mode imports nothing). */
export interface ImportProblem {
  kind: 'problem';
  location: ImportLocation;
  reason: string;
}

export type ParsedItem = ImportRecord | ImportProblem;

export interface ParseOptions {
  /** IANA zone for exports whose timestamps carry no offset (WhatsApp, WeChat local times). */
  timeZone: string;
  /** WhatsApp: force the date order when the file is ambiguous, e.g. 'd/m/y', 'm/d/y', 'y-m-d'. */
  dateFormat?: string;
  /** Chat name when the export does not carry one (WhatsApp): usually the file name. */
  chat?: string;
}

/** A parser: bytes in, records out, in file order, in constant memory. */
export type ChatParser = (input: AsyncIterable<Uint8Array>, options: ParseOptions) => AsyncGenerator<ParsedItem>;
