import type { HubContext } from '../hub-context.ts';
import type { HubFeature } from '../hub-feature.ts';
import { channelSummaries } from '../read/channel-summary.ts';
import { inventoryStatusReader } from '../read/inventory-status.ts';
import { liveOf } from './ledger-read-source.ts';
import { mcpHttpRoutes } from './mcp-http-routes.ts';
import type { ChannelHealth, McpChannel, McpReadSource } from './mcp-read-source.ts';
import type { McpStoredReads } from './mcp-stored-reads.ts';

export interface McpFeatureOptions {
  /** The ledger reads the MCP tools add to the context's. */
  stored: McpStoredReads;
  /** Masks the hub's secrets: MCP answers leave through the SDK's transport, past the HTTP server's own masking. */
  redact(text: string): string;
}

/**
 * The MCP tools at `POST /mcp` (Streamable HTTP, read token required), answered from this hub: the read
 * API's inventory answers (ledger plus the dispatchers' memory), its alerts, and the ledger's history.
 */
export function mcpFeature(options: McpFeatureOptions): HubFeature {
  let source: McpReadSource | undefined;
  return {
    name: 'mcp',
    start(ctx) {
      source = contextReadSource(ctx, options);
    },
    routes(app, ctx) {
      return mcpHttpRoutes(app, { tokens: ctx.config.http.tokens, source: source!, lagHalfLifeMs: ctx.config.alerts.syncLagP99Ms, logger: ctx.logger });
    },
  };
}

/** The MCP read side of a running hub, from the slices of it a feature gets. */
export function contextReadSource(ctx: Pick<HubContext, 'config' | 'ledger' | 'channels' | 'metrics' | 'alerts'>, options: McpFeatureOptions): McpReadSource {
  const channels: McpChannel[] = ctx.channels.list().map((c) => ({ id: c.id, connector: c.connector, rules: c.rules }));
  const ids = channels.map((c) => c.id);
  const inventory = inventoryStatusReader(ctx);
  return {
    channels,
    inventory,
    why: (channel, sku, limit) => ctx.ledger.explain(channel, sku, { limit }),
    async channelHealth() {
      const [stored, summaries] = await Promise.all([options.stored.channelProgress(ids), channelSummaries(ctx)]);
      const live = new Map(summaries.map((s) => [s.channel, liveOf(s)]));
      return { channels: channels.map((c): ChannelHealth => ({ channel: c.id, connector: c.connector, stored: stored.get(c.id)!, live: live.get(c.id) ?? null })) };
    },
    async alerts() {
      const evaluatedAt = ctx.alerts.evaluatedAt;
      return { evaluatedAt: evaluatedAt === null ? null : new Date(evaluatedAt).toISOString(), alerts: ctx.alerts.list() };
    },
    oversells: (query) => options.stored.oversells(query),
    redact: (text) => options.redact(text),
  };
}
