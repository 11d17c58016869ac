/**
 * Referral and KOL league (激励与淘汰), per period [t0, t1). Built on the community stays of the
 * metric definitions (staysOf): a stay is *brought by* whoever its first span credits —
 *
 * - a member referrer: the span's `referrer_member_id` (the owner of the member invite link);
 * - staff (accounts): the `owner_user_id` of the span's entry link, and the leader and the monitor
 *   of the group the span joined (`groups.leader_user_id`, `monitor_user_id`). One stay may credit
 *   several of them.
 *
 * Per referrer:
 * - invites: `link_visited` events in the period through their links (member: the event's
 *   referrer_member_id; staff: links they own);
 * - joins: stays they brought that started in the period; k: distinct people among them (their
 *   share of the community K-factor's numerator);
 * - paid_conversion: of those k people, those with an order paid in the period ÷ k;
 * - people: distinct people with a stay they brought starting before t1;
 * - revenue: GMV of orders paid in the period by those people;
 * - ltv: (orders paid before t1 − refunds succeeded before t1) of those people ÷ people;
 * - leave_rate: their stays ending in the period ÷ (people with one of their stays covering t0 + joins);
 * - group_leave_rate (staff leading or monitoring groups): spans in those groups ending in the period
 *   ÷ (spans covering t0 + spans starting in the period); a move out of the group counts.
 *
 * Ranked by revenue, then joins, then LTV (descending). Verdict:
 * - reward: in the top quartile (rank ≤ ⌈n ÷ 4⌉ among the n rows of the same kind — members among
 *   members, staff among staff — ties sharing the best rank, value > 0) of both revenue and joins;
 * - replace: no joins in the period and a leave rate ≥ REPLACE_LEAVE_RATE (group leave rate for
 *   staff with groups);
 * - keep: everyone else.
 */
import { staysOf, type Stay } from '../metrics/index.js';

export const REPLACE_LEAVE_RATE = 0.5;

export interface ReferralSpanFact {
  member_id: string;
  group_id: string;
  entry_link_id: string | null;
  referrer_member_id: string | null;
  joined_at: number;
  left_at: number | null;
}

export interface ReferrersFacts {
  t0: number;
  t1: number;
  currency: string;
  spans: ReferralSpanFact[];
  paidOrders: { member_id: string; amount_minor: number; currency: string; paid_at: number }[];
  /** Succeeded refunds, dated when they succeeded (any time; those at or after t1 are ignored). */
  refunds: { member_id: string; amount_minor: number; currency: string; at: number }[];
  /** link_visited events in [t0, t1). */
  visits: { entry_link_id: string | null; referrer_member_id: string | null }[];
  linkOwner: Map<string, string | null>;
  groupStaff: Map<string, { leader_user_id: string | null; monitor_user_id: string | null }>;
}

interface Rate {
  value: number | null;
  numerator: number;
  denominator: number;
}

export interface ReferrerFigures {
  kind: 'member' | 'staff';
  id: string;
  invites: number;
  joins: number;
  k: number;
  paid_conversion: Rate;
  revenue_minor: number;
  people: number;
  ltv: Rate;
  leave_rate: Rate;
  group_leave_rate: Rate | null;
  verdict: 'reward' | 'keep' | 'replace';
  rank: number;
}

const rate = (numerator: number, denominator: number): Rate => ({ value: denominator === 0 ? null : numerator / denominator, numerator, denominator });

/** Rank of each value among all (1 + how many are strictly greater). */
const topQuartile = (values: number[]) => {
  const cut = Math.ceil(values.length / 4);
  return values.map((v) => v > 0 && 1 + values.filter((w) => w > v).length <= cut);
};

export function referrerLeague(f: ReferrersFacts): ReferrerFigures[] {
  const { t0, t1 } = f;
  const inPeriod = (t: number) => t >= t0 && t < t1;
  const staff = (groupId: string, linkId: string | null) => {
    const g = f.groupStaff.get(groupId);
    return [linkId === null ? null : (f.linkOwner.get(linkId) ?? null), g?.leader_user_id ?? null, g?.monitor_user_id ?? null].filter((u): u is string => u !== null);
  };
  const creditsOf = (s: ReferralSpanFact) => [...new Set([...(s.referrer_member_id ? [`member:${s.referrer_member_id}`] : []), ...staff(s.group_id, s.entry_link_id).map((u) => `staff:${u}`)])];

  // The first span of each stay: staysOf starts a stay at its first span's joined_at (ties: input order).
  const firstSpan = new Map<string, ReferralSpanFact>();
  for (const s of f.spans) {
    const key = `${s.member_id} ${s.joined_at}`;
    if (!firstSpan.has(key)) firstSpan.set(key, s);
  }
  const stays = staysOf(f.spans, []);
  const keys = new Map<string, Stay[]>();
  const ensure = (key: string) => keys.get(key) ?? (keys.set(key, []), keys.get(key)!);
  for (const stay of stays) {
    if (stay.start >= t1) continue;
    for (const key of creditsOf(firstSpan.get(`${stay.member_id} ${stay.start}`)!)) ensure(key).push(stay);
  }
  const invites = new Map<string, number>();
  for (const v of f.visits) {
    const owners = [...(v.referrer_member_id ? [`member:${v.referrer_member_id}`] : []), ...(v.entry_link_id && f.linkOwner.get(v.entry_link_id) ? [`staff:${f.linkOwner.get(v.entry_link_id)}`] : [])];
    for (const key of owners) {
      ensure(key);
      invites.set(key, (invites.get(key) ?? 0) + 1);
    }
  }
  const groupsOf = new Map<string, Set<string>>();
  for (const [groupId, g] of f.groupStaff) {
    for (const u of new Set([g.leader_user_id, g.monitor_user_id])) {
      if (u === null) continue;
      ensure(`staff:${u}`);
      groupsOf.set(`staff:${u}`, (groupsOf.get(`staff:${u}`) ?? new Set()).add(groupId));
    }
  }

  // Per-person money and per-group span counts, summed per referrer below.
  const add = (m: Map<string, number>, k: string, v: number) => m.set(k, (m.get(k) ?? 0) + v);
  const [gmvInPeriod, paidBeforeT1, refundedBeforeT1] = [new Map<string, number>(), new Map<string, number>(), new Map<string, number>()];
  const payers = new Set<string>();
  for (const o of f.paidOrders) {
    if (inPeriod(o.paid_at)) payers.add(o.member_id);
    if (o.currency !== f.currency) continue;
    if (inPeriod(o.paid_at)) add(gmvInPeriod, o.member_id, o.amount_minor);
    if (o.paid_at < t1) add(paidBeforeT1, o.member_id, o.amount_minor);
  }
  for (const r of f.refunds) if (r.currency === f.currency && r.at < t1) add(refundedBeforeT1, r.member_id, r.amount_minor);
  const over = (people: Set<string>, m: Map<string, number>) => [...people].reduce((s, p) => s + (m.get(p) ?? 0), 0);
  const groupSpans = new Map<string, { covering: number; joins: number; leaves: number }>();
  for (const s of f.spans) {
    const g = groupSpans.get(s.group_id) ?? { covering: 0, joins: 0, leaves: 0 };
    if (s.joined_at < t0 && (s.left_at === null || s.left_at >= t0)) g.covering++;
    if (inPeriod(s.joined_at)) g.joins++;
    if (s.left_at !== null && inPeriod(s.left_at)) g.leaves++;
    groupSpans.set(s.group_id, g);
  }
  const rows = [...keys].map(([key, list]) => {
    const [kind, id] = [key.slice(0, key.indexOf(':')) as 'member' | 'staff', key.slice(key.indexOf(':') + 1)];
    const joined = list.filter((s) => inPeriod(s.start));
    const newPeople = new Set(joined.map((s) => s.member_id));
    const people = new Set(list.map((s) => s.member_id));
    const atT0 = new Set(list.filter((s) => s.start < t0 && (s.end === null || s.end >= t0)).map((s) => s.member_id));
    const leaves = list.filter((s) => s.end !== null && inPeriod(s.end)).length;
    const groups = groupsOf.get(key);
    let groupLeave: Rate | null = null;
    if (groups) {
      const g = [...groups].map((id) => groupSpans.get(id) ?? { covering: 0, joins: 0, leaves: 0 });
      groupLeave = rate(g.reduce((n, x) => n + x.leaves, 0), g.reduce((n, x) => n + x.covering + x.joins, 0));
    }
    return {
      kind,
      id,
      invites: invites.get(key) ?? 0,
      joins: joined.length,
      k: newPeople.size,
      paid_conversion: rate([...newPeople].filter((m) => payers.has(m)).length, newPeople.size),
      revenue_minor: over(people, gmvInPeriod),
      people: people.size,
      ltv: rate(over(people, paidBeforeT1) - over(people, refundedBeforeT1), people.size),
      leave_rate: rate(leaves, atT0.size + joined.length),
      group_leave_rate: groupLeave,
      verdict: 'keep' as ReferrerFigures['verdict'],
      rank: 0,
    };
  });
  rows.sort((a, b) => b.revenue_minor - a.revenue_minor || b.joins - a.joins || (b.ltv.value ?? 0) - (a.ltv.value ?? 0) || (a.kind + a.id < b.kind + b.id ? -1 : 1));
  // Quartiles within each kind: members are compared with members, staff with staff.
  const top = new Map<(typeof rows)[number], boolean>();
  for (const kind of ['member', 'staff'] as const) {
    const same = rows.filter((r) => r.kind === kind);
    const [revenue, joins] = [topQuartile(same.map((r) => r.revenue_minor)), topQuartile(same.map((r) => r.joins))];
    same.forEach((r, i) => top.set(r, revenue[i]! && joins[i]!));
  }
  rows.forEach((r, i) => {
    r.rank = i + 1;
    const leave = (r.group_leave_rate ?? r.leave_rate).value;
    if (top.get(r)) r.verdict = 'reward';
    else if (r.joins === 0 && leave !== null && leave >= REPLACE_LEAVE_RATE) r.verdict = 'replace';
  });
  return rows;
}
