import { z } from 'zod';
import { exampleOf, Timestamp } from './common.js';

const LocalDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'a date as YYYY-MM-DD');
const Count = z.number().int().min(0);
const Share = z.number().min(0).max(1);

export const FAN_LEVELS = ['user', 'fan', 'true_fan'] as const;
export const FanLevel = z.enum(FAN_LEVELS);
export const ARCHETYPES = ['opinion_leader', 'supporter', 'opponent', 'learner', 'observer'] as const;
export const Archetype = z.enum(ARCHETYPES);
export const FAN_CRITERIA = ['payments', 'renewals', 'tenure_days', 'engagement_score', 'two_way', 'referrals'] as const;
export const FanCriterion = z.enum(FAN_CRITERIA);

/**
 * The tunable thresholds of member classification, churn risk and group health (docs/analytics.md).
 * Stored per community; every field has a default, so a PUT may send only what it changes.
 */
export const AnalyticsSettings = z
  .strictObject({
    engagement: z
      .strictObject({
        weights: z
          .strictObject({
            message: z.number().min(0).default(1),
            post: z.number().min(0).default(2),
            reply: z.number().min(0).default(2),
            reaction: z.number().min(0).default(0.5),
            check_in: z.number().min(0).default(1),
            event_attended: z.number().min(0).default(3),
            replies_received: z.number().min(0).default(2),
            reactions_received: z.number().min(0).default(1),
          })
          .prefault({}),
        cap_per_30_days: z.number().positive().default(60).describe('Weighted points per 30 days that score 100'),
      })
      .prefault({}),
    fan_levels: z
      .strictObject({
        thresholds: z
          .strictObject({
            payments: Count.default(1),
            renewals: Count.default(1),
            tenure_days: Count.default(60),
            engagement_score: z.number().min(0).max(100).default(50),
            two_way: Count.default(3),
            referrals: Count.default(1),
          })
          .prefault({}),
        fan_min_met: z.number().int().min(1).max(6).default(2),
        true_fan_min_met: z.number().int().min(1).max(6).default(4),
        true_fan_goal: z.number().int().min(1).default(1000),
      })
      .prefault({}),
    archetypes: z
      .strictObject({
        opponent_min_flagged: Count.default(2),
        opponent_min_share: Share.default(0.3),
        leader_min_received: Count.default(10),
        leader_min_referrals: Count.default(1),
        learner_min_attendance: Count.default(4),
        learner_max_reply_share: Share.default(0.2),
        supporter_min_given: Count.default(5),
        supporter_min_active_days: Count.default(4),
        observer_max_events: Count.default(2),
      })
      .prefault({}),
    churn: z
      .strictObject({
        inactive_days: z.number().int().min(1).default(14),
        expiring_days: z.number().int().min(1).default(14),
        decline_days: z.number().int().min(1).default(14),
        decline_max_ratio: Share.default(0.5),
        decline_min_previous: Count.default(4),
      })
      .prefault({}),
    group_health: z
      .strictObject({
        dead_silent_days: z.number().int().min(1).default(7),
        dead_max_active_rate: Share.default(0.05),
        ad_min_ratio: Share.default(0.3),
      })
      .prefault({}),
  })
  .meta({
    id: 'AnalyticsSettings',
    examples: [
      { fan_levels: { thresholds: { tenure_days: 90 }, true_fan_goal: 1000 }, churn: { inactive_days: 21 } },
      {
        engagement: {
          weights: { message: 1, post: 2, reply: 2, reaction: 0.5, check_in: 1, event_attended: 3, replies_received: 2, reactions_received: 1 },
          cap_per_30_days: 60,
        },
        fan_levels: {
          thresholds: { payments: 1, renewals: 1, tenure_days: 60, engagement_score: 50, two_way: 3, referrals: 1 },
          fan_min_met: 2,
          true_fan_min_met: 4,
          true_fan_goal: 1000,
        },
        archetypes: {
          opponent_min_flagged: 2,
          opponent_min_share: 0.3,
          leader_min_received: 10,
          leader_min_referrals: 1,
          learner_min_attendance: 4,
          learner_max_reply_share: 0.2,
          supporter_min_given: 5,
          supporter_min_active_days: 4,
          observer_max_events: 2,
        },
        churn: { inactive_days: 14, expiring_days: 14, decline_days: 14, decline_max_ratio: 0.5, decline_min_previous: 4 },
        group_health: { dead_silent_days: 7, dead_max_active_rate: 0.05, ad_min_ratio: 0.3 },
      },
    ],
  });
export type AnalyticsSettings = z.infer<typeof AnalyticsSettings>;
export type AnalyticsSettingsIn = z.input<typeof AnalyticsSettings>;

export const AnalyticsSettingsOut = z.object({ community_id: z.string(), settings: AnalyticsSettings, updated_at: Timestamp.nullable() }).meta({
  examples: [
    {
      community_id: 'com_0mx9qwwjc000035b3232e876033f1',
      settings: {
        engagement: {
          weights: { message: 1, post: 2, reply: 2, reaction: 0.5, check_in: 1, event_attended: 3, replies_received: 2, reactions_received: 1 },
          cap_per_30_days: 60,
        },
        fan_levels: {
          thresholds: { payments: 1, renewals: 1, tenure_days: 60, engagement_score: 50, two_way: 3, referrals: 1 },
          fan_min_met: 2,
          true_fan_min_met: 4,
          true_fan_goal: 1000,
        },
        archetypes: {
          opponent_min_flagged: 2,
          opponent_min_share: 0.3,
          leader_min_received: 10,
          leader_min_referrals: 1,
          learner_min_attendance: 4,
          learner_max_reply_share: 0.2,
          supporter_min_given: 5,
          supporter_min_active_days: 4,
          observer_max_events: 2,
        },
        churn: { inactive_days: 14, expiring_days: 14, decline_days: 14, decline_max_ratio: 0.5, decline_min_previous: 4 },
        group_health: { dead_silent_days: 7, dead_max_active_rate: 0.05, ad_min_ratio: 0.3 },
      },
      updated_at: '2026-11-20T08:30:00.000Z',
    },
  ],
});
export type AnalyticsSettingsOut = z.infer<typeof AnalyticsSettingsOut>;

export const MembersQuery = z.strictObject({
  from: LocalDate.describe('First day of the period (inclusive), in the community time zone'),
  to: LocalDate.describe('Day after the period (exclusive), in the community time zone; after from'),
  format: z.enum(['json', 'csv']).default('json'),
  level: FanLevel.optional().describe('Only list members of this fan level (the summary covers everyone)'),
  archetype: Archetype.optional().describe('Only list members of this archetype (the summary covers everyone)'),
});
export type MembersQuery = z.infer<typeof MembersQuery>;

const Period = z.object({ from: z.string(), to: z.string(), t0: z.string(), t1: z.string() });

export const MemberActivity = z.object({
  messages: Count,
  posts: Count,
  replies: Count,
  reactions: Count,
  check_ins: Count,
  attended: Count,
  replies_received: Count,
  reactions_received: Count,
  negative_received: Count,
  reports_received: Count,
  active_days: Count,
});

export const ClassifiedMember = z
  .object({
    member_id: z.string(),
    display_name: z.string(),
    activity: MemberActivity,
    engagement_points: z.number(),
    engagement_score: z.number().int().min(0).max(100),
    level: FanLevel,
    criteria: z.array(z.object({ key: FanCriterion, value: z.number(), threshold: z.number(), met: z.boolean() })),
    criteria_met: Count,
    paid: z.boolean().describe('Paid at least one order before the end of the period'),
    archetype: Archetype,
    archetype_reason: z.string(),
  })
  .meta({
    id: 'ClassifiedMember',
    examples: [
      {
        member_id: 'mem_0mx9qwwlh0000b784e09ed60ecb76',
        display_name: '任佳',
        activity: {
          messages: 46,
          posts: 2,
          replies: 18,
          reactions: 9,
          check_ins: 24,
          attended: 3,
          replies_received: 12,
          reactions_received: 15,
          negative_received: 0,
          reports_received: 0,
          active_days: 26,
        },
        engagement_points: 138.5,
        engagement_score: 100,
        level: 'true_fan',
        criteria: [
          { key: 'payments', value: 1, threshold: 1, met: true },
          { key: 'renewals', value: 0, threshold: 1, met: false },
          { key: 'tenure_days', value: 58, threshold: 60, met: false },
          { key: 'engagement_score', value: 100, threshold: 50, met: true },
          { key: 'two_way', value: 12, threshold: 3, met: true },
          { key: 'referrals', value: 9, threshold: 1, met: true },
        ],
        criteria_met: 4,
        paid: true,
        archetype: 'opinion_leader',
        archetype_reason: 'received 27 replies and reactions (≥ 10) and brought 9 people (≥ 1)',
      },
    ],
  });
export type ClassifiedMember = z.infer<typeof ClassifiedMember>;

export const MembersOut = z
  .object({
    metrics_version: z.string(),
    community_id: z.string(),
    time_zone: z.string(),
    period: Period,
    summary: z.object({
      members: Count,
      levels: z.record(FanLevel, Count),
      archetypes: z.record(Archetype, Count),
      true_fans: z.object({ count: Count, goal: Count, progress: z.number() }),
      unpaid_true_fans: z.array(z.object({ member_id: z.string(), display_name: z.string() })),
    }),
    members: z.array(ClassifiedMember),
  })
  .meta({
    id: 'MemberClassification',
    examples: [
      {
        metrics_version: '2026-12-04.2',
        community_id: 'com_0mx9qwwjc000035b3232e876033f1',
        time_zone: 'Asia/Shanghai',
        period: { from: '2026-11-01', to: '2026-12-01', t0: '2026-10-31T16:00:00.000Z', t1: '2026-11-30T16:00:00.000Z' },
        summary: {
          members: 149,
          levels: { user: 121, fan: 25, true_fan: 3 },
          archetypes: { opinion_leader: 4, supporter: 31, opponent: 1, learner: 22, observer: 91 },
          true_fans: { count: 3, goal: 1000, progress: 0.003 },
          unpaid_true_fans: [],
        },
        members: [exampleOf(ClassifiedMember)],
      },
    ],
  });
export type MembersOut = z.infer<typeof MembersOut>;

export const ChurnRiskQuery = z.strictObject({
  as_of: LocalDate.describe('The day to assess (inclusive): risk is measured at the end of it, in the community time zone'),
});
export type ChurnRiskQuery = z.infer<typeof ChurnRiskQuery>;

export const CHURN_REASONS = ['payment_failed', 'expiring', 'inactive', 'declining'] as const;

export const ChurnRiskOut = z
  .object({
    metrics_version: z.string(),
    community_id: z.string(),
    time_zone: z.string(),
    period: z.object({ as_of: z.string(), at: z.string() }),
    members: z.array(
      z.object({
        member_id: z.string(),
        display_name: z.string(),
        score: z.number().int().min(0).max(100),
        reasons: z.array(z.object({ kind: z.enum(CHURN_REASONS), points: Count, detail: z.string() })),
        last_engaged_at: Timestamp.nullable(),
        membership: z
          .object({ id: z.string(), product_id: z.string(), expires_at: Timestamp.nullable(), auto_renew: z.boolean(), cancelled: z.boolean(), past_due_since: Timestamp.nullable() })
          .nullable(),
      }),
    ),
  })
  .meta({
    id: 'ChurnRisk',
    examples: [
      {
        metrics_version: '2026-12-04.2',
        community_id: 'com_0mx9qwwjc000035b3232e876033f1',
        time_zone: 'Asia/Shanghai',
        period: { as_of: '2026-11-30', at: '2026-11-30T16:00:00.000Z' },
        members: [
          {
            member_id: 'mem_0mx9qwwlw00009e55b5003803eef1',
            display_name: '吴霞辉',
            score: 70,
            reasons: [
              { kind: 'expiring', points: 40, detail: 'membership expires 2026-12-09, auto-renew off' },
              { kind: 'inactive', points: 30, detail: 'no engagement for 16 days' },
            ],
            last_engaged_at: '2026-11-14T12:40:00.000Z',
            membership: {
              id: 'msp_0mx9qwxn20000c1d0d5b0c1a7e3f2',
              product_id: 'prd_0mx9qwwkh000035befd547d147386',
              expires_at: '2026-12-09T04:00:00.000Z',
              auto_renew: false,
              cancelled: false,
              past_due_since: null,
            },
          },
        ],
      },
    ],
  });
export type ChurnRiskOut = z.infer<typeof ChurnRiskOut>;

export const GroupHealthQuery = z.strictObject({
  from: LocalDate.describe('First day of the period (inclusive), in the community time zone'),
  to: LocalDate.describe('Day after the period (exclusive), in the community time zone; after from'),
});
export type GroupHealthQuery = z.infer<typeof GroupHealthQuery>;

const Rate = z.object({ value: z.number().nullable(), numerator: Count, denominator: Count });

export const GroupHealthOut = z
  .object({
    metrics_version: z.string(),
    community_id: z.string(),
    time_zone: z.string(),
    period: Period,
    groups: z.array(
      z.object({
        group_id: z.string(),
        name: z.string(),
        capacity: Count,
        seated_count: Count,
        members_t0: Count,
        joins: Count,
        leaves: Count,
        period_members: Count,
        active_members: Count,
        active_rate: Rate,
        leave_rate: Rate,
        ad_ratio: Rate,
        silent_days: Count,
        days_since_last_engagement: Count.nullable(),
        dead: z.boolean(),
        ad_group: z.boolean(),
        flags: z.array(z.string()).describe('Why a flag is set, with figures'),
      }),
    ),
  })
  .meta({
    id: 'GroupHealth',
    examples: [
      {
        metrics_version: '2026-12-04.2',
        community_id: 'com_0mx9qwwjc000035b3232e876033f1',
        time_zone: 'Asia/Shanghai',
        period: { from: '2026-11-01', to: '2026-12-01', t0: '2026-10-31T16:00:00.000Z', t1: '2026-11-30T16:00:00.000Z' },
        groups: [
          {
            group_id: 'grp_0mx9qwwkf0000e9118b8ec6402c54',
            name: '上海分会',
            capacity: 400,
            seated_count: 17,
            members_t0: 5,
            joins: 12,
            leaves: 0,
            period_members: 17,
            active_members: 11,
            active_rate: { value: 0.6470588235294118, numerator: 11, denominator: 17 },
            leave_rate: { value: 0, numerator: 0, denominator: 17 },
            ad_ratio: { value: 0, numerator: 0, denominator: 35 },
            silent_days: 7,
            days_since_last_engagement: 1,
            dead: false,
            ad_group: false,
            flags: [],
          },
          {
            group_id: 'grp_0mx9qwwkf0001aafd614c33f1aa35',
            name: '北京分会',
            capacity: 400,
            seated_count: 11,
            members_t0: 2,
            joins: 9,
            leaves: 0,
            period_members: 11,
            active_members: 4,
            active_rate: { value: 0.36363636363636365, numerator: 4, denominator: 11 },
            leave_rate: { value: 0, numerator: 0, denominator: 11 },
            ad_ratio: { value: 0, numerator: 0, denominator: 10 },
            silent_days: 23,
            days_since_last_engagement: 21,
            dead: true,
            ad_group: false,
            flags: ['dead: no engagement for 21 days (≥ 7)'],
          },
          {
            group_id: 'grp_0mx9qwwk00000b9a51b747581c87e',
            name: '鱼塘读书会1群',
            capacity: 500,
            seated_count: 121,
            members_t0: 30,
            joins: 91,
            leaves: 0,
            period_members: 121,
            active_members: 95,
            active_rate: { value: 0.7851239669421488, numerator: 95, denominator: 121 },
            leave_rate: { value: 0, numerator: 0, denominator: 121 },
            ad_ratio: { value: 0.4232456140350877, numerator: 193, denominator: 456 },
            silent_days: 0,
            days_since_last_engagement: 0,
            dead: false,
            ad_group: true,
            flags: ['ad_group: 193 of 456 messages are ads (≥ 30%)'],
          },
          {
            group_id: 'grp_0mx9qwwk100005605f8a10cf4bf1a',
            name: '鱼塘读书会2群',
            capacity: 500,
            seated_count: 0,
            members_t0: 0,
            joins: 0,
            leaves: 0,
            period_members: 0,
            active_members: 0,
            active_rate: { value: null, numerator: 0, denominator: 0 },
            leave_rate: { value: null, numerator: 0, denominator: 0 },
            ad_ratio: { value: null, numerator: 0, denominator: 0 },
            silent_days: 30,
            days_since_last_engagement: null,
            dead: true,
            ad_group: false,
            flags: ['dead: no engagement ever (≥ 7 days old)'],
          },
          {
            group_id: 'grp_0mx9qwwk10001d4ffd4becf4496d9',
            name: '鱼塘读书会3群',
            capacity: 500,
            seated_count: 0,
            members_t0: 0,
            joins: 0,
            leaves: 0,
            period_members: 0,
            active_members: 0,
            active_rate: { value: null, numerator: 0, denominator: 0 },
            leave_rate: { value: null, numerator: 0, denominator: 0 },
            ad_ratio: { value: null, numerator: 0, denominator: 0 },
            silent_days: 30,
            days_since_last_engagement: null,
            dead: true,
            ad_group: false,
            flags: ['dead: no engagement ever (≥ 7 days old)'],
          },
          {
            group_id: 'grp_0mx9qwwk200000b544b07dfec47cb',
            name: '鱼塘读书会4群',
            capacity: 500,
            seated_count: 0,
            members_t0: 0,
            joins: 0,
            leaves: 0,
            period_members: 0,
            active_members: 0,
            active_rate: { value: null, numerator: 0, denominator: 0 },
            leave_rate: { value: null, numerator: 0, denominator: 0 },
            ad_ratio: { value: null, numerator: 0, denominator: 0 },
            silent_days: 30,
            days_since_last_engagement: null,
            dead: true,
            ad_group: false,
            flags: ['dead: no engagement ever (≥ 7 days old)'],
          },
        ],
      },
    ],
  });
export type GroupHealthOut = z.infer<typeof GroupHealthOut>;
export type FanCriterionKey = (typeof FAN_CRITERIA)[number];
