import type { ChannelRules } from '../config/config-types.ts';
import type { InventoryEvent } from '../events/event-types.ts';
import type { ConnectorInstance } from '../sdk.ts';
import type { ChannelStateStore, DriftFinding, LedgerChange, ReadBackStore } from '../ledger/ledger-types.ts';
import { salesQuantile } from './sales-quantile.ts';

/** Effective limits of one channel: the connector's capabilities with config overrides applied. */
export interface EffectiveLimits {
  maxBatchSize: number;
  perSecond: number;
  burst: number;
  concurrency: number;
  compareAndSet: boolean;
  dailyRevisionsPerSku?: number;
  /** The channel's bulk lane, when its connector has one and the config leaves it on. */
  bulk?: BulkLimits;
}

/** A bulk lane's limits (the connector's `capabilities.bulk`). */
export interface BulkLimits {
  maxBatchSize: number;
  perSecond: number;
  burst: number;
  /** Jobs in flight at most. */
  concurrency: number;
  expectedDurationMs: number;
  maxDurationMs: number;
}

/** A (channel, SKU) change that ran out of attempts or was rejected: goes to the dead-letter stream. */
export interface PushDeadLetter {
  channelId: string;
  sku: string;
  quantity: number;
  version: number;
  attempts: number;
  reason: string;
  at: string;
}

/** What a channel shows after a confirmed push, next to the newest ledger state the dispatcher knows. */
export interface ConfirmedShown {
  quantity: number;
  available: number;
  version: number;
}

/** Hooks the dispatcher calls so metrics and alerts can follow without the dispatcher knowing them. */
export interface DispatchObserver {
  /**
   * One call per confirmed item; `lagMs` once per ledger change it covers (occurredAt → confirmed).
   * `shown`: the quantity the channel now shows, and the newest ledger state the dispatcher knows for
   * the SKU (which may be newer than the version pushed).
   */
  confirmed(channelId: string, sku: string, lagMs: readonly number[], callMs: number, shown?: ConfirmedShown): void;
  /** One call per push attempt outcome per item. */
  attempted(channelId: string, ok: boolean): void;
  throttled(channelId: string, retryAfterMs: number): void;
  deadLettered(channelId: string, letter: PushDeadLetter): void;
  /** A read-back found these SKUs showing something other than the ledger gives (each is pushed again). */
  driftFound?(channelId: string, findings: readonly DriftFinding[]): void;
  /** A read-back sweep over every SKU of the channel ended: the drift it found, in SKUs and units. */
  driftSwept?(channelId: string, drift: { skus: number; units: number }): void;
  /** One order catch-up page was read and published (`events` of it), or failed (`code`: the error's code). */
  catchUpPolled?(channelId: string, poll: CatchUpPoll): void;
  /** A bulk job ended: answered (`items` of it, after `durationMs`), failed, or given up on at its deadline. */
  bulkJobEnded?(channelId: string, job: BulkJobEnd): void;
}

/** How one bulk job ended. */
export interface BulkJobEnd {
  outcome: 'answered' | 'failed';
  items: number;
  durationMs: number;
}

/** How one order catch-up page went: `at` is when its cursor was stored. */
export type CatchUpPoll = { ok: true; events: number; at: number } | { ok: false; code: string };

export interface DispatcherOptions {
  channelId: string;
  connector: ConnectorInstance;
  limits: EffectiveLimits;
  rules: ChannelRules;
  store: ChannelStateStore;
  maxAttempts: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
  reconcileIntervalMs: number;
  pushTimeoutMs: number;
  /**
   * How long after a push timed out its write may still land on the channel, ms (default
   * `DEFAULT_LATE_WRITE_WINDOW_MS` of late-writes.ts): until then an "ok" for a newer quantity is not trusted.
   */
  lateWriteWindowMs?: number;
  /**
   * Fingerprint of the channel's connector and options. A SKU the channel called not listed stays
   * unpushed only while this is unchanged (a new mapping or account may list it).
   */
  configFingerprint?: string;
  /** The connector's name, for errors about what the plugin answered. */
  connectorName?: string;
  /** Called once when the database refused a state write because another process took the channel over. */
  onFenced?: () => void;
  /** Persists a dead letter (the hub publishes it to the dead-letter stream). */
  deadLetter(letter: PushDeadLetter): Promise<void>;
  observer?: DispatchObserver;
  /**
   * Continuous read-back (reconciliation): every SKU is read from the channel at most once per
   * `reconcileIntervalMs`, on calls the pushes leave unused and at most `share` of the channel's rate
   * (and `daily` calls a UTC day); drift is recorded in `store` and pushed away. Absent (or a connector
   * without `fetchQuantities`): no read-back.
   */
  reads?: { store: ReadBackStore; share: number; daily?: number };
  /**
   * Missed-order catch-up, for a connector with `listOrders`: a poll every `intervalMs` (pages of one poll
   * back to back), each call on a call the pushes leave unused. `publish` stores a page's events in the
   * inbound stream; `cursor` keeps where the next page starts. Absent (or no `listOrders`): no catch-up.
   */
  catchUp?: {
    intervalMs: number;
    cursor: { get(): Promise<string | undefined>; set(cursor: string): Promise<void> };
    publish(events: readonly InventoryEvent[]): Promise<void>;
  };
}

/** What a dispatcher can say about itself right now (for /healthz, the read API and the demo). */
export interface DispatcherSnapshot {
  channelId: string;
  /** SKUs waiting for a push. */
  pending: number;
  inFlight: number;
  /** Epoch ms until which the channel is paused by a throttle, or 0. */
  throttledUntil: number;
  deadLettered: number;
  /** occurredAt (epoch ms) of the oldest change not yet confirmed, or null. */
  oldestPendingAt: number | null;
}

/** What a dispatcher knows about one SKU right now, in memory (the read API combines it with the store). */
export interface DispatchSkuStatus {
  sku: string;
  /** Newest ledger version the dispatcher has seen for the SKU. */
  version: number;
  /** Newest version the channel confirmed, as far as this process knows. */
  confirmedVersion: number;
  /** A push carrying the SKU is on its way to the channel. */
  inFlight: boolean;
  /** Failed attempts since the last confirmation (throttles excluded). */
  attempts: number;
  /** Epoch ms before which the SKU is not pushed again (backoff), or 0. */
  retryAt: number;
  /** Out of attempts or refused: waits for a newer change or the reconcile pass. */
  deadLettered: boolean;
  /** occurredAt (epoch ms) of the oldest change not yet confirmed, or null when in sync. */
  oldestPendingAt: number | null;
  lastError: string | null;
  /** Epoch ms until which the whole channel is paused by a throttle, or 0. */
  channelThrottledUntil: number;
  /** Epoch ms until which an earlier write may still land: what the channel shows is unverified. 0: none. */
  unverifiedUntil?: number;
  /** The channel said it has no listing for this SKU (why), or null. */
  notListed?: { at: number; reason: string } | null;
  /** What the channel should show now with its forecast; absent when the forecast is off or hides nothing. */
  forecast?: ForecastNow;
}

/** A forecast quantity at one moment: what it shows, and what it is made of. */
export interface ForecastNow {
  /** What the rules allow for the available quantity (no forecast). */
  allowed: number;
  /** What the channel should show: the rules applied to available − expected sales, bounded. */
  quantity: number;
  /** Units sold per second (recent orders of the SKU on every channel). */
  salesPerSecond: number;
  /** Time until a push sent now and the one after it can land, ms, within the configured bounds. */
  horizonMs: number;
  /** Units expected to sell within the horizon. */
  expectedSales: number;
  /**
   * The one channel that offers the SKU's last units while forecasts hide them everywhere else (this
   * channel: it shows what the rules allow; another: this one shows the least it may), when one does.
   */
  lastUnitsOn?: string;
}

export interface Dispatcher {
  /** Loads what the channel is behind on from the store and starts pushing. */
  start(): Promise<void>;
  /** Called after every ledger commit with the changes it made (all SKUs, any channel). */
  notify(changes: readonly LedgerChange[]): void;
  snapshot(): DispatcherSnapshot;
  /** The SKU's in-memory push state, or undefined when the dispatcher has never seen it. Cheap: no I/O. */
  skuStatus?(sku: string): DispatchSkuStatus | undefined;
  /** Time until a push for a SKU that sells, sent now, could land, ms (the forecast's horizon). */
  landingMs?(): number;
  /** What the channel's rules and forecast give the SKU now; undefined when the dispatcher has never seen it. */
  targetOf?(sku: string): number | undefined;
  /** Resolves once nothing is pending or in flight (or the signal aborts). For tests and shutdown. */
  idle(signal?: AbortSignal): Promise<void>;
  /** Stops pushing, aborts in-flight calls, and resolves when they settled. */
  stop(): Promise<void>;
  /**
   * Called when an operator replays a dead-lettered push: puts these SKUs back in line at once with
   * fresh attempts, pushing the ledger's current quantity. Resolves with the SKUs now queued; a SKU
   * missing from the answer is already level with the ledger on this channel.
   */
  retry?(skus: readonly string[]): Promise<string[]>;
}

/**
 * What a channel should show for a SKU now: the one place the rules (and the forecast) are applied.
 * Without `expectedSales` (or with the forecast off) it is what the rules allow: `floor(available ×
 * share) − reserve`, capped at `max`, never below 0. With it, the rules are applied to what will be left
 * once the units expected to sell have sold, counted at the forecast's confidence (see salesQuantile: at
 * one half, a unit is hidden once it is more likely sold than not), and the result never hides more than
 * `forecast.maxHiddenShare` of what the rules allow.
 */
export function shownQuantity(rules: ChannelRules, available: number, expectedSales = 0): number {
  const allowed = byRules(rules, available);
  const forecast = rules.forecast;
  if (!forecast?.enabled || !(expectedSales > 0)) return allowed;
  const lowest = allowed - Math.floor(allowed * forecast.maxHiddenShare);
  return Math.max(lowest, byRules(rules, available - salesQuantile(expectedSales, forecast.confidence)));
}

function byRules(rules: ChannelRules, available: number): number {
  let shown = Math.floor(available * rules.share) - rules.reserve;
  if (rules.max !== undefined) shown = Math.min(shown, rules.max);
  return Math.max(0, shown);
}
