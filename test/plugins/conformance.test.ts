import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { authorProject } from '../support/author-project.ts';
import { describe, expect, it } from 'vitest';
import abortIgnoringConnector from '../fixtures/conformance/abort-ignoring-connector.ts';
import codelessConnector from '../fixtures/conformance/codeless-errors-connector.ts';
import droppingConnector from '../fixtures/conformance/dropping-connector.ts';
import { CHECK_NAMES, type ConformanceReport } from '../../core/tooling/conformance/conformance-report.ts';
import { runConformance, type ConformanceOptions } from '../../core/tooling/conformance/run-conformance.ts';
import { runTestConnector } from '../../core/tooling/conformance/test-connector-command.ts';
import { loadConnectorDefinition } from '../../core/plugins/load-connector-definition.ts';
import {
  isWebhookPayloadError,
  type ConnectorContext,
  type ConnectorDefinition,
  type PushResult,
  type SimulatorFault,
  type SimulatorOptions,
  type StockUpdate,
  type WebhookRequest,
} from '../../core/sdk.ts';
import { startAcmeSimulator } from '../../connectors/_template/simulator.ts';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const CONNECTORS = join(REPO, 'connectors');
const TEMPLATE = join(CONNECTORS, '_template');
const run = promisify(execFile);

/**
 * Simulator settings a connector needs for every check to exercise something: the sandbox lists any
 * SKU on write unless started strict, and then the per-item check could not provoke a refusal.
 */
const SIMULATOR_EXTRAS: Record<string, Record<string, unknown>> = { sandbox: { strictListing: true } };

/**
 * Checks a connector may skip: it lacks the optional member the check exercises, or its simulator does
 * not implement the fault or helper the check needs (the connector's own area adds those).
 */
const absentMember = (detail: string): boolean => /^the (instance|simulator) (has no|does not implement)/.test(detail);

/** Every check that did not pass, with its detail, so a failing assertion says what is wrong. */
function notPassed(report: ConformanceReport): string[] {
  return report.checks.filter((c) => c.status === 'fail' || (c.status === 'skip' && !absentMember(c.detail))).map((c) => `${c.status} ${c.name}: ${c.detail}`);
}

function statusOf(report: ConformanceReport, name: string): string | undefined {
  return report.checks.find((c) => c.name === name)?.status;
}

/** Built-in connector folders (not `_kit`, `_template`): those missing an index or failing to load are listed with the reason. */
const builtins: Array<{ name: string; definition?: ConnectorDefinition; problem?: string }> = [];
for (const entry of readdirSync(CONNECTORS, { withFileTypes: true })) {
  if (!entry.isDirectory() || entry.name.startsWith('_')) continue;
  if (!existsSync(join(CONNECTORS, entry.name, 'index.ts'))) {
    builtins.push({ name: entry.name, problem: 'no index.ts yet' });
    continue;
  }
  try {
    builtins.push({ name: entry.name, definition: await loadConnectorDefinition(entry.name, REPO) });
  } catch (err) {
    builtins.push({ name: entry.name, problem: (err as Error).message });
  }
}

describe('every connector passes the conformance suite against its simulator', () => {
  for (const { name, definition, problem } of builtins) {
    if (!definition) {
      it.skip(`${name} (does not load: ${problem})`, () => {});
      continue;
    }
    it(name, async () => {
      const options: ConformanceOptions = SIMULATOR_EXTRAS[name] ? { simulator: SIMULATOR_EXTRAS[name] as SimulatorOptions } : {};
      const report = await runConformance(definition, options);
      expect(notPassed(report), `${name} conformance`).toEqual([]);
    });
  }

  it('the template (acme)', async () => {
    const definition = await loadConnectorDefinition('./connectors/_template', REPO);
    const report = await runConformance(definition);
    expect(notPassed(report)).toEqual([]);
  });
});

describe('the template is a plugin an author can take out of this repo', () => {
  it('imports only the stockrelay SDK and kit, node built-ins, undici and its own files', () => {
    const files = readdirSync(TEMPLATE, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'));
    const imports = files.flatMap((file) =>
      [...readFileSync(join(TEMPLATE, file), 'utf8').matchAll(/(?:from|import)\s*\(?\s*'([^']+)'/g)].map((m) => ({ file, spec: m[1] as string })),
    );
    const outside = imports.filter(({ spec }) => !(spec === 'stockrelay' || spec === 'stockrelay/kit' || spec === 'undici' || spec.startsWith('node:') || (spec.startsWith('./') && !spec.includes('..'))));
    expect(imports.length).toBeGreaterThan(0);
    expect(outside).toEqual([]);
  });


  it('copied to a folder outside the repo, with stockrelay and undici installed, it loads by path and passes', async () => {
    const dir = authorProject();
    try {
      const definition = await loadConnectorDefinition('./my-connector', dir);
      const report = await runConformance(definition);
      expect(report.connector).toBe('acme-outside');
      expect(notPassed(report)).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('copied outside the repo, it passes `stockrelay test-connector ./my-connector` run from that folder', async () => {
    const dir = authorProject();
    try {
      const { stdout } = await run(process.execPath, [join(dir, 'node_modules', 'stockrelay', 'bin', 'stockrelay.mjs'), 'test-connector', './my-connector'], {
        cwd: dir,
        timeout: 60_000,
      });
      expect(stdout).toMatch(/^PASS acme-outside: 19 passed, 0 failed, 3 skipped$/m);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the suite fails connectors that break the contract', () => {
  it('a connector that drops items fails the push and batch checks', async () => {
    const report = await runConformance(droppingConnector, { simulator: { strictListing: true } as SimulatorOptions });
    expect(report.passed).toBe(false);
    expect(statusOf(report, CHECK_NAMES.pushSets)).toBe('fail');
    expect(statusOf(report, CHECK_NAMES.batchMaximum)).toBe('fail');
    expect(report.checks.find((c) => c.name === CHECK_NAMES.pushSets)?.detail).toMatch(/no result for 1 of 3 updates/);
  });

  it('a connector that ignores the abort signal fails the hanging-API and abort checks, and only those', async () => {
    const report = await runConformance(abortIgnoringConnector, { simulator: { strictListing: true } as SimulatorOptions });
    expect(report.passed).toBe(false);
    expect(report.checks.filter((c) => c.status === 'fail').map((c) => c.name)).toEqual([CHECK_NAMES.hang, CHECK_NAMES.abort]);
    expect(report.checks.find((c) => c.name === CHECK_NAMES.hang)?.detail).toMatch(/had not settled .* after its signal aborted/);
  });

  it('a connector whose errors lack the catalogue codes fails, though its classes are named like the SDK’s', async () => {
    const report = await runConformance(codelessConnector, { simulator: { strictListing: true } as SimulatorOptions });
    expect(report.passed).toBe(false);
    const failed = report.checks.filter((c) => c.status === 'fail').map((c) => c.name);
    expect(failed).toEqual(expect.arrayContaining([CHECK_NAMES.throttle, CHECK_NAMES.outage, CHECK_NAMES.serverError, CHECK_NAMES.errorCodes]));
    expect(report.checks.find((c) => c.name === CHECK_NAMES.throttle)?.detail).toMatch(/ThrottledError without a code: named like the SDK's class/);
    expect(report.checks.find((c) => c.name === CHECK_NAMES.errorCodes)?.detail).toMatch(/push: RetryableError without a code/);
  });

  it('a connector declaring a higher rate than its channel enforces fails the declared-rate check', async () => {
    const template = await loadConnectorDefinition('./connectors/_template', REPO);
    const greedy = { ...template, name: 'greedy', capabilities: { ...template.capabilities, rateLimit: { perSecond: 40, burst: 40 } } } as ConnectorDefinition;
    const report = await runConformance(greedy);
    expect(report.checks.find((c) => c.name === CHECK_NAMES.declaredRate)).toMatchObject({ status: 'fail', detail: expect.stringMatching(/declared rateLimit 40\/s burst 40 is more than the simulator enforces/) });
  });

  describe('the bulk lane', () => {
    const FEED = { maxBatchSize: 100, rateLimit: { perSecond: 1, burst: 1 }, expectedDurationMs: 1_000, maxDurationMs: 10_000 };
    /** The template, with a bulk lane whose jobs `bulk` answers (given the template's own push). */
    async function withBulk(bulk: ((push: (u: readonly StockUpdate[], s: AbortSignal) => Promise<PushResult[]>) => (u: readonly StockUpdate[], s: AbortSignal) => Promise<PushResult[]>) | null, declared = true): Promise<ConnectorDefinition> {
      const template = await loadConnectorDefinition('./connectors/_template', REPO);
      return {
        ...template,
        name: 'feedy',
        capabilities: declared ? { ...template.capabilities, bulk: FEED } : template.capabilities,
        async create(options, context) {
          const instance = await template.create(options, context);
          return bulk ? { ...instance, push: instance.push.bind(instance), pushBulk: bulk(instance.push.bind(instance)) } : instance;
        },
      } as ConnectorDefinition;
    }

    it('passes a job that answers each item as the channel took it', async () => {
      const report = await runConformance(await withBulk((push) => push));
      expect(report.checks.find((c) => c.name === CHECK_NAMES.bulk)).toMatchObject({ status: 'pass' });
    });

    it('fails a declared lane without pushBulk, and a pushBulk the host would never call', async () => {
      const missing = await runConformance(await withBulk(null));
      expect(missing.checks.find((c) => c.name === CHECK_NAMES.bulk)).toMatchObject({ status: 'fail', detail: expect.stringMatching(/no pushBulk/) });
      const undeclared = await runConformance(await withBulk((push) => push, false));
      expect(undeclared.checks.find((c) => c.name === CHECK_NAMES.bulk)).toMatchObject({ status: 'fail', detail: expect.stringMatching(/not declared/) });
    });

    it('fails a job that reports ok for a SKU the channel does not list', async () => {
      // The listed SKUs really are written; the one the channel refused is reported ok all the same.
      const report = await runConformance(await withBulk((push) => async (updates, signal) => (await push(updates, signal)).map((r) => ({ sku: r.sku, status: 'ok' as const }))));
      expect(report.checks.find((c) => c.name === CHECK_NAMES.bulk)).toMatchObject({ status: 'fail', detail: expect.stringMatching(/not listed\) reported ok/) });
    });
  });

  it('a connector that retries an unknown item and dead-letters a locked one fails both per-item fault checks', async () => {
    const template = await loadConnectorDefinition('./connectors/_template', REPO);
    const swapped = {
      ...template,
      name: 'swapped-items',
      async create(options: Record<string, unknown>, context: ConnectorContext) {
        const inner = await template.create(options, context);
        return {
          ...inner,
          push: async (updates: readonly StockUpdate[], signal: AbortSignal): Promise<PushResult[]> =>
            (await inner.push(updates, signal)).map((r): PushResult => (r.status === 'not_listed' ? { ...r, status: 'retry' } : r.status === 'busy' ? { ...r, status: 'rejected' } : r)),
        };
      },
    } as ConnectorDefinition;
    const report = await runConformance(swapped);
    expect(report.checks.find((c) => c.name === CHECK_NAMES.itemUnknown)).toMatchObject({ status: 'fail', detail: expect.stringMatching(/expected not_listed or rejected/) });
    expect(report.checks.find((c) => c.name === CHECK_NAMES.itemLocked)).toMatchObject({ status: 'fail', detail: expect.stringMatching(/expected busy or retry/) });
  });

  it('a connector that throws a TypeError on a signed malformed webhook fails the malformed-webhook check', async () => {
    const template = await loadConnectorDefinition('./connectors/_template', REPO);
    const careless = {
      ...template,
      name: 'careless-webhooks',
      async create(options: Record<string, unknown>, context: ConnectorContext) {
        const inner = await template.create(options, context);
        return {
          ...inner,
          handleWebhook: async (request: WebhookRequest, signal: AbortSignal) => {
            try {
              return await inner.handleWebhook!(request, signal);
            } catch (err) {
              if (isWebhookPayloadError(err)) throw new TypeError("Cannot read properties of undefined (reading 'map')");
              throw err;
            }
          },
        };
      },
    } as ConnectorDefinition;
    const report = await runConformance(careless);
    expect(report.checks.find((c) => c.name === CHECK_NAMES.malformedWebhook)).toMatchObject({ status: 'fail', detail: expect.stringMatching(/threw TypeError/) });
    expect(statusOf(report, CHECK_NAMES.webhook)).toBe('pass');
  });

  it('reports the checks whose fault the simulator does not implement as skipped, with the reason', async () => {
    const template = await loadConnectorDefinition('./connectors/_template', REPO);
    const plain = {
      ...template,
      name: 'plain-simulator',
      simulator: async (options: SimulatorOptions) => {
        const started = await template.simulator!(options);
        // Like a simulator that does not list what it implements and refuses the per-item kinds.
        const { faults: _listed, ...rest } = started;
        return {
          ...rest,
          setFault(fault: SimulatorFault | null) {
            if (fault?.kind === 'item-locked' || fault?.kind === 'item-unknown') throw new Error(`plain simulator does not implement the "${fault.kind}" fault`);
            started.setFault(fault);
          },
        };
      },
    } as ConnectorDefinition;
    const report = await runConformance(plain);
    for (const name of [CHECK_NAMES.itemUnknown, CHECK_NAMES.itemLocked]) {
      expect(report.checks.find((c) => c.name === name)).toMatchObject({ status: 'skip', detail: expect.stringMatching(/the simulator does not implement the "item-(unknown|locked)" fault/) });
    }
    expect(report.passed).toBe(true);
  });

  it('every check still runs, and everything is closed, when create throws', async () => {
    const broken: ConnectorDefinition = {
      ...droppingConnector,
      name: 'create-throws',
      create() {
        throw new Error('cannot reach the channel');
      },
    } as ConnectorDefinition;
    const report = await runConformance(broken, { simulator: { strictListing: true } as SimulatorOptions });
    expect(report.checks.map((c) => c.name)).toEqual(Object.values(CHECK_NAMES));
    expect(report.checks.find((c) => c.name === CHECK_NAMES.create)).toMatchObject({ status: 'fail', detail: expect.stringMatching(/cannot reach the channel/) });
  });
});

describe('running the suite', () => {
  it('an aborted run skips the checks it did not reach and still resolves a report', async () => {
    const controller = new AbortController();
    const definition = await loadConnectorDefinition('./connectors/_template', REPO);
    const report = await runConformance(definition, {
      signal: controller.signal,
      onCheck: (check) => {
        if (check.name === CHECK_NAMES.create) controller.abort();
      },
    });
    expect(report.checks.map((c) => c.status)).toEqual(['pass', 'pass', 'pass', ...Array(Object.values(CHECK_NAMES).length - 3).fill('skip')]);
  });
});

describe('stockrelay test-connector', () => {
  it('prints a line per check and exits 0 for a conforming connector', async () => {
    const lines: string[] = [];
    const code = await runTestConnector({ spec: './connectors/_template', cwd: REPO, out: (line) => lines.push(line) });
    expect(code).toBe(0);
    expect(lines.filter((l) => /^[✓✗–] /.test(l))).toHaveLength(Object.values(CHECK_NAMES).length);
    expect(lines.at(-1)).toMatch(/^PASS acme: 19 passed, 0 failed, 3 skipped$/);
  });

  it('exits 1 and shows the failing check with its detail for a broken connector', async () => {
    const lines: string[] = [];
    const code = await runTestConnector({ spec: './test/fixtures/conformance/abort-ignoring-connector.ts', cwd: REPO, out: (line) => lines.push(line) });
    expect(code).toBe(1);
    expect(lines.find((l) => l.startsWith(`✗ ${CHECK_NAMES.abort}`))).toMatch(/resolved .* after its signal aborted/);
  });

  it('exits 1 for a plugin whose errors the host would not recognise', async () => {
    const lines: string[] = [];
    const code = await runTestConnector({ spec: './test/fixtures/conformance/codeless-errors-connector.ts', cwd: REPO, out: (line) => lines.push(line) });
    expect(code).toBe(1);
    expect(lines.find((l) => l.startsWith(`✗ ${CHECK_NAMES.errorCodes}`))).toMatch(/without a code/);
    expect(lines.at(-1)).toMatch(/^FAIL codeless-errors: /);
  });

  it('with --options runs against that endpoint and skips the checks that need a simulator', async () => {
    const simulator = await startAcmeSimulator({ skus: { 'EP-1': 3, 'EP-2': 4, 'EP-3': 5 }, rateLimit: { perSecond: 1000, burst: 1000 } });
    const dir = mkdtempSync(join(tmpdir(), 'stockrelay-endpoint-'));
    try {
      const file = join(dir, 'acme.json');
      writeFileSync(file, JSON.stringify({ options: simulator.connectorOptions(['EP-1', 'EP-2', 'EP-3']), skus: ['EP-1', 'EP-2', 'EP-3'] }));
      const lines: string[] = [];
      const code = await runTestConnector({ spec: './connectors/_template', optionsFile: file, cwd: REPO, out: (line) => lines.push(line) });
      expect(code).toBe(0);
      expect(lines.find((l) => l.startsWith(`✓ ${CHECK_NAMES.pushSets}`))).toBeDefined();
      expect(lines.find((l) => l.startsWith(`– ${CHECK_NAMES.throttle}`))).toBeDefined();
      expect(simulator.shown('EP-3')).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await simulator.close();
    }
  });
});
