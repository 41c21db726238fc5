import { sql, type Kysely } from 'kysely';
import { ChannelFencedError } from './channel-fenced-error.ts';
import { InventoryView } from './inventory-view.ts';
import type { BehindSku, ChannelFence, ChannelStateStore, PushConfirmation, RevisionLeft, StockLevel, WriteMark } from './ledger-types.ts';
import { anyOf, behindSku, CHANNEL_STATE_COLUMNS, STOCK_LEVEL_COLUMNS } from './ledger-rows.ts';
import { unnestRows } from './unnest-rows.ts';
import type { LedgerSchema } from './schema.ts';
import { WriteGroup } from './write-group.ts';

/**
 * The dispatchers' durable state in the ledger database: per (channel, SKU) the version and quantity the
 * channel confirmed, dead-letter, not-listed and in-flight marks and revision budgets; per channel the
 * lease epoch of its pusher. Every call is one statement, except confirmations and in-flight marks: those of
 * all channels are sent together while the previous such statement runs (see {@link WriteGroup}). A write
 * that carries a {@link ChannelFence} is refused by the database (a `ChannelFencedError`, nothing written)
 * once a newer pusher claimed the channel.
 */
export class DatabaseChannelState implements ChannelStateStore {
  readonly #db: Kysely<LedgerSchema>;
  readonly #inventory: InventoryView;
  /** Confirmations and in-flight marks are the dispatchers' hot writes: each kind goes in groups. */
  readonly #confirming = new WriteGroup<FencedRows<PushConfirmation>>((writes) => this.#recordConfirmedGroup(writes), oneEpochPerChannel);
  readonly #marking = new WriteGroup<FencedRows<WriteMark>>((writes) => this.#recordWritingGroup(writes), oneEpochPerChannel);

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
  recordConfirmed(channelId: string, confirmations: readonly PushConfirmation[], fence?: ChannelFence): Promise<void> {
    if (confirmations.length === 0) return Promise.resolve();
    return this.#confirming.write({ channelId, fence, rows: confirmations });
  }

  /** One statement for the confirmations of every dispatcher that recorded some meanwhile: see {@link WriteGroup}. */
  async #recordConfirmedGroup(writes: ReadonlyArray<FencedRows<PushConfirmation>>): Promise<Array<Error | undefined>> {
    // One upsert may not touch a row twice: keep the newest confirmation per channel and SKU.
    const newest = new Map<string, { channelId: string; epoch: number | null; c: PushConfirmation }>();
    for (const { channelId, fence, rows } of writes) {
      for (const c of rows) {
        const key = rowKey(channelId, c.sku);
        const seen = newest.get(key);
        if (seen === undefined || c.version >= seen.c.version) newest.set(key, { channelId, epoch: fence?.epoch ?? null, c });
      }
    }
    const v = unnestRows(
      'v',
      { channel_id: 'text', sku: 'text', pushed_version: 'int8', pushed_quantity: 'int', confirmed_at: 'timestamptz', epoch: 'int8' },
      inLockOrder(newest).map(({ channelId, epoch, c }) => ({
        channel_id: channelId,
        sku: c.sku,
        pushed_version: c.version,
        pushed_quantity: c.quantity,
        confirmed_at: c.confirmedAt.toISOString(),
        epoch,
      })),
    );
    const written = await this.#db
      .insertInto('channel_state')
      .columns(['channel_id', 'sku', 'pushed_version', 'pushed_quantity', 'confirmed_at'])
      .expression((eb) => eb.selectFrom(v.table).select(['v.channel_id', 'v.sku', 'v.pushed_version', 'v.pushed_quantity', 'v.confirmed_at']).where(leaseHeldByRow))
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
      .returning('channel_state.channel_id')
      .execute();
    return refusedPerWrite(writes, written);
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
  recordWriting(channelId: string, marks: readonly WriteMark[], fence?: ChannelFence): Promise<void> {
    if (marks.length === 0) return Promise.resolve();
    return this.#marking.write({ channelId, fence, rows: marks });
  }

  /** One statement for the marks of every dispatcher that marked writes meanwhile: see {@link WriteGroup}. */
  async #recordWritingGroup(writes: ReadonlyArray<FencedRows<WriteMark>>): Promise<Array<Error | undefined>> {
    // One upsert may not touch a row twice: per channel and SKU the latest mark, with the latest budget
    // given and the furthest `until` (the store never moves it earlier either).
    const merged = new Map<string, { channelId: string; epoch: number | null; m: WriteMark }>();
    for (const { channelId, fence, rows } of writes) {
      for (const m of rows) {
        const key = rowKey(channelId, m.sku);
        const seen = merged.get(key)?.m;
        const until = seen && seen.until > m.until ? seen.until : m.until;
        const revision = m.revision ?? seen?.revision;
        merged.set(key, { channelId, epoch: fence?.epoch ?? null, m: revision ? { sku: m.sku, until, revision } : { sku: m.sku, until } });
      }
    }
    const v = unnestRows(
      'v',
      { channel_id: 'text', sku: 'text', write_until: 'timestamptz', revision_tokens: 'float8', revision_at: 'timestamptz', epoch: 'int8' },
      inLockOrder(merged).map(({ channelId, epoch, m }) => ({
        channel_id: channelId,
        sku: m.sku,
        write_until: m.until.toISOString(),
        revision_tokens: m.revision?.tokens ?? null,
        revision_at: m.revision?.at.toISOString() ?? null,
        epoch,
      })),
    );
    const written = await this.#db
      .insertInto('channel_state')
      .columns(['channel_id', 'sku', 'write_until', 'revision_tokens', 'revision_at'])
      .expression((eb) => eb.selectFrom(v.table).select(['v.channel_id', 'v.sku', 'v.write_until', 'v.revision_tokens', 'v.revision_at']).where(leaseHeldByRow))
      .onConflict((oc) =>
        oc.columns(['channel_id', 'sku']).doUpdateSet((eb) => ({
          write_until: eb.fn<Date | null>('greatest', [eb.ref('channel_state.write_until'), eb.ref('excluded.write_until')]),
          revision_tokens: eb.fn.coalesce('excluded.revision_tokens', 'channel_state.revision_tokens'),
          revision_at: eb.fn.coalesce('excluded.revision_at', 'channel_state.revision_at'),
        })),
      )
      .returning('channel_state.channel_id')
      .execute();
    return refusedPerWrite(writes, written);
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

/** One channel's rows of a grouped write, with the fence they were written under. */
interface FencedRows<R> {
  channelId: string;
  fence: ChannelFence | undefined;
  rows: readonly R[];
}

/** A group holds each channel under one fence: rows of an older pusher must be refused, not merged. */
function oneEpochPerChannel(group: ReadonlyArray<FencedRows<unknown>>, write: FencedRows<unknown>): boolean {
  return group.every((other) => other.channelId !== write.channelId || other.fence?.epoch === write.fence?.epoch);
}

function rowKey(channelId: string, sku: string): string {
  return `${channelId}\u0000${sku}`;
}

/**
 * The map's values sorted by channel and SKU (its keys, from {@link rowKey}): every grouped upsert then
 * locks rows in the same order, so two running at once (marks and confirmations) wait for each other
 * instead of deadlocking.
 */
function inLockOrder<T>(rows: ReadonlyMap<string, T>): T[] {
  return [...rows.keys()].sort().map((key) => rows.get(key)!);
}

/**
 * The condition a grouped row carries: its writer's epoch (null: unfenced) is still its channel's. As in
 * {@link leaseHeld}, the lease row is read FOR SHARE so a takeover waits for this statement.
 */
const leaseHeldByRow = sql<boolean>`(v.epoch IS NULL OR EXISTS (SELECT 1 FROM channel_lease l WHERE l.channel_id = v.channel_id AND l.epoch = v.epoch FOR SHARE))`;

/** Per grouped write: a fenced channel none of whose rows were written has a newer pusher. */
function refusedPerWrite(writes: ReadonlyArray<FencedRows<unknown>>, written: ReadonlyArray<{ channel_id: string }>): Array<Error | undefined> {
  const channels = new Set(written.map((row) => row.channel_id));
  return writes.map(({ channelId, fence }) => (fence !== undefined && !channels.has(channelId) ? new ChannelFencedError(channelId, fence.epoch) : undefined));
}
