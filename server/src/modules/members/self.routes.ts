import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import {
  AcceptRules,
  JoinRequest,
  JoinResult,
  LeaveRequest,
  LinkOut,
  MemberSelfOut,
  PostIntroduction,
  SetNickname,
} from '../../../../contracts/src/index.js';
import { z } from 'zod';
import { requireMember } from '../../http/access.js';
import type { Deps } from '../../lib/deps.js';
import { getCommunity } from '../communities/index.js';
import { presentLink } from '../links/index.js';
import { findMember } from './members.repo.js';
import { presentMember } from './members.present.js';
import { joinThroughLink } from './join.service.js';
import { latestApplicationView, leave, memberInviteLink, onboardingStep } from './members.service.js';

/**
 * What a person does themselves: join through a link (public) and, with the member token the join
 * returns, go through onboarding, invite friends and leave.
 */
export const selfRoutes =
  (deps: Deps, limits: { publicPerMinute: number }): FastifyPluginAsyncZod =>
  async (app) => {
    const tags = ['member self-service'];

    async function selfView(communityId: string, memberId: string) {
      const m = (await findMember(deps.db, communityId, memberId))!;
      const c = await getCommunity(deps, communityId);
      const { welcome_message, ...rules } = c.rules;
      return {
        member: presentMember(m),
        application: await latestApplicationView(deps, memberId),
        rules,
        welcome: m.status === 'active' ? { message: welcome_message, perks: c.rules.perks } : null,
      };
    }

    app.post(
      '/api/v1/public/links/:code/join',
      {
        config: { access: { kind: 'public' }, rateLimit: { max: limits.publicPerMinute, timeWindow: '1 minute' } },
        schema: {
          tags,
          summary: 'Join through an entry link: apply, pass the threshold, get a seat',
          description: 'A returning member sends their member token as a bearer token to rejoin under the same record.',
          params: z.object({ code: z.string().min(1).max(32) }),
          body: JoinRequest,
          response: { 200: JoinResult },
        },
      },
      async (req) => {
        const returning = req.auth.kind === 'member' ? { memberId: req.auth.memberId, communityId: req.auth.communityId } : null;
        const visitor = req.body.visitor_id ?? req.cookies.yt_visitor;
        const out = await joinThroughLink(deps, req.params.code, { ...req.body, ...(visitor && { visitor_id: visitor }) }, returning);
        const m = await findMember(deps.db, out.communityId, out.memberId);
        return {
          member: presentMember(m!),
          application: (await latestApplicationView(deps, out.memberId))!,
          ...(out.memberToken && { member_token: out.memberToken }),
          next: out.next,
        };
      },
    );

    const member = { access: { kind: 'member' } } as const;
    app.get('/api/v1/member', { config: member, schema: { tags, summary: 'My membership, threshold progress and onboarding', response: { 200: MemberSelfOut } } }, async (req) => {
      const me = requireMember(req);
      return selfView(me.communityId, me.memberId);
    });

    const steps = [
      ['rules', AcceptRules, 'Accept the community rules'],
      ['nickname', SetNickname, 'Set my nickname in the community’s format'],
      ['introduction', PostIntroduction, 'Post my self-introduction'],
    ] as const;
    for (const [step, body, summary] of steps) {
      app.post(
        `/api/v1/member/onboarding/${step}`,
        { config: member, schema: { tags, summary, body, response: { 200: MemberSelfOut } } },
        async (req) => {
          const me = requireMember(req);
          const b = req.body as Record<string, unknown>;
          await onboardingStep(deps, me.communityId, me.memberId, step, String(b.nickname ?? b.text ?? ''));
          return selfView(me.communityId, me.memberId);
        },
      );
    }

    app.post('/api/v1/member/leave', { config: member, schema: { tags, summary: 'Leave the community', body: LeaveRequest, response: { 200: MemberSelfOut } } }, async (req) => {
      const me = requireMember(req);
      await leave(deps, me.communityId, me.memberId, req.body.reason);
      return selfView(me.communityId, me.memberId);
    });

    app.get('/api/v1/member/invite-link', { config: member, schema: { tags, summary: 'My own invite link: joins through it are my referrals', response: { 200: LinkOut } } }, async (req) => {
      const me = requireMember(req);
      return presentLink(deps, await memberInviteLink(deps, me.communityId, me.memberId));
    });
  };
