import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  ApplicationOut,
  exampleOf,
  GrantMembership,
  IdParams,
  ListMembersQuery,
  listOf,
  MemberOut,
  MembershipOut,
  RemoveMember,
  ReviewApplication,
} from '../../../../contracts/src/index.js';
import { requireActor } from '../../http/access.js';
import type { Deps } from '../../lib/deps.js';
import { presentMember } from './members.present.js';
import {
  applicationView,
  getMemberFor,
  grantMembership,
  listApplications,
  listMembers,
  removeMember,
  reviewApplication,
} from './members.service.js';

/** Staff-facing member routes. Monitors and leaders reach only members seated in their groups. */
export const memberRoutes =
  (deps: Deps): FastifyPluginAsyncZod =>
  async (app) => {
    const tags = ['members'];
    app.get(
      '/api/v1/communities/:communityId/members',
      {
        config: { access: { kind: 'community', role: 'leader' } },
        schema: {
          tags,
          summary: 'Members with their attribution (entry link, channel, referrer)',
          params: IdParams('communityId'),
          querystring: ListMembersQuery,
          response: { 200: z.object({ members: z.array(MemberOut), next_cursor: z.string().nullable() }).meta({ examples: [{ members: [exampleOf(MemberOut)], next_cursor: 'mem_0mx9qwwmn00005a32aa7ca686519b' }] }) },
        },
      },
      async (req) => {
        const { actor, communityId } = requireActor(req);
        const { limit, cursor, ...filter } = req.query;
        const rows = await listMembers(deps, communityId, actor, filter, limit, cursor);
        return { members: rows.map(presentMember), next_cursor: rows.length === limit ? rows.at(-1)!.id : null };
      },
    );
    app.get(
      '/api/v1/communities/:communityId/members/:memberId',
      { config: { access: { kind: 'community', role: 'leader' } }, schema: { tags, params: IdParams('communityId', 'memberId'), response: { 200: MemberOut } } },
      async (req) => {
        const { actor, communityId } = requireActor(req);
        return presentMember(await getMemberFor(deps, communityId, actor, req.params.memberId));
      },
    );
    app.post(
      '/api/v1/communities/:communityId/members/:memberId/remove',
      {
        config: { access: { kind: 'community', role: 'leader' } },
        schema: { tags, summary: 'Remove a member from their group, with a reason', params: IdParams('communityId', 'memberId'), body: RemoveMember, response: { 200: MemberOut } },
      },
      async (req) => {
        const { actor, communityId } = requireActor(req);
        await removeMember(deps, communityId, actor, req.params.memberId, req.body.reason, req.body.ban);
        return presentMember(await getMemberFor(deps, communityId, { ...actor, groupIds: null }, req.params.memberId));
      },
    );
    app.post(
      '/api/v1/communities/:communityId/members/:memberId/memberships',
      {
        config: { access: { kind: 'community', role: 'admin' } },
        schema: { tags, summary: 'Grant a membership product (satisfies a paid threshold)', params: IdParams('communityId', 'memberId'), body: GrantMembership, response: { 201: MembershipOut } },
      },
      async (req, reply) => {
        const { actor, communityId } = requireActor(req);
        return reply.code(201).send(await grantMembership(deps, communityId, actor, req.params.memberId, req.body.product_id, req.body.expires_at));
      },
    );
    app.get(
      '/api/v1/communities/:communityId/applications',
      {
        config: { access: { kind: 'community', role: 'admin' } },
        schema: {
          tags,
          summary: 'Applications; `queue=review` lists those waiting for a staff decision',
          params: IdParams('communityId'),
          querystring: z.strictObject({ status: z.enum(['pending', 'passed', 'rejected']).default('pending'), queue: z.enum(['all', 'review']).default('all') }),
          response: { 200: listOf('applications', ApplicationOut) },
        },
      },
      async (req) => ({ applications: await listApplications(deps, requireActor(req).communityId, req.query.status, req.query.queue === 'review') }),
    );
    app.get(
      '/api/v1/communities/:communityId/applications/:applicationId',
      { config: { access: { kind: 'community', role: 'admin' } }, schema: { tags, params: IdParams('communityId', 'applicationId'), response: { 200: ApplicationOut } } },
      async (req) => applicationView(deps, requireActor(req).communityId, req.params.applicationId),
    );
    app.post(
      '/api/v1/communities/:communityId/applications/:applicationId/review',
      {
        config: { access: { kind: 'community', role: 'admin' } },
        schema: { tags, summary: 'Approve or reject what waits for review', params: IdParams('communityId', 'applicationId'), body: ReviewApplication, response: { 200: ApplicationOut } },
      },
      async (req) => {
        const { actor, communityId } = requireActor(req);
        return reviewApplication(deps, communityId, actor, req.params.applicationId, req.body.decision);
      },
    );
  };

