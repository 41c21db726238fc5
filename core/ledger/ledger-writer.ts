import { sql, type Kysely, type Transaction } from 'kysely';
import { describeError } from '../errors.ts';
import type { InventoryEvent } from '../events/event-types.ts';
import type { EventOutcome } from './ledger-types.ts';
import { DatabaseUnavailableError, isConnectionFailure, LedgerConflictError } from './ledger-errors.ts';
import { anyOf, orderLineRow } from './ledger-rows.ts';
import { orderLineKey, orderLineKeysOf, planBatch, skusOf, type BatchPlan, type OrderLineRow, type StockRow } from './plan-batch.ts';
import type { LedgerSchema } from './schema.ts';

export interface LedgerWriterOptions {
  /** Retries of a whole batch after an optimistic-lock conflict before giving up (default 8). */
  maxConflictRetries?: number;
  /** First backoff ceiling, ms; doubles per retry, full jitter (default 4). */
  conflictBackoffBaseMs?: number;
  /** Largest backoff ceiling, ms (default 250). */
  conflictBackoffMaxMs?: number;
  /** Called before each retry after a conflict (for metrics); `attempt` counts from 1. */
  onConflict?: (attempt: number, cause: unknown) => void;
}

/** Thrown inside the transaction to roll it back and run the batch again. */
class ConflictSignal extends Error {
  override name = 'ConflictSignal';
}

/** Postgres errors that mean "a concurrent transaction got in the way; the same work may succeed now". */
const RETRYABLE_PG_CODES = new Set(['40001', '40P01']);

/**
 * The ledger's write path: applies event batches, each exactly once, to the one number per SKU every
 * channel is derived from.
 *
 * Writers use optimistic locking (a row is written only if its version is still the one read), so several
 * hub processes can share one database; the whole batch — idempotency records, stock, order lines, audit,
 * oversells, rejected lines — commits in one transaction or not at all.
 */
export class LedgerWriter {
  readonly #db: Kysely<LedgerSchema>;
  readonly #options: Readonly<Required<Omit<LedgerWriterOptions, 'onConflict'>>> & Pick<LedgerWriterOptions, 'onConflict'>;

  constructor(db: Kysely<LedgerSchema>, options: LedgerWriterOptions = {}) {
    this.#db = db;
    this.#options = Object.freeze({
      maxConflictRetries: options.maxConflictRetries ?? 8,
      conflictBackoffBaseMs: options.conflictBackoffBaseMs ?? 4,
      conflictBackoffMaxMs: options.conflictBackoffMaxMs ?? 250,
      onConflict: options.onConflict,
    });
  }

  /**
   * Applies `events` in order, in one transaction. Events whose id was already processed (or that repeat
   * an earlier id of the same batch) are `duplicate` and change nothing. Resolves after commit with one
   * outcome per event, in input order; the changes in them are what dispatchers should be told about.
   * On rejection nothing of the batch was committed: redelivering it is safe.
   */
  async applyBatch(events: readonly InventoryEvent[]): Promise<EventOutcome[]> {
    if (events.length === 0) return [];
    for (let attempt = 0; ; attempt++) {
      try {
        const plan = await this.#db.transaction().execute((trx) => this.#applyOnce(trx, events));
        return plan.outcomes(new Date());
      } catch (err) {
        if (isConnectionFailure(err)) {
          // The commit may or may not have happened; either way redelivery is safe (idempotency record).
          throw new DatabaseUnavailableError('ledger', `connection lost while applying a batch (${describeError(err)})`, { cause: err });
        }
        if (!isConflict(err)) throw err;
        if (attempt >= this.#options.maxConflictRetries) throw new LedgerConflictError(attempt + 1, { cause: err });
        this.#options.onConflict?.(attempt + 1, err);
        const ceiling = Math.min(this.#options.conflictBackoffMaxMs, this.#options.conflictBackoffBaseMs * 2 ** attempt);
        // Full jitter: writers that collided once must not wake up together and collide again.
        await sleep(Math.random() * ceiling);
      }
    }
  }

  async #applyOnce(trx: Transaction<LedgerSchema>, events: readonly InventoryEvent[]): Promise<BatchPlan> {
    const firstIndex = new Map<string, number>();
    events.forEach((event, index) => {
      if (!firstIndex.has(event.id)) firstIndex.set(event.id, index);
    });
    const candidates = [...firstIndex.values()].map((index) => events[index]!);
    const recorded = await sql<{ event_id: string }>`
      INSERT INTO processed_event (event_id, event_type, channel, occurred_at)
      SELECT * FROM unnest(
        ${candidates.map((e) => e.id)}::text[],
        ${candidates.map((e) => e.type)}::text[],
        ${candidates.map((e) => e.channel)}::text[],
        ${candidates.map((e) => e.occurredAt)}::timestamptz[])
      ON CONFLICT (event_id) DO NOTHING
      RETURNING event_id`.execute(trx);
    const fresh = new Set(recorded.rows.map((r) => r.event_id));
    const isNew = (index: number) => {
      const id = events[index]!.id;
      return fresh.has(id) && firstIndex.get(id) === index;
    };

    const touched = new Set<string>();
    events.forEach((event, index) => {
      if (isNew(index)) for (const sku of skusOf(event)) touched.add(sku);
    });
    const rows = new Map<string, StockRow>();
    if (touched.size > 0) {
      const read = await trx
        .selectFrom('stock')
        .select(['sku', 'available', 'version'])
        .where('sku', '=', anyOf([...touched]))
        .execute();
      for (const row of read) rows.set(row.sku, row);
    }

    const orderLines = await this.#readOrderLines(trx, events.filter((_, index) => isNew(index)));
    const plan = planBatch(events, isNew, rows, orderLines);

    if (plan.updates.length > 0) {
      const updated = await sql`
        UPDATE stock AS s
           SET available = v.available, version = v.version, updated_at = now()
          FROM unnest(
            ${plan.updates.map((u) => u.sku)}::text[],
            ${plan.updates.map((u) => u.available)}::int[],
            ${plan.updates.map((u) => u.readVersion)}::int8[],
            ${plan.updates.map((u) => u.version)}::int8[]) AS v(sku, available, read_version, version)
         WHERE s.sku = v.sku AND s.version = v.read_version`.execute(trx);
      // Fewer rows than planned: another writer committed one of them since we read it.
      if (Number(updated.numAffectedRows ?? 0) !== plan.updates.length) throw new ConflictSignal('stock row changed since read');
    }
    if (plan.inserts.length > 0) {
      const inserted = await sql<{ sku: string }>`
        INSERT INTO stock (sku, available, version)
        SELECT * FROM unnest(
          ${plan.inserts.map((i) => i.sku)}::text[],
          ${plan.inserts.map((i) => i.available)}::int[],
          ${plan.inserts.map((i) => i.version)}::int8[])
        ON CONFLICT (sku) DO NOTHING
        RETURNING sku`.execute(trx);
      // Another writer created one of these SKUs since we read: rerun against its row.
      if (inserted.rows.length !== plan.inserts.length) throw new ConflictSignal('stock row created since read');
    }
    await this.#writeOrderLines(trx, plan);
    if (plan.audit.length > 0) {
      await sql`
        INSERT INTO audit (event_id, event_type, channel, sku, before, after, version, clamped, occurred_at)
        SELECT * FROM unnest(
          ${plan.audit.map((a) => a.eventId)}::text[],
          ${plan.audit.map((a) => a.eventType)}::text[],
          ${plan.audit.map((a) => a.channel)}::text[],
          ${plan.audit.map((a) => a.sku)}::text[],
          ${plan.audit.map((a) => a.before)}::int[],
          ${plan.audit.map((a) => a.after)}::int[],
          ${plan.audit.map((a) => a.version)}::int8[],
          ${plan.audit.map((a) => a.clamped)}::int[],
          ${plan.audit.map((a) => a.occurredAt)}::timestamptz[])`.execute(trx);
    }
    if (plan.oversells.length > 0) {
      await sql`
        INSERT INTO oversell (event_id, channel, sku, requested, available_before, shortfall)
        SELECT * FROM unnest(
          ${plan.oversells.map((o) => o.eventId)}::text[],
          ${plan.oversells.map((o) => o.channel)}::text[],
          ${plan.oversells.map((o) => o.sku)}::text[],
          ${plan.oversells.map((o) => o.requested)}::int[],
          ${plan.oversells.map((o) => o.availableBefore)}::int[],
          ${plan.oversells.map((o) => o.shortfall)}::int[])`.execute(trx);
    }
    if (plan.rejected.length > 0) {
      await sql`
        INSERT INTO rejected_line (event_id, channel, sku, qty, reason)
        SELECT * FROM unnest(
          ${plan.rejected.map((r) => r.eventId)}::text[],
          ${plan.rejected.map((r) => r.channel)}::text[],
          ${plan.rejected.map((r) => r.sku)}::text[],
          ${plan.rejected.map((r) => r.qty)}::int[],
          ${plan.rejected.map((r) => r.reason)}::text[])`.execute(trx);
    }
    return plan;
  }

  /** The order lines these events name (by channel, order id and SKU) as stored now, by {@link orderLineKey}. */
  async #readOrderLines(trx: Transaction<LedgerSchema>, events: readonly InventoryEvent[]): Promise<Map<string, OrderLineRow>> {
    const keys = new Map<string, { channel: string; orderId: string; sku: string }>();
    for (const event of events) for (const k of orderLineKeysOf(event)) keys.set(orderLineKey(k.channel, k.orderId, k.sku), k);
    const found = new Map<string, OrderLineRow>();
    if (keys.size === 0) return found;
    const wanted = [...keys.values()];
    // One unnest join instead of one (channel, order, sku) triple of parameters per line: any batch size
    // is one statement with three parameters.
    const keyed = sql<{ channel: string; order_id: string; sku: string }>`unnest(${wanted.map((k) => k.channel)}::text[], ${wanted.map((k) => k.orderId)}::text[], ${wanted.map((k) => k.sku)}::text[])`;
    const read = await trx
      .selectFrom('order_line as o')
      .innerJoin(keyed.as<'k'>(sql`k(channel, order_id, sku)`), (join) => join.onRef('o.channel', '=', 'k.channel').onRef('o.order_id', '=', 'k.order_id').onRef('o.sku', '=', 'k.sku'))
      .selectAll('o')
      .execute();
    for (const row of read.map(orderLineRow)) found.set(orderLineKey(row.channel, row.orderId, row.sku), row);
    return found;
  }

  /** Writes the batch's order lines under the same optimistic lock as stock rows: a concurrent writer means a rerun. */
  async #writeOrderLines(trx: Transaction<LedgerSchema>, plan: BatchPlan): Promise<void> {
    const updates = plan.orderLines.filter((l) => l.readVersion > 0);
    const inserts = plan.orderLines.filter((l) => l.readVersion === 0);
    const columns = (lines: typeof plan.orderLines) => sql`
      ${lines.map((l) => l.channel)}::text[], ${lines.map((l) => l.orderId)}::text[], ${lines.map((l) => l.sku)}::text[],
      ${lines.map((l) => l.requested)}::int8[], ${lines.map((l) => l.taken)}::int8[], ${lines.map((l) => l.cancelled)}::int8[],
      ${lines.map((l) => l.restored)}::int8[], ${lines.map((l) => l.version)}::int8[]`;
    if (updates.length > 0) {
      const updated = await sql`
        UPDATE order_line AS o
           SET requested = v.requested, taken = v.taken, cancelled = v.cancelled, restored = v.restored, version = v.version, updated_at = now()
          FROM unnest(${columns(updates)}, ${updates.map((l) => l.readVersion)}::int8[])
            AS v(channel, order_id, sku, requested, taken, cancelled, restored, version, read_version)
         WHERE o.channel = v.channel AND o.order_id = v.order_id AND o.sku = v.sku AND o.version = v.read_version`.execute(trx);
      if (Number(updated.numAffectedRows ?? 0) !== updates.length) throw new ConflictSignal('order line changed since read');
    }
    if (inserts.length > 0) {
      const inserted = await sql<{ sku: string }>`
        INSERT INTO order_line (channel, order_id, sku, requested, taken, cancelled, restored, version)
        SELECT * FROM unnest(${columns(inserts)})
        ON CONFLICT (channel, order_id, sku) DO NOTHING
        RETURNING sku`.execute(trx);
      if (inserted.rows.length !== inserts.length) throw new ConflictSignal('order line created since read');
    }
  }
}

function isConflict(err: unknown): boolean {
  if (err instanceof ConflictSignal) return true;
  const code = typeof err === 'object' && err !== null && 'code' in err ? (err as { code: unknown }).code : undefined;
  return typeof code === 'string' && RETRYABLE_PG_CODES.has(code);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
