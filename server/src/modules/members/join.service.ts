import type { JoinRequest, Threshold } from '../../../../contracts/src/index.js';
import { isPostgres, type Trx } from '../../db/kysely.js';
import { encodeJson, json } from '../../db/codecs.js';
import type { Deps } from '../../lib/deps.js';
import { AppError } from '../../lib/errors.js';
import { newId, secretToken } from '../../lib/ids.js';
import { sha256 } from '../../lib/hash.js';
import { insertEvent } from '../events/index.js';
import { findCommunityById } from '../communities/index.js';
import { findGroupsByIds } from '../groups/index.js';
import { assertUsable, routeThroughLink, lockLink, type EntryLink } from '../links/index.js';
import { evaluateThreshold, type ApplicantFacts, type Evaluation } from '../thresholds/index.js';
import {
  activeProductIds,
  countInvitedMembers,
  findApplication,
  findMember,
  findMemberByExternalId,
  findPendingApplications,
  type Application,
  type MemberRow,
  UNSTARTED_MEMBER,
} from './members.repo.js';

/**
 * The threshold in force for a link: that of the first group of its pool when the group has its
 * own, else the community's. Groups that share a pool should share a threshold.
 */
async function thresholdFor(trx: Trx, link: EntryLink): Promise<Threshold> {
  const [first] = await findGroupsByIds(trx, link.community_id, link.group_ids.slice(0, 1));
  if (first?.threshold) return first.threshold;
  const community = await findCommunityById(trx, link.community_id);
  return community!.threshold;
}

export async function applicantFacts(trx: Trx, a: Application, now: string): Promise<ApplicantFacts> {
  const needsInvites = a.threshold.criteria.some((c) => c.type === 'invitation');
  const needsPaid = a.threshold.criteria.some((c) => c.type === 'paid');
  return {
    answers: a.answers,
    reviews: a.reviews,
    invitedMembers: needsInvites ? await countInvitedMembers(trx, a.community_id, a.member_id) : 0,
    activeProductIds: needsPaid ? await activeProductIds(trx, a.member_id, now) : new Set(),
  };
}

export interface JoinOutcome {
  memberId: string;
  communityId: string;
  applicationId: string;
  memberToken?: string;
  next: 'wait_for_threshold' | 'onboarding' | 'done' | 'rejected';
}

/**
 * Someone follows an entry link and asks to join. Creates (or, for a returning member presenting
 * their member token, reuses) the member record, opens an application against the threshold in
 * force, and admits them at once when it passes. All in one transaction with its events.
 */
export async function joinThroughLink(
  deps: Deps,
  code: string,
  input: JoinRequest,
  returning: { memberId: string; communityId: string } | null,
): Promise<JoinOutcome> {
  const now = deps.clock.now();
  const at = now.toISOString();
  return deps.db.transaction().execute(async (trx) => {
    const byCode = await trx.selectFrom('entry_links').select('id').where('code', '=', code).executeTakeFirst();
    if (!byCode) throw new AppError('link_not_found', 404, 'link not found');
    const link = await lockLink(trx, byCode.id);
    assertUsable(link, now);
    const referrer = link.owner_member_id;

    let member: MemberRow | undefined;
    let token: string | undefined;
    if (returning) {
      if (returning.communityId !== link.community_id) throw new AppError('link_not_found', 404, 'link not found');
      member = await findMember(trx, link.community_id, returning.memberId);
    } else if (input.external_id && (await findMemberByExternalId(trx, link.community_id, input.external_id))) {
      throw new AppError('identity_in_use', 409, 'Someone with this id is already known here; continue with your member link', [
        { field: 'external_id', message: 'already registered in this community' },
      ]);
    }
    if (member) {
      if (member.banned) throw new AppError('member_banned', 403, 'You were removed from this community and cannot rejoin');
      if (member.status === 'active' || member.status === 'onboarding') {
        throw new AppError('already_member', 409, 'You are already a member of this community');
      }
      // A second pending application would seat the member a second time when both pass.
      if ((await findPendingApplications(trx, link.community_id, [member.id])).length) {
        throw new AppError('invalid_state', 409, 'Your application is still waiting; follow its progress at GET /api/v1/member');
      }
    } else {
      token = `ymt_${secretToken()}`;
      const id = newId('mem');
      await trx
        .insertInto('members')
        .values({
          id,
          community_id: link.community_id,
          external_id: input.external_id ?? null,
          display_name: input.name,
          status: 'applicant',
          profile: encodeJson(input.profile ?? {}),
          token_hash: sha256(token),
          entry_link_id: link.id,
          channel: link.channel,
          referrer_member_id: referrer,
          ...UNSTARTED_MEMBER,
          created_at: at,
          updated_at: at,
        })
        .execute();
      member = (await findMember(trx, link.community_id, id))!;
    }

    // A use is an application through the link, counted under the link's lock, so a cap of N lets
    // exactly N people in even when some of them pass their threshold much later.
    await trx.updateTable('entry_links').set((eb) => ({ uses: eb('uses', '+', 1) })).where('id', '=', link.id).execute();
    const applicationId = newId('app');
    await trx
      .insertInto('applications')
      .values({
        id: applicationId,
        community_id: link.community_id,
        member_id: member.id,
        entry_link_id: link.id,
        threshold: encodeJson(await thresholdFor(trx, link)),
        answers: encodeJson(input.answers ?? {}),
        reviews: encodeJson({}),
        status: 'pending',
        created_at: at,
        updated_at: at,
      })
      .execute();
    if (member.status !== 'applicant') {
      await trx.updateTable('members').set({ status: 'applicant', updated_at: at }).where('id', '=', member.id).execute();
    }
    await insertEvent(
      trx,
      {
        community_id: link.community_id,
        type: 'applied',
        occurred_at: at,
        member_id: member.id,
        entry_link_id: link.id,
        channel: link.channel,
        referrer_member_id: referrer,
        props: input.visitor_id ? { visitor_id: input.visitor_id } : {},
      },
      at,
    );
    const next = await settleApplication(trx, link.community_id, applicationId, at);
    const outcome: JoinOutcome = { memberId: member.id, communityId: link.community_id, applicationId, next };
    if (token) outcome.memberToken = token;
    return outcome;
  });
}

/**
 * Re-evaluates a pending application and acts on the result: admit on pass, reject on fail, or
 * leave it pending. Called on apply, review, payment grants and every invitee's join.
 */
/** Evaluates the member's pending applications again, after something their threshold looks at changed (a membership). */
export async function settlePendingApplications(trx: Trx, communityId: string, memberId: string, at: string): Promise<void> {
  const pending = await trx.selectFrom('applications').select('id').where('member_id', '=', memberId).where('status', '=', 'pending').execute();
  for (const a of pending) await settleApplication(trx, communityId, a.id, at);
}

export async function settleApplication(trx: Trx, communityId: string, applicationId: string, at: string, depth = 0): Promise<JoinOutcome['next']> {
  const a = await findApplication(trx, communityId, applicationId);
  if (!a) throw new AppError('application_not_found', 404, 'application not found');
  if (a.status === 'passed') return 'done';
  if (a.status === 'rejected') return 'rejected';
  const evaluation: Evaluation = evaluateThreshold(a.threshold, await applicantFacts(trx, a, at));
  if (evaluation.status === 'pending') return 'wait_for_threshold';
  const member = (await findMember(trx, communityId, a.member_id))!;
  if (evaluation.status === 'failed') {
    await trx.updateTable('applications').set({ status: 'rejected', decided_at: at, updated_at: at }).where('id', '=', a.id).execute();
    await trx.updateTable('members').set({ status: 'rejected', updated_at: at }).where('id', '=', member.id).execute();
    await insertEvent(trx, { community_id: communityId, type: 'application_rejected', occurred_at: at, member_id: member.id, entry_link_id: a.entry_link_id }, at);
    return 'rejected';
  }
  await trx.updateTable('applications').set({ status: 'passed', decided_at: at, updated_at: at }).where('id', '=', a.id).execute();
  return admit(trx, member, a, at, depth);
}

async function admit(trx: Trx, member: MemberRow, a: Application, at: string, depth: number): Promise<JoinOutcome['next']> {
  const communityId = member.community_id;
  if (!a.entry_link_id) throw new Error(`application ${a.id} has no entry link to route through`);
  const facts = { ...json<Record<string, string>>(member.profile), ...a.answers };
  const { groupId } = await routeThroughLink(trx, a.entry_link_id, facts, at);
  const link = await lockLink(trx, a.entry_link_id);
  const referrer = link.owner_member_id !== member.id ? link.owner_member_id : null;
  await trx
    .insertInto('member_spans')
    .values({
      id: newId('spn'),
      community_id: communityId,
      member_id: member.id,
      group_id: groupId,
      entry_link_id: link.id,
      referrer_member_id: referrer,
      joined_at: at,
      left_at: null,
      left_kind: null,
    })
    .execute();
  const onboarded = !!member.onboarded_at;
  await trx
    .updateTable('members')
    .set({
      status: onboarded ? 'active' : 'onboarding',
      current_group_id: groupId,
      first_joined_at: member.first_joined_at ?? at,
      last_joined_at: at,
      left_at: null,
      removal_reason: null,
      updated_at: at,
    })
    .where('id', '=', member.id)
    .execute();
  const attribution = { entry_link_id: link.id, channel: link.channel, referrer_member_id: referrer };
  if (a.threshold.criteria.length) {
    await insertEvent(trx, { community_id: communityId, type: 'threshold_passed', occurred_at: at, member_id: member.id, group_id: groupId, ...attribution, props: { application_id: a.id } }, at);
  }
  await insertEvent(
    trx,
    {
      community_id: communityId,
      type: 'joined',
      occurred_at: at,
      member_id: member.id,
      group_id: groupId,
      ...attribution,
      props: { rejoin: !!member.first_joined_at },
    },
    at,
  );
  // The referrer may have been waiting for this join to pass an invitation threshold.
  if (referrer && depth < 8) {
    // Concurrent invitee joins (through different links of one referrer) take turns here, so each
    // counts the invitees committed before it: none is lost, and the application passes once.
    if (isPostgres(trx)) {
      await trx.selectFrom('applications').select('id').where('member_id', '=', referrer).where('status', '=', 'pending').forUpdate().execute();
    }
    for (const pending of await findPendingApplications(trx, communityId, [referrer])) {
      await settleApplication(trx, communityId, pending.id, at, depth + 1);
    }
  }
  return onboarded ? 'done' : 'onboarding';
}
