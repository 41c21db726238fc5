import { describe, expect, it } from 'vitest';
import { checkSellerGoals } from '../../core/tooling/bench/seller-goals.ts';

type Measured = Parameters<typeof checkSellerGoals>[0];
type ClassFigures = Measured['classes'][number];

const latency = { count: 10, p50: 100, p95: 200, p99: 300, max: 400, mean: 150 };

function oneSkuClass(heldBackUnitSeconds: number, worstBoundRatio: number | null): ClassFigures {
  return {
    class: '5/s × 1',
    perSecond: 5,
    maxBatchSize: 1,
    channels: ['single-01'],
    lag: latency,
    timeToZero: latency,
    phantomSkuSeconds: 0,
    phantomUnitSeconds: 0,
    phantomEpisodes: { ...latency, count: 0 },
    hiddenUnitSeconds: heldBackUnitSeconds + 10,
    heldBackUnitSeconds,
    worstHiddenShare: 0.01,
    worstHeldBackShare: 0,
    worstBoundRatio,
    medianBoundRatio: worstBoundRatio,
  } as ClassFigures;
}

function run(classes: ClassFigures[]): Measured {
  return {
    channels: [{ channelId: 'single-01' }],
    classes,
    options: { targetP99Ms: 5_000 },
    oversoldUnits: 0,
    unitsSold: 100,
    oversoldRatio: 0,
    timeToZero: latency,
  } as unknown as Measured;
}

const boundGoal = (m: Measured) => checkSellerGoals(m).find((g) => g.goal.includes('the bound'))!;

describe('the hidden-units goal of one-SKU channels', () => {
  it('does not apply to channels that hold nothing back: no forecast or reserve is trying to meet it', () => {
    const goal = boundGoal(run([oneSkuClass(0, 0)]));
    expect(goal.met).toBeNull();
    expect(goal.measured).toMatch(/not applicable/);
  });

  it('is met within 1.5× of the bound and missed beyond it when units are held back', () => {
    expect(boundGoal(run([oneSkuClass(50, 1.2)])).met).toBe(true);
    expect(boundGoal(run([oneSkuClass(50, 2.5)])).met).toBe(false);
  });
});
