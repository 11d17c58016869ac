import { z } from 'zod';
import { LIMITS } from '../limits.js';
import { exampleOf, Id, LongText, Name, ShortText, Timestamp } from './common.js';
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
}).meta({
  examples: [
    {
      name: '任佳',
      external_id: 'wx_renjia',
      profile: { city: '苏州', industry: '医疗' },
      answers: { reason: '找到一起读书的朋友' },
      visitor_id: 'vis_0mx9qwwlg0000a1b2c3d4e5f6a7b8',
    },
  ],
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
  .meta({
    id: 'Member',
    examples: [
      {
        id: 'mem_0mx9qwwlh0000b784e09ed60ecb76',
        community_id: 'com_0mx9qwwjc000035b3232e876033f1',
        display_name: '任佳',
        nickname: '苏州-医疗-任佳',
        external_id: 'wx_demo_13',
        status: 'active',
        group_id: 'grp_0mx9qwwk00000b9a51b747581c87e',
        attribution: { entry_link_id: 'lnk_0mx9qwwki0001c34ee002c996ab70', channel: '公众号', referrer_member_id: null },
        profile: { city: '苏州', industry: '医疗' },
        onboarding: { rules_accepted: true, nickname_set: true, introduced: true },
        first_joined_at: '2026-10-09T02:08:41.748Z',
        last_joined_at: '2026-10-09T02:08:41.748Z',
        onboarded_at: '2026-10-09T07:56:48.074Z',
        left_at: null,
        removal_reason: null,
        created_at: '2026-10-09T02:08:41.748Z',
      },
    ],
  });

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
  .meta({
    id: 'Application',
    examples: [
      {
        id: 'app_0mx9qwwli0000de5282187a8c9386',
        member_id: 'mem_0mx9qwwlh0000b784e09ed60ecb76',
        status: 'passed',
        mode: 'all',
        progress: [{ type: 'questionnaire', status: 'passed', detail: 'Answers accepted automatically' }],
        needs_review: false,
        answers: { reason: '找到一起读书的朋友' },
        created_at: '2026-10-09T02:08:41.748Z',
        decided_at: '2026-10-09T02:08:41.748Z',
      },
    ],
  });

export const JoinResult = z
  .object({
    member: MemberOut,
    application: ApplicationOut,
    member_token: z.string().optional().describe('Shown once: the member authenticates with it as a bearer token'),
    next: z.enum(['wait_for_threshold', 'onboarding', 'done', 'rejected']),
  })
  .meta({
    id: 'JoinResult',
    examples: [
      {
        member: {
          id: 'mem_0mx9qwwlh0000b784e09ed60ecb76',
          community_id: 'com_0mx9qwwjc000035b3232e876033f1',
          display_name: '任佳',
          nickname: null,
          external_id: 'wx_demo_13',
          status: 'onboarding',
          group_id: 'grp_0mx9qwwk00000b9a51b747581c87e',
          attribution: { entry_link_id: 'lnk_0mx9qwwki0001c34ee002c996ab70', channel: '公众号', referrer_member_id: null },
          profile: { city: '苏州', industry: '医疗' },
          onboarding: { rules_accepted: false, nickname_set: false, introduced: false },
          first_joined_at: '2026-10-09T02:08:41.748Z',
          last_joined_at: '2026-10-09T02:08:41.748Z',
          onboarded_at: null,
          left_at: null,
          removal_reason: null,
          created_at: '2026-10-09T02:08:41.748Z',
        },
        application: exampleOf(ApplicationOut),
        member_token: 'ymt_Jx3kQ9vTzL0pWm2sR7aYb4cN8dEf6gHh',
        next: 'onboarding',
      },
    ],
  });

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
  .meta({
    id: 'MemberSelf',
    examples: [
      {
        member: exampleOf(MemberOut),
        application: exampleOf(ApplicationOut),
        rules: {
          announcement: '欢迎来到鱼塘读书会！本群每月共读两本书，每天打卡，周日晚八点线上分享。禁止广告、政治、宗教话题。',
          introduction_template: '我是{姓名}，来自{城市}，从事{行业}，最近在读{书名}，希望在读书会{收获}。',
          nickname_format: '城市-行业-姓名',
          perks: ['每月共读书单', '周日领读直播', '读书笔记模板'],
          banned_topics: ['politics', 'religion', 'ads'],
        },
        welcome: { message: '欢迎加入鱼塘读书会！请先看群公告，明天开始打卡吧。', perks: ['每月共读书单', '周日领读直播', '读书笔记模板'] },
      },
    ],
  });

export const SetNickname = z.strictObject({ nickname: ShortText.min(1) }).meta({ examples: [{ nickname: '苏州-医疗-任佳' }] });
export const PostIntroduction = z.strictObject({ text: LongText.min(1) }).meta({ examples: [{ text: '我是任佳，来自苏州，从事医疗，最近在读《人类简史》，希望在读书会养成每月读两本书的习惯。' }] });
export const AcceptRules = z.strictObject({ accepted: z.literal(true) }).meta({ examples: [{ accepted: true }] });
export const LeaveRequest = z.strictObject({ reason: ShortText.optional() }).meta({ examples: [{ reason: '工作太忙，暂时没时间读书' }] });
export const RemoveMember = z.strictObject({
  reason: ShortText.min(1),
  ban: z.boolean().default(false).describe('A banned member cannot rejoin'),
}).meta({ examples: [{ reason: '多次在群里发广告', ban: true }] });

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
}).meta({ examples: [{ decision: 'approve', note: '回答很认真' }] });

export const GrantMembership = z.strictObject({
  product_id: Id,
  expires_at: z.iso.datetime({ offset: true }).nullable().optional()
    .describe('Defaults from the product term; null for permanent'),
}).meta({ examples: [{ product_id: 'prd_0mx9qwwkg00007c88693a84f3e898', expires_at: '2027-12-01T00:00:00+08:00' }] });
