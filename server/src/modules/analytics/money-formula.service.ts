import { DateTime } from 'luxon';
import type { MoneyFormulaOut, MoneyFormulaQuery } from '../../../../contracts/src/index.js';
import type { Deps } from '../../lib/deps.js';
import { computeMetrics, loadPeriodFacts, METRICS_VERSION } from '../metrics/index.js';
import { formulaHolds, lmdi, moneyFactors, type FormulaInputs, type MoneyFactorKey } from './money-formula.definitions.js';
import { countLinkVisitsBetween } from './money-formula.repo.js';

const LABELS: Record<MoneyFactorKey, string> = {
  reach: 'Reach (IP)',
  join_rate: 'Join rate (吸粉)',
  paid_conversion: 'Paying members per join (洗粉)',
  arppu: 'Revenue per payer, ARPPU (变现手段)',
};

/** The period of equal length (in local days) just before [from, to). */
export function previousPeriod(q: MoneyFormulaQuery): MoneyFormulaQuery {
  const from = DateTime.fromISO(q.from, { zone: 'UTC' });
  const days = DateTime.fromISO(q.to, { zone: 'UTC' }).diff(from, 'days').days;
  return { from: from.minus({ days }).toISODate()!, to: q.from };
}

/** The money formula of a period against the previous one (money-formula.definitions.ts). */
export async function moneyFormula(deps: Deps, communityId: string, q: MoneyFormulaQuery): Promise<MoneyFormulaOut> {
  const cur = await loadPeriodFacts(deps, communityId, q);
  const prev = await loadPeriodFacts(deps, communityId, previousPeriod(q));
  const [m1, m0] = [computeMetrics(cur.facts), computeMetrics(prev.facts)];
  const [v1, v0] = await Promise.all([
    countLinkVisitsBetween(deps.db, communityId, cur.period.t0, cur.period.t1),
    countLinkVisitsBetween(deps.db, communityId, prev.period.t0, prev.period.t1),
  ]);
  const source = v0 + v1 > 0 ? 'link_visits' : 'audience';
  const inputs = (m: typeof m1, visits: number): FormulaInputs => ({
    reach: source === 'link_visits' ? visits : m.period_members,
    joins: m.joins,
    payingMembers: m.paying_members,
    gmv: m.gmv.amount_minor,
  });
  const f1 = moneyFactors(inputs(m1, v1));
  const f0 = moneyFactors(inputs(m0, v0));
  const r1 = m1.gmv.amount_minor;
  const r0 = m0.gmv.amount_minor;
  const contributions = lmdi(f0, f1, r0, r1);
  let top: MoneyFactorKey | null = null;
  if (contributions) {
    let best = 0;
    contributions.forEach((c, i) => {
      if (Math.abs(c) > best) [best, top] = [Math.abs(c), f1[i]!.key];
    });
  }
  const holds = { current: formulaHolds(f1), previous: formulaHolds(f0) };
  return {
    metrics_version: METRICS_VERSION,
    community_id: communityId,
    time_zone: cur.community.time_zone,
    currency: cur.community.currency,
    period: cur.period,
    previous_period: prev.period,
    reach_source: source,
    revenue: { current: r1, previous: r0, change: r1 - r0 },
    holds,
    factors: f1.map((f, i) => {
      const p = f0[i]!;
      return {
        key: f.key,
        label: LABELS[f.key],
        value: f.value,
        numerator: f.numerator,
        denominator: f.denominator,
        previous: { value: p.value, numerator: p.numerator, denominator: p.denominator },
        change: f.value === null || p.value === null ? null : f.value - p.value,
        contribution: contributions ? contributions[i]! : null,
      };
    }),
    paid_rate: { current: m1.paid_rate, previous: m0.paid_rate },
    top_factor: top,
    reason: contributions
      ? null
      : `The factors do not multiply to the revenue in the ${holds.current ? 'previous' : 'current'} period: a factor has a zero denominator under a non-zero numerator (e.g. members paid in a period without joins)`,
  };
}
