import type { Kysely } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  Client,
  createTestDb,
  describeEachDialect,
  expectOk,
  signUp,
  TEST_PASSWORD,
  startServer,
  type ApiResponse,
  type TestDb,
  type TestServer,
} from '../test/harness.js';
import type { RouteInfo } from '../app.js';

/**
 * Every write endpoint rejects unknown fields and wrong types with problem+json naming the field,
 * before anything is written. Each body-taking route needs a valid body in the table below, so a
 * new route fails this test until it is added.
 */

const WRITE_METHODS = new Set(['POST', 'PUT', 'PATCH']);

/**
 * Write routes that declare no body: they act on the session or the path alone and ignore any body
 * sent. The test checks that they really declare none, so a route that gains a body must move to
 * the table.
 */
const BODYLESS_WRITES: string[] = ['POST /api/v1/public/checkout/:token/fail', 'POST /api/v1/communities/:communityId/webhooks/:webhookId/deliveries/:deliveryId/redeliver'];

/**
 * Webhooks whose body is the provider's, in the provider's format: no schema, the signature vouches
 * for it, and nothing is parsed before it is verified (see stripe.test.ts for their refusals).
 */
const SIGNED_RAW_WRITES: string[] = ['POST /api/v1/webhooks/stripe', 'POST /api/v1/webhooks/wechatpay', 'POST /api/v1/webhooks/alipay'];

interface World {
  owner: Client;
  workspaceId: string;
  communityId: string;
  groupId: string;
  linkId: string;
  linkCode: string;
  memberId: string;
  memberToken: string;
  applicationId: string;
  productId: string;
  orderId: string;
  checkoutToken: string;
  eventsKey: string;
}

interface BodyCase {
  /** A body the route accepts as it is. */
  valid: Record<string, unknown>;
  /** One field of it with a value of the wrong type. */
  wrong: [field: string, value: unknown];
}

/** A valid body per route, and a wrong-typed field; hand-written from the contracts. */
const bodyCases = (w: World): Record<string, BodyCase> => ({
  'POST /api/v1/auth/signup': { valid: { email: 'newcomer@example.com', password: TEST_PASSWORD, name: 'Newcomer' }, wrong: ['name', 123] },
  'POST /api/v1/auth/login': { valid: { email: 'owner@example.com', password: TEST_PASSWORD }, wrong: ['email', 123] },
  'POST /api/v1/auth/logout': { valid: { everywhere: false }, wrong: ['everywhere', 'yes'] },
  'POST /api/v1/auth/password': { valid: { current_password: TEST_PASSWORD, new_password: 'another long password' }, wrong: ['new_password', 1234567890123] },
  'POST /api/v1/workspaces': { valid: { name: 'Second brand' }, wrong: ['name', { zh: '品牌' }] },
  'POST /api/v1/workspaces/:workspaceId/communities': { valid: { name: 'Readers', slug: 'readers', type: 'knowledge' }, wrong: ['slug', 42] },
  'PATCH /api/v1/communities/:communityId': { valid: { name: 'Renamed', renewal_grace_days: 14 }, wrong: ['renewal_grace_days', '14'] },
  'PUT /api/v1/communities/:communityId/threshold': { valid: { mode: 'any', criteria: [{ type: 'free' }] }, wrong: ['criteria', { type: 'free' }] },
  'PUT /api/v1/communities/:communityId/analytics/settings': { valid: { churn: { inactive_days: 21 } }, wrong: ['churn', 'three weeks'] },
  'POST /api/v1/communities/:communityId/staff': { valid: { email: 'owner@example.com', role: 'leader' }, wrong: ['role', 5] },
  'POST /api/v1/communities/:communityId/groups': { valid: { name: '新群', capacity: 10 }, wrong: ['capacity', 'ten'] },
  'PATCH /api/v1/communities/:communityId/groups/:groupId': { valid: { name: '改名', archived: true }, wrong: ['archived', 'yes'] },
  'POST /api/v1/communities/:communityId/links': { valid: { name: '朋友圈', channel: '朋友圈', group_ids: [w.groupId] }, wrong: ['group_ids', w.groupId] },
  'PATCH /api/v1/communities/:communityId/links/:linkId': { valid: { disabled: true, max_uses: 5 }, wrong: ['max_uses', '5'] },
  'POST /api/v1/communities/:communityId/members/:memberId/remove': { valid: { reason: 'spam', ban: true }, wrong: ['ban', 'true'] },
  'POST /api/v1/communities/:communityId/members/:memberId/memberships': { valid: { product_id: w.productId }, wrong: ['product_id', 42] },
  'POST /api/v1/communities/:communityId/applications/:applicationId/review': { valid: { decision: 'approve' }, wrong: ['decision', true] },
  'POST /api/v1/public/links/:code/join': { valid: { name: 'Joiner', profile: { city: '上海' } }, wrong: ['profile', 'city=上海'] },
  'POST /api/v1/public/links/:code/visits': { valid: { source: 'poster' }, wrong: ['source', 7] },
  'POST /api/v1/member/onboarding/rules': { valid: { accepted: true }, wrong: ['accepted', 'true'] },
  'POST /api/v1/member/onboarding/nickname': { valid: { nickname: '上海-教育-小明' }, wrong: ['nickname', 123] },
  'POST /api/v1/member/onboarding/introduction': { valid: { text: '我是小明，来自上海，在学校教数学' }, wrong: ['text', ['我是小明']] },
  // An empty body is valid here; an unknown field still is not.
  'POST /api/v1/member/leave': { valid: {}, wrong: ['reason', 123] },
  'POST /api/v1/communities/:communityId/products': { valid: { type: 'membership', name: 'VIP', price_minor: 9900, term: 'annual' }, wrong: ['price_minor', '99.00'] },
  'POST /api/v1/member/orders': { valid: { product_id: w.productId, allow_duplicate: true }, wrong: ['allow_duplicate', 'yes'] },
  'POST /api/v1/communities/:communityId/orders/:orderId/refunds': { valid: { amount_minor: 100, reason: 'duplicate' }, wrong: ['amount_minor', '1.00'] },
  'POST /api/v1/member/memberships/:membershipId/cancel': { valid: { reason: 'too busy' }, wrong: ['reason', 42] },
  'POST /api/v1/member/memberships/:membershipId/pause': { valid: { until: '2030-01-01T00:00:00Z' }, wrong: ['until', 'next month'] },
  'POST /api/v1/member/memberships/:membershipId/auto-renew': { valid: { enabled: true }, wrong: ['enabled', 'on'] },
  // An empty body pays too; a bad one is refused before anything is paid.
  'POST /api/v1/public/checkout/:token/pay': { valid: { save_method: 'ok' }, wrong: ['save_method', 'sometimes'] },
  'POST /api/v1/communities/:communityId/memberships/:membershipId/pause': { valid: { until: '2030-01-01T00:00:00Z' }, wrong: ['until', 1893456000] },
  'POST /api/v1/member/memberships/:membershipId/upgrade': { valid: { product_id: w.productId }, wrong: ['product_id', 42] },
  'POST /api/v1/communities/:communityId/memberships/:membershipId/upgrade': { valid: { product_id: w.productId }, wrong: ['product_id', ['prd_1']] },
  // Validation comes before the signature check: a malformed event is refused without being logged.
  'POST /api/v1/webhooks/test': { valid: { id: 'evt_1', type: 'payment.succeeded', created: 1, data: { order_id: w.orderId } }, wrong: ['created', 'yesterday'] },
  'POST /api/v1/communities/:communityId/api-keys': { valid: { name: 'crm', scopes: ['read'] }, wrong: ['scopes', 'read'] },
  'POST /api/v1/communities/:communityId/webhooks': { valid: { url: 'https://crm.example.com/hook', event_types: ['joined'] }, wrong: ['event_types', 'joined'] },
  'PATCH /api/v1/communities/:communityId/webhooks/:webhookId': { valid: { description: 'crm', status: 'disabled' }, wrong: ['status', 'paused'] },
  // Items are answered one by one; only the envelope is validated as a whole.
  'POST /api/v1/events': { valid: { events: [{ id: 'e1', type: 'message', member_external_id: 'x', occurred_at: '2026-01-01T00:00:00Z' }] }, wrong: ['events', 'all of them'] },
  'POST /api/v1/communities/:communityId/identities/merge': { valid: { member_id: w.memberId, from_member_id: 'mem_other' }, wrong: ['from_member_id', 42] },
  'POST /api/v1/communities/:communityId/identities/split': { valid: { identity_id: 'idn_none' }, wrong: ['identity_id', ['idn_1']] },
  'POST /api/v1/communities/:communityId/members/import': { valid: { csv: 'external_id,name\nx1,X\n' }, wrong: ['csv', 42] },
});

const keyOf = (r: { method: string; url: string }) => `${r.method} ${r.url}`;
const isProblem = (r: ApiResponse) => (r.headers.get('content-type') ?? '').startsWith('application/problem+json');
const fieldsOf = (r: ApiResponse) => ((r.body as { errors?: { field: string }[] }).errors ?? []).map((e) => e.field);

/** Every row of every table, to prove that a rejected request wrote nothing anywhere. */
async function dbDump(db: TestDb) {
  const k = db.handle.db as unknown as Kysely<any>;
  const tables = (await k.introspection.getTables()).map((x) => x.name).filter((n) => !n.startsWith('yutang_migrations')).sort();
  const out: Record<string, string[]> = {};
  for (const table of tables) out[table] = ((await k.selectFrom(table).selectAll().execute()) as unknown[]).map((r) => JSON.stringify(r)).sort();
  return out;
}

async function apiSnapshot(w: World) {
  const c = `/api/v1/communities/${w.communityId}`;
  const out: Record<string, unknown> = {};
  for (const p of ['/api/v1/auth/me', '/api/v1/workspaces', `/api/v1/workspaces/${w.workspaceId}/communities`, c, `${c}/staff`, `${c}/groups`, `${c}/links`, `${c}/members?limit=200`, `${c}/applications`, `${c}/products`, `${c}/api-keys`, `${c}/events?limit=1000`]) {
    out[p] = expectOk(await w.owner.get(p));
  }
  out['member self'] = expectOk(await new Client(w.owner.base, w.memberToken).get('/api/v1/member'));
  return out;
}

/** Sends raw text as the body, with the client's cookie and CSRF token. */
async function sendRaw(c: Client, method: string, path: string, text: string, contentType = 'application/json') {
  const headers: Record<string, string> = { 'content-type': contentType };
  if (c.cookies.size) headers.cookie = [...c.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  if (c.csrf) headers['x-csrf-token'] = c.csrf;
  if (c.bearer) headers.authorization = `Bearer ${c.bearer}`;
  const res = await fetch(c.base + path, { method, headers, body: text });
  const type = res.headers.get('content-type') ?? '';
  const body = await res.text();
  return { status: res.status, headers: res.headers, body: type.includes('json') ? JSON.parse(body) : body } as ApiResponse;
}

describeEachDialect('bad input: write endpoints reject unknown fields and wrong types, writing nothing', (dialect) => {
  let db: TestDb;
  let server: TestServer;
  let w: World;
  let routes: RouteInfo[];
  let cases: Record<string, BodyCase>;
  let beforeDb: Record<string, string[]>;
  let beforeApi: Record<string, unknown>;
  let stranger: Client;

  beforeAll(async () => {
    db = await createTestDb(dialect);
    server = await startServer(db);
    const { client: owner, workspaceId } = await signUp(server.url, 'owner@example.com', 'Owner');
    const community = expectOk(
      await owner.post(`/api/v1/workspaces/${workspaceId}/communities`, {
        name: '读书会',
        slug: 'books',
        type: 'interest',
        rules: { nickname_format: '城市-行业-姓名' },
      }),
      201,
    );
    const c = `/api/v1/communities/${community.id}`;
    const group = expectOk(await owner.post(`${c}/groups`, { name: '一群', capacity: 10 }), 201);
    const reviewGroup = expectOk(await owner.post(`${c}/groups`, { name: '审核群', threshold: { criteria: [{ type: 'application' }] } }), 201);
    const link = expectOk(await owner.post(`${c}/links`, { name: '公众号', channel: '公众号', group_ids: [group.id] }), 201);
    const reviewLink = expectOk(await owner.post(`${c}/links`, { name: 'partner', channel: 'partner', group_ids: [reviewGroup.id] }), 201);
    const joined = expectOk(await new Client(server.url).post(`/api/v1/public/links/${link.code}/join`, { name: '小明' }));
    const applied = expectOk(await new Client(server.url).post(`/api/v1/public/links/${reviewLink.code}/join`, { name: '小红' }));
    expect(applied.application.status).toBe('pending');
    const product = expectOk(await owner.post(`${c}/products`, { type: 'membership', name: 'VIP', price_minor: 9900, term: 'annual' }), 201);
    expectOk(await owner.post(`${c}/api-keys`, { name: 'crm', scopes: ['read'] }), 201);
    const eventsKey = expectOk(await owner.post(`${c}/api-keys`, { name: 'ingest', scopes: ['events:write'] }), 201).secret;
    // Used once now, so its last_used_at (kept per minute) does not change during the test.
    expect((await new Client(server.url, eventsKey).post('/api/v1/events', {})).status).toBe(400);
    const order = expectOk(await new Client(server.url, joined.member_token).request('POST', '/api/v1/member/orders', { product_id: product.id }, { 'idempotency-key': 'k1' }), 201);
    w = {
      owner,
      workspaceId,
      communityId: community.id,
      groupId: group.id,
      linkId: link.id,
      linkCode: link.code,
      memberId: joined.member.id,
      memberToken: joined.member_token,
      applicationId: applied.application.id,
      productId: product.id,
      orderId: order.id,
      checkoutToken: new URL(order.checkout_url).pathname.split('/').pop()!,
      eventsKey,
    };
    stranger = (await signUp(server.url, 'stranger@example.com')).client;
    routes = server.app.routeTable;
    cases = bodyCases(w);
    beforeDb = await dbDump(db);
    beforeApi = await apiSnapshot(w);
    // group_created ×2, applied ×2, joined ×1, order_created ×1: the baseline holds real data.
    expect(beforeDb.events!.length).toBe(6);
  });
  afterAll(async () => {
    await server?.close();
    await db?.close();
  });

  /** The path with this world's ids, and the client the route's access rule admits. */
  function target(r: RouteInfo): { path: string; client: Client } {
    const ids: Record<string, string> = {
      workspaceId: w.workspaceId,
      communityId: w.communityId,
      groupId: w.groupId,
      linkId: w.linkId,
      memberId: w.memberId,
      applicationId: w.applicationId,
      orderId: w.orderId,
      code: w.linkCode,
      token: w.checkoutToken,
      // Bodies are validated before any lookup, so no membership needs to exist.
      membershipId: 'msp_none',
      webhookId: 'whk_none',
      deliveryId: 'whd_none',
    };
    const path = r.url.replace(/:(\w+)/g, (_, p: string) => {
      if (!ids[p]) throw new Error(`no value for :${p} of ${r.url}`);
      return ids[p];
    });
    const client =
      r.access.kind === 'public'
        ? new Client(server.url)
        : r.access.kind === 'member'
          ? new Client(server.url, w.memberToken)
          : r.access.kind === 'apikey'
            ? new Client(server.url, w.eventsKey)
            : w.owner;
    return { path, client };
  }

  const writeRoutes = () => routes.filter((r) => WRITE_METHODS.has(r.method));

  it('has a body case for every write route that takes a body, and only those', () => {
    const doc = server.app.swagger() as { paths: Record<string, Record<string, { requestBody?: unknown }>> };
    const takesBody = (r: RouteInfo) => {
      const op = doc.paths[r.url.replace(/:(\w+)/g, '{$1}')]?.[r.method.toLowerCase()];
      if (!op) throw new Error(`${keyOf(r)} is missing from the OpenAPI document`);
      return !!op.requestBody;
    };
    const withBody = writeRoutes().filter(takesBody).map(keyOf).sort();
    const without = writeRoutes().filter((r) => !takesBody(r)).map(keyOf).sort();
    expect(withBody).toEqual(Object.keys(cases).sort());
    expect(without).toEqual([...BODYLESS_WRITES, ...SIGNED_RAW_WRITES].sort());
    // 25 body-taking write routes when this was written: the table cannot be silently empty.
    expect(withBody.length).toBeGreaterThanOrEqual(25);
  });

  it('rejects an unknown field next to a valid body, naming only that field', async () => {
    const failures: string[] = [];
    for (const r of writeRoutes()) {
      const c = cases[keyOf(r)];
      if (!c) continue;
      const { path, client } = target(r);
      const res = await client.request(r.method, path, { ...c.valid, zzz_unknown: 1 });
      if (res.status !== 400 || !isProblem(res) || res.body.code !== 'validation_failed' || JSON.stringify(fieldsOf(res)) !== '["zzz_unknown"]') {
        failures.push(`${keyOf(r)} → ${res.status} ${JSON.stringify(res.body)}`);
      }
    }
    expect(failures).toEqual([]);
  });

  it('rejects a wrong-typed field, naming only that field', async () => {
    const failures: string[] = [];
    for (const r of writeRoutes()) {
      const c = cases[keyOf(r)];
      if (!c) continue;
      const [field, value] = c.wrong;
      const { path, client } = target(r);
      const res = await client.request(r.method, path, { ...c.valid, [field]: value });
      if (res.status !== 400 || !isProblem(res) || res.body.code !== 'validation_failed' || JSON.stringify(fieldsOf(res)) !== JSON.stringify([field])) {
        failures.push(`${keyOf(r)} (${field}: ${JSON.stringify(value)}) → ${res.status} ${JSON.stringify(res.body)}`);
      }
    }
    expect(failures).toEqual([]);
  });

  it('names nested and query fields by their path', async () => {
    const c = `/api/v1/communities/${w.communityId}`;
    const nested = await w.owner.patch(c, { rules: { welcome_message: 'hi', zzz_unknown: 1 } });
    expect([nested.status, nested.body.code, fieldsOf(nested)]).toEqual([400, 'validation_failed', ['rules.zzz_unknown']]);
    const deep = await w.owner.put(`${c}/threshold`, { criteria: [{ type: 'invitation', count: 'three' }] });
    expect([deep.status, fieldsOf(deep)]).toEqual([400, ['criteria.0.count']]);
    const query = await w.owner.get(`${c}/members?zzz_unknown=1`);
    expect([query.status, query.body.code, fieldsOf(query)]).toEqual([400, 'validation_failed', ['query.zzz_unknown']]);
    expect(isProblem(query)).toBe(true);
    const limit = await w.owner.get(`${c}/events?limit=abc`);
    expect([limit.status, fieldsOf(limit)]).toEqual([400, ['query.limit']]);
    const metrics = await w.owner.get(`${c}/metrics?from=2026-01-01&to=2026-13-01`);
    expect([metrics.status, metrics.body.code, fieldsOf(metrics)]).toEqual([400, 'validation_failed', ['query.to']]);
    const kpis = await w.owner.get(`${c}/analytics/kpis?from=2026-01-01&to=2026-02-01&split=planet`);
    expect([kpis.status, kpis.body.code, fieldsOf(kpis)]).toEqual([400, 'validation_failed', ['query.split']]);
    const identities = await w.owner.get(`${c}/identities?platform=myspace`);
    expect([identities.status, identities.body.code, fieldsOf(identities)]).toEqual([400, 'validation_failed', ['query.platform']]);
    const analytics: [string, string][] = [
      [`${c}/analytics/members?from=2026-01-01&to=2026-13-01`, 'query.to'],
      [`${c}/analytics/members?from=2026-01-01&to=2026-02-01&level=vip`, 'query.level'],
      [`${c}/analytics/members?from=2026-01-01&to=2026-02-01&archetype=troll`, 'query.archetype'],
      [`${c}/analytics/members?from=2026-02-01&to=2026-01-01`, 'query.to'],
      [`${c}/analytics/churn-risk?as_of=2026-02-30`, 'query.as_of'],
      [`${c}/analytics/churn-risk`, 'query.as_of'],
      [`${c}/analytics/group-health?from=2026-1-1&to=2026-02-01`, 'query.from'],
    ];
    for (const [path, field] of analytics) {
      const r = await w.owner.get(path);
      expect([r.status, r.body.code, fieldsOf(r)], path).toEqual([400, 'validation_failed', [field]]);
    }
    const settings = await w.owner.put(`${c}/analytics/settings`, { fan_levels: { true_fan_min_met: 9 } });
    expect([settings.status, settings.body.code, fieldsOf(settings)]).toEqual([400, 'validation_failed', ['fan_levels.true_fan_min_met']]);
    const order = await w.owner.put(`${c}/analytics/settings`, { fan_levels: { fan_min_met: 5, true_fan_min_met: 3 } });
    expect([order.status, fieldsOf(order)]).toEqual([400, ['fan_levels.fan_min_met']]);
    const reports: [string, string][] = [
      [`${c}/analytics/money-formula?from=2026-02-30&to=2026-03-01`, 'query.from'],
      [`${c}/analytics/money-formula?from=2026-02-01&to=2026-02-01`, 'query.to'],
      [`${c}/analytics/referrers?from=2026-02-01`, 'query.to'],
      [`${c}/analytics/referrers?from=2026-02-01&to=2026-03-01&zzz=1`, 'query.zzz'],
      [`${c}/metrics/explain?from=2026-02-01&to=2026-03-01`, 'query.metric'],
      [`${c}/metrics/explain?from=2026-02-01&to=2026-03-01&metric=dau`, 'query.metric'],
      [`${c}/metrics/explain?from=2026-02-01&to=2026-03-01&metric=gmv&part=total`, 'query.part'],
      [`${c}/metrics/explain?from=2026-02-01&to=2026-03-01&metric=joins&part=denominator`, 'query.part'],
      [`${c}/metrics/explain?from=2026-02-01&to=2026-03-01&metric=joins&format=xlsx`, 'query.format'],
      [`${c}/metrics.csv?from=2026-02-01&to=2026-02-30`, 'query.to'],
      [`${c}/metrics.csv?from=2026-02-01&to=2026-03-01&split=group`, 'query.split'],
    ];
    for (const [url, field] of reports) {
      const r = await w.owner.get(url);
      expect([r.status, r.body.code, fieldsOf(r)], url).toEqual([400, 'validation_failed', [field]]);
    }
    for (const [path, field] of [
      ['analytics/cohorts?from=2026-01-01&to=2026-02-01&granularity=year', 'query.granularity'],
      ['analytics/lifecycle?from=2026-01-01&to=2026-13-01', 'query.to'],
      ['analytics/funnel?from=2026-01-01&to=2026-02-01&window_days=abc', 'query.window_days'],
    ]) {
      const r = await w.owner.get(`${c}/${path}`);
      expect([r.status, r.body.code, fieldsOf(r)], path).toEqual([400, 'validation_failed', [field]]);
    }
  });

  it('checks access before input: a stranger learns nothing about the body schema', async () => {
    const anonymous = await new Client(server.url).patch(`/api/v1/communities/${w.communityId}`, { zzz_unknown: 1 });
    expect([anonymous.status, anonymous.body.code]).toEqual([401, 'unauthenticated']);
    const strange = await stranger.patch(`/api/v1/communities/${w.communityId}`, { zzz_unknown: 1 });
    expect([strange.status, strange.body.code]).toEqual([404, 'community_not_found']);
    expect(isProblem(strange)).toBe(true);
  });

  it('answers malformed JSON with invalid_json', async () => {
    for (const [client, method, path] of [
      [w.owner, 'PATCH', `/api/v1/communities/${w.communityId}`],
      [new Client(server.url), 'POST', '/api/v1/auth/signup'],
      [new Client(server.url, w.memberToken), 'POST', '/api/v1/member/onboarding/rules'],
    ] as const) {
      for (const text of ['{"name": ', '{name: 1}', '']) {
        const res = await sendRaw(client, method, path, text);
        expect([res.status, res.body.code], `${method} ${path} ${JSON.stringify(text)}`).toEqual([400, 'invalid_json']);
        expect(isProblem(res)).toBe(true);
      }
    }
    // A body that is JSON but not an object is a validation error of the body itself.
    const array = await w.owner.patch(`/api/v1/communities/${w.communityId}`, [1, 2]);
    expect([array.status, array.body.code, fieldsOf(array)]).toEqual([400, 'validation_failed', ['body']]);
  });

  it('answers unknown routes and methods with route_not_found', async () => {
    for (const [method, path] of [
      ['GET', '/api/v1/nope'],
      ['POST', '/api/v1/communities'],
      ['DELETE', `/api/v1/communities/${w.communityId}`],
      ['GET', `/api/v1/communities/${w.communityId}/groups/${w.groupId}/nope`],
    ] as const) {
      const res = await w.owner.request(method, path, method === 'POST' ? {} : undefined);
      expect([res.status, res.body.code], `${method} ${path}`).toEqual([404, 'route_not_found']);
      expect(isProblem(res)).toBe(true);
    }
  });

  it('wrote nothing', async () => {
    expect(await dbDump(db)).toEqual(beforeDb);
    expect(await apiSnapshot(w)).toEqual(beforeApi);
  });
});
