import type { Alert } from './alerts/alert-types.ts';
import type { DeadLetters } from './admin/dead-letters.ts';
import type { ExplainOptions, WhyReport } from './admin/why.ts';
import type { BusRequestHandler, BusResponder } from '../bus/reply-to-requests.ts';
import type { ChannelConfig, ChannelRules, HubConfig } from '../config/config-types.ts';
import type { DispatcherSnapshot, DispatchSkuStatus } from '../dispatch/dispatch-types.ts';
import type { OversellEntry } from '../ledger/ledger-records.ts';
import type { ChannelRead, ChannelSkuState, EventOutcome, LedgerChange, StockLevel } from '../ledger/ledger-types.ts';
import type { HubMetrics } from '../metrics/hub-metrics.ts';
import type { Logger } from '../sdk.ts';

/**
 * What the hub lends its features (read API, alerts, admin, dashboard): narrow slices of its parts, built
 * once by the hub before the first feature starts. A feature depends on this type, never on the hub, so it
 * can be understood, and tested, with a context made of plain objects. Every member stays valid until the
 * hub stops; none of them may be called after that.
 */
export interface HubContext {
  /** The validated, frozen config the hub runs with. */
  readonly config: Readonly<HubConfig>;
  /** The hub's logger (secrets already masked). */
  readonly logger: Logger;
  /** The hub's Prometheus metrics, including `tap` for dispatch outcomes and the recent-lag windows. */
  readonly metrics: HubMetrics;
  readonly ledger: LedgerReads;
  readonly channels: ChannelViews;
  readonly bus: BusAccess;
  readonly deadLetters: DeadLetterDesk;
  readonly alerts: AlertBoard;
  readonly changes: ChangeNotifications;
}

/** What features read from the ledger; answers come from the database when asked, never from a cache. */
export interface LedgerReads {
  /** The levels of `skus` and the stored push state of each (channel, SKU) in one statement. */
  readInventory(channelIds: readonly string[], skus: readonly string[]): Promise<{ levels: Map<string, StockLevel>; states: ChannelSkuState[] }>;
  /**
   * What the last read-back found each of `channelIds` showing for each of `skus` (pairs never read back are
   * absent). Optional: without it the read API answers without read-backs.
   */
  lastReads?(channelIds: readonly string[], skus: readonly string[]): Promise<ChannelRead[]>;
  /** The most recent oversells, newest first. */
  listOversells(options?: { limit?: number }): Promise<OversellEntry[]>;
  /** Whether the ledger has applied this event id. */
  isProcessed(eventId: string): Promise<boolean>;
  /**
   * Why `channel` shows what it shows for `sku` (the answer of `stockrelay why`); undefined when neither the
   * ledger nor the channel knows the SKU.
   */
  explain(channel: Pick<ChannelConfig, 'id' | 'connector' | 'rules'>, sku: string, options?: ExplainOptions): Promise<WhyReport | undefined>;
}

/**
 * One enabled channel as this hub sees it. The push state comes from the channel's current dispatcher,
 * looked up at each call: a hub that loses and retakes a channel's lease replaces its dispatcher.
 */
export interface ChannelView {
  readonly id: string;
  /** The connector named in the config. */
  readonly connector: string;
  readonly rules: ChannelRules;
  /** Whether this hub pushes the channel now (holds its lease); a standby hub still answers for it. */
  pushing(): boolean;
  /** Queue sizes and throttle of the channel's dispatcher; no I/O. */
  snapshot(): DispatcherSnapshot;
  /** The SKU's in-memory push state, or undefined when the dispatcher has not seen it; no I/O. */
  skuStatus(sku: string): DispatchSkuStatus | undefined;
}

/** The enabled channels, in config order (disabled ones are in `config.channels` only). */
export interface ChannelViews {
  list(): readonly ChannelView[];
  get(channelId: string): ChannelView | undefined;
}

/** What features may do on the bus. Each call may fail while NATS is away. */
export interface BusAccess {
  /** Inbound events not yet applied: undelivered in the stream plus received and not committed. */
  backlog(): Promise<number>;
  /**
   * Answers request-reply messages on `subject`; hubs sharing `queue` answer each request once between
   * them. `name` labels what the log says about it. `stop` drains: requests already received are answered.
   */
  respond(subject: string, options: { queue: string; name: string }, handler: BusRequestHandler): BusResponder;
}

/** The dead-letter stream as an operator works with it (push letters replay through this hub's dispatchers). */
export type DeadLetterDesk = Pick<DeadLetters, 'list' | 'get' | 'replay' | 'discard' | 'depth'>;

/** The alerts the hub evaluates; empty until the alert engine has started. */
export interface AlertBoard {
  /** Firing alerts (critical first, then oldest first), then those cleared recently (newest first). Copies. */
  list(): Alert[];
  /** When thresholds were last evaluated (epoch ms), or null before the first evaluation. */
  readonly evaluatedAt: number | null;
}

/** Called after every committed group of events with its changes and per-event outcomes. */
export type ChangeListener = (changes: readonly LedgerChange[], outcomes: readonly EventOutcome[]) => void;

export interface ChangeNotifications {
  /** Calls `listener` after every commit of this hub until the returned function is called. A throw is logged. */
  listen(listener: ChangeListener): () => void;
}
