/**
 * Churn risk (docs/analytics.md "Churn risk"): which current members may leave or stop paying, why,
 * and how urgently. A pure function of facts; thresholds are the community's settings (`churn`).
 */
import type { AnalyticsSettings, ChurnRiskOut } from '../../../../contracts/src/index.js';
import { DAY, type MemberSpanFact } from './classify.definitions.js';
import type { MembershipFact } from '../metrics/index.js';

/** An order membership (memberships.source = 'order') with its renewal state. */
export interface ChurnMembershipFact extends MembershipFact {
  ended_at: number | null;
  cancelled_at: number | null;
  past_due_since: number | null;
  /** The member's chain of this product renews automatically (membership_chains.auto_renew). */
  auto_renew: boolean;
  /** A pending order renews this membership (orders.renews_membership_id). */
  open_renewal_order: boolean;
}

/** The two windows of the declining rule: recent = [recent_from, at), previous = [previous_from, recent_from). */
export const declineWindows = (at: number, s: AnalyticsSettings['churn']) => ({ recent_from: at - s.decline_days * DAY, previous_from: at - 2 * s.decline_days * DAY });

/** A member's engagement events (ENGAGEMENT_TYPES, as the actor) before `at`: the last one's instant and the counts in the declineWindows. */
export interface MemberEngagementFact {
  member_id: string;
  last_at: number;
  recent: number;
  previous: number;
}

export interface ChurnFacts {
  /** The instant assessed: the end of the `as_of` day (local midnight after it). */
  at: number;
  names: Map<string, string>;
  spans: MemberSpanFact[];
  /** Per member with engagement before `at`. */
  engagement: MemberEngagementFact[];
  memberships: ChurnMembershipFact[];
  /** `renewal_payment_failed` events: member, membership and when. */
  failures: { member_id: string; membership_id: string | null; at: number }[];
  settings: AnalyticsSettings['churn'];
}

/** Points of each reason; a member's score is their sum, capped at 100. */
export const CHURN_POINTS = { payment_failed: 50, expiring: 30, inactive: 30, declining: 20 } as const;

const date = (t: number) => new Date(t).toISOString().slice(0, 10);

/**
 * Current members (a group span covering `at`: joined before it, not left before it) with at least
 * one reason, highest score first (then member id):
 * - payment_failed (50): a live order membership (not revoked, not ended) with past_due_since set, or a
 *   renewal_payment_failed event in the last `expiring_days` days.
 * - expiring (30): a live order membership expiring in [at, at + expiring_days) with no renewal
 *   signal: auto-renew off or cancelled, no pending renewal order, and no later membership of the
 *   same product already bought.
 * - inactive (30): engaged before, but not in the last `inactive_days` days.
 * - declining (20, only when not inactive): engagement events in the last `decline_days` days
 *   ≤ decline_max_ratio × those of the `decline_days` before, which were ≥ decline_min_previous.
 * `membership` is the one a payment_failed or expiring reason is about (null otherwise).
 */
export function churnRisk(f: ChurnFacts): ChurnRiskOut['members'] {
  const { at, settings: s } = f;
  const current = new Set(f.spans.filter((x) => x.joined_at < at && (x.left_at === null || x.left_at >= at)).map((x) => x.member_id));
  const last = new Map(f.engagement.map((e) => [e.member_id, e.last_at]));
  const recent = new Map(f.engagement.map((e) => [e.member_id, e.recent]));
  const previous = new Map(f.engagement.map((e) => [e.member_id, e.previous]));
  const live = f.memberships.filter((m) => m.revoked_at === null && m.ended_at === null && m.created_at < at);
  const out: ChurnRiskOut['members'] = [];
  for (const id of current) {
    const reasons: ChurnRiskOut['members'][number]['reasons'] = [];
    let membership: ChurnMembershipFact | null = null;
    const mine = live.filter((m) => m.member_id === id).sort((a, b) => (a.expires_at ?? Infinity) - (b.expires_at ?? Infinity) || (a.id < b.id ? -1 : 1));

    const pastDue = mine.find((m) => m.past_due_since !== null && m.past_due_since < at);
    const failure = f.failures.filter((x) => x.member_id === id && x.at < at && x.at >= at - s.expiring_days * DAY).sort((a, b) => b.at - a.at)[0];
    if (pastDue || failure) {
      membership = pastDue ?? mine.find((m) => m.id === failure!.membership_id) ?? null;
      const detail = pastDue
        ? `renewal payment failed: past due since ${date(pastDue.past_due_since!)}`
        : `renewal payment failed on ${date(failure!.at)}`;
      reasons.push({ kind: 'payment_failed', points: CHURN_POINTS.payment_failed, detail });
    }

    const expiring = mine.find(
      (m) =>
        m.expires_at !== null &&
        m.expires_at >= at &&
        m.expires_at < at + s.expiring_days * DAY &&
        !(m.auto_renew && m.cancelled_at === null) &&
        !m.open_renewal_order &&
        !live.some((n) => n.member_id === id && n.product_id === m.product_id && n.created_at > m.created_at),
    );
    if (expiring) {
      membership ??= expiring;
      const days = Math.ceil((expiring.expires_at! - at) / DAY);
      const why = expiring.cancelled_at !== null ? 'cancelled' : 'auto-renew off';
      reasons.push({ kind: 'expiring', points: CHURN_POINTS.expiring, detail: `membership expires ${date(expiring.expires_at!)} (in ${days} days), ${why}, no renewal order` });
    }

    const lastAt = last.get(id);
    const inactive = lastAt !== undefined && at - lastAt >= s.inactive_days * DAY;
    if (inactive) reasons.push({ kind: 'inactive', points: CHURN_POINTS.inactive, detail: `no engagement for ${Math.floor((at - lastAt) / DAY)} days (last ${date(lastAt)})` });
    const cur = recent.get(id) ?? 0;
    const prev = previous.get(id) ?? 0;
    if (!inactive && prev >= s.decline_min_previous && cur <= s.decline_max_ratio * prev)
      reasons.push({ kind: 'declining', points: CHURN_POINTS.declining, detail: `engagement fell from ${prev} to ${cur} events (last ${s.decline_days} days vs the ${s.decline_days} before)` });

    if (!reasons.length) continue;
    out.push({
      member_id: id,
      display_name: f.names.get(id) ?? '',
      score: Math.min(100, reasons.reduce((t, r) => t + r.points, 0)),
      reasons,
      last_engaged_at: lastAt === undefined ? null : new Date(lastAt).toISOString(),
      membership: membership && {
        id: membership.id,
        product_id: membership.product_id,
        expires_at: membership.expires_at === null ? null : new Date(membership.expires_at).toISOString(),
        auto_renew: membership.auto_renew,
        cancelled: membership.cancelled_at !== null,
        past_due_since: membership.past_due_since === null ? null : new Date(membership.past_due_since).toISOString(),
      },
    });
  }
  return out.sort((a, b) => b.score - a.score || (a.member_id < b.member_id ? -1 : 1));
}
