import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { startBenchWorker } from './bench-worker.ts';
import { NatsBus, type NatsSettings } from '../../bus/nats-bus.ts';
import { describeError } from '../../errors.ts';
import type { OrderLine } from '../../events/event-types.ts';
import { seededRandom } from '../simulation/seeded-random.ts';
import { zipfPicker } from '../simulation/zipf.ts';
import { paceOrders } from './order-pacing.ts';

/** What the shoppers' thread is told to do: an open-loop order stream, published to JetStream on a connection of its own. */
export interface ShopperJob {
  nats: NatsSettings;
  /** Source channel of every order, and the first part of its event id. */
  channel: string;
  /** Makes event and order ids unique to the run: `<channel>:order:<runId>-<n>:confirmed`. */
  runId: string;
  skus: readonly string[];
  /** Orders per second. */
  rate: number;
  durationMs: number;
  maxLines: number;
  zipfExponent: number;
  /** Orders on their way to JetStream at most; an order beyond is counted as dropped. */
  maxInFlight: number;
  /** Seed of the shoppers' choices, so a run can be replayed; omitted: `Math.random`. */
  seed?: number;
}

/**
 * What the shoppers did. Order `n` (1-based) has the event id `<channel>:order:<runId>-<n>:confirmed`; every
 * number from 1 to `placed` was published once, and JetStream stored each one except those in `failedSeqs`.
 */
export interface ShopperTally {
  offered: number;
  placed: number;
  dropped: number;
  /** Orders JetStream acknowledged (stored, or a duplicate of one stored). */
  acked: number;
  failed: number;
  /** Order numbers whose publish failed (all of them: a failed publish is a broken run, and rare). */
  failedSeqs: number[];
  unitsSold: number;
  /** Units ordered per SKU; with the event ids, what the ledger must show once every order is applied. */
  unitsBySku: Record<string, number>;
  /** Wall clock (epoch ms) of the first order due and of the end of the load. */
  startedAt: number;
  endedAt: number;
  /** First few publish errors, for the log. */
  errors: string[];
}

type ShopperMessage = { type: 'started' } | { type: 'progress'; placed: number } | { type: 'loadOver'; tally: ShopperTally } | { type: 'done'; tally: ShopperTally } | { type: 'error'; error: string };

/** The id of order `seq` of a shopper job, as the thread publishes it. */
export function shopperEventId(job: Pick<ShopperJob, 'channel' | 'runId'>, seq: number): string {
  return `${job.channel}:order:${job.runId}-${seq}:confirmed`;
}

/** The shoppers as the bench sees them: counts while they run, the tally when the load ends and when every publish has settled. */
export interface ShopperThread {
  /** Resolves once the thread is connected and its first order is due: the load starts now. */
  started: Promise<void>;
  /** Orders placed so far (updated a few times a second). */
  placed(): number;
  /** Resolves at the end of the load, with what was placed; publishes may still be in flight. */
  loadOver: Promise<ShopperTally>;
  /** Resolves once every publish was acknowledged or failed, with the final tally; the thread has exited. */
  done: Promise<ShopperTally>;
  /** Stops the thread early (a broken run). */
  terminate(): Promise<void>;
}

/**
 * Starts the bench's shoppers in a worker thread. The hub under test then has its event loop to itself:
 * shoppers sharing it saturate it first, and the bench measures the shoppers as much as the ledger. The
 * thread publishes to the real NATS server on its own connection, exactly as a channel integration would.
 * Event → commit stays exact: each event carries its `occurredAt`, stamped by the thread as it is published.
 */
export function startShopperThread(job: ShopperJob): ShopperThread {
  const worker = startBenchWorker(import.meta.url, { shopperJob: job });
  let placed = 0;
  let settled = false;
  let resolveStarted!: () => void;
  const started = new Promise<void>((resolve) => (resolveStarted = resolve));
  let resolveLoad!: (t: ShopperTally) => void;
  let resolveDone!: (t: ShopperTally) => void;
  let rejectBoth!: (err: Error) => void;
  const loadOver = new Promise<ShopperTally>((resolve, reject) => {
    resolveLoad = resolve;
    rejectBoth = (err) => {
      resolveStarted();
      reject(err);
      rejectDone(err);
    };
  });
  let rejectDone!: (err: Error) => void;
  const done = new Promise<ShopperTally>((resolve, reject) => {
    resolveDone = resolve;
    rejectDone = reject;
  });
  // Either may be awaited alone; an unawaited rejection must not crash the process.
  loadOver.catch(() => undefined);
  done.catch(() => undefined);
  worker.on('message', (message: ShopperMessage) => {
    if (message.type === 'started') resolveStarted();
    else if (message.type === 'progress') placed = message.placed;
    else if (message.type === 'loadOver') {
      placed = message.tally.placed;
      resolveLoad(message.tally);
    } else if (message.type === 'done') {
      settled = true;
      resolveLoad(message.tally);
      resolveDone(message.tally);
    } else rejectBoth(new Error(`bench shoppers: ${message.error}`));
  });
  worker.once('error', (err) => rejectBoth(err));
  worker.once('exit', (code) => {
    if (!settled) rejectBoth(new Error(`bench shoppers: the thread exited (code ${code}) before its publishes settled`));
  });
  return {
    started,
    placed: () => placed,
    loadOver,
    done,
    terminate: async () => {
      await worker.terminate();
    },
  };
}

/** The thread's side: paced orders for `job.durationMs`, then waits for every publish to settle. */
async function runShoppers(job: ShopperJob, post: (message: ShopperMessage) => void): Promise<void> {
  const random = job.seed === undefined ? Math.random : seededRandom(job.seed);
  const pick = zipfPicker(job.skus.length, job.zipfExponent, random);
  const bus = await NatsBus.connect(job.nats, 'stockrelay-bench-shoppers');
  const tally: ShopperTally = { offered: 0, placed: 0, dropped: 0, acked: 0, failed: 0, failedSeqs: [], unitsSold: 0, unitsBySku: {}, startedAt: 0, endedAt: 0, errors: [] };
  let inFlight = 0;
  let drained: (() => void) | undefined;
  const settle = (): void => {
    inFlight -= 1;
    if (inFlight === 0) drained?.();
  };

  const placeOne = (): void => {
    tally.offered += 1;
    const lineCount = 1 + Math.floor(random() * job.maxLines);
    const lines: OrderLine[] = [];
    for (let i = 0; i < lineCount; i++) {
      const sku = job.skus[pick()]!;
      if (lines.some((l) => l.sku === sku)) continue;
      lines.push({ sku, qty: random() < 0.8 ? 1 : 2 });
    }
    if (inFlight >= job.maxInFlight) {
      tally.dropped += 1;
      return;
    }
    inFlight += 1;
    tally.placed += 1;
    const seq = tally.placed;
    for (const l of lines) {
      tally.unitsBySku[l.sku] = (tally.unitsBySku[l.sku] ?? 0) + l.qty;
      tally.unitsSold += l.qty;
    }
    const orderId = `${job.runId}-${seq}`;
    bus.publishEvent({ id: shopperEventId(job, seq), type: 'order.confirmed', channel: job.channel, occurredAt: new Date().toISOString(), orderId, lines }).then(
      () => {
        tally.acked += 1;
        settle();
      },
      (err: unknown) => {
        tally.failed += 1;
        tally.failedSeqs.push(seq);
        if (tally.errors.length < 5) tally.errors.push(describeError(err));
        settle();
      },
    );
  };

  try {
    post({ type: 'started' });
    tally.startedAt = Date.now();
    const start = performance.now();
    const end = start + job.durationMs;
    const progress = setInterval(() => post({ type: 'progress', placed: tally.placed }), 250);
    await paceOrders(job.rate, start, end, { offered: () => tally.offered, skipTo: (n) => (tally.offered = n), placeOne });
    clearInterval(progress);
    tally.endedAt = Date.now();
    post({ type: 'loadOver', tally: structuredClone(tally) });
    if (inFlight > 0) await new Promise<void>((resolve) => (drained = resolve));
    post({ type: 'done', tally });
  } finally {
    await bus.close();
  }
}

if (!isMainThread && parentPort && (workerData as { shopperJob?: ShopperJob } | null)?.shopperJob) {
  const port = parentPort;
  const post = (message: ShopperMessage): void => port.postMessage(message);
  runShoppers((workerData as { shopperJob: ShopperJob }).shopperJob, post).catch((err: unknown) => post({ type: 'error', error: describeError(err) }));
}
