import { randomUUID } from 'node:crypto';
import { cpus, totalmem } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { LoadedConfig } from '../../config/config-types.ts';
import { deepFreeze } from '../../config/deep-freeze.ts';
import { shownQuantity, type DispatchSkuStatus } from '../../dispatch/dispatch-types.ts';
import { describeError } from '../../errors.ts';
import type { InventoryEvent, OrderLine } from '../../events/event-types.ts';
import { Hub } from '../../hub.ts';
import type { EventOutcome, LedgerChange } from '../../ledger/ledger-types.ts';
import { formatMs } from '../../human-format.ts';
import { createLogger } from '../../logger.ts';
import type { Logger } from '../../sdk.ts';
import { startSimulatedChannels } from '../simulation/simulated-channels.ts';
import { isolateConfig } from './bench-environment.ts';
import { FirstPassFloor, type ChannelPace } from './lag-floor.ts';
import { LagHistogram } from './lag-histogram.ts';
import { busyShare, CLOCK_TICKS, machineCpuTimes, processCpuTimes } from './machine-cpu.ts';
import { DEFAULT_SCENARIO, LAG_EDGES_MS, type ChannelResult, type ScenarioOptions, type ScenarioProgress, type ScenarioResult } from './scenario-types.ts';
import type { ChannelConfig, ChannelRules, HubConfig } from '../../config/config-types.ts';
import type { SimulatorHandle } from '../../sdk.ts';
import { startChannelThread, type ChannelShopperTally, type ChannelThread, type ShelfBatch } from './channel-thread.ts';
import { channelClass } from './channel-class.ts';
import { checkSellerGoals } from './seller-goals.ts';
import { groupByClass, shelfFigures } from './shelf-figures.ts';
import { ShelfRecorder, type ShelfSource } from './shelf-recorder.ts';
import { zipfPicker } from '../simulation/zipf.ts';
import { startShopperThread, type ShopperTally, type ShopperThread } from './shopper-thread.ts';
import { paceOrders } from './order-pacing.ts';

export interface RunScenarioHooks {
  /** Called about twice a second and once per phase change. */
  onProgress?(progress: ScenarioProgress): void;
  /** The hub's logger. Default: errors only, so a flash sale's oversell warnings do not flood the terminal. */
  logger?: Logger;
  /**
   * Source of randomness for shoppers. Default `Math.random`. Without channels the shoppers run in a thread
   * of their own, which cannot call this function: there `seed` picks their choices instead.
   */
  random?: () => number;
  /** Seed of the shoppers' choices in their own thread (the ledger alone). Default: `Math.random`. */
  seed?: number;
  /** Name written into the result. Default: the config file's name. */
  name?: string;
}

/**
 * One simulated channel as the bench measures it: `view` answers what it shows (the simulator itself, or its
 * mirror when the channels run in a thread of their own); `simulator` is there only when it runs beside the hub.
 */
interface BenchChannel {
  channel: ChannelConfig;
  connector: string;
  view: ShelfSource;
  simulator: SimulatorHandle | null;
}

/** Where the bench's measurements of one channel accumulate. */
interface ChannelTally {
  sim: BenchChannel | null;
  id: string;
  lag: LagHistogram;
  overhead: LagHistogram;
  ttz: LagHistogram;
  /** Event → commit of the orders placed on this channel: how fast the channel's order path delivers. */
  commit: LagHistogram;
  /** SKU → epoch ms the ledger reached zero, while this channel has not shown zero yet. */
  pendingZero: Map<string, number>;
  zeroSuperseded: number;
  ordersPlaced: number;
  unitsSold: number;
  oversoldUnits: number;
  hubThrottles: number;
  retries: number;
  deadLetters: number;
}

/** The servers on the box whose CPU a run reports next to its own. */
const SERVER_PROCESSES = ['nats-server', 'postgres'];

function serverCores(from: Map<string, number> | null, to: Map<string, number> | null, seconds: number): Record<string, number> | null {
  if (!from || !to || seconds <= 0) return null;
  const out: Record<string, number> = {};
  for (const [name, end] of to) out[name] = Math.max(0, Math.round(((end - (from.get(name) ?? 0)) / CLOCK_TICKS / seconds) * 100) / 100);
  return out;
}

/** A machine busier than this before a run is running someone else's work. */
const QUIET_BELOW = 0.3;

/** The channel id orders carry when the scenario runs without channels (ledger alone). */
const LEDGER_ONLY_CHANNEL = 'bench-shop';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Runs one flash-sale scenario through the real hub, NATS and Postgres with every channel of `loaded`
 * swapped for its simulator, on a database and streams of its own. Shoppers arrive at `rate` orders/s,
 * pick SKUs by a Zipf law and (closed loop) buy only what their channel shows. Measures per channel what
 * a seller cares about and returns it; never throws for a missed target, only for a broken setup.
 */
export async function runScenario(loaded: LoadedConfig, partial: Partial<ScenarioOptions> = {}, hooks: RunScenarioHooks = {}): Promise<ScenarioResult> {
  const options: ScenarioOptions = { ...DEFAULT_SCENARIO, ...partial, latency: { ...DEFAULT_SCENARIO.latency, ...partial.latency } };
  validateOptions(options);
  const random = hooks.random ?? Math.random;
  const runId = `${Date.now().toString(36)}${randomUUID().slice(0, 6)}`;
  const reserve = options.reserve;
  const base: LoadedConfig =
    reserve === null ? loaded : { ...loaded, config: deepFreeze({ ...loaded.config, channels: loaded.config.channels.map((c) => ({ ...c, rules: { ...c.rules, reserve } })) }) };
  const env = isolateConfig(base, runId);
  const skus = Array.from({ length: options.skus }, (_, i) => `BENCH-${String(i + 1).padStart(4, '0')}`);
  const startedAt = new Date();
  const progress = (p: Omit<ScenarioProgress, 'durationS'>): void => hooks.onProgress?.({ ...p, durationS: options.durationS });

  // What else keeps the machine busy before the run starts: figures from a shared box need this to be read.
  // With `quietWaitMs`, wait (that long at most) for a second in which the box is mostly idle.
  let backgroundCpuBusy: number | null = null;
  const quietUntil = Date.now() + options.quietWaitMs;
  do {
    const idleFrom = machineCpuTimes();
    await sleep(1_000);
    backgroundCpuBusy = busyShare(idleFrom, machineCpuTimes());
  } while (backgroundCpuBusy !== null && backgroundCpuBusy > QUIET_BELOW && Date.now() < quietUntil);

  const channels = await startChannels(env.loaded, skus, options);
  let hub: Hub | undefined;
  try {
    hub = await Hub.start(channels.loaded, { logger: hooks.logger ?? createLogger({ component: 'hub' }, process.env.STOCKRELAY_LOG ?? 'error'), processMetrics: false, httpPort: 0 });
    const hubUrl = hub.url;
    for (const { channel, simulator } of channels.channels) simulator?.setWebhookTarget?.(`${hubUrl}/webhooks/${channel.id}`);
    channels.thread?.setWebhookTargets(Object.fromEntries(channels.channels.map((c) => [c.channel.id, `${hubUrl}/webhooks/${c.channel.id}`])));
    return await drive(hub, channels.channels, channels.thread, skus, options, random, progress, {
      seed: hooks.seed,
      name: hooks.name ?? loaded.path.split('/').pop()?.replace(/\.json$/, '') ?? 'scenario',
      configPath: loaded.path,
      // Phantom and hidden stock are judged against the config's own rules: a `--reserve` override is a cost it shows.
      rules: new Map(loaded.config.channels.map((c) => [c.id, c.rules])),
      startedAt,
      runId,
      backgroundCpuBusy,
    });
  } finally {
    await hub?.stop().catch(() => undefined);
    await channels.close();
    if (options.cleanup) await env.destroy();
  }
}

/**
 * Starts every channel's simulator. Through webhooks the simulators and the shoppers who buy through them run
 * in a thread of their own (serving HTTP and signing webhooks costs a busy event loop as much as the hub's own
 * work); on the publish path, or when a simulator cannot deliver webhooks, they run beside the hub.
 */
async function startChannels(
  loaded: LoadedConfig,
  skus: readonly string[],
  options: ScenarioOptions,
): Promise<{ loaded: LoadedConfig; channels: BenchChannel[]; thread: ChannelThread | null; close(): Promise<void> }> {
  const enabled = loaded.config.channels.filter((c) => c.enabled);
  if (options.path === 'webhook' && enabled.length > 0) {
    const thread = startChannelThread({ loaded, skus, latency: options.latency });
    const infos = await thread.ready.catch(async (err: unknown) => {
      await thread.close();
      throw err;
    });
    if (infos.every((i) => i.webhooks)) {
      const byId = new Map(infos.map((i) => [i.id, i]));
      const config: HubConfig = { ...loaded.config, channels: loaded.config.channels.map((c) => (byId.has(c.id) ? { ...c, options: byId.get(c.id)!.connectorOptions } : c)) };
      const channels = infos.map((info): BenchChannel => {
        const mirror = thread.mirrors.get(info.id)!;
        // Without a write log the recorder takes a write's time from the hub's confirmation, reading the mirror.
        const view: ShelfSource = info.writeLog ? mirror : { shown: (sku) => mirror.shown(sku) };
        return { channel: enabled.find((c) => c.id === info.id)!, connector: info.connector, view, simulator: null };
      });
      return { loaded: { ...loaded, config: deepFreeze(config) }, channels, thread, close: () => thread.close() };
    }
    await thread.close();
  }
  const simulated = await startSimulatedChannels(loaded, {
    skus: Object.fromEntries(skus.map((s) => [s, 0])),
    simulator: (channel) => ({
      latency: options.latency,
      // The simulated API enforces the rate the channel is configured for, so throttles mean the hub misjudged it.
      ...(channel.limits.perSecond ? { rateLimit: { perSecond: channel.limits.perSecond, burst: channel.limits.burst ?? channel.limits.perSecond } } : {}),
    }),
  });
  return {
    loaded: simulated.loaded,
    channels: simulated.channels.map((c) => ({ channel: c.channel, connector: c.definition.name, view: c.simulator, simulator: c.simulator })),
    thread: null,
    close: () => simulated.close(),
  };
}

function validateOptions(o: ScenarioOptions): void {
  const problems: string[] = [];
  if (!(o.rate > 0)) problems.push('rate must be > 0');
  if (!(o.durationS > 0)) problems.push('duration must be > 0');
  if (!Number.isInteger(o.skus) || o.skus < 1) problems.push('skus must be a positive integer');
  if (!(o.stock >= 0)) problems.push('stock must be >= 0');
  if (!Number.isInteger(o.maxLines) || o.maxLines < 1) problems.push('maxLines must be a positive integer');
  if (!(o.latency.p50 >= 0) || !(o.latency.p99 >= o.latency.p50)) problems.push('latency needs 0 <= p50 <= p99');
  if (!(o.targetP99Ms > 0)) problems.push('target p99 must be > 0');
  if (o.reserve !== null && !(Number.isInteger(o.reserve) && o.reserve >= 0)) problems.push('reserve must be a non-negative integer');
  if (problems.length > 0) throw new RangeError(`bench: ${problems.join('; ')}`);
}

async function drive(
  hub: Hub,
  channels: readonly BenchChannel[],
  thread: ChannelThread | null,
  skus: readonly string[],
  options: ScenarioOptions,
  random: () => number,
  progress: (p: Omit<ScenarioProgress, 'durationS'>) => void,
  meta: { seed: number | undefined; name: string; configPath: string; rules: ReadonlyMap<string, ChannelRules>; startedAt: Date; runId: string; backgroundCpuBusy: number | null },
): Promise<ScenarioResult> {
  const tallies = new Map<string, ChannelTally>();
  const newTally = (id: string, sim: BenchChannel | null): ChannelTally => ({
    sim,
    id,
    lag: new LagHistogram(),
    overhead: new LagHistogram(),
    ttz: new LagHistogram(),
    commit: new LagHistogram(),
    pendingZero: new Map(),
    zeroSuperseded: 0,
    ordersPlaced: 0,
    unitsSold: 0,
    oversoldUnits: 0,
    hubThrottles: 0,
    retries: 0,
    deadLetters: 0,
  });
  for (const sim of channels) tallies.set(sim.channel.id, newTally(sim.channel.id, sim));
  const sellers = [...tallies.values()];
  const ledgerOnly = sellers.length === 0;
  const orphan = newTally(LEDGER_ONLY_CHANNEL, null);

  // --- seed: every SKU gets its starting stock and every channel shows it before the clock starts ---
  progress({ phase: 'seeding', elapsedS: 0, ordersPlaced: 0, ordersCommitted: 0, backlog: 0, lagP99: null, commitP99: null });
  await hub.publish({ id: `bench:${meta.runId}:seed`, type: 'stock.set', channel: 'bench', occurredAt: new Date().toISOString(), lines: skus.map((sku) => ({ sku, quantity: options.stock })) });
  // One-SKU-per-call channels take a while to show 200 SKUs (40 s at 5 calls/s): figures measured while they still
  // seed would count that as lag, phantom and hidden stock.
  const seedDeadline = AbortSignal.timeout(Math.max(60_000, options.settleTimeoutMs));
  while (!seedDeadline.aborted && !(await hub.ledger.getLevel(skus[0]!))) await sleep(50);
  await hub.idle(seedDeadline).catch(() => undefined);

  // --- measurement hooks ---
  const overallLag = new LagHistogram();
  const commitLag = new LagHistogram();
  let ordersCommitted = 0;
  let linesCommitted = 0;
  let oversoldUnits = 0;
  let loadOver = false;
  /** The shelf recorder has started: sales from the channels' thread count from now. */
  let measuring = false;
  const restockTimers = new Map<string, NodeJS.Timeout>();
  let restocks = 0;
  /** Units restocked and units oversold per SKU: with the units sold, what the ledger must end at. */
  const restockedBySku = new Map<string, number>();
  const oversoldBySku = new Map<string, number>();
  let restockFailed = false;
  let changedThisSecond = new Set<string>();
  const changedPerSecond: number[] = [];
  const shelf = new ShelfRecorder(skus, new Map(channels.map((c) => [c.channel.id, c.view])));
  /** Units shoppers bought per SKU during the load, over every channel: the sales rates of the hidden-units bound. */
  const unitsBySku = new Map<string, number>();
  /** Every ledger change of the run, for the least sync lag each channel's pace allows (see lag-floor.ts). */
  const lagFloor = new FirstPassFloor();

  const untap = hub.metrics.tap({
    confirmed(channelId, sku, lagMs, callMs) {
      const t = tallies.get(channelId);
      if (!t) return;
      shelf.confirmed(channelId, sku, Date.now());
      for (const lag of lagMs) {
        t.lag.add(lag);
        overallLag.add(lag);
        t.overhead.add(lag - callMs);
      }
      const zeroAt = t.pendingZero.get(sku);
      // In their own thread, channels report when they went to zero (see resolveZeros): more exact than now.
      if (!thread && zeroAt !== undefined && t.sim?.view.shown(sku) === 0) {
        t.ttz.add(Date.now() - zeroAt);
        t.pendingZero.delete(sku);
      }
    },
    attempted(channelId, ok) {
      if (!ok) {
        const t = tallies.get(channelId);
        if (t) t.retries += 1;
      }
    },
    throttled(channelId) {
      const t = tallies.get(channelId);
      if (t) t.hubThrottles += 1;
    },
    deadLettered(channelId) {
      const t = tallies.get(channelId);
      if (t) t.deadLetters += 1;
    },
  });

  const restock = (sku: string): void => {
    if (loadOver || options.restockDelayMs <= 0 || restockTimers.has(sku)) return;
    const timer = setTimeout(() => {
      restockTimers.delete(sku);
      if (loadOver) return;
      restocks += 1;
      const event: InventoryEvent = { id: `bench:${meta.runId}:restock:${restocks}`, type: 'stock.adjusted', channel: 'warehouse', occurredAt: new Date().toISOString(), lines: [{ sku, delta: options.restockUnits }] };
      hub.publish(event).then(
        () => restockedBySku.set(sku, (restockedBySku.get(sku) ?? 0) + options.restockUnits),
        () => (restockFailed = true),
      );
    }, options.restockDelayMs);
    restockTimers.set(sku, timer);
  };

  const unlisten = hub.onChange((changes: readonly LedgerChange[], outcomes: readonly EventOutcome[]) => {
    for (const change of changes) {
      shelf.ledger(change.sku, change.available, change.committedAt.getTime());
      lagFloor.change(change.sku, change.occurredAt.getTime(), change.committedAt.getTime());
      if (change.eventType === 'order.confirmed') {
        linesCommitted += 1;
        const ms = change.committedAt.getTime() - change.occurredAt.getTime();
        commitLag.add(ms);
        (tallies.get(change.eventChannel) ?? orphan).commit.add(ms);
      }
      changedThisSecond.add(change.sku);
      if (change.available === 0 && change.before > 0) {
        const zeroAt = change.committedAt.getTime();
        for (const t of sellers) {
          if (!thread && t.sim?.view.shown(change.sku) === 0) t.ttz.add(0);
          else t.pendingZero.set(change.sku, zeroAt);
        }
        restock(change.sku);
      } else if (change.available > 0) {
        for (const t of sellers) if (t.pendingZero.delete(change.sku)) t.zeroSuperseded += 1;
      }
    }
    for (const outcome of outcomes) {
      if (outcome.status !== 'applied' || outcome.eventId.startsWith('bench:')) continue;
      ordersCommitted += 1;
      // A line that finds the SKU already at zero changes no row, so it has no ledger change above;
      // it is still a committed line (recorded as an oversell), as is a line for an unknown SKU.
      linesCommitted += outcome.rejectedLines.length + outcome.oversells.filter((o) => o.availableBefore === 0).length;
      for (const o of outcome.oversells) {
        oversoldUnits += o.shortfall;
        oversoldBySku.set(o.sku, (oversoldBySku.get(o.sku) ?? 0) + o.shortfall);
        const t = tallies.get(o.channel) ?? orphan;
        t.oversoldUnits += o.shortfall;
      }
    }
  });

  // A mirror is exact up to its batch's time: a SKU the ledger zeroed by then, and the channel shows zero, went
  // to zero on the channel when the mirror says (before the ledger did: no wait at all).
  const resolveZeros = (batch: ShelfBatch): void => {
    for (const t of sellers) {
      for (const [sku, zeroAt] of t.pendingZero) {
        if (zeroAt > batch.at) continue;
        const since = thread!.mirrors.get(t.id)?.zeroSince(sku);
        if (since === undefined) continue;
        t.ttz.add(Math.max(0, since - zeroAt));
        t.pendingZero.delete(sku);
      }
    }
  };
  thread?.onShelf((batch) => {
    resolveZeros(batch);
    if (!measuring) return;
    for (const o of batch.observations) if (o.kind === 'sold') shelf.sold(o.channel, o.sku, o.units, o.at);
  });

  // --- load ---
  const pick = zipfPicker(skus.length, options.zipfExponent, random);
  let placed = 0;
  let refused = 0;
  let dropped = 0;
  let failed = 0;
  let inFlight = 0;
  let unitsSold = 0;
  let offered = 0;
  let orderSeq = 0;
  const orderLogger = hub.logger;

  // Without channels nothing the shoppers do depends on this process (no shelf to read or lower): they run in
  // a thread of their own, so the hub's event loop serves the ledger alone and the figure measures the ledger.
  let shoppers: ShopperThread | undefined;
  let shopperTally: ShopperTally | undefined;
  let channelTally: ChannelShopperTally | undefined;
  const placedSoFar = (): number => shoppers?.placed() ?? thread?.placed() ?? placed;

  const placeOne = (): void => {
    offered += 1;
    const tally = ledgerOnly ? orphan : sellers[Math.floor(random() * sellers.length)]!;
    const simulator = tally.sim?.simulator ?? undefined;
    const lineCount = 1 + Math.floor(random() * options.maxLines);
    const lines: OrderLine[] = [];
    for (let i = 0; i < lineCount; i++) {
      const sku = skus[pick()]!;
      if (lines.some((l) => l.sku === sku)) continue;
      const qty = random() < 0.8 ? 1 : 2;
      // A shopper only buys what the channel shows: oversells come from channels that lag.
      if (options.mode === 'closed' && simulator && (simulator.shown(sku) ?? 0) < qty) continue;
      lines.push({ sku, qty });
    }
    if (lines.length === 0) {
      refused += 1;
      return;
    }
    if (inFlight >= options.maxInFlightOrders) {
      dropped += 1;
      return;
    }
    inFlight += 1;
    placed += 1;
    tally.ordersPlaced += 1;
    const units = lines.reduce((a, l) => a + l.qty, 0);
    const soldAt = Date.now();
    for (const l of lines) {
      unitsBySku.set(l.sku, (unitsBySku.get(l.sku) ?? 0) + l.qty);
      if (simulator) shelf.sold(tally.id, l.sku, l.qty, soldAt);
    }
    unitsSold += units;
    tally.unitsSold += units;
    let delivery: Promise<unknown>;
    if (options.path === 'webhook' && simulator?.placeOrder) {
      delivery = simulator.placeOrder(lines);
    } else {
      if (simulator) for (const l of lines) simulator.setShown(l.sku, Math.max(0, (simulator.shown(l.sku) ?? 0) - l.qty));
      orderSeq += 1;
      delivery = hub.publish({ id: `${tally.id}:order:${meta.runId}-${orderSeq}:confirmed`, type: 'order.confirmed', channel: tally.id, occurredAt: new Date().toISOString(), orderId: `${meta.runId}-${orderSeq}`, lines });
    }
    delivery.then(
      () => (inFlight -= 1),
      (err: unknown) => {
        inFlight -= 1;
        failed += 1;
        if (failed <= 5) orderLogger.error('bench: an order did not reach the hub', { channel: tally.id, error: describeError(err) });
      },
    );
  };

  if (ledgerOnly) {
    shoppers = startShopperThread({
      nats: hub.loaded.config.nats,
      channel: LEDGER_ONLY_CHANNEL,
      runId: meta.runId,
      skus,
      rate: options.rate,
      durationMs: options.durationS * 1000,
      maxLines: options.maxLines,
      zipfExponent: options.zipfExponent,
      maxInFlight: options.maxInFlightOrders,
      ...(meta.seed !== undefined ? { seed: meta.seed } : {}),
    });
    await shoppers.started;
  }
  // Whatever shares the hub's event loop (simulators and shoppers, unless in a thread of their own) delays every latency measured here.
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();
  const startLevels = await hub.ledger.getLevels(skus);
  // The mirrors must show what the channels show at the start.
  await thread?.sync();
  shelf.start(Date.now(), new Map([...startLevels].map(([sku, level]) => [sku, level.available])), (channelId, sku) => {
    return inSync(hub.dispatchers.get(channelId)?.skuStatus?.(sku));
  });
  measuring = true;
  const cpuStart = process.cpuUsage();
  const mainLoopStart = performance.eventLoopUtilization();
  const threadLoopStart = thread?.eventLoopUtilization();
  const machineStart = machineCpuTimes();
  const serversStart = processCpuTimes(SERVER_PROCESSES);
  let peakRss = process.memoryUsage().rss;
  const loadStart = performance.now();
  const wallStart = Date.now();
  const loadMs = options.durationS * 1000;
  let loadEnd = loadStart + loadMs;

  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
    changedPerSecond.push(changedThisSecond.size);
    changedThisSecond = new Set();
  }, 1000);
  const rssSampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 250);
  const reporter = setInterval(() => {
    progress({ phase: loadOver ? 'settling' : 'load', elapsedS: (performance.now() - loadStart) / 1000, ordersPlaced: placedSoFar(), ordersCommitted, backlog: hub.backlog(), lagP99: overallLag.quantile(0.99), commitP99: commitLag.quantile(0.99) });
  }, 500);

  if (shoppers) {
    const tally = await shoppers.loadOver;
    placed = tally.placed;
    offered = tally.offered;
    dropped = tally.dropped;
  } else if (thread) {
    thread.startLoad({
      rate: options.rate,
      durationMs: loadMs,
      maxLines: options.maxLines,
      zipfExponent: options.zipfExponent,
      closed: options.mode === 'closed',
      maxInFlight: options.maxInFlightOrders,
      ...(meta.seed !== undefined ? { seed: meta.seed } : {}),
    });
    const tally = await thread.loadOver;
    placed = tally.placed;
    offered = tally.offered;
    dropped = tally.dropped;
    refused = tally.refused;
  } else {
    await paceOrders(options.rate, loadStart, loadEnd, { offered: () => offered, skipTo: (n) => (offered = n), placeOne });
  }
  loadEnd = performance.now();
  const loadEndWall = Date.now();
  const mainThreadBusy = performance.eventLoopUtilization(mainLoopStart).utilization;
  const channelThreadBusy = thread ? thread.eventLoopUtilization(threadLoopStart).utilization : null;
  loadOver = true;
  for (const timer of restockTimers.values()) clearTimeout(timer);
  restockTimers.clear();
  const machineLoadEnd = machineCpuTimes();
  const serversEnd = processCpuTimes(SERVER_PROCESSES);
  const loadSeconds = (loadEnd - loadStart) / 1000;
  const committedDuringLoad = ordersCommitted;
  const linesDuringLoad = linesCommitted;
  const skusChangedPerSecond = changedPerSecond.length > 0 ? changedPerSecond.reduce((a, b) => a + b, 0) / changedPerSecond.length : 0;

  // --- settle: every order committed, every channel level with the ledger, or the timeout ---
  const settleStart = Date.now();
  const settle = AbortSignal.timeout(options.settleTimeoutMs);
  if (shoppers) {
    shopperTally = await Promise.race([shoppers.done, new Promise<undefined>((resolve) => settle.addEventListener('abort', () => resolve(undefined), { once: true }))]);
    if (!shopperTally) await shoppers.terminate();
    const tally = shopperTally;
    if (tally) {
      placed = tally.placed;
      failed = tally.failed;
      unitsSold = tally.unitsSold;
      orphan.ordersPlaced = tally.placed;
      orphan.unitsSold = tally.unitsSold;
      for (const [sku, units] of Object.entries(tally.unitsBySku)) unitsBySku.set(sku, units);
      for (const error of tally.errors) orderLogger.error('bench: an order did not reach the hub', { channel: LEDGER_ONLY_CHANNEL, error });
    }
  }
  if (thread) {
    // A failed thread rejects `done`: the run fails with its error instead of waiting out the settle timeout.
    channelTally = await Promise.race([thread.done, new Promise<undefined>((resolve) => settle.addEventListener('abort', () => resolve(undefined), { once: true }))]);
    const tally = channelTally ?? (await thread.loadOver);
    placed = tally.placed;
    failed = tally.failed;
    unitsSold = tally.unitsSold;
    for (const t of sellers) {
      t.ordersPlaced = tally.byChannel[t.id]?.ordersPlaced ?? 0;
      t.unitsSold = tally.byChannel[t.id]?.unitsSold ?? 0;
    }
    for (const [sku, units] of Object.entries(tally.unitsBySku)) unitsBySku.set(sku, units);
    for (const error of tally.errors) orderLogger.error('bench: an order did not reach the hub', { error });
  }
  while (!settle.aborted && (inFlight > 0 || hub.backlog() > 0 || ordersCommitted + failed < placed)) await sleep(50);
  let simulatorStats = await thread?.sync();
  let convergence = await measureConvergence(hub, sellers, skus);
  while (!settle.aborted) {
    await hub.idle(settle).catch(() => undefined);
    simulatorStats = (await thread?.sync()) ?? simulatorStats;
    convergence = await measureConvergence(hub, sellers, skus);
    if (convergence.converged === convergence.pairs) break;
    await sleep(250);
  }
  const settleEndWall = Date.now();
  const settleMs = settleEndWall - settleStart;
  // Once every order is committed the ledger must stand exactly where the orders put it; a figure from a run
  // that lost or doubled an order measures nothing. Not judged when an order or a restock failed to publish.
  const ledgerCheck =
    failed === 0 && !restockFailed && ordersCommitted === placed && (!ledgerOnly || shopperTally !== undefined) && (!thread || channelTally !== undefined)
      ? await checkLedger(hub, skus, (sku) => options.stock + (restockedBySku.get(sku) ?? 0) - (unitsBySku.get(sku) ?? 0) + (oversoldBySku.get(sku) ?? 0))
      : null;
  loopDelay.disable();
  clearInterval(sampler);
  clearInterval(rssSampler);
  clearInterval(reporter);
  untap();
  unlisten();
  const cpu = process.cpuUsage(cpuStart);
  const wallS = (Date.now() - wallStart) / 1000;
  progress({ phase: 'done', elapsedS: wallS, ordersPlaced: placed, ordersCommitted, backlog: hub.backlog(), lagP99: overallLag.quantile(0.99), commitP99: commitLag.quantile(0.99) });

  const overhead = new LagHistogram();
  const ttz = new LagHistogram();
  let requests = 0;
  let throttled = 0;
  let retries = 0;
  let deadLetters = 0;
  const histograms = new Map<string, { lag: LagHistogram; lagFloor: LagHistogram; ttz: LagHistogram; episodes: LagHistogram }>();
  // Channels of one pace share one floor: forty channels are three or four paces.
  const floors = new Map<string, LagHistogram>();
  const floorOf = (pace: ChannelPace): LagHistogram => {
    const key = `${pace.perSecond}/${pace.burst}/${pace.maxBatchSize}`;
    let floor = floors.get(key);
    if (!floor) floors.set(key, (floor = lagFloor.measure(pace, wallStart)));
    return floor;
  };
  const allEpisodes = new LagHistogram(3_600_000);
  const salesPerSecond = [...unitsBySku.values()].map((units) => units / loadSeconds);
  const channelResults: ChannelResult[] = sellers.map((t) => {
    const sim = t.sim!;
    const limits = hub.connectors.get(t.id)!.limits;
    const rules = meta.rules.get(t.id) ?? sim.channel.rules;
    const shelfTally = shelf.measure(t.id, rules, loadEndWall, settleEndWall);
    const floor = floorOf({ perSecond: limits.perSecond, burst: limits.burst, maxBatchSize: limits.maxBatchSize });
    histograms.set(t.id, { lag: t.lag, lagFloor: floor, ttz: t.ttz, episodes: shelfTally.episodes });
    allEpisodes.merge(shelfTally.episodes);
    const stats = simulatorStats?.[t.id] ?? sim.simulator?.stats() ?? {};
    const conv = convergence.byChannel.get(t.id) ?? { converged: 0, pairs: 0 };
    overhead.merge(t.overhead);
    ttz.merge(t.ttz);
    requests += stats.requests ?? 0;
    throttled += stats.throttled ?? 0;
    retries += t.retries;
    deadLetters += t.deadLetters;
    const capacity = limits.perSecond * limits.maxBatchSize;
    return {
      channelId: t.id,
      connector: sim.connector,
      class: channelClass(limits),
      perSecond: limits.perSecond,
      maxBatchSize: limits.maxBatchSize,
      capacity,
      capacitySuffices: capacity >= skusChangedPerSecond,
      lag: t.lag.summary(),
      lagFloor: floor.summary(),
      overhead: t.overhead.summary(),
      timeToZero: t.ttz.summary(),
      eventToCommit: t.commit.summary(),
      zeroSuperseded: t.zeroSuperseded,
      ordersPlaced: t.ordersPlaced,
      unitsSold: t.unitsSold,
      oversoldUnits: t.oversoldUnits,
      requests: stats.requests ?? 0,
      throttled: stats.throttled ?? 0,
      hubThrottles: t.hubThrottles,
      retries: t.retries,
      deadLetters: t.deadLetters,
      converged: conv.converged,
      pairs: conv.pairs,
      lagBuckets: t.lag.counts(LAG_EDGES_MS),
      shelf: shelfFigures(shelfTally, { loadSeconds, salesPerSecond, share: rules.share, capacity }),
    };
  });
  const classes = groupByClass(channelResults, histograms);
  const sumShelf = (pick: (c: ChannelResult) => number): number => round(channelResults.reduce((a, c) => a + pick(c), 0), 3);

  const missed = channelResults.filter((c) => c.lag.p99 !== null && c.lag.p99 > options.targetP99Ms);
  // Without channels the promise is about the ledger alone: event → commit against the same target.
  const commitMissed = ledgerOnly && (commitLag.quantile(0.99) ?? 0) > options.targetP99Ms;
  const converged = convergence.pairs === 0 || convergence.converged === convergence.pairs;
  const ledgerExact = ledgerCheck === null || ledgerCheck.mismatched.length === 0;
  const pass = missed.length === 0 && !commitMissed && converged && failed === 0 && ledgerExact;
  const verdictParts: string[] = [];
  if (missed.length > 0) {
    const short = missed.filter((c) => !c.capacitySuffices).length;
    verdictParts.push(`${missed.length} channel(s) missed sync-lag p99 ≤ ${formatMs(options.targetP99Ms)}${short > 0 ? ` (${short} of them have less capacity than the SKUs changing per second)` : ''}`);
  }
  if (commitMissed) verdictParts.push(`event → commit p99 ${formatMs(commitLag.quantile(0.99))} > ${formatMs(options.targetP99Ms)}`);
  if (!converged) verdictParts.push(`convergence ${convergence.converged}/${convergence.pairs} after ${formatMs(settleMs)}`);
  if (failed > 0) verdictParts.push(`${failed} order(s) failed to reach the hub`);
  if (!ledgerExact) verdictParts.push(`the ledger does not match the orders on ${ledgerCheck!.mismatched.length} SKU(s): ${ledgerCheck!.mismatched.slice(0, 3).map((m) => `${m.sku} ${m.available} ≠ ${m.expected}`).join(', ')}`);
  const cpuInfo = cpus();

  const measured = {
    name: meta.name,
    startedAt: meta.startedAt.toISOString(),
    configPath: meta.configPath,
    options,
    machine: { cpus: cpuInfo.length, cpuModel: cpuInfo[0]?.model ?? 'unknown', memoryMb: Math.round(totalmem() / 2 ** 20), node: process.version, platform: `${process.platform}-${process.arch}` },
    offeredRate: options.rate,
    placedRate: round(placed / loadSeconds, 1),
    committedRate: round(committedDuringLoad / loadSeconds, 1),
    ordersPlaced: placed,
    ordersCommitted,
    ordersRefused: refused,
    ordersDropped: dropped,
    ordersFailed: failed,
    linesCommitted,
    lineRate: round(linesDuringLoad / loadSeconds, 1),
    unitsSold,
    oversoldUnits,
    oversoldRatio: unitsSold > 0 ? oversoldUnits / unitsSold : 0,
    eventToCommit: commitLag.summary(),
    lag: overallLag.summary(),
    overhead: overhead.summary(),
    timeToZero: ttz.summary(),
    skusChangedPerSecond: round(skusChangedPerSecond, 1),
    requests,
    apiCallsPerOrder: placed > 0 ? round(requests / placed, 3) : 0,
    throttled,
    retries,
    deadLetters,
    converged: convergence.converged,
    pairs: convergence.pairs,
    convergence: convergence.pairs === 0 ? 1 : convergence.converged / convergence.pairs,
    settleMs,
    heldBackAtEnd: { pairs: convergence.heldBackPairs, units: convergence.heldBackUnits },
    processCpuCores: round((cpu.user + cpu.system) / 1e6 / wallS, 2),
    machineCpuBusy: busyShare(machineStart, machineLoadEnd),
    backgroundCpuBusy: meta.backgroundCpuBusy,
    serverCpuCores: serverCores(serversStart, serversEnd, loadSeconds),
    peakRssMb: Math.round(peakRss / 2 ** 20),
    shoppers: shoppers ? ('own-thread' as const) : thread ? ('channel-thread' as const) : ('hub-thread' as const),
    mainThreadBusy: round(mainThreadBusy, 3),
    channelThreadBusy: channelThreadBusy === null ? null : round(channelThreadBusy, 3),
    ledgerCheck,
    eventLoopDelay: { p50: round(loopDelay.percentile(50) / 1e6, 1), p99: round(loopDelay.percentile(99) / 1e6, 1), max: round(loopDelay.max / 1e6, 1) },
    channels: channelResults,
    classes,
    phantomEpisodes: allEpisodes.summary(),
    phantomUnitSeconds: sumShelf((c) => c.shelf.phantomUnitSeconds),
    hiddenUnitSeconds: sumShelf((c) => c.shelf.hiddenUnitSeconds),
    heldBackUnitSeconds: sumShelf((c) => c.shelf.heldBackUnitSeconds),
  };
  return {
    ...measured,
    goals: checkSellerGoals(measured),
    pass,
    verdict: pass
      ? ledgerOnly
        ? `PASS: event → commit p99 ${commitLag.quantile(0.99)} ms ≤ ${options.targetP99Ms} ms at ${round(linesDuringLoad / loadSeconds, 0)} order lines/s`
        : `PASS: every channel's sync-lag p99 ≤ ${options.targetP99Ms} ms, all channels equal the ledger`
      : `FAIL: ${verdictParts.join('; ')}`,
  };
}

/** Every SKU's available stock against what the orders, restocks and oversells of the run leave it at. */
async function checkLedger(hub: Hub, skus: readonly string[], expected: (sku: string) => number): Promise<NonNullable<ScenarioResult['ledgerCheck']>> {
  const levels = await hub.ledger.getLevels(skus);
  const mismatched: Array<{ sku: string; available: number | null; expected: number }> = [];
  for (const sku of skus) {
    const available = levels.get(sku)?.available ?? null;
    if (available !== expected(sku)) mismatched.push({ sku, available, expected: expected(sku) });
  }
  return { skus: skus.length, mismatched };
}

async function measureConvergence(
  hub: Hub,
  sellers: readonly ChannelTally[],
  skus: readonly string[],
): Promise<{ converged: number; pairs: number; heldBackPairs: number; heldBackUnits: number; byChannel: Map<string, { converged: number; pairs: number }> }> {
  const levels = await hub.ledger.getLevels(skus);
  const byChannel = new Map<string, { converged: number; pairs: number }>();
  let converged = 0;
  let pairs = 0;
  let heldBackPairs = 0;
  let heldBackUnits = 0;
  for (const t of sellers) {
    const sim = t.sim!;
    let ok = 0;
    const dispatcher = hub.dispatchers.get(t.id);
    for (const sku of skus) {
      const shown = sim.view.shown(sku);
      const allowed = shownQuantity(sim.channel.rules, levels.get(sku)?.available ?? 0);
      if (shown === allowed) ok += 1;
      // A forecast may show less than the rules allow on purpose: level with the ledger means the hub
      // confirmed the newest version and the channel shows no more than the rules allow.
      else if (shown !== undefined && shown < allowed && inSync(dispatcher?.skuStatus?.(sku))) {
        ok += 1;
        heldBackPairs += 1;
        heldBackUnits += allowed - shown;
      }
    }
    byChannel.set(t.id, { converged: ok, pairs: skus.length });
    converged += ok;
    pairs += skus.length;
  }
  return { converged, pairs, heldBackPairs, heldBackUnits, byChannel };
}

const inSync = (status: DispatchSkuStatus | undefined): boolean => status !== undefined && !status.inFlight && status.confirmedVersion >= status.version;

const round = (v: number, digits: number): number => Math.round(v * 10 ** digits) / 10 ** digits;
