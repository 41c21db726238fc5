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
  /**
   * A write of this SKU was sent to the channel and may still land until then: what the channel shows
   * is unverified until a read-back or a confirmed later write proves it. Absent or null: none.
   */
  writeUntil?: Date | null;
  /** The channel said it has no listing for this SKU: not pushed there until its config changes or an operator retries. */
  notListed?: NotListedMark | null;
}

/** A channel's "no listing for this SKU" answer, as stored. */
export interface NotListedMark {
  at: Date;
  reason: string;
  /** Fingerprint of the channel's connector and options when the channel said so. */
  config: string;
}

/** A SKU whose channel state is behind the ledger: needs a push. */
export interface BehindSku {
  sku: string;
  available: number;
  version: number;
  updatedAt: Date;
  pushedVersion: number;
  pushedQuantity: number | null;
  /** See {@link ChannelSkuState.writeUntil}. */
  writeUntil: Date | null;
  notListed: NotListedMark | null;
}

export interface PushConfirmation {
  sku: string;
  version: number;
  quantity: number;
  confirmedAt: Date;
}

/**
 * The lease epoch of the process writing a channel's state. Writes that carry one are refused by the
 * database (with a `SR_CHANNEL_FENCED` error (ChannelFencedError)) once a newer holder claimed the channel.
 */
export interface ChannelFence {
  epoch: number;
}

/** A write about to be sent: the SKU, until when it may land, and what is left of its revision budget. */
export interface WriteMark {
  sku: string;
  until: Date;
  revision?: RevisionLeft;
}

/** Revisions a SKU has left in its daily budget at a moment (a token bucket's state). */
export interface RevisionLeft {
  tokens: number;
  at: Date;
}

/**
 * Durable per-(channel, SKU) push state: level-triggered dispatch compares it with the ledger version.
 * Implemented on the ledger database by `DatabaseChannelState` (which a `Ledger` hands its calls to); used by
 * the dispatchers. Every write takes the writer's optional {@link ChannelFence}.
 */
export interface ChannelStateStore {
  /**
   * Makes the caller the channel's pusher: bumps and returns the channel's lease epoch. Writes fenced
   * with an older epoch are refused from then on.
   */
  claimChannel(channelId: string): Promise<number>;
  /** Every SKU whose `pushedVersion` is below the ledger version for `channelId` (dead-lettered and not-listed included). */
  listBehind(channelId: string): Promise<BehindSku[]>;
  /** Current ledger levels of these SKUs (missing SKUs are absent from the map). */
  getLevels(skus: readonly string[]): Promise<Map<string, StockLevel>>;
  /**
   * Records confirmed pushes; never lowers a stored `pushedVersion`. Clears dead-letter marks, not-listed
   * marks and write marks of the confirmed SKUs.
   */
  recordConfirmed(channelId: string, confirmations: readonly PushConfirmation[], fence?: ChannelFence): Promise<void>;
  /** Records what the channel said it shows after a compare-and-set refusal. */
  recordShown(channelId: string, sku: string, quantity: number, fence?: ChannelFence): Promise<void>;
  /** Marks SKUs dead-lettered for this channel with the last error. */
  recordDeadLettered(channelId: string, items: ReadonlyArray<{ sku: string; error: string }>, fence?: ChannelFence): Promise<void>;
  /**
   * Called before a write is sent: these SKUs' writes may land until `until` (never moved earlier), and
   * their revision budgets are now as given. Resolves once durable.
   */
  recordWriting(channelId: string, marks: readonly WriteMark[], fence?: ChannelFence): Promise<void>;
  /** These SKUs' writes were answered (or refused) by the channel: none of them can land later. Clears their in-flight marks. */
  recordSettled(channelId: string, skus: readonly string[], fence?: ChannelFence): Promise<void>;
  /** Marks SKUs not listed on this channel, with the channel's reason and the config fingerprint; null `config` clears. */
  recordNotListed(channelId: string, items: ReadonlyArray<{ sku: string; reason: string }>, config: string | null, fence?: ChannelFence): Promise<void>;
  /** Revision budgets stored for this channel's SKUs (only those not full when last written). */
  listRevisionBudgets(channelId: string): Promise<Array<{ sku: string } & RevisionLeft>>;
}

/** One SKU as a read-back sweep lists it: the ledger level and what the channel confirmed. */
export interface SkuSyncLevel {
  sku: string;
  available: number;
  version: number;
  /** Ledger version the channel last confirmed (0: never pushed). */
  pushedVersion: number;
}

/** What a channel was found showing for one SKU that differs from what its rules give for the ledger. */
export interface DriftFinding {
  sku: string;
  /** What the channel showed when read. */
  shown: number;
  /** What the channel's rules give for the ledger at `version`. */
  expected: number;
  version: number;
  readAt: Date;
}

/** What the last read-back found a channel showing for a SKU. */
export interface ChannelRead {
  channelId: string;
  sku: string;
  shown: number;
  readAt: Date;
}

/**
 * Durable record of reconciliation: what read-backs found channels showing, the drift they found, and
 * the pushes that healed it. Written by the dispatchers' read-back sweeps and `stockrelay reconcile`;
 * none of it is fenced (a record of what was seen, not a claim on the channel).
 */
export interface ReadBackStore {
  /** Ledger levels of up to `limit` SKUs after `afterSku` (by SKU), with what `channelId` confirmed. */
  listLevels(channelId: string, afterSku: string, limit: number): Promise<SkuSyncLevel[]>;
  /** What these SKUs were read showing at `readAt` (the latest read per SKU is kept). */
  recordReads(channelId: string, reads: ReadonlyArray<{ sku: string; shown: number }>, readAt: Date): Promise<void>;
  /** Adds one drift row per finding. */
  recordDrift(channelId: string, findings: readonly DriftFinding[]): Promise<void>;
  /** The healing pushes were confirmed: open drift rows of these SKUs get what the channel now shows. */
  recordHealed(channelId: string, healed: ReadonlyArray<{ sku: string; quantity: number; at: Date }>): Promise<void>;
  /**
   * Makes these SKUs behind on the channel (confirmed version 0, shown as read) so whichever process
   * pushes the channel pushes them at its next reconcile pass, without taking the channel over.
   */
  markBehind(channelId: string, reads: ReadonlyArray<{ sku: string; shown: number }>): Promise<void>;
  /** The last read of `sku` on every channel (or one), by channel id. */
  lastReads(sku: string, channelId?: string): Promise<ChannelRead[]>;
}
