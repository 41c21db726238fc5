import { sql, type Kysely } from 'kysely';
import { ChannelFencedError } from './channel-fenced-error.ts';
import { InventoryView } from './inventory-view.ts';
import type { BehindSku, ChannelFence, ChannelStateStore, PushConfirmation, RevisionLeft, StockLevel, WriteMark } from './ledger-types.ts';
import { behindSku, CHANNEL_STATE_COLUMNS, STOCK_LEVEL_COLUMNS } from './ledger-rows.ts';
import type { LedgerSchema } from './schema.ts';

/**
 * The dispatchers' durable state in the ledger database: per (channel, SKU) the version and quantity the
 * channel confirmed, dead-letter, not-listed and in-flight marks and revision budgets; per channel the
 * lease epoch of its pusher. Every call is one statement. A write that carries a {@link ChannelFence} is
 * refused by the database (a `ChannelFencedError`, nothing written) once a newer pusher claimed the channel.
 */
export class DatabaseChannelState implements ChannelStateStore {
  readonly #db: Kysely<LedgerSchema>;
  readonly #inventory: InventoryView;

  constructor(db: Kysely<LedgerSchema>) {
    this.#db = db;
    this.#inventory = new InventoryView(db);
  }

  /**
   * Makes the caller the channel's pusher: bumps the channel's lease epoch and returns it. From then on
   * the database refuses channel-state writes fenced with an older epoch.
   */
  async claimChannel(channelId: string): Promise<number> {
    const row = await this.#db
      .insertInto('channel_lease')
      .values({ channel_id: channelId, epoch: 1 })
      .onConflict((oc) => oc.column('channel_id').doUpdateSet((eb) => ({ epoch: eb('channel_lease.epoch', '+', 1), acquired_at: sql<Date>`now()` })))
      .returning('epoch')
      .executeTakeFirstOrThrow();
    return Number(row.epoch);
  }

  /** Every SKU the channel has not confirmed at the ledger's current version (never-pushed SKUs included), by SKU. */
  async listBehind(channelId: string): Promise<BehindSku[]> {
    const rows = await this.#db
      .selectFrom('stock as s')
      .leftJoin('channel_state as c', (join) => join.onRef('c.sku', '=', 's.sku').on('c.channel_id', '=', channelId))
      .select([...STOCK_LEVEL_COLUMNS, ...CHANNEL_STATE_COLUMNS])
      .where((eb) => eb.or([eb('c.sku', 'is', null), eb('c.pushed_version', '<', eb.ref('s.version'))]))
      .orderBy('s.sku')
      .execute();
    return rows.map(behindSku);
  }

  /** Current ledger levels of these SKUs (missing SKUs are absent from the map). */
  getLevels(skus: readonly string[]): Promise<Map<string, StockLevel>> {
    return this.#inventory.getLevels(skus);
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
