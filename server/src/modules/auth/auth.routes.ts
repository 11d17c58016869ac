import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ChangePassword, Login, Logout, Ok, SessionOut, Signup } from '../../../../contracts/src/index.js';
import { sessionUserId } from '../../http/access.js';
import type { Deps } from '../../lib/deps.js';
import { flag } from '../../db/codecs.js';
import { listWorkspacesForUser } from '../workspaces/index.js';
import { SESSION_TTL_MS, changePassword, getUser, login, logout, signup, type NewSession } from './auth.service.js';

export const SESSION_COOKIE = 'yt_session';

const client = (req: FastifyRequest) => ({ ip: req.ip ?? null, userAgent: req.headers['user-agent'] ?? null });

export const authRoutes =
  (deps: Deps, limits: { loginPerMinute: number }): FastifyPluginAsyncZod =>
  async (app) => {
    async function present(userId: string, csrfToken: string) {
      const user = await getUser(deps, userId);
      return {
        user: { id: user.id, email: user.email, name: user.name, is_install_owner: flag(user.is_install_owner), created_at: user.created_at },
        workspaces: await listWorkspacesForUser(deps.db, user.id),
        csrf_token: csrfToken,
      };
    }

    function setCookie(req: FastifyRequest, reply: FastifyReply, s: NewSession) {
      reply.setCookie(SESSION_COOKIE, s.token, {
        path: '/',
        httpOnly: true,
        sameSite: 'lax',
        secure: req.protocol === 'https',
        maxAge: SESSION_TTL_MS / 1000,
      });
    }

    const limited = { rateLimit: { max: limits.loginPerMinute, timeWindow: '1 minute' } };

    app.post(
      '/api/v1/auth/signup',
      {
        config: { access: { kind: 'public' }, ...limited },
        schema: { tags: ['auth'], summary: 'Create an account and its workspace; signs in', body: Signup, response: { 201: SessionOut } },
      },
      async (req, reply) => {
        const s = await signup(deps, req.body, client(req));
        setCookie(req, reply, s);
        return reply.code(201).send(await present(s.userId, s.csrfToken));
      },
    );

    app.post(
      '/api/v1/auth/login',
      {
        config: { access: { kind: 'public' }, ...limited },
        schema: { tags: ['auth'], summary: 'Sign in (a new session cookie each time)', body: Login, response: { 200: SessionOut } },
      },
      async (req, reply) => {
        // A new session on every login: a session id planted before login is never promoted.
        const s = await login(deps, req.body, client(req));
        setCookie(req, reply, s);
        return present(s.userId, s.csrfToken);
      },
    );

    app.post(
      '/api/v1/auth/logout',
      {
        config: { access: { kind: 'user' } },
        schema: { tags: ['auth'], summary: 'Revoke this session (or every session) on the server', body: Logout, response: { 200: Ok } },
      },
      async (req, reply) => {
        if (req.auth.kind === 'session') await logout(deps, req.auth.sessionId, req.body?.everywhere ? req.auth.userId : null);
        reply.clearCookie(SESSION_COOKIE, { path: '/' });
        return { ok: true as const };
      },
    );

    app.get(
      '/api/v1/auth/me',
      { config: { access: { kind: 'user' } }, schema: { tags: ['auth'], summary: 'The signed-in account', response: { 200: SessionOut } } },
      async (req) => {
        if (req.auth.kind !== 'session') throw new Error('unreachable');
        return present(req.auth.userId, req.auth.csrfToken);
      },
    );

    app.post(
      '/api/v1/auth/password',
      {
        config: { access: { kind: 'user' }, ...limited },
        schema: { tags: ['auth'], summary: 'Change password; other sessions are signed out', body: ChangePassword, response: { 200: Ok } },
      },
      async (req) => {
        if (req.auth.kind !== 'session') throw new Error('unreachable');
        await changePassword(deps, sessionUserId(req), req.auth.sessionId, req.body);
        return { ok: true as const };
      },
    );
  };
