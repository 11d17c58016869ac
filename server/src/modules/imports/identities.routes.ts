import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { IdParams, IdentityPage, ListIdentitiesQuery, MergeMembers, MergeResult, SplitIdentity, SplitResult } from '../../../../contracts/src/index.js';
import { requireActor } from '../../http/access.js';
import type { Deps } from '../../lib/deps.js';
import { listIdentities, mergeMembers, splitIdentity } from './identities.service.js';

/** Identities: how imported platforms name members; operators merge members and split identities off. */
export const identityRoutes =
  (deps: Deps): FastifyPluginAsyncZod =>
  async (app) => {
    const tags = ['identities'];
    const access = { access: { kind: 'community', role: 'admin' } } as const;
    app.get(
      '/api/v1/communities/:communityId/identities',
      { config: access, schema: { tags, summary: 'Platform identities with their member', params: IdParams('communityId'), querystring: ListIdentitiesQuery, response: { 200: IdentityPage } } },
      async (req) => listIdentities(deps, requireActor(req).communityId, req.query),
    );
    app.post(
      '/api/v1/communities/:communityId/identities/merge',
      {
        config: access,
        schema: { tags, summary: 'Merge two members for later imports: from_member_id’s identities move to member_id', params: IdParams('communityId'), body: MergeMembers, response: { 200: MergeResult } },
      },
      async (req) => {
        const { actor, communityId } = requireActor(req);
        return mergeMembers(deps, communityId, actor, req.body.member_id, req.body.from_member_id);
      },
    );
    app.post(
      '/api/v1/communities/:communityId/identities/split',
      { config: access, schema: { tags, summary: 'Split an identity off into a new member for later imports', params: IdParams('communityId'), body: SplitIdentity, response: { 200: SplitResult } } },
      async (req) => {
        const { actor, communityId } = requireActor(req);
        return splitIdentity(deps, communityId, actor, req.body.identity_id);
      },
    );
  };
