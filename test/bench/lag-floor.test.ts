import { describe, expect, it } from 'vitest';
import { FirstPassFloor } from '../../core/tooling/bench/lag-floor.ts';

const T0 = 1_000_000;
const oneSkuPerSecond = { perSecond: 1, burst: 1, maxBatchSize: 1 };

/** The floor's samples, sorted, read back from its histogram (1 ms resolution). */
function samples(floor: FirstPassFloor, pace = oneSkuPerSecond): number[] {
  const h = floor.measure(pace, T0);
  const out: number[] = [];
  const counts = h.buckets();
  for (let ms = 0; ms < counts.length; ms++) for (let k = 0; k < counts[ms]!; k++) out.push(ms);
  return out;
}

describe('the first-pass floor of sync lag', () => {
  it('makes each change wait for its SKU\'s first push, one push per call slot at the channel\'s pace', () => {
    const floor = new FirstPassFloor();
    for (const sku of ['a', 'b', 'c']) floor.change(sku, T0, T0);
    expect(samples(floor)).toEqual([0, 1_000, 2_000]);
  });

  it('pushes the SKUs that change most over the run first', () => {
    const floor = new FirstPassFloor();
    floor.change('quiet', T0, T0);
    floor.change('busy', T0, T0);
    for (let i = 1; i <= 3; i++) floor.change('busy', T0 + 5_000 * i, T0 + 5_000 * i);
    const h = floor.measure(oneSkuPerSecond, T0);
    // busy goes at T0 (0 ms, then its later changes are covered), quiet waits one slot.
    expect(h.max).toBe(1_000);
    expect(h.count).toBe(5);
  });

  it('counts a change after its SKU\'s first push as covered the moment it commits (a perfect forecast)', () => {
    const floor = new FirstPassFloor();
    floor.change('a', T0, T0);
    floor.change('a', T0 + 480, T0 + 500);
    expect(samples(floor)).toEqual([0, 20]);
  });

  it('measures from when a change happened at its source, and pushes nothing before it commits', () => {
    const floor = new FirstPassFloor();
    floor.change('a', T0, T0 + 300);
    expect(samples(floor)).toEqual([300]);
  });

  it('carries as many SKUs per call as the channel takes', () => {
    const floor = new FirstPassFloor();
    for (let i = 0; i < 200; i++) floor.change(`sku-${i}`, T0, T0);
    expect(floor.measure({ perSecond: 2, burst: 2, maxBatchSize: 250 }, T0).max).toBe(0);
    expect(floor.measure({ perSecond: 5, burst: 5, maxBatchSize: 1 }, T0).max).toBe(39_000);
  });

  it('spends a burst of calls saved while nothing changed at once, then goes at the channel\'s rate', () => {
    const floor = new FirstPassFloor();
    for (let i = 0; i < 6; i++) floor.change(`sku-${i}`, T0 + 10_000, T0 + 10_000);
    expect(samples(floor, { perSecond: 5, burst: 5, maxBatchSize: 1 })).toEqual([0, 0, 0, 0, 0, 200]);
  });

  it('keeps its pace on an epoch-ms clock at rates that do not divide a second', () => {
    const now = 1_764_806_400_123;
    const floor = new FirstPassFloor();
    for (let i = 0; i < 300; i++) floor.change(`sku-${i}`, now, now);
    // 299 slots of a third of a second after the first (a slot summed to just under a token used to wait forever).
    expect(Math.round(floor.measure({ perSecond: 3, burst: 1, maxBatchSize: 1 }, now).max)).toBe(99_667);
  });

  it('has no samples for a run without changes, and none to give for a channel that cannot push', () => {
    expect(new FirstPassFloor().measure(oneSkuPerSecond, T0).count).toBe(0);
    const floor = new FirstPassFloor();
    floor.change('a', T0, T0);
    expect(floor.measure({ perSecond: 0, burst: 0, maxBatchSize: 1 }, T0).count).toBe(0);
  });
});
