import type { GoalCheck, ScenarioResult } from '../core/tooling/bench/scenario-types.ts';
import type { MicroRow } from './micro-row.ts';

/** The headline figures of one scenario run, flat so runs compare column by column. */
export interface ScenarioRow {
  name: string;
  durationS: number;
  path: string;
  mode: string;
  offeredRate: number;
  placedRate: number;
  committedRate: number;
  lineRate: number;
  commitP99Ms: number | null;
  lagP50Ms: number | null;
  lagP99Ms: number | null;
  /** Worst channel p99 among channels whose capacity suffices. */
  worstSufficientP99Ms: number | null;
  ttzP99Ms: number | null;
  overheadP99Ms: number | null;
  oversoldRatio: number;
  /** The figures a seller feels; absent in rows written before they were measured. */
  oversoldUnits?: number;
  unitsSold?: number;
  /** Phantom episode durations over every channel, ms. */
  phantomP50Ms?: number | null;
  phantomP99Ms?: number | null;
  phantomUnitSeconds?: number;
  hiddenUnitSeconds?: number;
  heldBackUnitSeconds?: number;
  /** Per channel class (requests/s × SKUs per request). */
  classes?: ClassRow[];
  /** Each goal, met or missed, with what was measured. */
  goals?: GoalCheck[];
  apiCallsPerOrder: number;
  throttled: number;
  deadLetters: number;
  convergence: number;
  processCpuCores: number;
  machineCpuBusy: number | null;
  backgroundCpuBusy: number | null;
  serverCpuCores: Record<string, number> | null;
  eventLoopDelayP99Ms: number;
  peakRssMb: number;
  pass: boolean;
  /** The full result file, for the per-channel detail. */
  file?: string;
}

/** The figures of one channel class in a scenario row. */
export interface ClassRow {
  class: string;
  channels: number;
  lagP50Ms: number | null;
  lagP99Ms: number | null;
  /** The floor under the class's lag p99 on the run (see core/tooling/bench/lag-floor.ts); absent in older rows. */
  lagFloorP99Ms?: number | null;
  ttzP99Ms: number | null;
  phantomP50Ms: number | null;
  phantomP99Ms: number | null;
  phantomUnitSeconds: number;
  hiddenUnitSeconds: number;
  heldBackUnitSeconds: number;
  worstHeldBackShare: number;
  worstBoundRatio: number | null;
}

/** What `stockrelay bench-suite` writes to `bench/results/<time>.json`. */
export interface SuiteResult {
  startedAt: string;
  machine: ScenarioResult['machine'] | { cpus: number; cpuModel: string; memoryMb: number; node: string; platform: string };
  micro: MicroRow[];
  scenarios: ScenarioRow[];
}

export function scenarioRow(result: ScenarioResult, file?: string): ScenarioRow {
  const sufficient = result.channels.filter((c) => c.capacitySuffices && c.lag.p99 !== null).map((c) => c.lag.p99!);
  return {
    name: result.name,
    durationS: result.options.durationS,
    path: result.options.path,
    mode: result.options.mode,
    offeredRate: result.offeredRate,
    placedRate: result.placedRate,
    committedRate: result.committedRate,
    lineRate: result.lineRate,
    commitP99Ms: result.eventToCommit.p99,
    lagP50Ms: result.lag.p50,
    lagP99Ms: result.lag.p99,
    worstSufficientP99Ms: sufficient.length > 0 ? Math.max(...sufficient) : null,
    ttzP99Ms: result.timeToZero.p99,
    overheadP99Ms: result.overhead.p99,
    oversoldRatio: Math.round(result.oversoldRatio * 1e5) / 1e5,
    oversoldUnits: result.oversoldUnits,
    unitsSold: result.unitsSold,
    phantomP50Ms: result.phantomEpisodes.p50,
    phantomP99Ms: result.phantomEpisodes.p99,
    phantomUnitSeconds: result.phantomUnitSeconds,
    hiddenUnitSeconds: result.hiddenUnitSeconds,
    heldBackUnitSeconds: result.heldBackUnitSeconds,
    classes: result.classes.map((c) => ({
      class: c.class,
      channels: c.channels.length,
      lagP50Ms: c.lag.p50,
      lagP99Ms: c.lag.p99,
      lagFloorP99Ms: c.lagFloor.p99,
      ttzP99Ms: c.timeToZero.p99,
      phantomP50Ms: c.phantomEpisodes.p50,
      phantomP99Ms: c.phantomEpisodes.p99,
      phantomUnitSeconds: c.phantomUnitSeconds,
      hiddenUnitSeconds: c.hiddenUnitSeconds,
      heldBackUnitSeconds: c.heldBackUnitSeconds,
      worstHeldBackShare: c.worstHeldBackShare,
      worstBoundRatio: c.worstBoundRatio,
    })),
    goals: result.goals,
    apiCallsPerOrder: result.apiCallsPerOrder,
    throttled: result.throttled,
    deadLetters: result.deadLetters,
    convergence: result.convergence,
    processCpuCores: result.processCpuCores,
    machineCpuBusy: result.machineCpuBusy === null ? null : Math.round(result.machineCpuBusy * 1000) / 1000,
    backgroundCpuBusy: result.backgroundCpuBusy === null ? null : Math.round(result.backgroundCpuBusy * 1000) / 1000,
    serverCpuCores: result.serverCpuCores,
    eventLoopDelayP99Ms: result.eventLoopDelay.p99,
    peakRssMb: result.peakRssMb,
    pass: result.pass,
    ...(file ? { file } : {}),
  };
}

/**
 * Reads what `--compare` was given: a suite result (`bench/results/*.json`), or one scenario's result
 * (`stockrelay bench`'s JSON, e.g. a file behind a published figure) as a suite of that one scenario.
 * Throws naming the file when it is neither.
 */
export function asSuiteResult(json: unknown, file: string): SuiteResult {
  const o = json !== null && typeof json === 'object' ? (json as Record<string, unknown>) : {};
  if (Array.isArray(o.scenarios)) return { startedAt: String(o.startedAt ?? ''), machine: o.machine as SuiteResult['machine'], micro: Array.isArray(o.micro) ? (o.micro as MicroRow[]) : [], scenarios: o.scenarios as ScenarioRow[] };
  if (Array.isArray(o.channels) && o.options !== null && typeof o.options === 'object' && typeof o.name === 'string') {
    const result = o as unknown as ScenarioResult;
    // A result written before the shelf figures existed lacks them: compare what it has.
    const complete: ScenarioResult = {
      ...result,
      classes: result.classes ?? [],
      goals: result.goals ?? [],
      phantomEpisodes: result.phantomEpisodes ?? { count: 0, p50: null, p95: null, p99: null, max: null, mean: null },
    };
    return { startedAt: result.startedAt, machine: result.machine, micro: [], scenarios: [scenarioRow(complete, file)] };
  }
  throw new Error(`--compare: ${file} is neither a bench-suite result (no "scenarios") nor a bench scenario result (no "channels" and "options")`);
}

/** The figures compared run to run, per scenario and per channel class. */
const SCENARIO_KEYS = ['committedRate', 'lineRate', 'commitP99Ms', 'lagP99Ms', 'worstSufficientP99Ms', 'ttzP99Ms', 'overheadP99Ms', 'oversoldRatio', 'phantomP99Ms', 'phantomUnitSeconds', 'hiddenUnitSeconds', 'heldBackUnitSeconds', 'apiCallsPerOrder', 'processCpuCores'] as const satisfies ReadonlyArray<keyof ScenarioRow>;
const CLASS_KEYS = ['lagP99Ms', 'ttzP99Ms', 'phantomP99Ms', 'phantomUnitSeconds', 'hiddenUnitSeconds', 'heldBackUnitSeconds', 'worstHeldBackShare', 'worstBoundRatio'] as const satisfies ReadonlyArray<keyof ClassRow>;

/** `key ×ratio` for two numbers; `key a (was 0)` when only the earlier was 0; null when either is missing or both 0. */
function ratio(key: string, a: unknown, b: unknown): string | null {
  if (typeof a !== 'number' || typeof b !== 'number') return null;
  if (b === 0) return a === 0 ? null : `${key} ${a} (was 0)`;
  return `${key} ×${(a / b).toFixed(2)}`;
}

/** Lines comparing this suite with an earlier one: new / old per figure (above 1 = more of it now). */
export function compareSuites(now: SuiteResult, before: SuiteResult): string[] {
  const out: string[] = ['comparison with the earlier run (now / before):'];
  const previous = new Map(before.micro.map((r) => [r.name, r]));
  for (const row of now.micro) {
    const old = previous.get(row.name);
    if (!old || !old.opsPerSec || !row.opsPerSec) continue;
    out.push(`  ${row.name.padEnd(60)} ops/s ×${(row.opsPerSec / old.opsPerSec).toFixed(2)}  p99 ×${old.p99Ms ? (row.p99Ms / old.p99Ms).toFixed(2) : '—'}`);
  }
  const scenarios = new Map(before.scenarios.map((s) => [`${s.name}/${s.path}`, s]));
  for (const s of now.scenarios) {
    const old = scenarios.get(`${s.name}/${s.path}`);
    if (!old) continue;
    const parts = SCENARIO_KEYS.map((k) => ratio(k, s[k], old[k])).filter((p): p is string => p !== null);
    out.push(`  ${`${s.name} (${s.path})`.padEnd(40)} ${parts.join('  ')}`);
    const absent = SCENARIO_KEYS.filter((k) => s[k] !== undefined && s[k] !== null && (old[k] === undefined || old[k] === null));
    if (absent.length > 0) out.push(`  ${''.padEnd(40)} not in the earlier run: ${absent.join(', ')}`);
    const oldClasses = new Map((old.classes ?? []).map((c) => [c.class, c]));
    for (const c of s.classes ?? []) {
      const was = oldClasses.get(c.class);
      if (!was) {
        out.push(`    class ${c.class.padEnd(34)} not in the earlier run`);
        continue;
      }
      const classParts = CLASS_KEYS.map((k) => ratio(k, c[k], was[k])).filter((p): p is string => p !== null);
      out.push(`    class ${c.class.padEnd(34)} ${classParts.join('  ')}`);
    }
    const oldGoals = new Map((old.goals ?? []).map((g) => [g.goal, g]));
    for (const goal of s.goals ?? []) {
      const was = oldGoals.get(goal.goal);
      if (was && was.met !== goal.met) out.push(`    goal ${goal.goal}: ${verdict(was.met)} before, ${verdict(goal.met)} now (${goal.measured})`);
    }
  }
  return out;
}

const verdict = (met: boolean | null | undefined): string => (met === true ? 'met' : met === false ? 'missed' : 'not measured');
