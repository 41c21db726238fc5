import type { EventType, InventoryEvent } from '../events/event-types.ts';
import type { EventOutcome, LedgerChange, OversellRecord, RejectedLine } from './ledger-types.ts';

/** A SKU's row as read at the start of the batch. */
export interface StockRow {
  sku: string;
  available: number;
  version: number;
}

/** An existing row to write back, guarded by the version it was read at. */
export interface StockUpdate {
  sku: string;
  available: number;
  readVersion: number;
  version: number;
}

export interface StockInsert {
  sku: string;
  available: number;
  version: number;
}

export interface AuditDraft {
  eventId: string;
  eventType: EventType;
  channel: string;
  sku: string;
  before: number;
  after: number;
  version: number;
  clamped: number;
  occurredAt: string;
}

export interface RejectedDraft extends RejectedLine {
  qty: number;
}

/** What one order has taken from and given back to one SKU so far (a row of `order_line`). */
export interface OrderLineRow {
  channel: string;
  orderId: string;
  sku: string;
  /** Units its confirmations asked for. */
  requested: number;
  /** Units its confirmations actually took from stock; `requested - taken` was oversold. */
  taken: number;
  /** Units its cancellations asked back. */
  cancelled: number;
  /** Units its cancellations put back into stock. */
  restored: number;
  version: number;
}

/** An order line to write: a new row (`readVersion` 0) or an existing one guarded by the version it was read at. */
export interface OrderLineWrite extends OrderLineRow {
  readVersion: number;
}

/** The `order_line` key of one SKU of one order of one channel. */
export function orderLineKey(channel: string, orderId: string, sku: string): string {
  return JSON.stringify([channel, orderId, sku]);
}

/** The order lines the new events of a batch may read or write (events without an `orderId` have none). */
export function orderLineKeysOf(event: InventoryEvent): Array<{ channel: string; orderId: string; sku: string }> {
  if ((event.type !== 'order.confirmed' && event.type !== 'order.cancelled') || event.orderId === undefined) return [];
  const orderId = event.orderId;
  return event.lines.map((line) => ({ channel: event.channel, orderId, sku: line.sku }));
}

/** Everything one batch writes, computed in memory from the rows it read. */
export interface BatchPlan {
  updates: StockUpdate[];
  inserts: StockInsert[];
  audit: AuditDraft[];
  oversells: OversellRecord[];
  rejected: RejectedDraft[];
  /** Order lines created (`readVersion` 0) or changed by the batch. */
  orderLines: OrderLineWrite[];
  /** The outcomes in input order, stamped with the commit time once the transaction committed. */
  outcomes(committedAt: Date): EventOutcome[];
}

interface SkuState {
  available: number;
  version: number;
  readVersion: number;
  /** Not in the table when the batch read it: written with an INSERT. */
  created: boolean;
}

interface EventDraft {
  eventId: string;
  status: 'applied' | 'duplicate';
  changes: Omit<LedgerChange, 'committedAt'>[];
  oversells: OversellRecord[];
  rejectedLines: RejectedLine[];
}

/** The SKUs an event's lines name, in line order (a SKU may repeat). */
export function skusOf(event: InventoryEvent): string[] {
  return event.lines.map((line) => line.sku);
}

/**
 * Applies `events` in order to the rows read, in memory.
 *
 * Rules (the ledger's semantics):
 * - `order.confirmed` takes each line's qty; when short it takes what is there (never below 0) and
 *   records an oversell with the shortfall — the sale already happened on the channel.
 * - `order.cancelled` puts back only what the order took: per (channel, orderId, SKU) the ledger keeps what
 *   confirmations asked for and took and what cancellations asked back and restored. Units cancelled count
 *   first against the oversold part (`requested - taken`, never in stock), so stock 50, an order of 80
 *   (30 oversold) and its cancellation end at 50, not 80; cancelling 30 of it first restores nothing.
 *   Partial and repeated cancellations never restore more than was taken. A cancellation whose confirmation
 *   the ledger never applied (no `orderId`, or confirmed before the ledger kept order lines) puts its qty
 *   back in full, as before, and is recorded so a confirmation arriving later is counted against it.
 * - `stock.adjusted` adds the delta, clamped at 0. A count that removes more than the ledger holds is
 *   a counting correction, not a sale, so it is not an oversell; the units ignored are kept in the
 *   audit row's `clamped`. An adjustment that finds 0 and would go lower changes nothing and so leaves
 *   no audit row (the event is still recorded as processed).
 * - `stock.set` sets the count.
 * - An order or cancel line for a SKU the ledger does not know is rejected (`unknown_sku`); a set or
 *   adjust for one creates it. Creating a SKU is always a change (version 1, before 0), even at 0, so
 *   channels learn the SKU's number.
 * - Lines of one event touching the same SKU make one change; a change bumps the SKU's version by one
 *   and writes one audit row. A SKU whose quantity the event leaves as it was is not changed.
 *
 * `isNew(i)` says whether event `i` passed the idempotency check; other events are duplicates.
 */
export function planBatch(
  events: readonly InventoryEvent[],
  isNew: (index: number) => boolean,
  rows: ReadonlyMap<string, StockRow>,
  orderLineRows: ReadonlyMap<string, OrderLineRow> = new Map(),
): BatchPlan {
  const orderLines = new Map<string, OrderLineWrite>();
  for (const [key, row] of orderLineRows) orderLines.set(key, { ...row, readVersion: row.version });
  const orderLineOf = (event: InventoryEvent & { orderId?: string }, sku: string): OrderLineWrite | undefined => {
    if (event.orderId === undefined) return undefined;
    const key = orderLineKey(event.channel, event.orderId, sku);
    let line = orderLines.get(key);
    if (line === undefined) {
      line = { channel: event.channel, orderId: event.orderId, sku, requested: 0, taken: 0, cancelled: 0, restored: 0, version: 0, readVersion: 0 };
      orderLines.set(key, line);
    }
    return line;
  };
  const changedLines = new Set<OrderLineWrite>();
  const states = new Map<string, SkuState>();
  for (const row of rows.values()) {
    states.set(row.sku, { available: row.available, version: row.version, readVersion: row.version, created: false });
  }
  const audit: AuditDraft[] = [];
  const oversells: OversellRecord[] = [];
  const rejected: RejectedDraft[] = [];
  const drafts: EventDraft[] = [];

  events.forEach((event, index) => {
    const draft: EventDraft = { eventId: event.id, status: 'duplicate', changes: [], oversells: [], rejectedLines: [] };
    drafts.push(draft);
    if (!isNew(index)) return;
    draft.status = 'applied';

    // Per SKU touched by this event: quantity before the event, and units clamped away.
    const touched = new Map<string, { before: number; clamped: number; created: boolean }>();
    const touch = (sku: string, state: SkuState, created: boolean) => {
      let entry = touched.get(sku);
      if (entry === undefined) {
        entry = { before: state.available, clamped: 0, created };
        touched.set(sku, entry);
      }
      return entry;
    };
    const reject = (sku: string, qty: number) => {
      const line: RejectedDraft = { eventId: event.id, channel: event.channel, sku, reason: 'unknown_sku', qty };
      rejected.push(line);
      draft.rejectedLines.push({ eventId: line.eventId, channel: line.channel, sku, reason: line.reason });
    };
    const stateOrCreate = (sku: string): { state: SkuState; created: boolean } => {
      const existing = states.get(sku);
      if (existing !== undefined) return { state: existing, created: false };
      const state: SkuState = { available: 0, version: 0, readVersion: 0, created: true };
      states.set(sku, state);
      return { state, created: true };
    };

    switch (event.type) {
      case 'order.confirmed':
        for (const line of event.lines) {
          const state = states.get(line.sku);
          const orderLine = orderLineOf(event, line.sku);
          if (orderLine !== undefined) {
            orderLine.requested += line.qty;
            changedLines.add(orderLine);
          }
          if (state === undefined) {
            // Nothing taken: a cancellation after the SKU appears must not restore these units either.
            reject(line.sku, line.qty);
            continue;
          }
          touch(line.sku, state, false);
          const taken = Math.min(line.qty, state.available);
          if (taken < line.qty) {
            const record: OversellRecord = {
              eventId: event.id,
              channel: event.channel,
              sku: line.sku,
              requested: line.qty,
              availableBefore: state.available,
              shortfall: line.qty - taken,
            };
            oversells.push(record);
            draft.oversells.push(record);
          }
          state.available -= taken;
          if (orderLine !== undefined) orderLine.taken += taken;
        }
        break;
      case 'order.cancelled':
        for (const line of event.lines) {
          const state = states.get(line.sku);
          if (state === undefined) {
            reject(line.sku, line.qty);
            continue;
          }
          touch(line.sku, state, false);
          const orderLine = orderLineOf(event, line.sku);
          if (orderLine === undefined) {
            state.available += line.qty;
            continue;
          }
          changedLines.add(orderLine);
          orderLine.cancelled += line.qty;
          if (orderLine.requested === 0) {
            // No confirmation applied for this order line: put the qty back as before order lines were kept.
            orderLine.restored += line.qty;
            state.available += line.qty;
            continue;
          }
          const oversold = orderLine.requested - orderLine.taken;
          const restorable = Math.min(orderLine.taken, Math.max(0, orderLine.cancelled - oversold));
          const restore = Math.max(0, restorable - orderLine.restored);
          orderLine.restored += restore;
          state.available += restore;
        }
        break;
      case 'stock.adjusted':
        for (const line of event.lines) {
          const { state, created } = stateOrCreate(line.sku);
          const entry = touch(line.sku, state, created);
          const next = state.available + line.delta;
          if (next < 0) entry.clamped += -next;
          state.available = Math.max(0, next);
        }
        break;
      case 'stock.set':
        for (const line of event.lines) {
          const { state, created } = stateOrCreate(line.sku);
          touch(line.sku, state, created);
          state.available = line.quantity;
        }
        break;
    }

    const occurredAt = new Date(event.occurredAt);
    for (const [sku, entry] of touched) {
      const state = states.get(sku)!;
      if (!entry.created && state.available === entry.before) continue;
      state.version += 1;
      audit.push({
        eventId: event.id,
        eventType: event.type,
        channel: event.channel,
        sku,
        before: entry.before,
        after: state.available,
        version: state.version,
        clamped: entry.clamped,
        occurredAt: event.occurredAt,
      });
      draft.changes.push({
        sku,
        before: entry.before,
        available: state.available,
        version: state.version,
        eventId: event.id,
        eventType: event.type,
        eventChannel: event.channel,
        occurredAt,
      });
    }
  });

  const updates: StockUpdate[] = [];
  const inserts: StockInsert[] = [];
  for (const [sku, state] of states) {
    if (state.created) inserts.push({ sku, available: state.available, version: state.version });
    else if (state.version !== state.readVersion) {
      updates.push({ sku, available: state.available, readVersion: state.readVersion, version: state.version });
    }
  }

  for (const line of changedLines) line.version = line.readVersion + 1;

  return {
    updates,
    inserts,
    audit,
    oversells,
    rejected,
    orderLines: [...changedLines],
    outcomes: (committedAt) =>
      drafts.map((d) => ({
        eventId: d.eventId,
        status: d.status,
        changes: d.changes.map((c) => ({ ...c, committedAt })),
        oversells: d.oversells,
        rejectedLines: d.rejectedLines,
      })),
  };
}
