import { sql, type Kysely } from 'kysely';
import type { ChannelRead, DriftFinding, ReadBackStore, SkuSyncLevel } from './ledger-types.ts';
import type { LedgerSchema } from './schema.ts';
import { unnestRows } from './unnest-rows.ts';

/** The {@link ReadBackStore} on the ledger database (tables `channel_read` and `channel_drift`). */
export class DatabaseReadBacks implements ReadBackStore {
  readonly #db: Kysely<LedgerSchema>;

  constructor(db: Kysely<LedgerSchema>) {
    this.#db = db;
  }

  async listLevels(channelId: string, afterSku: string, limit: number): Promise<SkuSyncLevel[]> {
    const rows = await this.#db
      .selectFrom('stock as s')
      .leftJoin('channel_state as c', (join) => join.onRef('c.sku', '=', 's.sku').on('c.channel_id', '=', channelId))
      .select(['s.sku', 's.available', 's.version', 'c.pushed_version'])
      .where('s.sku', '>', afterSku)
      .orderBy('s.sku')
      .limit(limit)
      .execute();
    return rows.map((r) => ({ sku: r.sku, available: r.available, version: Number(r.version), pushedVersion: Number(r.pushed_version ?? 0) }));
  }

  async recordReads(channelId: string, reads: ReadonlyArray<{ sku: string; shown: number }>, readAt: Date): Promise<void> {
    const bySku = new Map<string, number>();
    for (const read of reads) bySku.set(read.sku, read.shown);
    if (bySku.size === 0) return;
    const v = unnestRows(
      'v',
      { channel_id: 'text', sku: 'text', shown: 'int', read_at: 'timestamptz' },
      [...bySku].map(([sku, shown]) => ({ channel_id: channelId, sku, shown, read_at: readAt.toISOString() })),
    );
    await this.#db
      .insertInto('channel_read')
      .columns(v.columns)
      .expression((eb) => eb.selectFrom(v.table).selectAll())
      .onConflict((oc) =>
        oc
          .columns(['channel_id', 'sku'])
          .doUpdateSet((eb) => ({ shown: eb.ref('excluded.shown'), read_at: eb.ref('excluded.read_at') }))
          // Two readers (a sweep and the reconcile command) may race: the newest read stays.
          .where((eb) => eb('excluded.read_at', '>=', eb.ref('channel_read.read_at'))),
      )
      .execute();
  }

  async recordDrift(channelId: string, findings: readonly DriftFinding[]): Promise<void> {
    if (findings.length === 0) return;
    await this.#db
      .insertInto('channel_drift')
      .values(findings.map((f) => ({ channel_id: channelId, sku: f.sku, shown: f.shown, expected: f.expected, ledger_version: f.version, read_at: f.readAt })))
      .execute();
  }

  async recordHealed(channelId: string, healed: ReadonlyArray<{ sku: string; quantity: number; at: Date }>): Promise<void> {
    for (const h of healed) {
      await this.#db
        .updateTable('channel_drift')
        .set({ pushed_quantity: h.quantity, pushed_at: h.at })
        .where('channel_id', '=', channelId)
        .where('sku', '=', h.sku)
        .where('pushed_at', 'is', null)
        .execute();
    }
  }

  async markBehind(channelId: string, reads: ReadonlyArray<{ sku: string; shown: number }>): Promise<void> {
    if (reads.length === 0) return;
    const v = unnestRows('v', { channel_id: 'text', sku: 'text', pushed_quantity: 'int' }, reads.map((r) => ({ channel_id: channelId, sku: r.sku, pushed_quantity: r.shown })));
    await this.#db
      .insertInto('channel_state')
      .columns(v.columns)
      .expression((eb) => eb.selectFrom(v.table).selectAll())
      .onConflict((oc) => oc.columns(['channel_id', 'sku']).doUpdateSet((eb) => ({ pushed_version: sql<number>`0`, pushed_quantity: eb.ref('excluded.pushed_quantity') })))
      .execute();
  }

  /** The last read of each of `skus` on each of `channelIds` that has one (one statement, for the read API). */
  async lastReadsOf(channelIds: readonly string[], skus: readonly string[]): Promise<ChannelRead[]> {
    if (channelIds.length === 0 || skus.length === 0) return [];
    const rows = await this.#db.selectFrom('channel_read').selectAll().where('channel_id', 'in', [...channelIds]).where('sku', 'in', [...skus]).execute();
    return rows.map((r) => ({ channelId: r.channel_id, sku: r.sku, shown: r.shown, readAt: r.read_at }));
  }

  async lastReads(sku: string, channelId?: string): Promise<ChannelRead[]> {
    let query = this.#db.selectFrom('channel_read').selectAll().where('sku', '=', sku);
    if (channelId !== undefined) query = query.where('channel_id', '=', channelId);
    const rows = await query.orderBy('channel_id').execute();
    return rows.map((r) => ({ channelId: r.channel_id, sku: r.sku, shown: r.shown, readAt: r.read_at }));
  }
}
