import { z } from 'zod';
import { LIMITS } from '../limits.js';
import { Id, LongText, Name, ShortText, Timestamp } from './common.js';
import { CriterionProgress } from './thresholds.js';

export const MemberStatus = z.enum(['applicant', 'rejected', 'onboarding', 'active', 'left', 'removed']);
export type MemberStatus = z.infer<typeof MemberStatus>;

const Record = z.record(z.string().max(40), ShortText);

export const JoinRequest = z.strictObject({
  name: Name.describe('How the person is called'),
  external_id: ShortText.min(1).optional().describe('Their id on the platform they come from (WeChat, phone…)'),
  profile: Record.optional().describe('Free profile fields such as city or industry; segment rules read them'),
  answers: z.record(z.string().max(40), LongText).optional().describe('Questionnaire answers by question id'),
  visitor_id: z.string().max(64).optional().describe('The id the link page gave this visitor'),
});
export type JoinRequest = z.infer<typeof JoinRequest>;

export const Attribution = z.object({
  entry_link_id: z.string().nullable(),
  channel: z.string().nullable(),
  referrer_member_id: z.string().nullable(),
});

export const MemberOut = z
  .object({
    id: z.string(),
    community_id: z.string(),
    display_name: z.string(),
    nickname: z.string().nullable(),
    external_id: z.string().nullable(),
    status: MemberStatus,
    group_id: z.string().nullable(),
    attribution: Attribution,
    profile: z.record(z.string(), z.string()),
    onboarding: z.object({
      rules_accepted: z.boolean(),
      nickname_set: z.boolean(),
      introduced: z.boolean(),
    }),
    first_joined_at: Timestamp.nullable(),
    last_joined_at: Timestamp.nullable(),
    onboarded_at: Timestamp.nullable(),
    left_at: Timestamp.nullable(),
    removal_reason: z.string().nullable(),
    created_at: Timestamp,
  })
  .meta({ id: 'Member' });

export const ApplicationOut = z
  .object({
    id: z.string(),
    member_id: z.string(),
    status: z.enum(['pending', 'passed', 'rejected']),
    mode: z.enum(['all', 'any']),
    progress: z.array(CriterionProgress),
    needs_review: z.boolean().describe('Waiting for a staff decision (the review queue)'),
    answers: z.record(z.string(), z.string()),
    created_at: Timestamp,
    decided_at: Timestamp.nullable(),
  })
  .meta({ id: 'Application' });

export const JoinResult = z
  .object({
    member: MemberOut,
    application: ApplicationOut,
    member_token: z.string().optional().describe('Shown once: the member authenticates with it as a bearer token'),
    next: z.enum(['wait_for_threshold', 'onboarding', 'done', 'rejected']),
  })
  .meta({ id: 'JoinResult' });

export const MemberSelfOut = z
  .object({
    member: MemberOut,
    application: ApplicationOut.nullable(),
    rules: z.object({
      announcement: z.string(),
      introduction_template: z.string(),
      nickname_format: z.string(),
      perks: z.array(z.string()),
      banned_topics: z.array(z.string()),
    }),
    welcome: z.object({ message: z.string(), perks: z.array(z.string()) }).nullable(),
  })
  .meta({ id: 'MemberSelf' });

export const SetNickname = z.strictObject({ nickname: ShortText.min(1) });
export const PostIntroduction = z.strictObject({ text: LongText.min(1) });
export const AcceptRules = z.strictObject({ accepted: z.literal(true) });
export const LeaveRequest = z.strictObject({ reason: ShortText.optional() });
export const RemoveMember = z.strictObject({
  reason: ShortText.min(1),
  ban: z.boolean().default(false).describe('A banned member cannot rejoin'),
});

export const ListMembersQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(LIMITS.pageSize).default(50),
  cursor: z.string().max(100).optional(),
  status: MemberStatus.optional(),
  group_id: Id.optional(),
  entry_link_id: Id.optional(),
  referrer_member_id: Id.optional(),
});

export const ReviewApplication = z.strictObject({
  decision: z.enum(['approve', 'reject']),
  note: ShortText.optional(),
});

export const GrantMembership = z.strictObject({
  product_id: Id,
  expires_at: z.iso.datetime({ offset: true }).nullable().optional()
    .describe('Defaults from the product term; null for permanent'),
});
