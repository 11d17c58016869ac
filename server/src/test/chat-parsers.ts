import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ImportProblem, ImportRecord, ParsedItem } from '../modules/imports/records.js';

/** Test support for the chat-export parsers: fixtures, byte sources, summaries and a seeded mutator. */

export const fixture = (path: string) => fileURLToPath(new URL(`../../../test/fixtures/${path}`, import.meta.url));
export const fixtureBytes = (path: string) => readFileSync(fixture(path));

/** A re-readable source over bytes, cut into `chunk`-byte pieces (1 exercises every boundary). */
export function bytesSource(bytes: Uint8Array, chunk = 64 * 1024): AsyncIterable<Uint8Array> {
  return {
    async *[Symbol.asyncIterator]() {
      for (let i = 0; i < bytes.length; i += chunk) yield bytes.subarray(i, Math.min(bytes.length, i + chunk));
    },
  };
}

export async function collect(items: AsyncIterable<ParsedItem>): Promise<{ records: ImportRecord[]; problems: ImportProblem[]; all: ParsedItem[] }> {
  const all: ParsedItem[] = [];
  for await (const item of items) all.push(item);
  return { all, records: all.filter((i): i is ImportRecord => i.kind !== 'problem'), problems: all.filter((i): i is ImportProblem => i.kind === 'problem') };
}

/** The CLI's summary figures, from records (people's messages only). */
export function summarize(records: ImportRecord[]) {
  const messages = records.filter((r) => r.kind === 'message');
  const ats = messages.map((m) => m.at).sort();
  return {
    messages: messages.length,
    authors: new Set(messages.map((m) => m.author.external_id)).size,
    joins: records.filter((r) => r.kind === 'join').length,
    leaves: records.filter((r) => r.kind === 'leave').length,
    services: records.filter((r) => r.kind === 'service').length,
    first_at: ats[0] ?? null,
    last_at: ats.at(-1) ?? null,
  };
}

/** mulberry32: small, seeded, reproducible. */
export function seeded(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  return { next, int, pick: <T>(xs: readonly T[]): T => xs[int(xs.length)]! };
}

/** One to four random edits of the bytes: flips, deletions, duplications, insertions of `alphabet`
 *  snippets (the format's own punctuation, so mutations reach deep into the parser), truncation. */
export function mutate(bytes: Uint8Array, rnd: ReturnType<typeof seeded>, alphabet: readonly string[]): Uint8Array {
  let b = Buffer.from(bytes);
  const edits = 1 + rnd.int(4);
  for (let e = 0; e < edits; e++) {
    const at = rnd.int(b.length + 1);
    switch (rnd.int(6)) {
      case 0:
        if (b.length) b[Math.min(at, b.length - 1)] = rnd.int(256);
        break;
      case 1:
        b = Buffer.concat([b.subarray(0, at), b.subarray(Math.min(b.length, at + 1 + rnd.int(40)))]);
        break;
      case 2: {
        const len = rnd.int(200);
        b = Buffer.concat([b.subarray(0, at), b.subarray(at, at + len), b.subarray(at)]);
        break;
      }
      case 3:
        b = Buffer.concat([b.subarray(0, at), Buffer.from(rnd.pick(alphabet)), b.subarray(at)]);
        break;
      case 4:
        b = b.subarray(0, at);
        break;
      default: {
        // Swap two lines.
        const lines = b.toString('latin1').split('\n');
        const i = rnd.int(lines.length);
        const j = rnd.int(lines.length);
        [lines[i], lines[j]] = [lines[j]!, lines[i]!];
        b = Buffer.from(lines.join('\n'), 'latin1');
      }
    }
  }
  return b;
}

/** What every item must look like, whatever the input: a problem names a location, a record has a UTC instant. */
export function checkItem(item: ParsedItem, location: RegExp): string | null {
  if (!location.test(item.location)) return `bad location ${JSON.stringify(item.location)}`;
  if (item.kind === 'problem') return item.reason ? null : 'problem without a reason';
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3})?Z$/.test(item.at)) return `bad instant ${item.at}`;
  if (!item.key) return 'empty key';
  if (item.kind === 'message' && !item.author.external_id) return 'message without an author id';
  if (item.kind === 'join' && !item.member.external_id) return 'join without a member id';
  if (item.kind === 'leave' && !item.member.external_id) return 'leave without a member id';
  const others = item.kind === 'message' ? [item.reply_to_author, ...(item.mentions ?? [])] : item.kind === 'service' ? [item.actor] : [item.by];
  if (others.some((p) => p && !p.external_id)) return 'a person without an id';
  return null;
}
