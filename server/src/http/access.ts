import type { FastifyRequest } from 'fastify';
import type { ApiScope, CommunityRole, WorkspaceRole } from '../../../contracts/src/index.js';

/**
 * Every route declares who may call it in `config.access`; the server refuses to start with a route
 * that does not (see app.ts), and the tenancy test walks every route with another tenant's ids.
 */
export type Access =
  | { kind: 'public' }
  | { kind: 'user' }
  | { kind: 'workspace'; role: WorkspaceRole }
  | { kind: 'community'; role: CommunityRole; scope?: ApiScope }
  | { kind: 'member' }
  /** Server-to-server routes that name no community: the API key's own community is the one acted on. */
  | { kind: 'apikey'; scope: ApiScope };

export const ROLE_RANK: Record<CommunityRole, number> = { owner: 5, admin: 4, monitor: 3, leader: 2, member: 1 };

export interface SessionAuth {
  kind: 'session';
  userId: string;
  sessionId: string;
  csrfToken: string;
}
export interface ApiKeyAuth {
  kind: 'apikey';
  keyId: string;
  communityId: string;
  scopes: ApiScope[];
}
export interface MemberAuth {
  kind: 'member';
  memberId: string;
  communityId: string;
}
export type Auth = SessionAuth | ApiKeyAuth | MemberAuth | { kind: 'none' };

/**
 * The caller as services see it inside one community. `groupIds` is null for HQ (owner, admin,
 * API keys): a monitor or leader only reaches the groups they run.
 */
export interface Actor {
  userId: string | null;
  apiKeyId: string | null;
  role: CommunityRole;
  groupIds: ReadonlySet<string> | null;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: Access;
  }
  interface FastifyRequest {
    auth: Auth;
    actor: Actor | null;
    communityId: string | null;
  }
}

export function sessionUserId(req: FastifyRequest): string {
  if (req.auth.kind !== 'session') throw new Error('route is not session-authenticated');
  return req.auth.userId;
}

export function requireActor(req: FastifyRequest): { actor: Actor; communityId: string } {
  if (!req.actor || !req.communityId) throw new Error('route is not community-scoped');
  return { actor: req.actor, communityId: req.communityId };
}

export function requireMember(req: FastifyRequest): MemberAuth {
  if (req.auth.kind !== 'member') throw new Error('route is not member-authenticated');
  return req.auth;
}
