import { sql, type Kysely } from 'kysely';
import { ChannelFencedError } from './channel-fenced-error.ts';
import { InventoryView } from './inventory-view.ts';
import type { BehindSku, ChannelFence, ChannelStateStore, PushConfirmation, RevisionLeft, StockLevel, WriteMark } from './ledger-types.ts';
import { anyOf, behindSku, CHANNEL_STATE_COLUMNS, STOCK_LEVEL_COLUMNS } from './ledger-rows.ts';
import { unnestRows } from './unnest-rows.ts';
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
    const v = unnestRows(
      'v',
      { channel_id: 'text', sku: 'text', pushed_version: 'int8', pushed_quantity: 'int', confirmed_at: 'timestamptz' },
      [...newest.values()].map((c) => ({ channel_id: channelId, sku: c.sku, pushed_version: c.version, pushed_quantity: c.quantity, confirmed_at: c.confirmedAt.toISOString() })),
    );
    const written = await this.#db
      .insertInto('channel_state')
      .columns(v.columns)
      .expression((eb) => eb.selectFrom(v.table).selectAll().where(leaseHeld(channelId, fence)))
      .onConflict((oc) =>
        oc.columns(['channel_id', 'sku']).doUpdateSet((eb) => {
          const newer = eb('excluded.pushed_version', '>=', eb.ref('channel_state.pushed_version'));
          return {
            pushed_version: eb.fn<number>('greatest', [eb.ref('channel_state.pushed_version'), eb.ref('excluded.pushed_version')]),
            pushed_quantity: eb.case().when(newer).then(eb.ref('excluded.pushed_quantity')).else(eb.ref('channel_state.pushed_quantity')).end(),
            confirmed_at: eb.case().when(newer).then(eb.ref('excluded.confirmed_at')).else(eb.ref('channel_state.confirmed_at')).end(),
            dead_lettered_at: null,
            last_error: null,
            write_until: null,
            not_listed_at: null,
            not_listed_reason: null,
            not_listed_config: null,
          };
        }),
      )
      .returning(WRITTEN)
      .execute();
    refusedUnlessWritten(written.length, channelId, fence);
  }

  /**
   * Records the quantity a channel says it shows (after a compare-and-set refusal). The pushed version is
   * left alone: the channel's number is not known to match any ledger version, so the SKU stays behind.
   * The refusal settled the write, so its in-flight mark goes.
   */
  async recordShown(channelId: string, sku: string, quantity: number, fence?: ChannelFence): Promise<void> {
    const v = unnestRows('v', { channel_id: 'text', sku: 'text', pushed_quantity: 'int' }, [{ channel_id: channelId, sku, pushed_quantity: quantity }]);
    const written = await this.#db
      .insertInto('channel_state')
      .columns(v.columns)
      .expression((eb) => eb.selectFrom(v.table).selectAll().where(leaseHeld(channelId, fence)))
      .onConflict((oc) => oc.columns(['channel_id', 'sku']).doUpdateSet((eb) => ({ pushed_quantity: eb.ref('excluded.pushed_quantity'), write_until: null })))
      .returning(WRITTEN)
      .execute();
    refusedUnlessWritten(written.length, channelId, fence);
  }

  /** Marks SKUs dead-lettered on this channel with their last error; their pushed version is left alone. */
  async recordDeadLettered(channelId: string, items: ReadonlyArray<{ sku: string; error: string }>, fence?: ChannelFence): Promise<void> {
    const last = new Map<string, string>();
    for (const item of items) last.set(item.sku, item.error);
    if (last.size === 0) return;
    const v = unnestRows('v', { channel_id: 'text', sku: 'text', last_error: 'text' }, [...last].map(([sku, error]) => ({ channel_id: channelId, sku, last_error: error })));
    const written = await this.#db
      .insertInto('channel_state')
      .columns([...v.columns, 'dead_lettered_at'])
      .expression((eb) => eb.selectFrom(v.table).select([...v.columns, sql<Date>`now()`.as('dead_lettered_at')]).where(leaseHeld(channelId, fence)))
      .onConflict((oc) => oc.columns(['channel_id', 'sku']).doUpdateSet((eb) => ({ dead_lettered_at: eb.ref('excluded.dead_lettered_at'), last_error: eb.ref('excluded.last_error') })))
      .returning(WRITTEN)
      .execute();
    refusedUnlessWritten(written.length, channelId, fence);
  }

  /**
   * Written before a push is sent: each SKU's write may land on the channel until its `until` (a later
   * mark never moves it earlier), and its revision budget is as given. A confirmation clears the mark.
   */
  async recordWriting(channelId: string, marks: readonly WriteMark[], fence?: ChannelFence): Promise<void> {
    const bySku = new Map<string, WriteMark>();
    for (const mark of marks) bySku.set(mark.sku, mark);
    if (bySku.size === 0) return;
    const v = unnestRows(
      'v',
      { channel_id: 'text', sku: 'text', write_until: 'timestamptz', revision_tokens: 'float8', revision_at: 'timestamptz' },
      [...bySku.values()].map((m) => ({
        channel_id: channelId,
        sku: m.sku,
        write_until: m.until.toISOString(),
        revision_tokens: m.revision?.tokens ?? null,
        revision_at: m.revision?.at.toISOString() ?? null,
      })),
    );
    const written = await this.#db
      .insertInto('channel_state')
      .columns(v.columns)
      .expression((eb) => eb.selectFrom(v.table).selectAll().where(leaseHeld(channelId, fence)))
      .onConflict((oc) =>
        oc.columns(['channel_id', 'sku']).doUpdateSet((eb) => ({
          write_until: eb.fn<Date | null>('greatest', [eb.ref('channel_state.write_until'), eb.ref('excluded.write_until')]),
          revision_tokens: eb.fn.coalesce('excluded.revision_tokens', 'channel_state.revision_tokens'),
          revision_at: eb.fn.coalesce('excluded.revision_at', 'channel_state.revision_at'),
        })),
      )
      .returning(WRITTEN)
      .execute();
    refusedUnlessWritten(written.length, channelId, fence);
  }

  /** The channel answered these SKUs' writes: none can land later, so their in-flight marks go. */
  async recordSettled(channelId: string, skus: readonly string[], fence?: ChannelFence): Promise<void> {
    const unique = [...new Set(skus)];
    if (unique.length === 0) return;
    // One statement: the update, and whether the lease was held when it ran (it may have changed nothing).
    const lease = await this.#db
      .with('settled', (db) =>
        db
          .updateTable('channel_state')
          .set({ write_until: null })
          .where('channel_id', '=', channelId)
          .where('sku', '=', anyOf(unique))
          .where('write_until', 'is not', null)
          .where(leaseHeld(channelId, fence))
          .returning(WRITTEN),
      )
      .selectNoFrom(leaseHeld(channelId, fence).as('held'))
      .executeTakeFirst();
    if (fence !== undefined && lease?.held !== true) throw new ChannelFencedError(channelId, fence.epoch);
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
    // A null config clears: the reason goes with it, and the in-flight mark stays.
    const v = unnestRows(
      'v',
      { channel_id: 'text', sku: 'text', not_listed_reason: 'text', not_listed_config: 'text' },
      [...last].map(([sku, reason]) => ({ channel_id: channelId, sku, not_listed_reason: config === null ? null : reason, not_listed_config: config })),
    );
    const at = config === null ? sql<Date | null>`NULL::timestamptz` : sql<Date | null>`now()`;
    const written = await this.#db
      .insertInto('channel_state')
      .columns([...v.columns, 'not_listed_at'])
      .expression((eb) => eb.selectFrom(v.table).select([...v.columns, at.as('not_listed_at')]).where(leaseHeld(channelId, fence)))
      .onConflict((oc) =>
        oc.columns(['channel_id', 'sku']).doUpdateSet((eb) => ({
          not_listed_at: eb.ref('excluded.not_listed_at'),
          not_listed_reason: eb.ref('excluded.not_listed_reason'),
          not_listed_config: eb.ref('excluded.not_listed_config'),
          write_until: eb.case().when('excluded.not_listed_config', 'is', null).then(eb.ref('channel_state.write_until')).else(null).end(),
        })),
      )
      .returning(WRITTEN)
      .execute();
    refusedUnlessWritten(written.length, channelId, fence);
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

/** What a write returns per row it inserted or updated: a fenced write that returns none was refused. */
const WRITTEN = sql<number>`1`.as('written');

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
