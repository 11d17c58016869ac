import { DateTime } from 'luxon';
import { ContentKeys, DIRECTION_MARKS, LocalClock, readLines } from './parse-support.js';
import type { ChatParser, ImportIdentity, ImportRecord, ParsedItem, ParseOptions } from './records.js';

/**
 * WhatsApp "Export chat" text (`_chat.txt`, `WhatsApp Chat with X.txt`).
 *
 * The date order (d/m/y, m/d/y, y-m-d) is a property of the exporting phone's locale and is only
 * known once some line has a field above 12, which may be the last line. So the file is read twice:
 * a first pass looks only at the timestamps' numeric fields, a second pass parses. Memory stays
 * constant; the price is reading the file twice.
 */

export type DateOrder = 'dmy' | 'mdy' | 'ymd';

/** How much of one message's text is kept; a longer run of continuation lines is cut (and reported). */
const MAX_MESSAGE = 64 * 1024;

// `[31/12/2023, 21:41:05] ` (iOS) or `31/12/2023, 21:41 - ` (Android), dates with / . or -,
// 12 h clocks with AM/PM, a.m./p.m., and the narrow no-break space (U+202F) phones put before them.
const HEADER =
  /^(\[)?(\d{1,4})([./-])(\d{1,2})\3(\d{1,4}),?[ \u00a0\u202f]+(\d{1,2})[:.](\d{2})(?:[:.](\d{2}))?(?:[ \u00a0\u202f]*([AaPp])\.?[ \u00a0\u202f]?[Mm]\.?)?(?:(\])[ \u00a0\u202f]?|[ \u00a0\u202f]+[-\u2013][ \u00a0\u202f]?)/;

interface Header {
  a: string;
  b: string;
  c: string;
  hour: number;
  minute: number;
  second: number;
  ampm?: 'a' | 'p';
  rest: string;
}

function matchHeader(line: string): Header | null {
  const m = HEADER.exec(line);
  if (!m) return null;
  // A bracket opened must be closed and vice versa: `[date] Name` or `date - Name`, never mixed.
  if (Boolean(m[1]) !== Boolean(m[10])) return null;
  const ampm = m[9]?.toLowerCase();
  return {
    a: m[2]!,
    b: m[4]!,
    c: m[5]!,
    hour: Number(m[6]),
    minute: Number(m[7]),
    second: m[8] ? Number(m[8]) : 0,
    ampm: ampm === 'a' || ampm === 'p' ? ampm : undefined,
    rest: line.slice(m[0].length),
  };
}

const stripMarks = (s: string) => s.replace(DIRECTION_MARKS, '');

/** Reads `d/m/y`, `dd.mm.yyyy`, `m/d/y`, `y-m-d`, … into an order; null when it names none. */
export function parseDateFormat(format: string): DateOrder | null {
  const letters = format.toLowerCase().replace(/[^dmy]/g, '').replace(/(.)\1+/g, '$1');
  return letters === 'dmy' || letters === 'mdy' || letters === 'ymd' ? letters : null;
}

/** First pass: which order the file's dates are in, from every timestamp line. */
export async function detectDateOrder(input: AsyncIterable<Uint8Array>): Promise<{ order: DateOrder | 'ambiguous' | 'conflicting' | 'none' | 'empty' }> {
  let dmy = false;
  let mdy = false;
  let ymd = false;
  let any = false;
  let empty = true;
  for await (const { text } of readLines(input)) {
    if (empty && text.trim() !== '') empty = false;
    const h = matchHeader(stripMarks(text));
    if (!h) continue;
    any = true;
    if (h.a.length === 4) ymd = true;
    else if (Number(h.a) > 12) dmy = true;
    else if (Number(h.b) > 12) mdy = true;
  }
  if (!any) return { order: empty ? 'empty' : 'none' };
  if (dmy && mdy) return { order: 'conflicting' };
  if (dmy) return { order: 'dmy' };
  if (mdy) return { order: 'mdy' };
  if (ymd) return { order: 'ymd' };
  return { order: 'ambiguous' };
}

/** A phone number as written (`+86 138 0013 8000`) becomes `+8613800138000`; a name stays as written. */
export function whatsappIdentity(name: string): ImportIdentity {
  const display = stripMarks(name).replace(/^[~\s\u00a0\u202f]+/, '').trim();
  const phone = /^\+?[\d\s\u00a0\u202f()\-\u2011]+$/.test(display) && (display.match(/\d/g)?.length ?? 0) >= 6;
  return { platform: 'whatsapp', external_id: phone ? display.replace(/[\s\u00a0\u202f()\-\u2011]/g, '') : display, display_name: display };
}

const ATTACHED = /^<attached: (?:\d+-)?([A-Za-z]+)-?[^>]*>$/;
const FILE_ATTACHED = /^(\S.*?) \(file attached\)$/;
const OMITTED: Record<string, string> = {
  '<media omitted>': 'media',
  'image omitted': 'photo',
  'video omitted': 'video',
  'audio omitted': 'voice',
  'sticker omitted': 'sticker',
  'gif omitted': 'gif',
  'document omitted': 'file',
  'contact card omitted': 'contact',
  'location omitted': 'location',
  // The placeholder is localised on Android; the common ones besides English:
  '<medien ausgeschlossen>': 'media',
  '<multimedia omitido>': 'media',
};

function kindOfFileName(name: string): string {
  const upper = name.toUpperCase();
  if (/^IMG|PHOTO|\.(JPE?G|PNG|HEIC)$/.test(upper)) return 'photo';
  if (/^VID|VIDEO|\.(MP4|MOV|3GP)$/.test(upper)) return 'video';
  if (/^(PTT|AUD)|AUDIO|\.(OPUS|OGG|M4A|MP3|AAC)$/.test(upper)) return 'voice';
  if (/^STK|STICKER|\.WEBP$/.test(upper)) return 'sticker';
  if (/GIF/.test(upper)) return 'gif';
  return 'file';
}

/** A message body's first line may be a media placeholder; captions follow on the next lines. */
function splitAttachment(text: string): { text: string; attachment?: string } {
  const nl = text.indexOf('\n');
  const head = nl < 0 ? text : text.slice(0, nl);
  // Most lines are plain text: skip the placeholder tests unless the line could be one.
  if (head.length > 300 || !/omitted|attached|ausgeschlossen|omitido/i.test(head)) return { text };
  const first = stripMarks(head).trim();
  const after = nl < 0 ? '' : text.slice(nl + 1);
  const omitted = OMITTED[first.toLowerCase()];
  if (omitted) return { text: after, attachment: omitted };
  const attached = ATTACHED.exec(first);
  if (attached) return { text: after, attachment: kindOfFileName(attached[1]!) };
  const file = FILE_ATTACHED.exec(first);
  if (file) return { text: after, attachment: kindOfFileName(file[1]!) };
  return { text };
}

const EDITED = /[\s\u200e]*<This message was edited>$/;
const DELETED = /^(?:This message was deleted\.?|You deleted this message\.?)$/;

/** Splits `A, B and C` (the names in an "added" line). */
const splitNames = (s: string) =>
  s
    .split(/, | and /)
    .map((n) => n.trim())
    .filter((n) => whatsappIdentity(n).external_id !== '');

const isYou = (name: string) => /^you$/i.test(name.trim());
/** The name, unless it is "You" (the exporter, never named) or names no one. */
const someone = (name: string) => (isYou(name) || !whatsappIdentity(name).external_id ? undefined : name);

interface SystemParse {
  joins?: { member: string; by?: string; via: 'link' | 'added' | 'unknown' }[];
  leaves?: { member: string; by?: string }[];
  service?: { action: string; actor?: string };
}

/** English system lines; anything else without an author is a service line. */
export function parseSystemLine(text: string): SystemParse {
  let m: RegExpExecArray | null;
  if ((m = /^(.+?) joined using (?:this|the) (?:group|community)['’]s invite link$/.exec(text)))
    return isYou(m[1]!) || !whatsappIdentity(m[1]!).external_id ? { service: { action: 'joined' } } : { joins: [{ member: m[1]!, via: 'link' }] };
  if ((m = /^(.+?) joined(?: from the community)?$/.exec(text)))
    return isYou(m[1]!) || !whatsappIdentity(m[1]!).external_id ? { service: { action: 'joined' } } : { joins: [{ member: m[1]!, via: 'unknown' }] };
  if ((m = /^(.+?) (?:was|were) added$/.exec(text))) return { joins: splitNames(m[1]!).filter((n) => !isYou(n)).map((member) => ({ member, via: 'added' as const })) };
  if ((m = /^(.+?) added (.+)$/.exec(text))) {
    const by = someone(m[1]!);
    const joins = splitNames(m[2]!)
      .filter((n) => !isYou(n))
      .map((member) => ({ member, by, via: 'added' as const }));
    return joins.length ? { joins } : { service: { action: 'added', actor: by } };
  }
  if ((m = /^(.+?) left$/.exec(text))) return isYou(m[1]!) || !whatsappIdentity(m[1]!).external_id ? { service: { action: 'left' } } : { leaves: [{ member: m[1]! }] };
  if ((m = /^(.+?) removed (.+)$/.exec(text))) {
    const by = someone(m[1]!);
    const leaves = splitNames(m[2]!)
      .filter((n) => !isYou(n))
      .map((member) => ({ member, by }));
    return leaves.length ? { leaves } : { service: { action: 'removed', actor: by } };
  }
  if ((m = /^(.+?) changed the subject (?:from .+ )?to .+$/.exec(text))) return { service: { action: 'subject', actor: m[1]! } };
  if ((m = /^(.+?) created group .+$/.exec(text))) return { service: { action: 'created', actor: m[1]! } };
  if ((m = /^(.+?) (?:changed|deleted) this group['’]s icon$/.exec(text))) return { service: { action: 'icon', actor: m[1]! } };
  if ((m = /^(.+?) changed the group description$/.exec(text))) return { service: { action: 'description', actor: m[1]! } };
  if (/^Messages and calls are end-to-end encrypted/.test(text)) return { service: { action: 'encryption' } };
  return { service: { action: 'system' } };
}

interface Pending {
  line: number;
  local: string;
  at: string;
  author: string | null;
  text: string;
  cut: boolean;
}

/**
 * Parses a WhatsApp export. `open` must return a fresh iterable over the file's bytes each time it
 * is called: it is called twice (detect the date order, then parse) unless `options.dateFormat` is given.
 */
export async function* parseWhatsApp(open: () => AsyncIterable<Uint8Array>, options: ParseOptions): AsyncGenerator<ParsedItem> {
  const chat = options.chat ?? 'WhatsApp';
  if (!DateTime.now().setZone(options.timeZone).isValid) {
    yield { kind: 'problem', location: 'line 1', reason: `unknown time zone "${options.timeZone}"` };
    return;
  }
  let order: DateOrder;
  if (options.dateFormat) {
    const forced = parseDateFormat(options.dateFormat);
    if (!forced) {
      yield { kind: 'problem', location: 'line 1', reason: `--date-format "${options.dateFormat}" is not one of d/m/y, m/d/y, y-m-d` };
      return;
    }
    order = forced;
  } else {
    const detected = await detectDateOrder(open());
    if (detected.order === 'empty') return;
    if (detected.order === 'none') {
      yield { kind: 'problem', location: 'line 1', reason: 'no line starts with a WhatsApp timestamp such as "31/12/2023, 21:41 - " or "[31/12/2023, 21:41:05] "' };
      return;
    }
    if (detected.order === 'ambiguous' || detected.order === 'conflicting') {
      yield {
        kind: 'problem',
        location: 'line 1',
        reason:
          detected.order === 'ambiguous'
            ? 'cannot tell whether dates are day/month or month/day: no day in the file is above 12; pass --date-format d/m/y or --date-format m/d/y'
            : 'some dates read as day/month and others as month/day; pass --date-format d/m/y or --date-format m/d/y',
      };
      return;
    }
    order = detected.order;
  }

  const keys = new ContentKeys();
  const clock = new LocalClock(options.timeZone);
  let pending: Pending | null = null;
  let sawBytes = false;
  // A line that had a timestamp we could not read: its continuation lines are dropped with it.
  let skipping = false;

  const source = open();
  const counted = (async function* () {
    for await (const chunk of source) {
      if (chunk.length) sawBytes = true;
      yield chunk;
    }
  })();

  for await (const line of readLines(counted)) {
    const clean = line.text.replace(/^[\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]+/, '');
    const header = matchHeader(clean);
    if (!header) {
      if (pending) {
        // Once cut, the rest of the message is dropped, so the text kept is a prefix of what was written.
        if (pending.cut || line.cut || pending.text.length + line.text.length + 1 > MAX_MESSAGE) pending.cut = true;
        else pending.text += '\n' + stripMarksAtStart(line.text);
      } else if (!skipping && line.text.trim() !== '') {
        yield { kind: 'problem', location: `line ${line.no}`, reason: 'line has no timestamp and follows no message' };
        skipping = true;
      }
      continue;
    }
    if (pending) yield* finish(pending);
    pending = null;
    const when = toInstant(header, order, clock);
    if ('reason' in when) {
      yield { kind: 'problem', location: `line ${line.no}`, reason: when.reason };
      skipping = true;
      continue;
    }
    skipping = false;
    const split = splitAuthor(header.rest);
    let author = split.author;
    // iOS writes system lines as `[date] Group name: \u200eAlice added Bob`: an LRM-led text that
    // reads as a system line is one, whatever name precedes it (media placeholders are LRM-led too,
    // but never read as system lines).
    if (author !== null && /^[\u200e\u200f]/.test(split.text) && parseSystemLine(stripMarks(split.text).trim()).service?.action !== 'system') author = null;
    // A "name" of only marks, spaces or `~` names no one.
    if (author !== null && whatsappIdentity(author).external_id === '') author = null;
    pending = { line: line.no, local: when.local, at: when.at, author, text: stripMarksAtStart(split.text), cut: line.cut };
  }
  if (pending) yield* finish(pending);
  if (!sawBytes && !options.dateFormat) {
    yield { kind: 'problem', location: 'line 1', reason: 'the file could not be read a second time (the input must be re-readable)' };
  }

  function* finish(p: Pending): Generator<ParsedItem> {
    const location = `line ${p.line}`;
    if (p.cut) yield { kind: 'problem', location, reason: `message longer than ${MAX_MESSAGE} characters; the rest was dropped` };
    if (p.author !== null) {
      yield* messageRecord(p, p.author, location);
      return;
    }
    const text = stripMarks(p.text).trim();
    const key = keys.next(p.local, '', text);
    const base = { at: p.at, chat, location };
    const sys = parseSystemLine(text);
    let i = 0;
    const sub = () => (i++ === 0 ? key : `${key}:${i - 1}`);
    for (const j of sys.joins ?? []) {
      yield { ...base, key: sub(), kind: 'join', member: whatsappIdentity(j.member), via: j.via, ...(j.by ? { by: whatsappIdentity(j.by) } : {}) };
    }
    for (const l of sys.leaves ?? []) {
      yield { ...base, key: sub(), kind: 'leave', member: whatsappIdentity(l.member), ...(l.by ? { by: whatsappIdentity(l.by) } : {}) };
    }
    if (sys.service) {
      const s = sys.service;
      const actor = s.actor && someone(s.actor);
      yield { ...base, key: sub(), kind: 'service', action: s.action, ...(actor ? { actor: whatsappIdentity(actor) } : {}) };
    }
  }

  function* messageRecord(p: Pending, authorName: string, location: string): Generator<ImportRecord> {
    const author = whatsappIdentity(authorName);
    let body = p.text;
    let edited = false;
    if (body.endsWith('>') && EDITED.test(body)) {
      body = body.replace(EDITED, '');
      edited = true;
    }
    const key = keys.next(p.local, author.external_id, body);
    const base = { key, at: p.at, chat, location };
    const trimmed = body.length < 64 ? stripMarks(body).trim() : '';
    if (/^Missed (?:voice|video|group voice|group video) call$/.test(trimmed)) {
      yield { ...base, kind: 'service', action: 'call', actor: author };
      return;
    }
    if (DELETED.test(trimmed)) {
      yield { ...base, kind: 'message', author, text: '', edited: true };
      return;
    }
    const { text, attachment } = splitAttachment(body);
    yield { ...base, kind: 'message', author, text, ...(attachment ? { attachment } : {}), ...(edited ? { edited } : {}) };
  }
}

const stripMarksAtStart = (s: string) => s.replace(/^[\u200e\u200f\u202a-\u202e\u2066-\u2069]+/, '');

/** `Name: text` → author and text; a line with no `Name: ` is a system line. A name never holds a
 *  quote (subjects in system lines do), which keeps `X changed the subject to "a: b"` a system line. */
function splitAuthor(rest: string): { author: string | null; text: string } {
  const m = /^([^:"“”]{1,120}?):(?: |$)/.exec(rest);
  if (!m) return { author: null, text: rest };
  return { author: m[1]!, text: rest.slice(m[0].length) };
}

const pad = (n: number) => String(n).padStart(2, '0');

function toInstant(h: Header, order: DateOrder, clock: LocalClock): { at: string; local: string } | { reason: string } {
  let year: number;
  let month: number;
  let day: number;
  if (h.a.length === 4 || order === 'ymd') [year, month, day] = [Number(h.a), Number(h.b), Number(h.c)];
  else if (order === 'dmy') [day, month, year] = [Number(h.a), Number(h.b), Number(h.c)];
  else [month, day, year] = [Number(h.a), Number(h.b), Number(h.c)];
  const yearDigits = h.a.length === 4 || order === 'ymd' ? h.a.length : h.c.length;
  if (yearDigits === 2) year += 2000;
  else if (yearDigits !== 4) return { reason: `cannot read the year in the date "${h.a}/${h.b}/${h.c}"` };
  let hour = h.hour;
  if (h.ampm) {
    if (hour < 1 || hour > 12) return { reason: `hour ${hour} with AM/PM` };
    hour = (hour % 12) + (h.ampm === 'p' ? 12 : 0);
  }
  const at = clock.toUtc(year, month, day, hour, h.minute, h.second);
  if (!at) return { reason: `no such date or time: ${h.a}/${h.b}/${h.c} ${h.hour}:${pad(h.minute)} read as ${order.split('').join('/')}` };
  return { at, local: `${year}-${pad(month)}-${pad(day)}T${pad(hour)}:${pad(h.minute)}:${pad(h.second)}` };
}

/**
 * The registry's shape. The pipeline must pass a re-readable input (each `[Symbol.asyncIterator]()`
 * starts from the beginning, e.g. `fileSource(path)`), because the file is read twice; a one-shot
 * stream yields a problem instead of records.
 */
export const whatsappParser: ChatParser = (input, options) => parseWhatsApp(() => input, options);
