import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { type z } from 'zod';
import {
  AssignStaff,
  CommunityOut,
  CreateCommunity,
  HealthOut,
  IdParams,
  listOf,
  Ok,
  StaffOut,
  Threshold,
  UpdateCommunity,
} from '../../../../contracts/src/index.js';
import { requireActor, sessionUserId } from '../../http/access.js';
import type { Deps } from '../../lib/deps.js';
import type { Community } from './communities.repo.js';
import { listStaff } from './communities.repo.js';
import {
  assignStaff,
  createCommunity,
  getCommunity,
  health,
  listCommunities,
  removeStaff,
  setCommunityThreshold,
  updateCommunity,
} from './communities.service.js';

export const presentCommunity = (c: Community, role?: z.infer<typeof CommunityOut>['your_role']) => ({ ...c, your_role: role });

export const communityRoutes =
  (deps: Deps): FastifyPluginAsyncZod =>
  async (app) => {
    const tags = ['communities'];
    const CommunityParams = IdParams('communityId');

    app.get(
      '/api/v1/workspaces/:workspaceId/communities',
      {
        config: { access: { kind: 'workspace', role: 'admin' } },
        schema: { tags, params: IdParams('workspaceId'), response: { 200: listOf('communities', CommunityOut) } },
      },
      async (req) => ({ communities: (await listCommunities(deps, req.params.workspaceId)).map((c) => presentCommunity(c)) }),
    );

    app.post(
      '/api/v1/workspaces/:workspaceId/communities',
      {
        config: { access: { kind: 'workspace', role: 'admin' } },
        schema: {
          tags,
          summary: 'Create a community with its positioning',
          params: IdParams('workspaceId'),
          body: CreateCommunity,
          response: { 201: CommunityOut },
        },
      },
      async (req, reply) => {
        const c = await createCommunity(deps, req.params.workspaceId, req.body, { actorUserId: sessionUserId(req) });
        return reply.code(201).send(presentCommunity(c, 'owner'));
      },
    );

    app.get(
      '/api/v1/communities/:communityId',
      { config: { access: { kind: 'community', role: 'leader' } }, schema: { tags, params: CommunityParams, response: { 200: CommunityOut } } },
      async (req) => {
        const { actor, communityId } = requireActor(req);
        return presentCommunity(await getCommunity(deps, communityId), actor.role);
      },
    );

    app.patch(
      '/api/v1/communities/:communityId',
      {
        config: { access: { kind: 'community', role: 'admin' } },
        schema: { tags, params: CommunityParams, body: UpdateCommunity, response: { 200: CommunityOut } },
      },
      async (req) => {
        const { actor, communityId } = requireActor(req);
        return presentCommunity(await updateCommunity(deps, communityId, req.body), actor.role);
      },
    );

    app.put(
      '/api/v1/communities/:communityId/threshold',
      {
        config: { access: { kind: 'community', role: 'admin' } },
        schema: { tags, summary: 'Set the community’s entry threshold (门槛)', params: CommunityParams, body: Threshold, response: { 200: CommunityOut } },
      },
      async (req) => {
        const { actor, communityId } = requireActor(req);
        return presentCommunity(await setCommunityThreshold(deps, communityId, req.body), actor.role);
      },
    );

    app.get(
      '/api/v1/communities/:communityId/health',
      {
        config: { access: { kind: 'community', role: 'admin' } },
        schema: { tags, summary: 'Which of the five elements and four pillars are missing or weak', params: CommunityParams, response: { 200: HealthOut } },
      },
      async (req) => health(deps, requireActor(req).communityId),
    );

    app.get(
      '/api/v1/communities/:communityId/staff',
      { config: { access: { kind: 'community', role: 'admin' } }, schema: { tags, params: CommunityParams, response: { 200: listOf('staff', StaffOut) } } },
      async (req) => {
        const c = await getCommunity(deps, requireActor(req).communityId);
        return { staff: await listStaff(deps.db, c.id, c.workspace_id) };
      },
    );

    app.post(
      '/api/v1/communities/:communityId/staff',
      {
        config: { access: { kind: 'community', role: 'admin' } },
        schema: { tags, summary: 'Give an account a staff role (admin, monitor 班长, leader 组长)', params: CommunityParams, body: AssignStaff, response: { 200: Ok } },
      },
      async (req) => {
        const { actor, communityId } = requireActor(req);
        await assignStaff(deps, communityId, actor, req.body);
        return { ok: true as const };
      },
    );

    app.delete(
      '/api/v1/communities/:communityId/staff/:userId',
      {
        config: { access: { kind: 'community', role: 'admin' } },
        schema: { tags, params: IdParams('communityId', 'userId'), response: { 200: Ok } },
      },
      async (req) => {
        const { actor, communityId } = requireActor(req);
        await removeStaff(deps, communityId, actor, req.params.userId);
        return { ok: true as const };
      },
    );
  };
