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
  /** Units its cancellations and returns put back into stock. */
  restored: number;
  /** Units its confirmations asked for that stock never gave (oversold, or the SKU was unknown) and no cancellation has covered yet. */
  untaken: number;
  /** Units asked back (cancelled, or returned to stock) while the line held none: the next confirmations take that many fewer. */
  pending: number;
  /** Units its confirmations did not take because they were already asked back (`pending`). */
  netted: number;
  /** Units its returns reported, restocked or not. */
  returned: number;
  /** Units its returns said went back to stock. */
  restocked: number;
  version: number;
}

/** An order line to write: a new row (`readVersion` 0) or an existing one guarded by the version it was read at. */
export interface OrderLineWrite extends OrderLineRow {
  readVersion: number;
}

/**
 * The `order_line` key of one SKU of one order of one channel, unambiguous whatever the parts contain: the
 * first two are prefixed by their length. (A JSON array of the three was a tenth of the time a batch took to plan.)
 */
export function orderLineKey(channel: string, orderId: string, sku: string): string {
  return `${channel.length}:${channel}${orderId.length}:${orderId}${sku}`;
}

/** The order lines the new events of a batch may read or write (events without an `orderId` have none). */
export function orderLineKeysOf(event: InventoryEvent): Array<{ channel: string; orderId: string; sku: string }> {
  if ((event.type !== 'order.confirmed' && event.type !== 'order.cancelled' && event.type !== 'order.returned') || event.orderId === undefined) return [];
  const orderId = event.orderId;
  return event.lines.map((line) => ({ channel: event.channel, orderId, sku: line.sku }));
}

/** A line the table does not hold yet. A literal, not a spread of a template: this runs once per order line. */
function emptyOrderLine(channel: string, orderId: string, sku: string): OrderLineWrite {
  return { channel, orderId, sku, requested: 0, taken: 0, cancelled: 0, restored: 0, untaken: 0, pending: 0, netted: 0, returned: 0, restocked: 0, version: 0, readVersion: 0 };
}

/** Units the line holds out of stock now: what it took and was not given back. */
function held(line: OrderLineRow): number {
  return Math.max(0, line.taken - line.restored);
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
 *   first against the oversold part (`untaken`, never in stock), so stock 50, an order of 80 (30 oversold)
 *   and its cancellation end at 50, not 80; cancelling 30 of it first restores nothing. Then they restore
 *   what the line holds (`taken - restored`). Partial and repeated cancellations never restore more than
 *   was taken.
 * - Cancel before confirm: units cancelled beyond what the line holds (its confirmation not applied yet)
 *   restore nothing and are kept as `pending`; a confirmation of the line takes that many units fewer
 *   (`netted`), so confirmation and cancellation net to zero in either order. A cancellation without an
 *   `orderId` cannot be matched and puts its qty back in full.
 * - `order.returned` (a refund or return, always with an `orderId`) puts back only the units the channel
 *   says went back into stock (`restock`), and never more than the line holds (`taken - restored`): a
 *   refund without restocking changes nothing but the line's `returned`. Restocked units beyond what the
 *   line holds (its confirmation not applied yet) are `pending`, netted like an early cancellation.
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
      line = emptyOrderLine(event.channel, event.orderId, sku);
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
            if (orderLine !== undefined) orderLine.untaken += line.qty;
            reject(line.sku, line.qty);
            continue;
          }
          touch(line.sku, state, false);
          // Units already asked back before this confirmation came were never taken: net them.
          const netted = orderLine === undefined ? 0 : Math.min(line.qty, orderLine.pending);
          const wanted = line.qty - netted;
          const taken = Math.min(wanted, state.available);
          if (taken < wanted) {
            const record: OversellRecord = {
              eventId: event.id,
              channel: event.channel,
              sku: line.sku,
              requested: wanted,
              availableBefore: state.available,
              shortfall: wanted - taken,
            };
            oversells.push(record);
            draft.oversells.push(record);
          }
          state.available -= taken;
          if (orderLine !== undefined) {
            orderLine.pending -= netted;
            orderLine.netted += netted;
            orderLine.taken += taken;
            orderLine.untaken += wanted - taken;
          }
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
            // No order id: nothing says what was taken, so the qty goes back as the channel states it.
            state.available += line.qty;
            continue;
          }
          changedLines.add(orderLine);
          orderLine.cancelled += line.qty;
          // Oversold units first (never in stock), then what the line holds; the rest was asked back before
          // its confirmation was applied and waits for it.
          const uncovered = Math.min(line.qty, orderLine.untaken);
          orderLine.untaken -= uncovered;
          const restore = Math.min(line.qty - uncovered, held(orderLine));
          orderLine.restored += restore;
          state.available += restore;
          orderLine.pending += line.qty - uncovered - restore;
        }
        break;
      case 'order.returned':
        for (const line of event.lines) {
          const state = states.get(line.sku);
          if (state === undefined) {
            reject(line.sku, line.qty);
            continue;
          }
          touch(line.sku, state, false);
          const orderLine = orderLineOf(event, line.sku)!;
          changedLines.add(orderLine);
          orderLine.returned += line.qty;
          orderLine.restocked += line.restock;
          // Returned units were shipped, so they come out of what the line holds, never its oversold part.
          const restore = Math.min(line.restock, held(orderLine));
          orderLine.restored += restore;
          state.available += restore;
          // Back in stock before the confirmation was applied: that confirmation takes them fewer.
          orderLine.pending += line.restock - restore;
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
