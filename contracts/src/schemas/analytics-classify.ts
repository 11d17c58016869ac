import { z } from 'zod';
import { Timestamp } from './common.js';

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
  .meta({ id: 'AnalyticsSettings' });
export type AnalyticsSettings = z.infer<typeof AnalyticsSettings>;
export type AnalyticsSettingsIn = z.input<typeof AnalyticsSettings>;

export const AnalyticsSettingsOut = z.object({ community_id: z.string(), settings: AnalyticsSettings, updated_at: Timestamp.nullable() });
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
  .meta({ id: 'ClassifiedMember' });
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
  .meta({ id: 'MemberClassification' });
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
  .meta({ id: 'ChurnRisk' });
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
  .meta({ id: 'GroupHealth' });
export type GroupHealthOut = z.infer<typeof GroupHealthOut>;
export type FanCriterionKey = (typeof FAN_CRITERIA)[number];
