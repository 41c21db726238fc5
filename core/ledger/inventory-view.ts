import type { Kysely } from 'kysely';
import type { ChannelSkuState, StockLevel } from './ledger-types.ts';
import { anyOf, CHANNEL_STATE_COLUMNS, channelSkuState, neverPushed, STOCK_LEVEL_COLUMNS, stockLevel } from './ledger-rows.ts';
import type { LedgerSchema } from './schema.ts';

/**
 * The inventory as people, agents and the CLI read it: ledger levels and what each channel was last
 * confirmed showing. Reads only; every method is one statement.
 */
export class InventoryView {
  readonly #db: Kysely<LedgerSchema>;

  constructor(db: Kysely<LedgerSchema>) {
    this.#db = db;
  }

  /** Current levels of these SKUs; SKUs the ledger does not know are absent from the map. */
  async getLevels(skus: readonly string[]): Promise<Map<string, StockLevel>> {
    const levels = new Map<string, StockLevel>();
    if (skus.length === 0) return levels;
    const rows = await this.#db
      .selectFrom('stock as s')
      .select(STOCK_LEVEL_COLUMNS)
      .where('s.sku', '=', anyOf(skus))
      .execute();
    for (const r of rows) levels.set(r.sku, stockLevel(r));
    return levels;
  }

  /** The current level of one SKU, or `undefined` when the ledger does not know it. */
  async getLevel(sku: string): Promise<StockLevel | undefined> {
    return (await this.getLevels([sku])).get(sku);
  }

  /**
   * Push state of one channel: for the SKUs asked for (in that order, never-pushed ones with
   * `pushedVersion` 0), or every SKU the channel has state for (by SKU) when `skus` is omitted.
   */
  async getChannelStates(channelId: string, skus?: readonly string[]): Promise<ChannelSkuState[]> {
    let query = this.#db.selectFrom('channel_state as c').select(['c.sku', ...CHANNEL_STATE_COLUMNS]).where('c.channel_id', '=', channelId).orderBy('c.sku');
    if (skus !== undefined) {
      if (skus.length === 0) return [];
      query = query.where('c.sku', '=', anyOf(skus));
    }
    const states = (await query.execute()).map(channelSkuState);
    if (skus === undefined) return states;
    const bySku = new Map(states.map((s) => [s.sku, s]));
    return skus.map((sku) => bySku.get(sku) ?? neverPushed(channelId, sku));
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
      .leftJoin('channel_state as c', (join) => join.onRef('c.sku', '=', 's.sku').on('c.channel_id', '=', anyOf(channelIds)))
      .select([...STOCK_LEVEL_COLUMNS, ...CHANNEL_STATE_COLUMNS])
      .where('s.sku', '=', anyOf(skus))
      .execute();
    for (const r of rows) {
      if (!levels.has(r.sku)) levels.set(r.sku, stockLevel(r));
      const channelId = r.channel_id;
      if (channelId !== null) states.push(channelSkuState({ ...r, channel_id: channelId }));
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
      .selectFrom('channel_state as c')
      .select(['c.sku', ...CHANNEL_STATE_COLUMNS])
      .where('c.channel_id', '=', anyOf(channelIds))
      .where('c.sku', '=', anyOf(skus))
      .execute();
    return rows.map(channelSkuState);
  }
}
