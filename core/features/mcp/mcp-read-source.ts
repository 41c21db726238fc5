import type { ChannelRules } from '../../config/config-types.ts';
import type { WhyReport } from '../admin/why.ts';
import type { Alert } from '../alerts/alert-types.ts';
import type { InventoryStatus } from '../read/inventory-status.ts';

/** A channel the MCP tools can name: its id, connector and rules, from the config. */
export interface McpChannel {
  id: string;
  connector: string;
  rules: ChannelRules;
}

/** What the ledger stores about one channel's progress: the same answer with or without a running hub. */
export interface StoredChannelProgress {
  /** SKUs whose current ledger version the channel has not confirmed (never-pushed ones included, not-listed ones excluded). */
  skusBehind: number;
  /** Oldest last-change time among the SKUs behind (ISO), a lower bound of how long the channel has been behind; null when none is. */
  behindSince: string | null;
  /** SKUs behind whose last push ran out of attempts. */
  skusDeadLettered: number;
  /** SKUs the channel said it has no listing for. */
  skusNotListed: number;
  /** The newest confirmation the channel gave (ISO), or null. */
  lastConfirmedAt: string | null;
}

/** What only the hub pushing the channel knows, from its memory. */
export interface LiveChannelProgress {
  /** SKUs waiting for a push (not in flight). */
  pending: number;
  inFlight: number;
  /** Until when the channel is paused by a throttle (ISO), or null. */
  throttledUntil: string | null;
  /** Push items confirmed / attempted since the hub started (1 before the first attempt). */
  successRatio: number;
  throttles: number;
  /** Sync-lag percentiles over the last minute of confirmations, ms; null without samples. */
  lagP50Ms: number | null;
  lagP99Ms: number | null;
  lagSamples: number;
}

/** One channel's health as the `channel_health` tool answers it. */
export interface ChannelHealth {
  channel: string;
  connector: string;
  stored: StoredChannelProgress;
  /** Null when no running hub could be asked (the stdio server without a hub). */
  live: LiveChannelProgress | null;
}

/** The alerts a running hub evaluates. */
export interface AlertsView {
  /** When the hub last evaluated its alerts (ISO), or null before its first evaluation. */
  evaluatedAt: string | null;
  alerts: Alert[];
}

/** One recorded oversell: an order asked for more than the ledger had. */
export interface OversellView {
  eventId: string;
  /** The channel the order came from. */
  channel: string;
  sku: string;
  requested: number;
  availableBefore: number;
  shortfall: number;
  at: string;
}

export interface OversellQuery {
  sku?: string;
  channel?: string;
  /** Only oversells recorded at or after this time. */
  since?: Date;
  limit: number;
}

/**
 * The read side the MCP tools answer from. Two implementations: a running hub (ledger plus the
 * dispatchers' and alert engine's memory), and a process that only opened the ledger (the stdio server),
 * which asks a running hub for what only a hub knows. Every method reads; none changes anything.
 */
export interface McpReadSource {
  /** Enabled channels, in config order. */
  readonly channels: readonly McpChannel[];
  /** The read API's answer for these SKUs, in the order asked. */
  inventory(skus: readonly string[]): Promise<InventoryStatus[]>;
  /** Why the channel shows what it shows; undefined when neither the ledger nor the channel knows the SKU. */
  why(channel: McpChannel, sku: string, limit: number): Promise<WhyReport | undefined>;
  /**
   * Every enabled channel's health, in config order. `liveUnavailable` says why the live figures are
   * missing when a hub was asked and did not answer.
   */
  channelHealth(): Promise<{ channels: ChannelHealth[]; liveUnavailable?: string }>;
  /** The hub's alerts, firing first. Rejects with a message saying why when no hub answers. */
  alerts(): Promise<AlertsView>;
  /** Recorded oversells, newest first. */
  oversells(query: OversellQuery): Promise<OversellView[]>;
  /** Masks every secret this process knows in text it is about to answer with. */
  redact(text: string): string;
}

/**
 * Thrown by a source when what a tool needs lives in a hub that did not answer; the tool shows its
 * message as is (it says what to start or pass), instead of a generic read failure.
 */
export class SourceUnavailable extends Error {
  override name = 'SourceUnavailable';
}
