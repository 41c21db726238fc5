import { parseArgs } from 'node:util';
import { join, resolve } from 'node:path';
import { mkdir, writeFile } from 'node:fs/promises';
import { formatMs } from '../human-format.ts';
import { UsageError } from '../internal.ts';

const USAGE = `stockrelay sweep [--short] [--runs <per kill point>] [--only <group>]... [--seed <n>] [--out <dir>] [--fuzz <bodies>]
  Kills and restarts hubs, NATS and the database connection while orders stream, then checks that every
  acknowledged event was applied once, the ledger is conserved, every channel converged and no channel
  write landed out of order. Needs nats-server on PATH (or NATS_SERVER_BIN) and the PostgreSQL the tests use.
  --only: kill -9, sigterm, servers, late, cluster or two hubs (repeatable).
  --fuzz N: instead, post N malformed but validly signed webhook bodies (spread over every webhook channel)
  to a running hub: no crash, no 5xx, no ledger change beyond the signed content.`;

/** `stockrelay sweep`: the crash-and-fault sweep (bench/fault-sweep). Exit 0 when every invariant held. */
export async function runSweepCommand(args: readonly string[], out: (line: string) => void): Promise<number> {
  const { values } = parseArgs({
    args: [...args],
    options: { short: { type: 'boolean' }, runs: { type: 'string' }, seed: { type: 'string' }, out: { type: 'string' }, fuzz: { type: 'string' }, only: { type: 'string', multiple: true }, help: { type: 'boolean' } },
  });
  if (values.help) {
    out(USAGE);
    return 0;
  }
  const runs = values.runs === undefined ? undefined : Number(values.runs);
  if (runs !== undefined && (!Number.isInteger(runs) || runs < 1)) throw new UsageError(`sweep: --runs must be a whole number of runs per kill point, at least 1 (got "${values.runs}")`);
  const seed = values.seed === undefined ? undefined : Number(values.seed);
  if (seed !== undefined && !Number.isInteger(seed)) throw new UsageError(`sweep: --seed must be a whole number (got "${values.seed}")`);
  if (values.fuzz !== undefined) {
    const bodies = Number(values.fuzz);
    if (!Number.isInteger(bodies) || bodies < 1) throw new UsageError(`sweep: --fuzz must be a whole number of bodies, at least 1 (got "${values.fuzz}")`);
    return fuzz(bodies, seed ?? Date.now(), resolve(values.out ?? 'bench/results'), out);
  }
  const groups = ['kill -9', 'sigterm', 'servers', 'late', 'cluster', 'two hubs'];
  const unknown = (values.only ?? []).filter((group) => !groups.includes(group));
  if (unknown.length > 0) throw new UsageError(`sweep: --only takes ${groups.map((g) => `"${g}"`).join(', ')} (got ${unknown.map((g) => `"${g}"`).join(', ')})`);
  const { runSweep } = await import('../../bench/fault-sweep/run-sweep.ts');
  const outDir = resolve(values.out ?? 'bench/results');
  const result = await runSweep({ short: values.short ?? false, runsPerPoint: runs, seed, outDir, log: out, only: values.only });
  const t = result.totals;
  out('');
  out(`${result.mode} sweep: ${t.runs} runs, ${t.kills} kill -9, ${t.sigterms} SIGTERM, ${t.natsRestarts} NATS restarts, ${t.databaseOutages} database outages, ${t.nodeLosses} cluster node losses, ${t.failovers} failovers; ${t.orders} orders; ${t.lateWritesRepaired} late channel writes repaired`);
  const s = formatMs;
  out(`invariant failures: ${t.invariantFailures}; convergence median ${s(t.convergenceMs.median)}, p95 ${s(t.convergenceMs.p95)}, max ${s(t.convergenceMs.max)}`);
  out(`result: ${resolve(outDir, 'fault-sweep.json')}`);
  out(result.pass ? 'PASS' : 'FAIL');
  return result.pass ? 0 : 1;
}

/** The signed-webhook fuzz at sweep size: every webhook channel, `total` bodies in all. */
async function fuzz(total: number, seed: number, outDir: string, out: (line: string) => void): Promise<number> {
  const { runWebhookFuzz, BUILT_IN_CONNECTORS } = await import('../../test/support/webhook-fuzz.ts');
  // Amazon takes its orders from a queue, not a webhook: every other built-in channel is fuzzed.
  const connectors = BUILT_IN_CONNECTORS.filter((name) => name !== 'amazon');
  const bodiesPerChannel = Math.ceil(total / connectors.length);
  const started = Date.now();
  const report = await runWebhookFuzz({ bodiesPerChannel, seed, connectors, log: out });
  const sent = report.covered.reduce((sum, c) => sum + c.sent, 0);
  const failures = report.covered.reduce((sum, c) => sum + c.failureCount, 0);
  const violations = report.covered.reduce((sum, c) => sum + c.ledgerViolations.length, 0);
  for (const c of report.covered) out(`${c.channelId.padEnd(14)} sent ${c.sent}  ${Object.entries(c.statuses).map(([status, n]) => `${status}×${n}`).join(' ')}  5xx/failed ${c.failureCount}  ledger violations ${c.ledgerViolations.length}`);
  for (const s of report.skipped) out(`${s.channelId.padEnd(14)} skipped: ${s.reason}`);
  const pass = report.hubAlive && failures === 0 && violations === 0 && report.skipped.length === 0;
  const result = { name: 'webhook-fuzz', seed, bodiesPerChannel, sent, failures, ledgerViolations: violations, hubAlive: report.hubAlive, wallS: Math.round((Date.now() - started) / 1000), report, pass };
  await mkdir(outDir, { recursive: true });
  await writeFile(join(outDir, 'webhook-fuzz.json'), `${JSON.stringify(result, null, 2)}\n`);
  out(`${sent} signed bodies over ${report.covered.length} channels: ${failures} 5xx or failed requests, ${violations} ledger violations, hub ${report.hubAlive ? 'alive' : 'DEAD'}`);
  out(pass ? 'PASS' : 'FAIL');
  return pass ? 0 : 1;
}
