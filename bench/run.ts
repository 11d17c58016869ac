/**
 * `npm run bench`: runs the foundation bench, prints a table of figures as ratios against the bare
 * baseline measured in the same run, and saves everything to bench/results/foundation.json.
 *
 * Knobs (environment): BENCH_MEMBERS (20000), BENCH_CONNECTIONS (10), BENCH_DURATION (s per lookup
 * run, 10), BENCH_ROUNDS (3), BENCH_WARMUP (3), BENCH_JOIN_DURATION (5), BENCH_SERVICE_JOINS (2000),
 * BENCH_KEEP_DB=1.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runFoundation, type FoundationOptions, type FoundationResult } from './foundation.bench.js';

const env = process.env;
const num = (name: string, fallback: number) => {
  const v = env[name];
  if (v === undefined || v === '') return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a positive number, got ${v}`);
  return n;
};

const GOAL_RATIO = 0.7;

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => [...(r[c] ?? '')].length)));
  const line = (r: string[]) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ');
  return [line(rows[0]!), widths.map((w) => '─'.repeat(w)).join('  '), ...rows.slice(1).map(line)].join('\n');
}

const f0 = (n: number) => Math.round(n).toLocaleString('en-US');
const f2 = (n: number) => n.toFixed(2);

function report(r: FoundationResult, o: FoundationOptions): string {
  const { baseline: b, yutang: y } = r.lookup;
  const out: string[] = [];
  out.push(
    `Member lookup by id over HTTP — ${o.connections} connections, median of ${o.rounds} alternating ${o.lookupDurationS} s runs, ` +
      `${f0(r.setup.members)} members`,
  );
  out.push(
    table([
      ['', 'req/s', 'p50 ms', 'p99 ms', '× baseline req/s', '× baseline p99'],
      ['baseline (Fastify + better-sqlite3)', f0(b.rps), f2(b.p50Ms), f2(b.p99Ms), '1.00', '1.00'],
      ['Yutang (session cookie, owner)', f0(y.rps), f2(y.p50Ms), f2(y.p99Ms), f2(r.lookup.rpsRatio), f2(r.lookup.p99Ratio)],
    ]),
  );
  out.push(`per-round ratios: ${r.lookup.roundRatios.map(f2).join(', ')}`);
  out.push(`ratio ${f2(r.lookup.rpsRatio)} vs goal ≥ ${GOAL_RATIO}: ${r.lookup.rpsRatio >= GOAL_RATIO ? 'MET' : 'NOT MET'}`);
  const { http, service } = r.joins;
  out.push('', `Join routing through entry links on SQLite (synchronous=${r.setup.sqliteSynchronous}, pools of 500-seat groups that overflow)`);
  out.push(
    table([
      ['', 'joins/s', 'p99 ms', 'joins', 'groups opened', '× raw join'],
      ['baseline: raw better-sqlite3 transaction, same rows', f0(r.joins.rawBaseline.joinsPerS), '', f0(r.joins.rawBaseline.joins), '', '1.00'],
      [`HTTP POST …/join (${o.connections} conns, ${o.joinHttpDurationS} s)`, f0(http.joinsPerS), f2(http.p99Ms), f0(http.joins), String(http.groupsOpened), f2(http.vsRawJoin)],
      ['service joinThroughLink (sequential)', f0(service.joinsPerS), f2(service.p99Ms), f0(service.joins), String(service.groupsOpened), f2(service.vsRawJoin)],
    ]),
  );
  return out.join('\n');
}

async function main() {
  const opts: FoundationOptions = {
    members: num('BENCH_MEMBERS', 20_000),
    connections: num('BENCH_CONNECTIONS', 10),
    lookupDurationS: num('BENCH_DURATION', 10),
    warmupS: num('BENCH_WARMUP', 3),
    rounds: num('BENCH_ROUNDS', 3),
    joinHttpDurationS: num('BENCH_JOIN_DURATION', 5),
    serviceJoins: num('BENCH_SERVICE_JOINS', 2000),
    keepDb: env.BENCH_KEEP_DB === '1',
    log: (line) => process.stderr.write(`  · ${line}\n`),
  };
  const started = new Date();
  const t0 = performance.now();
  const result = await runFoundation(opts);
  const totalS = (performance.now() - t0) / 1000;

  const cpu = cpus();
  const saved = {
    bench: 'foundation',
    date: started.toISOString(),
    machine: {
      node: process.version,
      platform: `${process.platform} ${process.arch}`,
      cpus: availableParallelism(),
      cpuModel: cpu[0]?.model ?? 'unknown',
      memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    },
    settings: {
      members: opts.members,
      connections: opts.connections,
      lookupDurationS: opts.lookupDurationS,
      warmupS: opts.warmupS,
      rounds: opts.rounds,
      joinHttpDurationS: opts.joinHttpDurationS,
      serviceJoins: opts.serviceJoins,
      layout: 'each server in its own child process; autocannon in the parent process',
    },
    goal: { lookupRpsRatio: GOAL_RATIO, met: result.lookup.rpsRatio >= GOAL_RATIO },
    totalSeconds: Math.round(totalS * 10) / 10,
    ...result,
  };
  const here = dirname(fileURLToPath(import.meta.url));
  // dist/bench/run.js → <repo>/bench/results
  const resultsDir = resolve(here, '..', '..', 'bench', 'results');
  mkdirSync(resultsDir, { recursive: true });
  const path = join(resultsDir, 'foundation.json');
  const tidy = (_key: string, v: unknown) => (typeof v === 'number' && !Number.isInteger(v) ? Math.round(v * 1000) / 1000 : v);
  writeFileSync(path, JSON.stringify(saved, tidy, 2) + '\n');

  process.stdout.write(
    `\nYutang foundation bench — ${saved.date}, Node ${process.version}, ${saved.machine.cpus} CPUs (${saved.machine.cpuModel}), ${saved.totalSeconds} s\n\n` +
      report(result, opts) +
      `\n\nsaved ${path}\n`,
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
