import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import type { Readable } from 'node:stream';
import type { LoadedConfig } from '../config/config-types.ts';
import { loadConfig } from '../config/load-config.ts';
import { ConfigError, ErrorCodes, UsageError, describeError, isStockrelayError } from '../internal.ts';
import { loadConnectorDefinition } from '../plugins/load-connector-definition.ts';
import type { SimulatorFault, SimulatorHandle, SimulatorOptions } from '../sdk.ts';
import { faultSpecHelp, formatFaultSpec, parseFaultSpec } from '../tooling/simulation/fault-spec.ts';
import { startSimulatedChannels } from '../tooling/simulation/simulated-channels.ts';

export const SIMULATE_USAGE = `stockrelay simulate --config <file> [--channel <id>]... [options]
stockrelay simulate <connector path|package> [options]
  Starts the channel simulators standalone and prints, for each, its URL and the connector options
  that point a connector at it (the credentials in them are test values the simulator made). Runs
  until Ctrl-C.
  --channel <id>        only this channel of the config (repeatable)
  --sku <SKU>[=<qty>]   a SKU the simulators list, with its quantity (repeatable; default SIM-1..SIM-3 = 100)
  --fault <kind[:arg]>  start with this fault set on every simulator started
  --port <n>            the port to listen on (one simulator only)
  While it runs, type a fault and Enter to set it on every simulator (\`<channel id> <fault>\` for one),
  or \`clear\` (\`<channel id> clear\`). Fault kinds:
${faultSpecHelp('    ')}`;

export interface SimulateIo {
  out: (line: string) => void;
  /** Stops the simulators when aborted. Default: Ctrl-C or SIGTERM. */
  signal?: AbortSignal;
  /** Lines typed while it runs (faults, `clear`). Default: the terminal, when stdin is one. */
  input?: Readable;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}

interface Started {
  id: string;
  connector: string;
  simulator: SimulatorHandle;
  options: unknown;
}

const DEFAULT_SKUS: Record<string, number> = { 'SIM-1': 100, 'SIM-2': 100, 'SIM-3': 100 };

/**
 * `stockrelay simulate`: the simulators of a config's channels (or of one connector) on their own, for a
 * plugin author or an operator who wants to point a connector, curl or a hub at a channel that
 * misbehaves on demand. Never calls a real channel and never prints the config's own options.
 */
export async function runSimulate(args: readonly string[], io: SimulateIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...args],
    options: {
      config: { type: 'string', short: 'c' },
      channel: { type: 'string', multiple: true },
      sku: { type: 'string', multiple: true },
      fault: { type: 'string' },
      port: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    allowPositionals: true,
  });
  const { out } = io;
  if (values.help) {
    out(SIMULATE_USAGE);
    return 0;
  }
  const spec = positionals[0];
  if ((values.config === undefined) === (spec === undefined) || positionals.length > 1) {
    throw new UsageError(`simulate: give either --config <file> or one connector path or package\n\n${SIMULATE_USAGE}`);
  }
  if (spec !== undefined && values.channel) throw new UsageError('simulate: --channel picks channels of a --config; with a connector path there is only one');
  const skus = parseSkus(values.sku);
  const fault = values.fault !== undefined ? parseFaultSpec(values.fault, '--fault') : null;
  const port = values.port !== undefined ? parsePort(values.port) : undefined;
  const simulatorOptions: SimulatorOptions = { skus, ...(port !== undefined ? { port } : {}) };

  const started: Started[] = [];
  let closeAll = async (): Promise<void> => {
    await Promise.all(started.map((s) => s.simulator.close().catch(() => undefined)));
  };
  try {
    if (values.config !== undefined) {
      const loaded = await loadConfigWithoutSecrets(values.config, io.env ?? process.env);
      const ids = values.channel ?? loaded.config.channels.filter((c) => c.enabled).map((c) => c.id);
      const unknown = ids.filter((id) => !loaded.config.channels.some((c) => c.id === id));
      if (unknown.length > 0) {
        throw new UsageError(`--channel: no channel ${unknown.map((id) => `"${id}"`).join(', ')} in ${values.config} (it has: ${loaded.config.channels.map((c) => c.id).join(', ')})`);
      }
      if (port !== undefined && ids.length > 1) throw new UsageError(`--port: ${ids.length} simulators cannot share one port; pick one with --channel`);
      const simulated = await startSimulatedChannels(loaded, { skus, only: ids, simulator: () => simulatorOptions });
      closeAll = simulated.close;
      const skuList = Object.keys(skus);
      for (const { channel, definition, simulator } of simulated.channels) {
        started.push({ id: channel.id, connector: definition.name, simulator, options: simulator.connectorOptions(skuList) });
      }
    } else {
      const definition = await loadConnectorDefinition(spec!, io.cwd ?? process.cwd());
      if (typeof definition.simulator !== 'function') throw new UsageError(`simulate: connector "${definition.name}" ships no simulator`);
      const simulator = (await definition.simulator(simulatorOptions)) as SimulatorHandle;
      started.push({ id: definition.name, connector: definition.name, simulator, options: simulator.connectorOptions(Object.keys(skus)) });
    }
    if (fault) for (const s of started) setFault(s, fault);
  } catch (err) {
    await closeAll();
    throw err;
  }

  out(`${started.length} simulator(s), listing ${Object.entries(skus).map(([sku, qty]) => `${sku}=${qty}`).join(', ')}:`);
  for (const s of started) {
    out('');
    out(`${s.id} (connector ${s.connector}): ${s.simulator.url}`);
    out(`  connector options (test credentials made by the simulator): ${JSON.stringify(s.options)}`);
    if (s.simulator.faults) out(`  faults it implements: ${s.simulator.faults.join(', ')}`);
    if (fault) out(`  fault set: ${formatFaultSpec(fault)}`);
  }
  out('');
  out('Ctrl-C stops them. Type a fault (e.g. server-error:503), `clear`, or `<channel id> <fault|clear>`, then Enter.');

  const stop = stopSignal(io.signal);
  const input = io.input ?? (process.stdin.isTTY ? process.stdin : undefined);
  const lines = input ? createInterface({ input, terminal: false }) : undefined;
  lines?.on('line', (line) => {
    const text = line.trim();
    if (text !== '') out(control(text, started));
  });
  try {
    await new Promise<void>((resolve) => {
      if (stop.signal.aborted) return resolve();
      stop.signal.addEventListener('abort', () => resolve(), { once: true });
    });
  } finally {
    stop.dispose();
    lines?.close();
    if (input === process.stdin) process.stdin.pause();
    await closeAll();
  }
  out('simulators stopped');
  return 0;
}

/** Applies one typed line (`<fault>`, `clear`, `<channel id> <fault|clear>`) and says what it did. */
function control(text: string, started: readonly Started[]): string {
  const [first, ...rest] = text.split(/\s+/);
  const target = started.find((s) => s.id === first);
  const targets = target ? [target] : started;
  const spec = target ? rest.join(' ') : text;
  try {
    if (spec === 'clear') {
      for (const s of targets) s.simulator.setFault(null);
      return `fault cleared on ${targets.map((s) => s.id).join(', ')}`;
    }
    const fault = parseFaultSpec(spec, 'fault');
    for (const s of targets) setFault(s, fault);
    return `fault ${formatFaultSpec(fault)} set on ${targets.map((s) => s.id).join(', ')}`;
  } catch (err) {
    return `not set: ${describeError(err)}`;
  }
}

function setFault(s: Started, fault: SimulatorFault): void {
  try {
    s.simulator.setFault(fault);
  } catch (err) {
    throw new UsageError(`${s.id}: ${describeError(err)}`);
  }
}

function parseSkus(values: readonly string[] | undefined): Record<string, number> {
  if (!values || values.length === 0) return { ...DEFAULT_SKUS };
  const skus: Record<string, number> = {};
  for (const value of values) {
    const eq = value.lastIndexOf('=');
    const sku = (eq === -1 ? value : value.slice(0, eq)).trim();
    const qty = eq === -1 ? '100' : value.slice(eq + 1).trim();
    if (sku === '' || !/^\d+$/.test(qty)) throw new UsageError(`--sku ${JSON.stringify(value)}: write <SKU> or <SKU>=<whole quantity>`);
    skus[sku] = Number(qty);
  }
  return skus;
}

function parsePort(raw: string): number {
  const port = Number(raw);
  if (!/^\d+$/.test(raw) || port > 65535) throw new UsageError(`--port must be a TCP port, 0..65535 (got ${JSON.stringify(raw)})`);
  return port;
}

/**
 * The config, with secret references the environment does not resolve filled with placeholders: the
 * simulators replace every channel's options, so a config whose secrets live elsewhere still simulates.
 */
async function loadConfigWithoutSecrets(file: string, env: NodeJS.ProcessEnv): Promise<LoadedConfig> {
  try {
    return await loadConfig(file, env);
  } catch (err) {
    if (!(err instanceof ConfigError) || !isStockrelayError(err) || err.code !== ErrorCodes.CONFIG_SECRET_MISSING) throw err;
    const placeholders = new Proxy(env, { get: (target, name) => (typeof name === 'string' ? (target[name] ?? `unset-${name}`) : undefined) });
    return await loadConfig(file, placeholders).catch(() => {
      throw err;
    });
  }
}

function stopSignal(external: AbortSignal | undefined): { signal: AbortSignal; dispose(): void } {
  if (external) return { signal: external, dispose() {} };
  const controller = new AbortController();
  const stop = (): void => controller.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return {
    signal: controller.signal,
    dispose() {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
    },
  };
}
