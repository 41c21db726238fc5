import type { EventLoopUtilization } from 'node:perf_hooks';
import { isMainThread, parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { startBenchWorker } from './bench-worker.ts';
import { setGlobalDispatcher } from 'undici';
import type { LoadedConfig } from '../../config/config-types.ts';
import { describeError } from '../../errors.ts';
import type { OrderLine } from '../../events/event-types.ts';
import { seededRandom } from '../simulation/seeded-random.ts';
import { startSimulatedChannels, type SimulatedChannel } from '../simulation/simulated-channels.ts';
import { zipfPicker } from '../simulation/zipf.ts';
import { paceOrders } from './order-pacing.ts';
import { ShelfMirror, type ShelfObservation } from './shelf-mirror.ts';
import { PerChannelWebhookDispatcher } from './webhook-connections.ts';

/** What the channels' thread starts with: every channel of `loaded` swapped for its simulator. */
export interface ChannelJob {
  loaded: LoadedConfig;
  skus: readonly string[];
  latency: { p50: number; p99: number };
}

/** The shoppers' load, sent once the hub is up and the channels show the seeded stock. */
export interface ChannelLoad {
  rate: number;
  durationMs: number;
  maxLines: number;
  zipfExponent: number;
  /** Shoppers buy only what their channel shows (the closed loop). */
  closed: boolean;
  /** Orders on their way to the hub at most; an order beyond is counted as dropped. */
  maxInFlight: number;
  /** Seed of the shoppers' choices, so a run can be replayed; omitted: `Math.random`. */
  seed?: number;
}

/** One simulated channel as the hub's side needs it. */
export interface ChannelInfo {
  id: string;
  connector: string;
  /** Options that point the hub's connector at this simulator. */
  connectorOptions: Record<string, unknown>;
  /** Whether the simulator logs each write with its time (else shelf changes are sampled). */
  writeLog: boolean;
  /** Whether the simulator delivers its orders as webhooks (else this layout cannot run it). */
  webhooks: boolean;
}

/** What the shoppers in the channels' thread did. */
export interface ChannelShopperTally {
  offered: number;
  placed: number;
  /** Orders with no line left once the shopper skipped what the channel did not show. */
  refused: number;
  dropped: number;
  failed: number;
  unitsSold: number;
  unitsBySku: Record<string, number>;
  byChannel: Record<string, { ordersPlaced: number; unitsSold: number }>;
  /** First few delivery errors, for the log. */
  errors: string[];
}

/** One batch of shelf changes, and the flush time: the mirror is exact up to `at` once it is applied. */
export interface ShelfBatch {
  at: number;
  observations: ShelfObservation[];
  /** `[channel, sku, shown]` at `at` for every pair the batch touched. */
  current: Array<[string, string, number]>;
}

type ToThread = { type: 'targets'; urls: Record<string, string> } | { type: 'load'; load: ChannelLoad } | { type: 'sync'; n: number } | { type: 'close' };
type FromThread =
  | { type: 'ready'; channels: ChannelInfo[] }
  | { type: 'shelf'; batch: ShelfBatch }
  | { type: 'progress'; placed: number }
  | { type: 'loadOver'; tally: ChannelShopperTally }
  | { type: 'done'; tally: ChannelShopperTally }
  | { type: 'synced'; n: number; stats: Record<string, Record<string, number>> }
  | { type: 'closed' }
  | { type: 'error'; error: string };

/** How often the thread sends the shelf changes it saw: the mirror's delay, never the figures' precision. */
const FLUSH_MS = 20;

/** The simulated channels and their shoppers as the hub's thread sees them. */
export interface ChannelThread {
  /** Resolves once every simulator listens, with what the hub's config needs of each. */
  ready: Promise<ChannelInfo[]>;
  /** What each channel shows, a batch behind (available once `ready` resolved). */
  mirrors: Map<string, ShelfMirror>;
  /** Called for every batch of shelf changes, after the mirrors applied it. */
  onShelf(listener: (batch: ShelfBatch) => void): void;
  setWebhookTargets(urls: Record<string, string>): void;
  /** Starts the shoppers now. */
  startLoad(load: ChannelLoad): void;
  placed(): number;
  loadOver: Promise<ChannelShopperTally>;
  /** Resolves once every order was delivered or failed. */
  done: Promise<ChannelShopperTally>;
  /** Brings every mirror up to date (every change before the call applied), with each simulator's counters. */
  sync(): Promise<Record<string, Record<string, number>>>;
  /** The thread's event-loop utilization, since `since` when given (as `performance.eventLoopUtilization`). */
  eventLoopUtilization(since?: EventLoopUtilization): EventLoopUtilization;
  /** Closes the simulators and ends the thread. */
  close(): Promise<void>;
}

/**
 * Starts the simulated channels (their HTTP servers, webhook signing and delivery) and the shoppers who buy
 * through them in a worker thread, so the hub under test has its event loop to itself. Every figure that
 * depends on a shelf is built from observations carrying the time they happened in that thread.
 */
export function startChannelThread(job: ChannelJob): ChannelThread {
  const worker = startBenchWorker(import.meta.url, { channelJob: job });
  const mirrors = new Map<string, ShelfMirror>();
  const listeners: Array<(batch: ShelfBatch) => void> = [];
  const syncs = new Map<number, { resolve: (stats: Record<string, Record<string, number>>) => void; reject: (err: Error) => void }>();
  let syncSeq = 0;
  let placed = 0;
  let failure: Error | undefined;
  let exited = false;
  let resolveClosed!: () => void;
  const closed = new Promise<void>((resolve) => (resolveClosed = resolve));

  const deferred = <T>(): { promise: Promise<T>; resolve: (v: T) => void; reject: (e: Error) => void } => {
    let resolve!: (v: T) => void;
    let reject!: (e: Error) => void;
    const promise = new Promise<T>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    // Each may be awaited alone; an unawaited rejection must not crash the process.
    promise.catch(() => undefined);
    return { promise, resolve, reject };
  };
  const ready = deferred<ChannelInfo[]>();
  const loadOver = deferred<ChannelShopperTally>();
  const done = deferred<ChannelShopperTally>();

  const fail = (err: Error): void => {
    if (failure) return;
    failure = err;
    ready.reject(err);
    loadOver.reject(err);
    done.reject(err);
    for (const pending of syncs.values()) pending.reject(err);
    syncs.clear();
  };

  worker.on('message', (message: FromThread) => {
    switch (message.type) {
      case 'ready':
        for (const c of message.channels) mirrors.set(c.id, new ShelfMirror(Object.fromEntries(job.skus.map((s) => [s, 0]))));
        ready.resolve(message.channels);
        break;
      case 'shelf': {
        const { batch } = message;
        for (const o of batch.observations) mirrors.get(o.channel)?.apply(o);
        for (const [channel, sku, shown] of batch.current) mirrors.get(channel)?.settle(sku, shown, batch.at);
        for (const listener of listeners) listener(batch);
        break;
      }
      case 'progress':
        placed = message.placed;
        break;
      case 'loadOver':
        placed = message.tally.placed;
        loadOver.resolve(message.tally);
        break;
      case 'done':
        loadOver.resolve(message.tally);
        done.resolve(message.tally);
        break;
      case 'synced':
        syncs.get(message.n)?.resolve(message.stats);
        syncs.delete(message.n);
        break;
      case 'closed':
        resolveClosed();
        break;
      case 'error':
        fail(new Error(`bench channels: ${message.error}`));
        break;
    }
  });
  worker.once('error', (err) => fail(new Error(`bench channels: ${describeError(err)}`)));
  worker.once('exit', (code) => {
    exited = true;
    resolveClosed();
    fail(new Error(`bench channels: the thread exited (code ${code}) while the run still needed it`));
  });
  const post = (message: ToThread): void => {
    if (!exited) worker.postMessage(message);
  };

  return {
    ready: ready.promise,
    mirrors,
    onShelf: (listener) => void listeners.push(listener),
    setWebhookTargets: (urls) => post({ type: 'targets', urls }),
    startLoad: (load) => post({ type: 'load', load }),
    placed: () => placed,
    loadOver: loadOver.promise,
    done: done.promise,
    sync: () => {
      if (failure) return Promise.reject(failure);
      syncSeq += 1;
      const n = syncSeq;
      const pending = deferred<Record<string, Record<string, number>>>();
      syncs.set(n, pending);
      post({ type: 'sync', n });
      return pending.promise;
    },
    eventLoopUtilization: (since) => (since ? worker.performance.eventLoopUtilization(since) : worker.performance.eventLoopUtilization()),
    close: async () => {
      post({ type: 'close' });
      const timeout = new Promise<void>((resolve) => setTimeout(resolve, 5_000).unref());
      await Promise.race([closed, timeout]);
      await worker.terminate();
    },
  };
}

/** The thread's side: the simulators, the shelf observations and, once told, the shoppers. */
async function runChannels(job: ChannelJob, port: MessagePort): Promise<void> {
  // Simulators deliver webhooks through the thread's global dispatcher: one bounded pool per channel.
  setGlobalDispatcher(new PerChannelWebhookDispatcher());
  const post = (message: FromThread): void => port.postMessage(message);
  const simulated = await startSimulatedChannels(job.loaded, {
    skus: Object.fromEntries(job.skus.map((s) => [s, 0])),
    simulator: (channel) => ({
      latency: job.latency,
      // The simulated API enforces the rate the channel is configured for, so throttles mean the hub misjudged it.
      ...(channel.limits.perSecond ? { rateLimit: { perSecond: channel.limits.perSecond, burst: channel.limits.burst ?? channel.limits.perSecond } } : {}),
    }),
  });
  const channels = simulated.channels;
  const byId = new Map(channels.map((c) => [c.channel.id, c]));
  const withLog = (c: SimulatedChannel): ((sku: string) => ReadonlyArray<readonly [number, number]>) | undefined => {
    const writes = (c.simulator as { writes?: unknown }).writes;
    return typeof writes === 'function' ? (writes as (sku: string) => ReadonlyArray<readonly [number, number]>).bind(c.simulator) : undefined;
  };

  // --- shelf observations: the writes the hub made (from the write log, with their own times) and the sales ---
  const sentWrites = new Map<string, Map<string, number>>(channels.map((c) => [c.channel.id, new Map()]));
  const sentShown = new Map<string, Map<string, number>>(channels.map((c) => [c.channel.id, new Map()]));
  const seenRequests = new Map<string, string>();
  let pending: ShelfObservation[] = [];
  const touched = new Map<string, Set<string>>();
  const touch = (channel: string, sku: string): void => {
    let set = touched.get(channel);
    if (!set) touched.set(channel, (set = new Set()));
    set.add(sku);
  };
  const flush = (): void => {
    const at = Date.now();
    for (const c of channels) {
      const id = c.channel.id;
      // Only a channel the hub called since the last flush can have changed (a write lands after its request is counted).
      const stats = c.simulator.stats();
      const key = `${stats.requests ?? 0}/${stats.itemsWritten ?? 0}`;
      if (seenRequests.get(id) === key) continue;
      seenRequests.set(id, key);
      const writes = withLog(c);
      for (const sku of job.skus) {
        if (writes) {
          const log = writes(sku);
          const sent = sentWrites.get(id)!.get(sku) ?? 0;
          if (log.length === sent) continue;
          for (let i = sent; i < log.length; i++) pending.push({ kind: 'write', channel: id, sku, at: log[i]![0], quantity: log[i]![1] });
          sentWrites.get(id)!.set(sku, log.length);
          touch(id, sku);
        } else {
          const shown = c.simulator.shown(sku) ?? 0;
          if (sentShown.get(id)!.get(sku) === shown) continue;
          sentShown.get(id)!.set(sku, shown);
          pending.push({ kind: 'set', channel: id, sku, at, quantity: shown });
          touch(id, sku);
        }
      }
    }
    const observations = pending.map((o, i) => ({ o, i })).sort((a, b) => a.o.at - b.o.at || a.i - b.i).map(({ o }) => o);
    const current: Array<[string, string, number]> = [];
    for (const [id, skus] of touched) for (const sku of skus) current.push([id, sku, byId.get(id)!.simulator.shown(sku) ?? 0]);
    pending = [];
    touched.clear();
    post({ type: 'shelf', batch: { at, observations, current } });
  };
  const flusher = setInterval(flush, FLUSH_MS);

  // --- shoppers ---
  const tally: ChannelShopperTally = { offered: 0, placed: 0, refused: 0, dropped: 0, failed: 0, unitsSold: 0, unitsBySku: {}, byChannel: {}, errors: [] };
  for (const c of channels) tally.byChannel[c.channel.id] = { ordersPlaced: 0, unitsSold: 0 };
  let inFlight = 0;
  let loading = false;
  let drained: (() => void) | undefined;
  const settleOne = (): void => {
    inFlight -= 1;
    if (inFlight === 0 && !loading) drained?.();
  };

  const runLoad = async (load: ChannelLoad): Promise<void> => {
    const random = load.seed === undefined ? Math.random : seededRandom(load.seed);
    const pick = zipfPicker(job.skus.length, load.zipfExponent, random);
    const placeOne = (): void => {
      tally.offered += 1;
      const c = channels[Math.floor(random() * channels.length)]!;
      const simulator = c.simulator;
      const lineCount = 1 + Math.floor(random() * load.maxLines);
      const lines: OrderLine[] = [];
      for (let i = 0; i < lineCount; i++) {
        const sku = job.skus[pick()]!;
        if (lines.some((l) => l.sku === sku)) continue;
        const qty = random() < 0.8 ? 1 : 2;
        // A shopper only buys what the channel shows: oversells come from channels that lag.
        if (load.closed && (simulator.shown(sku) ?? 0) < qty) continue;
        lines.push({ sku, qty });
      }
      if (lines.length === 0) {
        tally.refused += 1;
        return;
      }
      if (inFlight >= load.maxInFlight) {
        tally.dropped += 1;
        return;
      }
      inFlight += 1;
      tally.placed += 1;
      const id = c.channel.id;
      const own = tally.byChannel[id]!;
      own.ordersPlaced += 1;
      const soldAt = Date.now();
      for (const l of lines) {
        tally.unitsBySku[l.sku] = (tally.unitsBySku[l.sku] ?? 0) + l.qty;
        tally.unitsSold += l.qty;
        own.unitsSold += l.qty;
        pending.push({ kind: 'sold', channel: id, sku: l.sku, at: soldAt, units: l.qty });
        touch(id, l.sku);
      }
      // placeOrder takes the units off the shelf before it delivers the webhook.
      simulator.placeOrder!(lines).then(settleOne, (err: unknown) => {
        tally.failed += 1;
        if (tally.errors.length < 5) tally.errors.push(`${id}: ${describeError(err)}`);
        settleOne();
      });
    };
    loading = true;
    const start = performance.now();
    const progress = setInterval(() => post({ type: 'progress', placed: tally.placed }), 250);
    await paceOrders(load.rate, start, start + load.durationMs, { offered: () => tally.offered, skipTo: (n) => (tally.offered = n), placeOne });
    clearInterval(progress);
    loading = false;
    post({ type: 'loadOver', tally: structuredClone(tally) });
    if (inFlight > 0) await new Promise<void>((resolve) => (drained = resolve));
    post({ type: 'done', tally });
  };

  port.on('message', (message: ToThread) => {
    if (message.type === 'targets') {
      for (const [id, url] of Object.entries(message.urls)) byId.get(id)?.simulator.setWebhookTarget?.(url);
    } else if (message.type === 'load') {
      runLoad(message.load).catch((err: unknown) => post({ type: 'error', error: describeError(err) }));
    } else if (message.type === 'sync') {
      for (const c of channels) seenRequests.delete(c.channel.id);
      flush();
      post({ type: 'synced', n: message.n, stats: Object.fromEntries(channels.map((c) => [c.channel.id, c.simulator.stats()])) });
    } else {
      clearInterval(flusher);
      simulated.close().then(
        () => {
          post({ type: 'closed' });
          port.close();
        },
        (err: unknown) => post({ type: 'error', error: describeError(err) }),
      );
    }
  });
  post({
    type: 'ready',
    channels: channels.map((c) => ({
      id: c.channel.id,
      connector: c.definition.name,
      connectorOptions: c.simulator.connectorOptions(job.skus) as Record<string, unknown>,
      writeLog: withLog(c) !== undefined,
      webhooks: typeof c.simulator.placeOrder === 'function' && typeof c.simulator.setWebhookTarget === 'function',
    })),
  });
}

if (!isMainThread && parentPort && (workerData as { channelJob?: ChannelJob } | null)?.channelJob) {
  const port = parentPort;
  runChannels((workerData as { channelJob: ChannelJob }).channelJob, port).catch((err: unknown) => port.postMessage({ type: 'error', error: describeError(err) } satisfies FromThread));
}
