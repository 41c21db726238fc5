import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../core/cli/main.ts';
import { runSimulate } from '../../core/cli/simulate-command.ts';
import { loadConnectorDefinition } from '../../core/plugins/load-connector-definition.ts';
import { memoryConnectorState } from '../../core/plugins/memory-connector-state.ts';
import { freeLoopbackPort } from '../../core/tooling/simulation/private-nats-server.ts';
import { parseFaultSpec, formatFaultSpec } from '../../core/tooling/simulation/fault-spec.ts';
import type { ConnectorInstance, Logger, SimulatorFault, StockUpdate } from '../../core/sdk.ts';

const ROOT = new URL('../..', import.meta.url).pathname;
const REAL_TOKEN = 'real-token-CNRY7c1e9d2b';
const silent: Logger = { debug() {}, info() {}, warn() {}, error() {} };

interface Running {
  lines: string[];
  input: PassThrough;
  stop(): Promise<number>;
  /** Resolves once a line containing `text` has been printed. */
  printed(text: string): Promise<string>;
}

/** Runs `stockrelay simulate` through main(), for input it must refuse before serving. */
async function refused(args: string[]): Promise<{ code: number; text: string }> {
  const lines: string[] = [];
  const code = await main(['simulate', ...args], (l) => lines.push(l), (l) => lines.push(l));
  return { code, text: lines.join('\n') };
}

/** Runs the command directly (to pass a stop signal and typed input) and waits until it serves. */
async function serve(args: string[]): Promise<Running & { controller: AbortController }> {
  const lines: string[] = [];
  const waiters: Array<() => void> = [];
  const input = new PassThrough();
  const controller = new AbortController();
  const out = (line: string): void => {
    lines.push(line);
    for (const wake of waiters.splice(0)) wake();
  };
  const done = runSimulate(args, { out, input, signal: controller.signal, cwd: ROOT, env: {} });
  const printed = async (text: string): Promise<string> => {
    for (;;) {
      const found = lines.find((l) => l.includes(text));
      if (found !== undefined) return found;
      const failed = await Promise.race([done.then(() => true, () => true), new Promise<false>((resolve) => waiters.push(() => resolve(false)))]);
      if (failed && !lines.some((l) => l.includes(text))) throw new Error(`simulate ended before printing ${JSON.stringify(text)}:\n${lines.join('\n')}`);
    }
  };
  await printed('Ctrl-C stops them');
  return {
    lines,
    input,
    controller,
    printed,
    stop: async () => {
      controller.abort();
      return done;
    },
  };
}

function optionsOf(lines: string[], channel: string): Record<string, unknown> {
  const at = lines.findIndex((l) => l.startsWith(`${channel} (connector `));
  expect(at, lines.join('\n')).toBeGreaterThanOrEqual(0);
  const line = lines[at + 1]!;
  return JSON.parse(line.slice(line.indexOf('{'))) as Record<string, unknown>;
}

async function sandboxInstance(options: Record<string, unknown>): Promise<ConnectorInstance> {
  const definition = await loadConnectorDefinition('sandbox', ROOT);
  return definition.create(options, { channelId: 'sim', logger: silent, signal: new AbortController().signal, state: memoryConnectorState(), registerSecret() {} });
}

let version = 0;
const updates = (...skus: string[]): StockUpdate[] => skus.map((sku) => ({ sku, quantity: 7, version: ++version }));

describe('stockrelay simulate', () => {
  let dir: string;
  let config: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'stockrelay-simulate-'));
    config = join(dir, 'my.json');
    // A real token in plain text and a secret the environment does not hold: neither may stop or leak.
    await writeFile(
      config,
      JSON.stringify({
        channels: [
          { id: 'shop-a', connector: 'sandbox', options: { baseUrl: 'https://api.example.com', token: REAL_TOKEN, webhookSecret: { env: 'SIMULATE_TEST_UNSET' } } },
          { id: 'shop-b', connector: 'sandbox', options: { baseUrl: 'https://api.example.com', token: REAL_TOKEN } },
        ],
      }),
    );
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('is listed by stockrelay --help', async () => {
    const lines: string[] = [];
    expect(await main(['--help'], (l) => lines.push(l))).toBe(0);
    expect(lines.join('\n')).toMatch(/^\s+stockrelay simulate /m);
  });

  it('starts the chosen channel with its fault, prints options a connector works with, and never the config\'s secrets', async () => {
    const run = await serve(['--config', config, '--channel', 'shop-a', '--fault', 'server-error:503', '--sku', 'A-1=5', '--sku', 'A-2']);
    try {
      expect(run.lines.some((l) => l.startsWith('shop-b '))).toBe(false);
      const url = (await run.printed('shop-a (connector sandbox): ')).split(': ')[1]!;
      expect((await fetch(`${url}/v1/inventory`)).status).toBe(503);
      const options = optionsOf(run.lines, 'shop-a');
      expect(options.baseUrl).toBe(url);
      const instance = await sandboxInstance(options);
      await expect(instance.push(updates('A-1'), AbortSignal.timeout(10_000))).rejects.toMatchObject({ code: expect.stringMatching(/^SR_/) });

      run.input.write('clear\n');
      await run.printed('fault cleared on shop-a');
      expect(await instance.push(updates('A-1', 'A-2'), AbortSignal.timeout(10_000))).toEqual([
        expect.objectContaining({ sku: 'A-1', status: 'ok' }),
        expect.objectContaining({ sku: 'A-2', status: 'ok' }),
      ]);

      run.input.write('shop-a item-locked:A-2\n');
      await run.printed('fault item-locked:A-2 set on shop-a');
      const results = await instance.push(updates('A-1', 'A-2'), AbortSignal.timeout(10_000));
      expect(results.find((r) => r.sku === 'A-1')?.status).toBe('ok');
      expect(['busy', 'retry']).toContain(results.find((r) => r.sku === 'A-2')?.status);

      run.input.write('no-such-fault\n');
      await run.printed('not set: ');
      await instance.close?.();
    } finally {
      expect(await run.stop()).toBe(0);
    }
    expect(run.lines.at(-1)).toBe('simulators stopped');
    expect(run.lines.join('\n')).not.toContain(REAL_TOKEN);
  });

  it('starts the simulator of one connector path on the port asked for', async () => {
    const port = await freeLoopbackPort();
    const run = await serve(['./connectors/sandbox', '--port', String(port), '--fault', 'hang']);
    try {
      expect(await run.printed('sandbox (connector sandbox): ')).toContain(`http://127.0.0.1:${port}`);
      expect(await run.printed('fault set: ')).toContain('hang');
    } finally {
      await run.stop();
    }
  });

  it('refuses bad input naming the option, and starts nothing', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['--config', config, '--fault', 'melt'], /--fault "melt": unknown fault kind "melt"; one of:[\s\S]*server-error/],
      [['--config', config, '--fault', 'server-error:404'], /--fault "server-error:404": the status must be 500-599/],
      [['--config', config, '--fault', 'item-locked'], /--fault "item-locked": "item-locked" needs the SKUs/],
      [['--config', config, '--channel', 'shop-z'], /--channel: no channel "shop-z" in .* \(it has: shop-a, shop-b\)/],
      [['--config', config, '--port', '4000'], /--port: 2 simulators cannot share one port/],
      [['--config', config, '--sku', 'X=lots'], /--sku "X=lots"/],
      [[], /give either --config <file> or one connector path/],
    ];
    for (const [args, message] of cases) {
      const { code, text } = await refused(args);
      expect(code, args.join(' ')).not.toBe(0);
      expect(text).toMatch(message);
    }
  });
});

describe('fault specs', () => {
  it('every fault kind reads back from its text form', () => {
    const faults: SimulatorFault[] = [
      { kind: 'down' },
      { kind: 'throttle', retryAfterMs: 250 },
      { kind: 'server-error', status: 502 },
      { kind: 'hang' },
      { kind: 'hold-writes', ms: 3000 },
      { kind: 'echo-errors' },
      { kind: 'drop-after-write' },
      { kind: 'item-locked', skus: ['A', 'B'] },
      { kind: 'item-unknown', skus: ['C'] },
    ];
    for (const fault of faults) expect(parseFaultSpec(formatFaultSpec(fault))).toEqual(fault);
    expect(parseFaultSpec('throttle')).toEqual({ kind: 'throttle', retryAfterMs: 1000 });
    expect(parseFaultSpec('server-error')).toEqual({ kind: 'server-error', status: 500 });
    expect(() => parseFaultSpec('hang:5')).toThrow(/"hang" takes no argument/);
  });
});
