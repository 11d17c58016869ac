import { json } from '../../db/codecs.js';
import type { MemberStatus } from '../../../../contracts/src/index.js';
import { evaluateThreshold, type ApplicantFacts } from '../thresholds/index.js';
import type { Application, MemberRow } from './members.repo.js';

export const presentMember = (m: MemberRow) => ({
  id: m.id,
  community_id: m.community_id,
  display_name: m.display_name,
  nickname: m.nickname,
  external_id: m.external_id,
  status: m.status as MemberStatus,
  group_id: m.current_group_id,
  attribution: { entry_link_id: m.entry_link_id, channel: m.channel, referrer_member_id: m.referrer_member_id },
  profile: json<Record<string, string>>(m.profile),
  onboarding: {
    rules_accepted: !!m.rules_accepted_at,
    nickname_set: !!m.nickname,
    introduced: !!m.introduced_at,
  },
  first_joined_at: m.first_joined_at,
  last_joined_at: m.last_joined_at,
  onboarded_at: m.onboarded_at,
  left_at: m.left_at,
  removal_reason: m.removal_reason,
  created_at: m.created_at,
});

export function presentApplication(a: Application, facts: ApplicantFacts) {
  const evaluation = evaluateThreshold(a.threshold, facts);
  return {
    id: a.id,
    member_id: a.member_id,
    status: a.status,
    mode: a.threshold.mode,
    progress: evaluation.progress,
    needs_review: a.status === 'pending' && evaluation.needsReview,
    answers: a.answers,
    created_at: a.created_at,
    decided_at: a.decided_at,
  };
}
