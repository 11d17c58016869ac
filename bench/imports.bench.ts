/**
 * Import bench (issue 6): a generated Telegram Desktop export and a WhatsApp chat of `messages`
 * messages each, imported through the same pipeline as `yutang import` into a fresh SQLite
 * database, in a child process whose peak RSS is read from the kernel (getrusage). Baselines in the
 * same run, each in a child of its own: JSON.parse of the whole Telegram file, and the whole
 * WhatsApp file split into lines. Goal: peak RSS under 300 MB whatever the file size.
 */
import { execFileSync } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import seedrandom from 'seedrandom';

export interface ImportsOptions {
  messages: number;
  seed: number;
  log: (line: string) => void;
}

export interface Measured {
  ms: number;
  messages: number;
  maxRssMb: number;
  imported?: number;
  problems?: number;
  /** The import's memory every 100,000 records (bench/imports-child.ts). */
  samples?: { records: number; seconds: number; rssMb: number; heapUsedMb: number; heapTotalMb: number; externalMb: number; arrayBuffersMb: number }[];
}

export interface FormatResult {
  format: 'telegram' | 'whatsapp';
  fileMb: number;
  messages: number;
  import: Measured & { messagesPerS: number };
  baseline: Measured & { what: string; messagesPerS: number };
  rssGoalMb: number;
  rssGoalMet: boolean;
}

export const RSS_GOAL_MB = 300;
const AUTHORS = 5_000;
const START = Date.parse('2026-01-01T00:00:00Z');

/** Streams `lines` into a file, waiting when the stream's buffer is full. */
export async function writeLines(path: string, lines: Iterable<string>): Promise<void> {
  const out = createWriteStream(path);
  for (const l of lines) if (!out.write(l)) await once(out, 'drain');
  out.end();
  await once(out, 'finish');
}

const WORDS = ['读书', '打卡', '今天', 'book', 'chapter', 'great', '分享', '问题', 'thanks', '周末', 'meetup', '笔记'];

export function* telegramLines(n: number, seed: number): Generator<string> {
  const rng = seedrandom(String(seed));
  const seen = new Set<number>();
  yield '{\n "name": "Bench Reading Club",\n "type": "private_supergroup",\n "id": 99,\n "messages": [\n';
  let id = 0;
  let written = 0;
  let first = true;
  const item = (o: object) => {
    const s = (first ? '' : ',\n') + '  ' + JSON.stringify(o);
    first = false;
    return s;
  };
  while (written < n) {
    const a = Math.floor(rng() * AUTHORS);
    const t = Math.floor((START + id * 20_000) / 1000);
    const date = new Date(t * 1000 + 8 * 3_600_000).toISOString().slice(0, 19);
    if (!seen.has(a)) {
      seen.add(a);
      yield item({ id: ++id, type: 'service', date, date_unixtime: String(t), actor: `成员${a}`, actor_id: `user${a}`, action: 'join_group_by_link', inviter: 'Group', text: '', text_entities: [] });
      continue;
    }
    const words = Array.from({ length: 3 + Math.floor(rng() * 8) }, () => WORDS[Math.floor(rng() * WORDS.length)]).join(' ');
    const m: Record<string, unknown> = { id: ++id, type: 'message', date, date_unixtime: String(t), from: `成员${a}`, from_id: `user${a}`, text: rng() < 0.2 ? [words, { type: 'bold', text: '!' }] : words, text_entities: [{ type: 'plain', text: words }] };
    if (rng() < 0.15 && id > 2) m.reply_to_message_id = id - 1 - Math.floor(rng() * Math.min(id - 1, 50));
    if (rng() < 0.1) m.reactions = [{ type: 'emoji', count: 1, emoji: '👍', recent: [{ from: `成员${(a + 1) % AUTHORS}`, from_id: `user${(a + 1) % AUTHORS}`, date }] }];
    yield item(m);
    written++;
  }
  yield '\n ]\n}\n';
}

export function* whatsappLines(n: number, seed: number): Generator<string> {
  const rng = seedrandom(String(seed + 1));
  const seen = new Set<number>();
  let written = 0;
  let k = 0;
  while (written < n) {
    const a = Math.floor(rng() * AUTHORS);
    // From the 13th: a day above 12 tells the parser the file is day/month.
    const d = new Date(START + 12 * 86_400_000 + k++ * 20_000);
    const p = (v: number) => String(v).padStart(2, '0');
    const stamp = `${p(d.getUTCDate())}/${p(d.getUTCMonth() + 1)}/${d.getUTCFullYear()}, ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}`;
    if (!seen.has(a)) {
      seen.add(a);
      yield `${stamp} - 成员${a} joined using this group's invite link\n`;
      continue;
    }
    const words = Array.from({ length: 3 + Math.floor(rng() * 8) }, () => WORDS[Math.floor(rng() * WORDS.length)]).join(' ');
    yield rng() < 0.05 ? `${stamp} - 成员${a}: ${words}\n${words}\n` : `${stamp} - 成员${a}: ${words}\n`;
    written++;
  }
}

function child(args: string[]): Measured {
  const out = execFileSync(process.execPath, [new URL('./imports-child.js', import.meta.url).pathname, ...args], { encoding: 'utf8', maxBuffer: 1 << 20 });
  return JSON.parse(out.trim().split('\n').at(-1)!) as Measured;
}

export async function runImports(o: ImportsOptions): Promise<FormatResult[]> {
  const dir = mkdtempSync(join(tmpdir(), 'yutang-import-bench-'));
  try {
    const results: FormatResult[] = [];
    for (const format of ['telegram', 'whatsapp'] as const) {
      const file = join(dir, format === 'telegram' ? 'result.json' : 'chat.txt');
      const t = performance.now();
      await writeLines(file, format === 'telegram' ? telegramLines(o.messages, o.seed) : whatsappLines(o.messages, o.seed));
      const fileMb = statSync(file).size / 2 ** 20;
      o.log(`${format}: generated ${o.messages.toLocaleString('en-US')} messages, ${fileMb.toFixed(0)} MB in ${((performance.now() - t) / 1000).toFixed(1)} s`);
      const what = format === 'telegram' ? 'JSON.parse of the whole file' : 'the whole file split into lines';
      const baseline = child([format === 'telegram' ? 'json-parse' : 'line-split', file]);
      o.log(`${format}: baseline (${what}) ${(baseline.ms / 1000).toFixed(1)} s, peak RSS ${baseline.maxRssMb.toFixed(0)} MB`);
      const imported = child(['import', file, join(dir, `${format}.sqlite`), format]);
      o.log(`${format}: import ${(imported.ms / 1000).toFixed(1)} s (${Math.round((imported.messages / imported.ms) * 1000)} messages/s), peak RSS ${imported.maxRssMb.toFixed(0)} MB`);
      if (imported.problems || imported.messages !== o.messages) throw new Error(`${format}: imported ${imported.messages} of ${o.messages} messages with ${imported.problems} problems`);
      results.push({
        format,
        fileMb,
        messages: imported.messages,
        import: { ...imported, messagesPerS: (imported.messages / imported.ms) * 1000 },
        baseline: { ...baseline, what, messagesPerS: (baseline.messages / baseline.ms) * 1000 },
        rssGoalMb: RSS_GOAL_MB,
        rssGoalMet: imported.maxRssMb < RSS_GOAL_MB,
      });
      rmSync(file);
    }
    return results;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
