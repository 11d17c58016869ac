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

/** The rows of one part of one metric; a denominator of a figure that has none is a field error on `query.part`. */
export function explainItems(s: MetricSets, metric: ExplainQuery['metric'], part: ExplainQuery['part']): ExplainItem[] {
  const parts: Partial<Record<ExplainQuery['metric'], [() => ExplainItem[], (() => ExplainItem[])?]>> = {
    members_t0: [() => people(s.atT0)],
    members_t1: [() => people(s.atT1)],
    period_members: [() => people(s.periodMembers)],
    joins: [() => stays(s.joins, false)],
    leaves: [() => stays(s.leaves, true)],
    leave_rate: [() => stays(s.leaves, true), () => [...people(s.atT0), ...stays(s.joins, false)]],
    active_members: [() => people(s.active)],
    active_rate: [() => people(s.active), () => people(s.periodMembers)],
    paying_members: [() => people(s.paying)],
    paid_rate: [() => people(s.paying), () => people(s.periodMembers)],
    repurchase_rate: [() => people(s.repeatBuyers), () => people(s.buyersByT1)],
    renewal_rate: [
      () => s.renewed.map((m) => ({ member_id: m.member_id, item: m.id, at: m.expires_at, amount_minor: null })),
      () => s.expiring.map((m) => ({ member_id: m.member_id, item: m.id, at: m.expires_at, amount_minor: null })),
    ],
    trial_renewal_rate: [
      () => s.trialConverted.map((t) => ({ member_id: t.member_id, item: t.product_id, at: t.at, amount_minor: null })),
      () => s.trialBuyers.map((t) => ({ member_id: t.member_id, item: t.product_id, at: t.at, amount_minor: null })),
    ],
    k_factor: [() => people(s.referredJoiners), () => people(s.atT0)],
    gmv: [() => s.gmvOrders.map((o) => ({ member_id: o.member_id, item: o.id, at: o.paid_at, amount_minor: o.amount_minor }))],
    refunds: [() => s.refunds.map((r) => ({ member_id: r.member_id, item: r.id, at: r.created_at, amount_minor: r.amount_minor }))],
    arppu: [() => s.gmvOrders.map((o) => ({ member_id: o.member_id, item: o.id, at: o.paid_at, amount_minor: o.amount_minor })), () => people(s.paying)],
  };
  const [numerator, denominator] = parts[metric]!;
  if (part === 'numerator') return numerator();
  if (!denominator) throw invalid('query.part', `${metric} is a count: it has no denominator`);
  return denominator();
}
