import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { ApiKeyCreatedOut, ApiKeyOut, CreateApiKey, IdParams, listOf, Ok } from '../../../../contracts/src/index.js';
import { requireActor } from '../../http/access.js';
import type { Deps } from '../../lib/deps.js';
import { forbidden } from '../../lib/errors.js';
import { createApiKey, listApiKeys, revokeApiKey } from './apikeys.service.js';

export const apiKeyRoutes =
  (deps: Deps): FastifyPluginAsyncZod =>
  async (app) => {
    const tags = ['api keys'];
    const access = { access: { kind: 'community', role: 'admin' } } as const;
    app.get(
      '/api/v1/communities/:communityId/api-keys',
      { config: access, schema: { tags, params: IdParams('communityId'), response: { 200: listOf('api_keys', ApiKeyOut) } } },
      async (req) => ({ api_keys: await listApiKeys(deps, requireActor(req).communityId) }),
    );
    app.post(
      '/api/v1/communities/:communityId/api-keys',
      { config: access, schema: { tags, summary: 'Create a scoped API key; the secret is shown once', params: IdParams('communityId'), body: CreateApiKey, response: { 201: ApiKeyCreatedOut } } },
      async (req, reply) => {
        const { actor, communityId } = requireActor(req);
        // A key cannot mint keys: otherwise a leaked read key could escalate itself.
        if (!actor.userId) throw forbidden('API keys are created by signed-in staff');
        return reply.code(201).send(await createApiKey(deps, communityId, req.body.name, req.body.scopes, actor.userId));
      },
    );
    app.delete(
      '/api/v1/communities/:communityId/api-keys/:keyId',
      { config: access, schema: { tags, params: IdParams('communityId', 'keyId'), response: { 200: Ok } } },
      async (req) => {
        await revokeApiKey(deps, requireActor(req).communityId, req.params.keyId);
        return { ok: true as const };
      },
    );
  };
