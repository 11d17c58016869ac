/**
 * Member classification (docs/analytics.md "Member classification"): engagement score, fan level
 * (user → fan → true fan 铁杆粉丝) and archetype, each defined once here as a pure function of facts.
 * The thresholds are the community's AnalyticsSettings (defaults in contracts/src/schemas/analytics-classify.ts).
 */
import { FAN_CRITERIA, type AnalyticsSettings, type ClassifiedMember, type FanCriterionKey, type MembersOut } from '../../../../contracts/src/index.js';

export const DAY = 86_400_000;

/**
 * One member's engagement over the period, summed over its local days (the daily rollups,
 * analytics_member_days): events written per type, events received from others (`to_member_id`
 * this member, written by someone else), and the local days with ≥1 engagement event written.
 */
export interface MemberActivityFact {
  member_id: string;
  messages: number;
  posts: number;
  replies: number;
  reactions: number;
  check_ins: number;
  attended: number;
  replies_received: number;
  /** Every reaction received, negative ones included. */
  reactions_received: number;
  negative_received: number;
  reports_received: number;
  active_days: number;
}

export interface MemberSpanFact {
  member_id: string;
  group_id: string;
  joined_at: number;
  left_at: number | null;
  referrer_member_id: string | null;
}

export interface PaidOrderFact {
  member_id: string;
  product_id: string;
  paid_at: number;
  /** The product is a membership (renewals count repeat purchases of these). */
  membership: boolean;
}

export interface ClassifyFacts {
  t0: number;
  t1: number;
  /** Calendar days of the period in the community's time zone. */
  periodDays: number;
  names: Map<string, string>;
  spans: MemberSpanFact[];
  paidOrders: PaidOrderFact[];
  /** Per member, their engagement in [t0, t1). */
  activity: MemberActivityFact[];
  /** Per member, reactions they gave in [t0, t1) that were not negative. */
  positiveGiven: Map<string, number>;
  /** Replies in [t0, t1) between two different members: (author, member replied to), once per pair. */
  replyPairs: { member_id: string; to_member_id: string }[];
  settings: AnalyticsSettings;
}

type Activity = ClassifiedMember['activity'];

const emptyActivity = (): Activity => ({
  messages: 0,
  posts: 0,
  replies: 0,
  reactions: 0,
  check_ins: 0,
  attended: 0,
  replies_received: 0,
  reactions_received: 0,
  negative_received: 0,
  reports_received: 0,
  active_days: 0,
});

/**
 * Engagement points = Σ weight × count over the period: messages, posts, replies, reactions given,
 * check-ins, events attended, member replies received and positive reactions received.
 * Score = min(100, round(100 × points × 30 ÷ period days ÷ cap_per_30_days)): points per 30 days
 * against a cap, so a score means the same for a week and for a quarter.
 */
export function engagementScore(a: Activity, periodDays: number, s: AnalyticsSettings['engagement']): { points: number; score: number } {
  const w = s.weights;
  const points =
    w.message * a.messages +
    w.post * a.posts +
    w.reply * a.replies +
    w.reaction * a.reactions +
    w.check_in * a.check_ins +
    w.event_attended * a.attended +
    w.replies_received * a.replies_received +
    w.reactions_received * a.reactions_received;
  return { points, score: Math.min(100, Math.round((100 * points * 30) / periodDays / s.cap_per_30_days)) };
}

const pct = (x: number) => `${Math.round(x * 100)}%`;

/**
 * Archetype, the first rule that matches (seed 004's 意见领袖 / 支持者 / 反对者 / 学习者 / 观察者):
 * 1. opponent 反对者: flagged = negative reactions + reports received from others ≥ opponent_min_flagged
 *    and flagged ÷ max(1, messages + posts + replies written) ≥ opponent_min_share.
 * 2. opinion_leader 意见领袖: member replies + positive reactions received ≥ leader_min_received
 *    and referrals ≥ leader_min_referrals.
 * 3. observer 观察者 (silent): engagement events written ≤ observer_max_events.
 * 4. learner 学习者: check-ins + events attended ≥ learner_min_attendance and replies written
 *    ≤ learner_max_reply_share × engagement events written.
 * 5. supporter 支持者: replies + positive reactions given ≥ supporter_min_given, on
 *    ≥ supporter_min_active_days distinct local days.
 * 6. otherwise observer 观察者 (active, but no stronger pattern).
 */
export function archetypeOf(
  a: Activity,
  x: { events: number; positive_given: number; referrals: number },
  s: AnalyticsSettings['archetypes'],
): { archetype: ClassifiedMember['archetype']; reason: string } {
  const flagged = a.negative_received + a.reports_received;
  const authored = a.messages + a.posts + a.replies;
  const share = flagged / Math.max(1, authored);
  if (flagged >= s.opponent_min_flagged && share >= s.opponent_min_share)
    return { archetype: 'opponent', reason: `opponent: ${flagged} negative reactions/reports received on ${authored} messages written (${pct(share)} ≥ ${pct(s.opponent_min_share)})` };
  const received = a.replies_received + a.reactions_received;
  if (received >= s.leader_min_received && x.referrals >= s.leader_min_referrals)
    return { archetype: 'opinion_leader', reason: `opinion_leader: ${received} replies/reactions received (≥ ${s.leader_min_received}) and ${x.referrals} referrals (≥ ${s.leader_min_referrals})` };
  if (x.events <= s.observer_max_events) return { archetype: 'observer', reason: `observer: silent, ${x.events} engagement events (≤ ${s.observer_max_events})` };
  const attendance = a.check_ins + a.attended;
  if (attendance >= s.learner_min_attendance && a.replies <= s.learner_max_reply_share * x.events)
    return { archetype: 'learner', reason: `learner: ${attendance} check-ins/attendances (≥ ${s.learner_min_attendance}), ${a.replies} replies of ${x.events} events (≤ ${pct(s.learner_max_reply_share)})` };
  const given = a.replies + x.positive_given;
  if (given >= s.supporter_min_given && a.active_days >= s.supporter_min_active_days)
    return { archetype: 'supporter', reason: `supporter: ${given} replies/positive reactions given (≥ ${s.supporter_min_given}) on ${a.active_days} days (≥ ${s.supporter_min_active_days})` };
  return { archetype: 'observer', reason: `observer: no other rule matched (${x.events} events, ${given} replies/positive reactions given, ${attendance} check-ins/attendances)` };
}

/**
 * Classifies the period's members: people with a group span overlapping [t0, t1)
 * (joined before t1, not left before t0), ordered by display name then id.
 *
 * Fan level criteria (value vs threshold, met when value ≥ threshold):
 * - payments: orders paid before t1; renewals: of those, orders of a membership product the member
 *   had paid for before (repeat periods);
 * - tenure_days: whole days from the member's first join to t1;
 * - engagement_score (above);
 * - two_way: distinct other members this member exchanged replies with in the period (replied to
 *   or was replied to by);
 * - referrals: distinct people who joined through this member's invite before t1.
 * Level: true_fan when ≥ true_fan_min_met criteria are met, fan when ≥ fan_min_met, else user.
 * Paying is one criterion among six: paying does not make a true fan, not paying does not exclude one.
 */
export function classifyMembers(f: ClassifyFacts): Omit<MembersOut, 'metrics_version' | 'community_id' | 'time_zone' | 'period'> {
  const { t0, t1, settings } = f;
  const ids = new Set<string>();
  const firstJoin = new Map<string, number>();
  const referred = new Map<string, Set<string>>();
  for (const s of f.spans) {
    if (s.joined_at >= t1) continue;
    firstJoin.set(s.member_id, Math.min(firstJoin.get(s.member_id) ?? Infinity, s.joined_at));
    if (s.left_at === null || s.left_at >= t0) ids.add(s.member_id);
    if (s.referrer_member_id !== null && s.referrer_member_id !== s.member_id) {
      const set = referred.get(s.referrer_member_id) ?? new Set<string>();
      set.add(s.member_id);
      referred.set(s.referrer_member_id, set);
    }
  }
  const activity = new Map<string, Activity>();
  const events = new Map<string, number>();
  for (const x of f.activity) {
    activity.set(x.member_id, {
      messages: x.messages,
      posts: x.posts,
      replies: x.replies,
      reactions: x.reactions,
      check_ins: x.check_ins,
      attended: x.attended,
      replies_received: x.replies_received,
      reactions_received: x.reactions_received - x.negative_received,
      negative_received: x.negative_received,
      reports_received: x.reports_received,
      active_days: x.active_days,
    });
    events.set(x.member_id, x.messages + x.posts + x.replies + x.reactions + x.check_ins + x.attended);
  }
  const partners = new Map<string, Set<string>>();
  const partner = (a: string, b: string) => {
    const set = partners.get(a) ?? new Set<string>();
    set.add(b);
    partners.set(a, set);
  };
  for (const r of f.replyPairs) {
    if (r.member_id === r.to_member_id) continue;
    partner(r.member_id, r.to_member_id);
    partner(r.to_member_id, r.member_id);
  }

  const paid = new Map<string, { payments: number; renewals: number }>();
  const seen = new Set<string>();
  for (const o of [...f.paidOrders].filter((o) => o.paid_at < t1).sort((a, b) => a.paid_at - b.paid_at)) {
    const p = paid.get(o.member_id) ?? { payments: 0, renewals: 0 };
    p.payments++;
    const key = `${o.member_id} ${o.product_id}`;
    if (o.membership && seen.has(key)) p.renewals++;
    seen.add(key);
    paid.set(o.member_id, p);
  }

  const th = settings.fan_levels.thresholds;
  const out: ClassifiedMember[] = [];
  for (const id of ids) {
    const a = activity.get(id) ?? emptyActivity();
    const { points, score } = engagementScore(a, f.periodDays, settings.engagement);
    const p = paid.get(id) ?? { payments: 0, renewals: 0 };
    const referrals = referred.get(id)?.size ?? 0;
    const values: Record<FanCriterionKey, number> = {
      payments: p.payments,
      renewals: p.renewals,
      tenure_days: Math.floor((t1 - firstJoin.get(id)!) / DAY),
      engagement_score: score,
      two_way: partners.get(id)?.size ?? 0,
      referrals,
    };
    const criteria = FAN_CRITERIA.map((key) => ({ key, value: values[key], threshold: th[key], met: values[key] >= th[key] }));
    const met = criteria.filter((c) => c.met).length;
    const level = met >= settings.fan_levels.true_fan_min_met ? 'true_fan' : met >= settings.fan_levels.fan_min_met ? 'fan' : 'user';
    const { archetype, reason } = archetypeOf(a, { events: events.get(id) ?? 0, positive_given: f.positiveGiven.get(id) ?? 0, referrals }, settings.archetypes);
    out.push({
      member_id: id,
      display_name: f.names.get(id) ?? '',
      activity: a,
      engagement_points: points,
      engagement_score: score,
      level,
      criteria,
      criteria_met: met,
      paid: p.payments > 0,
      archetype,
      archetype_reason: reason,
    });
  }
  out.sort((a, b) => (a.display_name < b.display_name ? -1 : a.display_name > b.display_name ? 1 : a.member_id < b.member_id ? -1 : 1));
  const count = <K extends string>(keys: readonly K[], of: (m: ClassifiedMember) => K) => Object.fromEntries(keys.map((k) => [k, out.filter((m) => of(m) === k).length])) as Record<K, number>;
  const trueFans = out.filter((m) => m.level === 'true_fan');
  const goal = settings.fan_levels.true_fan_goal;
  return {
    summary: {
      members: out.length,
      levels: count(['user', 'fan', 'true_fan'] as const, (m) => m.level),
      archetypes: count(['opinion_leader', 'supporter', 'opponent', 'learner', 'observer'] as const, (m) => m.archetype),
      true_fans: { count: trueFans.length, goal, progress: trueFans.length / goal },
      unpaid_true_fans: trueFans.filter((m) => !m.paid).map((m) => ({ member_id: m.member_id, display_name: m.display_name })),
    },
    members: out,
  };
}
