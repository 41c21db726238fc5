import { sql, type Kysely } from 'kysely';
import { jsonArrayFrom } from 'kysely/helpers/postgres';
import { describeError } from '../errors.ts';
import type { InventoryEvent } from '../events/event-types.ts';
import type { EventOutcome } from './ledger-types.ts';
import { DatabaseUnavailableError, isConnectionFailure, LedgerConflictError } from './ledger-errors.ts';
import { anyOf, orderLineRow } from './ledger-rows.ts';
import { jsonRecordset } from './json-recordset.ts';
import { KnownRows, type BatchSnapshot } from './known-rows.ts';
import { orderLineKey, orderLineKeysOf, planBatch, skusOf, type BatchPlan, type OrderLineRow, type OrderLineWrite, type StockRow } from './plan-batch.ts';
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
  /** The rows as this writer's commits left them: most batches are planned from these, without a read (see KnownRows). */
  readonly #known = new KnownRows();

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
    const firstIndex = new Map<string, number>();
    events.forEach((event, index) => {
      if (!firstIndex.has(event.id)) firstIndex.set(event.id, index);
    });
    const candidates = [...firstIndex.values()].map((index) => events[index]!);
    for (let attempt = 0; ; attempt++) {
      const guess = this.#known.guess(candidates);
      try {
        const { plan, snapshot } = await this.#db
          .connection()
          .execute((db) => this.#applyOnce(db, events, firstIndex, candidates, guess).catch((err: unknown) => settleBroken(db, err)));
        this.#known.remember(snapshot, plan, guess !== undefined);
        return plan.outcomes(new Date());
      } catch (err) {
        // Rows remembered that were not the database's any more are another writer's doing, like a row changed
        // between the read and the write: the same retry, which reads them.
        if (guess !== undefined && isConflict(err)) this.#known.missed();
        else this.#known.forget();
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

  /**
   * One attempt: a read of everything the batch depends on (or the rows remembered, `guess`), the plan in
   * memory, and one write statement. The write checks every optimistic lock itself and raises a
   * serialization failure when one did not hold (`stockrelay_write_conflict`, migration 0006), so it commits
   * whole or not at all without a transaction around the two: the read needs no lock because the write
   * re-checks what it relied on.
   */
  async #applyOnce(
    db: Kysely<LedgerSchema>,
    events: readonly InventoryEvent[],
    firstIndex: ReadonlyMap<string, number>,
    candidates: readonly InventoryEvent[],
    guess: BatchSnapshot | undefined,
  ): Promise<{ plan: BatchPlan; snapshot: BatchSnapshot }> {
    const snapshot = guess ?? (await this.#read(db, candidates));
    const isNew = (index: number) => {
      const id = events[index]!.id;
      return !snapshot.processed.has(id) && firstIndex.get(id) === index;
    };
    const plan = planBatch(events, isNew, snapshot.stock, snapshot.orderLines);
    const fresh = candidates.filter((e) => !snapshot.processed.has(e.id));
    await this.#write(db, fresh, plan, reliedOn(fresh, snapshot, plan));
    return { plan, snapshot };
  }

  /**
   * Statement 1: which events were processed already, the stock rows and the order lines the batch names,
   * in one snapshot. Rows are read for every SKU and order line of the batch, also those only duplicates
   * name: a few more rows read is cheaper than a second round trip.
   */
  async #read(db: Kysely<LedgerSchema>, candidates: readonly InventoryEvent[]): Promise<BatchSnapshot> {
    const skus = new Set<string>();
    const lineKeys = new Map<string, { channel: string; orderId: string; sku: string }>();
    for (const event of candidates) {
      for (const sku of skusOf(event)) skus.add(sku);
      for (const k of orderLineKeysOf(event)) lineKeys.set(orderLineKey(k.channel, k.orderId, k.sku), k);
    }
    const k = jsonRecordset('k', { channel: 'text', order_id: 'text', sku: 'text' }, [...lineKeys.values()].map((key) => ({ channel: key.channel, order_id: key.orderId, sku: key.sku })));
    const [row] = await db
      .selectNoFrom((eb) => [
        jsonArrayFrom(eb.selectFrom('processed_event').select('event_id').where('event_id', '=', anyOf(candidates.map((e) => e.id)))).as('processed'),
        jsonArrayFrom(eb.selectFrom('stock').select(['sku', 'available', 'version']).where('sku', '=', anyOf([...skus]))).as('stock'),
        jsonArrayFrom(
          eb
            .selectFrom('order_line as o')
            .innerJoin(k.table, (join) => join.onRef('o.channel', '=', 'k.channel').onRef('o.order_id', '=', 'k.order_id').onRef('o.sku', '=', 'k.sku'))
            .select(['o.channel', 'o.order_id', 'o.sku', 'o.requested', 'o.taken', 'o.cancelled', 'o.restored', 'o.untaken', 'o.pending', 'o.netted', 'o.returned', 'o.restocked', 'o.version']),
        ).as('lines'),
      ])
      .execute();
    const processed = new Set((row?.processed ?? []).map((r) => r.event_id));
    const stock = new Map<string, StockRow>();
    for (const r of row?.stock ?? []) stock.set(r.sku, { sku: r.sku, available: Number(r.available), version: Number(r.version) });
    const orderLines = new Map<string, OrderLineRow>();
    for (const line of (row?.lines ?? []).map(orderLineRow)) orderLines.set(orderLineKey(line.channel, line.orderId, line.sku), line);
    return { processed, stock, orderLines };
  }

  /**
   * Statement 2: every write of the batch as data-modifying CTEs of one statement, which PostgreSQL runs
   * whole and atomically. Each version-guarded write returns the rows it wrote; a count short of the plan
   * means another writer got there first since the read, and the statement raises to undo itself.
   * Empty parts are empty arrays, so the statement text is the same for every batch. `relied` are the stock
   * rows the plan's new events depend on without changing them (an oversell at 0, a count that changed
   * nothing): their versions are checked too, or a restock in between would go unseen.
   */
  async #write(db: Kysely<LedgerSchema>, fresh: readonly InventoryEvent[], plan: BatchPlan, relied: readonly StockRow[]): Promise<void> {
    const reliedRows = jsonRecordset('r', { sku: 'text', version: 'int8' }, relied.map((r) => ({ sku: r.sku, version: r.version })));
    const processed = jsonRecordset(
      'v',
      { event_id: 'text', event_type: 'text', channel: 'text', occurred_at: 'timestamptz' },
      fresh.map((e) => ({ event_id: e.id, event_type: e.type, channel: e.channel, occurred_at: e.occurredAt })),
    );
    const stockUpdates = jsonRecordset(
      'v',
      { sku: 'text', available: 'int', read_version: 'int8', version: 'int8' },
      plan.updates.map((u) => ({ sku: u.sku, available: u.available, read_version: u.readVersion, version: u.version })),
    );
    const stockInserts = jsonRecordset('v', { sku: 'text', available: 'int', version: 'int8' }, plan.inserts.map((i) => ({ sku: i.sku, available: i.available, version: i.version })));
    const lineUpdates = plan.orderLines.filter((l) => l.readVersion > 0);
    const lineInserts = plan.orderLines.filter((l) => l.readVersion === 0);
    const orderLineUpdates = jsonRecordset('v', { ...ORDER_LINE_TYPES, read_version: 'int8' }, lineUpdates.map((l) => ({ ...orderLineColumns(l), read_version: l.readVersion })));
    const orderLineInserts = jsonRecordset('v', ORDER_LINE_TYPES, lineInserts.map(orderLineColumns));
    const audit = jsonRecordset(
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
    const oversells = jsonRecordset(
      'v',
      { event_id: 'text', channel: 'text', sku: 'text', requested: 'int', available_before: 'int', shortfall: 'int' },
      plan.oversells.map((o) => ({ event_id: o.eventId, channel: o.channel, sku: o.sku, requested: o.requested, available_before: o.availableBefore, shortfall: o.shortfall })),
    );
    const rejected = jsonRecordset(
      'v',
      { event_id: 'text', channel: 'text', sku: 'text', qty: 'int', reason: 'text' },
      plan.rejected.map((r) => ({ event_id: r.eventId, channel: r.channel, sku: r.sku, qty: r.qty, reason: r.reason })),
    );
    await db
      .with('pe', (db) =>
        db
          .insertInto('processed_event')
          .columns(processed.columns)
          .expression((eb) => eb.selectFrom(processed.table).selectAll())
          .onConflict((oc) => oc.column('event_id').doNothing())
          .returning('event_id'),
      )
      .with('su', (db) =>
        db
          .updateTable('stock as s')
          .from(stockUpdates.table)
          .set((eb) => ({ available: eb.ref('v.available'), version: eb.ref('v.version'), updated_at: sql<Date>`now()` }))
          .whereRef('s.sku', '=', 'v.sku')
          .whereRef('s.version', '=', 'v.read_version')
          .returning('s.sku'),
      )
      .with('si', (db) =>
        db
          .insertInto('stock')
          .columns(stockInserts.columns)
          .expression((eb) => eb.selectFrom(stockInserts.table).selectAll())
          .onConflict((oc) => oc.column('sku').doNothing())
          .returning('sku'),
      )
      .with('lu', (db) =>
        db
          .updateTable('order_line as o')
          .from(orderLineUpdates.table)
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
          .returning('o.sku'),
      )
      .with('li', (db) =>
        db
          .insertInto('order_line')
          .columns(orderLineInserts.columns)
          .expression((eb) => eb.selectFrom(orderLineInserts.table).selectAll())
          .onConflict((oc) => oc.columns(['channel', 'order_id', 'sku']).doNothing())
          .returning('sku'),
      )
      .with('au', (db) => db.insertInto('audit').columns(audit.columns).expression((eb) => eb.selectFrom(audit.table).selectAll()))
      .with('os', (db) => db.insertInto('oversell').columns(oversells.columns).expression((eb) => eb.selectFrom(oversells.table).selectAll()))
      .with('rl', (db) => db.insertInto('rejected_line').columns(rejected.columns).expression((eb) => eb.selectFrom(rejected.table).selectAll()))
      // CASE evaluates lazily: the function (which raises) runs only when a count falls short.
      .selectNoFrom(
        sql<number>`CASE
          WHEN (SELECT count(*) FROM pe) <> ${fresh.length} THEN stockrelay_write_conflict('an event was applied by another writer since it was read')
          WHEN (SELECT count(*) FROM su) <> ${plan.updates.length} THEN stockrelay_write_conflict('a stock row changed since it was read')
          WHEN (SELECT count(*) FROM si) <> ${plan.inserts.length} THEN stockrelay_write_conflict('a stock row was created since it was read')
          WHEN (SELECT count(*) FROM lu) <> ${lineUpdates.length} THEN stockrelay_write_conflict('an order line changed since it was read')
          WHEN (SELECT count(*) FROM li) <> ${lineInserts.length} THEN stockrelay_write_conflict('an order line was created since it was read')
          WHEN (SELECT count(*) FROM stock AS s JOIN ${reliedRows.table} ON s.sku = r.sku AND s.version = r.version) <> ${relied.length}
            THEN stockrelay_write_conflict('a stock row the batch relied on changed since it was read')
          ELSE 0 END`.as('checked'),
      )
      .execute();
  }
}

/** The stock rows the new events name that the plan leaves as they were, as the plan found them. */
function reliedOn(fresh: readonly InventoryEvent[], snapshot: BatchSnapshot, plan: BatchPlan): StockRow[] {
  const written = new Set<string>();
  for (const u of plan.updates) written.add(u.sku);
  for (const i of plan.inserts) written.add(i.sku);
  const relied = new Map<string, StockRow>();
  for (const event of fresh) {
    for (const sku of skusOf(event)) {
      const row = snapshot.stock.get(sku);
      if (row !== undefined && !written.has(sku)) relied.set(sku, row);
    }
  }
  return [...relied.values()];
}

/** The `order_line` columns a batch writes, with their array element types. */
const ORDER_LINE_TYPES = {
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

function orderLineColumns(l: OrderLineWrite) {
  return {
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
  };
}

/**
 * Rethrows `err`; first, when it is a lost connection, sends one more query on the same connection. A
 * connection the server closed while a statement ran can reach the pool again before the driver has seen
 * the socket close, and the next caller would get it. The query fails at once and marks the connection
 * broken, so the pool drops it instead of handing it out.
 */
async function settleBroken(db: Kysely<LedgerSchema>, err: unknown): Promise<never> {
  if (isConnectionFailure(err)) await sql`SELECT 1`.execute(db).catch(() => undefined);
  throw err;
}

function isConflict(err: unknown): boolean {
  const code = typeof err === 'object' && err !== null && 'code' in err ? (err as { code: unknown }).code : undefined;
  return typeof code === 'string' && RETRYABLE_PG_CODES.has(code);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
