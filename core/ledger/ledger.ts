import type { Kysely } from 'kysely';
import type { InventoryEvent } from '../events/event-types.ts';
import { DatabaseChannelState } from './database-channel-state.ts';
import { DatabaseReadBacks } from './database-read-backs.ts';
import { InventoryView } from './inventory-view.ts';
import { LedgerHistory } from './ledger-history.ts';
import type { AuditEntry, ListAuditOptions, ListOptions, OversellEntry, RejectedLineEntry } from './ledger-records.ts';
import type {
  BehindSku,
  ChannelFence,
  ChannelSkuState,
  ChannelStateStore,
  EventOutcome,
  PushConfirmation,
  RevisionLeft,
  StockLevel,
  WriteMark,
} from './ledger-types.ts';
import { LedgerWriter, type LedgerWriterOptions } from './ledger-writer.ts';
import type { OrderLineRow } from './plan-batch.ts';
import type { LedgerSchema } from './schema.ts';

export type LedgerOptions = LedgerWriterOptions;

/**
 * The stock ledger on one database: the one number per SKU every channel is derived from, and what is
 * known about each channel's copy of it. Made of four parts, each usable alone by code that needs only
 * that part:
 * - {@link LedgerWriter} `writer`: applies event batches, exactly once each;
 * - {@link DatabaseChannelState} `channelState`: what the dispatchers persist (the {@link ChannelStateStore});
 * - {@link InventoryView} `inventory`: levels and channel states as people and agents read them;
 * - {@link LedgerHistory} `history`: audit, oversells, rejected lines, order lines, idempotency records.
 * The methods below hand each call to its part, so callers that take the whole ledger keep one handle.
 */
export class Ledger implements ChannelStateStore {
  readonly writer: LedgerWriter;
  readonly channelState: DatabaseChannelState;
  readonly inventory: InventoryView;
  readonly history: LedgerHistory;
  /** What read-backs found channels showing, drift and its healing: see DatabaseReadBacks. */
  readonly readBacks: DatabaseReadBacks;

  /** `options.writer`: the handle batches are applied through (default `db`), see LedgerDatabase.writer. */
  constructor(db: Kysely<LedgerSchema>, options: LedgerOptions & { writer?: Kysely<LedgerSchema> } = {}) {
    this.writer = new LedgerWriter(options.writer ?? db, options);
    this.channelState = new DatabaseChannelState(db);
    this.inventory = new InventoryView(db);
    this.history = new LedgerHistory(db);
    this.readBacks = new DatabaseReadBacks(db);
  }

  // Write path: see LedgerWriter.
  applyBatch(events: readonly InventoryEvent[]): Promise<EventOutcome[]> {
    return this.writer.applyBatch(events);
  }

  // Channel state: see DatabaseChannelState.
  claimChannel(channelId: string): Promise<number> {
    return this.channelState.claimChannel(channelId);
  }
  listBehind(channelId: string): Promise<BehindSku[]> {
    return this.channelState.listBehind(channelId);
  }
  recordConfirmed(channelId: string, confirmations: readonly PushConfirmation[], fence?: ChannelFence): Promise<void> {
    return this.channelState.recordConfirmed(channelId, confirmations, fence);
  }
  recordShown(channelId: string, sku: string, quantity: number, fence?: ChannelFence): Promise<void> {
    return this.channelState.recordShown(channelId, sku, quantity, fence);
  }
  recordDeadLettered(channelId: string, items: ReadonlyArray<{ sku: string; error: string }>, fence?: ChannelFence): Promise<void> {
    return this.channelState.recordDeadLettered(channelId, items, fence);
  }
  recordWriting(channelId: string, marks: readonly WriteMark[], fence?: ChannelFence): Promise<void> {
    return this.channelState.recordWriting(channelId, marks, fence);
  }
  recordSettled(channelId: string, skus: readonly string[], fence?: ChannelFence): Promise<void> {
    return this.channelState.recordSettled(channelId, skus, fence);
  }
  recordNotListed(channelId: string, items: ReadonlyArray<{ sku: string; reason: string }>, config: string | null, fence?: ChannelFence): Promise<void> {
    return this.channelState.recordNotListed(channelId, items, config, fence);
  }
  listRevisionBudgets(channelId: string): Promise<Array<{ sku: string } & RevisionLeft>> {
    return this.channelState.listRevisionBudgets(channelId);
  }

  // Inventory: see InventoryView.
  getLevels(skus: readonly string[]): Promise<Map<string, StockLevel>> {
    return this.inventory.getLevels(skus);
  }
  getLevel(sku: string): Promise<StockLevel | undefined> {
    return this.inventory.getLevel(sku);
  }
  getChannelStates(channelId: string, skus?: readonly string[]): Promise<ChannelSkuState[]> {
    return this.inventory.getChannelStates(channelId, skus);
  }
  getChannelStatesOfSkus(channelIds: readonly string[], skus: readonly string[]): Promise<ChannelSkuState[]> {
    return this.inventory.getChannelStatesOfSkus(channelIds, skus);
  }
  readInventory(channelIds: readonly string[], skus: readonly string[]): Promise<{ levels: Map<string, StockLevel>; states: ChannelSkuState[] }> {
    return this.inventory.readInventory(channelIds, skus);
  }

  // History: see LedgerHistory.
  isProcessed(eventId: string): Promise<boolean> {
    return this.history.isProcessed(eventId);
  }
  processedAmong(eventIds: readonly string[]): Promise<Set<string>> {
    return this.history.processedAmong(eventIds);
  }
  listAudit(options?: ListAuditOptions): Promise<AuditEntry[]> {
    return this.history.listAudit(options);
  }
  listOversells(options?: ListOptions): Promise<OversellEntry[]> {
    return this.history.listOversells(options);
  }
  listRejectedLines(options?: ListOptions): Promise<RejectedLineEntry[]> {
    return this.history.listRejectedLines(options);
  }
  getOrderLines(channel: string, orderId: string): Promise<OrderLineRow[]> {
    return this.history.getOrderLines(channel, orderId);
  }
}
