import { describe, expect, it } from 'vitest';
import { LagWindow } from '../../core/metrics/lag-window.ts';

const exactQuantile = (values: number[], q: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
};

describe('LagWindow', () => {
  it('reports quantiles within a few percent of the exact ones', () => {
    const window = new LagWindow(60_000);
    const now = 1_000_000;
    const values = Array.from({ length: 5000 }, (_, i) => Math.round(20 + ((i * 7919) % 3000) * Math.abs(Math.sin(i))));
    values.forEach((v, i) => window.add(v, now - (i % 50_000)));
    for (const q of [0.5, 0.95, 0.99]) {
      const exact = exactQuantile(values, q);
      expect(Math.abs(window.quantile(q, now)! - exact) / exact).toBeLessThan(0.04);
    }
    expect(window.count(now)).toBe(5000);
  });

  it('forgets samples older than the window', () => {
    const window = new LagWindow(10_000);
    window.add(5000, 0);
    window.add(10, 9_000);
    expect(window.count(9_500)).toBe(2);
    expect(window.count(15_000)).toBe(1);
    expect(window.quantile(0.99, 15_000)).toBeLessThan(11);
    expect(window.quantile(0.5, 40_000)).toBeNull();
  });

  it('keeps working when the clock wraps its slices many times over', () => {
    const window = new LagWindow(1_000);
    for (let t = 0; t < 100_000; t += 7) window.add(t % 500, t);
    expect(window.count(100_000)).toBeGreaterThan(100);
    expect(window.count(100_000)).toBeLessThanOrEqual(1000 / 7 + 20);
  });

  it('puts a zero lag in the lowest bucket and a huge one in the highest', () => {
    const window = new LagWindow(60_000);
    window.add(0, 100);
    expect(window.quantile(0.5, 100)).toBe(0);
    window.add(10 * 3_600_000, 100);
    expect(window.quantile(1, 100)).toBeGreaterThan(3_000_000);
  });
});
