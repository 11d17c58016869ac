import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, inject } from 'vitest';
import type { AddressInfo } from 'node:net';
import { buildApp, type AppOptions } from '../app.js';
import type { PaymentsConfig } from '../config.js';
import { migrateToLatest, openDatabase, type DatabaseHandle, type Dialect } from '../db/kysely.js';
import { systemClock, type Clock } from '../lib/clock.js';
import type { Deps } from '../lib/deps.js';

export const DIALECTS: Dialect[] = ['sqlite', 'postgres'];

export interface TestDb {
  /** What YUTANG_DATABASE_URL would say: a file path or a postgres:// URL. */
  url: string;
  handle: DatabaseHandle;
  deps: Deps;
  close(): Promise<void>;
}

let counter = 0;

/**
 * A fresh, migrated database: a temp SQLite file, or a new database in the run's PostgreSQL cluster.
 * `payments` configures the providers (default: only the test provider, refunding at once).
 */
export async function createTestDb(dialect: Dialect, clock: Clock = systemClock, opts: { payments?: PaymentsConfig | undefined } = {}): Promise<TestDb> {
  let url: string;
  let cleanup: () => Promise<void>;
  if (dialect === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'yutang-test-'));
    url = join(dir, 'test.db');
    cleanup = async () => rmSync(dir, { recursive: true, force: true });
  } else {
    const admin = inject('pgUrl');
    if (!admin) throw new Error('no PostgreSQL cluster');
    const name = `yt_${process.pid}_${Date.now().toString(36)}_${counter++}`;
    const client = new pg.Client({ connectionString: admin });
    await client.connect();
    await client.query(`CREATE DATABASE ${name}`);
    await client.end();
    url = admin.replace(/\/[^/]*$/, `/${name}`);
    cleanup = async () => {
      const c = new pg.Client({ connectionString: admin });
      await c.connect();
      // pool.end() resolves before its sockets are closed: wait for the backends to go rather than
      // killing them (FORCE) while their clients still listen.
      for (let i = 0; ; i++) {
        try {
          await c.query(`DROP DATABASE IF EXISTS ${name}${i >= 50 ? ' WITH (FORCE)' : ''}`);
          break;
        } catch (err) {
          if ((err as { code?: string }).code !== '55006' || i >= 50) throw err;
          await new Promise((r) => setTimeout(r, 100));
        }
      }
      await c.end();
    };
  }
  const handle = openDatabase(url, { poolSize: 20 });
  await migrateToLatest(handle.db);
  return {
    url,
    handle,
    deps: {
      db: handle.db,
      clock,
      config: { publicUrl: 'http://yutang.test', signup: 'open', secret: 'test-secret-test-secret-test-secret!', ...(opts.payments && { payments: opts.payments }) },
    },
    async close() {
      await handle.close();
      await cleanup();
    },
  };
}

/**
 * Runs a suite once per dialect: SQLite always, PostgreSQL when the run has a cluster (always in
 * CI, where global setup fails without one).
 */
export function describeEachDialect(name: string, fn: (dialect: Dialect) => void) {
  for (const dialect of DIALECTS) {
    const enabled = dialect === 'sqlite' || !!inject('pgUrl');
    (enabled ? describe : describe.skip)(`${name} [${dialect}]`, () => fn(dialect));
  }
}

export interface TestServer {
  url: string;
  app: Awaited<ReturnType<typeof buildApp>>;
  close(): Promise<void>;
}

/** The real server on a random port. */
export async function startServer(db: TestDb, opts: Partial<AppOptions> = {}): Promise<TestServer> {
  const app = await buildApp({
    database: db.handle,
    config: { ...db.deps.config, trustProxy: false, logLevel: 'silent' },
    clock: db.deps.clock,
    logger: false,
    limits: { loginPerMinute: 1000, publicPerMinute: 10_000 },
    ...opts,
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, app, close: () => app.close() };
}

export interface ApiResponse<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

/**
 * An HTTP client that behaves like a browser session: keeps the session cookie and sends the CSRF
 * token with writes. `bearer` switches it to API-key or member-token auth.
 */
export class Client {
  cookies = new Map<string, string>();
  csrf: string | null = null;
  constructor(
    readonly base: string,
    public bearer: string | null = null,
  ) {}

  async request<T = any>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<ApiResponse<T>> {
    const h: Record<string, string> = { ...headers };
    if (body !== undefined) h['content-type'] = 'application/json';
    if (this.cookies.size) h.cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    if (this.csrf && method !== 'GET') h['x-csrf-token'] = this.csrf;
    if (this.bearer) h.authorization = `Bearer ${this.bearer}`;
    const res = await fetch(this.base + path, { method, headers: h, body: body === undefined ? undefined : JSON.stringify(body) });
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const [k, ...v] = pair!.split('=');
      if (/Max-Age=0|Expires=Thu, 01 Jan 1970/i.test(c)) this.cookies.delete(k!);
      else this.cookies.set(k!, v.join('='));
    }
    const text = await res.text();
    const type = res.headers.get('content-type') ?? '';
    const parsed = type.includes('json') && text ? JSON.parse(text) : text;
    if (parsed && typeof parsed === 'object' && 'csrf_token' in parsed) this.csrf = (parsed as { csrf_token: string }).csrf_token;
    return { status: res.status, body: parsed as T, headers: res.headers };
  }
  get = <T = any>(p: string) => this.request<T>('GET', p);
  post = <T = any>(p: string, b: unknown = {}) => this.request<T>('POST', p, b);
  patch = <T = any>(p: string, b: unknown) => this.request<T>('PATCH', p, b);
  put = <T = any>(p: string, b: unknown) => this.request<T>('PUT', p, b);
  delete = <T = any>(p: string) => this.request<T>('DELETE', p);
}

/** The password every test account gets. */
export const TEST_PASSWORD = 'correct horse battery';

/** Signs up a new account (and its workspace) and returns its browser-like client. */
export async function signUp(base: string, email: string, name = email.split('@')[0]!) {
  const c = new Client(base);
  const r = await c.post('/api/v1/auth/signup', { email, password: TEST_PASSWORD, name });
  if (r.status !== 201) throw new Error(`signup failed: ${r.status} ${JSON.stringify(r.body)}`);
  return { client: c, user: r.body.user, workspaceId: r.body.workspaces[0].id as string };
}

export const expectOk = <T>(r: ApiResponse<T>, status = 200): T => {
  if (r.status !== status) throw new Error(`expected ${status}, got ${r.status}: ${JSON.stringify(r.body)}`);
  return r.body;
};

/**
 * The usual suite setup: a fresh database and a real server for the suite, closed afterwards.
 * Read `ctx.db` / `ctx.server` inside tests (they are set by beforeAll). `payments` may be a
 * function, called when the suite starts: after the suite's earlier `beforeAll`s, so that it can
 * name a server they started (a fake provider API).
 */
export function useServer(dialect: Dialect, opts: { clock?: Clock; app?: Partial<AppOptions>; payments?: PaymentsConfig | (() => PaymentsConfig) } = {}) {
  const ctx = {} as { db: TestDb; server: TestServer };
  beforeAll(async () => {
    ctx.db = await createTestDb(dialect, opts.clock, { payments: typeof opts.payments === 'function' ? opts.payments() : opts.payments });
    ctx.server = await startServer(ctx.db, opts.app);
  });
  afterAll(async () => {
    await ctx.server?.close();
    await ctx.db?.close();
  });
  return ctx;
}

/** Open membership spans per group of a community, straight from the table (seats must agree). */
export async function openSpansByGroup(db: TestDb, communityId: string): Promise<Map<string, number>> {
  const rows = await db.handle.db
    .selectFrom('member_spans')
    .select(['group_id', (eb) => eb.fn.countAll<number>().as('n')])
    .where('community_id', '=', communityId)
    .where('left_at', 'is', null)
    .groupBy('group_id')
    .execute();
  return new Map(rows.map((r) => [r.group_id, Number(r.n)]));
}
