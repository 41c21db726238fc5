import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { FAILOVER, KILL_POINTS, SIGTERM, databaseOutage, lateWriteFailover, lateWrites, natsRestart, nodeLoss, type Fault, type FaultOutcome, type FaultTally } from './faults.ts';
import { checkInvariants, invariantTotal, type InvariantReport } from './invariants.ts';
import { SweepEnv } from './sweep-env.ts';
import { seededRandom } from '../../core/tooling/simulation/seeded-random.ts';

export interface SweepOptions {
  /** The quick form a test runs: one run per kill point and one of every server fault, with short outages. */
  short: boolean;
  /** Runs per kill point in the full sweep. Default 20. */
  runsPerPoint?: number;
  /** Where the JSON result and the hub logs go. */
  outDir?: string;
  seed?: number;
  log?: (line: string) => void;
  /** Run only these groups (`kill -9`, `sigterm`, `servers`, `late`, `cluster`, `two hubs`); all when absent. */
  only?: readonly string[];
}

export interface SweepRun {
  group: string;
  fault: string;
  outcome: FaultOutcome;
  orders: number;
  /** From the end of the fault (and of the order stream) until every event was applied and every channel showed the ledger. */
  convergenceMs: number | null;
  invariants: InvariantReport;
  failures: number;
}

export interface SweepResult {
  name: 'fault-sweep';
  mode: 'short' | 'full';
  startedAt: string;
  wallS: number;
  machine: { cpus: number; node: string };
  runs: SweepRun[];
  totals: FaultTally & {
    runs: number;
    lateWritesRepaired: number;
    orders: number;
    invariantFailures: number;
    convergenceMs: { median: number | null; p95: number | null; max: number | null };
  };
  pass: boolean;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));


function quantile(sorted: readonly number[], q: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

/** One run: orders stream while the fault strikes; then everything settles and is checked. */
async function runOnce(env: SweepEnv, group: string, fault: Fault, random: () => number, streamMs: number, rate: number, log: (line: string) => void): Promise<SweepRun> {
  const ordersBefore = env.workload.orders.length;
  const streamEnd = { at: 0 };
  const [outcome] = await Promise.all([
    fault.inject(env, random, streamMs),
    env.workload.run(streamMs, rate, 500, random).then(() => (streamEnd.at = Date.now())),
  ]);
  // Every hub up again (a killed standby included), and every delivery acknowledged, as a channel insists.
  for (const hub of env.hubs) if (!hub.running) await hub.start();
  await env.workload.drained(180_000);
  const from = Math.max(outcome.recoveredAt, streamEnd.at);
  let convergenceMs: number | null = null;
  const deadline = Date.now() + 180_000;
  let stableSince = 0;
  while (Date.now() < deadline) {
    const settled = (await env.unapplied().catch(() => 1)) === 0 && (await env.converged().catch(() => false));
    if (settled) {
      stableSince ||= Date.now();
      // Settled twice in a row, half a second apart: no push or redelivery was still on its way.
      if (Date.now() - stableSince >= 500) {
        convergenceMs = stableSince - from;
        break;
      }
    } else stableSince = 0;
    await sleep(100);
  }
  const invariants = await checkInvariants(env.databaseUrl, env.workload, env.channels, env.skus, { cursors: env.writeCursors, lateWritesExpected: fault.lateWrites ?? false });
  if (convergenceMs === null) invariants.samples.unshift('did not settle within 180 s');
  const failures = invariantTotal(invariants) + (convergenceMs === null ? 1 : 0);
  const run: SweepRun = { group, fault: fault.name, outcome, orders: env.workload.orders.length - ordersBefore, convergenceMs, invariants, failures };
  log(`${group.padEnd(9)} ${fault.name.padEnd(20)} orders ${String(run.orders).padStart(4)}  converged in ${convergenceMs === null ? '  —  ' : `${(convergenceMs / 1000).toFixed(1)} s`}  ${failures === 0 ? 'ok' : `FAILED: ${invariants.samples.join('; ')}`}`);
  return run;
}

async function inEnv<T>(env: SweepEnv, work: () => Promise<T>): Promise<T> {
  try {
    await env.start();
    return await work();
  } finally {
    await env.close();
  }
}

/**
 * The crash-and-fault sweep: hubs killed with SIGKILL at named moments, stopped with SIGTERM, NATS
 * restarted, the database cut away, a node of a three-node NATS cluster (R3 streams) lost, and the pushing
 * hub of two killed. After every run: every acknowledged event applied exactly once, the ledger conserved
 * and chained, every channel equal to the ledger, no channel write out of version order.
 */
export async function runSweep(options: SweepOptions): Promise<SweepResult> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const random = seededRandom(options.seed ?? Date.now());
  const started = Date.now();
  const outDir = options.outDir ?? (await mkdtemp(join(tmpdir(), 'stockrelay-sweep-')));
  await mkdir(outDir, { recursive: true });
  const short = options.short;
  const perPoint = options.runsPerPoint ?? 20;
  const streamMs = short ? 1500 : 3000;
  const rate = short ? 25 : 40;
  const outageMs = short ? 4000 : 12_000;
  const runs: SweepRun[] = [];
  const base = { skus: 12, stockPerSku: 400, dir: outDir };

  const want = (group: string): boolean => options.only === undefined || options.only.includes(group);
  const times = (group: string, shortCount: number, fullCount: number): number => (want(group) ? (short ? shortCount : fullCount) : 0);

  if (['kill -9', 'sigterm', 'servers', 'late'].some(want)) {
    const single = new SweepEnv({ ...base, label: 'single', natsNodes: 1, hubs: 1 });
    await inEnv(single, async () => {
      for (let round = 0; round < times('kill -9', 1, perPoint); round++) for (const point of KILL_POINTS) runs.push(await runOnce(single, 'kill -9', point, random, streamMs, rate, log));
      for (let i = 0; i < times('sigterm', 1, 5); i++) runs.push(await runOnce(single, 'sigterm', SIGTERM, random, streamMs, rate, log));
      for (let i = 0; i < times('servers', 1, 2); i++) runs.push(await runOnce(single, 'servers', natsRestart(outageMs), random, streamMs, rate, log));
      for (let i = 0; i < times('servers', 1, 2); i++) runs.push(await runOnce(single, 'servers', databaseOutage(outageMs), random, streamMs, rate, log));
      // Held longer than the hub's push timeout (5 s in the sweep's config), so the hub gives up on writes that still land.
      for (let i = 0; i < times('late', 1, 3); i++) runs.push(await runOnce(single, 'late', lateWrites(7000, 2000), random, streamMs, rate, log));
    });
  }
  if (want('cluster')) {
    const cluster = new SweepEnv({ ...base, label: 'cluster', natsNodes: 3, hubs: 1 });
    await inEnv(cluster, async () => {
      for (let i = 0; i < times('cluster', 1, 3); i++) runs.push(await runOnce(cluster, 'cluster', nodeLoss(short ? 3000 : 8000), random, streamMs, rate, log));
    });
  }
  if (want('two hubs') || want('late')) {
    const pair = new SweepEnv({ ...base, label: 'pair', natsNodes: 1, hubs: 2 });
    await inEnv(pair, async () => {
      for (let i = 0; i < times('two hubs', 1, 5); i++) runs.push(await runOnce(pair, 'two hubs', FAILOVER, random, streamMs, rate, log));
      for (let i = 0; i < times('late', 1, 3); i++) runs.push(await runOnce(pair, 'late', lateWriteFailover(7000), random, streamMs, rate, log));
    });
  }

  const convergence = runs.map((r) => r.convergenceMs).filter((ms): ms is number => ms !== null).sort((a, b) => a - b);
  const sum = (key: keyof FaultOutcome): number => runs.reduce((total, r) => total + Number(r.outcome[key] ?? 0), 0);
  const result: SweepResult = {
    name: 'fault-sweep',
    mode: short ? 'short' : 'full',
    startedAt: new Date(started).toISOString(),
    wallS: Math.round((Date.now() - started) / 1000),
    machine: { cpus: cpus().length, node: process.version },
    runs,
    totals: {
      runs: runs.length,
      kills: sum('kills'),
      sigterms: sum('sigterms'),
      natsRestarts: sum('natsRestarts'),
      databaseOutages: sum('databaseOutages'),
      nodeLosses: sum('nodeLosses'),
      failovers: sum('failovers'),
      lateWritesRepaired: runs.reduce((total, r) => total + r.invariants.lateWritesRepaired, 0),
      orders: runs.reduce((total, r) => total + r.orders, 0),
      invariantFailures: runs.reduce((total, r) => total + r.failures, 0),
      convergenceMs: { median: quantile(convergence, 0.5), p95: quantile(convergence, 0.95), max: convergence.at(-1) ?? null },
    },
    pass: runs.every((r) => r.failures === 0),
  };
  await writeFile(join(outDir, 'fault-sweep.json'), `${JSON.stringify(result, null, 2)}\n`);
  return result;
}
