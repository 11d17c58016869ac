/**
 * Group health (docs/analytics.md "Group health"): per group members vs capacity, active rate,
 * leave rate, ad ratio and silence, and the dead-group (死群) and ad-group (广告群) flags.
 * A pure function of facts; thresholds are the community's settings (`group_health`).
 */
import type { AnalyticsSettings, GroupHealthOut } from '../../../../contracts/src/index.js';
import { DAY, type MemberSpanFact } from './classify.definitions.js';

export interface GroupFact {
  id: string;
  name: string;
  capacity: number;
  seated_count: number;
  created_at: number;
}

/** A group's engagement in [t0, t1), summed over its local days (the daily rollups). */
export interface GroupActivityFact {
  group_id: string;
  /** Messages and posts written in the group. */
  messages: number;
  /** Of those, flagged `props.is_ad`. */
  ads: number;
  /** Local days with ≥1 engagement event in the group. */
  active_days: number;
}

export interface GroupHealthFacts {
  t0: number;
  t1: number;
  periodDays: number;
  groups: GroupFact[];
  spans: MemberSpanFact[];
  /** Per group (`''`: none), its engagement in the period. */
  activity: GroupActivityFact[];
  /** (group, member) with ≥1 engagement event by the member in the group in the period. */
  activeMembers: { group_id: string; member_id: string }[];
  /** Per group, the instant of its last engagement event before t1. */
  lastEngagement: Map<string, number>;
  settings: AnalyticsSettings['group_health'];
}

const rate = (numerator: number, denominator: number) => ({ value: denominator === 0 ? null : numerator / denominator, numerator, denominator });

/**
 * For each group created before t1, ordered by name then id, over its spans and the engagement
 * events whose group_id is the group:
 * - members_t0: distinct members with a span covering t0; joins / leaves: spans starting / ending in
 *   [t0, t1); period_members: distinct members with a span overlapping the period.
 * - active_rate = period members with an engagement event in the group in the period ÷ period_members.
 * - leave_rate = leaves ÷ (members_t0 + joins).
 * - ad_ratio = messages and posts with props.is_ad ÷ all messages and posts of the group in the
 *   period; value null when no message of the community in the period is flagged (ads not tracked).
 * - silent_days: local days of the period without an engagement event in the group;
 *   days_since_last_engagement: whole days from the group's last engagement event before t1 to t1.
 * - dead (死群): no engagement for ≥ dead_silent_days before t1 (never, for a group at least that
 *   old), or active rate < dead_max_active_rate; ad_group (广告群): ad ratio ≥ ad_min_ratio.
 */
export function groupHealth(f: GroupHealthFacts): GroupHealthOut['groups'] {
  const { t0, t1, settings: s } = f;
  const inPeriod = (t: number) => t >= t0 && t < t1;
  const adsTracked = f.activity.some((a) => a.ads > 0);
  const activity = new Map(f.activity.map((a) => [a.group_id, a]));
  const engaged = new Map<string, string[]>();
  for (const x of f.activeMembers) {
    const list = engaged.get(x.group_id);
    if (list) list.push(x.member_id);
    else engaged.set(x.group_id, [x.member_id]);
  }
  return f.groups
    .filter((g) => g.created_at < t1)
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.id < b.id ? -1 : 1))
    .map((g) => {
      const spans = f.spans.filter((x) => x.group_id === g.id);
      const atT0 = new Set(spans.filter((x) => x.joined_at < t0 && (x.left_at === null || x.left_at >= t0)).map((x) => x.member_id));
      const joins = spans.filter((x) => inPeriod(x.joined_at)).length;
      const leaves = spans.filter((x) => x.left_at !== null && inPeriod(x.left_at)).length;
      const periodMembers = new Set(spans.filter((x) => x.joined_at < t1 && (x.left_at === null || x.left_at >= t0)).map((x) => x.member_id));
      const a = activity.get(g.id) ?? { messages: 0, ads: 0, active_days: 0 };
      const active = new Set((engaged.get(g.id) ?? []).filter((m) => periodMembers.has(m))).size;
      const messages = a.messages;
      const ads = a.ads;
      const lastAt = f.lastEngagement.get(g.id);
      const since = lastAt === undefined ? null : Math.floor((t1 - lastAt) / DAY);
      const activeRate = rate(active, periodMembers.size);
      const adRatio = adsTracked ? rate(ads, messages) : { value: null, numerator: 0, denominator: messages };
      const flags: string[] = [];
      if (since === null ? t1 - g.created_at >= s.dead_silent_days * DAY : since >= s.dead_silent_days)
        flags.push(since === null ? `dead: no engagement ever (≥ ${s.dead_silent_days} days old)` : `dead: no engagement for ${since} days (≥ ${s.dead_silent_days})`);
      if (activeRate.value !== null && activeRate.value < s.dead_max_active_rate)
        flags.push(`dead: active rate ${active}/${periodMembers.size} < ${Math.round(s.dead_max_active_rate * 100)}%`);
      const adGroup = adRatio.value !== null && adRatio.value >= s.ad_min_ratio;
      if (adGroup) flags.push(`ad_group: ${ads} of ${messages} messages are ads (≥ ${Math.round(s.ad_min_ratio * 100)}%)`);
      return {
        group_id: g.id,
        name: g.name,
        capacity: g.capacity,
        seated_count: g.seated_count,
        members_t0: atT0.size,
        joins,
        leaves,
        period_members: periodMembers.size,
        active_members: active,
        active_rate: activeRate,
        leave_rate: rate(leaves, atT0.size + joins),
        ad_ratio: adRatio,
        silent_days: f.periodDays - a.active_days,
        days_since_last_engagement: since,
        dead: flags.some((x) => x.startsWith('dead')),
        ad_group: adGroup,
        flags,
      };
    });
}
