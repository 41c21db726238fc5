import type { Kysely } from 'kysely';
import type { LedgerSchema } from '../../ledger/schema.ts';
import type { OversellQuery, OversellView, StoredChannelProgress } from './mcp-read-source.ts';
import { recentOversells } from './recent-oversells.ts';
import { storedChannelProgress } from './stored-channel-progress.ts';

/** The two ledger reads only the MCP tools make: each channel's stored progress, and filtered oversells. */
export interface McpStoredReads {
  channelProgress(channelIds: readonly string[]): Promise<Map<string, StoredChannelProgress>>;
  oversells(query: OversellQuery): Promise<OversellView[]>;
}

/** {@link McpStoredReads} over the ledger database. */
export function mcpStoredReads(db: Kysely<LedgerSchema>): McpStoredReads {
  return {
    channelProgress: (channelIds) => storedChannelProgress(db, channelIds),
    oversells: (query) => recentOversells(db, query),
  };
}
