import type { EventType } from '../../core/events/event-types.ts';
import type {
  BehindSku,
  ChannelSkuState,
  ChannelStateStore,
  LedgerChange,
  PushConfirmation,
  StockLevel,
} from '../../core/ledger/ledger-types.ts';

/**
 * An in-memory ChannelStateStore with the ledger's semantics (level-triggered: behind = pushed
 * version below ledger version), for dispatcher tests that are about timing and ordering, not SQL.
 * `failing` makes every call throw, as a database outage would.
 */
export class MemoryChannelState implements ChannelStateStore {
  readonly levels = new Map<string, StockLevel>();
  readonly channels = new Map<string, Map<string, ChannelSkuState>>();
  /** Every call in order, by method name, for assertions. */
  readonly calls: Array<{ method: string; channelId: string; skus: string[] }> = [];
  failing = false;
  #eventSeq = 0;

  /** Sets a SKU's ledger quantity as a committed event would, and returns the change it made. */
  apply(sku: string, available: number, options: { channel?: string; occurredAt?: Date; eventType?: EventType } = {}): LedgerChange {
    const now = new Date();
    const before = this.levels.get(sku);
    const version = (before?.version ?? 0) + 1;
    this.levels.set(sku, { sku, available, version, updatedAt: options.occurredAt ?? now });
    this.#eventSeq += 1;
    return {
      sku,
      before: before?.available ?? 0,
      available,
      version,
      eventId: `test:${this.#eventSeq}`,
      eventType: options.eventType ?? 'stock.set',
      eventChannel: options.channel ?? 'manual',
      occurredAt: options.occurredAt ?? now,
      committedAt: now,
    };
  }

  /** What the store holds for one SKU on one channel. */
  state(channelId: string, sku: string): ChannelSkuState | undefined {
    return this.channels.get(channelId)?.get(sku);
  }

  async listBehind(channelId: string): Promise<BehindSku[]> {
    this.#enter('listBehind', channelId, []);
    const behind: BehindSku[] = [];
    for (const level of this.levels.values()) {
      const state = this.state(channelId, level.sku);
      const pushedVersion = state?.pushedVersion ?? 0;
      if (pushedVersion >= level.version) continue;
      behind.push({ ...level, pushedVersion, pushedQuantity: state?.pushedQuantity ?? null });
    }
    return behind;
  }

  async getLevels(skus: readonly string[]): Promise<Map<string, StockLevel>> {
    this.#enter('getLevels', '', [...skus]);
    const found = new Map<string, StockLevel>();
    for (const sku of skus) {
      const level = this.levels.get(sku);
      if (level) found.set(sku, { ...level });
    }
    return found;
  }

  async recordConfirmed(channelId: string, confirmations: readonly PushConfirmation[]): Promise<void> {
    this.#enter('recordConfirmed', channelId, confirmations.map((c) => c.sku));
    for (const c of confirmations) {
      const state = this.#row(channelId, c.sku);
      if (c.version < state.pushedVersion) continue;
      state.pushedVersion = c.version;
      state.pushedQuantity = c.quantity;
      state.confirmedAt = c.confirmedAt;
      state.deadLetteredAt = null;
      state.lastError = null;
    }
  }

  async recordShown(channelId: string, sku: string, quantity: number): Promise<void> {
    this.#enter('recordShown', channelId, [sku]);
    this.#row(channelId, sku).pushedQuantity = quantity;
  }

  async recordDeadLettered(channelId: string, items: ReadonlyArray<{ sku: string; error: string }>): Promise<void> {
    this.#enter('recordDeadLettered', channelId, items.map((i) => i.sku));
    for (const item of items) {
      const state = this.#row(channelId, item.sku);
      state.deadLetteredAt = new Date();
      state.lastError = item.error;
    }
  }

  #enter(method: string, channelId: string, skus: string[]): void {
    this.calls.push({ method, channelId, skus });
    if (this.failing) throw new Error(`connection refused (${method})`);
  }

  #row(channelId: string, sku: string): ChannelSkuState {
    let rows = this.channels.get(channelId);
    if (!rows) {
      rows = new Map();
      this.channels.set(channelId, rows);
    }
    let row = rows.get(sku);
    if (!row) {
      row = { channelId, sku, pushedVersion: 0, pushedQuantity: null, confirmedAt: null, deadLetteredAt: null, lastError: null };
      rows.set(sku, row);
    }
    return row;
  }
}
