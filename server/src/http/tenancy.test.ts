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
import { importChat, parseTelegram } from '../modules/imports/index.js';

/**
 * Tenant isolation, route by route: every route the server registers is called by a second tenant
 * (B) with the first tenant's (A) ids, and must refuse with 403/404 problem+json and change nothing.
 * A new route fails this test until it carries a tenancy check (or is reviewed into the public
 * allowlist below).
 */

const WRITE_METHODS = new Set(['POST', 'PUT', 'PATCH']);

/**
 * Routes anyone may call, reviewed one by one. None takes a tenant id: at most a link code, which
 * is public by design (it is printed on posters). A new public route must be reviewed and added.
 */
const PUBLIC_ROUTES = [
  'GET /',
  'GET /healthz',
  'GET /openapi.json',
  'GET /docs',
  'GET /docs/json',
  'GET /docs/yaml',
  'GET /docs/static/index.html',
  'GET /docs/static/swagger-initializer.js',
  'GET /docs/static/*',
  'POST /api/v1/auth/signup',
  'POST /api/v1/auth/login',
  'GET /api/v1/public/links/:code',
  'POST /api/v1/public/links/:code/visits',
  'POST /api/v1/public/links/:code/join',
  'GET /j/:code',
  'GET /j/:code/qr.svg',
  // The test provider's checkout: reached by the order's unguessable token, never by its id.
  'GET /pay/:token',
  'POST /api/v1/public/checkout/:token/pay',
  'POST /api/v1/public/checkout/:token/fail',
  // Where a provider's payment page sends the member back: a static page, no order named.
  'GET /pay/return',
  // Authenticated by the provider's signature, not by a caller.
  'POST /api/v1/webhooks/test',
  'POST /api/v1/webhooks/stripe',
  'POST /api/v1/webhooks/wechatpay',
  'POST /api/v1/webhooks/alipay',
];

/** Number of non-public routes when this test was written; the walk must reach at least these. */
const MIN_PROTECTED_ROUTES = 49;

interface Tenant {
  name: string;
  client: Client;
  email: string;
  userId: string;
  workspaceId: string;
  communityId: string;
  staffUserId: string;
  groupId: string;
  reviewGroupId: string;
  linkId: string;
  linkCode: string;
  reviewLinkId: string;
  memberId: string;
  memberToken: string;
  applicantId: string;
  applicationId: string;
  orderId: string;
  orderKey: string;
  productId: string;
  /** A second membership product, to upgrade to. */
  upgradeProductId: string;
  membershipId: string;
  keyId: string;
  apiKey: string;
  webhookId: string;
  deliveryId: string;
}

const keyOf = (r: { method: string; url: string }) => `${r.method} ${r.url}`;
const paramsOf = (url: string) => [...url.matchAll(/:(\w+)/g)].map((m) => m[1]!);
const isProblem = (r: ApiResponse) => (r.headers.get('content-type') ?? '').startsWith('application/problem+json');

/** The value of every path parameter kind, taken from one tenant. */
const idsOf = (t: Tenant): Record<string, string> => ({
  workspaceId: t.workspaceId,
  communityId: t.communityId,
  groupId: t.groupId,
  linkId: t.linkId,
  memberId: t.memberId,
  applicationId: t.applicationId,
  keyId: t.keyId,
  orderId: t.orderId,
  membershipId: t.membershipId,
  userId: t.staffUserId,
  code: t.linkCode,
  webhookId: t.webhookId,
  deliveryId: t.deliveryId,
});

/** Routes whose query string is required: the walk sends a valid one, so only tenancy can refuse. */
const REQUIRED_QUERIES: Record<string, string> = {
  '/api/v1/communities/:communityId/metrics': '?from=2026-01-01&to=2026-02-01',
  '/api/v1/communities/:communityId/metrics.csv': '?from=2026-01-01&to=2026-02-01',
  '/api/v1/communities/:communityId/analytics/kpis': '?from=2026-01-01&to=2026-02-01',
  '/api/v1/communities/:communityId/analytics/members': '?from=2026-01-01&to=2026-02-01',
  '/api/v1/communities/:communityId/analytics/churn-risk': '?as_of=2026-01-31',
  '/api/v1/communities/:communityId/analytics/group-health': '?from=2026-01-01&to=2026-02-01',
  '/api/v1/communities/:communityId/analytics/money-formula': '?from=2026-01-01&to=2026-02-01',
  '/api/v1/communities/:communityId/analytics/referrers': '?from=2026-01-01&to=2026-02-01',
  '/api/v1/communities/:communityId/metrics/explain': '?from=2026-01-01&to=2026-02-01&metric=paying_members',
  '/api/v1/communities/:communityId/analytics/cohorts': '?from=2026-01-01&to=2026-02-01',
  '/api/v1/communities/:communityId/analytics/lifecycle': '?from=2026-01-01&to=2026-02-01',
  '/api/v1/communities/:communityId/analytics/funnel': '?from=2026-01-01&to=2026-02-01',
};

function fill(url: string, ids: Record<string, string>): string {
  const path = url.replace(/:(\w+)/g, (_, p: string) => {
    const v = ids[p];
    if (!v) throw new Error(`no value for path parameter :${p} of ${url}; add it to idsOf()`);
    return encodeURIComponent(v);
  });
  return path + (REQUIRED_QUERIES[url] ?? '');
}

/** Writes carry an Idempotency-Key, so that only the tenancy check can refuse the ones that need one. */
const call = (c: Client, method: string, path: string, body?: unknown) =>
  c.request(method, path, body === undefined && WRITE_METHODS.has(method) ? {} : body, WRITE_METHODS.has(method) ? { 'idempotency-key': 'tenancy-walk' } : {});

/** A community with everything a route can name: staff, groups, links, members, an application, a product, a key. */
async function buildTenant(base: string, name: string): Promise<Tenant> {
  const { client, user, workspaceId } = await signUp(base, `${name}@example.com`, name);
  const staff = await signUp(base, `${name}-staff@example.com`, `${name} staff`);
  const community = expectOk(
    await client.post(`/api/v1/workspaces/${workspaceId}/communities`, { name: `${name} club`, slug: `${name}-club`, type: 'interest' }),
    201,
  );
  const cid = community.id as string;
  const c = `/api/v1/communities/${cid}`;
  // Every event below also queues a delivery (never sent: no dispatcher runs here).
  const webhook = expectOk(await client.post(`${c}/webhooks`, { url: 'http://127.0.0.1:9/hook', event_types: ['*'] }), 201);
  expectOk(await client.post(`${c}/staff`, { email: `${name}-staff@example.com`, role: 'leader' }));
  const group = expectOk(await client.post(`${c}/groups`, { name: `${name} 1群`, capacity: 10, leader_user_id: staff.user.id }), 201);
  const reviewGroup = expectOk(
    await client.post(`${c}/groups`, { name: `${name} 审核群`, capacity: 10, threshold: { criteria: [{ type: 'application', prompt: 'Why join?' }] } }),
    201,
  );
  const link = expectOk(await client.post(`${c}/links`, { name: '公众号菜单', channel: '公众号', group_ids: [group.id] }), 201);
  const reviewLink = expectOk(await client.post(`${c}/links`, { name: 'partner', channel: 'partner', group_ids: [reviewGroup.id] }), 201);

  const joined = expectOk(await new Client(base).post(`/api/v1/public/links/${link.code}/join`, { name: `${name} member` }));
  expect(joined.next).toBe('onboarding');
  const applied = expectOk(await new Client(base).post(`/api/v1/public/links/${reviewLink.code}/join`, { name: `${name} applicant` }));
  expect(applied.next).toBe('wait_for_threshold');
  expect(applied.application.status).toBe('pending');

  const me = new Client(base, joined.member_token);
  expectOk(await me.post('/api/v1/member/onboarding/rules', { accepted: true }));

  const product = expectOk(await client.post(`${c}/products`, { type: 'membership', name: 'VIP', price_minor: 9900, term: 'annual' }), 201);
  const upgradeProduct = expectOk(await client.post(`${c}/products`, { type: 'membership', name: 'VIP forever', price_minor: 29900, term: 'permanent' }), 201);
  // Granted on a product of its own: the paid order below then starts no renewal paid ahead on this chain.
  const monthly = expectOk(await client.post(`${c}/products`, { type: 'membership', name: 'Monthly', price_minor: 990, term: 'days', term_days: 30 }), 201);
  const membership = expectOk(await client.post(`${c}/members/${joined.member.id}/memberships`, { product_id: monthly.id }), 201);
  // A paid order: the member's own purchase, with its ledger entries and membership.
  const orderKey = `${name}-order-1`;
  const order = expectOk(await me.request('POST', '/api/v1/member/orders', { product_id: product.id }, { 'idempotency-key': orderKey }), 201);
  const token = new URL(order.checkout_url).pathname.split('/').pop()!;
  expect(expectOk(await new Client(base).post(`/api/v1/public/checkout/${token}/pay`)).status).toBe('paid');
  const key = expectOk(await client.post(`${c}/api-keys`, { name: 'integration', scopes: ['read', 'write', 'events:write'] }), 201);

  const [delivery] = expectOk(await client.get(`${c}/webhooks/${webhook.webhook.id}/deliveries`)).deliveries;
  return {
    name,
    client,
    email: `${name}@example.com`,
    userId: user.id,
    workspaceId,
    communityId: cid,
    staffUserId: staff.user.id,
    groupId: group.id,
    reviewGroupId: reviewGroup.id,
    linkId: link.id,
    linkCode: link.code,
    reviewLinkId: reviewLink.id,
    memberId: joined.member.id,
    memberToken: joined.member_token,
    applicantId: applied.member.id,
    applicationId: applied.application.id,
    productId: product.id,
    upgradeProductId: upgradeProduct.id,
    membershipId: membership.id,
    orderId: order.id,
    orderKey,
    keyId: key.key.id,
    apiKey: key.secret,
    webhookId: webhook.webhook.id,
    deliveryId: delivery.id,
  };
}

/** Every id and secret of a tenant, to check that nothing of it shows up in another tenant's answers. */
const secretsOf = (t: Tenant) => [
  t.userId,
  t.email,
  t.workspaceId,
  t.communityId,
  t.staffUserId,
  t.groupId,
  t.reviewGroupId,
  t.linkId,
  t.linkCode,
  t.reviewLinkId,
  t.memberId,
  t.applicantId,
  t.applicationId,
  t.productId,
  t.upgradeProductId,
  t.membershipId,
  t.orderId,
  t.keyId,
  t.webhookId,
  t.deliveryId,
];

/** A's data as A's own staff and member see it through the API. */
async function apiSnapshot(t: Tenant) {
  const c = `/api/v1/communities/${t.communityId}`;
  const paths = [
    `/api/v1/workspaces/${t.workspaceId}`,
    `/api/v1/workspaces/${t.workspaceId}/communities`,
    c,
    `${c}/staff`,
    `${c}/groups`,
    `${c}/groups/${t.groupId}`,
    `${c}/groups/${t.reviewGroupId}`,
    `${c}/org-tree`,
    `${c}/links`,
    `${c}/links/${t.linkId}`,
    `${c}/links/${t.reviewLinkId}`,
    `${c}/members?limit=200`,
    `${c}/members/${t.memberId}`,
    `${c}/members/${t.applicantId}`,
    `${c}/applications?status=pending`,
    `${c}/applications?status=passed`,
    `${c}/applications?status=rejected`,
    `${c}/applications/${t.applicationId}`,
    `${c}/products`,
    `${c}/orders`,
    `${c}/orders/${t.orderId}`,
    `${c}/metrics?from=2026-01-01&to=2027-01-01`,
    `${c}/analytics/kpis?from=2026-01-01&to=2026-02-01&split=group`,
    `${c}/analytics/members?from=2026-01-01&to=2027-01-01`,
    `${c}/analytics/settings`,
    `${c}/analytics/churn-risk?as_of=2026-12-31`,
    `${c}/analytics/group-health?from=2026-01-01&to=2027-01-01`,
    `${c}/analytics/money-formula?from=2026-01-01&to=2027-01-01`,
    `${c}/analytics/referrers?from=2026-01-01&to=2027-01-01`,
    `${c}/metrics/explain?from=2026-01-01&to=2027-01-01&metric=period_members`,
    `${c}/analytics/cohorts?from=2026-01-01&to=2027-01-01&granularity=month`,
    `${c}/analytics/funnel?from=2026-01-01&to=2027-01-01&split=channel`,
    `${c}/api-keys`,
    `${c}/events?limit=1000`,
    `${c}/webhooks`,
    `${c}/webhooks/${t.webhookId}/deliveries?limit=200`,
    `${c}/identities`,
    `${c}/members.csv`,
    `${c}/orders.csv`,
    `${c}/metrics.csv?from=2026-01-01&to=2027-01-01`,
  ];
  const out: Record<string, unknown> = {};
  for (const p of paths) out[p] = expectOk(await t.client.get(p));
  out['member self'] = expectOk(await new Client(t.client.base, t.memberToken).get('/api/v1/member'));
  return out;
}

/** Every database row that belongs to the tenant (its community, workspace, accounts, sessions). */
async function dbSnapshot(db: TestDb, t: Tenant) {
  const k = db.handle.db as unknown as Kysely<any>;
  const own = new Set([t.userId, t.staffUserId, t.workspaceId, t.communityId]);
  const tables = (await k.introspection.getTables()).map((x) => x.name).filter((n) => !n.startsWith('yutang_migrations')).sort();
  const out: Record<string, string[]> = {};
  for (const table of tables) {
    const rows = (await k.selectFrom(table).selectAll().execute()) as Record<string, unknown>[];
    out[table] = rows
      .filter((r) => own.has(r.community_id as string) || own.has(r.workspace_id as string) || own.has(r.user_id as string) || own.has(r.id as string))
      .map((r) => JSON.stringify(r))
      .sort();
  }
  return out;
}

describeEachDialect('tenancy: every route refuses another tenant’s ids', (dialect) => {
  let db: TestDb;
  let server: TestServer;
  let A: Tenant;
  let B: Tenant;
  let routes: RouteInfo[];
  let beforeApi: Record<string, unknown>;
  let beforeDb: Record<string, string[]>;
  const covered = new Set<string>();
  let aIdentityId: string;

  beforeAll(async () => {
    db = await createTestDb(dialect);
    server = await startServer(db);
    A = await buildTenant(server.url, 'alpha');
    B = await buildTenant(server.url, 'bravo');
    // An imported person, so that A has an identity for B to name.
    const chat = { name: 'alpha chat', type: 'private_group', id: 1, messages: [{ id: 1, type: 'message', date_unixtime: '1767225600', from: 'Ann', from_id: 'user1', text: 'hi' }] };
    await importChat(db.deps, A.communityId, { format: 'telegram', parser: parseTelegram, open: async function* () { yield Buffer.from(JSON.stringify(chat)); }, parse: { timeZone: 'UTC' } });
    aIdentityId = expectOk(await A.client.get(`/api/v1/communities/${A.communityId}/identities`)).identities[0].id;
    routes = server.app.routeTable;
    beforeApi = await apiSnapshot(A);
    beforeDb = await dbSnapshot(db, A);
    // The snapshot holds A's data, not an empty shell.
    expect(JSON.stringify(beforeDb.members)).toContain(A.memberId);
    expect(JSON.stringify(beforeDb.events)).toContain('membership_granted');
  });
  afterAll(async () => {
    await server?.close();
    await db?.close();
  });

  it('declares a known access kind on every route; public routes are exactly the reviewed allowlist', () => {
    expect(routes.length).toBeGreaterThan(MIN_PROTECTED_ROUTES);
    for (const r of routes) expect(['public', 'user', 'workspace', 'community', 'member', 'apikey'], keyOf(r)).toContain(r.access.kind);
    const publicRoutes = routes.filter((r) => r.access.kind === 'public').map(keyOf);
    expect(publicRoutes.filter((k) => !PUBLIC_ROUTES.includes(k)), 'public routes that were not reviewed').toEqual([]);
    expect(PUBLIC_ROUTES.filter((k) => !publicRoutes.includes(k)), 'allowlisted routes that no longer exist').toEqual([]);
  });

  it('takes tenant ids only where the guard checks them', () => {
    for (const r of routes) {
      const params = paramsOf(r.url);
      const k = keyOf(r);
      // User-level and member routes act on the caller; they must not name a tenant's resources,
      // except a membership id, which the service looks up among the calling member's own (below).
      if (r.access.kind === 'user') expect(params, `${k} (user route) takes ids`).toEqual([]);
      if (r.access.kind === 'member') expect(params.filter((p) => p !== 'membershipId'), `${k} (member route) takes ids`).toEqual([]);
      // API-key routes act on the key's own community, named by nothing in the request.
      if (r.access.kind === 'apikey') expect(params, `${k} (API-key route) takes ids`).toEqual([]);
      // The guard resolves the caller's role from these; without them every call would be refused.
      if (r.access.kind === 'workspace') expect(params[0], k).toBe('workspaceId');
      if (r.access.kind === 'community') expect(params[0], k).toBe('communityId');
    }
  });

  it('answers A itself on every GET with A’s ids (the ids the walk uses are real)', async () => {
    const failures: string[] = [];
    for (const r of routes) {
      if (r.method !== 'GET' || (r.access.kind !== 'workspace' && r.access.kind !== 'community')) continue;
      const res = await A.client.get(fill(r.url, idsOf(A)));
      if (res.status !== 200) failures.push(`${keyOf(r)} → ${res.status} ${JSON.stringify(res.body)}`);
    }
    expect(failures).toEqual([]);
  });

  it('refuses B (session, API key, member token) on every workspace and community route with A’s ids', async () => {
    const bSession = B.client;
    const bKey = new Client(server.url, B.apiKey);
    const bMember = new Client(server.url, B.memberToken);
    const failures: string[] = [];
    const check = (who: string, k: string, res: ApiResponse, allowed: number[]) => {
      const code = (res.body as { code?: string })?.code;
      const leaked = secretsOf(A).filter((s) => JSON.stringify(res.body).includes(s));
      if (!allowed.includes(res.status) || !isProblem(res) || code === 'csrf_failed' || code === 'route_not_found' || leaked.length) {
        failures.push(`${who} ${k} → ${res.status} ${res.headers.get('content-type')} ${JSON.stringify(res.body)}`);
      }
    };
    let walked = 0;
    for (const r of routes) {
      if (r.access.kind !== 'workspace' && r.access.kind !== 'community') continue;
      const k = keyOf(r);
      const path = fill(r.url, idsOf(A));
      check('B session', k, await call(bSession, r.method, path), [403, 404]);
      if (r.access.kind === 'community') check('B api key', k, await call(bKey, r.method, path), [403, 404]);
      // A member token is no staff credential anywhere.
      check('B member token', k, await call(bMember, r.method, path), [401, 403, 404]);
      covered.add(k);
      walked++;
    }
    expect(failures).toEqual([]);
    expect(walked).toBe(routes.filter((r) => r.access.kind === 'workspace' || r.access.kind === 'community').length);
    expect(walked).toBeGreaterThanOrEqual(3 + 30);
  });

  it('answers 404 when B names its own community with A’s groups, links, members, applications, keys and staff', async () => {
    // Valid bodies, so that only the sub-resource lookup can refuse (B may write in its own community).
    const bodies: Record<string, unknown> = {
      'PATCH /api/v1/communities/:communityId/groups/:groupId': { name: 'renamed' },
      'PATCH /api/v1/communities/:communityId/links/:linkId': { name: 'renamed' },
      'POST /api/v1/communities/:communityId/members/:memberId/remove': { reason: 'spam' },
      'POST /api/v1/communities/:communityId/members/:memberId/memberships': { product_id: B.productId },
      'POST /api/v1/communities/:communityId/applications/:applicationId/review': { decision: 'approve' },
      'POST /api/v1/communities/:communityId/orders/:orderId/refunds': { amount_minor: 1, reason: 'wrong tenant' },
      'POST /api/v1/communities/:communityId/memberships/:membershipId/pause': { until: new Date(Date.now() + 10 * 86_400_000).toISOString() },
      'POST /api/v1/communities/:communityId/memberships/:membershipId/upgrade': { product_id: B.upgradeProductId },
      'PATCH /api/v1/communities/:communityId/webhooks/:webhookId': { description: 'renamed' },
      'POST /api/v1/communities/:communityId/webhooks/:webhookId/deliveries/:deliveryId/redeliver': {},
    };
    const mixed = { ...idsOf(A), communityId: B.communityId };
    const callers = [
      ['B session', B.client],
      ['B api key', new Client(server.url, B.apiKey)],
    ] as const;
    const failures: string[] = [];
    let walked = 0;
    for (const r of routes) {
      if (r.access.kind !== 'community' || paramsOf(r.url).length < 2) continue;
      const k = keyOf(r);
      if (WRITE_METHODS.has(r.method) && !(k in bodies)) {
        failures.push(`${k}: add a valid body for the mixed-tenant case`);
        continue;
      }
      // Positive control: B reaches its own sub-resource through the same GET route.
      if (r.method === 'GET') {
        const own = await B.client.get(fill(r.url, idsOf(B)));
        if (own.status !== 200) failures.push(`control: B on its own ${k} → ${own.status}`);
      }
      for (const [who, c] of callers) {
        const res = await call(c, r.method, fill(r.url, mixed), bodies[k]);
        const code = (res.body as { code?: string })?.code ?? '';
        if (res.status !== 404 || !isProblem(res) || !code.endsWith('_not_found') || code === 'community_not_found') {
          failures.push(`${who} ${k} → ${res.status} ${JSON.stringify(res.body)}`);
        }
      }
      walked++;
    }
    expect(failures).toEqual([]);
    // groups/:groupId ×2, staff/:userId, links/:linkId ×3, members/:memberId ×3, applications/:applicationId ×2, api-keys/:keyId
    expect(walked).toBeGreaterThanOrEqual(12);
  });

  it('refuses A’s ids inside the bodies and queries of B’s own community, writing nothing', async () => {
    const c = `/api/v1/communities/${B.communityId}`;
    const bBefore = await apiSnapshot(B);
    const cases: [method: string, path: string, body: unknown, status: number, field: string][] = [
      ['POST', `${c}/groups`, { name: 'g', leader_user_id: A.staffUserId }, 400, 'leader_user_id'],
      ['POST', `${c}/groups`, { name: 'g', monitor_user_id: A.userId }, 400, 'monitor_user_id'],
      ['POST', `${c}/groups`, { name: 'g', threshold: { criteria: [{ type: 'paid', product_ids: [A.productId] }] } }, 400, 'threshold.criteria.0.product_ids'],
      ['PATCH', `${c}/groups/${B.groupId}`, { leader_user_id: A.staffUserId }, 400, 'leader_user_id'],
      ['POST', `${c}/links`, { name: 'l', channel: 'x', group_ids: [A.groupId] }, 400, 'group_ids'],
      ['POST', `${c}/links`, { name: 'l', channel: 'x', group_ids: [B.groupId], owner_member_id: A.memberId }, 400, 'owner_member_id'],
      [
        'POST',
        `${c}/links`,
        { name: 'l', channel: 'x', group_ids: [B.groupId], segment_rules: [{ field: 'city', in: ['上海'], group_ids: [A.groupId] }] },
        400,
        'segment_rules.0.group_ids',
      ],
      ['PATCH', `${c}/links/${B.linkId}`, { group_ids: [A.groupId] }, 400, 'group_ids'],
      ['PUT', `${c}/threshold`, { criteria: [{ type: 'invitation', count: 1, invitee_group_ids: [A.groupId] }] }, 400, 'criteria.0.invitee_group_ids'],
      ['PUT', `${c}/threshold`, { criteria: [{ type: 'paid', product_ids: [A.productId] }] }, 400, 'criteria.0.product_ids'],
      ['POST', `${c}/products`, { type: 'course', name: 'c', price_minor: 100, group_ids: [A.groupId] }, 400, 'group_ids'],
      ['POST', `${c}/products`, { type: 'course', name: 'c', price_minor: 100, trial_of_product_id: A.productId }, 400, 'trial_of_product_id'],
      ['POST', `${c}/members/${B.memberId}/memberships`, { product_id: A.productId }, 404, 'product_id'],
      ['POST', `${c}/identities/merge`, { member_id: B.memberId, from_member_id: A.memberId }, 404, 'from_member_id'],
      ['POST', `${c}/identities/merge`, { member_id: A.memberId, from_member_id: B.memberId }, 404, 'member_id'],
      ['POST', `${c}/identities/split`, { identity_id: aIdentityId }, 404, 'identity_id'],
      [
        'POST',
        `/api/v1/workspaces/${B.workspaceId}/communities`,
        { name: 'n', slug: 'bravo-two', type: 'interest', threshold: { criteria: [{ type: 'paid', product_ids: [A.productId] }] } },
        400,
        'threshold.criteria.0.product_ids',
      ],
    ];
    const failures: string[] = [];
    for (const [method, path, body, status, field] of cases) {
      const res = await B.client.request(method, path, body);
      const fields = ((res.body as { errors?: { field: string }[] }).errors ?? []).map((e) => e.field);
      if (res.status !== status || !isProblem(res) || JSON.stringify(fields) !== JSON.stringify([field])) {
        failures.push(`${method} ${path} ${JSON.stringify(body)} → ${res.status} ${JSON.stringify(res.body)}`);
      }
    }
    const orders = expectOk(await B.client.get(`${c}/orders?member_id=${A.memberId}`));
    if (orders.orders.length !== 0) failures.push(`orders?member_id=A → ${JSON.stringify(orders.orders)}`);
    // Filters naming A's resources find nothing in B's community.
    for (const q of [`members?group_id=${A.groupId}`, `members?entry_link_id=${A.linkId}`, `members?referrer_member_id=${A.memberId}`]) {
      const res = expectOk(await B.client.get(`${c}/${q}`));
      if (res.members.length !== 0) failures.push(`${q} → ${JSON.stringify(res.members)}`);
    }
    const ev = expectOk(await B.client.get(`${c}/events?member_id=${A.memberId}`));
    if (ev.events.length !== 0) failures.push(`events?member_id=A → ${JSON.stringify(ev.events)}`);
    // And the same filters with B's own ids do find B's member (the filters work).
    expect(expectOk(await B.client.get(`${c}/members?group_id=${B.groupId}`)).members.map((m: any) => m.id)).toEqual([B.memberId]);
    expect(expectOk(await B.client.get(`${c}/events?member_id=${B.memberId}`)).events.length).toBeGreaterThan(0);

    expect(failures).toEqual([]);
    expect(await apiSnapshot(B)).toEqual(bBefore);
  });

  it('lets B’s member token act only on B’s own member', async () => {
    const me = new Client(server.url, B.memberToken);
    // In order: leaving last, since a member who left cannot go on with onboarding. POSTs retry B's
    // first order's Idempotency-Key unless a step names its own (and the status it expects).
    const steps: [key: string, body: unknown, check: (body: any) => void, opts?: { key: string; status: number }][] = [
      ['GET /api/v1/member', undefined, (b) => expect(b.member.id).toBe(B.memberId)],
      ['POST /api/v1/member/onboarding/rules', { accepted: true }, (b) => expect(b.member.onboarding.rules_accepted).toBe(true)],
      ['POST /api/v1/member/onboarding/nickname', { nickname: 'bravo-一号' }, (b) => expect(b.member.nickname).toBe('bravo-一号')],
      ['POST /api/v1/member/onboarding/introduction', { text: '我是 bravo 社区的成员，很高兴认识大家' }, (b) => expect(b.member.status).toBe('active')],
      // The retry of B's own first order: the same order back, nothing new.
      ['POST /api/v1/member/orders', { product_id: B.productId }, (b) => expect([b.id, b.status]).toEqual([B.orderId, 'paid'])],
      ['GET /api/v1/member/orders', undefined, (b) => expect(b.orders.map((o: any) => o.id)).toEqual([B.orderId])],
      [
        'POST /api/v1/member/memberships/:membershipId/upgrade',
        { product_id: B.upgradeProductId },
        (b) => expect([b.member_id, b.product_id, b.upgrade_from_membership_id, b.status]).toEqual([B.memberId, B.upgradeProductId, B.membershipId, 'pending']),
        { key: `${B.name}-upgrade`, status: 201 },
      ],
      ['GET /api/v1/member/invite-link', undefined, (b) => expect([b.community_id, b.owner_member_id]).toEqual([B.communityId, B.memberId])],
      // Automatic renewal, pause and cancel act on the last period of B's own membership chain.
      ['POST /api/v1/member/memberships/:membershipId/auto-renew', { enabled: false }, (b) => expect([b.member_id, b.auto_renew]).toEqual([B.memberId, false])],
      ['POST /api/v1/member/memberships/:membershipId/pause', { until: new Date(Date.now() + 10 * 86_400_000).toISOString() }, (b) => expect([b.member_id, b.active]).toEqual([B.memberId, false])],
      ['POST /api/v1/member/memberships/:membershipId/cancel', { reason: 'moving' }, (b) => expect([b.member_id, b.cancel_reason]).toEqual([B.memberId, 'moving'])],
      ['POST /api/v1/member/leave', { reason: 'moving' }, (b) => expect(b.member.status).toBe('left')],
    ];
    const memberRoutes = routes.filter((r) => r.access.kind === 'member').map(keyOf);
    expect(memberRoutes.filter((k) => !steps.some(([s]) => s === k)), 'member routes without a step here').toEqual([]);
    for (const [k, body, check, opts] of steps) {
      const [method, pattern] = k.split(' ') as [string, string];
      const url = pattern.replace(':membershipId', B.membershipId);
      const res = await me.request(method, url, body, method === 'POST' ? { 'idempotency-key': opts?.key ?? B.orderKey } : {});
      expect(res.status, `${k}: ${JSON.stringify(res.body)}`).toBe(opts?.status ?? 200);
      check(res.body);
      const member = (res.body as { member?: { id: string; community_id: string } }).member;
      if (member) expect([member.id, member.community_id], k).toEqual([B.memberId, B.communityId]);
      expect(secretsOf(A).filter((s) => JSON.stringify(res.body).includes(s)), `${k} shows A's data`).toEqual([]);
      covered.add(k);
    }
    // A member token of B's community does not rejoin (or touch anything) through A's link.
    const rejoin = await me.post(`/api/v1/public/links/${A.linkCode}/join`, { name: 'intruder' });
    expect([rejoin.status, rejoin.body.code]).toEqual([404, 'link_not_found']);
    expect(isProblem(rejoin)).toBe(true);
    // Nor does it cancel, pause or renew A's memberships.
    for (const action of ['cancel', 'pause', 'auto-renew']) {
      const body = action === 'cancel' ? { reason: 'x' } : action === 'pause' ? { until: new Date(Date.now() + 86_400_000).toISOString() } : { enabled: false };
      const res = await me.post(`/api/v1/member/memberships/${A.membershipId}/${action}`, body);
      expect([res.status, res.body.code, isProblem(res)], action).toEqual([404, 'membership_not_found', true]);
    }
    // Nor does it upgrade A's memberships.
    const upgrade = await me.request('POST', `/api/v1/member/memberships/${A.membershipId}/upgrade`, { product_id: B.upgradeProductId }, { 'idempotency-key': 'foreign-upgrade' });
    expect([upgrade.status, upgrade.body.code, isProblem(upgrade)]).toEqual([404, 'membership_not_found', true]);
    // Nor does it buy A's products.
    const foreign = await me.request('POST', '/api/v1/member/orders', { product_id: A.productId }, { 'idempotency-key': 'foreign-product' });
    expect([foreign.status, foreign.body.code]).toEqual([404, 'product_not_found']);
    expect(isProblem(foreign)).toBe(true);
  });

  it('lets B’s API key send events only into B’s own community', async () => {
    const ingestRoutes = routes.filter((r) => r.access.kind === 'apikey').map(keyOf);
    expect(ingestRoutes).toEqual(['POST /api/v1/events']);
    const event = { id: 'tenancy-1', type: 'message', member_external_id: 'wx_someone', occurred_at: new Date().toISOString() };
    const res = expectOk(await new Client(server.url, B.apiKey).post('/api/v1/events', { events: [event] }));
    expect(res.results).toEqual([{ id: 'tenancy-1', status: 'accepted' }]);
    const bEvents = expectOk(await B.client.get(`/api/v1/communities/${B.communityId}/events?type=message`)).events;
    expect(bEvents.length).toBe(1);
    expect(secretsOf(A).filter((s) => JSON.stringify(bEvents).includes(s))).toEqual([]);
    // Neither a session nor a member token is an ingest credential.
    for (const c of [B.client, new Client(server.url, B.memberToken)]) {
      const r = await c.post('/api/v1/events', { events: [event] });
      expect([r.status, r.body.code, isProblem(r)]).toEqual([401, 'unauthenticated', true]);
    }
    for (const k of ingestRoutes) covered.add(k);
  });

  it('shows a signed-in B nothing of A on the user-level routes', async () => {
    // A second session of B: logging out must not end the session the other cases use.
    const b2 = new Client(server.url);
    expectOk(await b2.post('/api/v1/auth/login', { email: B.email, password: TEST_PASSWORD }));
    const steps: [key: string, body: unknown, status: number][] = [
      ['GET /api/v1/auth/me', undefined, 200],
      ['GET /api/v1/workspaces', undefined, 200],
      // Invalid bodies: creating a workspace or changing B's password would only ever touch B.
      ['POST /api/v1/workspaces', {}, 400],
      ['POST /api/v1/auth/password', {}, 400],
      ['POST /api/v1/auth/logout', {}, 200],
    ];
    const userRoutes = routes.filter((r) => r.access.kind === 'user').map(keyOf);
    expect(userRoutes.filter((k) => !steps.some(([s]) => s === k)), 'user routes without a step here').toEqual([]);
    for (const [k, body, status] of steps) {
      const [method, url] = k.split(' ') as [string, string];
      const res = await b2.request(method, url, body);
      expect(res.status, `${k}: ${JSON.stringify(res.body)}`).toBe(status);
      expect(secretsOf(A).filter((s) => JSON.stringify(res.body).includes(s)), `${k} shows A's data`).toEqual([]);
      covered.add(k);
    }
    const me = expectOk(await B.client.get('/api/v1/auth/me'));
    expect(me.user.id).toBe(B.userId);
    expect(me.workspaces.map((w: any) => w.id)).toEqual([B.workspaceId]);
  });

  it('walked every non-public route', () => {
    const protectedRoutes = routes.filter((r) => r.access.kind !== 'public').map(keyOf);
    expect(protectedRoutes.length).toBeGreaterThanOrEqual(MIN_PROTECTED_ROUTES);
    expect([...covered].sort()).toEqual([...new Set(protectedRoutes)].sort());
  });

  it('left every piece of A’s data as it was', async () => {
    expect(await dbSnapshot(db, A)).toEqual(beforeDb);
    expect(await apiSnapshot(A)).toEqual(beforeApi);
  });
});
