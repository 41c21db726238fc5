import type { Kysely } from 'kysely';
import type { LedgerSchema } from '../../ledger/schema.ts';
import type { OversellQuery, OversellView } from './mcp-read-source.ts';

/** Recorded oversells matching `query`, newest first (the oversell table's id order is commit order). */
export async function recentOversells(db: Kysely<LedgerSchema>, query: OversellQuery): Promise<OversellView[]> {
  let select = db
    .selectFrom('oversell')
    .select(['event_id', 'channel', 'sku', 'requested', 'available_before', 'shortfall', 'created_at'])
    .orderBy('id', 'desc')
    .limit(query.limit);
  if (query.sku !== undefined) select = select.where('sku', '=', query.sku);
  if (query.channel !== undefined) select = select.where('channel', '=', query.channel);
  if (query.since !== undefined) select = select.where('created_at', '>=', query.since);
  const rows = await select.execute();
  return rows.map((r) => ({
    eventId: r.event_id,
    channel: r.channel,
    sku: r.sku,
    requested: r.requested,
    availableBefore: r.available_before,
    shortfall: r.shortfall,
    at: new Date(r.created_at).toISOString(),
  }));
}
