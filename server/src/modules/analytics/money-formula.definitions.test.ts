// The log-decomposition's edge cases on the pure definitions (the reference test covers the API).
import { describe, expect, it } from 'vitest';
import { formulaHolds, formulaRevenue, lmdi, moneyFactors } from './money-formula.definitions.js';

const f = (reach: number, joins: number, payingMembers: number, gmv: number) => moneyFactors({ reach, joins, payingMembers, gmv });
const sum = (xs: number[]) => xs.reduce((s, x) => s + x, 0);

describe('money formula definitions', () => {
  it('multiplies to the revenue whenever it holds', () => {
    expect(formulaRevenue(f(200, 20, 5, 12_345))).toBeCloseTo(12_345, 9);
    expect(formulaRevenue(f(10, 0, 0, 0))).toBe(0);
    expect(formulaHolds(f(0, 3, 1, 100))).toBe(false); // joins without visits
    expect(formulaRevenue(f(10, 0, 2, 100))).toBeNull(); // payers without joins
  });

  it('contributions add up to the change in revenue (random periods)', () => {
    let seed = 7;
    const rnd = (n: number) => 1 + ((seed = (seed * 48_271) % 2_147_483_647) % n);
    for (let i = 0; i < 200; i++) {
      const [p, c] = [f(rnd(1000), rnd(100), rnd(50), rnd(100_000)), f(rnd(1000), rnd(100), rnd(50), rnd(100_000))];
      const r0 = p[3]!.numerator;
      const r1 = c[3]!.numerator;
      expect(sum(lmdi(p, c, r0, r1)!)).toBeCloseTo(r1 - r0, 6);
    }
  });

  it('equal revenues: contributions cancel out, each R × ln(f1 ÷ f0)', () => {
    const [p, c] = [f(100, 10, 5, 5000), f(200, 10, 5, 5000)];
    const got = lmdi(p, c, 5000, 5000)!;
    expect(got[0]).toBeCloseTo(5000 * Math.log(2), 9);
    expect(got[1]).toBeCloseTo(5000 * Math.log(0.5), 9);
    expect(sum(got)).toBeCloseTo(0, 9);
  });

  it('a factor zero in one period takes the whole change; zero in both gives zeros', () => {
    expect(lmdi(f(100, 10, 0, 0), f(100, 10, 4, 800), 0, 800)).toEqual([0, 0, 800, 0]);
    expect(lmdi(f(100, 10, 4, 800), f(100, 0, 0, 0), 800, 0)).toEqual([0, -800, 0, 0]);
    expect(lmdi(f(0, 0, 0, 0), f(5, 0, 0, 0), 0, 0)).toEqual([0, 0, 0, 0]);
    expect(lmdi(f(100, 0, 2, 100), f(100, 10, 4, 800), 100, 800)).toBeNull();
  });
});
