/**
 * `npm run bench`: runs the foundation, money and analytics benches, prints their figures as ratios
 * against the baselines measured in the same run, and saves them to bench/results/foundation.json,
 * bench/results/money.json and bench/results/analytics.json.
 *
 * Arguments: `--scale <fraction>` (analytics community size, 1 = 1,000,000 members and 20,000,000
 * events; e.g. 0.01 for a quick run), `--dialect sqlite|postgres|both` (analytics, both),
 * `--only foundation|money|analytics|imports` (same as BENCH_ONLY); BENCH_IMPORT_MESSAGES (imports: messages per generated export, 1,000,000).
 *
 * Knobs (environment): BENCH_ONLY (foundation | money), BENCH_MEMBERS (20000), BENCH_CONNECTIONS
 * (10), BENCH_DURATION (s per lookup run, 10), BENCH_ROUNDS (3), BENCH_WARMUP (3),
 * BENCH_JOIN_DURATION (5), BENCH_SERVICE_JOINS (2000), BENCH_KEEP_DB=1, BENCH_PARALLEL=0 (analytics: the two dialects one after the other instead of side by side), BENCH_WEBHOOKS (5000 over
 * HTTP, after 1000 to warm up), BENCH_SERVICE_WEBHOOKS (2000), BENCH_RAW_WEBHOOKS (5000),
 * BENCH_SCALE (1), BENCH_SEED (5), BENCH_INGEST_DAYS (last local days ingested through the service,
 * measured; the days before are bulk-loaded as setup, 14), BENCH_BATCH (events per ingest transaction, 5000),
 * BENCH_RAW_EVERY (raw ingest baseline on every n-th batch, 10), BENCH_REPEATS (calls per latency
 * series, 30), BENCH_BUDGET (ms per latency series, 20000), BENCH_COHORT_TIMEOUT (ms the cohort
 * service series may take before it is stopped, 180000).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runFoundation, type FoundationOptions, type FoundationResult } from './foundation.bench.js';
import { runWebhooks, type WebhookOptions, type WebhookResult } from './webhooks.bench.js';
import { runImports, RSS_GOAL_MB } from './imports.bench.js';
import { runAnalytics, type AnalyticsOptions, type AnalyticsResult, type BenchDialect, type Latency } from './analytics.bench.js';

const env = process.env;
const argv = process.argv.slice(2);
const arg = (name: string): string | undefined => {
  const i = argv.indexOf(`--${name}`);
  if (i >= 0) return argv[i + 1];
  return argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
};
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

function moneyReport(r: WebhookResult, o: WebhookOptions): string {
  return [
    `Paid webhooks (test provider, signed, one pending membership order each) on SQLite, synchronous=${r.setup.sqliteSynchronous}`,
    table([
      ['', 'webhooks/s', 'p50 ms', 'p99 ms', 'webhooks', '× raw'],
      [`baseline: raw better-sqlite3 transaction, same ${r.raw.rowsPerWebhook} writes (${f0(r.raw.rowsPerS)} rows/s)`, f0(r.raw.webhooksPerS), '', '', f0(r.raw.webhooks), '1.00'],
      [`HTTP POST /api/v1/webhooks/test (${o.connections} conns)`, f0(r.http.webhooksPerS), f2(r.http.p50Ms), f2(r.http.p99Ms), f0(r.http.webhooks), f2(r.http.vsRaw)],
      ['service handleWebhook (sequential)', f0(r.service.webhooksPerS), f2(r.service.p50Ms), f2(r.service.p99Ms), f0(r.service.webhooks), f2(r.service.vsRaw)],
    ]),
  ].join('\n');
}

function machine() {
  const cpu = cpus();
  return {
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    cpus: availableParallelism(),
    cpuModel: cpu[0]?.model ?? 'unknown',
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
  };
}

// dist/bench/run.js → <repo>/bench/results
const resultsDir = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bench', 'results');
const tidy = (_key: string, v: unknown) => (typeof v === 'number' && !Number.isInteger(v) ? Math.round(v * 1000) / 1000 : v);
function save(name: string, data: object): string {
  mkdirSync(resultsDir, { recursive: true });
  const path = join(resultsDir, `${name}.json`);
  writeFileSync(path, JSON.stringify(data, tidy, 2) + '\n');
  return path;
}

async function money() {
  const opts: WebhookOptions = {
    httpWebhooks: num('BENCH_WEBHOOKS', 5000),
    warmup: 1000,
    connections: num('BENCH_CONNECTIONS', 10),
    serviceWebhooks: num('BENCH_SERVICE_WEBHOOKS', 2000),
    rawWebhooks: num('BENCH_RAW_WEBHOOKS', 5000),
    log: (line) => process.stderr.write(`  · ${line}\n`),
  };
  const started = new Date();
  const t0 = performance.now();
  const result = await runWebhooks(opts);
  const { log: _log, ...settings } = opts;
  const saved = {
    bench: 'money',
    date: started.toISOString(),
    machine: machine(),
    settings: { ...settings, layout: 'the server in its own child process; autocannon, the service calls and the raw baseline in the parent process' },
    totalSeconds: Math.round(((performance.now() - t0) / 1000) * 10) / 10,
    ...result,
  };
  const path = save('money', saved);
  process.stdout.write(`\nYutang money bench — ${saved.date}, Node ${process.version}, ${saved.machine.cpus} CPUs, ${saved.totalSeconds} s\n\n` + moneyReport(result, opts) + `\n\nsaved ${path}\n`);
}

async function foundation() {
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

  const saved = {
    bench: 'foundation',
    date: started.toISOString(),
    machine: machine(),
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
  const path = save('foundation', saved);

  process.stdout.write(
    `\nYutang foundation bench — ${saved.date}, Node ${process.version}, ${saved.machine.cpus} CPUs (${saved.machine.cpuModel}), ${saved.totalSeconds} s\n\n` +
      report(result, opts) +
      `\n\nsaved ${path}\n`,
  );
}

const ms = (n: number | null | undefined) => (n == null ? '—' : n >= 10_000 ? `${f0(n / 1000)} s` : n >= 100 ? f0(n) : f2(n));
const ratio = (n: number | null | undefined) => (n == null ? '—' : f2(n));
const lat = (l: Latency | null) => (l ? [ms(l.p50Ms), ms(l.p99Ms), String(l.calls)] : ['—', '—', '—']);

function analyticsReport(r: AnalyticsResult): string {
  const c = r.community;
  const out = [
    `Synthetic community (seed ${c.seed}, scale ${c.scale}): ${f0(c.members)} members in ${f0(c.groups)} groups, ${f0(c.links)} entry links, ${f0(c.orders)} orders, ` +
      `${f0(c.events)} events from ${c.period.from} to ${c.period.to} (${c.timeZone})`,
  ];
  for (const d of r.dialects) {
    const i = d.ingest;
    const h = d.setup.history;
    out.push(
      '',
      `${d.dialect}: ${d.server} — ${f0(d.totalSeconds)} s, database ${d.setup.dbBytes ? f0(d.setup.dbBytes / 2 ** 20) + ' MiB' : '?'}`,
      `setup (not measured): accounts, members, spans, orders ${f0(d.setup.fixture.ms / 1000)} s; event history ${c.period.from}…${i.period.from} ` +
        `(${f0(h.events)} events) ${f0(h.loadMs / 1000)} s + indexes ${f0(h.indexMs / 1000)} s + statistics ${f0(h.analyzeMs / 1000)} s (${h.method})`,
      `measured: ingest of ${i.period.from}…${i.period.to} (${f0(i.events)} events) through appendEvents + refreshRollups; then a full rebuild over all ${f0(c.events)} events; then the reads`,
      table([
        ['', 'figure', 'p99', 'calls', 'raw baseline', 'raw p99', '× raw'],
        [`ingest, log + rollups (events/s; batches of ${f0(i.events / i.batches)})`, f0(i.eventsPerS), '', '', f0(i.raw.eventsPerS), '', ratio(i.vsRaw)],
        ['ingest, event log alone (events/s)', f0(i.appendEventsPerS), '', '', f0(i.raw.eventsPerS), '', ratio(i.appendVsRaw)],
        [`KPI dashboard ${d.kpis.period.from}…${d.kpis.period.to}, computed afresh (p50 ms)`, ...lat(d.kpis.coldService), ms(d.kpis.raw.p50Ms), ms(d.kpis.raw.p99Ms), ratio(d.kpis.coldVsRawP50)],
        ['KPI dashboard, reopened on unchanged data (p50 ms)', ...lat(d.kpis.service), '', '', ratio(d.kpis.serviceVsRawP50)],
        ['KPI dashboard over HTTP (inject, p50 ms)', ...lat(d.kpis.http), '', '', d.kpis.http ? ratio(d.kpis.http.p50Ms / d.kpis.raw.p50Ms) : '—'],
        [`12-month cohort matrix, service (p50 ms)${d.cohorts.serviceTimedOutAfterMs ? `, stopped at ${f0(d.cohorts.serviceTimedOutAfterMs / 1000)} s` : ''}`, ...(d.cohorts.service || !d.cohorts.serviceTimedOutAfterMs ? lat(d.cohorts.service) : [`> ${f0(d.cohorts.serviceTimedOutAfterMs / 1000)} s`, '', '0']), ms(d.cohorts.raw.p50Ms), ms(d.cohorts.raw.p99Ms), ratio(d.cohorts.serviceVsRawP50)],
        ['full rollup rebuild (ms)', ms(d.rebuild.ms), '', '', ms(d.rebuild.raw.ms), '', ratio(d.rebuild.vsRaw)],
      ]),
      `KPI goal p50 < ${d.kpis.goalP50Ms} ms: computed afresh ${d.kpis.goalMetComputedAfresh == null ? 'not measured' : d.kpis.goalMetComputedAfresh ? 'MET' : 'NOT MET'}, ` +
        `reopened ${d.kpis.goalMet == null ? 'not measured' : d.kpis.goalMet ? 'MET' : 'NOT MET'}; ${i.maintenance} after ingest ${f0(i.maintenanceMs / 1000)} s` +
        (i.refreshMs != null ? `; refresh ${f0(i.refreshMs / 1000)} s of ${f0((i.appendMs + i.refreshMs) / 1000)} s ingest` : ''),
    );
    if (d.notMeasured.length) out.push(`not measured: ${d.notMeasured.join('; ')}`);
  }
  return out.join('\n');
}

async function analytics() {
  const scale = Number(arg('scale') ?? env.BENCH_SCALE ?? 1);
  if (!Number.isFinite(scale) || scale <= 0 || scale > 1) throw new Error(`--scale must be a fraction in (0, 1], got ${arg('scale')}`);
  const dialectArg = arg('dialect') ?? 'both';
  if (!['sqlite', 'postgres', 'both'].includes(dialectArg)) throw new Error(`--dialect must be sqlite, postgres or both, got ${dialectArg}`);
  const opts: AnalyticsOptions = {
    scale,
    seed: num('BENCH_SEED', 5),
    dialects: dialectArg === 'both' ? ['sqlite', 'postgres'] : [dialectArg as BenchDialect],
    ingestDays: num('BENCH_INGEST_DAYS', 14),
    batch: num('BENCH_BATCH', 5000),
    rawEvery: num('BENCH_RAW_EVERY', 10),
    repeats: num('BENCH_REPEATS', 30),
    budgetMs: num('BENCH_BUDGET', 20_000),
    cohortTimeoutMs: num('BENCH_COHORT_TIMEOUT', 180_000),
    keepDb: env.BENCH_KEEP_DB === '1',
    parallel: env.BENCH_PARALLEL !== '0',
    log: (line) => process.stderr.write(`  · ${line}\n`),
  };
  const started = new Date();
  const t0 = performance.now();
  const result = await runAnalytics(opts);
  const { log: _log, ...settings } = opts;
  const saved = {
    bench: 'analytics',
    date: started.toISOString(),
    machine: machine(),
    settings: {
      ...settings,
      layout:
        (opts.parallel && opts.dialects.length > 1 ? 'the two dialects side by side, each in a worker thread of its own: ' : 'one process: ') +
        'generator, service calls, in-process HTTP (inject) and raw baselines; PostgreSQL in a throwaway local cluster',
    },
    totalSeconds: Math.round(((performance.now() - t0) / 1000) * 10) / 10,
    ...result,
  };
  const path = save('analytics', saved);
  process.stdout.write(`\nYutang analytics bench — ${saved.date}, Node ${process.version}, ${saved.machine.cpus} CPUs, ${saved.totalSeconds} s\n\n` + analyticsReport(result) + `\n\nsaved ${path}\n`);
}

async function imports() {
  const opts = { messages: num('BENCH_IMPORT_MESSAGES', 1_000_000), seed: num('BENCH_SEED', 5), log: (line: string) => process.stderr.write(`  · ${line}\n`) };
  const started = new Date();
  const t0 = performance.now();
  const formats = await runImports(opts);
  const { log: _log, ...settings } = opts;
  const saved = { bench: 'imports', date: started.toISOString(), machine: machine(), settings: { ...settings, database: 'SQLite (a fresh file per format)' }, totalSeconds: Math.round((performance.now() - t0) / 100) / 10, formats };
  const path = save('imports', saved);
  const rows = formats.flatMap((f) => [
    [`${f.format} (${f0(f.messages)} messages, ${f0(f.fileMb)} MB): import`, f0(f.import.messagesPerS), f0(f.import.maxRssMb), f.rssGoalMet ? 'yes' : 'NO', ratio(f.import.messagesPerS / f.baseline.messagesPerS)],
    [`  baseline: ${f.baseline.what}`, f0(f.baseline.messagesPerS), f0(f.baseline.maxRssMb), '', '1.00'],
  ]);
  process.stdout.write(
    `\nYutang import bench — ${saved.date}, Node ${process.version}, ${saved.machine.cpus} CPUs, ${saved.totalSeconds} s\n\n` +
      table([['', 'messages/s', `peak RSS MB`, `< ${RSS_GOAL_MB} MB`, '× baseline'], ...rows]) +
      `\n\nsaved ${path}\n`,
  );
}

async function main() {
  const only = arg('only') ?? env.BENCH_ONLY;
  const parts = ['foundation', 'money', 'analytics', 'imports'];
  if (only && !parts.includes(only)) throw new Error(`BENCH_ONLY / --only must be one of ${parts.join(', ')}, got ${only}`);
  if (!only || only === 'foundation') await foundation();
  if (!only || only === 'money') await money();
  if (!only || only === 'analytics') await analytics();
  if (!only || only === 'imports') await imports();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
