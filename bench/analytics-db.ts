/**
 * Raw database access for the analytics bench: a throwaway PostgreSQL cluster, multi-row inserts
 * straight through better-sqlite3 / pg (fixture setup and the ingest baseline), and the fixture
 * writer that puts the planned community's accounts, groups, links, products, members, spans,
 * orders, memberships and refunds into the database without going through the service layer.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type SQLite from 'better-sqlite3';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { findPgBinDir, startPgCluster } from '../server/src/test/pg-cluster.js';
import { eventsOfDay, membershipId, onboardedAt, orderId, type BenchEvent, type Plan } from './analytics-gen.js';

// ── PostgreSQL cluster ───────────────────────────────────────────────────────────────────────

export interface BenchPg {
  url: string;
  version: string;
  settings: string;
  stop(): void;
}

/**
 * A throwaway PostgreSQL cluster on 127.0.0.1 at a free port, as the test suite's global setup
 * starts one (as root: initdb/pg_ctl as the `postgres` user). Unlike the tests' cluster it keeps
 * fsync and synchronous commit on, and gives the server memory and WAL room for 20 M rows.
 */
export async function startBenchPg(): Promise<BenchPg> {
  const binDir = findPgBinDir();
  if (!binDir) throw new Error('PostgreSQL server binaries not found (initdb); install PostgreSQL or run with --dialect sqlite');
  const settings = '-c shared_buffers=2GB -c work_mem=64MB -c maintenance_work_mem=512MB -c max_wal_size=8GB -c checkpoint_timeout=15min -c effective_cache_size=12GB';
  const cluster = await startPgCluster(binDir, settings, 120);
  const version = execFileSync(join(binDir, 'postgres'), ['--version']).toString().trim();
  return { ...cluster, version, settings };
}

// ── Raw access ───────────────────────────────────────────────────────────────────────────────

export interface RawDb {
  dialect: 'sqlite' | 'postgres';
  run(sql: string, params?: unknown[]): Promise<void>;
  all<T>(sql: string, params?: unknown[]): Promise<T[]>;
  /**
   * `rows` in the caller's transaction: multi-row INSERT statements of at most `perStatement` rows on
   * SQLite, one COPY … FROM STDIN on PostgreSQL (its bulk-load path; INSERT … unnest loaded the event
   * history at about a fifth of the speed).
   */
  insertRows(table: string, columns: readonly string[], rows: Iterable<unknown[]>, perStatement?: number): Promise<void>;
  transaction(fn: () => Promise<void>): Promise<void>;
  close(): Promise<void>;
}

const insertSql = (dialect: RawDb['dialect'], table: string, columns: readonly string[], n: number) => {
  let p = 0;
  const tuple = () => `(${columns.map(() => (dialect === 'postgres' ? `$${++p}` : '?')).join(',')})`;
  return `INSERT INTO ${table} (${columns.join(',')}) VALUES ${Array.from({ length: n }, tuple).join(',')}`;
};

/** Over better-sqlite3: the same connection (and pragmas) the bench's Kysely instance uses. */
export function rawSqlite(sqlite: SQLite.Database): RawDb {
  const stmts = new Map<string, SQLite.Statement>();
  const prepared = (sql: string) => {
    let s = stmts.get(sql);
    if (!s) stmts.set(sql, (s = sqlite.prepare(sql)));
    return s;
  };
  return {
    dialect: 'sqlite',
    run: async (sql, params = []) => {
      prepared(sql).run(...params);
    },
    all: async <T>(sql: string, params: unknown[] = []) => prepared(sql).all(...params) as T[],
    insertRows: async (table, columns, rows, perStatement = 500) => {
      const list = Array.isArray(rows) ? (rows as unknown[][]) : [...rows];
      for (let i = 0; i < list.length; i += perStatement) {
        const chunk = list.slice(i, i + perStatement);
        prepared(insertSql('sqlite', table, columns, chunk.length)).run(...chunk.flat());
      }
    },
    transaction: async (fn) => {
      sqlite.exec('BEGIN');
      try {
        await fn();
        sqlite.exec('COMMIT');
      } catch (err) {
        sqlite.exec('ROLLBACK');
        throw err;
      }
    },
    close: async () => {},
  };
}

/** A value in COPY's text format: \\N for null, backslash escapes for the separators. */
const copyText = (v: unknown): string =>
  v === null || v === undefined ? '\\N' : String(v).replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n').replace(/\r/g, '\\r');

function* copyLines(rows: Iterable<unknown[]>): Generator<string> {
  let buf = '';
  for (const r of rows) {
    buf += r.map(copyText).join('\t') + '\n';
    if (buf.length >= 1 << 16) {
      yield buf;
      buf = '';
    }
  }
  if (buf) yield buf;
}

/** Over one pg connection of its own. */
export async function rawPg(url: string): Promise<RawDb> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query("SET TIME ZONE 'UTC'");
  return {
    dialect: 'postgres',
    run: async (sql, params = []) => {
      await client.query(sql, params);
    },
    all: async <T>(sql: string, params: unknown[] = []) => (await client.query(sql, params)).rows as T[],
    insertRows: async (table, columns, rows) => {
      await pipeline(Readable.from(copyLines(rows)), client.query(copyFrom(`COPY ${table} (${columns.join(', ')}) FROM STDIN`)));
    },
    transaction: async (fn) => {
      await client.query('BEGIN');
      try {
        await fn();
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK');
        throw err;
      }
    },
    close: () => client.end(),
  };
}

// ── Fixture ──────────────────────────────────────────────────────────────────────────────────

const iso = (ms: number) => new Date(ms).toISOString();
const DAY = 86_400_000;

export interface FixtureFigures {
  members: number;
  spans: number;
  orders: number;
  memberships: number;
  refunds: number;
  groups: number;
  links: number;
  ms: number;
}

/** Writes everything but the events. Rows go in batches of 20,000 per transaction. */
export async function writeFixture(raw: RawDb, plan: Plan, ownerUserId: string, workspaceId: string): Promise<FixtureFigures> {
  const started = performance.now();
  const cid = plan.communityId;
  const created = iso(plan.members.joinAt[0]! - 30 * DAY);
  const m = plan.members;

  await raw.transaction(async () => {
    await raw.insertRows(
      'users',
      ['id', 'email', 'name', 'password_hash', 'created_at', 'password_changed_at'],
      plan.staff.map((s) => [s.id, s.email, s.name, '!', created, created]),
    );
    await raw.insertRows(
      'communities',
      ['id', 'workspace_id', 'slug', 'name', 'value_proposition', 'type', 'time_zone', 'currency', 'created_at', 'updated_at'],
      [[cid, workspaceId, `bench-${plan.seed}`, '百万成员学习社群', '一起学习，一起成长', 'knowledge', 'Asia/Shanghai', 'CNY', created, created]],
    );
    await raw.insertRows(
      'community_roles',
      ['community_id', 'user_id', 'role', 'created_at'],
      [[cid, ownerUserId, 'owner', created], ...plan.staff.map((s, k) => [cid, s.id, k < 2 ? 'admin' : 'operator', created])],
    );
    await raw.insertRows(
      'groups',
      ['id', 'community_id', 'name', 'tags', 'capacity', 'seated_count', 'status', 'monitor_user_id', 'created_from_link_id', 'created_at', 'updated_at'],
      plan.groups.map((g) => [g.id, cid, g.name, '{}', 500, 0, 'open', g.monitorStaff >= 0 ? plan.staff[g.monitorStaff]!.id : null, plan.links[0]!.id, iso(g.openedAt), iso(g.openedAt)]),
    );
    await raw.insertRows(
      'entry_links',
      ['id', 'community_id', 'code', 'name', 'channel', 'owner_user_id', 'owner_member_id', 'group_ids', 'status', 'created_at', 'updated_at'],
      plan.links.map((l) => [l.id, cid, l.code, l.name, l.channel, l.ownerStaff >= 0 ? plan.staff[l.ownerStaff]!.id : null, l.ownerMember >= 0 ? m.id(l.ownerMember) : null, '[]', 'active', created, created]),
    );
    await raw.insertRows(
      'products',
      ['id', 'community_id', 'type', 'name', 'price_minor', 'currency', 'term', 'term_days', 'group_ids', 'status', 'trial_of_product_id', 'created_at', 'updated_at'],
      plan.products.map((p) => [p.id, cid, p.type, p.name, p.priceMinor, 'CNY', p.termDays ? 'days' : null, p.termDays, '[]', 'active', p.trialOf, created, created]),
    );
  });

  const memberCols = [
    'id', 'community_id', 'external_id', 'display_name', 'nickname', 'status', 'profile', 'token_hash', 'entry_link_id', 'channel', 'referrer_member_id',
    'current_group_id', 'rules_accepted_at', 'introduced_at', 'onboarded_at', 'first_joined_at', 'last_joined_at', 'left_at', 'created_at', 'updated_at',
  ];
  const spanCols = ['id', 'community_id', 'member_id', 'group_id', 'entry_link_id', 'referrer_member_id', 'joined_at', 'left_at', 'left_kind'];
  const BATCH = 20_000;
  let spans = 0;
  for (let from = 0; from < m.count; from += BATCH) {
    const memberRows: unknown[][] = [];
    const spanRows: unknown[][] = [];
    for (let i = from; i < Math.min(m.count, from + BATCH); i++) {
      const id = m.id(i);
      const join = iso(m.joinAt[i]!);
      const onboard = m.onboarded[i] ? iso(onboardedAt(m.joinAt[i]!, i)) : null;
      const left = m.leaveAt[i] && !m.rejoinAt[i];
      const lp = plan.links[m.link[i]!]!;
      const referrer = m.referrer[i]! >= 0 ? m.id(m.referrer[i]!) : null;
      const current = left ? null : plan.groups[m.rejoinAt[i] ? m.group2[i]! : m.group1[i]!]!.id;
      const last = m.rejoinAt[i] ? iso(m.rejoinAt[i]!) : join;
      memberRows.push([
        id, cid, `wx_${i.toString(36)}`, `成员${i}`, onboard ? `城市-行业-成员${i}` : null, left ? 'left' : onboard ? 'active' : 'onboarding', '{}', `tok_bench_${i}`,
        lp.id, lp.channel, referrer, current, onboard, onboard, onboard, join, last, m.leaveAt[i] ? iso(m.leaveAt[i]!) : null, join, last,
      ]);
      spanRows.push([`spn_bench${i.toString(36)}a`, cid, id, plan.groups[m.group1[i]!]!.id, lp.id, referrer, join, m.leaveAt[i] ? iso(m.leaveAt[i]!) : null, m.leaveAt[i] ? 'left' : null]);
      if (m.rejoinAt[i]) spanRows.push([`spn_bench${i.toString(36)}b`, cid, id, plan.groups[m.group2[i]!]!.id, lp.id, referrer, iso(m.rejoinAt[i]!), null, null]);
    }
    spans += spanRows.length;
    await raw.transaction(async () => {
      await raw.insertRows('members', memberCols, memberRows);
      await raw.insertRows('member_spans', spanCols, spanRows);
    });
  }

  const orderCols = [
    'id', 'community_id', 'member_id', 'product_id', 'status', 'amount_minor', 'refunded_minor', 'currency', 'idempotency_key', 'request_hash', 'provider',
    'provider_ref', 'checkout_token_hash', 'membership_id', 'paid_at', 'created_at', 'updated_at',
  ];
  const membershipCols = ['id', 'community_id', 'member_id', 'product_id', 'source', 'starts_at', 'expires_at', 'created_at', 'order_id', 'revoked_at', 'revoke_reason'];
  const refundCols = ['id', 'community_id', 'order_id', 'amount_minor', 'currency', 'reason', 'provider_ref', 'created_at', 'status', 'settled_at'];
  const o = plan.orders;
  let memberships = 0;
  let refunds = 0;
  for (let from = 0; from < o.count; from += BATCH) {
    const orderRows: unknown[][] = [];
    const membershipRows: unknown[][] = [];
    const refundRows: unknown[][] = [];
    for (let n = from; n < Math.min(o.count, from + BATCH); n++) {
      const p = plan.products[o.product[n]!]!;
      const paid = iso(o.paidAt[n]!);
      const refunded = o.refundedAt[n] ? iso(o.refundedAt[n]!) : null;
      const msh = p.type === 'membership' ? membershipId(n) : null;
      const id = orderId(n);
      const member = m.id(o.member[n]!);
      orderRows.push([
        id, cid, member, p.id, refunded ? 'refunded' : 'paid', p.priceMinor, refunded ? p.priceMinor : 0, 'CNY', `bench-${n}`, 'bench', 'test', `tpay_bench_${n}`,
        `ckt_bench_${n}`, msh, paid, iso(o.paidAt[n]! - 60_000), refunded ?? paid,
      ]);
      if (msh) membershipRows.push([msh, cid, member, p.id, 'order', paid, iso(o.paidAt[n]! + p.termDays! * DAY), paid, id, refunded, refunded ? 'refunded' : null]);
      if (refunded) refundRows.push([`rfd_bench${n.toString(36)}`, cid, id, p.priceMinor, 'CNY', 'requested', `tref_bench_${n}`, refunded, 'succeeded', refunded]);
    }
    memberships += membershipRows.length;
    refunds += refundRows.length;
    await raw.transaction(async () => {
      await raw.insertRows('orders', orderCols, orderRows);
      if (membershipRows.length) await raw.insertRows('memberships', membershipCols, membershipRows);
      if (refundRows.length) await raw.insertRows('refunds', refundCols, refundRows);
    });
  }
  // Seated counts as the routing would have left them.
  const seated = new Map<number, number>();
  for (let i = 0; i < m.count; i++) {
    if (m.leaveAt[i] && !m.rejoinAt[i]) continue;
    const g = m.rejoinAt[i] ? m.group2[i]! : m.group1[i]!;
    seated.set(g, (seated.get(g) ?? 0) + 1);
  }
  const setSeated = `UPDATE groups SET seated_count = ${raw.dialect === 'postgres' ? '$1' : '?'} WHERE id = ${raw.dialect === 'postgres' ? '$2' : '?'}`;
  await raw.transaction(async () => {
    for (const [g, n] of seated) await raw.run(setSeated, [n, plan.groups[g]!.id]);
    // Rows written here bypass the event path that keeps the rollups' stays and purchases: ask for a rebuild.
    await raw.run(`INSERT INTO analytics_dirty (community_id, hour, tx) VALUES (${raw.dialect === 'postgres' ? '$1' : '?'}, '*', 0)`, [plan.communityId]);
  });
  return { members: m.count, spans, orders: o.count, memberships, refunds, groups: plan.groups.length, links: plan.links.length, ms: performance.now() - started };
}

// ── Event history as fixture ─────────────────────────────────────────────────────────────────

export const EVENT_COLUMNS = ['community_id', 'type', 'occurred_at', 'member_id', 'group_id', 'entry_link_id', 'channel', 'referrer_member_id', 'actor_user_id', 'props', 'recorded_at'] as const;
export const rawEventRow = (e: BenchEvent, recordedAt: string): unknown[] => [
  e.community_id, e.type, e.occurred_at, e.member_id, e.group_id, e.entry_link_id, e.channel, e.referrer_member_id, e.actor_user_id, JSON.stringify(e.props), recordedAt,
];

export interface HistoryFigures {
  /** Local days 0 … days-1 of the plan. */
  days: number;
  events: number;
  /** Rows written with the event log's secondary indexes dropped. */
  loadMs: number;
  /** The same indexes (as the migrations define them) built again afterwards. */
  indexMs: number;
  /** Planner statistics (PostgreSQL: VACUUM ANALYZE, SQLite: ANALYZE). */
  analyzeMs: number;
  method: string;
}

/**
 * Fixture setup, not a measurement: the events of local days [0, days) written the fastest raw way,
 * with the event log's secondary indexes dropped during the load and built again afterwards (their
 * definitions are read back from the database, so they stay the migrations' own). No rollup hours
 * are marked: the measured full rebuild computes the rollups of this history.
 * SQLite: one prepared single-row INSERT in transactions of 250,000 rows with synchronous=OFF
 * (restored afterwards). PostgreSQL: INSERT … SELECT FROM unnest(arrays) of 20,000 rows per
 * statement with synchronous_commit off on the raw connection (reset afterwards).
 */
export async function loadEventHistory(raw: RawDb, sqlite: SQLite.Database | null, plan: Plan, days: number, log: (l: string) => void): Promise<HistoryFigures> {
  const cols = EVENT_COLUMNS.join(', ');
  let events = 0;
  const t0 = performance.now();
  let indexMs = 0;
  let analyzeMs = 0;
  let loadMs = 0;
  let method: string;
  if (sqlite) {
    const indexes = sqlite.prepare(`SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'events' AND sql IS NOT NULL`).all() as { name: string; sql: string }[];
    for (const ix of indexes) sqlite.exec(`DROP INDEX ${ix.name}`);
    const sync = sqlite.pragma('synchronous', { simple: true });
    sqlite.pragma('synchronous = OFF');
    try {
      const insert = sqlite.prepare(`INSERT INTO events (${cols}) VALUES (${EVENT_COLUMNS.map(() => '?').join(', ')})`);
      let inTx = 0;
      sqlite.exec('BEGIN');
      for (let d = 0; d < days; d++) {
        const list = eventsOfDay(plan, d);
        const recordedAt = list.at(-1)?.occurred_at ?? '';
        for (const e of list) insert.run(...rawEventRow(e, recordedAt));
        events += list.length;
        inTx += list.length;
        if (inTx >= 250_000) {
          sqlite.exec('COMMIT; BEGIN');
          inTx = 0;
        }
        if (d % 60 === 59) log(`history: day ${d + 1}/${days}, ${events.toLocaleString('en-US')} events, ${((performance.now() - t0) / 1000).toFixed(0)} s`);
      }
      sqlite.exec('COMMIT');
      const ti = performance.now();
      loadMs = ti - t0;
      for (const ix of indexes) sqlite.exec(ix.sql);
      indexMs = performance.now() - ti;
    } finally {
      sqlite.pragma(`synchronous = ${Number(sync)}`);
    }
    const ta = performance.now();
    sqlite.exec('ANALYZE');
    analyzeMs = performance.now() - ta;
    method = `one prepared INSERT, transactions of 250,000 rows, synchronous=OFF, ${indexes.length} secondary indexes built after the load`;
  } else {
    const indexes = await raw.all<{ name: string; def: string }>(
      `SELECT i.indexname AS name, i.indexdef AS def FROM pg_indexes i WHERE i.tablename = 'events' AND i.schemaname = current_schema()
        AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)`,
    );
    for (const ix of indexes) await raw.run(`DROP INDEX ${ix.name}`);
    await raw.run('SET synchronous_commit = off');
    // As pg_restore --disable-triggers does: no per-row foreign-key trigger for rows known to be valid.
    await raw.run('SET session_replication_role = replica');
    try {
      function* rows(): Generator<unknown[]> {
        for (let d = 0; d < days; d++) {
          const list = eventsOfDay(plan, d);
          const recordedAt = list.at(-1)?.occurred_at ?? '';
          for (const e of list) yield rawEventRow(e, recordedAt);
          events += list.length;
          if (d % 60 === 59) log(`history: day ${d + 1}/${days}, ${events.toLocaleString('en-US')} events, ${((performance.now() - t0) / 1000).toFixed(0)} s`);
        }
      }
      await raw.insertRows('events', EVENT_COLUMNS, rows());
      const ti = performance.now();
      loadMs = ti - t0;
      for (const ix of indexes) await raw.run(ix.def);
      indexMs = performance.now() - ti;
    } finally {
      await raw.run('RESET synchronous_commit');
      await raw.run('RESET session_replication_role');
    }
    const ta = performance.now();
    await raw.run('VACUUM ANALYZE');
    analyzeMs = performance.now() - ta;
    method = `one COPY … FROM STDIN, synchronous_commit off, foreign-key triggers off (session_replication_role = replica), ${indexes.length} secondary indexes built after the load`;
  }
  return { days, events, loadMs, indexMs, analyzeMs, method };
}
