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
  .meta({ id: 'CommunityRules' });
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
});
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
  .meta({ id: 'Community' });

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
  .meta({ id: 'CommunityHealth' });

export const StaffRole = z.enum(['admin', 'monitor', 'leader']);
export const AssignStaff = z.strictObject({ email: z.email(), role: StaffRole });
export type AssignStaff = z.infer<typeof AssignStaff>;
export const StaffOut = z
  .object({ user_id: z.string(), name: z.string(), email: z.string(), role: CommunityRole, group_ids: z.array(z.string()) })
  .meta({ id: 'Staff' });
