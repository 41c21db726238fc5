import type { LagSummary } from './lag-histogram.ts';

/** `closed`: shoppers buy only what the channel shows. `open`: a fixed order stream, no feedback. */
export type LoadMode = 'closed' | 'open';

/**
 * How an order reaches the hub. `webhook`: the simulator signs and posts it to the hub's ingress, the
 * way the real channel does (queue-fed channels: polled). `publish`: the event is published straight
 * to JetStream, the path of a high-volume channel integration that skips HTTP.
 */
export type OrderPath = 'webhook' | 'publish';

export interface ScenarioOptions {
  /** Orders per second offered, spread over the channels. */
  rate: number;
  /** Seconds of load; the settle phase comes on top. */
  durationS: number;
  skus: number;
  /** Units each SKU starts with. */
  stock: number;
  /** A SKU the ledger shows at zero is restocked after this long, so the sale keeps selling out; 0: never. */
  restockDelayMs: number;
  restockUnits: number;
  mode: LoadMode;
  path: OrderPath;
  /** Latency the simulated channel APIs add per request. */
  latency: { p50: number; p99: number };
  /** Most lines per order (each line 1–2 units of a distinct SKU). */
  maxLines: number;
  /** Zipf exponent of SKU popularity. */
  zipfExponent: number;
  /** Orders on their way to the hub at most; an order beyond is counted as dropped, not queued. */
  maxInFlightOrders: number;
  /** How long the settle phase may take before convergence is judged. */
  settleTimeoutMs: number;
  /** Sync-lag p99 the run must meet on every channel whose capacity suffices, ms. */
  targetP99Ms: number;
  /** Overrides every channel's `rules.reserve` (units held back), to see what safety stock buys; null keeps the config's. */
  reserve: number | null;
  /** Before starting, wait up to this long for the machine to be mostly idle (other work skews every figure). Default 0. */
  quietWaitMs: number;
  /** Drop the bench's database and streams afterwards. Default true. */
  cleanup: boolean;
}

export const DEFAULT_SCENARIO: ScenarioOptions = Object.freeze({
  rate: 200,
  durationS: 30,
  skus: 200,
  stock: 200,
  restockDelayMs: 2_000,
  restockUnits: 200,
  mode: 'closed',
  path: 'webhook',
  latency: Object.freeze({ p50: 80, p99: 300 }),
  maxLines: 3,
  zipfExponent: 1.1,
  maxInFlightOrders: 1_000,
  settleTimeoutMs: 120_000,
  targetP99Ms: 5_000,
  quietWaitMs: 0,
  reserve: null,
  cleanup: true,
});

/** What a progress display shows, about twice a second. */
export interface ScenarioProgress {
  phase: 'seeding' | 'load' | 'settling' | 'done';
  elapsedS: number;
  durationS: number;
  ordersPlaced: number;
  ordersCommitted: number;
  backlog: number;
  /** Sync-lag p99 over every channel so far, ms. */
  lagP99: number | null;
  /** Event occurredAt → ledger commit p99 so far, ms. */
  commitP99: number | null;
}

/**
 * What a channel showed against what the rules give for the ledger over the load, measured from the
 * simulator side (what the simulated channel showed, when the simulated API applied each write).
 * Unit-seconds are integrated over the load; phantom episodes that began during the load are followed
 * into the settle phase until they end.
 */
export interface ShelfFigures {
  /** SKU-seconds the channel showed more than the rules give for the ledger's available stock. */
  phantomSkuSeconds: number;
  /** Units shown beyond what the rules give, integrated over time: stock a shopper could buy that was gone. */
  phantomUnitSeconds: number;
  /** Duration of each phantom episode (one SKU showing more than the rules give, until it no longer does), ms. */
  phantomEpisodes: LagSummary;
  /** Episodes still going when the measurement ended, counted at their length so far. */
  openPhantomEpisodes: number;
  /** Units the rules allowed but the channel did not show, integrated over time (rules without forecast). */
  hiddenUnitSeconds: number;
  /**
   * The part of `hiddenUnitSeconds` the channel's last write left out on purpose (a forecast, a reserve):
   * at most how far below the rules for the ledger of that moment the write was. The rest waits for a
   * refresh after a restock, or for the ledger to record a sale the channel already counted.
   */
  heldBackUnitSeconds: number;
  /** Mean units held back during the load: `heldBackUnitSeconds` / seconds of load. */
  meanHeldBackUnits: number;
  /** `hiddenUnitSeconds` / units the rules allowed integrated over the load, 0..1. */
  hiddenShare: number;
  /** `heldBackUnitSeconds` / units the rules allowed integrated over the load, 0..1: the share of stock a forecast or reserve cost. */
  heldBackShare: number;
  /**
   * The least a channel of this capacity must hide on average to never show more than will be left when its
   * next refresh lands: (Σᵢ √vᵢ)² / (2C) units, vᵢ each SKU's measured sales rate on the run (units/s,
   * times the channel's share), C = requests/s × items per request. Null when nothing sold.
   */
  hiddenBoundUnits: number | null;
  /** `meanHeldBackUnits` / `hiddenBoundUnits`: 1 is the physical limit; below 1 the channel risks phantom stock. */
  boundRatio: number | null;
}

/** The channels of one class (requests/s × items per request) read together. */
export interface ClassResult {
  /** E.g. `2/s × 250`; see channel-class.ts. */
  class: string;
  perSecond: number;
  maxBatchSize: number;
  channels: string[];
  /** Sync lag over every channel of the class. */
  lag: LagSummary;
  /** The floor under the class's sync lag on this run (see {@link ChannelResult.lagFloor}). */
  lagFloor: LagSummary;
  timeToZero: LagSummary;
  phantomSkuSeconds: number;
  phantomUnitSeconds: number;
  /** Phantom episode durations over every channel of the class, ms. */
  phantomEpisodes: LagSummary;
  hiddenUnitSeconds: number;
  heldBackUnitSeconds: number;
  /** Of the class's channels, the largest `hiddenShare` / `heldBackShare`. */
  worstHiddenShare: number;
  worstHeldBackShare: number;
  /** Of the class's channels, the largest and median `boundRatio` (null when no channel has a bound). */
  worstBoundRatio: number | null;
  medianBoundRatio: number | null;
}

/** One goal of a seller's flash sale checked against a run: met, missed, or not measured (null). */
export interface GoalCheck {
  goal: string;
  /** What was measured, in words and numbers. */
  measured: string;
  value: number | null;
  limit: number;
  met: boolean | null;
  /** A floor under the figure on this run, where one is known (sync lag: its first-pass floor, see lag-floor.ts). */
  floor?: number | null;
}

export interface ChannelResult {
  channelId: string;
  connector: string;
  /** Requests/s × items per request, e.g. `2/s × 250`: reports group channels by it. */
  class: string;
  /** Requests per second and items per request the channel allows, and their product (SKU updates/s). */
  perSecond: number;
  maxBatchSize: number;
  capacity: number;
  /** Whether capacity covers the distinct SKUs changing per second during the load. */
  capacitySuffices: boolean;
  lag: LagSummary;
  /**
   * A floor under the sync lag a channel of this pace could have had on this run: each SKU's changes wait
   * for its first push, the pushes go at full pace from the start, busiest SKU first, and later changes
   * are covered the moment they commit (see lag-floor.ts). What a one-SKU channel measures in a short sale.
   */
  lagFloor: LagSummary;
  /** Sync lag minus the channel call's own duration. */
  overhead: LagSummary;
  timeToZero: LagSummary;
  /** Event occurredAt → ledger commit for order lines placed on this channel (its order path: webhook, fetch, queue). */
  eventToCommit: LagSummary;
  /** Ledger sell-outs restocked before this channel confirmed zero. */
  zeroSuperseded: number;
  ordersPlaced: number;
  unitsSold: number;
  /** Units the ledger could not cover, for orders placed on this channel. */
  oversoldUnits: number;
  requests: number;
  throttled: number;
  hubThrottles: number;
  retries: number;
  deadLetters: number;
  /** Channel×SKU pairs equal to the rules applied to the ledger at the end, of all pairs. */
  converged: number;
  pairs: number;
  /** Lag histogram over {@link LAG_EDGES_MS}, for the report's charts. */
  lagBuckets: number[];
  /** Phantom and hidden stock on this channel. */
  shelf: ShelfFigures;
}

/** Bucket edges of the charts, ms. */
export const LAG_EDGES_MS = [0, 25, 50, 100, 150, 200, 300, 400, 500, 750, 1000, 1500, 2000, 3000, 5000, 7500, 10000, 20000];

export interface ScenarioResult {
  name: string;
  startedAt: string;
  configPath: string;
  options: ScenarioOptions;
  machine: { cpus: number; cpuModel: string; memoryMb: number; node: string; platform: string };
  offeredRate: number;
  /** Orders emitted by shoppers per second of load. */
  placedRate: number;
  /** Orders committed to the ledger per second of load. */
  committedRate: number;
  ordersPlaced: number;
  ordersCommitted: number;
  /** Closed loop: the channel showed too little, the shopper left. */
  ordersRefused: number;
  /** More than `maxInFlightOrders` on their way: the load generator could not keep up. */
  ordersDropped: number;
  /** Orders the channel failed to deliver to the hub (webhook error). */
  ordersFailed: number;
  linesCommitted: number;
  /** Committed order lines per second of load. */
  lineRate: number;
  unitsSold: number;
  oversoldUnits: number;
  oversoldRatio: number;
  /** Event occurredAt → ledger commit, per line. */
  eventToCommit: LagSummary;
  lag: LagSummary;
  overhead: LagSummary;
  timeToZero: LagSummary;
  /** Distinct SKUs changed per second of load, mean. */
  skusChangedPerSecond: number;
  requests: number;
  apiCallsPerOrder: number;
  throttled: number;
  retries: number;
  deadLetters: number;
  converged: number;
  pairs: number;
  convergence: number;
  settleMs: number;
  /**
   * When settling ended: (channel, SKU) pairs a forecast still showed below what the rules allow, and those
   * units. Forecasts give stock back as sales fade; what is left here was still held back after the load.
   */
  heldBackAtEnd?: { pairs: number; units: number };
  /** CPU seconds of this process (hub, simulators and shoppers: one process) per second of wall time. */
  processCpuCores: number;
  /** Share of the whole machine busy during the load (hub, NATS, Postgres, everything), 0..1. */
  machineCpuBusy: number | null;
  /** CPU cores used during the load by the servers on this box, by process name (nats-server, postgres); a lower bound. */
  serverCpuCores: Record<string, number> | null;
  /** Share of the machine busy in the second before the run (other work on the box), 0..1. */
  backgroundCpuBusy: number | null;
  peakRssMb: number;
  /**
   * Where the shoppers ran: `own-thread` (the ledger alone: a worker thread with its own NATS connection, so
   * the hub's event loop serves the hub only), `channel-thread` (through webhooks: a worker thread with the
   * simulated channels they buy through, their HTTP servers and webhook delivery) or `hub-thread` (the publish
   * path: they and the simulated shelves live beside the hub). Always in this process, whose CPU figure includes them.
   */
  shoppers: 'own-thread' | 'channel-thread' | 'hub-thread';
  /** Share of the load the hub's thread was busy (event-loop utilization), 0..1. */
  mainThreadBusy: number;
  /** Share of the load the channels' thread was busy, 0..1; null when the channels ran beside the hub. */
  channelThreadBusy: number | null;
  /**
   * After the settle phase, every SKU's available stock against start + restocks − units sold + units oversold;
   * `mismatched` empty means no order was lost or counted twice. Null when an order or restock failed to
   * publish or not every order was committed (nothing exact to compare with).
   */
  ledgerCheck: { skus: number; mismatched: Array<{ sku: string; available: number | null; expected: number }> } | null;
  /** Delay of this process's event loop beyond the 10 ms sampling timer, ms: time everything here waited for the CPU. */
  eventLoopDelay: { p50: number; p99: number; max: number };
  channels: ChannelResult[];
  /** The channels grouped by class. */
  classes: ClassResult[];
  /** Phantom episodes over every channel, ms. */
  phantomEpisodes: LagSummary;
  phantomUnitSeconds: number;
  hiddenUnitSeconds: number;
  heldBackUnitSeconds: number;
  /** The flash-sale goals, each met or missed with its numbers. */
  goals: GoalCheck[];
  /** Whether every channel whose capacity suffices met `targetP99Ms`, and convergence was complete. */
  pass: boolean;
  verdict: string;
}
