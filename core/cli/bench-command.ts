import { parseArgs } from 'node:util';
import type { LoadedConfig } from '../config/config-types.ts';
import { deepFreeze } from '../config/deep-freeze.ts';
import { loadConfig } from '../config/load-config.ts';
import { UsageError } from '../internal.ts';
import { createProgressBar } from '../tooling/bench/progress-bar.ts';
import { formatResultTable } from '../tooling/bench/result-table.ts';
import { runScenario } from '../tooling/bench/scenario-runner.ts';
import { DEFAULT_SCENARIO, type ScenarioOptions, type ScenarioResult } from '../tooling/bench/scenario-types.ts';
import { writeResultFiles } from '../tooling/bench/write-result-files.ts';
import { compareSuites, scenarioRow } from '../../bench/suite-result.ts';
import { readComparison } from './bench-compare.ts';

export const BENCH_USAGE = `stockrelay bench --config <file> [options]
  Drives a flash sale through the real hub, NATS and Postgres with every channel of the config
  swapped for its simulator (no real channel is ever called; the ledger and streams are throw-away).
  Reports per channel and per channel class (requests/s × SKUs per request): sync lag next to the floor
  the channel's pace allows on the run's changes, time to zero, oversold units, phantom stock (shown
  above what the rules give for the ledger: unit-seconds, episode p50/p99), hidden units (shown below
  it) next to the bound (Σ√vᵢ)²/(2C), and each goal met or missed.
  --rate <orders/s>        offered orders per second (default ${DEFAULT_SCENARIO.rate})
  --duration <s>           seconds of load (default ${DEFAULT_SCENARIO.durationS})
  --skus <n>               SKUs on sale (default ${DEFAULT_SCENARIO.skus})
  --stock <units>          starting units per SKU (default ${DEFAULT_SCENARIO.stock})
  --restock-ms <ms>        restock a sold-out SKU after this long, 0 never (default ${DEFAULT_SCENARIO.restockDelayMs})
  --restock-units <units>  units each restock adds (default ${DEFAULT_SCENARIO.restockUnits})
  --reserve <units>        hold back this many units on every channel (overrides rules.reserve): what safety stock buys
  --mode closed|open       shoppers buy only what the channel shows, or a fixed stream (default closed)
  --path webhook|publish   orders arrive as channel webhooks, or are published to JetStream (default webhook)
  --latency <p50>:<p99>    simulated channel API latency, ms (default ${DEFAULT_SCENARIO.latency.p50}:${DEFAULT_SCENARIO.latency.p99})
  --target-p99 <ms>        sync-lag p99 every channel must meet (default ${DEFAULT_SCENARIO.targetP99Ms})
  --ledger-only            no channels: measures ingestion and the ledger alone (implies --path publish)
  --out <dir>              where the JSON and HTML report go (default reports/)
  --wait-quiet <s>         first wait up to this long for the machine to be mostly idle (default 0)
  --keep                   keep the bench database and streams afterwards
  --compare <file>         afterwards, print now/before ratios against an earlier result (this command's
                           JSON, or a bench-suite result holding a scenario of the same name)
Exit code 0 on PASS, 1 on FAIL.`;

export interface BenchRun {
  result: ScenarioResult;
  files: { json: string; html: string };
}

/** Parses `stockrelay bench` arguments into scenario options and the output folder. */
export function parseBenchArgs(args: readonly string[]): { config: string; options: Partial<ScenarioOptions>; out: string; ledgerOnly: boolean; compare?: string } {
  const { values } = parseArgs({
    args: [...args],
    options: {
      config: { type: 'string', short: 'c' },
      rate: { type: 'string' },
      duration: { type: 'string' },
      skus: { type: 'string' },
      stock: { type: 'string' },
      'restock-ms': { type: 'string' },
      'restock-units': { type: 'string' },
      reserve: { type: 'string' },
      mode: { type: 'string' },
      path: { type: 'string' },
      latency: { type: 'string' },
      'target-p99': { type: 'string' },
      'ledger-only': { type: 'boolean' },
      out: { type: 'string' },
      keep: { type: 'boolean' },
      'wait-quiet': { type: 'string' },
      compare: { type: 'string' },
    },
  });
  if (!values.config) throw new UsageError(`bench: --config <file> is required\n\n${BENCH_USAGE}`);
  const options: Partial<ScenarioOptions> = {};
  const num = (name: string, raw: string | undefined): number | undefined => {
    if (raw === undefined) return undefined;
    const v = Number(raw);
    if (!Number.isFinite(v)) throw new UsageError(`bench: --${name} must be a number (got "${raw}")`);
    return v;
  };
  const set = <K extends keyof ScenarioOptions>(key: K, value: ScenarioOptions[K] | undefined): void => {
    if (value !== undefined) options[key] = value;
  };
  set('rate', num('rate', values.rate));
  set('durationS', num('duration', values.duration));
  set('skus', num('skus', values.skus));
  set('stock', num('stock', values.stock));
  set('restockDelayMs', num('restock-ms', values['restock-ms']));
  set('restockUnits', num('restock-units', values['restock-units']));
  set('reserve', num('reserve', values.reserve));
  set('targetP99Ms', num('target-p99', values['target-p99']));
  const quiet = num('wait-quiet', values['wait-quiet']);
  if (quiet !== undefined) options.quietWaitMs = quiet * 1000;
  if (values.mode !== undefined) {
    if (values.mode !== 'closed' && values.mode !== 'open') throw new UsageError('bench: --mode is closed or open');
    options.mode = values.mode;
  }
  if (values.path !== undefined) {
    if (values.path !== 'webhook' && values.path !== 'publish') throw new UsageError('bench: --path is webhook or publish');
    options.path = values.path;
  }
  if (values.latency !== undefined) {
    const [p50, p99] = values.latency.split(':').map(Number);
    if (!Number.isFinite(p50) || !Number.isFinite(p99 ?? p50)) throw new UsageError('bench: --latency is <p50>:<p99> in ms, e.g. 80:300');
    options.latency = { p50: p50!, p99: p99 ?? p50! };
  }
  if (values.keep) options.cleanup = false;
  const ledgerOnly = values['ledger-only'] ?? false;
  if (ledgerOnly) options.path = 'publish';
  return { config: values.config, options, out: values.out ?? 'reports', ledgerOnly, ...(values.compare !== undefined ? { compare: values.compare } : {}) };
}

/** The config without its channels: the ledger-alone scenario. */
export function withoutChannels(loaded: LoadedConfig): LoadedConfig {
  return { ...loaded, config: deepFreeze({ ...loaded.config, channels: [] }) };
}

/** Runs one scenario with a progress display on `progressStream`; prints the table; writes the files. */
export async function benchOnce(
  configFile: string,
  options: Partial<ScenarioOptions>,
  outDir: string,
  out: (line: string) => void,
  progressStream: { write(s: string): unknown; isTTY?: boolean },
  extra: { ledgerOnly?: boolean; name?: string } = {},
): Promise<BenchRun> {
  let loaded = await loadConfig(configFile);
  if (extra.ledgerOnly) loaded = withoutChannels(loaded);
  const base = loaded.path.split('/').pop()?.replace(/\.json$/, '') ?? 'scenario';
  const result = await runScenario(loaded, options, { onProgress: createProgressBar(progressStream), name: extra.name ?? (extra.ledgerOnly ? `${base}-ledger-only` : base) });
  for (const line of formatResultTable(result)) out(line);
  const files = await writeResultFiles(result, outDir);
  out(`report: ${files.html}\nresult: ${files.json}`);
  return { result, files };
}

/** `stockrelay bench`: exit code 0 on PASS, 1 on FAIL. */
export async function runBench(args: readonly string[], out: (line: string) => void): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    out(BENCH_USAGE);
    return 0;
  }
  const parsed = parseBenchArgs(args);
  const previous = parsed.compare !== undefined ? await readComparison(parsed.compare) : undefined;
  const { result, files } = await benchOnce(parsed.config, parsed.options, parsed.out, out, process.stderr, { ledgerOnly: parsed.ledgerOnly });
  if (previous) for (const line of compareSuites({ startedAt: result.startedAt, machine: result.machine, micro: [], scenarios: [scenarioRow(result, files.json)] }, previous)) out(line);
  return result.pass ? 0 : 1;
}
