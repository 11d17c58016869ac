/**
 * The metric definitions of PRODUCT.md ("Metric definitions"), each defined once, here, as a pure
 * function of raw rows. The service loads the rows; nothing else computes a metric.
 *
 * Period: [t0, t1), t0 and t1 local midnight of `from` and `to` in the community's time zone.
 * All comparisons are on instants (milliseconds since the epoch).
 *
 * Bump METRICS_VERSION whenever a definition below changes meaning, so scripts can tell.
 */
import { TRIAL_CONVERSION_DAYS, type MetricsOut } from '../../../../contracts/src/index.js';

export const METRICS_VERSION = '2026-12-04.2';

export { TRIAL_CONVERSION_DAYS };

/** One row of member_spans (a stay in one group). */
export interface SpanFact {
  member_id: string;
  joined_at: number;
  left_at: number | null;
  referrer_member_id: string | null;
}

/** An order that was paid (paid_at set), whatever happened to it afterwards. */
export interface PaidOrderFact {
  id: string;
  member_id: string;
  product_id: string;
  amount_minor: number;
  currency: string;
  paid_at: number;
}

export interface RefundFact {
  id: string;
  order_id: string;
  /** The buyer of the refunded order. */
  member_id: string;
  amount_minor: number;
  currency: string;
  created_at: number;
}

/** A membership bought by an order (memberships.source = 'order'). */
export interface MembershipFact {
  id: string;
  member_id: string;
  product_id: string;
  created_at: number;
  expires_at: number | null;
  revoked_at: number | null;
}

export interface MetricsFacts {
  t0: number;
  t1: number;
  currency: string;
  /** Grace window of a renewal, in days (the community's `renewal_grace_days`). */
  graceDays: number;
  spans: SpanFact[];
  paidOrders: PaidOrderFact[];
  /** Refunds that succeeded in [t0, t1), `created_at` being when they did (`settled_at`); others are ignored. */
  refunds: RefundFact[];
  /**
   * Members with ≥1 engagement event (ENGAGEMENT_TYPES, as the actor) in [t0, t1). t0 and t1 are
   * local midnights, so the local days of the daily rollups give this set exactly.
   */
  engaged: string[];
  memberships: MembershipFact[];
  /** Trial products of the community: trial product id → the full product it leads to. */
  trialOf: Map<string, string>;
  /** Conversion window of a trial, in days (TRIAL_CONVERSION_DAYS). */
  trialWindowDays: number;
}

export type MetricsValues = Omit<MetricsOut, 'metrics_version' | 'community_id' | 'time_zone' | 'currency' | 'period'>;

const DAY = 86_400_000;

/**
 * A community-level stay of one person: their group spans merged where one starts no later than
 * the previous one ends (a move between groups is not a leave and a join). A person with a paid
 * order and no span at all has one open stay from their first paid order.
 * `referred`: the stay's first span came through another member's link (span referrer set);
 * `referrer_member_id`: that member.
 */
export interface Stay {
  member_id: string;
  start: number;
  end: number | null;
  referred: boolean;
  referrer_member_id: string | null;
}

export function staysOf(spans: SpanFact[], paidOrders: PaidOrderFact[]): Stay[] {
  const byMember = new Map<string, SpanFact[]>();
  for (const s of spans) byMember.set(s.member_id, [...(byMember.get(s.member_id) ?? []), s]);
  const stays: Stay[] = [];
  for (const [memberId, list] of byMember) {
    list.sort((a, b) => a.joined_at - b.joined_at);
    let cur: Stay | null = null;
    for (const s of list) {
      if (cur && (cur.end === null || s.joined_at <= cur.end)) {
        if (cur.end !== null) cur.end = s.left_at === null ? null : Math.max(cur.end, s.left_at);
        continue;
      }
      cur = { member_id: memberId, start: s.joined_at, end: s.left_at, referred: s.referrer_member_id !== null, referrer_member_id: s.referrer_member_id };
      stays.push(cur);
    }
  }
  const firstPaid = new Map<string, number>();
  for (const o of paidOrders) {
    if (byMember.has(o.member_id)) continue;
    firstPaid.set(o.member_id, Math.min(firstPaid.get(o.member_id) ?? Infinity, o.paid_at));
  }
  for (const [memberId, at] of firstPaid) stays.push({ member_id: memberId, start: at, end: null, referred: false, referrer_member_id: null });
  return stays;
}

/** Member at t (the state just before t): start < t and (end is null or end ≥ t). */
const coversInstant = (s: Stay, t: number) => s.start < t && (s.end === null || s.end >= t);

const rate = (numerator: number, denominator: number, reason?: string) => ({
  value: denominator === 0 ? null : numerator / denominator,
  numerator,
  denominator,
  ...(reason ? { reason } : {}),
});

/**
 * The rows behind each figure of computeMetrics, built once: computeMetrics counts (or sums) them,
 * the explain endpoint lists them, so a list always adds up to its figure.
 */
export interface MetricSets {
  atT0: string[];
  atT1: string[];
  /** Stays starting in the period (a person may appear twice). */
  joins: Stay[];
  /** Stays ending in the period. */
  leaves: Stay[];
  periodMembers: string[];
  active: string[];
  paying: string[];
  /** People with ≥1 / ≥2 orders paid before t1. */
  buyersByT1: string[];
  repeatBuyers: string[];
  expiring: MembershipFact[];
  renewed: MembershipFact[];
  trialBuyers: { member_id: string; product_id: string; at: number }[];
  trialConverted: { member_id: string; product_id: string; at: number }[];
  /** Orders paid in the period, in the community currency. */
  gmvOrders: PaidOrderFact[];
  refunds: RefundFact[];
  /** People whose stay started in the period through a referral. */
  referredJoiners: string[];
}

/** The sets behind every metric of one period; see computeMetrics for the definitions. */
export function metricSets(f: MetricsFacts): MetricSets {
  const { t0, t1 } = f;
  const inPeriod = (t: number) => t >= t0 && t < t1;
  const stays = staysOf(f.spans, f.paidOrders);

  const atT0 = new Set(stays.filter((s) => coversInstant(s, t0)).map((s) => s.member_id));
  const atT1 = new Set(stays.filter((s) => coversInstant(s, t1)).map((s) => s.member_id));
  const joined = stays.filter((s) => inPeriod(s.start));
  const left = stays.filter((s) => s.end !== null && inPeriod(s.end));
  const periodMembers = new Set([...atT0, ...joined.map((s) => s.member_id)]);

  const engaged = new Set(f.engaged);
  const paidInPeriod = f.paidOrders.filter((o) => inPeriod(o.paid_at));
  const payers = new Set(paidInPeriod.map((o) => o.member_id));

  const ordersByT1 = new Map<string, number>();
  for (const o of f.paidOrders) if (o.paid_at < t1) ordersByT1.set(o.member_id, (ordersByT1.get(o.member_id) ?? 0) + 1);

  const live = f.memberships.filter((m) => m.revoked_at === null);
  const expiring = live.filter((m) => m.expires_at !== null && inPeriod(m.expires_at));
  const renewed = expiring.filter((m) =>
    live.some((n) => n.id !== m.id && n.member_id === m.member_id && n.product_id === m.product_id && n.created_at > m.created_at && n.created_at <= m.expires_at! + f.graceDays * DAY),
  );

  const trialStarts = new Map<string, { member_id: string; product_id: string; full: string; at: number }>();
  for (const o of paidInPeriod) {
    const full = f.trialOf.get(o.product_id);
    if (full === undefined) continue;
    const key = `${o.member_id} ${o.product_id}`;
    const prev = trialStarts.get(key);
    if (!prev || o.paid_at < prev.at) trialStarts.set(key, { member_id: o.member_id, product_id: o.product_id, full, at: o.paid_at });
  }
  const trialBuyers = [...trialStarts.values()];
  const converted = trialBuyers.filter((t) =>
    f.paidOrders.some((o) => o.member_id === t.member_id && o.product_id === t.full && o.paid_at >= t.at && o.paid_at <= t.at + f.trialWindowDays * DAY),
  );
  const strip = ({ member_id, product_id, at }: { member_id: string; product_id: string; at: number }) => ({ member_id, product_id, at });

  return {
    atT0: [...atT0],
    atT1: [...atT1],
    joins: joined,
    leaves: left,
    periodMembers: [...periodMembers],
    active: [...periodMembers].filter((m) => engaged.has(m)),
    paying: [...periodMembers].filter((m) => payers.has(m)),
    buyersByT1: [...ordersByT1.keys()],
    repeatBuyers: [...ordersByT1].filter(([, n]) => n >= 2).map(([m]) => m),
    expiring,
    renewed,
    trialBuyers: trialBuyers.map(strip),
    trialConverted: converted.map(strip),
    gmvOrders: paidInPeriod.filter((o) => o.currency === f.currency),
    refunds: f.refunds.filter((r) => r.currency === f.currency && inPeriod(r.created_at)),
    referredJoiners: [...new Set(joined.filter((s) => s.referred).map((s) => s.member_id))],
  };
}

/**
 * The counts and sums every metric of a period is a ratio of. `countsOf` takes them from the sets
 * (metricSets); the fast path of GET …/metrics takes the same counts straight from SQL
 * (metrics.repo.ts `countPeriodMetrics`, which implements the definitions below in SQL and is held
 * to give the same numbers as the sets by metrics.counts.test.ts).
 */
export interface MetricCounts {
  members_t0: number;
  members_t1: number;
  period_members: number;
  joins: number;
  leaves: number;
  active: number;
  paying: number;
  buyers_by_t1: number;
  repeat_buyers: number;
  expiring: number;
  renewed: number;
  trial_buyers: number;
  trial_converted: number;
  gmv_minor: number;
  refunds_minor: number;
  referred_joiners: number;
}

/** The counts of metricSets' sets. */
export function countsOf(s: MetricSets): MetricCounts {
  const sum = (rows: { amount_minor: number }[]) => rows.reduce((n, r) => n + r.amount_minor, 0);
  return {
    members_t0: s.atT0.length,
    members_t1: s.atT1.length,
    period_members: s.periodMembers.length,
    joins: s.joins.length,
    leaves: s.leaves.length,
    active: s.active.length,
    paying: s.paying.length,
    buyers_by_t1: s.buyersByT1.length,
    repeat_buyers: s.repeatBuyers.length,
    expiring: s.expiring.length,
    renewed: s.renewed.length,
    trial_buyers: s.trialBuyers.length,
    trial_converted: s.trialConverted.length,
    gmv_minor: sum(s.gmvOrders),
    refunds_minor: sum(s.refunds),
    referred_joiners: s.referredJoiners.length,
  };
}

/**
 * Computes every metric of one period:
 *
 * - members_t0 / members_t1: distinct people with a stay covering t0 / t1.
 * - joins: stays starting in [t0, t1) (so a rejoin counts again; a group move does not).
 *   leaves: stays ending in [t0, t1) (left or removed). Hence members_t1 = members_t0 + joins − leaves.
 * - period_members: distinct people a member at t0 or with a stay starting in [t0, t1).
 * - leave_rate = leaves ÷ (members_t0 + joins).
 * - active_members: period members with ≥1 engagement event in [t0, t1); active_rate = ÷ period_members.
 * - paying_members: period members with ≥1 order paid in [t0, t1); paid_rate = ÷ period_members.
 * - repurchase_rate: people with ≥2 orders paid before t1 ÷ people with ≥1 (all people of the
 *   community, members now or not; refunded orders still count as paid).
 * - renewal_rate: order memberships expiring in [t0, t1) (not revoked) that were renewed — another
 *   unrevoked order membership of the same member and product created after them and no later
 *   than expiry + grace — ÷ those memberships.
 * - trial_renewal_rate (续班率): trial buyers — distinct (member, trial product) pairs with an order
 *   for the trial product paid in [t0, t1), at their earliest such payment p — that paid an order
 *   for the linked full product at or after p and no later than p + trialWindowDays, ÷ those trial
 *   buyers. A trial whose window has not ended yet counts as not converted until it converts.
 *   null with a reason when the community has no trial products.
 * - gmv: amounts of orders paid in [t0, t1) (community currency); refunds: refunds that succeeded
 *   in [t0, t1), whichever period their order was paid in; net_revenue = gmv − refunds.
 * - arpu = net_revenue ÷ period_members; arppu = gmv ÷ paying_members (minor units, unrounded).
 * - k_factor: distinct people with a stay starting in [t0, t1) through a referral ÷ members_t0.
 */
export function computeMetrics(f: MetricsFacts): MetricsValues {
  return metricsFromCounts(countsOf(metricSets(f)), f.currency, f.trialOf.size > 0);
}

/** The metrics of computeMetrics from their counts; `hasTrials`: the community has trial products. */
export function metricsFromCounts(c: MetricCounts, currency: string, hasTrials: boolean): MetricsValues {
  const net = c.gmv_minor - c.refunds_minor;
  const money = (amount_minor: number) => ({ amount_minor, currency });
  const perPerson = (numerator: number, denominator: number) => ({ ...rate(numerator, denominator), currency });

  return {
    members_t0: c.members_t0,
    members_t1: c.members_t1,
    period_members: c.period_members,
    joins: c.joins,
    leaves: c.leaves,
    leave_rate: rate(c.leaves, c.members_t0 + c.joins),
    active_members: c.active,
    active_rate: rate(c.active, c.period_members),
    paying_members: c.paying,
    paid_rate: rate(c.paying, c.period_members),
    repurchase_rate: rate(c.repeat_buyers, c.buyers_by_t1),
    renewal_rate: rate(c.renewed, c.expiring),
    trial_renewal_rate: hasTrials ? rate(c.trial_converted, c.trial_buyers) : rate(0, 0, 'No trial products: mark a product as the trial of a full product (trial_of_product_id)'),
    gmv: money(c.gmv_minor),
    refunds: money(c.refunds_minor),
    net_revenue: money(net),
    arpu: perPerson(net, c.period_members),
    arppu: perPerson(c.gmv_minor, c.paying),
    k_factor: rate(c.referred_joiners, c.members_t0),
  };
}
