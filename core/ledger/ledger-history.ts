import { sql, type Kysely } from 'kysely';
import type { AuditEntry, ListAuditOptions, ListOptions, OversellEntry, RejectedLineEntry } from './ledger-records.ts';
import { anyOf, auditEntry, orderLineRow, oversellEntry, rejectedLineEntry } from './ledger-rows.ts';
import type { OrderLineRow } from './plan-batch.ts';
import type { LedgerSchema } from './schema.ts';

const DEFAULT_LIST_LIMIT = 100;

/** A stretch of one SKU's versions, for {@link LedgerHistory.listSkuChanges}. */
export interface SkuChangeRange {
  /** Only changes that left the SKU at this version or later. */
  fromVersion?: number;
  /** Only changes that left the SKU at this version or earlier. */
  toVersion?: number;
  /** At most this many changes. */
  limit: number;
  /** Newest first (true) or oldest first (false); `limit` keeps the first ones in that order. */
  newestFirst: boolean;
}

/**
 * What the ledger did and why, as the write path recorded it: audit rows, oversells, rejected lines,
 * order lines and idempotency records. Reads only; every method is one statement.
 */
export class LedgerHistory {
  readonly #db: Kysely<LedgerSchema>;

  constructor(db: Kysely<LedgerSchema>) {
    this.#db = db;
  }

  /** Whether an event id has been applied (its idempotency record is committed). */
  async isProcessed(eventId: string): Promise<boolean> {
    const row = await this.#db.selectFrom('processed_event').select('event_id').where('event_id', '=', eventId).executeTakeFirst();
    return row !== undefined;
  }

  /** Which of `eventIds` have been applied already: one query however many there are. */
  async processedAmong(eventIds: readonly string[]): Promise<Set<string>> {
    if (eventIds.length === 0) return new Set();
    const rows = await this.#db.selectFrom('processed_event').select('event_id').where('event_id', '=', anyOf(eventIds)).execute();
    return new Set(rows.map((r) => r.event_id));
  }

  /** Audit rows, newest first. */
  async listAudit(options: ListAuditOptions = {}): Promise<AuditEntry[]> {
    let query = this.#db.selectFrom('audit').selectAll().orderBy('id', 'desc').limit(options.limit ?? DEFAULT_LIST_LIMIT);
    if (options.sku !== undefined) query = query.where('sku', '=', options.sku);
    if (options.channel !== undefined) query = query.where('channel', '=', options.channel);
    return (await query.execute()).map(auditEntry);
  }

  /** The audit rows of one SKU in a range of its versions, in version order (see {@link SkuChangeRange}). */
  async listSkuChanges(sku: string, range: SkuChangeRange): Promise<AuditEntry[]> {
    let query = this.#db
      .selectFrom('audit')
      .selectAll()
      .where('sku', '=', sku)
      .orderBy('version', range.newestFirst ? 'desc' : 'asc')
      .limit(range.limit);
    if (range.fromVersion !== undefined) query = query.where('version', '>=', range.fromVersion);
    if (range.toVersion !== undefined) query = query.where('version', '<=', range.toVersion);
    return (await query.execute()).map(auditEntry);
  }

  /** Recorded oversells, newest first. */
  async listOversells(options: ListOptions = {}): Promise<OversellEntry[]> {
    let query = this.#db.selectFrom('oversell').selectAll().orderBy('id', 'desc').limit(options.limit ?? DEFAULT_LIST_LIMIT);
    if (options.sku !== undefined) query = query.where('sku', '=', options.sku);
    return (await query.execute()).map(oversellEntry);
  }

  /** Units oversold per event id, over all of one SKU's oversells (events that oversold it only). */
  async oversoldByEvent(sku: string): Promise<Map<string, number>> {
    const rows = await this.#db
      .selectFrom('oversell')
      .select(['event_id', sql<number>`sum(shortfall)::int`.as('shortfall')])
      .where('sku', '=', sku)
      .groupBy('event_id')
      .execute();
    return new Map(rows.map((r) => [r.event_id, r.shortfall]));
  }

  /** Lines the ledger could not apply, newest first. */
  async listRejectedLines(options: ListOptions = {}): Promise<RejectedLineEntry[]> {
    let query = this.#db.selectFrom('rejected_line').selectAll().orderBy('id', 'desc').limit(options.limit ?? DEFAULT_LIST_LIMIT);
    if (options.sku !== undefined) query = query.where('sku', '=', options.sku);
    return (await query.execute()).map(rejectedLineEntry);
  }

  /** What each SKU of one order has taken and given back so far, by SKU (empty when the ledger kept none). */
  async getOrderLines(channel: string, orderId: string): Promise<OrderLineRow[]> {
    const rows = await this.#db.selectFrom('order_line').selectAll().where('channel', '=', channel).where('order_id', '=', orderId).orderBy('sku').execute();
    return rows.map(orderLineRow);
  }
}
