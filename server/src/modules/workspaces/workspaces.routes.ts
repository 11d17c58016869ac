import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { CreateWorkspace, IdParams, listOf, WorkspaceOut } from '../../../../contracts/src/index.js';
import { sessionUserId } from '../../http/access.js';
import type { Deps } from '../../lib/deps.js';
import { notFound } from '../../lib/errors.js';
import { createWorkspaceForUser, listWorkspacesForUser } from './workspaces.service.js';

export const workspaceRoutes =
  (deps: Deps): FastifyPluginAsyncZod =>
  async (app) => {
    app.get(
      '/api/v1/workspaces',
      {
        config: { access: { kind: 'user' } },
        schema: { tags: ['workspaces'], summary: 'Workspaces of the signed-in account', response: { 200: listOf('workspaces', WorkspaceOut) } },
      },
      async (req) => ({ workspaces: await listWorkspacesForUser(deps.db, sessionUserId(req)) }),
    );

    app.post(
      '/api/v1/workspaces',
      {
        config: { access: { kind: 'user' } },
        schema: {
          tags: ['workspaces'],
          summary: 'Create a workspace (a brand, or an agency’s client)',
          body: CreateWorkspace,
          response: { 201: WorkspaceOut },
        },
      },
      async (req, reply) => {
        const userId = sessionUserId(req);
        const id = await createWorkspaceForUser(deps.db, userId, req.body.name, deps.clock.now().toISOString());
        const ws = (await listWorkspacesForUser(deps.db, userId)).find((w) => w.id === id);
        return reply.code(201).send(ws!);
      },
    );

    app.get(
      '/api/v1/workspaces/:workspaceId',
      {
        config: { access: { kind: 'workspace', role: 'admin' } },
        schema: { tags: ['workspaces'], params: IdParams('workspaceId'), response: { 200: WorkspaceOut } },
      },
      async (req) => {
        const ws = (await listWorkspacesForUser(deps.db, sessionUserId(req))).find((w) => w.id === req.params.workspaceId);
        if (!ws) throw notFound('workspace');
        return ws;
      },
    );
  };
