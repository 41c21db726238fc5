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

export interface ChannelResult {
  channelId: string;
  connector: string;
  /** Requests per second and items per request the channel allows, and their product (SKU updates/s). */
  perSecond: number;
  maxBatchSize: number;
  capacity: number;
  /** Whether capacity covers the distinct SKUs changing per second during the load. */
  capacitySuffices: boolean;
  lag: LagSummary;
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
  /** CPU seconds of this process (hub, simulators and shoppers: one process) per second of wall time. */
  processCpuCores: number;
  /** Share of the whole machine busy during the load (hub, NATS, Postgres, everything), 0..1. */
  machineCpuBusy: number | null;
  /** CPU cores used during the load by the servers on this box, by process name (nats-server, postgres); a lower bound. */
  serverCpuCores: Record<string, number> | null;
  /** Share of the machine busy in the second before the run (other work on the box), 0..1. */
  backgroundCpuBusy: number | null;
  peakRssMb: number;
  /** Delay of this process's event loop beyond the 10 ms sampling timer, ms: time everything here waited for the CPU. */
  eventLoopDelay: { p50: number; p99: number; max: number };
  channels: ChannelResult[];
  /** Whether every channel whose capacity suffices met `targetP99Ms`, and convergence was complete. */
  pass: boolean;
  verdict: string;
}
