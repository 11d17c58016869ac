/**
 * One measurement of the import bench in a process of its own, so that its peak RSS is its own:
 * `import <format> <file> <dbFile>` (the CLI's pipeline: parser + importChat into a fresh SQLite
 * database), `json-parse <file>` (JSON.parse of the whole file, counting messages) or
 * `line-split <file>` (the whole file split into lines). Prints one JSON line.
 */
import { readFileSync } from 'node:fs';
import { openDatabase, migrateToLatest } from '../server/src/db/kysely.js';
import { systemClock } from '../server/src/lib/clock.js';
import type { Deps } from '../server/src/lib/deps.js';
import { ensureCommunityBySlug } from '../server/src/modules/communities/index.js';
import { importChat, tuneForImport } from '../server/src/modules/imports/index.js';
import { fileSource } from '../server/src/modules/imports/parse-support.js';
import { PARSERS } from '../server/src/modules/imports/parsers.js';
import type { ImportPlatform } from '../server/src/modules/imports/records.js';
import { BENCH_CONFIG } from './config.js';

interface Sample {
  records: number;
  seconds: number;
  rssMb: number;
  heapUsedMb: number;
  heapTotalMb: number;
  externalMb: number;
  arrayBuffersMb: number;
}
const SAMPLE_EVERY = 100_000;
const mb = (bytes: number) => Math.round((bytes / 2 ** 20) * 10) / 10;

const [mode, file, dbFile] = process.argv.slice(2) as [string, string, string | undefined];
const t0 = performance.now();
let messages = 0;
if (mode === 'json-parse') {
  const doc = JSON.parse(readFileSync(file, 'utf8')) as { messages: { type: string }[] };
  messages = doc.messages.filter((m) => m.type === 'message').length;
} else if (mode === 'line-split') {
  const lines = readFileSync(file, 'utf8').split('\n');
  messages = lines.filter((l) => /^\d\d\/\d\d\/\d{4}, \d\d:\d\d - [^:]+: /.test(l)).length;
} else if (mode === 'import') {
  const format = process.argv[5] as ImportPlatform;
  const handle = openDatabase(dbFile!);
  tuneForImport(handle);
  await migrateToLatest(handle.db);
  const deps: Deps = { db: handle.db, clock: systemClock, config: BENCH_CONFIG };
  const { community } = await ensureCommunityBySlug(deps, 'import-bench');
  const started = performance.now();
  // Memory every SAMPLE_EVERY records: what grows with the file, if anything, shows here.
  const samples: Sample[] = [];
  const onProgress = (records: number) => {
    if (records < (samples.length + 1) * SAMPLE_EVERY) return;
    const m = process.memoryUsage();
    samples.push({ records, seconds: (performance.now() - started) / 1000, rssMb: mb(m.rss), heapUsedMb: mb(m.heapUsed), heapTotalMb: mb(m.heapTotal), externalMb: mb(m.external), arrayBuffersMb: mb(m.arrayBuffers) });
    if (process.env.BENCH_SAMPLES_TO_STDERR) process.stderr.write(JSON.stringify(samples.at(-1)) + '\n');
  };
  const report = await importChat(deps, community.id, { format, parser: PARSERS[format]!, open: () => fileSource(file), parse: { timeZone: 'Asia/Shanghai', chat: 'bench' }, onProgress });
  messages = report.messages;
  await handle.close();
  process.stdout.write(JSON.stringify({ ms: performance.now() - started, messages, imported: report.imported, problems: report.problem_count, maxRssMb: process.resourceUsage().maxRSS / 1024, samples }) + '\n');
  process.exit(0);
} else throw new Error(`unknown mode ${mode}`);
process.stdout.write(JSON.stringify({ ms: performance.now() - t0, messages, maxRssMb: process.resourceUsage().maxRSS / 1024 }) + '\n');
