import { afterEach, expect, it } from 'vitest';
import type { AppOptions } from '../../app.js';
import { fixedClock, type Clock } from '../../lib/clock.js';
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
} from '../../test/harness.js';

const NEW_PASSWORD = 'a brand new passphrase';

/** The yt_session Set-Cookie of a response: its value and its attributes as sent. */
function sessionCookie(r: ApiResponse): { value: string; attrs: string[] } {
  const raw = r.headers.getSetCookie().filter((c) => c.startsWith('yt_session='));
  expect(raw).toHaveLength(1);
  const [pair, ...attrs] = raw[0]!.split(';').map((s) => s.trim());
  return { value: pair!.slice('yt_session='.length), attrs };
}

/** A browser that holds only this session cookie (no CSRF token, nothing else). */
function withCookie(base: string, value: string): Client {
  const c = new Client(base);
  c.cookies.set('yt_session', value);
  return c;
}

const login = (base: string, email: string, password: string, headers: Record<string, string> = {}) => {
  const c = new Client(base);
  return c.request('POST', '/api/v1/auth/login', { email, password }, headers).then((r) => ({ c, r }));
};

async function createCommunity(op: Client, workspaceId: string, slug: string) {
  return expectOk(await op.post(`/api/v1/workspaces/${workspaceId}/communities`, { name: slug, slug, type: 'interest' }), 201) as {
    id: string;
  };
}

describeEachDialect('auth, sessions, CSRF, API keys and roles', (dialect) => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    while (cleanups.length) await cleanups.pop()!();
  });

  /** A fresh database and server for one test, torn down after it. */
  async function fresh(opts: { clock?: Clock; server?: (db: TestDb) => Partial<AppOptions> } = {}) {
    const db = await createTestDb(dialect, opts.clock);
    cleanups.push(() => db.close());
    const server = await startServer(db, opts.server?.(db) ?? {});
    cleanups.push(() => server.close());
    return { db, server };
  }

  it('sign-up: first account owns the install, each gets its own workspace, emails are unique case-insensitively', async () => {
    const { db, server } = await fresh();
    const first = await new Client(server.url).post('/api/v1/auth/signup', { email: 'first@example.com', password: TEST_PASSWORD, name: 'First' });
    expect(first.status).toBe(201);
    expect(first.body.user.email).toBe('first@example.com');
    expect(first.body.user.is_install_owner).toBe(true);
    expect(first.body.workspaces).toHaveLength(1);
    expect(first.body.workspaces[0].role).toBe('owner');
    expect(typeof first.body.csrf_token).toBe('string');

    // Mixed case is stored normalized.
    const second = await new Client(server.url).post('/api/v1/auth/signup', { email: 'Second@Example.com', password: TEST_PASSWORD, name: 'Second' });
    expect(second.status).toBe(201);
    expect(second.body.user.email).toBe('second@example.com');
    expect(second.body.user.is_install_owner).toBe(false);
    expect(second.body.workspaces).toHaveLength(1);
    expect(second.body.workspaces[0].role).toBe('owner');
    expect(second.body.workspaces[0].id).not.toBe(first.body.workspaces[0].id);

    const dup = await new Client(server.url).post('/api/v1/auth/signup', { email: 'FIRST@example.COM', password: TEST_PASSWORD, name: 'Again' });
    expect(dup.status).toBe(409);
    expect(dup.headers.get('content-type')).toContain('application/problem+json');
    expect(dup.body.code).toBe('email_taken');
    expect(dup.body.errors.map((e: { field: string }) => e.field)).toEqual(['email']);
    // Nothing was created by the refused sign-up and there is still exactly one install owner.
    const users = await db.handle.db.selectFrom('users').select(['email', 'is_install_owner']).orderBy('email').execute();
    expect(users.map((u) => [u.email, Number(u.is_install_owner)])).toEqual([
      ['first@example.com', 1],
      ['second@example.com', 0],
    ]);
    expect((await db.handle.db.selectFrom('workspaces').select('id').execute()).length).toBe(2);
  });

  it('sign-up closed: the first account may still sign up, a second gets 403 signup_closed', async () => {
    const { db, server } = await fresh({
      server: (db) => ({ config: { ...db.deps.config, signup: 'closed', trustProxy: false, logLevel: 'silent' } }),
    });
    const first = await new Client(server.url).post('/api/v1/auth/signup', { email: 'owner@example.com', password: TEST_PASSWORD, name: 'Owner' });
    expect(first.status).toBe(201);
    expect(first.body.user.is_install_owner).toBe(true);
    const second = await new Client(server.url).post('/api/v1/auth/signup', { email: 'other@example.com', password: TEST_PASSWORD, name: 'Other' });
    expect(second.status).toBe(403);
    expect(second.body.code).toBe('signup_closed');
    const users = await db.handle.db.selectFrom('users').select('email').execute();
    expect(users.map((u) => u.email)).toEqual(['owner@example.com']);
  });

  it('session cookie: HttpOnly, SameSite=Lax, Path=/, Secure only over https behind a trusted proxy', async () => {
    const { db, server } = await fresh();
    const su = await new Client(server.url).post('/api/v1/auth/signup', { email: 'c@example.com', password: TEST_PASSWORD, name: 'C' });
    const { attrs } = sessionCookie(su);
    expect(attrs).toContain('HttpOnly');
    expect(attrs).toContain('SameSite=Lax');
    expect(attrs).toContain('Path=/');
    expect(attrs.some((a) => /^secure$/i.test(a))).toBe(false);

    // Without trustProxy a client-sent X-Forwarded-Proto is ignored.
    const spoofed = await login(server.url, 'c@example.com', TEST_PASSWORD, { 'x-forwarded-proto': 'https' });
    expect(spoofed.r.status).toBe(200);
    expect(sessionCookie(spoofed.r).attrs.some((a) => /^secure$/i.test(a))).toBe(false);

    const proxied = await startServer(db, { config: { ...db.deps.config, trustProxy: true, logLevel: 'silent' } });
    cleanups.push(() => proxied.close());
    const https = await login(proxied.url, 'c@example.com', TEST_PASSWORD, { 'x-forwarded-proto': 'https' });
    expect(https.r.status).toBe(200);
    const secure = sessionCookie(https.r).attrs;
    expect(secure).toContain('Secure');
    expect(secure).toContain('HttpOnly');
    expect(secure).toContain('SameSite=Lax');
    const plain = await login(proxied.url, 'c@example.com', TEST_PASSWORD, { 'x-forwarded-proto': 'http' });
    expect(sessionCookie(plain.r).attrs.some((a) => /^secure$/i.test(a))).toBe(false);
  });

  it('login rotates the session; logout revokes it on the server; the password is stored as argon2id', async () => {
    const { db, server } = await fresh();
    const { client: signedUp } = await signUp(server.url, 'rot@example.com');
    const signupCookie = signedUp.cookies.get('yt_session')!;

    const one = await login(server.url, 'rot@example.com', TEST_PASSWORD);
    const two = await login(server.url, 'ROT@example.com', TEST_PASSWORD);
    expect([one.r.status, two.r.status]).toEqual([200, 200]);
    const c1 = sessionCookie(one.r).value;
    const c2 = sessionCookie(two.r).value;
    expect(new Set([signupCookie, c1, c2]).size).toBe(3);
    expect(one.r.body.csrf_token).not.toBe(two.r.body.csrf_token);

    // A cookie planted before login is not promoted: logging in from it issues a new one.
    const planted = withCookie(server.url, c1);
    const again = await planted.post('/api/v1/auth/login', { email: 'rot@example.com', password: TEST_PASSWORD });
    expect(again.status).toBe(200);
    expect(sessionCookie(again).value).not.toBe(c1);

    for (const c of [c1, c2]) expect((await withCookie(server.url, c).get('/api/v1/auth/me')).status).toBe(200);

    // Logout without the CSRF token is refused and the session stays.
    const noToken = await withCookie(server.url, c1).post('/api/v1/auth/logout');
    expect(noToken.status).toBe(403);
    expect(noToken.body.code).toBe('csrf_failed');
    expect((await withCookie(server.url, c1).get('/api/v1/auth/me')).status).toBe(200);

    expectOk(await one.c.post('/api/v1/auth/logout'));
    expect(one.c.cookies.has('yt_session')).toBe(false); // the browser was told to drop it
    const replay = await withCookie(server.url, c1).get('/api/v1/auth/me');
    expect(replay.status).toBe(401);
    expect(replay.body.code).toBe('unauthenticated');
    const row = await db.handle.db.selectFrom('sessions').select('revoked_at').where('revoked_at', 'is not', null).execute();
    expect(row).toHaveLength(1);
    // The other session is untouched.
    expect((await withCookie(server.url, c2).get('/api/v1/auth/me')).status).toBe(200);

    // "Sign out everywhere" from the second session ends it and every other one (the sign-up's, the planted login's).
    expect((await signedUp.get('/api/v1/auth/me')).status).toBe(200);
    expectOk(await two.c.post('/api/v1/auth/logout', { everywhere: true }));
    for (const c of [c2, signupCookie, sessionCookie(again).value]) expect((await withCookie(server.url, c).get('/api/v1/auth/me')).status).toBe(401);

    const user = await db.handle.db.selectFrom('users').select('password_hash').where('email', '=', 'rot@example.com').executeTakeFirstOrThrow();
    expect(user.password_hash.startsWith('$argon2id$')).toBe(true);
    expect(user.password_hash).not.toContain(TEST_PASSWORD);
  });

  it('CSRF: cookie writes need X-CSRF-Token of their own session; GETs and bearer keys do not', async () => {
    const { db, server } = await fresh();
    const { client: op, workspaceId } = await signUp(server.url, 'csrf@example.com');
    const cookie = op.cookies.get('yt_session')!;
    const body = { name: 'No token', slug: 'no-token', type: 'interest' };

    const missing = await withCookie(server.url, cookie).post(`/api/v1/workspaces/${workspaceId}/communities`, body);
    expect(missing.status).toBe(403);
    expect(missing.body.code).toBe('csrf_failed');
    const wrong = await withCookie(server.url, cookie).request('POST', `/api/v1/workspaces/${workspaceId}/communities`, body, { 'x-csrf-token': 'not-the-token' });
    expect(wrong.status).toBe(403);
    expect(wrong.body.code).toBe('csrf_failed');
    // Another session's token does not fit this session.
    const other = await login(server.url, 'csrf@example.com', TEST_PASSWORD);
    const foreign = await withCookie(server.url, cookie).request('POST', `/api/v1/workspaces/${workspaceId}/communities`, body, {
      'x-csrf-token': other.r.body.csrf_token,
    });
    expect(foreign.status).toBe(403);
    expect(foreign.body.code).toBe('csrf_failed');

    // Nothing was written; a GET with the cookie and no token works.
    expect(await db.handle.db.selectFrom('communities').select('id').execute()).toEqual([]);
    const listed = await withCookie(server.url, cookie).get(`/api/v1/workspaces/${workspaceId}/communities`);
    expect(listed.status).toBe(200);
    expect(listed.body.communities).toEqual([]);

    const created = await op.post(`/api/v1/workspaces/${workspaceId}/communities`, body);
    expect(created.status).toBe(201);
    const cid = created.body.id as string;

    const key = expectOk(await op.post(`/api/v1/communities/${cid}/api-keys`, { name: 'server', scopes: ['read', 'write'] }), 201);
    const bearer = new Client(server.url, key.secret);
    expect(bearer.csrf).toBeNull();
    const group = await bearer.post(`/api/v1/communities/${cid}/groups`, { name: 'By key' });
    expect(group.status).toBe(201);
    const groups = await db.handle.db.selectFrom('groups').select('name').where('community_id', '=', cid).execute();
    expect(groups.map((g) => g.name)).toEqual(['By key']);
  });

  it('password change: wrong current password is 400; a change signs out the other sessions only', async () => {
    const { server } = await fresh();
    const { client: c1 } = await signUp(server.url, 'pw@example.com');
    const { c: c2 } = await login(server.url, 'pw@example.com', TEST_PASSWORD);
    expect((await c2.get('/api/v1/auth/me')).status).toBe(200);

    const bad = await c1.post('/api/v1/auth/password', { current_password: 'not my password', new_password: NEW_PASSWORD });
    expect(bad.status).toBe(400);
    expect(bad.body.errors.map((e: { field: string }) => e.field)).toEqual(['current_password']);
    // A failed change changes nothing.
    expect((await c2.get('/api/v1/auth/me')).status).toBe(200);
    expect((await login(server.url, 'pw@example.com', NEW_PASSWORD)).r.status).toBe(401);

    expectOk(await c1.post('/api/v1/auth/password', { current_password: TEST_PASSWORD, new_password: NEW_PASSWORD }));
    expect((await c2.get('/api/v1/auth/me')).status).toBe(401);
    expect((await c1.get('/api/v1/auth/me')).status).toBe(200);
    // The current session can still write (its CSRF token still holds).
    expect((await c1.post('/api/v1/workspaces', { name: 'Still here' })).status).toBe(201);

    const old = await login(server.url, 'pw@example.com', TEST_PASSWORD);
    expect(old.r.status).toBe(401);
    expect(old.r.body.code).toBe('invalid_credentials');
    const renewed = await login(server.url, 'pw@example.com', NEW_PASSWORD);
    expect(renewed.r.status).toBe(200);
    expect((await renewed.c.get('/api/v1/auth/me')).body.user.email).toBe('pw@example.com');
  });

  it('lockout: 5 failures lock an email for 15 minutes, and an unknown email behaves exactly the same', async () => {
    const clock = fixedClock(new Date('2026-12-01T08:00:00.000Z'));
    const { server } = await fresh({ clock });
    await signUp(server.url, 'victim@example.com');
    await signUp(server.url, 'someone@example.com');

    const attempt = async (email: string, password: string) => {
      const { r } = await login(server.url, email, password);
      return { status: r.status, body: r.body };
    };

    // Unknown email and wrong password: same status, same body.
    const wrongPw = await attempt('someone@example.com', 'wrong password');
    const unknownEmail = await attempt('nobody@example.com', 'wrong password');
    expect(wrongPw.status).toBe(401);
    expect(wrongPw.body.code).toBe('invalid_credentials');
    expect(unknownEmail).toEqual(wrongPw);

    // Case variants of the email count against the same lock.
    const sequence = async (local: string) => {
      const out = [];
      for (const [i, pw] of ['w1', 'w2', 'w3', 'w4', 'w5', TEST_PASSWORD].entries()) {
        out.push(await attempt(`${i % 2 ? local.toUpperCase() : local}@example.com`, pw));
      }
      return out;
    };
    const existing = await sequence('victim');
    const missing = await sequence('ghost');
    expect(existing.map((a) => [a.status, a.body.code])).toEqual([
      [401, 'invalid_credentials'],
      [401, 'invalid_credentials'],
      [401, 'invalid_credentials'],
      [401, 'invalid_credentials'],
      [401, 'invalid_credentials'],
      [429, 'too_many_attempts'],
    ]);
    // The clock stands still, so even retry_after_seconds must match: 15 minutes.
    expect(existing[5]!.body.retry_after_seconds).toBe(900);
    expect(missing).toEqual(existing);

    clock.advance(10 * 60_000);
    const stillLocked = await attempt('victim@example.com', TEST_PASSWORD);
    expect(stillLocked.status).toBe(429);
    expect(stillLocked.body.retry_after_seconds).toBe(300);
    expect(await attempt('ghost@example.com', TEST_PASSWORD)).toEqual(stillLocked);

    clock.advance(6 * 60_000); // 16 minutes after the lock
    expect((await attempt('victim@example.com', TEST_PASSWORD)).status).toBe(200);
    expect(await attempt('ghost@example.com', TEST_PASSWORD)).toEqual(wrongPw);

    // A successful login clears the count: 4 + 4 failures around it never lock.
    const statuses = [];
    for (const pw of ['a', 'b', 'c', 'd', TEST_PASSWORD, 'e', 'f', 'g', 'h', TEST_PASSWORD]) statuses.push((await attempt('victim@example.com', pw)).status);
    expect(statuses).toEqual([401, 401, 401, 401, 200, 401, 401, 401, 401, 200]);
  });

  it('API keys: secret shown once, scoped, bound to one community, revocable, cannot mint keys', async () => {
    const { db, server } = await fresh();
    const { client: op, workspaceId } = await signUp(server.url, 'keys@example.com');
    const x = await createCommunity(op, workspaceId, 'comm-x');
    const y = await createCommunity(op, workspaceId, 'comm-y');
    const { client: stranger, workspaceId: strangerWs } = await signUp(server.url, 'stranger@example.com');
    const z = await createCommunity(stranger, strangerWs, 'comm-z');

    const created = await op.post(`/api/v1/communities/${x.id}/api-keys`, { name: 'reader', scopes: ['read'] });
    expect(created.status).toBe(201);
    const secret = created.body.secret as string;
    expect(secret.startsWith('yk_')).toBe(true);
    expect(created.body.key.scopes).toEqual(['read']);
    expect(created.body.key.prefix).toBe(secret.slice(0, 10));
    expect(created.body.key).not.toHaveProperty('secret');
    // Only a hash is stored.
    const stored = await db.handle.db.selectFrom('api_keys').select('key_hash').executeTakeFirstOrThrow();
    expect(stored.key_hash).not.toContain(secret);

    const list = await op.get(`/api/v1/communities/${x.id}/api-keys`);
    expect(list.status).toBe(200);
    expect(list.body.api_keys.map((k: { id: string }) => k.id)).toEqual([created.body.key.id]);
    expect(list.body.api_keys[0]).not.toHaveProperty('secret');
    expect(JSON.stringify(list.body)).not.toContain(secret);

    const reader = new Client(server.url, secret);
    expect(list.body.api_keys[0].last_used_at).toBeNull();
    expect((await reader.get(`/api/v1/communities/${x.id}`)).status).toBe(200);
    const used = expectOk(await op.get(`/api/v1/communities/${x.id}/api-keys`)).api_keys[0].last_used_at;
    expect(typeof used).toBe('string');
    const groups = await reader.get(`/api/v1/communities/${x.id}/groups`);
    expect(groups.status).toBe(200);
    expect(groups.body.groups).toEqual([]);
    expect((await reader.get(`/api/v1/communities/${x.id}/members`)).status).toBe(200);
    const write = await reader.post(`/api/v1/communities/${x.id}/groups`, { name: 'Nope' });
    expect(write.status).toBe(403);
    expect(write.body.code).toBe('insufficient_scope');
    const patch = await reader.patch(`/api/v1/communities/${x.id}`, { name: 'Renamed' });
    expect(patch.status).toBe(403);
    expect(patch.body.code).toBe('insufficient_scope');
    expect(await db.handle.db.selectFrom('groups').select('id').execute()).toEqual([]);

    // Another community, of the same workspace or not, does not exist for this key.
    for (const other of [y.id, z.id]) {
      const r = await reader.get(`/api/v1/communities/${other}`);
      expect(r.status).toBe(404);
      expect(r.body.code).toBe('community_not_found');
      expect((await reader.get(`/api/v1/communities/${other}/groups`)).status).toBe(404);
    }

    // A key with every scope still cannot create keys.
    const writer = expectOk(await op.post(`/api/v1/communities/${x.id}/api-keys`, { name: 'writer', scopes: ['read', 'write'] }), 201);
    const minted = await new Client(server.url, writer.secret).post(`/api/v1/communities/${x.id}/api-keys`, { name: 'escalate', scopes: ['read', 'write'] });
    expect(minted.status).toBe(403);
    expect(minted.body.code).toBe('forbidden');
    expect(expectOk(await op.get(`/api/v1/communities/${x.id}/api-keys`)).api_keys).toHaveLength(2);

    expectOk(await op.delete(`/api/v1/communities/${x.id}/api-keys/${created.body.key.id}`));
    const revoked = await reader.get(`/api/v1/communities/${x.id}`);
    expect(revoked.status).toBe(401);
    expect(revoked.body.code).toBe('unauthenticated');
    const after = expectOk(await op.get(`/api/v1/communities/${x.id}/api-keys`)).api_keys as { id: string; revoked_at: string | null }[];
    expect(after.find((k) => k.id === created.body.key.id)!.revoked_at).not.toBeNull();
    expect(after.find((k) => k.id === writer.key.id)!.revoked_at).toBeNull();
    expect((await op.delete(`/api/v1/communities/${x.id}/api-keys/${created.body.key.id}`)).status).toBe(404);
    // The other key still works; a made-up one does not.
    expect((await new Client(server.url, writer.secret).get(`/api/v1/communities/${x.id}`)).status).toBe(200);
    expect((await new Client(server.url, 'yk_madeup').get(`/api/v1/communities/${x.id}`)).status).toBe(401);
  });

  it('roles: a monitor sees only their groups and members and no admin routes; admins cannot appoint admins', async () => {
    const { server } = await fresh();
    const { client: owner, workspaceId } = await signUp(server.url, 'owner@example.com');
    const { client: mon, user: monUser } = await signUp(server.url, 'monitor@example.com');
    const { client: adm } = await signUp(server.url, 'admin@example.com');
    await signUp(server.url, 'leader@example.com');
    const { id: cid } = await createCommunity(owner, workspaceId, 'roles');
    const g1 = expectOk(await owner.post(`/api/v1/communities/${cid}/groups`, { name: 'G1' }), 201);
    const g2 = expectOk(await owner.post(`/api/v1/communities/${cid}/groups`, { name: 'G2' }), 201);

    const join = async (groupId: string, names: string[]) => {
      const link = expectOk(await owner.post(`/api/v1/communities/${cid}/links`, { name: `to ${groupId}`, channel: 'test', group_ids: [groupId] }), 201);
      const ids: string[] = [];
      for (const name of names) {
        const j = expectOk(await new Client(server.url).post(`/api/v1/public/links/${link.code}/join`, { name }));
        expect(j.member.group_id).toBe(groupId);
        ids.push(j.member.id);
      }
      return ids;
    };
    const inG1 = await join(g1.id, ['甲', '乙']);
    const inG2 = await join(g2.id, ['丙']);

    // Before any role the community does not exist for them.
    expect((await mon.get(`/api/v1/communities/${cid}`)).status).toBe(404);

    expectOk(await owner.post(`/api/v1/communities/${cid}/staff`, { email: 'Monitor@Example.com', role: 'monitor' }));
    expect(expectOk(await mon.get(`/api/v1/communities/${cid}`)).your_role).toBe('monitor');
    // A monitor of no group yet reaches nothing.
    expect(expectOk(await mon.get(`/api/v1/communities/${cid}/groups`)).groups).toEqual([]);
    expect(expectOk(await mon.get(`/api/v1/communities/${cid}/members`)).members).toEqual([]);

    expect(expectOk(await owner.patch(`/api/v1/communities/${cid}/groups/${g1.id}`, { monitor_user_id: monUser.id })).monitor_user_id).toBe(monUser.id);

    const seen = expectOk(await mon.get(`/api/v1/communities/${cid}/groups`)).groups as { id: string }[];
    expect(seen.map((g) => g.id)).toEqual([g1.id]);
    const members = expectOk(await mon.get(`/api/v1/communities/${cid}/members`)).members as { id: string; group_id: string }[];
    expect(members.map((m) => m.id).sort()).toEqual([...inG1].sort());
    expect(members.every((m) => m.group_id === g1.id)).toBe(true);
    expect((await mon.get(`/api/v1/communities/${cid}/members/${inG1[0]}`)).status).toBe(200);
    const hidden = await mon.get(`/api/v1/communities/${cid}/members/${inG2[0]}`);
    expect(hidden.status).toBe(404);
    expect(hidden.body.code).toBe('member_not_found');
    expect((await mon.get(`/api/v1/communities/${cid}/groups/${g2.id}`)).status).toBe(404);
    // The owner sees both groups and all three members.
    expect(expectOk(await owner.get(`/api/v1/communities/${cid}/members`)).members).toHaveLength(3);

    const adminOnly: [string, string, unknown?][] = [
      ['PATCH', `/api/v1/communities/${cid}`, { name: 'Renamed' }],
      ['POST', `/api/v1/communities/${cid}/groups`, { name: 'G3' }],
      ['PATCH', `/api/v1/communities/${cid}/groups/${g1.id}`, { name: 'Mine now' }],
      ['GET', `/api/v1/communities/${cid}/health`],
      ['GET', `/api/v1/communities/${cid}/api-keys`],
      ['POST', `/api/v1/communities/${cid}/staff`, { email: 'leader@example.com', role: 'leader' }],
    ];
    for (const [method, path, body] of adminOnly) {
      const r = await mon.request(method, path, body);
      expect([method, path, r.status, r.body.code]).toEqual([method, path, 403, 'forbidden']);
    }
    const community = expectOk(await owner.get(`/api/v1/communities/${cid}`));
    expect(community.name).toBe('roles');
    expect(expectOk(await owner.get(`/api/v1/communities/${cid}/groups`)).groups.map((g: { name: string }) => g.name).sort()).toEqual(['G1', 'G2']);

    // An admin appointed by the owner can appoint monitors/leaders but not admins.
    expectOk(await owner.post(`/api/v1/communities/${cid}/staff`, { email: 'admin@example.com', role: 'admin' }));
    expect(expectOk(await adm.get(`/api/v1/communities/${cid}`)).your_role).toBe('admin');
    const escalate = await adm.post(`/api/v1/communities/${cid}/staff`, { email: 'monitor@example.com', role: 'admin' });
    expect(escalate.status).toBe(403);
    expect(escalate.body.code).toBe('forbidden');
    expect(expectOk(await mon.get(`/api/v1/communities/${cid}`)).your_role).toBe('monitor');
    expectOk(await adm.post(`/api/v1/communities/${cid}/staff`, { email: 'leader@example.com', role: 'leader' }));
    const staff = expectOk(await owner.get(`/api/v1/communities/${cid}/staff`)).staff as { email: string; role: string }[];
    expect(Object.fromEntries(staff.map((s) => [s.email, s.role]))).toEqual({
      'owner@example.com': 'owner',
      'monitor@example.com': 'monitor',
      'admin@example.com': 'admin',
      'leader@example.com': 'leader',
    });

    // Nor can an admin demote or remove another admin; the owner can.
    const { client: adm2 } = await signUp(server.url, 'admin2@example.com');
    expectOk(await owner.post(`/api/v1/communities/${cid}/staff`, { email: 'admin2@example.com', role: 'admin' }));
    const demote = await adm.post(`/api/v1/communities/${cid}/staff`, { email: 'admin2@example.com', role: 'leader' });
    expect([demote.status, demote.body.code]).toEqual([403, 'forbidden']);
    const admin2Id = expectOk(await adm2.get('/api/v1/auth/me')).user.id as string;
    const removal = await adm.delete(`/api/v1/communities/${cid}/staff/${admin2Id}`);
    expect([removal.status, removal.body.code]).toEqual([403, 'forbidden']);
    expect(expectOk(await adm2.get(`/api/v1/communities/${cid}`)).your_role).toBe('admin');
    expectOk(await owner.delete(`/api/v1/communities/${cid}/staff/${admin2Id}`));
    expect((await adm2.get(`/api/v1/communities/${cid}`)).status).toBe(404);
  });
});
