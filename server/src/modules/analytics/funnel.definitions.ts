/**
 * The conversion funnels, defined once, here, as pure functions of raw facts. The service loads
 * the facts; see docs/analytics.md "Funnels".
 */
import type { PaidOrderFact, SpanFact } from '../metrics/index.js';
import { firstJoins } from './cohorts.definitions.js';

const DAY = 86_400_000;

export type FunnelSplitBy = 'channel' | 'group' | 'staff';

/** A `link_visited` event in the period. */
export interface VisitFact {
  occurred_at: number;
  channel: string | null;
  entry_link_id: string | null;
}

/** An `applied` event (someone applied through an entry link). */
export interface ApplicationFact {
  member_id: string;
  occurred_at: number;
  entry_link_id: string | null;
}

/** Any member event with its instant (onboarded, engagement). */
export interface MemberAt {
  member_id: string;
  occurred_at: number;
}

export interface FunnelFacts {
  t0: number;
  t1: number;
  windowDays: number;
  split: FunnelSplitBy | undefined;
  visits: VisitFact[];
  /** Every `applied` event before t1 (a person enters at their first one ever). */
  applications: ApplicationFact[];
  spans: (SpanFact & { group_id: string; entry_link_id: string | null })[];
  paidOrders: PaidOrderFact[];
  onboarded: MemberAt[];
  /** Engagement events from t0 on (earlier ones are ignored). */
  engagement: MemberAt[];
  links: Map<string, { channel: string; owner_user_id: string | null }>;
  groups: Map<string, { monitor_user_id: string | null }>;
  /** Trial product id → the full product it leads to (the trial preset). */
  trialOf: Map<string, string>;
}

export interface StepCount {
  key: string;
  unit: 'events' | 'people';
  count: number | null;
}

export interface FunnelRow {
  key: string | null;
  steps: StepCount[];
}

export const FUNNEL_STEPS = ['visited', 'applied', 'joined', 'onboarded', 'engaged', 'paid', 'repeat_paid'] as const;
export const TRIAL_FUNNEL_STEPS = ['trial_paid', 'engaged', 'full_paid'] as const;

/** A person in a funnel: when they entered and the instants of each later step (undefined: never). */
interface Entrant {
  member_id: string;
  at: number;
  /** Step instants after the entry step, in step order; a step counts if it falls in the window. */
  steps: ((entered: number, end: number) => boolean)[];
}

function byMember<T extends { member_id: string }>(rows: T[]): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const r of rows) {
    const list = out.get(r.member_id);
    if (list) list.push(r);
    else out.set(r.member_id, [r]);
  }
  return out;
}

/**
 * Split keys of a person: the entry link is the link of their first group span when they joined,
 * else the link of their first application.
 * - channel: the entry link's channel.
 * - group: the group of their first span (null: never joined).
 * - staff: the entry link's owner when they joined through it, else the monitor of the group they
 *   first joined; for people who never joined, the owner of their first application's link.
 */
function splitKeyOf(f: FunnelFacts, firstSpan: FunnelFacts['spans'][number] | undefined, firstApplication: ApplicationFact | undefined): string | null {
  const linkId = firstSpan ? firstSpan.entry_link_id : (firstApplication?.entry_link_id ?? null);
  const link = linkId === null ? undefined : f.links.get(linkId);
  switch (f.split) {
    case 'channel':
      return link?.channel ?? null;
    case 'group':
      return firstSpan?.group_id ?? null;
    case 'staff':
      return link?.owner_user_id ?? (firstSpan ? (f.groups.get(firstSpan.group_id)?.monitor_user_id ?? null) : null);
    default:
      return null;
  }
}

const rate = (numerator: number, denominator: number) => ({ value: denominator === 0 ? null : numerator / denominator, numerator, denominator });

/** from_previous and from_first of each step of a row. */
export function withRates(steps: StepCount[]) {
  const firstPeople = steps.find((s) => s.unit === 'people')?.count ?? null;
  return steps.map((s, i) => {
    const prev = i === 0 ? null : steps[i - 1]!.count;
    return {
      ...s,
      from_previous: i === 0 || prev === null || s.count === null ? null : rate(s.count, prev),
      from_first: s.unit === 'events' || s.count === null || firstPeople === null ? null : rate(s.count, firstPeople),
    };
  });
}

/**
 * Entrants (people) and visits (events) of a funnel, then the counts per step, overall and per
 * split key. A person counts at a step when they reached it and every earlier step, each within
 * [entered, entered + windowDays] (inclusive; in any order among themselves).
 */
function countRows(f: FunnelFacts, entrants: (Entrant & { key: string | null })[], stepKeys: readonly string[], withVisits: boolean) {
  const count = (people: Entrant[]) => {
    const reached = stepKeys.slice(withVisits ? 1 : 0).map(() => 0);
    for (const p of people) {
      const end = p.at + f.windowDays * DAY;
      reached[0]!++;
      for (let k = 0; k < p.steps.length; k++) {
        if (!p.steps[k]!(p.at, end)) break;
        reached[k + 1]!++;
      }
    }
    return reached;
  };
  const visitKey = (v: VisitFact): string | null | undefined =>
    f.split === 'channel' ? v.channel : f.split === 'staff' ? (v.entry_link_id === null ? null : (f.links.get(v.entry_link_id)?.owner_user_id ?? null)) : undefined;
  const stepsOf = (people: Entrant[], visits: number | null): StepCount[] => {
    const people_ = count(people).map((n, i) => ({ key: stepKeys[i + (withVisits ? 1 : 0)]!, unit: 'people' as const, count: n }));
    return withVisits ? [{ key: stepKeys[0]!, unit: 'events', count: visits }, ...people_] : people_;
  };
  const overall = stepsOf(entrants, f.visits.length);
  if (!f.split) return { steps: overall, rows: null };
  const keys = new Set<string | null>(entrants.map((e) => e.key));
  if (withVisits && f.split !== 'group') for (const v of f.visits) keys.add(visitKey(v) ?? null);
  const rows: FunnelRow[] = [...keys].map((key) => ({
    key,
    steps: stepsOf(
      entrants.filter((e) => e.key === key),
      f.split === 'group' ? null : f.visits.filter((v) => (visitKey(v) ?? null) === key).length,
    ),
  }));
  const size = (r: FunnelRow) => r.steps.find((s) => s.unit === 'people')!.count!;
  rows.sort((a, b) => size(b) - size(a) || (a.key === null ? 1 : b.key === null ? -1 : a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return { steps: overall, rows };
}

const inWindow = (t: number | undefined) => (entered: number, end: number) => t !== undefined && t >= entered && t <= end;
const anyInWindow = (ts: number[] | undefined) => (entered: number, end: number) => !!ts?.some((t) => t >= entered && t <= end);

/** Per person: their spans, first application, paid orders sorted by paid_at (then id), engagement instants. */
function personIndex(f: FunnelFacts) {
  const spans = byMember(f.spans);
  for (const list of spans.values()) list.sort((a, b) => a.joined_at - b.joined_at);
  const firstApplication = new Map<string, ApplicationFact>();
  for (const a of f.applications) {
    const prev = firstApplication.get(a.member_id);
    if (!prev || a.occurred_at < prev.occurred_at) firstApplication.set(a.member_id, a);
  }
  const orders = byMember(f.paidOrders);
  for (const list of orders.values()) list.sort((a, b) => a.paid_at - b.paid_at || (a.id < b.id ? -1 : 1));
  const engagement = new Map<string, number[]>();
  for (const e of f.engagement) {
    const list = engagement.get(e.member_id);
    if (list) list.push(e.occurred_at);
    else engagement.set(e.member_id, [e.occurred_at]);
  }
  const key = (m: string) => splitKeyOf(f, spans.get(m)?.[0], firstApplication.get(m));
  return { spans, firstApplication, orders, engagement, key };
}

/**
 * The acquisition funnel: link visit → applied → joined → onboarded → engaged → paid → repeat paid.
 *
 * - visited: `link_visited` events in [t0, t1), counted as events (a visit has no person);
 *   applied ÷ visited is the visit-to-application rate.
 * - applied (entrants): people whose first `applied` event ever falls in [t0, t1), entering then (E).
 * - joined: their first join (the start of their first stay) in [E, E + window].
 * - onboarded: their first `onboarded` event in the window.
 * - engaged: ≥1 engagement event in the window.
 * - paid: their first paid order ever in the window.
 * - repeat_paid: their second paid order ever (a renewal or any other purchase) in the window.
 * Refunded orders still count as paid. A person whose window has not ended yet counts for the
 * steps reached so far.
 */
export function computeFunnel(f: FunnelFacts): { steps: StepCount[]; rows: FunnelRow[] | null } {
  const idx = personIndex(f);
  const joins = firstJoins(f.spans, f.paidOrders);
  const onboarded = new Map<string, number>();
  for (const o of f.onboarded) onboarded.set(o.member_id, Math.min(onboarded.get(o.member_id) ?? Infinity, o.occurred_at));
  const entrants = [...idx.firstApplication.values()]
    .filter((a) => a.occurred_at >= f.t0 && a.occurred_at < f.t1)
    .map((a) => {
      const m = a.member_id;
      const orders = idx.orders.get(m) ?? [];
      return {
        member_id: m,
        at: a.occurred_at,
        key: idx.key(m),
        steps: [inWindow(joins.get(m)), inWindow(onboarded.get(m)), anyInWindow(idx.engagement.get(m)), inWindow(orders[0]?.paid_at), inWindow(orders[1]?.paid_at)],
      };
    });
  return countRows(f, entrants, FUNNEL_STEPS, true);
}

/**
 * The trial funnel (引流课 → 续班):
 *
 * - trial_paid (entrants): people whose first paid order ever for a trial product (one with
 *   `trial_of_product_id`) falls in [t0, t1), entering then (E).
 * - engaged: ≥1 engagement event in [E, E + window].
 * - full_paid: a paid order for the full product of that first trial in [E, E + window].
 */
export function computeTrialFunnel(f: FunnelFacts): { steps: StepCount[]; rows: FunnelRow[] | null } {
  const idx = personIndex(f);
  const entrants = [];
  for (const [m, orders] of idx.orders) {
    const trial = orders.find((o) => f.trialOf.has(o.product_id));
    if (!trial || trial.paid_at < f.t0 || trial.paid_at >= f.t1) continue;
    const full = f.trialOf.get(trial.product_id)!;
    entrants.push({
      member_id: m,
      at: trial.paid_at,
      key: idx.key(m),
      steps: [anyInWindow(idx.engagement.get(m)), anyInWindow(orders.filter((o) => o.product_id === full).map((o) => o.paid_at))],
    });
  }
  return countRows(f, entrants, TRIAL_FUNNEL_STEPS, false);
}
