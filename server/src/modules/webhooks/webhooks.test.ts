import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixedClock } from '../../lib/clock.js';
import { Client, createTestDb, describeEachDialect, expectOk, signUp, startServer, type TestDb, type TestServer } from '../../test/harness.js';
import { backoffMs, DISABLE_AFTER_FAILED_DELIVERIES, dispatchWebhooks, signWebhook, verifyWebhookSignature } from './index.js';

interface Received {
  path: string;
  delivery: string;
  signature: string;
  body: string;
  /** The fixed clock's unix time when it arrived, to verify the signature's timestamp against. */
  at: number;
  status: number;
}

/**
 * A receiver on a random port. `/flaky` answers 500 to the first 3 requests of each delivery id,
 * then 200; `/down` always 500; anything else 200.
 */
async function startReceiver(now: () => number) {
  const received: Received[] = [];
  const seen = new Map<string, number>();
  const server: Server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      const delivery = String(req.headers['yutang-delivery']);
      const n = (seen.get(delivery) ?? 0) + 1;
      seen.set(delivery, n);
      const status = req.url === '/down' || (req.url === '/flaky' && n <= 3) ? 500 : 200;
      received.push({ path: req.url!, delivery, signature: String(req.headers['yutang-signature']), body, at: now(), status });
      res.writeHead(status, { 'content-type': 'text/plain' }).end(status === 200 ? 'ok' : 'nope');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, received, close: () => new Promise<void>((r) => server.close(() => r())) };
}

const HOUR = 3600_000;

describeEachDialect('outbound webhooks', (dialect) => {
  const clock = fixedClock(new Date('2026-03-10T00:00:00Z'));
  const unix = () => Math.floor(clock.now().getTime() / 1000);
  let db: TestDb;
  let server: TestServer;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let owner: Client;
  let a: Awaited<ReturnType<typeof community>>;
  let b: Awaited<ReturnType<typeof community>>;

  async function community(slug: string) {
    const s = await signUp(server.url, `${slug}@example.com`);
    const cm = expectOk(await s.client.post(`/api/v1/workspaces/${s.workspaceId}/communities`, { name: slug, slug, type: 'interest' }), 201);
    const path = `/api/v1/communities/${cm.id}`;
    const key = expectOk(await s.client.post(`${path}/api-keys`, { name: 'crm', scopes: ['events:write'] }), 201);
    return { client: s.client, id: cm.id as string, path, writer: new Client(server.url, key.secret) };
  }
  const ingest = async (writer: Client, events: object[]) => {
    const r = expectOk(await writer.post('/api/v1/events', { events }));
    expect(r.results.every((x: any) => x.status === 'accepted'), JSON.stringify(r.results)).toBe(true);
  };
  const deliveriesOf = async (c: Client, path: string, webhookId: string) => expectOk(await c.get(`${path}/webhooks/${webhookId}/deliveries`)).deliveries;

  beforeAll(async () => {
    db = await createTestDb(dialect, clock);
    server = await startServer(db);
    receiver = await startReceiver(unix);
    a = await community('alpha');
    b = await community('bravo');
    owner = a.client;
  });
  afterAll(async () => {
    await server?.close();
    await receiver?.close();
    await db?.close();
  });

  it('writes no outbox rows for a community without subscriptions', async () => {
    await ingest(a.writer, [{ id: 'before', type: 'joined', member_external_id: 'zoe', occurred_at: '2026-03-09T01:00:00Z', group: 'g' }]);
    const rows = await db.handle.db.selectFrom('webhook_deliveries').select('id').execute();
    expect(rows).toEqual([]);
  });

  let flakyId: string;
  let flakySecret: string;
  let bSecret: string;

  it('delivers every event exactly once to a receiver that fails 3 times, across a restart and a lost lease', async () => {
    const created = expectOk(await owner.post(`${a.path}/webhooks`, { url: `${receiver.url}/flaky`, event_types: ['joined', 'message'] }), 201);
    flakyId = created.webhook.id;
    flakySecret = created.secret;
    expect(created.secret).toMatch(/^whsec_/);
    // The secret is shown once.
    expect(JSON.stringify(expectOk(await owner.get(`${a.path}/webhooks/${flakyId}`)))).not.toContain(flakySecret);
    const other = expectOk(await b.client.post(`${b.path}/webhooks`, { url: `${receiver.url}/bravo`, event_types: ['*'] }), 201);

    bSecret = other.secret;

    // Subscribed: 2 joins and a message; not: the leave, nor the group created by the first join.
    await ingest(a.writer, [
      { id: 'j1', type: 'joined', member_external_id: 'alice', occurred_at: '2026-03-09T02:00:00Z', group: 'g' },
      { id: 'm1', type: 'message', member_external_id: 'alice', occurred_at: '2026-03-09T03:00:00Z' },
      { id: 'j2', type: 'joined', member_external_id: 'bob', occurred_at: '2026-03-09T04:00:00Z', group: 'g' },
      { id: 'l1', type: 'left', member_external_id: 'zoe', occurred_at: '2026-03-09T05:00:00Z' },
    ]);
    await ingest(b.writer, [{ id: 'j1', type: 'joined', member_external_id: 'alice', occurred_at: '2026-03-09T02:00:00Z', group: 'other' }]);
    const expectedTypes = ['joined', 'joined', 'message'];

    // Round 1: every attempt fails.
    let report = await dispatchWebhooks(server.app.deps);
    expect([report.attempted, report.retrying]).toEqual([5, 3]); // 3 to alpha (500), 2 to bravo (group_created, joined: 200)
    let log = await deliveriesOf(owner, a.path, flakyId);
    expect(log.map((d: any) => [d.status, d.attempts, d.last_status_code, d.log.length])).toEqual([...Array(3)].map(() => ['pending', 1, 500, 1]));
    expect(log.every((d: any) => d.next_attempt_at > clock.now().toISOString())).toBe(true);

    // Round 2: two dispatchers at once (two nodes) send each delivery once.
    clock.advance(2 * HOUR);
    const both = await Promise.all([dispatchWebhooks(server.app.deps), dispatchWebhooks(server.app.deps)]);
    expect(both[0].attempted + both[1].attempted).toBe(3);

    // Round 3: the process dies after sending, before recording (the fetch never returns).
    clock.advance(2 * HOUR);
    void dispatchWebhooks(server.app.deps, { fetch: async (url, init) => (await fetch(url, init), new Promise<Response>(() => {})) });
    await waitFor(() => receiver.received.filter((r) => r.path === '/flaky').length === 9);
    await server.close();

    // A new server over the same database: the leases of the dead run hold for a while...
    server = await startServer(db);
    // The clients follow the server to its new port.
    for (const c of [owner, b.client, a.writer, b.writer]) Object.assign(c, { base: server.url });
    expect((await dispatchWebhooks(server.app.deps)).attempted).toBe(0);
    // ...then the deliveries are sent again, under the same delivery ids, and succeed.
    clock.advance(2 * 60_000);
    report = await dispatchWebhooks(server.app.deps);
    expect([report.attempted, report.succeeded]).toEqual([3, 3]);
    clock.advance(25 * HOUR);
    expect((await dispatchWebhooks(server.app.deps)).attempted).toBe(0);

    const flaky = receiver.received.filter((r) => r.path === '/flaky');
    // Every request was signed with the subscription's secret over the exact body.
    for (const r of flaky) expect(verifyWebhookSignature(flakySecret, r.signature, r.body, 300, r.at), r.signature).toBe(true);
    const ok = flaky.filter((r) => r.status === 200);
    const byDelivery = new Map<string, number>();
    for (const r of ok) byDelivery.set(r.delivery, (byDelivery.get(r.delivery) ?? 0) + 1);
    expect([...byDelivery.values()]).toEqual([1, 1, 1]);
    const bodies = ok.map((r) => JSON.parse(r.body));
    expect(new Set(bodies.map((x) => x.id)).size).toBe(3);
    expect(bodies.map((x) => x.type).sort()).toEqual(expectedTypes);
    expect(bodies.every((x) => x.community_id === a.id)).toBe(true);
    expect(bodies.find((x) => x.type === 'message')).toMatchObject({ occurred_at: '2026-03-09T03:00:00.000Z', data: { props: { ingest_id: 'm1' } } });
    // Each delivery id reached the receiver 4 times (3 failures, one of them unrecorded, then success).
    expect(flaky.length).toBe(12);

    log = await deliveriesOf(owner, a.path, flakyId);
    expect(log.map((d: any) => [d.status, d.attempts, d.log.map((x: any) => x.status_code)])).toEqual([...Array(3)].map(() => ['succeeded', 3, [500, 500, 200]]));
    for (const d of log) expect(d.log.every((x: any) => typeof x.duration_ms === 'number')).toBe(true);
  });

  it('sends a community’s events only to its own subscriptions', async () => {
    const bravo = receiver.received.filter((r) => r.path === '/bravo').map((r) => ({ ...r, json: JSON.parse(r.body) }));
    expect(bravo.map((r) => r.json.type).sort()).toEqual(['group_created', 'joined']);
    expect(bravo.every((r) => r.json.community_id === b.id && verifyWebhookSignature(bSecret, r.signature, r.body, 300, r.at))).toBe(true);
    // Alpha's secret does not verify Bravo's deliveries, nor a changed body.
    expect(verifyWebhookSignature(flakySecret, bravo[0]!.signature, bravo[0]!.body, 300, bravo[0]!.at)).toBe(false);
    expect(verifyWebhookSignature(bSecret, bravo[0]!.signature, bravo[0]!.body.replace('"id"', '"Id"'), 300, bravo[0]!.at)).toBe(false);
    // Nor a replay long after.
    expect(verifyWebhookSignature(bSecret, bravo[0]!.signature, bravo[0]!.body, 300, bravo[0]!.at + 301)).toBe(false);
    expect(receiver.received.filter((r) => r.path === '/flaky').every((r) => JSON.parse(r.body).community_id === a.id)).toBe(true);
    // Bravo cannot read or redeliver Alpha's deliveries.
    const [d] = await deliveriesOf(owner, a.path, flakyId);
    const foreign = await b.client.post(`${b.path}/webhooks/${flakyId}/deliveries/${d.id}/redeliver`);
    expect([foreign.status, foreign.body.code]).toEqual([404, 'webhook_not_found']);
  });

  it('redelivers by hand: a new delivery id, the same event id', async () => {
    const [d] = (await deliveriesOf(owner, a.path, flakyId)).filter((x: any) => x.event_type === 'message');
    const before = receiver.received.length;
    const again = expectOk(await owner.post(`${a.path}/webhooks/${flakyId}/deliveries/${d.id}/redeliver`), 202);
    expect([again.status, again.event_id, again.id === d.id]).toEqual(['pending', d.event_id, false]);
    expect((await dispatchWebhooks(server.app.deps)).attempted).toBe(1);
    const sent = receiver.received.slice(before);
    expect(sent.map((r) => [r.delivery, JSON.parse(r.body).id])).toEqual([[again.id, d.event_id]]);
  });

  it(`disables a subscription after ${DISABLE_AFTER_FAILED_DELIVERIES} deliveries in a row failed for 24 h, and resumes when enabled`, async () => {
    const down = expectOk(await owner.post(`${a.path}/webhooks`, { url: `${receiver.url}/down`, event_types: ['check_in'] }), 201);
    const n = DISABLE_AFTER_FAILED_DELIVERIES;
    await ingest(
      a.writer,
      Array.from({ length: n }, (_, i) => ({ id: `ci${i}`, type: 'check_in', member_external_id: 'alice', occurred_at: '2026-03-10T01:00:00Z' })),
    );
    const start = clock.now().getTime();
    let rounds = 0;
    while ((await deliveriesOf(owner, a.path, down.webhook.id)).some((d: any) => d.status === 'pending')) {
      await dispatchWebhooks(server.app.deps);
      clock.advance(2 * HOUR);
      if (++rounds > 40) throw new Error('deliveries never gave up');
    }
    const log = await deliveriesOf(owner, a.path, down.webhook.id);
    expect(log.map((d: any) => d.status)).toEqual(Array(n).fill('failed'));
    for (const d of log) {
      // Retried with growing gaps until the 24 h were over, the last attempt at or after them.
      const times = d.log.map((x: any) => Date.parse(x.attempted_at));
      expect(times.at(-1) - start).toBeGreaterThanOrEqual(24 * HOUR);
      expect(d.log.length).toBeGreaterThan(5);
      expect(d.log.every((x: any) => x.status_code === 500)).toBe(true);
    }
    const sub = expectOk(await owner.get(`${a.path}/webhooks/${down.webhook.id}`));
    expect([sub.status, sub.failed_deliveries_in_a_row]).toEqual(['disabled', n]);
    expect(sub.disabled_reason).toMatch(/in a row failed/);
    // Disabled: a new event makes no delivery; enabled again: the next one does.
    await ingest(a.writer, [{ id: 'ci-late', type: 'check_in', member_external_id: 'alice', occurred_at: '2026-03-12T01:00:00Z' }]);
    expect((await deliveriesOf(owner, a.path, down.webhook.id)).length).toBe(n);
    const enabled = expectOk(await owner.patch(`${a.path}/webhooks/${down.webhook.id}`, { status: 'active' }));
    expect([enabled.status, enabled.failed_deliveries_in_a_row]).toEqual(['active', 0]);
    await ingest(a.writer, [{ id: 'ci-later', type: 'check_in', member_external_id: 'alice', occurred_at: '2026-03-12T02:00:00Z' }]);
    expect((await deliveriesOf(owner, a.path, down.webhook.id)).length).toBe(n + 1);
    // And a deleted subscription is gone with its log.
    expectOk(await owner.delete(`${a.path}/webhooks/${down.webhook.id}`));
    expect((await owner.get(`${a.path}/webhooks/${down.webhook.id}`)).status).toBe(404);
  });
});

async function waitFor(cond: () => boolean) {
  for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setTimeout(r, 25));
  if (!cond()) throw new Error('condition never held');
}

describe('webhook backoff and signatures', () => {
  it('waits 30 s doubling to an hour, each wait between half and all of it', () => {
    const ceilings = [30, 60, 120, 240, 480, 960, 1920, 3600, 3600].map((s) => s * 1000);
    ceilings.forEach((ceiling, i) => {
      expect([backoffMs(i + 1, () => 0), backoffMs(i + 1, () => 1)], `after ${i + 1} failures`).toEqual([ceiling / 2, ceiling]);
    });
  });

  it('signs t.body with HMAC-SHA256 as Stripe does (checked against a hand-computed vector)', () => {
    // echo -n '1700000000.{"a":1}' | openssl dgst -sha256 -hmac whsec_test
    const header = signWebhook('whsec_test', '{"a":1}', 1700000000);
    expect(header).toBe('t=1700000000,v1=38877139021993b830af32feea6e18a8da83eb2f6e49ee50bd9e4cf4ca4d3789');
    expect(verifyWebhookSignature('whsec_test', header, '{"a":1}', 300, 1700000100)).toBe(true);
    expect(verifyWebhookSignature('whsec_test', `t=1700000000,v1=${'0'.repeat(64)},v1=${header.split('v1=')[1]}`, '{"a":1}', 300, 1700000000)).toBe(true);
    for (const bad of ['', 't=1700000000', 'v1=abc', 't=x,v1=abc', header.replace('t=1700000000', 't=1700000001')]) {
      expect(verifyWebhookSignature('whsec_test', bad, '{"a":1}', 300, 1700000000), bad).toBe(false);
    }
  });
});
