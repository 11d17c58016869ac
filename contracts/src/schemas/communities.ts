import { z } from 'zod';
import { LIMITS } from '../limits.js';
import { LongText, Name, ShortText, Slug, Timestamp } from './common.js';
import { Threshold } from './thresholds.js';

/** Community types of seed 001/PRODUCT.md: product, interest, knowledge, marketing. */
export const CommunityType = z.enum(['product', 'interest', 'knowledge', 'marketing']);
export type CommunityType = z.infer<typeof CommunityType>;

/**
 * Monetization modes: the eight self-built modes (产品式 会员式 咨询式 电商式 流量式 智库式 抱团式 跨界式),
 * contracted (承包) and infiltrated (打入).
 */
export const MonetizationMode = z.enum([
  'product', // 产品式
  'membership', // 会员式
  'consulting', // 咨询式
  'ecommerce', // 电商式
  'traffic', // 流量式
  'think_tank', // 智库式
  'alliance', // 抱团式
  'cross_border', // 跨界式
  'contracted', // 承包
  'infiltrated', // 打入
]);
export type MonetizationMode = z.infer<typeof MonetizationMode>;

export const DEFAULT_BANNED_TOPICS = ['politics', 'religion', 'ads'] as const;

const TimeZone = z.string().refine((tz) => {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}, 'unknown IANA time zone');

/** Grace window of a new community: a renewal paid this many days after expiry still extends it. */
export const DEFAULT_RENEWAL_GRACE_DAYS = 7;
const RenewalGraceDays = z
  .number()
  .int()
  .min(0)
  .max(LIMITS.renewalGraceDaysMax)
  .describe('Days after a membership expires during which access is kept and a renewal extends from the expiry');

export const Rules = z
  .strictObject({
    announcement: LongText.default(''),
    introduction_template: LongText.default('').describe('Template shown to newcomers for their self-introduction'),
    nickname_format: ShortText.default('').describe('e.g. 城市-行业-姓名: one field per dash-separated part'),
    perks: z.array(ShortText).max(LIMITS.listItems).default([]),
    welcome_message: LongText.default(''),
    banned_topics: z.array(ShortText).max(LIMITS.listItems).default([...DEFAULT_BANNED_TOPICS]),
  })
  .meta({
    id: 'CommunityRules',
    examples: [
      {
        announcement: '欢迎来到鱼塘读书会！本群每月共读两本书，每天打卡，周日晚八点线上分享。禁止广告、政治、宗教话题。',
        introduction_template: '我是{姓名}，来自{城市}，从事{行业}，最近在读{书名}，希望在读书会{收获}。',
        nickname_format: '城市-行业-姓名',
        perks: ['每月共读书单', '周日领读直播', '读书笔记模板'],
        welcome_message: '欢迎加入鱼塘读书会！请先看群公告，明天开始打卡吧。',
        banned_topics: ['politics', 'religion', 'ads'],
      },
    ],
  });
export type Rules = z.infer<typeof Rules>;

export const CreateCommunity = z.strictObject({
  name: Name,
  slug: Slug,
  value_proposition: LongText.default(''),
  values: z.array(ShortText).max(LIMITS.listItems).default([]),
  type: CommunityType,
  monetization_modes: z.array(MonetizationMode).max(10).default([]),
  time_zone: TimeZone.default('Asia/Shanghai'),
  currency: z.string().regex(/^[A-Z]{3}$/, 'ISO 4217 code such as CNY').default('CNY'),
  rules: Rules.default(Rules.parse({})),
  threshold: Threshold.optional(),
  renewal_grace_days: RenewalGraceDays.default(DEFAULT_RENEWAL_GRACE_DAYS),
}).meta({
  examples: [
    {
      name: '鱼塘读书会',
      slug: 'yutang-reading-club',
      value_proposition: '每月共读两本好书，有人督促、有人讨论、有人同行：把读书变成习惯。',
      values: ['终身学习', '真诚分享', '长期主义'],
      type: 'knowledge',
      monetization_modes: ['membership', 'product'],
      time_zone: 'Asia/Shanghai',
      currency: 'CNY',
      rules: {
        announcement: '欢迎来到鱼塘读书会！本群每月共读两本书，每天打卡，周日晚八点线上分享。禁止广告、政治、宗教话题。',
        introduction_template: '我是{姓名}，来自{城市}，从事{行业}，最近在读{书名}，希望在读书会{收获}。',
        nickname_format: '城市-行业-姓名',
        perks: ['每月共读书单', '周日领读直播', '读书笔记模板'],
        welcome_message: '欢迎加入鱼塘读书会！请先看群公告，明天开始打卡吧。',
        banned_topics: ['politics', 'religion', 'ads'],
      },
      threshold: {
        mode: 'all',
        criteria: [
          {
            type: 'questionnaire',
            questions: [{ id: 'reason', text: '你为什么想加入读书会？', kind: 'text', required: true }],
            auto_accept: [{ question_id: 'reason', min_length: 6 }],
            on_mismatch: 'review',
          },
        ],
      },
      renewal_grace_days: 7,
    },
  ],
});
export type CreateCommunity = z.infer<typeof CreateCommunity>;

/**
 * A partial rules update. Not `Rules.partial()`: zod 4 still applies the defaults of optional
 * fields, which would reset every rule the caller left out.
 */
const RulesPatch = z.strictObject({
  announcement: LongText.optional(),
  introduction_template: LongText.optional(),
  nickname_format: ShortText.optional(),
  perks: z.array(ShortText).max(LIMITS.listItems).optional(),
  welcome_message: LongText.optional(),
  banned_topics: z.array(ShortText).max(LIMITS.listItems).optional(),
});

export const UpdateCommunity = z.strictObject({
  name: Name.optional(),
  value_proposition: LongText.optional(),
  values: z.array(ShortText).max(LIMITS.listItems).optional(),
  type: CommunityType.optional(),
  monetization_modes: z.array(MonetizationMode).max(10).optional(),
  time_zone: TimeZone.optional(),
  currency: z.string().regex(/^[A-Z]{3}$/).optional(),
  rules: RulesPatch.optional(),
  renewal_grace_days: RenewalGraceDays.optional(),
}).meta({ examples: [{ value_proposition: '每月共读两本好书，周日晚八点线上分享。', rules: { perks: ['每月共读书单', '周日领读直播'] }, renewal_grace_days: 10 }] });
export type UpdateCommunity = z.infer<typeof UpdateCommunity>;

export const CommunityRole = z.enum(['owner', 'admin', 'monitor', 'leader', 'member']);
export type CommunityRole = z.infer<typeof CommunityRole>;

export const CommunityOut = z
  .object({
    id: z.string(),
    workspace_id: z.string(),
    slug: z.string(),
    name: z.string(),
    value_proposition: z.string(),
    values: z.array(z.string()),
    type: CommunityType,
    monetization_modes: z.array(MonetizationMode),
    time_zone: z.string(),
    currency: z.string(),
    rules: Rules,
    threshold: Threshold,
    renewal_grace_days: z.number(),
    is_demo: z.boolean(),
    your_role: CommunityRole.optional(),
    created_at: Timestamp,
    updated_at: Timestamp,
  })
  .meta({
    id: 'Community',
    examples: [
      {
        id: 'com_0mx9qwwjc000035b3232e876033f1',
        workspace_id: 'ws_0mx9qwwjb0000994c27b78e6b63bc',
        slug: 'demo-reading-club',
        name: '鱼塘读书会（演示）',
        value_proposition: '每月共读两本好书，有人督促、有人讨论、有人同行：把读书变成习惯。',
        values: ['终身学习', '真诚分享', '长期主义'],
        type: 'knowledge',
        monetization_modes: ['membership', 'product'],
        time_zone: 'Asia/Shanghai',
        currency: 'CNY',
        rules: {
          announcement: '欢迎来到鱼塘读书会！本群每月共读两本书，每天打卡，周日晚八点线上分享。禁止广告、政治、宗教话题。',
          introduction_template: '我是{姓名}，来自{城市}，从事{行业}，最近在读{书名}，希望在读书会{收获}。',
          nickname_format: '城市-行业-姓名',
          perks: ['每月共读书单', '周日领读直播', '读书笔记模板'],
          welcome_message: '欢迎加入鱼塘读书会！请先看群公告，明天开始打卡吧。',
          banned_topics: ['politics', 'religion', 'ads'],
        },
        threshold: {
          mode: 'all',
          criteria: [
            {
              type: 'questionnaire',
              questions: [{ id: 'reason', text: '你为什么想加入读书会？', kind: 'text', required: true }],
              auto_accept: [{ question_id: 'reason', min_length: 6 }],
              on_mismatch: 'review',
            },
          ],
        },
        renewal_grace_days: 7,
        is_demo: true,
        created_at: '2026-10-05T16:00:00.000Z',
        updated_at: '2026-10-05T16:00:00.000Z',
        your_role: 'owner',
      },
    ],
  });

export const HealthItem = z.object({
  key: z.string(),
  label: z.string().describe('The seeds’ term, e.g. 价值观念'),
  status: z.enum(['ok', 'weak', 'missing']),
  reason: z.string(),
});
export const HealthOut = z
  .object({
    community_id: z.string(),
    elements: z.array(HealthItem).describe('The five elements: 价值观念 规章制度 组织机构 交互式活动 收益'),
    pillars: z.array(HealthItem).describe('The four pillars: 价值 门槛 规则 KOL'),
    missing: z.number(),
    weak: z.number(),
  })
  .meta({
    id: 'CommunityHealth',
    examples: [
      {
        community_id: 'com_0mx9qwwjc000035b3232e876033f1',
        elements: [
          { key: 'values', label: '价值观念', status: 'ok', reason: '3 values are stated.' },
          { key: 'rules', label: '规章制度', status: 'ok', reason: 'Announcement, introduction template, nickname format and banned topics are set.' },
          { key: 'organization', label: '组织机构', status: 'ok', reason: '6 groups have a monitor and 4 a leader.' },
          { key: 'interaction', label: '交互式活动', status: 'ok', reason: '109 members engaged in the last 30 days.' },
          { key: 'revenue', label: '收益', status: 'ok', reason: '4 products are for sale.' },
        ],
        pillars: [
          { key: 'value', label: '价值', status: 'ok', reason: 'A value proposition is stated.' },
          { key: 'threshold', label: '门槛', status: 'ok', reason: 'Entry requires: questionnaire.' },
          { key: 'rules', label: '规则', status: 'ok', reason: 'Rules, banned topics and onboarding are in place.' },
          { key: 'kol', label: 'KOL', status: 'ok', reason: 'Every group has a monitor or leader.' },
        ],
        missing: 0,
        weak: 0,
      },
    ],
  });

export const StaffRole = z.enum(['admin', 'monitor', 'leader']);
export const AssignStaff = z.strictObject({ email: z.email(), role: StaffRole }).meta({ examples: [{ email: 'zhou.banzhang@example.com', role: 'monitor' }] });
export type AssignStaff = z.infer<typeof AssignStaff>;
export const StaffOut = z
  .object({ user_id: z.string(), name: z.string(), email: z.string(), role: CommunityRole, group_ids: z.array(z.string()) })
  .meta({
    id: 'Staff',
    examples: [
      {
        user_id: 'usr_0mx9qwwjn0000dcc29677a12b5ac1',
        name: '周班长',
        email: 'staff1@demo.yutang.invalid',
        role: 'monitor',
        group_ids: ['grp_0mx9qwwk00000b9a51b747581c87e', 'grp_0mx9qwwk100005605f8a10cf4bf1a', 'grp_0mx9qwwkf0000e9118b8ec6402c54'],
      },
    ],
  });
