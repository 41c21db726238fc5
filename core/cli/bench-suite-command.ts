import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { compareSuites, scenarioRow, type SuiteResult } from '../../bench/suite-result.ts';
import { readComparison } from './bench-compare.ts';
import type { MicroRow } from '../../bench/micro-row.ts';
import type { ScenarioOptions } from '../tooling/bench/scenario-types.ts';
import { formatCount, formatMs, formatRate } from '../human-format.ts';
import { UsageError, describeError } from '../internal.ts';
import { benchOnce } from './bench-command.ts';

const CONFIG_DIR = new URL('../../config/', import.meta.url).pathname;

/** The reference scenarios: what the README's Performance table is made of. */
function referenceScenarios(full: boolean, rate: number): Array<{ config: string; options: Partial<ScenarioOptions>; ledgerOnly?: boolean; name: string }> {
  const durationS = full ? 60 : 15;
  // 2,000 units per SKU, restocked half a second after selling out: the hot SKUs still sell out every
  // few seconds, yet most shoppers find stock, so the hub sees close to the offered rate.
  const flash: Partial<ScenarioOptions> = { quietWaitMs: 60_000, rate, durationS, skus: 200, stock: 2_000, restockDelayMs: 500, restockUnits: 2_000, latency: { p50: 80, p99: 300 }, targetP99Ms: 1_000 };
  const list: Array<{ config: string; options: Partial<ScenarioOptions>; ledgerOnly?: boolean; name: string }> = [
    { name: 'flash-40', config: join(CONFIG_DIR, 'flash-40.json'), options: { ...flash, path: 'publish' } },
    // The goal scenario for the slow channels: 500 orders/s through webhooks, 200 units per SKU restocked
    // 2 s after selling out, every channel class held to lag p99 ≤ 5 s and phantom stock p99 ≤ 1 s.
    { name: 'flash-40-500', config: join(CONFIG_DIR, 'flash-40.json'), options: { quietWaitMs: 60_000, rate: 500, durationS, skus: 200, stock: 200, restockDelayMs: 2_000, restockUnits: 200, latency: { p50: 80, p99: 300 }, path: 'webhook', targetP99Ms: 5_000 } },
    { name: 'ledger-only', config: join(CONFIG_DIR, 'flash-40.json'), ledgerOnly: true, options: { quietWaitMs: 60_000, rate: 3_000, durationS, skus: 200, stock: 1_000_000_000, mode: 'open', path: 'publish', targetP99Ms: 50 } },
  ];
  if (full) {
    list.push({ name: 'flash-40-webhooks', config: join(CONFIG_DIR, 'flash-40.json'), options: { ...flash, path: 'webhook' } });
    // Scarce stock: 200 units, restocked after 2 s; a third of the shoppers find their SKU sold out.
    list.push({ name: 'flash-40-scarce', config: join(CONFIG_DIR, 'flash-40.json'), options: { ...flash, stock: 200, restockDelayMs: 2_000, restockUnits: 200, path: 'publish' } });
    list.push({ name: 'flash-8-real', config: join(CONFIG_DIR, 'flash-8-real.json'), options: { quietWaitMs: 60_000, rate: 20, durationS, skus: 200, stock: 200, latency: { p50: 80, p99: 300 }, path: 'webhook', targetP99Ms: 5_000 } });
  }
  return list;
}

/**
 * `stockrelay bench-suite` (`npm run bench`): the micro-benchmarks, then the flash-40 reference scenario,
 * flash-40 at 500 orders/s (the slow channels' goals) and the ledger alone (15 s each; `--full`: 60 s,
 * plus flash-40 through webhooks, with scarce stock, and flash-8-real).
 * Writes `bench/results/<time>.json`; `--compare <file>` prints ratios against an earlier one.
 * Benchmarks report, they do not judge: the exit code is 0 unless something broke.
 */
export async function runBenchSuite(args: readonly string[], out: (line: string) => void): Promise<number> {
  const { values } = parseArgs({
    args: [...args],
    options: {
      full: { type: 'boolean' },
      compare: { type: 'string' },
      out: { type: 'string' },
      reports: { type: 'string' },
      rate: { type: 'string' },
      'skip-micro': { type: 'boolean' },
      'skip-scenarios': { type: 'boolean' },
    },
  });
  const rate = Number(values.rate ?? 2_000);
  if (!(rate > 0)) throw new UsageError('bench-suite: --rate must be a positive number');
  const startedAt = new Date().toISOString();
  const cpuInfo = cpus();
  const suite: SuiteResult = {
    startedAt,
    machine: { cpus: cpuInfo.length, cpuModel: cpuInfo[0]?.model ?? 'unknown', memoryMb: Math.round(totalmem() / 2 ** 20), node: process.version, platform: `${process.platform}-${process.arch}` },
    micro: [],
    scenarios: [],
  };
  const previous = values.compare ? await readComparison(values.compare) : undefined;

  if (!values['skip-micro']) {
    out('micro-benchmarks (tinybench):');
    const parts: Array<[string, () => Promise<MicroRow[]>]> = [
      ['validation', async () => (await import('../../bench/validation.micro.ts')).validationMicro()],
      ['dispatcher', async () => (await import('../../bench/dispatcher.micro.ts')).dispatcherMicro()],
      ['ledger', async () => (await import('../../bench/ledger.micro.ts')).ledgerMicro()],
      ['connectors', async () => (await import('../../bench/connectors.micro.ts')).connectorsMicro()],
    ];
    for (const [label, run] of parts) {
      try {
        const rows = await run();
        suite.micro.push(...rows);
        for (const row of rows) out(formatMicro(row));
      } catch (err) {
        out(`  ${label}: failed: ${describeError(err)}`);
        suite.micro.push({ name: label, opsPerSec: 0, itemsPerOp: 1, meanMs: 0, p50Ms: 0, p99Ms: 0, samples: 0, error: describeError(err) });
      }
    }
  }

  if (!values['skip-scenarios']) {
    for (const scenario of referenceScenarios(values.full ?? false, rate)) {
      out(`\nscenario ${scenario.name}:`);
      const { result, files } = await benchOnce(scenario.config, scenario.options, values.reports ?? 'reports', out, process.stderr, { ledgerOnly: scenario.ledgerOnly, name: scenario.name });
      suite.scenarios.push(scenarioRow(result, files.json));
    }
  }

  const dir = resolve(values.out ?? 'bench/results');
  await mkdir(dir, { recursive: true });
  const file = join(dir, `${startedAt.replace(/[:.]/g, '-')}.json`);
  await writeFile(file, `${JSON.stringify(suite, null, 2)}\n`);
  out(`\nsuite result: ${file}`);
  if (previous) for (const line of compareSuites(suite, previous)) out(line);
  return 0;
}

function formatMicro(row: MicroRow): string {
  if (row.error) return `  ${row.name.padEnd(62)} ERROR ${row.error}`;
  if (row.opsPerSec === 0) return `  ${row.name.padEnd(62)} ${row.itemsPerOp} (${row.samples} calls)`;
  const items = row.itemsPerOp > 1 ? `  = ${formatRate(row.opsPerSec * row.itemsPerOp, 'items')}` : '';
  return `  ${row.name.padEnd(62)} ${formatCount(row.opsPerSec).padStart(10)} ops/s  mean ${formatMs(row.meanMs)}  p50 ${formatMs(row.p50Ms)}  p99 ${formatMs(row.p99Ms)}  (${formatCount(row.samples)} samples)${items}`;
}
