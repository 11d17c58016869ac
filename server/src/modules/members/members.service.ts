import type { Trx } from '../../db/kysely.js';
import type { Deps } from '../../lib/deps.js';
import { AppError, notFound } from '../../lib/errors.js';
import { newId } from '../../lib/ids.js';
import type { Actor } from '../../http/access.js';
import { insertEvent } from '../events/index.js';
import { canReachGroup, getCommunity } from '../communities/index.js';
import { releaseSeat } from '../groups/index.js';
import { findMemberLink, insertLink, findLink, type EntryLink } from '../links/index.js';
import {
  closeOpenSpan,
  findApplication,
  findLatestApplication,
  findMember,
  listMembersPage,
  toApplication,
  type MemberFilter,
  type MemberRow,
} from './members.repo.js';
import { applicantFacts, settleApplication, settlePendingApplications } from './join.service.js';
import { nicknameRule } from './nickname.js';
import { presentApplication } from './members.present.js';

/** Shortest self-introduction we accept; templates are usually filled with more. */
export const MIN_INTRODUCTION_CHARS = 10;

export async function getMemberFor(deps: Deps, communityId: string, actor: Actor, memberId: string): Promise<MemberRow> {
  const m = await findMember(deps.db, communityId, memberId);
  if (!m || !canReachGroup(actor, m.current_group_id)) throw notFound('member');
  return m;
}

export const listMembers = (deps: Deps, communityId: string, actor: Actor, f: MemberFilter, limit: number, cursor?: string) =>
  listMembersPage(deps.db, communityId, { ...f, groupIds: actor.groupIds }, limit, cursor);

export async function applicationView(deps: Deps, communityId: string, applicationId: string) {
  return deps.db.transaction().execute(async (trx) => {
    const a = await findApplication(trx, communityId, applicationId);
    if (!a) throw notFound('application');
    return presentApplication(a, await applicantFacts(trx, a, deps.clock.now().toISOString()));
  });
}

export async function latestApplicationView(deps: Deps, memberId: string) {
  return deps.db.transaction().execute(async (trx) => {
    const a = await findLatestApplication(trx, memberId);
    return a ? presentApplication(a, await applicantFacts(trx, a, deps.clock.now().toISOString())) : null;
  });
}

/** Oldest first, at most 500; the review queue is what waits for a staff decision. */
export async function listApplications(deps: Deps, communityId: string, status: 'pending' | 'passed' | 'rejected', reviewOnly: boolean) {
  const now = deps.clock.now().toISOString();
  const views = await deps.db.transaction().execute(async (trx) => {
    const rows = await trx
      .selectFrom('applications')
      .selectAll()
      .where('community_id', '=', communityId)
      .where('status', '=', status)
      .orderBy('created_at')
      .limit(500)
      .execute();
    const out = [];
    for (const row of rows) {
      const a = toApplication(row);
      out.push(presentApplication(a, await applicantFacts(trx, a, now)));
    }
    return out;
  });
  // Invitation and payment progress waits on the applicant, not on staff.
  return reviewOnly ? views.filter((v) => v.needs_review) : views;
}

/** Staff decision on every criterion of the application that waits for review. */
export async function reviewApplication(deps: Deps, communityId: string, actor: Actor, applicationId: string, decision: 'approve' | 'reject') {
  const at = deps.clock.now().toISOString();
  await deps.db.transaction().execute(async (trx) => {
    const a = await findApplication(trx, communityId, applicationId);
    if (!a) throw notFound('application');
    if (a.status !== 'pending') throw new AppError('invalid_state', 409, `The application is already ${a.status}`);
    const reviews = { ...a.reviews };
    a.threshold.criteria.forEach((c, i) => {
      if (c.type === 'application' || c.type === 'questionnaire') reviews[String(i)] = decision === 'approve' ? 'approved' : 'rejected';
    });
    await trx.updateTable('applications').set({ reviews: JSON.stringify(reviews), updated_at: at }).where('id', '=', a.id).execute();
    await insertEvent(trx, { community_id: communityId, type: 'application_reviewed', occurred_at: at, member_id: a.member_id, actor_user_id: actor.userId, props: { application_id: a.id, decision } }, at);
    await settleApplication(trx, communityId, a.id, at);
  });
  return applicationView(deps, communityId, applicationId);
}

/**
 * Staff grant a membership without an order (a gift, a sale made elsewhere). It starts now and
 * settles the member's pending applications, as a paid threshold may be waiting for it.
 */
export async function grantMembership(deps: Deps, communityId: string, actor: Actor, memberId: string, productId: string, expiresAt?: string | null) {
  const now = deps.clock.now();
  const at = now.toISOString();
  return deps.db.transaction().execute(async (trx) => {
    const m = await findMember(trx, communityId, memberId);
    if (!m) throw notFound('member');
    const p = await trx.selectFrom('products').selectAll().where('community_id', '=', communityId).where('id', '=', productId).executeTakeFirst();
    if (!p) throw new AppError('product_not_found', 404, 'product not found', [{ field: 'product_id', message: 'no such product in this community' }]);
    const expires =
      expiresAt !== undefined
        ? expiresAt && new Date(expiresAt).toISOString()
        : p.term === 'permanent' || !p.term
          ? null
          : new Date(now.getTime() + (p.term === 'annual' ? 365 : p.term_days ?? 0) * 86400_000).toISOString();
    const id = newId('msp');
    await trx
      .insertInto('memberships')
      .values({ id, community_id: communityId, member_id: m.id, product_id: p.id, source: 'admin_grant', granted_by_user_id: actor.userId, starts_at: at, expires_at: expires ?? null, created_at: at })
      .execute();
    await insertEvent(trx, { community_id: communityId, type: 'membership_granted', occurred_at: at, member_id: m.id, actor_user_id: actor.userId, props: { membership_id: id, product_id: p.id, expires_at: expires ?? null } }, at);
    await settlePendingApplications(trx, communityId, m.id, at);
    return { id, member_id: m.id, product_id: p.id, source: 'admin_grant', starts_at: at, expires_at: expires ?? null, active: true };
  });
}

export async function closeSpan(trx: Trx, m: MemberRow, kind: 'left' | 'removed', at: string) {
  await closeOpenSpan(trx, m.id, kind, at);
  if (m.current_group_id) await releaseSeat(trx, m.current_group_id, at);
}

export async function leave(deps: Deps, communityId: string, memberId: string, reason: string | undefined) {
  const at = deps.clock.now().toISOString();
  await deps.db.transaction().execute(async (trx) => {
    const m = await findMember(trx, communityId, memberId);
    if (!m) throw notFound('member');
    if (m.status !== 'active' && m.status !== 'onboarding') throw new AppError('invalid_state', 409, 'You are not a member right now');
    await closeSpan(trx, m, 'left', at);
    await trx.updateTable('members').set({ status: 'left', left_at: at, current_group_id: null, updated_at: at }).where('id', '=', m.id).execute();
    await insertEvent(trx, { community_id: communityId, type: 'left', occurred_at: at, member_id: m.id, group_id: m.current_group_id, props: reason ? { reason } : {} }, at);
  });
}

export async function removeMember(deps: Deps, communityId: string, actor: Actor, memberId: string, reason: string, ban: boolean) {
  const at = deps.clock.now().toISOString();
  await deps.db.transaction().execute(async (trx) => {
    const m = await findMember(trx, communityId, memberId);
    if (!m || !canReachGroup(actor, m.current_group_id)) throw notFound('member');
    if (m.status !== 'active' && m.status !== 'onboarding') throw new AppError('invalid_state', 409, `The member is ${m.status}, not in a group`);
    await closeSpan(trx, m, 'removed', at);
    await trx
      .updateTable('members')
      .set({ status: 'removed', left_at: at, current_group_id: null, removal_reason: reason, banned: ban ? 1 : 0, updated_at: at })
      .where('id', '=', m.id)
      .execute();
    await insertEvent(trx, { community_id: communityId, type: 'removed', occurred_at: at, member_id: m.id, group_id: m.current_group_id, actor_user_id: actor.userId, props: { reason, ban } }, at);
  });
}

type Step = 'rules' | 'nickname' | 'introduction';

/**
 * One onboarding step (入群): accept the rules, set a nickname in the community's format, post a
 * self-introduction. When all three are done the member becomes active and gets the welcome.
 */
export async function onboardingStep(deps: Deps, communityId: string, memberId: string, step: Step, value: string) {
  const community = await getCommunity(deps, communityId);
  const at = deps.clock.now().toISOString();
  await deps.db.transaction().execute(async (trx) => {
    const m = await findMember(trx, communityId, memberId);
    if (!m) throw notFound('member');
    if (m.status !== 'onboarding' && m.status !== 'active') {
      throw new AppError('invalid_state', 409, 'Onboarding starts once you have joined a group');
    }
    const patch: Partial<Pick<MemberRow, 'rules_accepted_at' | 'nickname' | 'introduction' | 'introduced_at'>> = {};
    let type: string;
    if (step === 'rules') {
      patch.rules_accepted_at = m.rules_accepted_at ?? at;
      type = 'rules_accepted';
    } else if (step === 'nickname') {
      const rule = nicknameRule(community.rules.nickname_format);
      if (!rule.matches(value)) {
        throw new AppError('nickname_format', 400, `The nickname must follow the format: ${rule.explain}`, [
          { field: 'nickname', message: `expected ${rule.explain}` },
        ]);
      }
      patch.nickname = value.trim();
      type = 'nickname_set';
    } else {
      const text = value.trim();
      const template = community.rules.introduction_template.trim();
      const problem =
        [...text].length < MIN_INTRODUCTION_CHARS
          ? `write at least ${MIN_INTRODUCTION_CHARS} characters`
          : template && text === template
            ? 'fill in the template instead of sending it unchanged'
            : /[{【［]\s*[^}】］]*[}】］]/.test(text) && /[{【［]/.test(template)
              ? 'replace every placeholder of the template with your own words'
              : null;
      if (problem) throw new AppError('validation_failed', 400, `Introduction: ${problem}`, [{ field: 'text', message: problem }]);
      patch.introduction = text;
      patch.introduced_at = at;
      type = 'introduced';
    }
    await trx.updateTable('members').set({ ...patch, updated_at: at }).where('id', '=', m.id).execute();
    await insertEvent(trx, { community_id: communityId, type, occurred_at: at, member_id: m.id, group_id: m.current_group_id }, at);
    const after = (await findMember(trx, communityId, memberId))!;
    if (after.status === 'onboarding' && after.rules_accepted_at && after.nickname && after.introduced_at) {
      await trx.updateTable('members').set({ status: 'active', onboarded_at: at, updated_at: at }).where('id', '=', m.id).execute();
      await insertEvent(trx, { community_id: communityId, type: 'onboarded', occurred_at: at, member_id: m.id, group_id: m.current_group_id, entry_link_id: m.entry_link_id, channel: m.channel, referrer_member_id: m.referrer_member_id }, at);
    }
  });
}

/**
 * The member's own invite link (poster code): joins through it are their referrals. Invitees go to
 * the groups an invitation threshold names, else to the groups that have no threshold of their own.
 */
export async function memberInviteLink(deps: Deps, communityId: string, memberId: string): Promise<EntryLink> {
  const at = deps.clock.now().toISOString();
  const id = await deps.db.transaction().execute(async (trx) => {
    const existing = await findMemberLink(trx, communityId, memberId);
    if (existing) return existing.id;
    const m = await findMember(trx, communityId, memberId);
    if (!m) throw notFound('member');
    if (m.status === 'rejected' || m.status === 'removed') throw new AppError('invalid_state', 409, 'Only members and applicants can invite');
    const pending = await findLatestApplication(trx, memberId);
    const criterion = pending?.threshold.criteria.find((c) => c.type === 'invitation');
    let pool = criterion?.type === 'invitation' ? (criterion.invitee_group_ids ?? []) : [];
    if (!pool.length) {
      // Groups made in one request (or on a fixed clock) share `created_at`; PostgreSQL returns such
      // ties in whatever order the rows lie in the table, which seat updates and vacuum reshuffle.
      // The id breaks the tie in creation order, so invitees fill groups in a fixed order (and a
      // seeded demo is the same every time).
      const groups = await trx
        .selectFrom('groups')
        .select(['id', 'threshold', 'status'])
        .where('community_id', '=', communityId)
        .orderBy('created_at')
        .orderBy('id')
        .execute();
      pool = groups.filter((g) => g.threshold === null && g.status !== 'archived').map((g) => g.id);
    }
    if (!pool.length) throw new AppError('invalid_state', 409, 'The community has no open group without its own threshold for invitees');
    return insertLink(trx, communityId, { name: `${m.nickname ?? m.display_name}`, channel: 'member_invite', group_ids: pool, owner_member_id: m.id }, at);
  });
  return (await findLink(deps.db, communityId, id))!;
}

