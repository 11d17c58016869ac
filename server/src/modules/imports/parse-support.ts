import { createHash } from 'node:crypto';
import { DateTime } from 'luxon';
import { createReadStream } from 'node:fs';

/**
 * Helpers shared by the WhatsApp, WeChat and Discord parsers: line splitting with a bounded line
 * length, content-hash keys with a duplicate counter, and a re-readable file source.
 */

/** A source that starts from the beginning each time it is iterated, so a parser may read it twice
 *  (WhatsApp detects the date order in a first pass). A Node stream is read once only; this is not. */
export function fileSource(path: string): AsyncIterable<Uint8Array> {
  return { [Symbol.asyncIterator]: () => createReadStream(path)[Symbol.asyncIterator]() };
}

/** Longest line kept, in UTF-16 units; the rest of a longer line is dropped (and flagged), so a file
 *  without newlines cannot grow memory without bound. */
export const MAX_LINE = 256 * 1024;

export interface Line {
  /** 1-based. */
  no: number;
  text: string;
  /** The line was longer than MAX_LINE and was cut. */
  cut: boolean;
}

/** Splits a byte stream into lines (LF or CRLF), decoding with `decoder` (UTF-8 by default; a BOM is dropped). */
export async function* readLines(input: AsyncIterable<Uint8Array>, decoder = new TextDecoder('utf-8')): AsyncGenerator<Line> {
  let pending = '';
  let cut = false;
  let no = 0;
  const emit = (text: string): Line => {
    no += 1;
    const line = { no, text: text.endsWith('\r') ? text.slice(0, -1) : text, cut };
    cut = false;
    return line;
  };
  for await (const chunk of input) {
    const text = decoder.decode(chunk, { stream: true });
    let start = 0;
    for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', start)) {
      const piece = text.slice(start, nl);
      start = nl + 1;
      yield emit(appendCapped(pending, piece));
      pending = '';
    }
    pending = appendCapped(pending, text.slice(start));
  }
  pending = appendCapped(pending, decoder.decode());
  if (pending !== '' || cut) yield emit(pending);

  function appendCapped(head: string, tail: string): string {
    if (head.length + tail.length <= MAX_LINE) return head + tail;
    cut = true;
    return (head + tail.slice(0, Math.max(0, MAX_LINE - head.length))).slice(0, MAX_LINE);
  }
}

/**
 * Keys for platforms without message ids: a hash of what identifies the message, plus how many
 * identical ones came before it at the same instant. Identical messages can only collide within one
 * timestamp, so the counter map is reset whenever the timestamp changes (constant memory), and a
 * later export that overlaps this one yields the same keys for the same messages.
 */
export class ContentKeys {
  private at = '';
  private seen = new Map<string, number>();

  next(at: string, ...parts: string[]): string {
    if (at !== this.at) {
      this.at = at;
      this.seen.clear();
    }
    // The first 16 bytes as hex, written flat: a slice of the full hex string would keep all of it.
    const hash = createHash('sha256').update([at, ...parts].join('\u0000')).digest().toString('hex', 0, 16);
    const n = this.seen.get(hash) ?? 0;
    // Bounded even for a pathological file where every line shares one timestamp.
    if (this.seen.size < 100_000 || this.seen.has(hash)) this.seen.set(hash, n + 1);
    return n === 0 ? hash : `${hash}.${n}`;
  }
}

/** Remembers the most recent `limit` entries, dropping the oldest: the only state parsers keep across records. */
export class RecentMap<K, V> {
  private map = new Map<K, V>();
  constructor(private readonly limit: number) {}
  get(key: K): V | undefined {
    return this.map.get(key);
  }
  set(key: K, value: V): void {
    this.map.delete(key);
    this.map.set(key, value);
    if (this.map.size > this.limit) {
      const oldest = this.map.keys().next();
      if (!oldest.done) this.map.delete(oldest.value);
    }
  }
}

/**
 * A copy of `s` that keeps nothing else alive. Tokenizers hand out slices of the text they read
 * (V8 slices strings of 13 characters or more), and a slice keeps its whole parent chunk in
 * memory: state that outlives a record (names by id, chat names) must hold copies.
 */
export const detached = (s: string): string => (s.length < 13 ? s : (' ' + s).slice(1));

/** Bidi controls that phones sprinkle into exports (LRM, RLM, embeddings, isolates) and a stray BOM. */
export const DIRECTION_MARKS = /[\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]/g;

/** An instant as ISO-8601 UTC, without milliseconds when they are zero. */
export const isoUtc = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');

/**
 * Local wall-clock times to UTC in one zone, fast: luxon is asked for the UTC offset once per local
 * hour (it costs tens of microseconds a call, too slow for millions of lines), and the offset is
 * reused for every minute of that hour unless the offset changes within it (a DST switch).
 */
export class LocalClock {
  private hourKey = '';
  /** Offset in minutes for the cached hour, or null when it changes within the hour. */
  private hourOffset: number | null = null;
  private hourValid = false;

  constructor(private readonly zone: string) {}

  /** The instant, or null when the date does not exist (31 February, hour 24, …). */
  toUtc(year: number, month: number, day: number, hour: number, minute: number, second: number): string | null {
    if (!(year >= 1000 && year <= 9999 && minute >= 0 && minute <= 59 && second >= 0 && second <= 59)) return null;
    const key = `${year}-${month}-${day}-${hour}`;
    if (key !== this.hourKey) {
      this.hourKey = key;
      const start = DateTime.fromObject({ year, month, day, hour, minute: 0 }, { zone: this.zone });
      const end = DateTime.fromObject({ year, month, day, hour, minute: 59 }, { zone: this.zone });
      this.hourValid = start.isValid && end.isValid;
      this.hourOffset = this.hourValid && start.offset === end.offset ? start.offset : null;
    }
    if (!this.hourValid) return null;
    if (this.hourOffset === null) {
      const exact = DateTime.fromObject({ year, month, day, hour, minute, second }, { zone: this.zone });
      return exact.isValid ? isoUtc(exact.toMillis()) : null;
    }
    return isoUtc(Date.UTC(year, month - 1, day, hour, minute, second) - this.hourOffset * 60_000);
  }
}
