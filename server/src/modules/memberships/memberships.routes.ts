import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { CancelMembership, IdParams, MembershipStateOut, PauseMembership, SetAutoRenew } from '../../../../contracts/src/index.js';
import { requireActor, requireMember } from '../../http/access.js';
import type { Deps } from '../../lib/deps.js';
import { cancelMembership, pauseMembership, presentMembershipState, setMembershipAutoRenew } from './memberships.service.js';

/** Cancel at period end and automatic renewal (the member), pause (the member or staff). */
export const membershipRoutes =
  (deps: Deps): FastifyPluginAsyncZod =>
  async (app) => {
    const tags = ['memberships'];
    const member = { access: { kind: 'member' } } as const;
    const out = { 200: MembershipStateOut };

    app.post(
      '/api/v1/member/memberships/:membershipId/cancel',
      { config: member, schema: { tags, summary: 'Cancel my membership at the end of its period', params: IdParams('membershipId'), body: CancelMembership, response: out } },
      async (req) => {
        const me = requireMember(req);
        return presentMembershipState(await cancelMembership(deps, me.communityId, me.memberId, req.params.membershipId, req.body.reason), deps.clock.now());
      },
    );
    app.post(
      '/api/v1/member/memberships/:membershipId/auto-renew',
      {
        config: member,
        schema: {
          tags,
          summary: 'Turn automatic renewal of my membership on or off',
          description: 'On: the saved payment method is charged before expiry (409 `payment_method_required` without one). Cancelling at period end turns it off.',
          params: IdParams('membershipId'),
          body: SetAutoRenew,
          response: out,
        },
      },
      async (req) => {
        const me = requireMember(req);
        return presentMembershipState(await setMembershipAutoRenew(deps, me.communityId, me.memberId, req.params.membershipId, req.body.enabled), deps.clock.now());
      },
    );
    app.post(
      '/api/v1/member/memberships/:membershipId/pause',
      { config: member, schema: { tags, summary: 'Pause my membership; the paused time is added to its expiry', params: IdParams('membershipId'), body: PauseMembership, response: out } },
      async (req) => {
        const me = requireMember(req);
        return presentMembershipState(await pauseMembership(deps, me.communityId, req.params.membershipId, req.body.until, { memberId: me.memberId }), deps.clock.now());
      },
    );
    app.post(
      '/api/v1/communities/:communityId/memberships/:membershipId/pause',
      {
        config: { access: { kind: 'community', role: 'admin' } },
        schema: { tags, summary: 'Pause a member’s membership; the paused time is added to its expiry', params: IdParams('communityId', 'membershipId'), body: PauseMembership, response: out },
      },
      async (req) => {
        const { actor, communityId } = requireActor(req);
        return presentMembershipState(await pauseMembership(deps, communityId, req.params.membershipId, req.body.until, actor.userId ? { userId: actor.userId } : {}), deps.clock.now());
      },
    );
  };
