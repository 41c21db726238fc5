import { describe, expect, it } from 'vitest';
import { probit, salesQuantile } from '../../core/dispatch/sales-quantile.ts';

/**
 * Poisson quantiles as `scipy.stats.poisson.ppf(q, λ)` (the same as R's `qpois`) gives them: the smallest
 * k with P(N ≤ k) ≥ q. Columns: q = 0.5, 0.9, 0.99, 0.999.
 */
const POISSON_PPF: ReadonlyArray<readonly [number, readonly [number, number, number, number]]> = [
  [0.5, [0, 1, 3, 4]],
  [0.69, [0, 2, 3, 4]],
  [0.7, [1, 2, 3, 4]],
  [4, [4, 7, 9, 11]],
  [100, [100, 113, 124, 132]],
  [499, [499, 528, 552, 569]],
  [501, [501, 530, 554, 572]],
  [800, [800, 836, 867, 889]],
  [5000, [5000, 5091, 5165, 5220]],
];
const CONFIDENCES = [0.5, 0.9, 0.99, 0.999] as const;

describe('the units a forecast hides (sales quantile)', () => {
  it('are the Poisson quantile of the expected sales at the confidence asked, summed exactly for small means', () => {
    for (const [expected, row] of POISSON_PPF.filter(([l]) => l <= 500)) {
      CONFIDENCES.forEach((q, i) => expect(salesQuantile(expected, q), `λ=${expected} q=${q}`).toBe(row[i]));
    }
  });

  it('stay within a unit of the exact quantile for large means, where the normal approximation takes over', () => {
    for (const [expected, row] of POISSON_PPF.filter(([l]) => l > 500)) {
      CONFIDENCES.forEach((q, i) => expect(Math.abs(salesQuantile(expected, q) - row[i]!), `λ=${expected} q=${q}`).toBeLessThanOrEqual(1));
    }
  });

  it('at one half hide a unit only once it is more likely sold than not (P(no sale) = e^−λ below one half)', () => {
    expect(salesQuantile(Math.LN2 - 0.001, 0.5)).toBe(0);
    expect(salesQuantile(Math.LN2 + 0.001, 0.5)).toBe(1);
  });

  it('never shrink as the confidence or the expected sales grow', () => {
    let previous = 0;
    for (let expected = 0; expected <= 1_200; expected += 0.37) {
      const row = CONFIDENCES.map((q) => salesQuantile(expected, q));
      for (let i = 1; i < row.length; i += 1) expect(row[i]).toBeGreaterThanOrEqual(row[i - 1]!);
      expect(row[2]).toBeGreaterThanOrEqual(previous);
      previous = row[2]!;
    }
  });

  it('are 0 for no expected sales and unbounded for unbounded ones', () => {
    expect(salesQuantile(0, 0.99)).toBe(0);
    expect(salesQuantile(Infinity, 0.5)).toBe(Infinity);
  });

  it('refuse a confidence outside (0, 1)', () => {
    expect(() => salesQuantile(3, 1)).toThrow(RangeError);
    expect(() => salesQuantile(3, 0)).toThrow(RangeError);
  });

  it('take z from the standard normal quantile', () => {
    expect(probit(0.5)).toBeCloseTo(0, 9);
    expect(probit(0.975)).toBeCloseTo(1.959964, 5);
    expect(probit(0.001)).toBeCloseTo(-3.090232, 5);
  });
});
