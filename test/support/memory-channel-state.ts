import type { EventType } from '../../core/events/event-types.ts';
import { ChannelFencedError } from '../../core/ledger/channel-fenced-error.ts';
import type {
  BehindSku,
  ChannelFence,
  ChannelSkuState,
  ChannelStateStore,
  LedgerChange,
  PushConfirmation,
  RevisionLeft,
  StockLevel,
  WriteMark,
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
  /** Where `apply` and the store's own stamps read the time (a test's clock). */
  now: () => number = () => Date.now();
  /** Lease epoch per channel (bumped by claimChannel); fenced writes with another epoch are refused. */
  readonly epochs = new Map<string, number>();
  readonly revisions = new Map<string, Map<string, RevisionLeft>>();
  #eventSeq = 0;

  /** Sets a SKU's ledger quantity as a committed event would, and returns the change it made. */
  apply(sku: string, available: number, options: { channel?: string; occurredAt?: Date; eventType?: EventType } = {}): LedgerChange {
    const now = new Date(this.now());
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
      behind.push({ ...level, pushedVersion, pushedQuantity: state?.pushedQuantity ?? null, writeUntil: state?.writeUntil ?? null, notListed: state?.notListed ?? null });
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

  async claimChannel(channelId: string): Promise<number> {
    this.#enter('claimChannel', channelId, []);
    const epoch = (this.epochs.get(channelId) ?? 0) + 1;
    this.epochs.set(channelId, epoch);
    return epoch;
  }

  async recordConfirmed(channelId: string, confirmations: readonly PushConfirmation[], fence?: ChannelFence): Promise<void> {
    this.#enter('recordConfirmed', channelId, confirmations.map((c) => c.sku), fence);
    for (const c of confirmations) {
      const state = this.#row(channelId, c.sku);
      state.deadLetteredAt = null;
      state.lastError = null;
      state.writeUntil = null;
      state.notListed = null;
      if (c.version < state.pushedVersion) continue;
      state.pushedVersion = c.version;
      state.pushedQuantity = c.quantity;
      state.confirmedAt = c.confirmedAt;
    }
  }

  async recordShown(channelId: string, sku: string, quantity: number, fence?: ChannelFence): Promise<void> {
    this.#enter('recordShown', channelId, [sku], fence);
    const row = this.#row(channelId, sku);
    row.pushedQuantity = quantity;
    row.writeUntil = null;
  }

  async recordWriting(channelId: string, marks: readonly WriteMark[], fence?: ChannelFence): Promise<void> {
    this.#enter('recordWriting', channelId, marks.map((m) => m.sku), fence);
    for (const mark of marks) {
      const state = this.#row(channelId, mark.sku);
      if (!state.writeUntil || state.writeUntil < mark.until) state.writeUntil = mark.until;
      if (mark.revision) {
        let budgets = this.revisions.get(channelId);
        if (!budgets) this.revisions.set(channelId, (budgets = new Map()));
        budgets.set(mark.sku, { ...mark.revision });
      }
    }
  }

  async recordNotListed(channelId: string, items: ReadonlyArray<{ sku: string; reason: string }>, config: string | null, fence?: ChannelFence): Promise<void> {
    this.#enter('recordNotListed', channelId, items.map((i) => i.sku), fence);
    for (const item of items) {
      const row = this.#row(channelId, item.sku);
      row.notListed = config === null ? null : { at: new Date(this.now()), reason: item.reason, config };
      if (config !== null) row.writeUntil = null;
    }
  }

  async recordSettled(channelId: string, skus: readonly string[], fence?: ChannelFence): Promise<void> {
    this.#enter('recordSettled', channelId, [...skus], fence);
    for (const sku of skus) {
      const row = this.channels.get(channelId)?.get(sku);
      if (row) row.writeUntil = null;
    }
  }

  async listRevisionBudgets(channelId: string): Promise<Array<{ sku: string } & RevisionLeft>> {
    this.#enter('listRevisionBudgets', channelId, []);
    return [...(this.revisions.get(channelId) ?? new Map<string, RevisionLeft>())].map(([sku, left]) => ({ sku, ...left }));
  }

  async recordDeadLettered(channelId: string, items: ReadonlyArray<{ sku: string; error: string }>, fence?: ChannelFence): Promise<void> {
    this.#enter('recordDeadLettered', channelId, items.map((i) => i.sku), fence);
    for (const item of items) {
      const state = this.#row(channelId, item.sku);
      state.deadLetteredAt = new Date(this.now());
      state.lastError = item.error;
    }
  }

  #enter(method: string, channelId: string, skus: string[], fence?: ChannelFence): void {
    this.calls.push({ method, channelId, skus });
    if (this.failing) throw new Error(`connection refused (${method})`);
    if (fence !== undefined && this.epochs.get(channelId) !== fence.epoch) throw new ChannelFencedError(channelId, fence.epoch);
  }

  #row(channelId: string, sku: string): ChannelSkuState {
    let rows = this.channels.get(channelId);
    if (!rows) {
      rows = new Map();
      this.channels.set(channelId, rows);
    }
    let row = rows.get(sku);
    if (!row) {
      row = { channelId, sku, pushedVersion: 0, pushedQuantity: null, confirmedAt: null, deadLetteredAt: null, lastError: null, writeUntil: null, notListed: null };
      rows.set(sku, row);
    }
    return row;
  }
}
