/**
 * The rows behind each figure of /metrics, taken from metricSets (metrics.definitions.ts), the very
 * sets computeMetrics counts: a list's length is always its figure (and its amounts sum to a money
 * figure). People figures list one row per person; joins and leaves one per stay (a person who
 * rejoined appears twice); renewals one per membership; 续班 one per (person, trial product);
 * gmv one per order; refunds one per refund. leave_rate's denominator is members at t0 followed by
 * the join stays, so a person can appear twice there too.
 */
import type { ExplainQuery } from '../../../../contracts/src/index.js';
import { invalid } from '../../lib/errors.js';
import type { MetricSets, Stay } from '../metrics/index.js';

export interface ExplainItem {
  member_id: string;
  item: string | null;
  at: number | null;
  amount_minor: number | null;
}

const people = (ids: string[]): ExplainItem[] => ids.map((member_id) => ({ member_id, item: null, at: null, amount_minor: null }));
const stays = (list: Stay[], end: boolean): ExplainItem[] => list.map((s) => ({ member_id: s.member_id, item: null, at: end ? s.end : s.start, amount_minor: null }));

type Rows = (s: MetricSets) => ExplainItem[];

const PARTS: Partial<Record<ExplainQuery['metric'], [Rows, Rows?]>> = {
  members_t0: [(s) => people(s.atT0)],
  members_t1: [(s) => people(s.atT1)],
  period_members: [(s) => people(s.periodMembers)],
  joins: [(s) => stays(s.joins, false)],
  leaves: [(s) => stays(s.leaves, true)],
  leave_rate: [(s) => stays(s.leaves, true), (s) => [...people(s.atT0), ...stays(s.joins, false)]],
  active_members: [(s) => people(s.active)],
  active_rate: [(s) => people(s.active), (s) => people(s.periodMembers)],
  paying_members: [(s) => people(s.paying)],
  paid_rate: [(s) => people(s.paying), (s) => people(s.periodMembers)],
  repurchase_rate: [(s) => people(s.repeatBuyers), (s) => people(s.buyersByT1)],
  renewal_rate: [
    (s) => s.renewed.map((m) => ({ member_id: m.member_id, item: m.id, at: m.expires_at, amount_minor: null })),
    (s) => s.expiring.map((m) => ({ member_id: m.member_id, item: m.id, at: m.expires_at, amount_minor: null })),
  ],
  trial_renewal_rate: [
    (s) => s.trialConverted.map((t) => ({ member_id: t.member_id, item: t.product_id, at: t.at, amount_minor: null })),
    (s) => s.trialBuyers.map((t) => ({ member_id: t.member_id, item: t.product_id, at: t.at, amount_minor: null })),
  ],
  k_factor: [(s) => people(s.referredJoiners), (s) => people(s.atT0)],
  gmv: [(s) => s.gmvOrders.map((o) => ({ member_id: o.member_id, item: o.id, at: o.paid_at, amount_minor: o.amount_minor }))],
  refunds: [(s) => s.refunds.map((r) => ({ member_id: r.member_id, item: r.id, at: r.created_at, amount_minor: r.amount_minor }))],
  arppu: [(s) => s.gmvOrders.map((o) => ({ member_id: o.member_id, item: o.id, at: o.paid_at, amount_minor: o.amount_minor })), (s) => people(s.paying)],
};

/**
 * What lists the rows of one part of one metric, given the sets; a denominator of a figure that has
 * none is a field error on `query.part`, raised here, before any facts are loaded.
 */
export function explainPart(metric: ExplainQuery['metric'], part: ExplainQuery['part']): Rows {
  const [numerator, denominator] = PARTS[metric]!;
  if (part === 'numerator') return numerator;
  if (!denominator) throw invalid('query.part', `${metric} is a count: it has no denominator`);
  return denominator;
}
