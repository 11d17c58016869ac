// Test helpers for the money suites: a community with a way in, members
// who buy through the API, the test provider's checkout and signed webhook deliveries.
import { expect } from 'vitest';
import { Client, expectOk, signUp, type TestDb, type TestServer } from './harness.js';
import { signTestWebhook, testWebhookSecret } from '../modules/payments/index.js';

export interface Shop {
  owner: Client;
  /** The owner's API key: unlike a session, it outlives tests that move the clock by months. */
  staff: Client;
  communityId: string;
  base: string;
  linkCode: string;
}

let shops = 0;

export async function openShop(server: Pick<TestServer, 'url'>): Promise<Shop> {
  const n = ++shops;
  const { client: owner, workspaceId } = await signUp(server.url, `owner${n}-${Date.now()}@example.com`, 'Owner');
  const community = expectOk(await owner.post(`/api/v1/workspaces/${workspaceId}/communities`, { name: '读书会', slug: `books-${n}-${Date.now().toString(36)}`, type: 'knowledge' }), 201);
  const c = `/api/v1/communities/${community.id}`;
  const group = expectOk(await owner.post(`${c}/groups`, { name: '一群', capacity: 1000 }), 201);
  const link = expectOk(await owner.post(`${c}/links`, { name: '公众号', channel: '公众号', group_ids: [group.id] }), 201);
  const key = expectOk(await owner.post(`${c}/api-keys`, { name: 'tests', scopes: ['read', 'write'] }), 201);
  return { owner, staff: new Client(server.url, key.secret), communityId: community.id, base: c, linkCode: link.code };
}

export async function addProduct(shop: Shop, body: Record<string, unknown>): Promise<{ id: string; price_minor: number }> {
  return expectOk(await shop.owner.post(`${shop.base}/products`, body), 201);
}

/** A person who joined through the shop's link; their client carries the member token. */
export async function addMember(server: Pick<TestServer, 'url'>, shop: Shop, name: string): Promise<{ id: string; client: Client }> {
  const joined = expectOk(await new Client(server.url).post(`/api/v1/public/links/${shop.linkCode}/join`, { name }));
  return { id: joined.member.id, client: new Client(server.url, joined.member_token) };
}

/** `allowDuplicate`: the member confirmed buying again what they hold or already have an order for; `provider`: the one they pick. */
export interface BuyOptions {
  allowDuplicate?: boolean;
  provider?: string;
}

export const buy = (member: Client, productId: string, key: string, opts: BuyOptions = {}) =>
  member.request(
    'POST',
    '/api/v1/member/orders',
    { product_id: productId, ...(opts.provider ? { provider: opts.provider } : {}), ...(opts.allowDuplicate ? { allow_duplicate: true } : {}) },
    { 'idempotency-key': key },
  );

export const tokenOf = (order: { checkout_url: string }) => new URL(order.checkout_url).pathname.split('/').pop()!;

/** Clicks Pay (optionally saving the method: `{ save_method: 'ok' | 'declines' }`) or Fail on the test checkout. */
export const clickPay = (server: TestServer, order: { checkout_url: string }, outcome: 'pay' | 'fail' = 'pay', body: object = {}) =>
  new Client(server.url).post(`/api/v1/public/checkout/${tokenOf(order)}/${outcome}`, body);

/** Buys and pays through the checkout; returns the paid order. */
export async function buyAndPay(server: TestServer, member: Client, productId: string, key: string, opts: BuyOptions = {}) {
  const order = expectOk(await buy(member, productId, key, opts), 201);
  expect(expectOk(await clickPay(server, order)).status).toBe('paid');
  return order as { id: string; amount_minor: number; currency: string; checkout_url: string };
}

export const refund = (shop: Shop, orderId: string, body: { amount_minor: number; reason: string }, key: string) =>
  shop.staff.request('POST', `${shop.base}/orders/${orderId}/refunds`, body, { 'idempotency-key': key });

/** Delivers a webhook to the test endpoint, signed with the install's secret unless told otherwise. */
export async function deliver(
  server: TestServer,
  db: TestDb,
  event: unknown,
  opts: { unix?: number; secret?: string; header?: string | null; raw?: string } = {},
): Promise<{ status: number; body: any }> {
  const raw = opts.raw ?? JSON.stringify(event);
  const unix = opts.unix ?? Math.floor(db.deps.clock.now().getTime() / 1000);
  const header = opts.header === undefined ? signTestWebhook(opts.secret ?? testWebhookSecret(db.deps.config.secret), JSON.stringify(event), unix) : opts.header;
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (header !== null) headers['yutang-signature'] = header;
  const res = await fetch(`${server.url}/api/v1/webhooks/test`, { method: 'POST', headers, body: raw });
  return { status: res.status, body: await res.json() };
}

export const paidEvent = (id: string, order: { id: string; amount_minor: number; currency: string }, ref = `tpay_${id}`) => ({
  id,
  type: 'payment.succeeded',
  created: 1,
  data: { order_id: order.id, provider_ref: ref, amount_minor: order.amount_minor, currency: order.currency },
});

/** A refund webhook of the test provider; `refundId` echoes our refund id, as providers do for refunds we asked for. */
export const refundEvent = (
  id: string,
  type: 'refund.succeeded' | 'refund.failed',
  order: { id: string; amount_minor: number; currency: string },
  r: { ref: string; refundId?: string; amount?: number; reason?: string },
) => ({
  id,
  type,
  created: 1,
  data: {
    order_id: order.id,
    refund_ref: r.ref,
    ...(r.refundId ? { refund_id: r.refundId } : {}),
    ...(type === 'refund.succeeded' ? { amount_minor: r.amount ?? order.amount_minor, currency: order.currency } : { reason: r.reason ?? 'declined' }),
  },
});

/** What the database holds about one order's effects, straight from the tables. */
export async function effectsOf(db: TestDb, orderId: string) {
  const k = db.handle.db;
  const entries = await k.selectFrom('ledger_entries').selectAll().where('order_id', '=', orderId).orderBy('id').execute();
  const events = await k.selectFrom('events').select(['type', 'props']).where('type', 'in', ['order_paid', 'order_refunded', 'membership_granted', 'membership_revoked']).execute();
  const mine = events.filter((e) => JSON.stringify(e.props).includes(orderId)).map((e) => e.type).sort();
  const byAccount: Record<string, number> = {};
  for (const e of entries) byAccount[e.account] = (byAccount[e.account] ?? 0) + Number(e.amount_minor);
  return {
    order: await k.selectFrom('orders').selectAll().where('id', '=', orderId).executeTakeFirstOrThrow(),
    entries: entries.length,
    sum: entries.reduce((s, e) => s + Number(e.amount_minor), 0),
    byAccount,
    events: mine,
    memberships: await k.selectFrom('memberships').selectAll().where('order_id', '=', orderId).execute(),
  };
}

/** Runs `tasks` with at most `width` in flight. */
export async function pool<T>(tasks: (() => Promise<T>)[], width: number): Promise<T[]> {
  const out: T[] = new Array(tasks.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(width, tasks.length) }, async () => {
      while (next < tasks.length) {
        const i = next++;
        out[i] = await tasks[i]!();
      }
    }),
  );
  return out;
}
