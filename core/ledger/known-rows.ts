import type { InventoryEvent } from '../events/event-types.ts';
import { orderLineKey, orderLineKeysOf, skusOf, type BatchPlan, type OrderLineRow, type StockRow } from './plan-batch.ts';

/** What a batch is planned from: the events already processed, and the stock rows and order lines it names. */
export interface BatchSnapshot {
  processed: Set<string>;
  stock: Map<string, StockRow>;
  orderLines: Map<string, OrderLineRow>;
}

/** Most SKUs and order lines remembered; past either, that map starts again empty (the next batch reads). */
const MAX_SKUS = 100_000;
const MAX_ORDER_LINES = 50_000;
/** Longest run of batches read from the database after guesses missed, before guessing again. */
const MAX_READS_AFTER_MISS = 1_024;

/**
 * The stock rows and order lines as this writer's last commits left them, so that the next batch can be
 * planned without first reading them back: one round trip of two per batch, the read that a group waited
 * for after the previous group's commit.
 *
 * A guess, never trusted: the batch write checks every assumption a plan made from it (each stock row it
 * changes or relies on still has the version remembered, each remembered order line still has its
 * version, each line taken as new does not exist yet, each event taken as new was not processed) and
 * raises a conflict when one does not hold, committing nothing. The writer then reads and plans again.
 * So another hub writing the same rows, a pruned cache or a redelivered event costs one wasted write,
 * never a wrong ledger. After a miss the writer reads for a while (doubling on each miss) so that two
 * hubs sharing hot SKUs do not waste every other write.
 *
 * A batch is guessed only when every SKU it names is remembered (a SKU not remembered may exist or not,
 * and an unknown SKU's order line is rejected without any write that could check it) and every order
 * line it names is remembered, or belongs to a confirmation (a new order's lines do not exist yet; if
 * one does, its insert finds it and the batch conflicts).
 */
export class KnownRows {
  readonly #stock = new Map<string, StockRow>();
  readonly #lines = new Map<string, OrderLineRow>();
  #readsLeft = 0;
  #readsAfterMiss = 0;

  /** The snapshot for `candidates` (each event's first occurrence in a batch) from memory, or undefined when it must be read. */
  guess(candidates: readonly InventoryEvent[]): BatchSnapshot | undefined {
    if (this.#readsLeft > 0) {
      this.#readsLeft--;
      return undefined;
    }
    const stock = new Map<string, StockRow>();
    const orderLines = new Map<string, OrderLineRow>();
    for (const event of candidates) {
      for (const sku of skusOf(event)) {
        const row = this.#stock.get(sku);
        if (row === undefined) return undefined;
        stock.set(sku, row);
      }
      for (const k of orderLineKeysOf(event)) {
        const key = orderLineKey(k.channel, k.orderId, k.sku);
        const line = this.#lines.get(key);
        if (line !== undefined) orderLines.set(key, line);
        else if (event.type !== 'order.confirmed') return undefined;
      }
    }
    return { processed: new Set(), stock, orderLines };
  }

  /** After a commit: the rows as the batch found them, with what its plan wrote on top. */
  remember(snapshot: BatchSnapshot, plan: BatchPlan, guessed: boolean): void {
    if (guessed) this.#readsAfterMiss = 0;
    if (this.#stock.size + snapshot.stock.size > MAX_SKUS) this.#stock.clear();
    if (this.#lines.size + plan.orderLines.length > MAX_ORDER_LINES) this.#lines.clear();
    for (const [sku, row] of snapshot.stock) this.#stock.set(sku, row);
    for (const u of plan.updates) this.#stock.set(u.sku, { sku: u.sku, available: u.available, version: u.version });
    for (const i of plan.inserts) this.#stock.set(i.sku, { sku: i.sku, available: i.available, version: i.version });
    for (const [key, line] of snapshot.orderLines) this.#lines.set(key, line);
    for (const l of plan.orderLines) {
      const { readVersion: _readVersion, ...row } = l;
      this.#lines.set(orderLineKey(l.channel, l.orderId, l.sku), row);
    }
  }

  /** A guess missed: forget everything and read the next batches, more of them after each miss in a row. */
  missed(): void {
    this.forget();
    this.#readsAfterMiss = Math.min(MAX_READS_AFTER_MISS, Math.max(1, this.#readsAfterMiss * 2));
    this.#readsLeft = this.#readsAfterMiss;
  }

  /** Anything else went wrong (the batch was refused, the connection lost): what the database holds is unknown. */
  forget(): void {
    this.#stock.clear();
    this.#lines.clear();
  }
}
