import { describe, expect, it } from 'vitest';
import { LagHistogram } from '../../core/tooling/bench/lag-histogram.ts';
import { zipfPicker } from '../../core/tooling/simulation/zipf.ts';
import { parseBenchArgs } from '../../core/cli/bench-command.ts';
import { compareSuites, type SuiteResult } from '../../bench/suite-result.ts';

describe('LagHistogram', () => {
  it('answers nearest-rank percentiles at 1 ms resolution', () => {
    const h = new LagHistogram(10_000);
    for (let v = 1; v <= 100; v++) h.add(v);
    expect(h.quantile(0.5)).toBe(50);
    expect(h.quantile(0.99)).toBe(99);
    expect(h.quantile(1)).toBe(100);
    expect(h.count).toBe(100);
  });

  it('keeps the exact maximum of samples beyond its ceiling', () => {
    const h = new LagHistogram(1_000);
    h.add(5);
    h.add(123_456);
    expect(h.overflow).toBe(1);
    expect(h.quantile(1)).toBe(123_456);
    expect(h.max).toBe(123_456);
  });

  it('merges another histogram sample for sample', () => {
    const a = new LagHistogram(1_000);
    const b = new LagHistogram(1_000);
    a.add(10);
    b.add(20);
    b.add(30);
    a.merge(b);
    expect(a.count).toBe(3);
    expect(a.quantile(0.5)).toBe(20);
    expect(a.mean).toBeCloseTo(20, 6);
  });

  it('counts samples between chart bucket edges', () => {
    const h = new LagHistogram(1_000);
    for (const v of [0, 5, 10, 15, 500]) h.add(v);
    expect(h.counts([0, 10, 100])).toEqual([2, 2, 1]);
  });
});

describe('zipfPicker', () => {
  it('makes the first items the hottest and stays in range', () => {
    let seed = 42;
    const random = (): number => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
    const pick = zipfPicker(50, 1.1, random);
    const counts = new Array<number>(50).fill(0);
    for (let i = 0; i < 20_000; i++) counts[pick()]! += 1;
    expect(counts.reduce((a, b) => a + b, 0)).toBe(20_000);
    expect(counts[0]).toBeGreaterThan(counts[1]!);
    expect(counts[1]).toBeGreaterThan(counts[10]!);
    expect(counts[0]).toBeGreaterThan(counts[49]! * 20);
  });
});

describe('stockrelay bench arguments', () => {
  it('reads latency as p50:p99 and turns flags into scenario options', () => {
    const parsed = parseBenchArgs(['--config', 'x.json', '--rate', '2000', '--duration', '60', '--latency', '80:300', '--target-p99', '1000', '--mode', 'open']);
    expect(parsed.options).toMatchObject({ rate: 2000, durationS: 60, latency: { p50: 80, p99: 300 }, targetP99Ms: 1000, mode: 'open' });
    expect(parsed.out).toBe('reports');
  });

  it('sends orders straight to JetStream when there are no channels to emit them', () => {
    expect(parseBenchArgs(['--config', 'x.json', '--ledger-only']).options.path).toBe('publish');
  });

  it('refuses to run without a config and names the flag', () => {
    expect(() => parseBenchArgs(['--rate', '10'])).toThrow(/--config/);
    expect(() => parseBenchArgs(['--config', 'x.json', '--mode', 'sideways'])).toThrow(/--mode/);
  });
});

describe('bench-suite comparison', () => {
  it('prints now/before ratios for micro-benchmarks and scenarios present in both runs', () => {
    const row = { name: 'ledger: 1 order per transaction', itemsPerOp: 1, meanMs: 1, p50Ms: 1, p99Ms: 2, samples: 10 };
    const scenario = { name: 'flash-40', path: 'publish', committedRate: 1000, lagP99Ms: 800 } as SuiteResult['scenarios'][number];
    const before: SuiteResult = { startedAt: '', machine: { cpus: 2, cpuModel: '', memoryMb: 0, node: '', platform: '' }, micro: [{ ...row, opsPerSec: 500 }], scenarios: [scenario] };
    const now: SuiteResult = { ...before, micro: [{ ...row, opsPerSec: 1000 }], scenarios: [{ ...scenario, committedRate: 1500, lagP99Ms: 400 }] };
    const lines = compareSuites(now, before).join('\n');
    expect(lines).toMatch(/ledger: 1 order per transaction\s+ops\/s ×2\.00/);
    expect(lines).toMatch(/committedRate ×1\.50/);
    expect(lines).toMatch(/lagP99Ms ×0\.50/);
  });
});
