import { sql, type Kysely, type Selectable, type Transaction } from 'kysely';
import { describeError } from '../errors.ts';
import type { EventType, InventoryEvent } from '../events/event-types.ts';
import { ChannelFencedError } from './channel-fenced-error.ts';
import type {
  BehindSku,
  ChannelFence,
  ChannelSkuState,
  ChannelStateStore,
  EventOutcome,
  NotListedMark,
  PushConfirmation,
  RevisionLeft,
  StockLevel,
  WriteMark,
} from './ledger-types.ts';
import { DatabaseUnavailableError, isConnectionFailure, LedgerConflictError } from './ledger-errors.ts';
import type { AuditEntry, ListAuditOptions, ListOptions, OversellEntry, RejectedLineEntry } from './ledger-records.ts';
import { orderLineKey, orderLineKeysOf, planBatch, skusOf, type BatchPlan, type OrderLineRow, type StockRow } from './plan-batch.ts';
import type { ChannelStateTable, LedgerSchema } from './schema.ts';

export interface LedgerOptions {
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

const DEFAULT_LIST_LIMIT = 100;

/**
 * The stock ledger: the one number per SKU every channel is derived from, changed exactly once per event.
 *
 * Writers use optimistic locking (a row is written only if its version is still the one read), so several
 * hub processes can share one database; the whole batch — idempotency records, stock, audit, oversells,
 * rejected lines — commits in one transaction or not at all.
 */
export class Ledger implements ChannelStateStore {
  readonly #db: Kysely<LedgerSchema>;
  readonly #options: Readonly<Required<Omit<LedgerOptions, 'onConflict'>>> & Pick<LedgerOptions, 'onConflict'>;

  constructor(db: Kysely<LedgerSchema>, options: LedgerOptions = {}) {
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
        .where('sku', '=', sql<string>`ANY(${[...touched]}::text[])`)
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
    const read = await sql<{ channel: string; order_id: string; sku: string; requested: number; taken: number; cancelled: number; restored: number; version: number }>`
      SELECT o.channel, o.order_id, o.sku, o.requested, o.taken, o.cancelled, o.restored, o.version
        FROM order_line AS o
        JOIN unnest(${wanted.map((k) => k.channel)}::text[], ${wanted.map((k) => k.orderId)}::text[], ${wanted.map((k) => k.sku)}::text[]) AS k(channel, order_id, sku)
          ON o.channel = k.channel AND o.order_id = k.order_id AND o.sku = k.sku`.execute(trx);
    for (const r of read.rows) {
      const row = { channel: r.channel, orderId: r.order_id, sku: r.sku, requested: Number(r.requested), taken: Number(r.taken), cancelled: Number(r.cancelled), restored: Number(r.restored), version: Number(r.version) };
      found.set(orderLineKey(row.channel, row.orderId, row.sku), row);
    }
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

  /** What each SKU of one order has taken and given back so far, by SKU (empty when the ledger kept none). */
  async getOrderLines(channel: string, orderId: string): Promise<OrderLineRow[]> {
    const rows = await this.#db.selectFrom('order_line').selectAll().where('channel', '=', channel).where('order_id', '=', orderId).orderBy('sku').execute();
    return rows.map((r) => ({ channel: r.channel, orderId: r.order_id, sku: r.sku, requested: Number(r.requested), taken: Number(r.taken), cancelled: Number(r.cancelled), restored: Number(r.restored), version: Number(r.version) }));
  }

  /** Current levels of these SKUs; SKUs the ledger does not know are absent from the map. */
  async getLevels(skus: readonly string[]): Promise<Map<string, StockLevel>> {
    const levels = new Map<string, StockLevel>();
    if (skus.length === 0) return levels;
    const rows = await this.#db
      .selectFrom('stock')
      .select(['sku', 'available', 'version', 'updated_at'])
      .where('sku', '=', sql<string>`ANY(${[...new Set(skus)]}::text[])`)
      .execute();
    for (const r of rows) levels.set(r.sku, { sku: r.sku, available: r.available, version: r.version, updatedAt: r.updated_at });
    return levels;
  }

  /** The current level of one SKU, or `undefined` when the ledger does not know it. */
  async getLevel(sku: string): Promise<StockLevel | undefined> {
    return (await this.getLevels([sku])).get(sku);
  }

  /** Whether an event id has been applied (its idempotency record is committed). */
  async isProcessed(eventId: string): Promise<boolean> {
    const row = await this.#db.selectFrom('processed_event').select('event_id').where('event_id', '=', eventId).executeTakeFirst();
    return row !== undefined;
  }

  /** Recorded oversells, newest first. */
  async listOversells(options: ListOptions = {}): Promise<OversellEntry[]> {
    let query = this.#db.selectFrom('oversell').selectAll().orderBy('id', 'desc').limit(options.limit ?? DEFAULT_LIST_LIMIT);
    if (options.sku !== undefined) query = query.where('sku', '=', options.sku);
    const rows = await query.execute();
    return rows.map((r) => ({
      id: r.id,
      eventId: r.event_id,
      channel: r.channel,
      sku: r.sku,
      requested: r.requested,
      availableBefore: r.available_before,
      shortfall: r.shortfall,
      createdAt: r.created_at,
    }));
  }

  /** Audit rows, newest first. */
  async listAudit(options: ListAuditOptions = {}): Promise<AuditEntry[]> {
    let query = this.#db.selectFrom('audit').selectAll().orderBy('id', 'desc').limit(options.limit ?? DEFAULT_LIST_LIMIT);
    if (options.sku !== undefined) query = query.where('sku', '=', options.sku);
    if (options.channel !== undefined) query = query.where('channel', '=', options.channel);
    const rows = await query.execute();
    return rows.map((r) => ({
      id: r.id,
      eventId: r.event_id,
      eventType: r.event_type as EventType,
      channel: r.channel,
      sku: r.sku,
      before: r.before,
      after: r.after,
      version: r.version,
      clamped: r.clamped,
      occurredAt: r.occurred_at,
      createdAt: r.created_at,
    }));
  }

  /** Lines the ledger could not apply, newest first. */
  async listRejectedLines(options: ListOptions = {}): Promise<RejectedLineEntry[]> {
    let query = this.#db.selectFrom('rejected_line').selectAll().orderBy('id', 'desc').limit(options.limit ?? DEFAULT_LIST_LIMIT);
    if (options.sku !== undefined) query = query.where('sku', '=', options.sku);
    const rows = await query.execute();
    return rows.map((r) => ({
      id: r.id,
      eventId: r.event_id,
      channel: r.channel,
      sku: r.sku,
      qty: r.qty,
      reason: r.reason as RejectedLineEntry['reason'],
      createdAt: r.created_at,
    }));
  }

  /** Every SKU the channel has not confirmed at the ledger's current version (never-pushed SKUs included), by SKU. */
  async listBehind(channelId: string): Promise<BehindSku[]> {
    const rows = await this.#db
      .selectFrom('stock as s')
      .leftJoin('channel_state as c', (join) => join.onRef('c.sku', '=', 's.sku').on('c.channel_id', '=', channelId))
      .select([
        's.sku',
        's.available',
        's.version',
        's.updated_at',
        sql<number>`coalesce(c.pushed_version, 0)`.as('pushed_version'),
        'c.pushed_quantity',
        'c.write_until',
        'c.not_listed_at',
        'c.not_listed_reason',
        'c.not_listed_config',
      ])
      .where((eb) => eb.or([eb('c.sku', 'is', null), eb('c.pushed_version', '<', eb.ref('s.version'))]))
      .orderBy('s.sku')
      .execute();
    return rows.map((r) => ({
      sku: r.sku,
      available: r.available,
      version: r.version,
      updatedAt: r.updated_at,
      pushedVersion: r.pushed_version,
      pushedQuantity: r.pushed_quantity,
      writeUntil: r.write_until ?? null,
      notListed: notListedMark(r),
    }));
  }

  /**
   * Makes the caller the channel's pusher: bumps the channel's lease epoch and returns it. From then on
   * the database refuses channel-state writes fenced with an older epoch.
   */
  async claimChannel(channelId: string): Promise<number> {
    const row = await sql<{ epoch: number }>`
      INSERT INTO channel_lease AS l (channel_id, epoch) VALUES (${channelId}, 1)
      ON CONFLICT (channel_id) DO UPDATE SET epoch = l.epoch + 1, acquired_at = now()
      RETURNING epoch`.execute(this.#db);
    return Number(row.rows[0]!.epoch);
  }

  /**
   * Records confirmed pushes in one statement. A confirmation older than what is stored (a late reply)
   * never lowers `pushedVersion` nor overwrites the newer quantity; every confirmed SKU's dead-letter,
   * not-listed and write marks are cleared, since the channel answered for it.
   */
  async recordConfirmed(channelId: string, confirmations: readonly PushConfirmation[], fence?: ChannelFence): Promise<void> {
    // One upsert may not touch a row twice: keep the newest confirmation per SKU.
    const newest = new Map<string, PushConfirmation>();
    for (const c of confirmations) {
      const seen = newest.get(c.sku);
      if (seen === undefined || c.version >= seen.version) newest.set(c.sku, c);
    }
    if (newest.size === 0) return;
    const items = [...newest.values()];
    const written = await sql`
      INSERT INTO channel_state AS cs (channel_id, sku, pushed_version, pushed_quantity, confirmed_at)
      SELECT ${channelId}, v.sku, v.version, v.quantity, v.confirmed_at
        FROM unnest(
          ${items.map((c) => c.sku)}::text[],
          ${items.map((c) => c.version)}::int8[],
          ${items.map((c) => c.quantity)}::int[],
          ${items.map((c) => c.confirmedAt.toISOString())}::timestamptz[]) AS v(sku, version, quantity, confirmed_at)
       WHERE ${leaseHeld(channelId, fence)}
      ON CONFLICT (channel_id, sku) DO UPDATE SET
        pushed_version = GREATEST(cs.pushed_version, excluded.pushed_version),
        pushed_quantity = CASE WHEN excluded.pushed_version >= cs.pushed_version THEN excluded.pushed_quantity ELSE cs.pushed_quantity END,
        confirmed_at = CASE WHEN excluded.pushed_version >= cs.pushed_version THEN excluded.confirmed_at ELSE cs.confirmed_at END,
        dead_lettered_at = NULL,
        last_error = NULL,
        write_until = NULL,
        not_listed_at = NULL,
        not_listed_reason = NULL,
        not_listed_config = NULL
      RETURNING 1`.execute(this.#db);
    refusedUnlessWritten(written.rows.length, channelId, fence);
  }

  /**
   * Records the quantity a channel says it shows (after a compare-and-set refusal). The pushed version is
   * left alone: the channel's number is not known to match any ledger version, so the SKU stays behind.
   * The refusal settled the write, so its in-flight mark goes.
   */
  async recordShown(channelId: string, sku: string, quantity: number, fence?: ChannelFence): Promise<void> {
    const written = await sql`
      INSERT INTO channel_state AS cs (channel_id, sku, pushed_quantity)
      SELECT ${channelId}, ${sku}, ${quantity}::int WHERE ${leaseHeld(channelId, fence)}
      ON CONFLICT (channel_id, sku) DO UPDATE SET pushed_quantity = excluded.pushed_quantity, write_until = NULL
      RETURNING 1`.execute(this.#db);
    refusedUnlessWritten(written.rows.length, channelId, fence);
  }

  /** Marks SKUs dead-lettered on this channel with their last error; their pushed version is left alone. */
  async recordDeadLettered(channelId: string, items: ReadonlyArray<{ sku: string; error: string }>, fence?: ChannelFence): Promise<void> {
    const last = new Map<string, string>();
    for (const item of items) last.set(item.sku, item.error);
    if (last.size === 0) return;
    const written = await sql`
      INSERT INTO channel_state AS cs (channel_id, sku, dead_lettered_at, last_error)
      SELECT ${channelId}, v.sku, now(), v.error
        FROM unnest(${[...last.keys()]}::text[], ${[...last.values()]}::text[]) AS v(sku, error)
       WHERE ${leaseHeld(channelId, fence)}
      ON CONFLICT (channel_id, sku) DO UPDATE SET dead_lettered_at = excluded.dead_lettered_at, last_error = excluded.last_error
      RETURNING 1`.execute(this.#db);
    refusedUnlessWritten(written.rows.length, channelId, fence);
  }

  /**
   * Written before a push is sent: each SKU's write may land on the channel until its `until` (a later
   * mark never moves it earlier), and its revision budget is as given. A confirmation clears the mark.
   */
  async recordWriting(channelId: string, marks: readonly WriteMark[], fence?: ChannelFence): Promise<void> {
    const bySku = new Map<string, WriteMark>();
    for (const mark of marks) bySku.set(mark.sku, mark);
    if (bySku.size === 0) return;
    const items = [...bySku.values()];
    const written = await sql`
      INSERT INTO channel_state AS cs (channel_id, sku, write_until, revision_tokens, revision_at)
      SELECT ${channelId}, v.sku, v.until, v.tokens, v.at
        FROM unnest(
          ${items.map((m) => m.sku)}::text[],
          ${items.map((m) => m.until.toISOString())}::timestamptz[],
          ${items.map((m) => m.revision?.tokens ?? null)}::float8[],
          ${items.map((m) => m.revision?.at.toISOString() ?? null)}::timestamptz[]) AS v(sku, until, tokens, at)
       WHERE ${leaseHeld(channelId, fence)}
      ON CONFLICT (channel_id, sku) DO UPDATE SET
        write_until = GREATEST(cs.write_until, excluded.write_until),
        revision_tokens = COALESCE(excluded.revision_tokens, cs.revision_tokens),
        revision_at = COALESCE(excluded.revision_at, cs.revision_at)
      RETURNING 1`.execute(this.#db);
    refusedUnlessWritten(written.rows.length, channelId, fence);
  }

  /** The channel answered these SKUs' writes: none can land later, so their in-flight marks go. */
  async recordSettled(channelId: string, skus: readonly string[], fence?: ChannelFence): Promise<void> {
    const unique = [...new Set(skus)];
    if (unique.length === 0) return;
    const lease = await sql<{ held: boolean }>`
      WITH settled AS (
        UPDATE channel_state SET write_until = NULL
         WHERE channel_id = ${channelId} AND sku = ANY(${unique}::text[]) AND write_until IS NOT NULL AND ${leaseHeld(channelId, fence)}
        RETURNING 1)
      SELECT ${leaseHeld(channelId, fence)} AS held`.execute(this.#db);
    if (fence !== undefined && lease.rows[0]?.held !== true) throw new ChannelFencedError(channelId, fence.epoch);
  }

  /**
   * Marks SKUs as not listed on this channel (its reason, and `config`: the fingerprint of the channel's
   * connector and options when it said so); `config` null clears the marks instead. The channel's answer
   * settled the write, so a not-listed mark also clears its in-flight mark.
   */
  async recordNotListed(channelId: string, items: ReadonlyArray<{ sku: string; reason: string }>, config: string | null, fence?: ChannelFence): Promise<void> {
    const last = new Map<string, string>();
    for (const item of items) last.set(item.sku, item.reason);
    if (last.size === 0) return;
    const written = await sql`
      INSERT INTO channel_state AS cs (channel_id, sku, not_listed_at, not_listed_reason, not_listed_config)
      SELECT ${channelId}, v.sku, CASE WHEN ${config}::text IS NULL THEN NULL ELSE now() END,
             CASE WHEN ${config}::text IS NULL THEN NULL ELSE v.reason END, ${config}::text
        FROM unnest(${[...last.keys()]}::text[], ${[...last.values()]}::text[]) AS v(sku, reason)
       WHERE ${leaseHeld(channelId, fence)}
      ON CONFLICT (channel_id, sku) DO UPDATE SET
        not_listed_at = excluded.not_listed_at,
        not_listed_reason = excluded.not_listed_reason,
        not_listed_config = excluded.not_listed_config,
        write_until = CASE WHEN excluded.not_listed_config IS NULL THEN cs.write_until ELSE NULL END
      RETURNING 1`.execute(this.#db);
    refusedUnlessWritten(written.rows.length, channelId, fence);
  }

  /** Revision budgets stored for this channel's SKUs. */
  async listRevisionBudgets(channelId: string): Promise<Array<{ sku: string } & RevisionLeft>> {
    const rows = await this.#db
      .selectFrom('channel_state')
      .select(['sku', 'revision_tokens', 'revision_at'])
      .where('channel_id', '=', channelId)
      .where('revision_tokens', 'is not', null)
      .where('revision_at', 'is not', null)
      .execute();
    return rows.map((r) => ({ sku: r.sku, tokens: r.revision_tokens!, at: r.revision_at! }));
  }

  /**
   * Push state of one channel: for the SKUs asked for (in that order, never-pushed ones with
   * `pushedVersion` 0), or every SKU the channel has state for (by SKU) when `skus` is omitted.
   */
  async getChannelStates(channelId: string, skus?: readonly string[]): Promise<ChannelSkuState[]> {
    let query = this.#db.selectFrom('channel_state').selectAll().where('channel_id', '=', channelId).orderBy('sku');
    if (skus !== undefined) {
      if (skus.length === 0) return [];
      query = query.where('sku', '=', sql<string>`ANY(${[...new Set(skus)]}::text[])`);
    }
    const rows = await query.execute();
    const states = rows.map(channelSkuState);
    if (skus === undefined) return states;
    const bySku = new Map(states.map((s) => [s.sku, s]));
    return skus.map(
      (sku) =>
        bySku.get(sku) ?? {
          channelId,
          sku,
          pushedVersion: 0,
          pushedQuantity: null,
          confirmedAt: null,
          deadLetteredAt: null,
          lastError: null,
          writeUntil: null,
          notListed: null,
        },
    );
  }

  /**
   * Levels of these SKUs and their stored push state on these channels, in one statement: one round
   * trip, and one snapshot, so a confirmation can never look newer than the level it is compared with.
   * SKUs the ledger does not know are absent; (channel, SKU) pairs never pushed have no state.
   */
  async readInventory(channelIds: readonly string[], skus: readonly string[]): Promise<{ levels: Map<string, StockLevel>; states: ChannelSkuState[] }> {
    const levels = new Map<string, StockLevel>();
    const states: ChannelSkuState[] = [];
    if (skus.length === 0) return { levels, states };
    const rows = await this.#db
      .selectFrom('stock as s')
      .leftJoin('channel_state as c', (join) => join.onRef('c.sku', '=', 's.sku').on('c.channel_id', '=', sql<string>`ANY(${[...new Set(channelIds)]}::text[])`))
      .select([
        's.sku',
        's.available',
        's.version',
        's.updated_at',
        'c.channel_id',
        'c.pushed_version',
        'c.pushed_quantity',
        'c.confirmed_at',
        'c.dead_lettered_at',
        'c.last_error',
        'c.write_until',
        'c.not_listed_at',
        'c.not_listed_reason',
        'c.not_listed_config',
      ])
      .where('s.sku', '=', sql<string>`ANY(${[...new Set(skus)]}::text[])`)
      .execute();
    for (const r of rows) {
      if (!levels.has(r.sku)) levels.set(r.sku, { sku: r.sku, available: r.available, version: r.version, updatedAt: r.updated_at });
      if (r.channel_id === null) continue;
      states.push({
        channelId: r.channel_id,
        sku: r.sku,
        pushedVersion: r.pushed_version ?? 0,
        pushedQuantity: r.pushed_quantity,
        confirmedAt: r.confirmed_at,
        deadLetteredAt: r.dead_lettered_at,
        lastError: r.last_error,
        writeUntil: r.write_until ?? null,
        notListed: notListedMark(r),
      });
    }
    return { levels, states };
  }

  /**
   * Stored push state of these SKUs on these channels, in one query (the read API); pairs never pushed
   * are absent. Both lists bound the primary key, so the query stays an index scan however large the table.
   */
  async getChannelStatesOfSkus(channelIds: readonly string[], skus: readonly string[]): Promise<ChannelSkuState[]> {
    if (skus.length === 0 || channelIds.length === 0) return [];
    const rows = await this.#db
      .selectFrom('channel_state')
      .selectAll()
      .where('channel_id', '=', sql<string>`ANY(${[...new Set(channelIds)]}::text[])`)
      .where('sku', '=', sql<string>`ANY(${[...new Set(skus)]}::text[])`)
      .execute();
    return rows.map(channelSkuState);
  }
}

type ChannelStateRow = Selectable<ChannelStateTable>;

function channelSkuState(r: ChannelStateRow): ChannelSkuState {
  return {
    channelId: r.channel_id,
    sku: r.sku,
    pushedVersion: r.pushed_version,
    pushedQuantity: r.pushed_quantity,
    confirmedAt: r.confirmed_at,
    deadLetteredAt: r.dead_lettered_at,
    lastError: r.last_error,
    writeUntil: r.write_until ?? null,
    notListed: notListedMark(r),
  };
}

function notListedMark(r: { not_listed_at: Date | null; not_listed_reason: string | null; not_listed_config: string | null }): NotListedMark | null {
  if (r.not_listed_at === null || r.not_listed_config === null) return null;
  return { at: r.not_listed_at, reason: r.not_listed_reason ?? '', config: r.not_listed_config };
}

/**
 * The condition a fenced channel-state write carries: the writer's epoch is still the channel's. The
 * lease row is read FOR SHARE, so a takeover (which bumps it) waits for this write to commit and then
 * sees it, and a write after the takeover finds the newer epoch and changes nothing.
 */
function leaseHeld(channelId: string, fence: ChannelFence | undefined) {
  if (fence === undefined) return sql<boolean>`true`;
  return sql<boolean>`EXISTS (SELECT 1 FROM channel_lease WHERE channel_id = ${channelId} AND epoch = ${fence.epoch} FOR SHARE)`;
}

/** A fenced write that changed no row was refused: the channel has a newer pusher. */
function refusedUnlessWritten(rows: number, channelId: string, fence: ChannelFence | undefined): void {
  if (fence !== undefined && rows === 0) throw new ChannelFencedError(channelId, fence.epoch);
}

function isConflict(err: unknown): boolean {
  if (err instanceof ConflictSignal) return true;
  const code = typeof err === 'object' && err !== null && 'code' in err ? (err as { code: unknown }).code : undefined;
  return typeof code === 'string' && RETRYABLE_PG_CODES.has(code);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
