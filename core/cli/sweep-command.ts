import { parseArgs } from 'node:util';
import { resolve } from 'node:path';
import { ConfigError } from '../internal.ts';

const USAGE = `stockrelay sweep [--short] [--runs <per kill point>] [--seed <n>] [--out <dir>]
  Kills and restarts hubs, NATS and the database connection while orders stream, then checks that every
  acknowledged event was applied once, the ledger is conserved, every channel converged and no channel
  write landed out of order. Needs nats-server on PATH (or NATS_SERVER_BIN) and the PostgreSQL the tests use.`;

/** `stockrelay sweep`: the crash-and-fault sweep (bench/fault-sweep). Exit 0 when every invariant held. */
export async function runSweepCommand(args: readonly string[], out: (line: string) => void): Promise<number> {
  const { values } = parseArgs({
    args: [...args],
    options: { short: { type: 'boolean' }, runs: { type: 'string' }, seed: { type: 'string' }, out: { type: 'string' }, help: { type: 'boolean' } },
  });
  if (values.help) {
    out(USAGE);
    return 0;
  }
  const runs = values.runs === undefined ? undefined : Number(values.runs);
  if (runs !== undefined && (!Number.isInteger(runs) || runs < 1)) throw new ConfigError(`sweep: --runs must be a whole number of runs per kill point, at least 1 (got "${values.runs}")`);
  const seed = values.seed === undefined ? undefined : Number(values.seed);
  if (seed !== undefined && !Number.isInteger(seed)) throw new ConfigError(`sweep: --seed must be a whole number (got "${values.seed}")`);
  const { runSweep } = await import('../../bench/fault-sweep/run-sweep.ts');
  const outDir = resolve(values.out ?? 'bench/results');
  const result = await runSweep({ short: values.short ?? false, runsPerPoint: runs, seed, outDir, log: out });
  const t = result.totals;
  out('');
  out(`${result.mode} sweep: ${t.runs} runs, ${t.kills} kill -9, ${t.sigterms} SIGTERM, ${t.natsRestarts} NATS restarts, ${t.databaseOutages} database outages, ${t.nodeLosses} cluster node losses, ${t.failovers} failovers; ${t.orders} orders; ${t.lateWritesRepaired} late channel writes repaired`);
  const s = (ms: number | null): string => (ms === null ? '—' : `${(ms / 1000).toFixed(1)} s`);
  out(`invariant failures: ${t.invariantFailures}; convergence median ${s(t.convergenceMs.median)}, p95 ${s(t.convergenceMs.p95)}, max ${s(t.convergenceMs.max)}`);
  out(`result: ${resolve(outDir, 'fault-sweep.json')}`);
  out(result.pass ? 'PASS' : 'FAIL');
  return result.pass ? 0 : 1;
}
