import { hash, verify } from '@node-rs/argon2';
import type { ChangePassword, Login, Signup } from '../../../../contracts/src/index.js';
import { AppError } from '../../lib/errors.js';
import { newId, secretToken } from '../../lib/ids.js';
import { sha256 } from '../../lib/hash.js';
import type { Deps } from '../../lib/deps.js';
import { findLoginAttempts, findUnrevokedSession, findUserByEmail, findUserById } from './auth.repo.js';
import { createWorkspaceForUser, claimOwnerlessWorkspaces } from '../workspaces/workspaces.service.js';

/** OWASP's recommended argon2id parameters (19 MiB, 2 passes). */
// algorithm 2 is Argon2id (a const enum in the typings, so spelled as its value).
const ARGON = { algorithm: 2, memoryCost: 19_456, timeCost: 2, parallelism: 1 };
export const SESSION_TTL_MS = 30 * 24 * 3600 * 1000;
/** Lockout: this many failures inside the window lock the address for LOCK_MS. */
export const MAX_FAILURES = 5;
const FAILURE_WINDOW_MS = 15 * 60 * 1000;
const LOCK_MS = 15 * 60 * 1000;

let dummyHash: Promise<string> | null = null;
/** Verifying against a throwaway hash keeps unknown emails as slow as wrong passwords. */
const getDummyHash = () => (dummyHash ??= hash(secretToken(), ARGON));

export const normalizeEmail = (email: string) => email.trim().toLowerCase();

export interface NewSession {
  token: string;
  sessionId: string;
  userId: string;
  csrfToken: string;
}

interface ClientInfo {
  ip: string | null;
  userAgent: string | null;
}

async function startSession(deps: Deps, userId: string, client: ClientInfo): Promise<NewSession> {
  const token = secretToken();
  const now = deps.clock.now();
  const session = {
    id: sha256(token),
    user_id: userId,
    csrf_token: secretToken(24),
    ip: client.ip,
    user_agent: client.userAgent?.slice(0, 300) ?? null,
    created_at: now.toISOString(),
    expires_at: new Date(now.getTime() + SESSION_TTL_MS).toISOString(),
    revoked_at: null,
  };
  await deps.db.insertInto('sessions').values(session).execute();
  return { token, sessionId: session.id, userId, csrfToken: session.csrf_token };
}

/**
 * Creates an account and its workspace, and signs it in. The first account of an install owns the
 * install and takes over any workspace nobody owns yet (the demo).
 */
export async function signup(deps: Deps, input: Signup, client: ClientInfo): Promise<NewSession> {
  const email = normalizeEmail(input.email);
  const passwordHash = await hash(input.password, ARGON);
  const userId = newId('usr');
  const now = deps.clock.now().toISOString();
  await deps.db.transaction().execute(async (trx) => {
    const owner = await trx.selectFrom('users').select('id').where('is_install_owner', '=', 1).executeTakeFirst();
    if (owner && deps.config.signup === 'closed') {
      throw new AppError('signup_closed', 403, 'Sign-up is closed on this installation');
    }
    if (await findUserByEmail(trx, email)) {
      throw new AppError('email_taken', 409, 'An account with this email already exists', [
        { field: 'email', message: 'already registered' },
      ]);
    }
    await trx
      .insertInto('users')
      .values({
        id: userId,
        email,
        name: input.name,
        password_hash: passwordHash,
        is_install_owner: owner ? 0 : 1,
        created_at: now,
        password_changed_at: now,
      })
      .execute();
    await createWorkspaceForUser(trx, userId, input.workspace_name ?? `${input.name}`, now);
    if (!owner) await claimOwnerlessWorkspaces(trx, userId, now);
  });
  return startSession(deps, userId, client);
}

/**
 * Signs in. The answer for an unknown email, a wrong password and a locked address is chosen so it
 * never tells whether an account exists: failures are counted per email whether or not it exists.
 */
export async function login(deps: Deps, input: Login, client: ClientInfo): Promise<NewSession> {
  const email = normalizeEmail(input.email);
  const key = sha256(`login:${email}`);
  const now = deps.clock.now();
  const attempts = await findLoginAttempts(deps.db, key);
  if (attempts?.locked_until && attempts.locked_until > now.toISOString()) {
    throw new AppError('too_many_attempts', 429, 'Too many failed attempts; try again later', undefined, {
      retry_after_seconds: Math.ceil((Date.parse(attempts.locked_until) - now.getTime()) / 1000),
    });
  }
  const user = await findUserByEmail(deps.db, email);
  const ok = await verify(user?.password_hash ?? (await getDummyHash()), input.password).catch(() => false);
  if (!user || !ok) {
    await recordFailure(deps, key, attempts, now);
    throw new AppError('invalid_credentials', 401, 'Email or password is wrong');
  }
  if (attempts) await deps.db.deleteFrom('login_attempts').where('key', '=', key).execute();
  return startSession(deps, user.id, client);
}

async function recordFailure(
  deps: Deps,
  key: string,
  previous: { failures: number; window_started_at: string } | undefined,
  now: Date,
) {
  const fresh = !previous || now.getTime() - Date.parse(previous.window_started_at) > FAILURE_WINDOW_MS;
  const failures = fresh ? 1 : previous.failures + 1;
  const row = {
    key,
    failures,
    window_started_at: fresh ? now.toISOString() : previous.window_started_at,
    locked_until: failures >= MAX_FAILURES ? new Date(now.getTime() + LOCK_MS).toISOString() : null,
  };
  await deps.db
    .insertInto('login_attempts')
    .values(row)
    .onConflict((oc) => oc.column('key').doUpdateSet({
      failures: row.failures,
      window_started_at: row.window_started_at,
      locked_until: row.locked_until,
    }))
    .execute();
}

/** Revokes the session, or with `everywhereForUser` every live session of that account. */
export async function logout(deps: Deps, sessionId: string, everywhereForUser: string | null = null): Promise<void> {
  const q = deps.db.updateTable('sessions').set({ revoked_at: deps.clock.now().toISOString() }).where('revoked_at', 'is', null);
  await (everywhereForUser ? q.where('user_id', '=', everywhereForUser) : q.where('id', '=', sessionId)).execute();
  deps.authCache?.forgetSession(sessionId);
  if (everywhereForUser) deps.authCache?.forgetUser(everywhereForUser);
}

/** Changing the password signs out every other session of the account. */
export async function changePassword(deps: Deps, userId: string, sessionId: string, input: ChangePassword) {
  const user = await findUserById(deps.db, userId);
  if (!user || !(await verify(user.password_hash, input.current_password).catch(() => false))) {
    throw new AppError('invalid_credentials', 400, 'Current password is wrong', [
      { field: 'current_password', message: 'does not match' },
    ]);
  }
  const passwordHash = await hash(input.new_password, ARGON);
  const now = deps.clock.now().toISOString();
  await deps.db.transaction().execute(async (trx) => {
    await trx.updateTable('users').set({ password_hash: passwordHash, password_changed_at: now }).where('id', '=', userId).execute();
    await trx
      .updateTable('sessions')
      .set({ revoked_at: now })
      .where('user_id', '=', userId)
      .where('id', '!=', sessionId)
      .where('revoked_at', 'is', null)
      .execute();
  });
  deps.authCache?.forgetUser(userId);
}

/** The live session a cookie token names, or null (unknown, revoked or expired). */
export async function resolveSession(deps: Deps, token: string) {
  const load = async () => {
    const id = sha256(token);
    const row = await findUnrevokedSession(deps.db, id);
    return row ? { id, ...row } : null;
  };
  const s = deps.authCache ? await deps.authCache.session(token, Date.now(), load) : await load();
  if (!s || s.expires_at <= deps.clock.now().toISOString()) return null;
  return s;
}

export async function getUser(deps: Deps, userId: string) {
  const user = await findUserById(deps.db, userId);
  if (!user) throw new AppError('unauthenticated', 401, 'Sign in first');
  return user;
}
