import type { FastifyInstance, FastifyRequest, preValidationHookHandler } from 'fastify';
import type { Deps } from '../lib/deps.js';
import { AppError, forbidden } from '../lib/errors.js';
import { sha256 } from '../lib/hash.js';
import { json } from '../db/codecs.js';
import type { ApiScope } from '../../../contracts/src/index.js';
import { ROLE_RANK, type Access, type Auth } from './access.js';
import { SESSION_COOKIE, resolveSession } from '../modules/auth/index.js';
import { findWorkspaceRole } from '../modules/workspaces/index.js';
import { resolveCommunityActor } from '../modules/communities/communities.access.js';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
const unauthenticated = () => new AppError('unauthenticated', 401, 'Sign in or send a valid bearer token');
const communityNotFound = () => new AppError('community_not_found', 404, 'community not found');

/**
 * Bearer tokens: `yk_…` API keys (server to server, one community, scoped) and `ymt_…` member tokens
 * (a member acting on their own record). Otherwise the session cookie.
 */
async function authenticate(deps: Deps, req: FastifyRequest): Promise<Auth> {
  const header = req.headers.authorization;
  if (header) {
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match?.[1]) throw unauthenticated();
    const token = match[1];
    if (token.startsWith('yk_')) {
      const key = await deps.db
        .selectFrom('api_keys')
        .select(['id', 'community_id', 'scopes', 'last_used_at'])
        .where('key_hash', '=', sha256(token))
        .where('revoked_at', 'is', null)
        .executeTakeFirst();
      if (!key) throw unauthenticated();
      const now = deps.clock.now();
      // Operators see when a key was last used; once a minute is precise enough and keeps reads cheap.
      if (!key.last_used_at || now.getTime() - Date.parse(key.last_used_at) > 60_000) {
        await deps.db.updateTable('api_keys').set({ last_used_at: now.toISOString() }).where('id', '=', key.id).execute();
      }
      return { kind: 'apikey', keyId: key.id, communityId: key.community_id, scopes: json<ApiScope[]>(key.scopes) };
    }
    if (token.startsWith('ymt_')) {
      const member = await deps.db
        .selectFrom('members')
        .select(['id', 'community_id'])
        .where('token_hash', '=', sha256(token))
        .executeTakeFirst();
      if (!member) throw unauthenticated();
      return { kind: 'member', memberId: member.id, communityId: member.community_id };
    }
    throw unauthenticated();
  }
  const cookie = req.cookies[SESSION_COOKIE];
  if (cookie) {
    const session = await resolveSession(deps, cookie);
    if (session) return { kind: 'session', userId: session.user_id, sessionId: session.id, csrfToken: session.csrf_token };
  }
  return { kind: 'none' };
}

function requiredScope(access: Extract<Access, { kind: 'community' }>, method: string): ApiScope {
  return access.scope ?? (SAFE_METHODS.has(method) ? 'read' : 'write');
}

export function decorateForGuard(app: FastifyInstance) {
  app.decorateRequest('auth', null as never);
  app.decorateRequest('actor', null);
  app.decorateRequest('communityId', null);
}

/**
 * The hook that authorizes a route's requests before their input is validated, so that a caller
 * without access learns nothing about the route's schema. Community routes resolve the caller's
 * role from `:communityId`; a community the caller has no part in answers 404, not 403, so ids
 * don't leak. app.ts attaches one to every route from the route's declared access.
 */
export function guardFor(deps: Deps, access: Access): preValidationHookHandler {
  const check = async (req: FastifyRequest) => {
    req.auth = await authenticate(deps, req);
    if (access.kind === 'public') return;

    if (req.auth.kind === 'session' && !SAFE_METHODS.has(req.method)) {
      if (req.headers['x-csrf-token'] !== req.auth.csrfToken) {
        throw new AppError('csrf_failed', 403, 'Missing or wrong X-CSRF-Token header for a cookie-authenticated write');
      }
    }

    const params = (req.params ?? {}) as Record<string, string | undefined>;
    switch (access.kind) {
      case 'user':
        if (req.auth.kind !== 'session') throw unauthenticated();
        return;
      case 'member':
        if (req.auth.kind !== 'member') throw unauthenticated();
        return;
      case 'apikey':
        if (req.auth.kind !== 'apikey') throw unauthenticated();
        if (!req.auth.scopes.includes(access.scope)) throw new AppError('insufficient_scope', 403, `This API key lacks the ${access.scope} scope`);
        req.actor = { userId: null, apiKeyId: req.auth.keyId, role: 'admin', groupIds: null };
        req.communityId = req.auth.communityId;
        return;
      case 'workspace': {
        if (req.auth.kind !== 'session') throw unauthenticated();
        const role = await findWorkspaceRole(deps.db, req.auth.userId, params.workspaceId ?? '');
        if (!role) throw new AppError('workspace_not_found', 404, 'workspace not found');
        if (access.role === 'owner' && role !== 'owner') throw forbidden();
        return;
      }
      case 'community': {
        const communityId = params.communityId ?? '';
        if (req.auth.kind === 'apikey') {
          if (req.auth.communityId !== communityId) throw communityNotFound();
          const scope = requiredScope(access, req.method);
          if (!req.auth.scopes.includes(scope)) {
            throw new AppError('insufficient_scope', 403, `This API key lacks the ${scope} scope`);
          }
          if (ROLE_RANK[access.role] > ROLE_RANK.admin) throw forbidden('Only an owner can do this');
          req.actor = { userId: null, apiKeyId: req.auth.keyId, role: 'admin', groupIds: null };
        } else if (req.auth.kind === 'session') {
          const { userId } = req.auth;
          const load = () => resolveCommunityActor(deps.db, userId, communityId);
          const actor = deps.authCache ? await deps.authCache.actor(userId, communityId, Date.now(), load) : await load();
          if (!actor) throw communityNotFound();
          if (ROLE_RANK[actor.role] < ROLE_RANK[access.role]) throw forbidden();
          req.actor = actor;
        } else {
          throw unauthenticated();
        }
        req.communityId = communityId;
        return;
      }
    }
  };
  // Callback style, so that the common case (a signed-in read whose session and role are cached)
  // is decided without a single promise; everything else takes the full path.
  return (req, _reply, done) => {
    if (fastPath(deps, access, req)) return done();
    check(req).then(() => done(), done);
  };
}

/** Authorizes a cookie-session read of a community route from the auth cache alone, when it can. */
function fastPath(deps: Deps, access: Access, req: FastifyRequest): boolean {
  const cache = deps.authCache;
  if (!cache || access.kind !== 'community' || req.headers.authorization || !SAFE_METHODS.has(req.method)) return false;
  const token = req.cookies[SESSION_COOKIE];
  if (!token) return false;
  const now = Date.now();
  const session = cache.peekSession(token, now);
  if (!session || session.expires_at <= deps.clock.now().toISOString()) return false;
  const communityId = (req.params as Record<string, string | undefined>).communityId ?? '';
  const actor = cache.peekActor(session.user_id, communityId, now);
  if (!actor || ROLE_RANK[actor.role] < ROLE_RANK[access.role]) return false;
  req.auth = { kind: 'session', userId: session.user_id, sessionId: session.id, csrfToken: session.csrf_token };
  req.actor = actor;
  req.communityId = communityId;
  return true;
}
