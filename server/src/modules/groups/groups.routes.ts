import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { CreateGroup, GroupOut, IdParams, listOf, OrgNodeOut, UpdateGroup } from '../../../../contracts/src/index.js';
import { requireActor } from '../../http/access.js';
import type { Deps } from '../../lib/deps.js';
import type { Group } from './groups.repo.js';
import { createGroup, getGroup, listGroups, orgTree, updateGroup } from './groups.service.js';

export const presentGroup = ({ seated, ...g }: Group) => ({ ...g, seated, free_seats: Math.max(0, g.capacity - seated) });

export const groupRoutes =
  (deps: Deps): FastifyPluginAsyncZod =>
  async (app) => {
    const tags = ['groups'];
    app.get(
      '/api/v1/communities/:communityId/groups',
      {
        config: { access: { kind: 'community', role: 'leader' } },
        schema: { tags, summary: 'The group matrix (社群矩阵); monitors and leaders see their own groups', params: IdParams('communityId'), response: { 200: listOf('groups', GroupOut) } },
      },
      async (req) => {
        const { actor, communityId } = requireActor(req);
        return { groups: (await listGroups(deps, communityId, actor)).map(presentGroup) };
      },
    );
    app.post(
      '/api/v1/communities/:communityId/groups',
      {
        config: { access: { kind: 'community', role: 'admin' } },
        schema: { tags, params: IdParams('communityId'), body: CreateGroup, response: { 201: GroupOut } },
      },
      async (req, reply) => {
        const { actor, communityId } = requireActor(req);
        return reply.code(201).send(presentGroup(await createGroup(deps, communityId, actor, req.body)));
      },
    );
    app.get(
      '/api/v1/communities/:communityId/groups/:groupId',
      {
        config: { access: { kind: 'community', role: 'leader' } },
        schema: { tags, params: IdParams('communityId', 'groupId'), response: { 200: GroupOut } },
      },
      async (req) => {
        const { actor, communityId } = requireActor(req);
        return presentGroup(await getGroup(deps, communityId, actor, req.params.groupId));
      },
    );
    app.patch(
      '/api/v1/communities/:communityId/groups/:groupId',
      {
        config: { access: { kind: 'community', role: 'admin' } },
        schema: { tags, params: IdParams('communityId', 'groupId'), body: UpdateGroup, response: { 200: GroupOut } },
      },
      async (req) => {
        const { actor, communityId } = requireActor(req);
        return presentGroup(await updateGroup(deps, communityId, actor, req.params.groupId, req.body));
      },
    );
    app.get(
      '/api/v1/communities/:communityId/org-tree',
      {
        config: { access: { kind: 'community', role: 'leader' } },
        schema: { tags, summary: 'Organization tree HQ → monitor → leader → groups', params: IdParams('communityId'), response: { 200: OrgNodeOut } },
      },
      async (req) => {
        const { actor, communityId } = requireActor(req);
        return orgTree(deps, communityId, actor);
      },
    );
  };
