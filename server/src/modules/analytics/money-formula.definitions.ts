/**
 * The money formula 赚钱 = IP × 吸粉 × 洗粉 × 变现手段, made concrete as four factors whose product is
 * exactly the period's GMV (they telescope):
 *
 *   reach × (joins ÷ reach) × (paying_members ÷ joins) × (gmv ÷ paying_members) = gmv
 *
 * - reach (IP): link visits in the period (`link_visited` events); for a community with no link
 *   visits in either period, its audience: period_members (members at t0 and joiners, imported
 *   buyers included). The source is the same for both periods so they compare.
 * - join_rate (吸粉) = joins ÷ reach (joins of /metrics: stays starting in the period).
 * - paid_conversion (洗粉) = paying_members ÷ joins: payers per join. Its numerator is paid_rate's,
 *   but its denominator is joins, not period_members, so that the product telescopes; it can exceed 1
 *   when the existing base pays. paid_rate is reported beside it.
 * - arppu (变现手段) = gmv ÷ paying_members (ARPPU of /metrics).
 *
 * A factor whose denominator is 0 has no value. The formula holds in a period when no factor has a
 * 0 denominator under a non-zero numerator (then a zero factor ends the chain and gmv is 0); it does
 * not hold, e.g., when members paid in a period without joins. Contributions need it to hold in both.
 *
 * Change in revenue, log-decomposed (LMDI-I): contribution_i = L(R1, R0) × ln(f_i1 ÷ f_i0), with the
 * logarithmic mean L(R1, R0) = (R1 − R0) ÷ ln(R1 ÷ R0), and L = R when R1 = R0 (then every
 * contribution is R × ln(f_i1 ÷ f_i0) and they sum to 0). The contributions sum to R1 − R0.
 * Zeros: when revenue is 0 in exactly one period, the first zero factor of that period's chain
 * takes the whole change (the limit of LMDI as that factor tends to 0) and the others 0; when it is
 * 0 in both, every contribution is 0.
 */
import type { MoneyFormulaOut } from '../../../../contracts/src/index.js';

export type MoneyFactorKey = MoneyFormulaOut['factors'][number]['key'];

export interface FormulaInputs {
  reach: number;
  joins: number;
  payingMembers: number;
  /** Minor units. */
  gmv: number;
}

export interface FactorValue {
  key: MoneyFactorKey;
  value: number | null;
  numerator: number;
  denominator: number;
}

const ratio = (key: MoneyFactorKey, numerator: number, denominator: number): FactorValue => ({ key, value: denominator === 0 ? null : numerator / denominator, numerator, denominator });

/** The four factors of one period, in chain order. */
export function moneyFactors(i: FormulaInputs): FactorValue[] {
  return [
    { key: 'reach', value: i.reach, numerator: i.reach, denominator: 1 },
    ratio('join_rate', i.joins, i.reach),
    ratio('paid_conversion', i.payingMembers, i.joins),
    ratio('arppu', i.gmv, i.payingMembers),
  ];
}

/** True when the factors multiply to the revenue: no 0 denominator under a non-zero numerator. */
export const formulaHolds = (factors: FactorValue[]) => factors.every((f) => f.denominator !== 0 || f.numerator === 0);

/** Product of the factors, the chain ending at its first zero (so 0/0 after it is not needed). */
export function formulaRevenue(factors: FactorValue[]): number | null {
  if (!formulaHolds(factors)) return null;
  let r = 1;
  for (const f of factors) {
    if (f.value === 0) return 0;
    r *= f.value!;
  }
  return r;
}

/** LMDI contributions of each factor to r1 − r0 (see the module comment); null unless the formula holds in both periods. */
export function lmdi(prev: FactorValue[], cur: FactorValue[], r0: number, r1: number): number[] | null {
  if (!formulaHolds(prev) || !formulaHolds(cur)) return null;
  if (r0 === 0 && r1 === 0) return cur.map(() => 0);
  if (r0 === 0 || r1 === 0) {
    const zeroSide = r0 === 0 ? prev : cur;
    const first = zeroSide.findIndex((f) => f.value === 0);
    return cur.map((_, i) => (i === first ? r1 - r0 : 0));
  }
  const l = r1 === r0 ? r0 : (r1 - r0) / Math.log(r1 / r0);
  return cur.map((f, i) => l * Math.log(f.value! / prev[i]!.value!));
}
