import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import seedrandom from 'seedrandom';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestDb, describeEachDialect, expectOk, type TestDb } from '../../test/harness.js';
import { addMember, addProduct, buy, openShop, paidEvent, pool } from '../../test/money.js';
import { signTestWebhook, testWebhookSecret } from '../payments/index.js';
import { checkLedger } from './ledger.check.js';

/**
 * Crash test: `yutang serve` in a child process receives signed payment webhooks for pending
 * membership orders and is killed with SIGKILL at random moments, then started again. After the
 * last start every event is delivered once more, and the tables must show each payment applied
 * exactly once: one membership, one balanced pair of ledger entries, one recorded event.
 *
 * Fifty starts are most of the cost. The CLI is bundled once with esbuild (what tsx compiles the
 * sources with; the packages stay external), which starts in about 60% of the CPU time of tsx,
 * and the next servers are already starting (same database, other ports) while the current one
 * takes deliveries. It is killed a random moment after the next one is ready.
 * CRASH_SEED=<n> replays a run; the seed is printed with any failure.
 */

const SECRET = 'crash-test-secret-crash-test-secret-!!';
const DAY = 86_400_000;
/** SIGKILLs per run; PostgreSQL proves the same with fewer restarts, which dominate the time. */
const KILLS = { sqlite: 50, postgres: 10 };
/** The public join route allows 120 requests a minute per address: one server joins them all. */
const MEMBERS = 100;
/** Each member has one pending order for each of these memberships (days). */
const TERMS = [10, 30, 365];
const SENDERS = 6;
/** Servers starting ahead of the current one. */
const STARTING_AHEAD = 2;

interface Server {
  n: number;
  proc: ChildProcess;
  url: string;
  ready: Promise<void>;
  exited: Promise<void>;
}

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as { port: number };
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

/** The CLI as one ES module next to a link to the packages, in a temp dir. */
async function bundleCli(dir: string): Promise<string> {
  const outfile = join(dir, 'yutang.mjs');
  symlinkSync(resolve('node_modules'), join(dir, 'node_modules'), 'dir');
  await build({ entryPoints: ['cli/src/yutang.ts'], bundle: true, platform: 'node', format: 'esm', target: 'node20', packages: 'external', outfile, logLevel: 'error' });
  return outfile;
}

/** `yutang serve` on a free port of 127.0.0.1. */
async function serve(n: number, cli: string, databaseUrl: string): Promise<Server> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const proc = spawn(process.execPath, [cli, 'serve', '--no-demo'], {
    env: { PATH: process.env.PATH ?? '', YUTANG_DATABASE_URL: databaseUrl, YUTANG_SECRET: SECRET, PORT: String(port), HOST: '127.0.0.1', YUTANG_PUBLIC_URL: url, LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  const ready = new Promise<void>((resolve, reject) => {
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('Yutang is serving')) resolve();
    });
    proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    void exited.then(() => reject(new Error(`server ${n} exited before it served (${proc.exitCode ?? proc.signalCode}): ${err.slice(-2000)}`)));
  });
  ready.catch(() => {});
  return { n, proc, url, ready, exited };
}

async function kill(s: Server) {
  if (s.proc.exitCode === null && s.proc.signalCode === null) s.proc.kill('SIGKILL');
  await s.exited;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describeEachDialect('crash: SIGKILL while paid webhooks are applied', (dialect) => {
  const seed = process.env.CRASH_SEED ?? String(Date.now());
  let db: TestDb;
  let cli: string;
  const dir = mkdtempSync(join(tmpdir(), 'yutang-crash-'));
  const started: Server[] = [];
  beforeAll(async () => {
    db = await createTestDb(dialect);
    cli = await bundleCli(dir);
  });
  afterAll(async () => {
    await Promise.all(started.map(kill));
    await db?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it(`every payment applies exactly once across ${KILLS[dialect]} kills and a full redelivery`, async () => {
    try {
      await crashRun();
    } catch (err) {
      if (err instanceof Error) err.message = `[CRASH_SEED=${seed}] ${err.message}`;
      throw err;
    }
  }, 300_000);

  async function crashRun() {
    const rng = seedrandom(seed);
    const start = async (n: number) => {
      const s = await serve(n, cli, db.url);
      started.push(s);
      return s;
    };

    // ── Pending orders, through the API of the first server.
    let current = await start(0);
    await current.ready;
    const shop = await openShop(current);
    const products: { id: string }[] = [];
    for (const days of TERMS) products.push(await addProduct(shop, { type: 'membership', name: `${days} 天会员`, price_minor: 100 * days, term: 'days', term_days: days }));
    const members = await pool(Array.from({ length: MEMBERS }, (_, i) => () => addMember(current, shop, `会员${i}`)), 4);
    const orders = (
      await pool(
        members.flatMap((m, i) => products.map((p) => async () => expectOk(await buy(m.client, p.id, `order-${i}-${p.id}`), 201) as { id: string; amount_minor: number; currency: string })),
        4,
      )
    ).map((o, i) => ({ ...o, event: paidEvent(`evt_crash_${dialect}_${i}`, o) }));

    // ── Deliveries while servers die.
    const secret = testWebhookSecret(SECRET);
    const failures: string[] = [];
    const acked = new Set<number>();
    const unacked = orders.map((_, i) => i);
    let lost = 0;
    /** One signed delivery; null when the server died under it. */
    const deliver = async (url: string, i: number): Promise<string | null> => {
      const body = JSON.stringify(orders[i]!.event);
      const headers = { 'content-type': 'application/json', 'yutang-signature': signTestWebhook(secret, body, Math.floor(Date.now() / 1000)) };
      try {
        const res = await fetch(`${url}/api/v1/webhooks/test`, { method: 'POST', headers, body });
        const answer = (await res.json()) as { outcome?: string; code?: string };
        if (res.status !== 200) failures.push(`event ${i}: ${res.status} ${JSON.stringify(answer)}`);
        return res.status === 200 ? answer.outcome! : null;
      } catch {
        lost++;
        return null;
      }
    };

    const ahead: Promise<Server>[] = [];
    let next = 1;
    const topUp = (kills: number) => {
      while (ahead.length < STARTING_AHEAD && next <= kills) ahead.push(start(next++));
    };
    for (let k = 1; k <= KILLS[dialect]; k++) {
      topUp(KILLS[dialect]);
      let alive = true;
      const sender = async () => {
        while (alive) {
          // New events first, half the time; otherwise one acknowledged before (or any, early on).
          const fresh = unacked.length > 0 && rng() < 0.5;
          const i = fresh ? unacked.splice(Math.floor(rng() * unacked.length), 1)[0]! : acked.size ? [...acked][Math.floor(rng() * acked.size)]! : Math.floor(rng() * orders.length);
          const outcome = await deliver(current.url, i);
          if (outcome !== null) acked.add(i);
          else if (fresh) unacked.push(i);
        }
      };
      const senders = Array.from({ length: SENDERS }, sender);
      const successor = await ahead.shift()!;
      await successor.ready;
      await sleep(rng() * 300);
      await kill(current);
      alive = false;
      await Promise.all(senders);
      current = successor;
    }

    // ── The last server gets every event once more.
    const finals = await pool(
      orders.map((_, i) => () => deliver(current.url, i)),
      SENDERS,
    );
    expect(finals.filter((o) => o === null || !['applied', 'duplicate', 'already_paid'].includes(o))).toEqual([]);
    expect(failures).toEqual([]);
    current.proc.kill('SIGTERM');
    await current.exited;
    expect(lost).toBeGreaterThan(0); // some deliveries really died with their server

    // ── From the tables.
    const k = db.handle.db;
    const ids = orders.map((o) => o.id);
    const rows = await k.selectFrom('orders').selectAll().where('id', 'in', ids).execute();
    expect(rows.filter((o) => o.status !== 'paid').map((o) => [o.id, o.status])).toEqual([]);
    const memberships = await k.selectFrom('memberships').selectAll().where('order_id', 'in', ids).execute();
    const entries = await k.selectFrom('ledger_entries').selectAll().where('order_id', 'in', ids).execute();
    const events = await k.selectFrom('events').select(['type', 'props']).where('community_id', '=', shop.communityId).where('type', 'in', ['order_paid', 'membership_granted']).execute();
    const eventOrders = events.map((e) => `${e.type}:${(typeof e.props === 'string' ? JSON.parse(e.props) : e.props).order_id as string}`);
    const days = new Map(products.map((p, i) => [p.id, TERMS[i]!]));
    for (const o of rows) {
      const mine = memberships.filter((m) => m.order_id === o.id);
      const lines = entries.filter((e) => e.order_id === o.id).map((e) => [e.account, Number(e.amount_minor)]).sort();
      const amount = Number(o.amount_minor);
      expect([o.id, mine.length, mine[0]?.id === o.membership_id]).toEqual([o.id, 1, true]);
      expect([o.id, Date.parse(mine[0]!.expires_at!) - Date.parse(mine[0]!.starts_at)]).toEqual([o.id, days.get(o.product_id)! * DAY]);
      expect([o.id, lines]).toEqual([o.id, [['customer_payments', amount], ['revenue', -amount]]]);
      expect([o.id, eventOrders.filter((e) => e.endsWith(`:${o.id}`)).sort()]).toEqual([o.id, [`membership_granted:${o.id}`, `order_paid:${o.id}`]]);
    }
    // Each event id recorded once, as the delivery that applied it.
    const logged = await k.selectFrom('payment_events').select(['event_id', 'outcome']).where('event_id', 'like', `evt_crash_${dialect}_%`).execute();
    expect(logged.length).toBe(orders.length);
    expect(new Set(logged.map((l) => l.event_id)).size).toBe(orders.length);
    expect(logged.filter((l) => l.outcome !== 'applied')).toEqual([]);
    expect((await checkLedger(k)).violations).toEqual([]);
  }
});
