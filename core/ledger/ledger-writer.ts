import { sql, type Kysely, type Transaction } from 'kysely';
import { describeError } from '../errors.ts';
import type { InventoryEvent } from '../events/event-types.ts';
import type { EventOutcome } from './ledger-types.ts';
import { DatabaseUnavailableError, isConnectionFailure, LedgerConflictError } from './ledger-errors.ts';
import { anyOf, orderLineRow } from './ledger-rows.ts';
import { unnestRows } from './unnest-rows.ts';
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
    const records = unnestRows(
      'v',
      { event_id: 'text', event_type: 'text', channel: 'text', occurred_at: 'timestamptz' },
      candidates.map((e) => ({ event_id: e.id, event_type: e.type, channel: e.channel, occurred_at: e.occurredAt })),
    );
    const recorded = await trx
      .insertInto('processed_event')
      .columns(records.columns)
      .expression((eb) => eb.selectFrom(records.table).selectAll())
      .onConflict((oc) => oc.column('event_id').doNothing())
      .returning('event_id')
      .execute();
    const fresh = new Set(recorded.map((r) => r.event_id));
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
      const v = unnestRows(
        'v',
        { sku: 'text', available: 'int', read_version: 'int8', version: 'int8' },
        plan.updates.map((u) => ({ sku: u.sku, available: u.available, read_version: u.readVersion, version: u.version })),
      );
      const updated = await trx
        .updateTable('stock as s')
        .from(v.table)
        .set((eb) => ({ available: eb.ref('v.available'), version: eb.ref('v.version'), updated_at: sql<Date>`now()` }))
        .whereRef('s.sku', '=', 'v.sku')
        .whereRef('s.version', '=', 'v.read_version')
        .executeTakeFirst();
      // Fewer rows than planned: another writer committed one of them since we read it.
      if (Number(updated.numUpdatedRows) !== plan.updates.length) throw new ConflictSignal('stock row changed since read');
    }
    if (plan.inserts.length > 0) {
      const v = unnestRows('v', { sku: 'text', available: 'int', version: 'int8' }, plan.inserts.map((i) => ({ sku: i.sku, available: i.available, version: i.version })));
      const inserted = await trx
        .insertInto('stock')
        .columns(v.columns)
        .expression((eb) => eb.selectFrom(v.table).selectAll())
        .onConflict((oc) => oc.column('sku').doNothing())
        .returning('sku')
        .execute();
      // Another writer created one of these SKUs since we read: rerun against its row.
      if (inserted.length !== plan.inserts.length) throw new ConflictSignal('stock row created since read');
    }
    await this.#writeOrderLines(trx, plan);
    if (plan.audit.length > 0) {
      const v = unnestRows(
        'v',
        { event_id: 'text', event_type: 'text', channel: 'text', sku: 'text', before: 'int', after: 'int', version: 'int8', clamped: 'int', occurred_at: 'timestamptz' },
        plan.audit.map((a) => ({
          event_id: a.eventId,
          event_type: a.eventType,
          channel: a.channel,
          sku: a.sku,
          before: a.before,
          after: a.after,
          version: a.version,
          clamped: a.clamped,
          occurred_at: a.occurredAt,
        })),
      );
      await trx.insertInto('audit').columns(v.columns).expression((eb) => eb.selectFrom(v.table).selectAll()).execute();
    }
    if (plan.oversells.length > 0) {
      const v = unnestRows(
        'v',
        { event_id: 'text', channel: 'text', sku: 'text', requested: 'int', available_before: 'int', shortfall: 'int' },
        plan.oversells.map((o) => ({ event_id: o.eventId, channel: o.channel, sku: o.sku, requested: o.requested, available_before: o.availableBefore, shortfall: o.shortfall })),
      );
      await trx.insertInto('oversell').columns(v.columns).expression((eb) => eb.selectFrom(v.table).selectAll()).execute();
    }
    if (plan.rejected.length > 0) {
      const v = unnestRows(
        'v',
        { event_id: 'text', channel: 'text', sku: 'text', qty: 'int', reason: 'text' },
        plan.rejected.map((r) => ({ event_id: r.eventId, channel: r.channel, sku: r.sku, qty: r.qty, reason: r.reason })),
      );
      await trx.insertInto('rejected_line').columns(v.columns).expression((eb) => eb.selectFrom(v.table).selectAll()).execute();
    }
    return plan;
  }

  /** The order lines these events name (by channel, order id and SKU) as stored now, by {@link orderLineKey}. */
  async #readOrderLines(trx: Transaction<LedgerSchema>, events: readonly InventoryEvent[]): Promise<Map<string, OrderLineRow>> {
    const keys = new Map<string, { channel: string; orderId: string; sku: string }>();
    for (const event of events) for (const k of orderLineKeysOf(event)) keys.set(orderLineKey(k.channel, k.orderId, k.sku), k);
    const found = new Map<string, OrderLineRow>();
    if (keys.size === 0) return found;
    const k = unnestRows('k', { channel: 'text', order_id: 'text', sku: 'text' }, [...keys.values()].map((key) => ({ channel: key.channel, order_id: key.orderId, sku: key.sku })));
    const read = await trx
      .selectFrom('order_line as o')
      .innerJoin(k.table, (join) => join.onRef('o.channel', '=', 'k.channel').onRef('o.order_id', '=', 'k.order_id').onRef('o.sku', '=', 'k.sku'))
      .selectAll('o')
      .execute();
    for (const row of read.map(orderLineRow)) found.set(orderLineKey(row.channel, row.orderId, row.sku), row);
    return found;
  }

  /** Writes the batch's order lines under the same optimistic lock as stock rows: a concurrent writer means a rerun. */
  async #writeOrderLines(trx: Transaction<LedgerSchema>, plan: BatchPlan): Promise<void> {
    const updates = plan.orderLines.filter((l) => l.readVersion > 0);
    const inserts = plan.orderLines.filter((l) => l.readVersion === 0);
    const row = (l: (typeof plan.orderLines)[number]) => ({
      channel: l.channel,
      order_id: l.orderId,
      sku: l.sku,
      requested: l.requested,
      taken: l.taken,
      cancelled: l.cancelled,
      restored: l.restored,
      untaken: l.untaken,
      pending: l.pending,
      netted: l.netted,
      returned: l.returned,
      restocked: l.restocked,
      version: l.version,
    });
    const types = {
      channel: 'text',
      order_id: 'text',
      sku: 'text',
      requested: 'int8',
      taken: 'int8',
      cancelled: 'int8',
      restored: 'int8',
      untaken: 'int8',
      pending: 'int8',
      netted: 'int8',
      returned: 'int8',
      restocked: 'int8',
      version: 'int8',
    } as const;
    if (updates.length > 0) {
      const v = unnestRows('v', { ...types, read_version: 'int8' }, updates.map((l) => ({ ...row(l), read_version: l.readVersion })));
      const updated = await trx
        .updateTable('order_line as o')
        .from(v.table)
        .set((eb) => ({
          requested: eb.ref('v.requested'),
          taken: eb.ref('v.taken'),
          cancelled: eb.ref('v.cancelled'),
          restored: eb.ref('v.restored'),
          untaken: eb.ref('v.untaken'),
          pending: eb.ref('v.pending'),
          netted: eb.ref('v.netted'),
          returned: eb.ref('v.returned'),
          restocked: eb.ref('v.restocked'),
          version: eb.ref('v.version'),
          updated_at: sql<Date>`now()`,
        }))
        .whereRef('o.channel', '=', 'v.channel')
        .whereRef('o.order_id', '=', 'v.order_id')
        .whereRef('o.sku', '=', 'v.sku')
        .whereRef('o.version', '=', 'v.read_version')
        .executeTakeFirst();
      if (Number(updated.numUpdatedRows) !== updates.length) throw new ConflictSignal('order line changed since read');
    }
    if (inserts.length > 0) {
      const v = unnestRows('v', types, inserts.map(row));
      const inserted = await trx
        .insertInto('order_line')
        .columns(v.columns)
        .expression((eb) => eb.selectFrom(v.table).selectAll())
        .onConflict((oc) => oc.columns(['channel', 'order_id', 'sku']).doNothing())
        .returning('sku')
        .execute();
      if (inserted.length !== inserts.length) throw new ConflictSignal('order line created since read');
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
