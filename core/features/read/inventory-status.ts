import type { ChannelRules } from '../../config/config-types.ts';
import { shortError } from './short-error.ts';
import { shownQuantity, type DispatchSkuStatus } from '../../dispatch/dispatch-types.ts';
import type { HubContext } from '../hub-context.ts';
import type { ChannelRead, ChannelSkuState, StockLevel } from '../../ledger/ledger-types.ts';
import { CoalescedInventoryReader } from './coalesced-inventory-reader.ts';

/** Where one channel stands for one SKU. */
export type ChannelSyncState = 'in_sync' | 'pending' | 'throttled' | 'failing' | 'dead_lettered' | 'not_listed' | 'unverified';

/** One channel's view of one SKU. Times are ISO 8601 strings. */
export interface ChannelInventoryStatus {
  channel: string;
  /** The quantity the channel last confirmed showing; null when it never confirmed one. */
  shown: number | null;
  /** What the channel's rules (and forecast, when it has one) say it should show for the ledger quantity now. */
  target: number;
  /** Present when a forecast holds back units on this channel now: `target` is `allowed` less `hidden`. */
  forecast?: ChannelForecastStatus;
  confirmedAt: string | null;
  /** Ledger version the channel last confirmed (0: never). */
  pushedVersion: number;
  /** Ledger changes the channel has not confirmed yet. */
  versionsBehind: number;
  /** Now minus the time of the oldest change the channel has not confirmed; 0 when in sync. */
  msBehind: number;
  state: ChannelSyncState;
  /** The gist of the last push error (never a raw channel body), while the channel is failing or dead-lettered for this SKU. */
  lastError?: string;
  /** Why the channel is not pushed this SKU: its own "no listing" answer (state `not_listed`). */
  notListedReason?: string;
  /**
   * What the channel itself showed when last read back (reconciliation), and when: next to `shown` (what it
   * confirmed), it tells a channel edited behind the hub's back from one merely behind. Absent when never read.
   */
  readBack?: { shown: number; readAt: string };
}

/** A forecast at work on one channel for one SKU. */
export interface ChannelForecastStatus {
  /** What the rules allow without the forecast. */
  allowed: number;
  /** Units the forecast holds back: the sales expected before the channel's next refresh can land (bounded). */
  hidden: number;
  /** Units sold per second, every channel's orders. */
  salesPerSecond: number;
  /** The time to the channel's next refresh the forecast assumes, ms. */
  horizonMs: number;
  /**
   * The one channel offering the SKU's last units while forecasts hide them on every other: this channel
   * (it shows what the rules allow) or another (this one shows 0 meanwhile). Absent when none does.
   */
  lastUnitsOn?: string;
}

/** What an agent can act on without reading the channels. */
export interface InventorySummary {
  channelsInSync: number;
  channels: number;
  /** channelsInSync / channels (1 with no channels). */
  shareInSync: number;
  /** Time of the oldest change some channel has not confirmed, or null when every channel is in sync. */
  oldestUnconfirmedAt: string | null;
  maxMsBehind: number;
  /** 0..1, see {@link confidence}. */
  confidence: number;
}

/** The answer for one SKU. */
export interface InventoryStatus {
  sku: string;
  /** False when the ledger has never held the SKU; then `available` and `version` are 0 and `channels` is empty. */
  known: boolean;
  available: number;
  version: number;
  updatedAt: string | null;
  channels: ChannelInventoryStatus[];
  summary: InventorySummary;
}

/** Inputs of {@link inventoryStatusOf}: what the ledger and the dispatchers said at `now`. */
export interface InventorySources {
  level: StockLevel | undefined;
  channels: ReadonlyArray<{ id: string; rules: ChannelRules; stored: ChannelSkuState | undefined; memory: DispatchSkuStatus | undefined; read?: ChannelRead }>;
  /** Half-life of confidence for a channel lagging behind, ms (the sync-lag alarm threshold). */
  lagHalfLifeMs: number;
  now: number;
}

/** Answers for SKUs, in the order asked (see {@link inventoryStatusReader}). */
export type ReadInventoryStatus = (skus: readonly string[]) => Promise<InventoryStatus[]>;

/**
 * The ledger's answer for SKUs, in the order asked (duplicates answered once each time asked). Reads the
 * levels and every channel's stored push state in one statement (shared with reads asked in the same
 * event-loop turn), never from a cache, so an answer reflects every change committed before it was asked;
 * the channels' in-memory push state adds what the store cannot know (a push in flight, a backoff, a
 * throttled channel).
 */
export function inventoryStatusReader(ctx: Pick<HubContext, 'config' | 'ledger' | 'channels'>): ReadInventoryStatus {
  const channels = ctx.channels.list();
  const reader = new CoalescedInventoryReader(async (ids, wanted) => {
    const [rows, reads] = await Promise.all([ctx.ledger.readInventory(ids, wanted), ctx.ledger.lastReads?.(ids, wanted)]);
    return reads === undefined ? rows : { ...rows, reads };
  }, channels.map((c) => c.id));
  const lagHalfLifeMs = ctx.config.alerts.syncLagP99Ms;
  return async (skus) => inventoryStatusesOf(skus, { ...(await reader.read(skus)), channels, lagHalfLifeMs, now: Date.now() });
}

/** What {@link inventoryStatusesOf} answers from: one read of levels and stored states, and the channels asked about. */
export interface StoredInventory {
  levels: ReadonlyMap<string, StockLevel>;
  states: readonly ChannelSkuState[];
  /** What read-backs last found (absent: the answers carry no read-backs). */
  reads?: readonly ChannelRead[];
  /** `skuStatus` adds what only a running dispatcher knows; readers without dispatchers leave it out. */
  channels: ReadonlyArray<{ id: string; rules: ChannelRules; skuStatus?(sku: string): DispatchSkuStatus | undefined }>;
  lagHalfLifeMs: number;
  now: number;
}

/** Answers for `skus`, in the order asked, from one read of the ledger (the read API, `stock get`, the MCP server). */
export function inventoryStatusesOf(skus: readonly string[], stored: StoredInventory): InventoryStatus[] {
  const byKey = new Map<string, ChannelSkuState>();
  for (const state of stored.states) byKey.set(`${state.channelId}\u0000${state.sku}`, state);
  const reads = new Map<string, ChannelRead>();
  for (const read of stored.reads ?? []) reads.set(`${read.channelId}\u0000${read.sku}`, read);
  return skus.map((sku) =>
    inventoryStatusOf(sku, {
      level: stored.levels.get(sku),
      channels: stored.channels.map((c) => {
        const read = reads.get(`${c.id}\u0000${sku}`);
        return { id: c.id, rules: c.rules, stored: byKey.get(`${c.id}\u0000${sku}`), memory: c.skuStatus?.(sku), ...(read ? { read } : {}) };
      }),
      lagHalfLifeMs: stored.lagHalfLifeMs,
      now: stored.now,
    }),
  );
}

/** Combines what the ledger stores and what the dispatchers hold into one SKU's answer. Pure. */
export function inventoryStatusOf(sku: string, sources: InventorySources): InventoryStatus {
  const { level, now } = sources;
  if (!level) {
    return {
      sku,
      known: false,
      available: 0,
      version: 0,
      updatedAt: null,
      channels: [],
      summary: { channelsInSync: 0, channels: 0, shareInSync: 0, oldestUnconfirmedAt: null, maxMsBehind: 0, confidence: 0 },
    };
  }
  const channels = sources.channels.map((c) => withReadBack(channelStatus(level, c.id, c.rules, c.stored, c.memory, now), c.read));
  let oldest = Infinity;
  let maxMsBehind = 0;
  for (const c of channels) {
    if (c.state === 'in_sync') continue;
    oldest = Math.min(oldest, now - c.msBehind);
    maxMsBehind = Math.max(maxMsBehind, c.msBehind);
  }
  const channelsInSync = channels.filter((c) => c.state === 'in_sync').length;
  return {
    sku,
    known: true,
    available: level.available,
    version: level.version,
    updatedAt: level.updatedAt.toISOString(),
    channels,
    summary: {
      channelsInSync,
      channels: channels.length,
      shareInSync: channels.length === 0 ? 1 : round(channelsInSync / channels.length),
      oldestUnconfirmedAt: Number.isFinite(oldest) ? new Date(oldest).toISOString() : null,
      maxMsBehind,
      confidence: confidence(channels, sources.lagHalfLifeMs),
    },
  };
}

function withReadBack(status: ChannelInventoryStatus, read: ChannelRead | undefined): ChannelInventoryStatus {
  return read ? { ...status, readBack: { shown: read.shown, readAt: read.readAt.toISOString() } } : status;
}

function channelStatus(
  level: StockLevel,
  channel: string,
  rules: ChannelRules,
  stored: ChannelSkuState | undefined,
  memory: DispatchSkuStatus | undefined,
  now: number,
): ChannelInventoryStatus {
  // The store is written before memory on every confirmation, so it is never behind this process.
  const pushedVersion = Math.max(stored?.pushedVersion ?? 0, memory?.confirmedVersion ?? 0);
  // Only a running dispatcher knows the sales rate and its queue; its forecast is for the newest version it saw.
  const forecast = memory?.forecast && memory.version === level.version ? memory.forecast : undefined;
  const base = {
    channel,
    shown: stored?.pushedQuantity ?? null,
    target: forecast?.quantity ?? shownQuantity(rules, level.available),
    ...(forecast && {
      forecast: {
        allowed: forecast.allowed,
        hidden: forecast.allowed - forecast.quantity,
        salesPerSecond: round(forecast.salesPerSecond),
        horizonMs: Math.round(forecast.horizonMs),
        ...(forecast.lastUnitsOn !== undefined && { lastUnitsOn: forecast.lastUnitsOn }),
      },
    }),
    confirmedAt: stored?.confirmedAt ? stored.confirmedAt.toISOString() : null,
    pushedVersion,
  };
  if (pushedVersion >= level.version) return { ...base, versionsBehind: 0, msBehind: 0, state: 'in_sync' };

  // The ledger's updatedAt is its newest change; the dispatcher knows when the oldest unconfirmed one
  // happened. Memory may not have heard of the change yet (just committed, or another process): then
  // updatedAt is the best lower bound there is.
  let since = level.updatedAt.getTime();
  if (memory?.oldestPendingAt != null) since = Math.min(since, memory.oldestPendingAt);
  const status: ChannelInventoryStatus = { ...base, versionsBehind: level.version - pushedVersion, msBehind: Math.max(0, now - since), state: syncState(stored, memory, now) };
  const lastError = memory?.lastError ?? stored?.lastError ?? null;
  if (lastError !== null && (status.state === 'failing' || status.state === 'dead_lettered')) status.lastError = shortError(lastError);
  if (status.state === 'not_listed') {
    const reason = memory?.notListed?.reason ?? stored?.notListed?.reason ?? '';
    status.notListedReason = reason === '' ? '' : shortError(reason);
  }
  return status;
}

/**
 * Behind, so which kind of behind. In-memory state wins over the stored dead-letter mark: a newer
 * change brings a dead-lettered SKU back into play before the store hears about it. Without memory
 * (another process pushes it, or it was never seen here) the stored mark is all there is.
 */
function syncState(stored: ChannelSkuState | undefined, memory: DispatchSkuStatus | undefined, now: number): ChannelSyncState {
  if (memory ? memory.notListed : stored?.notListed) return 'not_listed';
  if ((memory ? (memory.unverifiedUntil ?? 0) : (stored?.writeUntil?.getTime() ?? 0)) > now) return 'unverified';
  if (!memory) return stored?.deadLetteredAt ? 'dead_lettered' : 'pending';
  if (memory.deadLettered) return 'dead_lettered';
  if (memory.attempts > 0) return 'failing';
  if (memory.channelThrottledUntil > now) return 'throttled';
  return 'pending';
}

/**
 * How far an agent can trust that every channel sells from the ledger's number, 0..1: the mean over
 * channels of
 *   in_sync → 1;
 *   pending or throttled → 2^(−msBehind / halfLife) (halves every sync-lag alarm threshold, 5 s by default);
 *   failing → half of that;
 *   unverified → like failing (an earlier write may still land on the channel);
 *   not_listed → 1 (the channel has no listing of the SKU, so it sells none of it);
 *   dead_lettered → 0 (nothing will move the channel until someone or a reconcile pass does).
 * With no channels the ledger is the only truth: 1. An unknown SKU: 0. Rounded to 3 decimals.
 */
export function confidence(channels: readonly Pick<ChannelInventoryStatus, 'state' | 'msBehind'>[], lagHalfLifeMs: number): number {
  if (channels.length === 0) return 1;
  let sum = 0;
  for (const c of channels) {
    const fresh = 2 ** (-c.msBehind / Math.max(1, lagHalfLifeMs));
    if (c.state === 'in_sync') sum += 1;
    else if (c.state === 'pending' || c.state === 'throttled') sum += fresh;
    else if (c.state === 'failing' || c.state === 'unverified') sum += fresh / 2;
    else if (c.state === 'not_listed') sum += 1;
  }
  return round(sum / channels.length);
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}
