import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import type { InventoryEvent } from '../events/event-types.ts';
import { deepFreeze } from '../config/deep-freeze.ts';
import { loadConfig } from '../config/load-config.ts';
import { dropDatabase, withDatabaseName } from '../ledger/database.ts';
import { shownQuantity } from '../dispatch/dispatch-types.ts';
import { UsageError } from '../internal.ts';
import { Hub } from '../hub.ts';
import { formatCount, formatMs, formatRate } from '../human-format.ts';
import { LagWindow } from '../metrics/lag-window.ts';
import { createLogger } from '../logger.ts';
import { natsAnswers, startPrivateNatsServer } from '../tooling/simulation/private-nats-server.ts';
import { startSimulatedChannels } from '../tooling/simulation/simulated-channels.ts';
import type { HubConfig, LoadedConfig } from '../config/config-types.ts';
import { zipfPicker } from '../tooling/simulation/zipf.ts';
import { untilAborted } from '../until-aborted.ts';

const DEFAULT_CONFIG = new URL('../../config/demo.json', import.meta.url).pathname;

/**
 * The live demo: the real hub on NATS JetStream and a ledger database, every channel of the config
 * swapped for its simulator, and a steady stream of shoppers buying on the channels (through their
 * webhooks). Prints per-channel sync lag every second and a summary at the end.
 *
 * It needs nothing running: without a database URL in the config the ledger is PGlite in a throw-away
 * folder, and when no NATS answers at the configured address it starts a private nats-server.
 */
export async function runDemo(args: readonly string[], out: (line: string) => void): Promise<number> {
  const { values } = parseArgs({
    args: [...args],
    options: {
      config: { type: 'string', short: 'c' },
      duration: { type: 'string' },
      rate: { type: 'string' },
      skus: { type: 'string' },
      stock: { type: 'string' },
    },
  });
  const durationS = values.duration !== undefined ? Number(values.duration) : Infinity;
  const rate = Number(values.rate ?? 6);
  const skuCount = Number(values.skus ?? 40);
  const startStock = Number(values.stock ?? 60);
  if (!(durationS > 0) || !(rate > 0) || !(skuCount > 0) || !(startStock >= 0)) throw new UsageError('demo: --duration, --rate, --skus and --stock must be positive numbers');

  const loaded = await loadConfig(values.config ?? DEFAULT_CONFIG);
  const runId = randomUUID().slice(0, 8);
  // Everything the run starts is undone in reverse order, on a normal end, an error or a signal.
  const cleanups: Array<() => Promise<void>> = [];
  const stop = new AbortController();
  const onSignal = (): void => {
    // A second Ctrl-C means "now": the exit hooks still stop a private nats-server and remove its folder.
    if (stop.signal.aborted) process.exit(130);
    stop.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const config = await demoConfig(loaded.config, runId, out, cleanups);
    if (stop.signal.aborted) return 130;
    return await runLoad({ ...loaded, config }, { runId, durationS, rate, skuCount, startStock, stop: stop.signal }, out, cleanups);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  }
}

/**
 * The config the demo runs on: a ledger of its own (a fresh Postgres database when the config names one,
 * else PGlite in a throw-away folder), and the configured NATS, or a private nats-server when none answers.
 */
async function demoConfig(config: HubConfig, runId: string, out: (line: string) => void, cleanups: Array<() => Promise<void>>): Promise<HubConfig> {
  // Every run gets a ledger of its own: the simulated channels start empty each time, so channel
  // state remembered from an earlier run would claim pushes these channels never received.
  let database: HubConfig['database'];
  if (config.database.url) {
    const url = withDatabaseName(config.database.url, `${new URL(config.database.url).pathname.slice(1)}_${runId}`);
    cleanups.push(() => dropDatabase(url));
    database = { ...config.database, url };
  } else {
    const dataDir = await mkdtemp(join(tmpdir(), 'stockrelay-demo-ledger-'));
    const removeAtExit = (): void => rmSync(dataDir, { recursive: true, force: true });
    process.on('exit', removeAtExit);
    cleanups.push(async () => {
      process.off('exit', removeAtExit);
      await rm(dataDir, { recursive: true, force: true });
    });
    database = { ...config.database, dataDir };
    out(`ledger: embedded PGlite in ${dataDir} (removed at exit)`);
  }
  let nats = config.nats;
  if (!(await natsAnswers(config.nats.servers))) {
    out(`no NATS answers at ${config.nats.servers.join(', ')}: starting a private nats-server with JetStream`);
    const server = await startPrivateNatsServer();
    cleanups.push(() => server.stop());
    nats = { ...config.nats, servers: [server.url] };
    out(`nats: private nats-server (pid ${server.pid}) on ${server.url}, store in ${server.storeDir} (stopped and removed at exit)`);
  }
  return deepFreeze({ ...config, database, nats });
}

interface LoadOptions {
  runId: string;
  durationS: number;
  rate: number;
  skuCount: number;
  startStock: number;
  /** Aborted by Ctrl-C or SIGTERM: the load stops, the channels catch up and the summary prints. */
  stop: AbortSignal;
}

async function runLoad(base: LoadedConfig, opts: LoadOptions, out: (line: string) => void, cleanups: Array<() => Promise<void>>): Promise<number> {
  const { runId, durationS, rate, skuCount, startStock } = opts;
  const skus = Array.from({ length: skuCount }, (_, i) => `DEMO-${String(i + 1).padStart(3, '0')}`);
  const simulated = await startSimulatedChannels(base, {
    skus: Object.fromEntries(skus.map((s) => [s, 0])),
    simulator: (channel) => ({
      latency: { p50: 40, p99: 250 },
      // The simulated API enforces the same rate the channel is configured for.
      ...(channel.limits.perSecond ? { rateLimit: { perSecond: channel.limits.perSecond, burst: channel.limits.burst ?? channel.limits.perSecond } } : {}),
    }),
  });
  cleanups.push(() => simulated.close());
  const logger = createLogger({ component: 'hub' }, process.env.STOCKRELAY_LOG ?? 'warn');
  const hub = await Hub.start(simulated.loaded, { logger });
  cleanups.push(() => hub.stop());
  if (opts.stop.aborted) return 130;
  for (const { channel, simulator } of simulated.channels) simulator.setWebhookTarget?.(`${hub.url}/webhooks/${channel.id}`);
  out(`stockrelay demo: hub on ${hub.url}, ${simulated.channels.length} simulated channels, ${formatCount(skuCount)} SKUs, ~${formatRate(rate, 'orders')}`);
  const token = base.config.http.tokens.find((t) => t.scope === 'read' || t.scope === 'admin')?.token;
  out(`  dashboard ${hub.url}/dashboard${token ? ` (token: ${token})` : ''} · metrics ${hub.url}/metrics`);

  const seed: InventoryEvent = { id: `demo:${runId}:seed`, type: 'stock.set', channel: 'demo', occurredAt: new Date().toISOString(), lines: skus.map((sku) => ({ sku, quantity: startStock })) };
  await hub.publish(seed);
  out(`seeding ${skuCount} SKUs × ${startStock} units on every channel…`);
  const seeded = AbortSignal.timeout(60_000);
  while (!(await hub.ledger.isProcessed(seed.id)) && !seeded.aborted && !opts.stop.aborted) await new Promise((r) => setTimeout(r, 50));
  if (opts.stop.aborted) return 130;
  await hub.idle(seeded);
  // The live figures describe the order stream, not the initial fill of empty channels.
  for (const id of hub.metrics.recentLag.keys()) hub.metrics.recentLag.set(id, new LagWindow());

  let oversoldLines = 0;
  let oversoldUnits = 0;
  // Shoppers' orders the ledger has committed: the summary waits for every placed order before it compares.
  let ordersCommitted = 0;
  hub.onChange((_changes, outcomes) => {
    for (const outcome of outcomes) {
      if (outcome.status === 'applied' && !outcome.eventId.startsWith(`demo:${runId}:`)) ordersCommitted += 1;
      for (const o of outcome.oversells) {
        oversoldLines += 1;
        oversoldUnits += o.shortfall;
      }
    }
  });
  const pick = zipfPicker(skus.length);
  let placed = 0;
  let failed = 0;
  let refused = 0;
  let restocks = 0;
  let stopping = false;
  const started = Date.now();
  const sellers = simulated.channels.filter((c) => c.simulator.placeOrder);

  const placeOne = async (): Promise<void> => {
    const seller = sellers[Math.floor(Math.random() * sellers.length)]!;
    const sku = skus[pick()]!;
    const qty = Math.random() < 0.8 ? 1 : 2;
    // A shopper only buys what the channel shows: oversells come from channels that lag.
    if ((seller.simulator.shown(sku) ?? 0) < qty) {
      refused += 1;
      if (refused % 25 === 0) {
        restocks += 1;
        await hub.publish({ id: `demo:${runId}:restock:${restocks}`, type: 'stock.adjusted', channel: 'warehouse', occurredAt: new Date().toISOString(), lines: [{ sku, delta: 40 }] });
      }
      return;
    }
    placed += 1;
    try {
      await seller.simulator.placeOrder!([{ sku, qty }]);
    } catch (err) {
      failed += 1;
      throw err;
    }
  };
  // Orders still on their way to the hub when the load stops: the summary waits for them.
  const inFlight = new Set<Promise<void>>();

  const loadTimer = setInterval(() => {
    if (stopping) return;
    const perTick = rate / 10;
    const count = Math.floor(perTick) + (Math.random() < perTick % 1 ? 1 : 0);
    for (let i = 0; i < count; i++) {
      const order = placeOne().catch((err: unknown) => logger.warn('demo order failed', { error: String(err) }));
      inFlight.add(order);
      void order.finally(() => inFlight.delete(order));
    }
  }, 100);

  const printTable = (): void => {
    out(`\n[${formatMs(Math.round((Date.now() - started) / 1000) * 1000)}] orders placed ${formatCount(placed)}, refused (channel showed too few) ${formatCount(refused)}, restocks ${formatCount(restocks)}, backlog ${formatCount(hub.backlog())}`);
    out(`${'channel'.padEnd(16)} ${'lag p50'.padStart(8)} ${'lag p99'.padStart(8)} ${'samples'.padStart(8)} ${'pending'.padStart(8)} ${'429s'.padStart(6)} ${'dead'.padStart(5)}`);
    for (const { channel, simulator } of simulated.channels) {
      const window = hub.metrics.recentLag.get(channel.id);
      const snap = hub.dispatchers.get(channel.id)?.snapshot();
      out(`${channel.id.padEnd(16)} ${formatMs(window?.quantile(0.5)).padStart(8)} ${formatMs(window?.quantile(0.99)).padStart(8)} ${formatCount(window?.count() ?? 0).padStart(8)} ${formatCount(snap?.pending ?? 0).padStart(8)} ${formatCount(simulator.stats().throttled ?? 0).padStart(6)} ${formatCount(snap?.deadLettered ?? 0).padStart(5)}`);
    }
  };
  const tableTimer = setInterval(printTable, 1000);

  await new Promise<void>((resolve) => {
    if (opts.stop.aborted) return resolve();
    opts.stop.addEventListener('abort', () => resolve(), { once: true });
    if (Number.isFinite(durationS)) setTimeout(resolve, durationS * 1000).unref();
  });
  stopping = true;
  clearInterval(loadTimer);
  clearInterval(tableTimer);
  out('\nstopping the load; letting every channel catch up…');
  const settle = AbortSignal.timeout(15_000);
  // Every order delivered to the hub and committed, then every channel level with the ledger (or the timeout):
  // an order whose webhook is still on its way has lowered its channel but not yet the ledger.
  await untilAborted(Promise.allSettled([...inFlight]), settle).catch(() => undefined);
  while (!settle.aborted && (hub.backlog() > 0 || ordersCommitted + failed < placed)) await delay(50);
  const measure = async (): Promise<{ converged: number; total: number }> => {
    const levels = await hub.ledger.getLevels(skus);
    let converged = 0;
    let total = 0;
    for (const { channel, simulator } of simulated.channels) {
      for (const sku of skus) {
        total += 1;
        if (simulator.shown(sku) === shownQuantity(channel.rules, levels.get(sku)?.available ?? 0)) converged += 1;
      }
    }
    return { converged, total };
  };
  let { converged, total } = await measure();
  while (converged < total && !settle.aborted) {
    await hub.idle(settle).catch(() => undefined);
    ({ converged, total } = await measure());
    if (converged < total) await delay(250);
  }
  printTable();
  out(`\nsummary: ${formatCount(placed)} orders in ${formatMs(Date.now() - started)}; ${formatCount(oversoldLines)} oversold line(s) (${formatCount(oversoldUnits)} units); convergence ${converged}/${total} channel×SKU pairs equal the ledger`);
  return converged === total ? 0 : 1;
}
