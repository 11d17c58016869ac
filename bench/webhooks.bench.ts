/**
 * Money bench: signed `payment.succeeded` webhooks of the test provider, each for its own pending
 * membership order, handled by the HTTP server on a SQLite file with synchronous=FULL; the same
 * through `handleWebhook` without HTTP; and the raw better-sqlite3 floor writing the same rows,
 * measured in the same run on the same file.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { migrateToLatest, openDatabase } from '../server/src/db/kysely.js';
import { systemClock } from '../server/src/lib/clock.js';
import type { Deps } from '../server/src/lib/deps.js';
import { handleWebhook } from '../server/src/modules/orders/index.js';
import { SIGNATURE_HEADER, signTestWebhook, testWebhookSecret } from '../server/src/modules/payments/index.js';
import { BENCH_CONFIG } from './config.js';
import { SetupClient, load, startChildServer, type LoadFigures } from './load.js';
import { seedMembers } from './seed.js';
import { ROWS_PER_WEBHOOK, rawWebhookBaseline, seedPendingOrders, type PendingOrder } from './webhook-baseline.js';

export interface WebhookOptions {
  /** Webhooks sent over HTTP (after `warmup` more). */
  httpWebhooks: number;
  warmup: number;
  connections: number;
  serviceWebhooks: number;
  rawWebhooks: number;
  log: (line: string) => void;
}

export interface WebhookResult {
  setup: { orders: number; sqliteSynchronous: string };
  http: { webhooksPerS: number; p50Ms: number; p99Ms: number; webhooks: number; non2xx: number; errors: number; vsRaw: number };
  service: { webhooksPerS: number; p50Ms: number; p99Ms: number; webhooks: number; vsRaw: number };
  raw: { webhooksPerS: number; rowsPerS: number; webhooks: number; rowsPerWebhook: number };
}

const WEBHOOK_PATH = '/api/v1/webhooks/test';
const TERM_DAYS = 30;
const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;

/** One signed delivery per order, signed now (the signature is good for 300 s). */
function signedEvents(orders: PendingOrder[], tag: string) {
  const secret = testWebhookSecret(BENCH_CONFIG.secret);
  const unix = Math.floor(Date.now() / 1000);
  return orders.map((o, i) => {
    const id = `evt_${tag}_${i}`;
    const body = JSON.stringify({ id, type: 'payment.succeeded', created: unix, data: { order_id: o.id, provider_ref: `tpay_${id}`, amount_minor: o.amountMinor, currency: o.currency } });
    return { body, signature: signTestWebhook(secret, body, unix) };
  });
}

export async function runWebhooks(o: WebhookOptions): Promise<WebhookResult> {
  const dir = mkdtempSync(join(tmpdir(), 'yutang-bench-money-'));
  const file = join(dir, 'bench.db');
  const handle = openDatabase(file);
  try {
    await migrateToLatest(handle.db);
    const sqlite = handle.sqlite!;
    const synchronous = String(sqlite.pragma('synchronous', { simple: true }));

    // ── Setup through the API, then members and pending orders straight into the file.
    const server = await startChildServer('yutang', file);
    let stopped = false;
    try {
      const owner = new SetupClient(server.url);
      const signup = await owner.call<{ workspaces: { id: string }[] }>('POST', '/api/v1/auth/signup', { email: 'owner@bench.test', password: 'correct horse battery', name: 'Owner' }, 201);
      const community = await owner.call<{ id: string }>('POST', `/api/v1/workspaces/${signup.workspaces[0]!.id}/communities`, { name: '付费社群', slug: 'paid', type: 'knowledge' }, 201);
      const cid = community.id;
      const group = await owner.call<{ id: string }>('POST', `/api/v1/communities/${cid}/groups`, { name: '会员群', capacity: 500 }, 201);
      const link = await owner.call<{ id: string }>('POST', `/api/v1/communities/${cid}/links`, { name: '公众号', channel: '公众号', group_ids: [group.id] }, 201);
      const product = await owner.call<{ id: string; price_minor: number; currency: string }>(
        'POST',
        `/api/v1/communities/${cid}/products`,
        { type: 'membership', name: '月度会员', price_minor: 3_000, term: 'days', term_days: TERM_DAYS, group_ids: [group.id] },
        201,
      );
      const total = o.warmup + o.httpWebhooks + o.serviceWebhooks + o.rawWebhooks;
      const seed = seedMembers(sqlite, { communityId: cid, linkId: link.id, channel: '公众号', firstGroupId: group.id, members: total, groupCapacity: 500 });
      const orders = seedPendingOrders(sqlite, { communityId: cid, productId: product.id, memberIds: seed.memberIds, amountMinor: product.price_minor, currency: product.currency, secret: BENCH_CONFIG.secret });
      const pools = { warmup: orders.slice(0, o.warmup), http: orders.slice(o.warmup, o.warmup + o.httpWebhooks) };
      const serviceOrders = orders.slice(o.warmup + o.httpWebhooks, o.warmup + o.httpWebhooks + o.serviceWebhooks);
      const rawOrders = orders.slice(o.warmup + o.httpWebhooks + o.serviceWebhooks);
      o.log(`seeded ${total} members with a pending order each`);

      // ── HTTP: every request a different signed event for a different order; each must pay it.
      const countPaid = (ids: PendingOrder[]) => {
        const paid = sqlite.prepare(`SELECT count(*) FROM orders WHERE id = ? AND status = 'paid' AND membership_id IS NOT NULL`).pluck();
        return ids.reduce((n, x) => n + Number(paid.get(x.id)), 0);
      };
      const httpRun = async (pool: PendingOrder[], tag: string): Promise<LoadFigures> => {
        const events = signedEvents(pool, tag);
        let i = 0;
        const figures = await load({
          url: server.url,
          connections: o.connections,
          amount: events.length,
          durationS: 0,
          headers: { 'content-type': 'application/json' },
          next: () => {
            const e = events[i++ % events.length]!;
            return { method: 'POST', path: WEBHOOK_PATH, body: e.body, headers: { [SIGNATURE_HEADER]: e.signature } };
          },
        });
        if (figures.errors || figures.non2xx) throw new Error(`${tag}: ${figures.errors} transport errors and ${figures.non2xx} non-2xx responses out of ${figures.requests}`);
        const paid = countPaid(pool);
        if (paid !== pool.length) throw new Error(`${tag}: ${paid} of ${pool.length} orders paid`);
        return figures;
      };
      await httpRun(pools.warmup, 'warmup');
      const http = await httpRun(pools.http, 'http');
      o.log(`HTTP: ${http.rps.toFixed(0)} webhooks/s, p50 ${http.latencyP50Ms} ms, p99 ${http.latencyP99Ms} ms`);
      await server.stop();
      stopped = true;

      // ── The service alone, sequentially, in this process.
      const deps: Deps = { db: handle.db, clock: systemClock, config: BENCH_CONFIG };
      const each: number[] = [];
      const events = signedEvents(serviceOrders, 'service');
      const started = performance.now();
      for (const e of events) {
        const t = performance.now();
        const r = await handleWebhook(deps, 'test', e.body, { [SIGNATURE_HEADER]: e.signature });
        each.push(performance.now() - t);
        if (r.outcome !== 'applied') throw new Error(`service: outcome ${r.outcome}`);
      }
      const serviceRate = (events.length / (performance.now() - started)) * 1000;
      each.sort((a, b) => a - b);
      if (countPaid(serviceOrders) !== serviceOrders.length) throw new Error('service: not every order was paid');
      o.log(`service: ${serviceRate.toFixed(0)} webhooks/s`);

      // ── The floor: the same writes, raw.
      const rawRate = rawWebhookBaseline(sqlite, { communityId: cid, productId: product.id, termDays: TERM_DAYS }, rawOrders);
      o.log(`raw better-sqlite3: ${rawRate.toFixed(0)} webhooks/s (${(rawRate * ROWS_PER_WEBHOOK).toFixed(0)} rows/s)`);

      return {
        setup: { orders: total, sqliteSynchronous: { '0': 'OFF', '1': 'NORMAL', '2': 'FULL', '3': 'EXTRA' }[synchronous] ?? synchronous },
        http: { webhooksPerS: http.rps, p50Ms: http.latencyP50Ms, p99Ms: http.latencyP99Ms, webhooks: http.requests, non2xx: http.non2xx, errors: http.errors, vsRaw: http.rps / rawRate },
        service: { webhooksPerS: serviceRate, p50Ms: percentile(each, 0.5), p99Ms: percentile(each, 0.99), webhooks: events.length, vsRaw: serviceRate / rawRate },
        raw: { webhooksPerS: rawRate, rowsPerS: rawRate * ROWS_PER_WEBHOOK, webhooks: rawOrders.length, rowsPerWebhook: ROWS_PER_WEBHOOK },
      };
    } finally {
      if (!stopped) await server.stop();
    }
  } finally {
    await handle.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
