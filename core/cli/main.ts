import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { NatsBus } from '../bus/nats-bus.ts';
import { loadConfig } from '../config/load-config.ts';
import { formatProblems } from '../config/format-problems.ts';
import { describeError, ConfigError, isStockrelayError, UsageError } from '../internal.ts';
import type { EventType, InventoryEvent } from '../events/event-types.ts';
import { parseEvent } from '../events/validate-event.ts';
import { Hub } from '../hub.ts';
import { manualEvent, parseLines } from './event-input.ts';
import { redactingOutput } from './redacting-output.ts';

const USAGE = `stockrelay — keeps one seller's stock true on every sales channel

Usage:
  stockrelay start --config <file> [--port <n>]       run the hub (--port or STOCKRELAY_HTTP_PORT: this
                                                      process's HTTP port, for several hubs on one config)
  stockrelay validate <file>                          check a config (and its connectors' options)
  stockrelay demo [--config <file>] [--duration <s>] [--rate <orders/s>]
                                                      hub + simulated channels + live orders
  stockrelay publish --config <file> [<event.json>|-] publish events (one object, an array, or NDJSON)
  stockrelay order --config <file> --line SKU:QTY [--line ...] [--channel <id>] [--id <event id>] [--cancel]
  stockrelay stock set SKU QTY --config <file>        set the absolute count
  stockrelay stock adjust SKU DELTA --config <file>   add or remove units
  stockrelay stock get SKU [SKU...] --config <file> [--json]
                                                      ledger quantity and every channel's shown quantity
  stockrelay import --config <file> --channel <id> [--mapping-file <file>] [--seed-ledger] [--dry-run] [--json]
                                                      read a channel's listings and write its SKU map (onboarding);
                                                      --seed-ledger takes its quantities as the starting counts
  stockrelay why <channel> <sku> --config <file> [--json]
  stockrelay reconcile --config <file> [--channel <id>] [--dry-run] [--json]   read every SKU back now; list drift, or push it away
                                                      why the channel shows what it shows (audit trail)
  stockrelay dead-letters list|show|replay|discard --config <file> [--hub <url> --token <t>]
                                                      inspect, replay or discard dead letters
  stockrelay mcp --config <file> [--hub <url>]        MCP server on stdio for AI agents (stock, why, channel
                                                      health, alerts, oversells); \`start\` serves it at /mcp too
  stockrelay test-connector <path|package> [--options <file>]
                                                      run the connector conformance suite
  stockrelay simulate --config <file> [--channel <id>] [--fault <kind[:arg]>] | simulate <path|package>
                                                      channel simulators standalone: URLs, connector options,
                                                      faults on demand (--help for all options)
  stockrelay bench --config <file> [--rate <n>] [--duration <s>] [--target-p99 <ms>] [--mode closed|open] [--out <dir>]
                                                      flash-sale load test against simulated channels (--help for all options)
  stockrelay bench-suite [--full] [--compare <previous.json>] [--out <dir>]
                                                      micro-benchmarks and the flash-40 reference scenario
  stockrelay sweep [--short] [--runs <n>] [--seed <n>] [--out <dir>]
                                                      crash-and-fault sweep: kills, restarts, outages, invariants
`;

type Out = (line: string) => void;

/** Runs one CLI command and returns the exit code. */
export async function main(argv: readonly string[], out: Out = (l) => process.stdout.write(`${l}\n`), err: Out = (l) => process.stderr.write(`${l}\n`)): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'start':
        return await start(rest, err);
      case 'validate': {
        const file = rest[0];
        if (!file) throw new UsageError('validate: name the config file: stockrelay validate <file>');
        const { runValidate } = await import('../config/validate-command.ts');
        return await runValidate(file, out);
      }
      case 'demo': {
        const { runDemo } = await import('./demo.ts');
        return await runDemo(rest, out);
      }
      case 'bench': {
        const { runBench } = await import('./bench-command.ts');
        return await runBench(rest, out);
      }
      case 'bench-suite': {
        const { runBenchSuite } = await import('./bench-suite-command.ts');
        return await runBenchSuite(rest, out);
      }
      case 'sweep': {
        const { runSweepCommand } = await import('./sweep-command.ts');
        return await runSweepCommand(rest, out);
      }
      case 'publish':
        return await publish(rest, out);
      case 'order':
        return await order(rest, out);
      case 'stock':
        return await stock(rest, await redactingOutput(rest, out));
      case 'why': {
        const { runWhy } = await import('./why-command.ts');
        return await runWhy(rest, await redactingOutput(rest, out));
      }
      case 'import': {
        const { runImport } = await import('./import-command.ts');
        return await runImport(rest, await redactingOutput(rest, out));
      }
      case 'reconcile': {
        const { runReconcile } = await import('./reconcile-command.ts');
        return await runReconcile(rest, await redactingOutput(rest, out));
      }
      case 'dead-letters': {
        const { runDeadLetters } = await import('./dead-letters-command.ts');
        return await runDeadLetters(rest, await redactingOutput(rest, out));
      }
      case 'simulate': {
        const { runSimulate } = await import('./simulate-command.ts');
        return await runSimulate(rest, { out: await redactingOutput(rest, out) });
      }
      case 'mcp': {
        const { runMcp } = await import('./mcp-command.ts');
        return await runMcp(rest, err);
      }
      case 'test-connector': {
        const { values, positionals } = parseArgs({ args: [...rest], options: { options: { type: 'string' } }, allowPositionals: true });
        const spec = positionals[0];
        if (!spec) throw new UsageError('test-connector: name the connector: stockrelay test-connector <path|package> [--options <file>]');
        const { runTestConnector } = await import('../tooling/conformance/test-connector-command.ts');
        return await runTestConnector({ spec, optionsFile: values.options, cwd: process.cwd(), out });
      }
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        out(USAGE);
        return command === undefined ? 1 : 0;
      default:
        err(`unknown command "${command}"\n\n${USAGE}`);
        return 2;
    }
  } catch (e) {
    if (e instanceof ConfigError && e.problems.length > 0) err(`${e.message}\n${formatProblems(e.problems)}`);
    else err(isStockrelayError(e) ? `${e.code}: ${e.message}` : `error: ${describeError(e)}`);
    return 1;
  }
}

function configOption(values: { config?: string }): string {
  if (!values.config) throw new UsageError('--config <file> is required');
  return values.config;
}

async function start(args: readonly string[], err: Out): Promise<number> {
  const { values } = parseArgs({ args: [...args], options: { config: { type: 'string', short: 'c' }, port: { type: 'string' } } });
  const loaded = await loadConfig(configOption(values));
  // Several hubs may run on one config: each process gets its own HTTP port from --port or the
  // environment, the config's http.port being the default.
  const port = httpPortOverride(values.port, process.env.STOCKRELAY_HTTP_PORT);
  let hub: Hub;
  try {
    hub = await Hub.start(loaded, port !== undefined ? { httpPort: port } : {});
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      const taken = port ?? loaded.config.http.port;
      throw new ConfigError(`HTTP port ${taken} is in use (another hub on this config?): give each hub process its own port with --port <n> or STOCKRELAY_HTTP_PORT=<n>`, [], undefined, { cause: e });
    }
    throw e;
  }
  err(`stockrelay listening on ${hub.url} with ${hub.dispatchers.size} channel(s)`);
  await new Promise<void>((resolve) => {
    const stop = (): void => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await hub.stop();
  return 0;
}

/** The HTTP port a `start` was given (`--port` first, then STOCKRELAY_HTTP_PORT), or undefined for the config's. */
export function httpPortOverride(flag: string | undefined, env: string | undefined): number | undefined {
  const [source, raw] = flag !== undefined ? ['--port', flag] : env !== undefined && env !== '' ? ['STOCKRELAY_HTTP_PORT', env] : [undefined, undefined];
  if (source === undefined) return undefined;
  const port = Number(raw);
  if (!/^\d+$/.test(raw) || !Number.isInteger(port) || port > 65535) throw new UsageError(`${source} must be a TCP port, 0..65535 (got ${JSON.stringify(raw)})`);
  return port;
}

async function withBus<T>(configFile: string, run: (bus: NatsBus) => Promise<T>): Promise<T> {
  const loaded = await loadConfig(configFile);
  const bus = await NatsBus.connect(loaded.config.nats, 'stockrelay-cli');
  try {
    await bus.ensureTopology();
    return await run(bus);
  } finally {
    await bus.close();
  }
}

async function publishAll(configFile: string, events: InventoryEvent[], out: Out): Promise<number> {
  return withBus(configFile, async (bus) => {
    for (const event of events) {
      const ack = await bus.publishEvent(event);
      out(`${event.id}  ${ack.duplicate ? 'duplicate (already in the stream)' : `stored as #${ack.seq}`}`);
    }
    return 0;
  });
}

async function publish(args: readonly string[], out: Out): Promise<number> {
  const { values, positionals } = parseArgs({ args: [...args], options: { config: { type: 'string', short: 'c' } }, allowPositionals: true });
  const source = positionals[0] ?? '-';
  const text = source === '-' ? await readStdin() : await readFile(source, 'utf8');
  const trimmed = text.trim();
  let items: unknown[];
  if (trimmed.startsWith('[')) items = JSON.parse(trimmed) as unknown[];
  else if (trimmed.startsWith('{') && !trimmed.includes('\n{')) items = [JSON.parse(trimmed)];
  else items = trimmed.split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as unknown);
  const events: InventoryEvent[] = [];
  const problems: string[] = [];
  items.forEach((item, index) => {
    const parsed = parseEvent(JSON.stringify(item));
    if (parsed.ok) events.push(parsed.event);
    else problems.push(`event #${index + 1}: ${parsed.reason}`);
  });
  // Refuse the whole file when any event is invalid: half a correction file is worse than none.
  if (problems.length > 0) throw new ConfigError(`nothing published:\n${problems.join('\n')}`);
  return publishAll(configOption(values), events, out);
}

async function order(args: readonly string[], out: Out): Promise<number> {
  const { values } = parseArgs({
    args: [...args],
    options: { config: { type: 'string', short: 'c' }, line: { type: 'string', multiple: true }, channel: { type: 'string' }, id: { type: 'string' }, cancel: { type: 'boolean' } },
  });
  const lines = parseLines(values.line ?? [], 'qty');
  if (lines.length === 0) throw new UsageError('order: give at least one --line SKU:QTY');
  const event = manualEvent(values.cancel ? 'order.cancelled' : 'order.confirmed', lines, { id: values.id, channel: values.channel });
  return publishAll(configOption(values), [checked(event)], out);
}

async function stock(args: readonly string[], out: Out): Promise<number> {
  const [verb, ...rest] = args;
  if (verb === 'get') {
    const { runStockGet } = await import('./stock-get-command.ts');
    return runStockGet(rest, out);
  }
  // `stock adjust SKU -3`: a negative amount is a value, not an option.
  const negative = (arg: string): boolean => /^-\d+$/.test(arg);
  const argv = [...rest.filter((a) => !negative(a)), '--', ...rest.filter(negative)];
  const { values, positionals } = parseArgs({ args: argv, options: { config: { type: 'string', short: 'c' }, id: { type: 'string' } }, allowPositionals: true });
  const [sku, amount] = positionals;
  const types: Record<string, EventType> = { set: 'stock.set', adjust: 'stock.adjusted' };
  const type = verb ? types[verb] : undefined;
  if (!type || !sku || amount === undefined) throw new UsageError('usage: stockrelay stock set|adjust SKU AMOUNT --config <file>, or stock get SKU [SKU...] --config <file>');
  const lines = parseLines([`${sku}:${amount}`], type === 'stock.set' ? 'quantity' : 'delta');
  return publishAll(configOption(values), [checked(manualEvent(type, lines, { id: values.id }))], out);
}

function checked(event: InventoryEvent): InventoryEvent {
  const parsed = parseEvent(JSON.stringify(event));
  if (!parsed.ok) throw new ConfigError(parsed.reason, parsed.problems);
  return parsed.event;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

