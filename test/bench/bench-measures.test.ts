import { describe, expect, it } from 'vitest';
import { LagHistogram } from '../../core/tooling/bench/lag-histogram.ts';
import { zipfPicker } from '../../core/tooling/simulation/zipf.ts';
import { parseBenchArgs } from '../../core/cli/bench-command.ts';
import { asSuiteResult, compareSuites, type ClassRow, type SuiteResult } from '../../bench/suite-result.ts';

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

  const machine = { cpus: 2, cpuModel: '', memoryMb: 0, node: '', platform: '' };
  const classRow = (over: Partial<ClassRow>): ClassRow => ({ class: '5/s × 1', channels: 7, lagP50Ms: 1, lagP99Ms: 4_000, ttzP99Ms: 1, phantomP50Ms: 100, phantomP99Ms: 2_000, phantomUnitSeconds: 10, hiddenUnitSeconds: 20, heldBackUnitSeconds: 5, worstHeldBackShare: 0.01, worstBoundRatio: 1.2, ...over });

  it('compares phantom and hidden stock per scenario and per channel class, and names goals that flipped', () => {
    const scenario = { name: 'flash-40', path: 'publish', lagP99Ms: 800, phantomP99Ms: 1_000, hiddenUnitSeconds: 100, classes: [classRow({})], goals: [{ goal: 'phantom stock p99 ≤ 1 s, 5/s × 1 channels', measured: '2 s', value: 2_000, limit: 1_000, met: false }] } as SuiteResult['scenarios'][number];
    const before: SuiteResult = { startedAt: '', machine, micro: [], scenarios: [scenario] };
    const now: SuiteResult = { ...before, scenarios: [{ ...scenario, phantomP99Ms: 500, classes: [classRow({ phantomP99Ms: 800 }), classRow({ class: '2/s × 250' })], goals: [{ ...scenario.goals![0]!, measured: '800 ms', value: 800, met: true }] }] };
    const lines = compareSuites(now, before).join('\n');
    expect(lines).toMatch(/phantomP99Ms ×0\.50/);
    expect(lines).toMatch(/class 5\/s × 1\s+.*phantomP99Ms ×0\.40/);
    expect(lines).toMatch(/class 2\/s × 250\s+not in the earlier run/);
    expect(lines).toMatch(/goal phantom stock p99 ≤ 1 s, 5\/s × 1 channels: missed before, met now \(800 ms\)/);
  });

  it('compares against an earlier run that predates the new figures, naming what it lacks', () => {
    const old = { name: 'flash-40', path: 'publish', lagP99Ms: 800 } as SuiteResult['scenarios'][number];
    const now = { ...old, lagP99Ms: 400, phantomP99Ms: 900, hiddenUnitSeconds: 12 } as SuiteResult['scenarios'][number];
    const lines = compareSuites({ startedAt: '', machine, micro: [], scenarios: [now] }, { startedAt: '', machine, micro: [], scenarios: [old] }).join('\n');
    expect(lines).toMatch(/lagP99Ms ×0\.50/);
    expect(lines).toMatch(/not in the earlier run: phantomP99Ms, hiddenUnitSeconds/);
  });

  it('reads a single scenario result as a suite of one, and refuses a file that is neither, naming it', () => {
    const result = { name: 'flash-40', startedAt: 'x', machine, options: { durationS: 15, path: 'publish', mode: 'closed' }, channels: [], lag: {}, overhead: {}, timeToZero: {}, eventToCommit: {}, eventLoopDelay: {}, oversoldRatio: 0.01 };
    const suite = asSuiteResult(result, 'published/flash-40.json');
    expect(suite.scenarios).toHaveLength(1);
    expect(suite.scenarios[0]).toMatchObject({ name: 'flash-40', path: 'publish', oversoldRatio: 0.01, file: 'published/flash-40.json' });
    expect(() => asSuiteResult({ runs: [] }, 'bench/results/published/fault-sweep.json')).toThrow(/fault-sweep\.json is neither a bench-suite result/);
  });
});
