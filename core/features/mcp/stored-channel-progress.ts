import { sql, type Kysely } from 'kysely';
import type { LedgerSchema } from '../../ledger/schema.ts';
import type { StoredChannelProgress } from './mcp-read-source.ts';

interface ProgressRow {
  channel_id: string;
  behind: number;
  behind_since: Date | null;
  dead_lettered: number;
  not_listed: number;
  last_confirmed: Date | null;
}

/**
 * How far each channel is behind the ledger, from what the database stores (one statement for every
 * channel). A SKU counts as behind when the channel has not confirmed its current version and did not
 * say it has no listing for it; `behindSince` is the oldest last-change time among those SKUs.
 * Reads the whole stock table once: an agent asks this now and then, never per order.
 */
export async function storedChannelProgress(db: Kysely<LedgerSchema>, channelIds: readonly string[]): Promise<Map<string, StoredChannelProgress>> {
  const out = new Map<string, StoredChannelProgress>();
  if (channelIds.length === 0) return out;
  const { rows } = await sql<ProgressRow>`
    SELECT ch.channel_id,
      (count(*) FILTER (WHERE coalesce(c.pushed_version, 0) < s.version AND c.not_listed_at IS NULL))::int AS behind,
      min(s.updated_at) FILTER (WHERE coalesce(c.pushed_version, 0) < s.version AND c.not_listed_at IS NULL) AS behind_since,
      (count(*) FILTER (WHERE coalesce(c.pushed_version, 0) < s.version AND c.dead_lettered_at IS NOT NULL AND c.not_listed_at IS NULL))::int AS dead_lettered,
      (count(*) FILTER (WHERE c.not_listed_at IS NOT NULL))::int AS not_listed,
      max(c.confirmed_at) AS last_confirmed
    FROM unnest(${[...channelIds]}::text[]) AS ch(channel_id)
    CROSS JOIN stock s
    LEFT JOIN channel_state c ON c.channel_id = ch.channel_id AND c.sku = s.sku
    GROUP BY ch.channel_id`.execute(db);
  for (const id of channelIds) out.set(id, { skusBehind: 0, behindSince: null, skusDeadLettered: 0, skusNotListed: 0, lastConfirmedAt: null });
  for (const r of rows) {
    out.set(r.channel_id, {
      skusBehind: Number(r.behind),
      behindSince: r.behind_since ? new Date(r.behind_since).toISOString() : null,
      skusDeadLettered: Number(r.dead_lettered),
      skusNotListed: Number(r.not_listed),
      lastConfirmedAt: r.last_confirmed ? new Date(r.last_confirmed).toISOString() : null,
    });
  }
  return out;
}
