/**
 * Analytics bench: a seeded synthetic community (bench/analytics-gen.ts; 1,000,000 members and
 * 20,000,000 events at scale 1) on SQLite and on PostgreSQL.
 *
 * Setup, not measured: members, spans, orders, memberships and refunds written raw, then the event
 * history of all but the last `ingestDays` local days bulk-loaded the fastest raw way (secondary
 * indexes built after the load; analytics-db.ts `loadEventHistory`).
 *
 * Measured, each next to a raw-SQL baseline run in the same process on the same database:
 *
 * - ingest: the events of the last `ingestDays` days, one local day after another in batches,
 *   through `appendEvents` and the rollup refresh after each day, against raw multi-row INSERTs of
 *   the same rows into the same table (every `rawEvery`-th batch, alternating which goes first; the
 *   raw copy is deleted again);
 * - the KPI dashboard (last 30 days and its previous period) through the service and over HTTP,
 *   against the hand-written GROUP BY over the events of the same 60 days;
 * - the 12-month cohort matrix through the service, against one raw SQL query over events + spans;
 * - a full rebuild of the rollups over every event (the history's rollups are made by it), against
 *   raw CREATE TABLE … AS SELECT … GROUP BY of the same aggregates.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { buildApp } from '../server/src/app.js';
import { migrateToLatest, openDatabase, type DatabaseHandle } from '../server/src/db/kysely.js';
import { systemClock } from '../server/src/lib/clock.js';
import type { Deps } from '../server/src/lib/deps.js';
import { appendEvents } from '../server/src/modules/events/index.js';
import { SESSION_COOKIE } from '../server/src/modules/auth/index.js';
import { DAYS, ENGAGEMENT, START_DATE, TIME_ZONE, eventsOfDay, localDate, planCommunity, type Plan } from './analytics-gen.js';
import {
  EVENT_COLUMNS,
  loadEventHistory,
  rawEventRow,
  rawPg,
  rawSqlite,
  startBenchPg,
  writeFixture,
  type FixtureFigures,
  type HistoryFigures,
  type RawDb,
} from './analytics-db.js';
import { layer } from './analytics-layer.js';
import type { WorkerJob } from './analytics-worker.js';
import { BENCH_CONFIG } from './config.js';

export type BenchDialect = 'sqlite' | 'postgres';

export interface AnalyticsOptions {
  scale: number;
  seed: number;
  dialects: BenchDialect[];
  /** The last this many local days are ingested through the service (measured); the days before are bulk-loaded as setup. */
  ingestDays: number;
  /** Events per ingest transaction. */
  batch: number;
  /** The raw baseline re-inserts every n-th batch. */
  rawEvery: number;
  /** Calls per latency series (fewer when a call is slow; see `budgetMs`). */
  repeats: number;
  /** Time budget per latency series; at least 3 calls (1 for the cohort baseline) are made anyway. */
  budgetMs: number;
  /** The cohort service series runs in a worker thread that is stopped after this long. */
  cohortTimeoutMs: number;
  keepDb: boolean;
  /** Both dialects at once, each in a worker thread of its own (a core each on a 2-core machine). */
  parallel: boolean;
  log: (line: string) => void;
}

export interface Latency {
  calls: number;
  p50Ms: number;
  p99Ms: number;
  meanMs: number;
  minMs: number;
  maxMs: number;
}

export interface DialectResult {
  dialect: BenchDialect;
  server: string;
  setup: { fixture: FixtureFigures; history: HistoryFigures; migrateMs: number; dbBytes: number | null };
  ingest: {
    /** Local dates [from, to) ingested through the service. */
    period: { from: string; to: string };
    events: number;
    batches: number;
    /** Events per second into the log and the rollups (append + refresh after each day). */
    eventsPerS: number;
    appendMs: number;
    refreshMs: number | null;
    /** Events per second into the log alone. */
    appendEventsPerS: number;
    raw: { events: number; batches: number; ms: number; eventsPerS: number };
    /** Ours (log + rollups) / raw. */
    vsRaw: number;
    /** Ours (log only) / raw. */
    appendVsRaw: number;
    maintenanceMs: number;
    maintenance: string;
  };
  kpis: {
    period: { from: string; to: string };
    /** Each call computed afresh (answer cache emptied first). */
    coldService: Latency | null;
    /** The same dashboard again on unchanged data (served from the answer cache). */
    service: Latency | null;
    http: Latency | null;
    raw: Latency;
    coldVsRawP50: number | null;
    serviceVsRawP50: number | null;
    goalP50Ms: number;
    goalMet: boolean | null;
    goalMetComputedAfresh: boolean | null;
  };
  cohorts: { period: { from: string; to: string }; service: Latency | null; serviceTimedOutAfterMs: number | null; raw: Latency; serviceVsRawP50: number | null };
  rebuild: { ms: number | null; eventsPerS: number | null; raw: { ms: number; eventsPerS: number }; vsRaw: number | null };
  notMeasured: string[];
  totalSeconds: number;
}

export interface AnalyticsResult {
  community: {
    scale: number;
    seed: number;
    timeZone: string;
    period: { from: string; to: string };
    members: number;
    groups: number;
    links: number;
    orders: number;
    events: number;
    eventsByKind: Record<string, number>;
    planMs: number;
  };
  dialects: DialectResult[];
}

const KPI_GOAL_P50_MS = 100;

function latency(samples: number[]): Latency {
  const s = [...samples].sort((a, b) => a - b);
  const at = (p: number) => s[Math.min(s.length - 1, Math.floor(s.length * p))]!;
  return { calls: s.length, p50Ms: at(0.5), p99Ms: at(0.99), meanMs: s.reduce((a, b) => a + b, 0) / s.length, minMs: s[0]!, maxMs: s[s.length - 1]! };
}

/**
 * Calls `fn` `warmup` times unmeasured, then up to `repeats` times or until `budgetMs` is spent (at
 * least `min`). A first call slower than 2 s counts as a sample: nothing left to warm up at that size.
 */
async function series(fn: () => Promise<unknown>, o: { repeats: number; budgetMs: number; warmup: number; min: number }): Promise<Latency> {
  const samples: number[] = [];
  for (let i = 0; i < o.warmup; i++) {
    const t = performance.now();
    await fn();
    const took = performance.now() - t;
    if (took > 2_000) {
      samples.push(took);
      break;
    }
  }
  const started = performance.now();
  while (samples.length < o.repeats && (samples.length < o.min || performance.now() - started < o.budgetMs)) {
    const t = performance.now();
    await fn();
    samples.push(performance.now() - t);
  }
  return latency(samples);
}

/** Up to `job.repeats` calls in a worker thread; stops it after `timeoutMs` and returns what finished. */
function inWorker(job: WorkerJob, timeoutMs: number): Promise<{ samples: number[]; timedOut: boolean }> {
  return new Promise((resolve, reject) => {
    const samples: number[] = [];
    const worker = new Worker(new URL('./analytics-worker.js', import.meta.url), { workerData: job, resourceLimits: { maxOldGenerationSizeMb: 12_288 } });
    let settled = false;
    const timer = setTimeout(() => {
      settled = true;
      void worker.terminate().then(() => resolve({ samples, timedOut: true }));
    }, timeoutMs);
    worker.on('message', (m: { sampleMs: number }) => samples.push(m.sampleMs));
    worker.on('error', (err) => {
      clearTimeout(timer);
      if (!settled) reject(err);
      settled = true;
    });
    worker.on('exit', () => {
      clearTimeout(timer);
      if (!settled) resolve({ samples, timedOut: false });
      settled = true;
    });
  });
}


// ── Raw SQL baselines: what a hand-written query over the event log does. Shanghai is UTC+8 all year.

const ENG_LIST = ENGAGEMENT.map((t) => `'${t}'`).join(',');

function rawKpiQueries(dialect: BenchDialect) {
  const p = dialect === 'postgres' ? (n: number) => `$${n}` : () => '?';
  const day = dialect === 'postgres' ? `(occurred_at AT TIME ZONE 'Asia/Shanghai')::date` : `date(occurred_at, '+8 hours')`;
  const amount = dialect === 'postgres' ? `(props->>'amount_minor')::bigint` : `json_extract(props, '$.amount_minor')`;
  const isEng = `type IN (${ENG_LIST})`;
  return {
    /** Per local day: active members, engagement, visits, joins, leaves, payments and GMV. */
    byDay: `SELECT ${day} AS day,
        count(DISTINCT CASE WHEN ${isEng} THEN member_id END) AS active,
        sum(CASE WHEN ${isEng} THEN 1 ELSE 0 END) AS engagement,
        sum(CASE WHEN type = 'link_visited' THEN 1 ELSE 0 END) AS visits,
        sum(CASE WHEN type = 'joined' THEN 1 ELSE 0 END) AS joins,
        sum(CASE WHEN type = 'left' THEN 1 ELSE 0 END) AS leaves,
        sum(CASE WHEN type = 'order_paid' THEN 1 ELSE 0 END) AS paid,
        sum(CASE WHEN type = 'order_paid' THEN ${amount} ELSE 0 END) AS gmv
      FROM events WHERE community_id = ${p(1)} AND occurred_at >= ${p(2)} AND occurred_at < ${p(3)}
      GROUP BY ${day}`,
    /** Distinct active members over a period. */
    active: `SELECT count(DISTINCT member_id) AS n FROM events
      WHERE community_id = ${p(1)} AND type IN (${ENG_LIST}) AND occurred_at >= ${p(2)} AND occurred_at < ${p(3)}`,
  };
}

function rawCohortQuery(dialect: BenchDialect) {
  const p = dialect === 'postgres' ? (n: number) => `$${n}` : () => '?';
  const month = (col: string) => (dialect === 'postgres' ? `to_char(${col} AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM')` : `substr(datetime(${col}, '+8 hours'), 1, 7)`);
  return `WITH firsts AS (
      SELECT member_id, ${month('min(joined_at)')} AS cohort FROM member_spans WHERE community_id = ${p(1)} GROUP BY member_id
    ), active AS (
      SELECT DISTINCT member_id, ${month('occurred_at')} AS period FROM events
      WHERE community_id = ${p(2)} AND type IN (${ENG_LIST}) AND occurred_at >= ${p(3)} AND occurred_at < ${p(4)}
    )
    SELECT f.cohort, a.period, count(*) AS retained FROM firsts f JOIN active a ON a.member_id = f.member_id
    WHERE a.period >= f.cohort GROUP BY f.cohort, a.period
    UNION ALL SELECT cohort, '' AS period, count(*) FROM firsts GROUP BY cohort`;
}

/** The aggregates a rollup rebuild produces, computed by INSERT … SELECT … GROUP BY into scratch tables. */
function rawRebuildStatements(dialect: BenchDialect, cid: string) {
  const day = dialect === 'postgres' ? `to_char(occurred_at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD')` : `date(occurred_at, '+8 hours')`;
  const to = dialect === 'postgres' ? `props->>'to_member_id'` : `json_extract(props, '$.to_member_id')`;
  const neg = dialect === 'postgres' ? `props->>'negative' = 'true'` : `json_extract(props, '$.negative') = 1`;
  const ad = dialect === 'postgres' ? `props->>'is_ad' = 'true'` : `json_extract(props, '$.is_ad') = 1`;
  const amount = dialect === 'postgres' ? `(props->>'amount_minor')::bigint` : `json_extract(props, '$.amount_minor')`;
  const n = (cond: string) => `sum(CASE WHEN ${cond} THEN 1 ELSE 0 END)`;
  const c = `'${cid}'`;
  return [
    `DROP TABLE IF EXISTS bench_raw_member_days`,
    `DROP TABLE IF EXISTS bench_raw_received`,
    `DROP TABLE IF EXISTS bench_raw_days`,
    `CREATE TABLE bench_raw_member_days AS
      SELECT community_id, ${day} AS day, member_id, coalesce(group_id, '') AS group_id,
        ${n(`type IN (${ENG_LIST})`)} AS engagement, ${n(`type = 'message'`)} AS messages, ${n(`type = 'post'`)} AS posts,
        ${n(`type = 'reply'`)} AS replies, ${n(`type = 'reaction'`)} AS reactions, ${n(`type = 'check_in'`)} AS check_ins,
        ${n(`type = 'event_attended'`)} AS attended, ${n(`type = 'message' AND ${ad}`)} AS ads
      FROM events WHERE community_id = ${c} AND member_id IS NOT NULL AND type IN (${ENG_LIST})
      GROUP BY community_id, ${day}, member_id, coalesce(group_id, '')`,
    `CREATE TABLE bench_raw_received AS
      SELECT community_id, ${day} AS day, ${to} AS member_id, coalesce(group_id, '') AS group_id,
        ${n(`type = 'reply'`)} AS replies_received, ${n(`type = 'reaction'`)} AS reactions_received, ${n(`type = 'reaction' AND ${neg}`)} AS negative_received
      FROM events WHERE community_id = ${c} AND type IN ('reply', 'reaction')
      GROUP BY community_id, ${day}, ${to}, coalesce(group_id, '')`,
    `CREATE TABLE bench_raw_days AS
      SELECT community_id, ${day} AS day, coalesce(channel, '') AS channel,
        ${n(`type = 'link_visited'`)} AS link_visits, ${n(`type = 'applied'`)} AS applications, ${n(`type = 'joined'`)} AS joins,
        ${n(`type = 'left'`)} AS leaves, ${n(`type = 'onboarded'`)} AS onboarded, ${n(`type IN (${ENG_LIST})`)} AS engagement,
        ${n(`type = 'order_paid'`)} AS orders_paid, sum(CASE WHEN type = 'order_paid' THEN ${amount} ELSE 0 END) AS gmv_minor
      FROM events WHERE community_id = ${c}
      GROUP BY community_id, ${day}, coalesce(channel, '')`,
  ];
}

interface Opened {
  handle: DatabaseHandle;
  url: string;
  raw: RawDb;
  server: string;
  dbFile: string | null;
  cleanup: () => Promise<void>;
}

/** Synchronous cleanups (temp files, the PostgreSQL cluster) run when the bench is interrupted. */
const onInterrupt = new Set<() => void>();
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    for (const f of onInterrupt) {
      try {
        f();
      } catch {
        // best effort: the process is exiting
      }
    }
    process.exit(130);
  });
}

async function open(dialect: BenchDialect, keepDb: boolean, log: (l: string) => void): Promise<Opened> {
  if (dialect === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'yutang-bench-analytics-'));
    const file = join(dir, 'bench.db');
    const removeDir = () => rmSync(dir, { recursive: true, force: true });
    if (!keepDb) onInterrupt.add(removeDir);
    const handle = openDatabase(file);
    const version = String(handle.sqlite!.prepare('select sqlite_version()').pluck().get());
    const sync = { '0': 'OFF', '1': 'NORMAL', '2': 'FULL', '3': 'EXTRA' }[String(handle.sqlite!.pragma('synchronous', { simple: true }))];
    return {
      handle,
      url: file,
      raw: rawSqlite(handle.sqlite!),
      server: `SQLite ${version} (WAL, synchronous=${sync})`,
      dbFile: file,
      cleanup: async () => {
        await handle.close();
        onInterrupt.delete(removeDir);
        if (keepDb) log(`kept ${file}`);
        else removeDir();
      },
    };
  }
  const cluster = await startBenchPg();
  const stopCluster = () => cluster.stop();
  onInterrupt.add(stopCluster);
  const handle = openDatabase(cluster.url);
  const raw = await rawPg(cluster.url);
  return {
    handle,
    url: cluster.url,
    raw,
    server: `${cluster.version} (${cluster.settings})`,
    dbFile: null,
    cleanup: async () => {
      await raw.close();
      await handle.close();
      onInterrupt.delete(stopCluster);
      cluster.stop();
    },
  };
}

export async function runDialect(plan: Plan, dialect: BenchDialect, o: AnalyticsOptions): Promise<DialectResult> {
  const t0 = performance.now();
  const log = (l: string) => o.log(`[${dialect}] ${l}`);
  const db = await open(dialect, o.keepDb, log);
  const notMeasured: string[] = [];
  try {
    const { handle, raw } = db;
    const deps: Deps = { db: handle.db, clock: systemClock, config: BENCH_CONFIG };
    const tm = performance.now();
    await migrateToLatest(handle.db);
    const migrateMs = performance.now() - tm;

    // ── Owner account through the API (its session serves the HTTP measurement), then the fixture.
    const app = await buildApp({ database: handle, config: { ...BENCH_CONFIG, trustProxy: false, logLevel: 'warn' }, logger: false });
    const signup = await app.inject({ method: 'POST', url: '/api/v1/auth/signup', payload: { email: 'owner@bench.test', password: 'correct horse battery', name: 'Owner' } });
    if (signup.statusCode !== 201) throw new Error(`signup: ${signup.statusCode} ${signup.body}`);
    const body = signup.json<{ user: { id: string }; workspaces: { id: string }[] }>();
    const cookie = signup.cookies.find((c) => c.name === SESSION_COOKIE);
    if (!cookie) throw new Error('signup: no session cookie');
    // Setup durability off for the fixture only (restored before anything is measured).
    const sqliteSync = handle.sqlite ? handle.sqlite.pragma('synchronous', { simple: true }) : null;
    if (handle.sqlite) handle.sqlite.pragma('synchronous = OFF');
    else {
      await raw.run('SET synchronous_commit = off');
      await raw.run('SET session_replication_role = replica');
    }
    const fixture = await writeFixture(raw, plan, body.user.id, body.workspaces[0]!.id);
    if (handle.sqlite) handle.sqlite.pragma(`synchronous = ${Number(sqliteSync)}`);
    else {
      await raw.run('RESET synchronous_commit');
      await raw.run('RESET session_replication_role');
    }
    log(`setup: ${fixture.members} members, ${fixture.spans} spans, ${fixture.orders} orders in ${(fixture.ms / 1000).toFixed(1)} s`);
    const cid = plan.communityId;
    // The fixture asks for a rollup rebuild; the rebuild is measured on its own below, so the ingest
    // refreshes only the days (and members' stays) its own batches touch.
    await handle.db.deleteFrom('analytics_dirty').where('community_id', '=', cid).execute();

    // ── Setup: the event history before the ingest window, bulk-loaded raw.
    const firstIngestDay = Math.max(0, DAYS - Math.min(DAYS, Math.round(o.ingestDays)));
    const history = await loadEventHistory(raw, handle.sqlite ?? null, plan, firstIngestDay, log);
    log(
      `setup: event history ${START_DATE}…${localDate(firstIngestDay)} (${history.days} days, ${history.events.toLocaleString('en-US')} events) loaded in ` +
        `${(history.loadMs / 1000).toFixed(1)} s + indexes ${(history.indexMs / 1000).toFixed(1)} s + statistics ${(history.analyzeMs / 1000).toFixed(1)} s`,
    );

    // ── Measured: ingest of the last days, one local day after another.
    let appendMs = 0;
    let refreshMs = 0;
    let batches = 0;
    let rawMs = 0;
    let rawEvents = 0;
    let rawBatches = 0;
    let ingested = 0;
    const ingestStarted = performance.now();
    const maxId = async () => Number((await raw.all<{ m: number | null }>('SELECT max(id) AS m FROM events'))[0]?.m ?? 0);
    const del = dialect === 'postgres' ? 'DELETE FROM events WHERE id > $1' : 'DELETE FROM events WHERE id > ?';
    for (let d = firstIngestDay; d < DAYS; d++) {
      const events = eventsOfDay(plan, d);
      for (let i = 0; i < events.length; i += o.batch) {
        const chunk = events.slice(i, i + o.batch);
        const recordedAt = chunk[chunk.length - 1]!.occurred_at;
        const ours = async () => {
          const t = performance.now();
          await handle.db.transaction().execute((trx) => appendEvents(trx, chunk, recordedAt));
          appendMs += performance.now() - t;
        };
        if (batches % o.rawEvery !== 0) {
          await ours();
        } else {
          // Same rows, same table, raw; removed again (unmeasured) so the log holds each event once.
          const before = await maxId();
          const rawFirst = rawBatches % 2 === 0;
          if (!rawFirst) await ours();
          const before2 = rawFirst ? before : await maxId();
          const t = performance.now();
          await raw.transaction(() => raw.insertRows('events', EVENT_COLUMNS, chunk.map((e) => rawEventRow(e, recordedAt))));
          rawMs += performance.now() - t;
          await raw.run(del, [before2]);
          if (rawFirst) await ours();
          rawEvents += chunk.length;
          rawBatches++;
        }
        batches++;
        ingested += chunk.length;
      }
      if (layer.refresh) {
        const t = performance.now();
        await layer.refresh(deps, cid);
        refreshMs += performance.now() - t;
      }
      if ((d - firstIngestDay) % 10 === 9 || d === DAYS - 1) {
        const s = (performance.now() - ingestStarted) / 1000;
        log(`ingest: day ${d + 1}/${DAYS}, ${ingested.toLocaleString('en-US')} events, ${s.toFixed(0)} s (append ${(appendMs / 1000).toFixed(0)} s, refresh ${(refreshMs / 1000).toFixed(0)} s, raw ${(rawMs / 1000).toFixed(1)} s)`);
      }
    }
    if (!layer.refresh) notMeasured.push('rollup refresh during ingest (refreshRollups not wired): ingest rate is the event log alone');
    const count = Number((await raw.all<{ n: number }>('SELECT count(*) AS n FROM events WHERE community_id = ' + (dialect === 'postgres' ? '$1' : '?'), [cid]))[0]!.n);
    if (count !== plan.events.total) throw new Error(`ingest: ${count} events in the log, expected ${plan.events.total}`);

    // Planner statistics, as an install's maintenance would keep them.
    const tmaint = performance.now();
    const maintenance = dialect === 'postgres' ? 'VACUUM ANALYZE' : 'PRAGMA optimize; ANALYZE';
    if (dialect === 'postgres') await raw.run('VACUUM ANALYZE');
    else handle.sqlite!.exec('ANALYZE; PRAGMA optimize;');
    const maintenanceMs = performance.now() - tmaint;
    const rawRate = (rawEvents / rawMs) * 1000;
    const oursMs = appendMs + (layer.refresh ? refreshMs : 0);
    const ingest = {
      period: { from: localDate(firstIngestDay), to: localDate(DAYS) },
      events: ingested,
      batches,
      eventsPerS: (ingested / oursMs) * 1000,
      appendMs,
      refreshMs: layer.refresh ? refreshMs : null,
      appendEventsPerS: (ingested / appendMs) * 1000,
      raw: { events: rawEvents, batches: rawBatches, ms: rawMs, eventsPerS: rawRate },
      vsRaw: (ingested / oursMs) * 1000 / rawRate,
      appendVsRaw: (ingested / appendMs) * 1000 / rawRate,
      maintenanceMs,
      maintenance,
    };
    log(`ingest: ${ingest.eventsPerS.toFixed(0)} events/s (log only ${ingest.appendEventsPerS.toFixed(0)}), raw ${rawRate.toFixed(0)} events/s; ${maintenance} ${(maintenanceMs / 1000).toFixed(1)} s`);

    // ── Rebuild (before the queries, so the dashboards read rollups made by the rebuild path too).
    let rebuildMs: number | null = null;
    if (layer.rebuild) {
      const t = performance.now();
      await layer.rebuild(deps, cid, (done, total) => log(`rebuild: ${done}/${total} days, ${((performance.now() - t) / 1000).toFixed(1)} s`));
      rebuildMs = performance.now() - t;
      log(`rebuild: ${(rebuildMs / 1000).toFixed(1)} s`);
    } else notMeasured.push('full rebuild (rebuildRollups not wired)');
    const tr = performance.now();
    for (const s of rawRebuildStatements(dialect, cid)) await raw.run(s);
    const rawRebuildMs = performance.now() - tr;
    for (const t of ['bench_raw_member_days', 'bench_raw_received', 'bench_raw_days']) await raw.run(`DROP TABLE ${t}`);
    log(`raw rebuild baseline: ${(rawRebuildMs / 1000).toFixed(1)} s`);

    // ── KPI dashboard: the last 30 days (and the 30 before, for the trend).
    const kFrom = localDate(DAYS - 30);
    const kTo = localDate(DAYS);
    const utc = (date: string) => new Date(Date.parse(`${date}T00:00:00Z`) - 8 * 3_600_000).toISOString();
    const q = rawKpiQueries(dialect);
    const rawKpi = await series(
      async () => {
        await raw.all(q.byDay, [cid, utc(localDate(DAYS - 60)), utc(kTo)]);
        await raw.all(q.active, [cid, utc(kFrom), utc(kTo)]);
        await raw.all(q.active, [cid, utc(localDate(DAYS - 60)), utc(kFrom)]);
      },
      { repeats: o.repeats, budgetMs: o.budgetMs, warmup: 1, min: 3 },
    );
    log(`KPI raw baseline: p50 ${rawKpi.p50Ms.toFixed(1)} ms, p99 ${rawKpi.p99Ms.toFixed(1)} ms (${rawKpi.calls} calls)`);
    let kpiService: Latency | null = null;
    let kpiCold: Latency | null = null;
    let kpiHttp: Latency | null = null;
    if (layer.kpis) {
      const kpis = layer.kpis;
      // Computed afresh (the answer cache emptied before each call), as after any new event; then
      // as a dashboard reopened while nothing changed.
      if (layer.clearKpis) {
        const clear = layer.clearKpis;
        kpiCold = await series(
          async () => {
            clear();
            await kpis(deps, cid, kFrom, kTo);
          },
          { repeats: o.repeats, budgetMs: o.budgetMs, warmup: 1, min: 3 },
        );
        log(`KPI service, computed afresh: p50 ${kpiCold.p50Ms.toFixed(1)} ms, p99 ${kpiCold.p99Ms.toFixed(1)} ms (${kpiCold.calls} calls)`);
      } else notMeasured.push('KPI dashboard computed afresh (no cache to clear)');
      kpiService = await series(() => kpis(deps, cid, kFrom, kTo), { repeats: o.repeats, budgetMs: o.budgetMs, warmup: 2, min: 3 });
      log(`KPI service, unchanged data: p50 ${kpiService.p50Ms.toFixed(1)} ms, p99 ${kpiService.p99Ms.toFixed(1)} ms (${kpiService.calls} calls)`);
    } else notMeasured.push('KPI dashboard through the service (communityKpis not wired)');
    if (layer.kpisPath) {
      const url = layer.kpisPath(cid, kFrom, kTo);
      const headers = { cookie: `${SESSION_COOKIE}=${cookie.value}` };
      kpiHttp = await series(
        async () => {
          const r = await app.inject({ method: 'GET', url, headers });
          if (r.statusCode !== 200) throw new Error(`GET ${url}: ${r.statusCode} ${r.body.slice(0, 300)}`);
        },
        { repeats: o.repeats, budgetMs: o.budgetMs, warmup: 2, min: 3 },
      );
      log(`KPI over HTTP (inject): p50 ${kpiHttp.p50Ms.toFixed(1)} ms, p99 ${kpiHttp.p99Ms.toFixed(1)} ms`);
    } else notMeasured.push('KPI dashboard over HTTP (route not wired)');

    // ── Cohort matrix: 12 months by join month.
    const cFrom = START_DATE;
    const cTo = localDate(DAYS);
    const cq = rawCohortQuery(dialect);
    const rawCohorts = await series(() => raw.all(cq, [cid, cid, utc(cFrom), utc(cTo)]), { repeats: 3, budgetMs: o.budgetMs, warmup: 0, min: 1 });
    log(`cohort raw baseline: p50 ${rawCohorts.p50Ms.toFixed(0)} ms (${rawCohorts.calls} calls)`);
    let cohortService: Latency | null = null;
    let cohortTimedOut: number | null = null;
    if (layer.cohorts) {
      const r = await inWorker({ url: db.url, call: 'cohorts', communityId: cid, from: cFrom, to: cTo, repeats: 3 }, o.cohortTimeoutMs);
      if (r.samples.length) cohortService = latency(r.samples);
      if (r.timedOut) {
        cohortTimedOut = o.cohortTimeoutMs;
        notMeasured.push(`cohort service calls beyond the ${o.cohortTimeoutMs / 1000} s limit (${r.samples.length} finished)`);
      }
      log(`cohort service: ${cohortService ? `p50 ${cohortService.p50Ms.toFixed(0)} ms (${cohortService.calls} calls)` : 'no call finished'}${r.timedOut ? `, stopped after ${o.cohortTimeoutMs / 1000} s` : ''}`);
    } else notMeasured.push('cohort matrix through the service (communityCohorts not wired)');

    await app.close();
    const dbBytes = db.dbFile ? statSync(db.dbFile).size : Number((await raw.all<{ n: number }>('SELECT pg_database_size(current_database()) AS n'))[0]!.n);
    const eventsTotal = plan.events.total;
    return {
      dialect,
      server: db.server,
      setup: { fixture, history, migrateMs, dbBytes },
      ingest,
      kpis: {
        period: { from: kFrom, to: kTo },
        coldService: kpiCold,
        service: kpiService,
        http: kpiHttp,
        raw: rawKpi,
        coldVsRawP50: kpiCold ? kpiCold.p50Ms / rawKpi.p50Ms : null,
        serviceVsRawP50: kpiService ? kpiService.p50Ms / rawKpi.p50Ms : null,
        goalP50Ms: KPI_GOAL_P50_MS,
        goalMet: kpiService ? kpiService.p50Ms < KPI_GOAL_P50_MS : null,
        goalMetComputedAfresh: kpiCold ? kpiCold.p50Ms < KPI_GOAL_P50_MS : null,
      },
      cohorts: { period: { from: cFrom, to: cTo }, service: cohortService, serviceTimedOutAfterMs: cohortTimedOut, raw: rawCohorts, serviceVsRawP50: cohortService ? cohortService.p50Ms / rawCohorts.p50Ms : null },
      rebuild: {
        ms: rebuildMs,
        eventsPerS: rebuildMs ? (eventsTotal / rebuildMs) * 1000 : null,
        raw: { ms: rawRebuildMs, eventsPerS: (eventsTotal / rawRebuildMs) * 1000 },
        vsRaw: rebuildMs ? rebuildMs / rawRebuildMs : null,
      },
      notMeasured,
      totalSeconds: (performance.now() - t0) / 1000,
    };
  } finally {
    await db.cleanup();
  }
}

function dialectInWorker(dialect: BenchDialect, o: AnalyticsOptions): Promise<DialectResult> {
  const { log, ...options } = o;
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./analytics-dialect-worker.js', import.meta.url), { workerData: { dialect, options }, resourceLimits: { maxOldGenerationSizeMb: 12_288 } });
    let result: DialectResult | null = null;
    worker.on('message', (m: { log?: string; result?: DialectResult }) => {
      if (m.log !== undefined) log(m.log);
      if (m.result) result = m.result;
    });
    worker.on('error', reject);
    worker.on('exit', (code) => (result ? resolve(result) : reject(new Error(`${dialect} bench worker exited with ${code} and no result`))));
  });
}

export async function runAnalytics(o: AnalyticsOptions): Promise<AnalyticsResult> {
  const plan = planCommunity({ scale: o.scale, seed: o.seed });
  o.log(`planned ${plan.members.count.toLocaleString('en-US')} members, ${plan.orders.count.toLocaleString('en-US')} orders, ${plan.events.total.toLocaleString('en-US')} events in ${(plan.planMs / 1000).toFixed(1)} s`);
  const dialects: DialectResult[] = [];
  if (o.parallel && o.dialects.length > 1) dialects.push(...(await Promise.all(o.dialects.map((d) => dialectInWorker(d, o)))));
  else for (const d of o.dialects) dialects.push(await runDialect(plan, d, o));
  return {
    community: {
      scale: o.scale,
      seed: o.seed,
      timeZone: TIME_ZONE,
      period: { from: START_DATE, to: localDate(DAYS) },
      members: plan.members.count,
      groups: plan.groups.length,
      links: plan.links.length,
      orders: plan.orders.count,
      events: plan.events.total,
      eventsByKind: plan.events.byKind,
      planMs: plan.planMs,
    },
    dialects,
  };
}
