import type { EventType } from '../events/event-types.ts';

/** What one SKU looks like in the ledger right now. */
export interface StockLevel {
  sku: string;
  available: number;
  version: number;
  updatedAt: Date;
}

/** One committed change of one SKU, announced to the dispatchers after commit. */
export interface LedgerChange {
  sku: string;
  before: number;
  available: number;
  /** Version after the change; strictly increasing per SKU. */
  version: number;
  eventId: string;
  eventType: EventType;
  /** The channel the event came from (its own dispatcher treats what it shows as unknown). */
  eventChannel: string;
  occurredAt: Date;
  committedAt: Date;
}

export interface OversellRecord {
  eventId: string;
  channel: string;
  sku: string;
  requested: number;
  availableBefore: number;
  shortfall: number;
}

/** A line the ledger could not apply (order for a SKU it does not know): recorded, never dropped. */
export interface RejectedLine {
  eventId: string;
  channel: string;
  sku: string;
  reason: 'unknown_sku';
}

export interface EventOutcome {
  eventId: string;
  /** `duplicate`: the idempotency record already existed; nothing changed. */
  status: 'applied' | 'duplicate';
  changes: LedgerChange[];
  oversells: OversellRecord[];
  rejectedLines: RejectedLine[];
}

/** What the hub knows of one SKU on one channel. */
export interface ChannelSkuState {
  channelId: string;
  sku: string;
  /** Ledger version last confirmed on the channel (0 when never pushed). */
  pushedVersion: number;
  /** Quantity the channel last confirmed showing, when known. */
  pushedQuantity: number | null;
  confirmedAt: Date | null;
  deadLetteredAt: Date | null;
  lastError: string | null;
}

/** A SKU whose channel state is behind the ledger: needs a push. */
export interface BehindSku {
  sku: string;
  available: number;
  version: number;
  updatedAt: Date;
  pushedVersion: number;
  pushedQuantity: number | null;
}

export interface PushConfirmation {
  sku: string;
  version: number;
  quantity: number;
  confirmedAt: Date;
}

/**
 * Durable per-(channel, SKU) push state: level-triggered dispatch compares it with the ledger version.
 * Implemented by the ledger; used by the dispatchers.
 */
export interface ChannelStateStore {
  /** Every SKU whose `pushedVersion` is below the ledger version for `channelId` (dead-lettered included). */
  listBehind(channelId: string): Promise<BehindSku[]>;
  /** Current ledger levels of these SKUs (missing SKUs are absent from the map). */
  getLevels(skus: readonly string[]): Promise<Map<string, StockLevel>>;
  /** Records confirmed pushes; never lowers a stored `pushedVersion`. Clears dead-letter marks. */
  recordConfirmed(channelId: string, confirmations: readonly PushConfirmation[]): Promise<void>;
  /** Records what the channel said it shows after a compare-and-set refusal. */
  recordShown(channelId: string, sku: string, quantity: number): Promise<void>;
  /** Marks SKUs dead-lettered for this channel with the last error. */
  recordDeadLettered(channelId: string, items: ReadonlyArray<{ sku: string; error: string }>): Promise<void>;
}
