import type { ScenarioResult } from '../core/tooling/bench/scenario-types.ts';
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
  const keys: Array<keyof ScenarioRow> = ['committedRate', 'lineRate', 'commitP99Ms', 'lagP99Ms', 'worstSufficientP99Ms', 'ttzP99Ms', 'overheadP99Ms', 'oversoldRatio', 'apiCallsPerOrder', 'processCpuCores'];
  for (const s of now.scenarios) {
    const old = scenarios.get(`${s.name}/${s.path}`);
    if (!old) continue;
    const parts = keys
      .map((k) => {
        const a = s[k];
        const b = old[k];
        return typeof a === 'number' && typeof b === 'number' && b !== 0 ? `${k} ×${(a / b).toFixed(2)}` : null;
      })
      .filter((p): p is string => p !== null);
    out.push(`  ${`${s.name} (${s.path})`.padEnd(40)} ${parts.join('  ')}`);
  }
  return out;
}
