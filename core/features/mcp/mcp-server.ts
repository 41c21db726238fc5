import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { formatWhy } from '../admin/format-why.ts';
import type { WhyReport } from '../admin/why.ts';
import { describeError } from '../../errors.ts';
import { formatMs, formatPercent } from '../../human-format.ts';
import { confidence, type InventoryStatus } from '../read/inventory-status.ts';
import { shortError } from '../read/short-error.ts';
import { SourceUnavailable, type ChannelHealth, type McpReadSource, type OversellView } from './mcp-read-source.ts';
import {
  alertsInput,
  alertsOutput,
  channelHealthInput,
  channelHealthOutput,
  oversellsInput,
  oversellsOutput,
  stockInput,
  stockOutput,
  whyInput,
  whyOutput,
} from './tool-schemas.ts';

/** The tools every stockrelay MCP server offers, over stdio and over HTTP alike. */
export const MCP_TOOLS = ['stock', 'why_channel_quantity', 'channel_health', 'alerts', 'recent_oversells'] as const;

export interface StockMcpServerOptions {
  /** Half-life of a lagging channel's confidence, ms (the config's `alerts.syncLagP99Ms`). */
  lagHalfLifeMs: number;
  /** The version the server reports in `initialize`. */
  version: string;
  /** Told of every read that failed (the tool answers with an error saying so). */
  onReadError?: (tool: string, err: unknown) => void;
}

/**
 * An MCP server whose tools answer from `source`: one server per connection (stdio) or per request
 * (stateless HTTP); building one only registers the tools, so that is cheap. Every tool only reads.
 * A tool answers with `structuredContent` (checked against its output schema) and a text summary;
 * a bad argument is a tool error that names the field.
 */
export function createStockMcpServer(source: McpReadSource, options: StockMcpServerOptions): McpServer {
  const server = new McpServer(
    { name: 'stockrelay', version: options.version },
    {
      instructions:
        'stockrelay keeps one stock number per SKU (the ledger) and pushes it to every sales channel. ' +
        'Use `stock` for how many units are available and whether each channel already shows it; ' +
        '`why_channel_quantity` when a channel shows an unexpected number; `channel_health`, `alerts` and ' +
        '`recent_oversells` to see whether the channels keep up. Every tool only reads.',
    },
  );
  const readOnly = { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false } as const;

  const answer = async <T extends Record<string, unknown>>(tool: string, read: () => Promise<T | CallToolResult>, text: (value: T) => string): Promise<CallToolResult> => {
    let value: T | CallToolResult;
    try {
      value = await read();
    } catch (err) {
      options.onReadError?.(tool, err);
      return toolError(source.redact(`${tool}: ${err instanceof SourceUnavailable ? err.message : `the ledger could not be read (${shortError(describeError(err))}); try again`}`));
    }
    if (isToolResult(value)) return value;
    // One pass over the whole answer: no stored channel error can carry a secret out.
    const structured = JSON.parse(source.redact(JSON.stringify(value))) as T;
    return { structuredContent: structured, content: [{ type: 'text', text: text(structured) }] };
  };

  server.registerTool(
    'stock',
    {
      title: 'Stock of SKUs',
      description:
        'How many units of each SKU the ledger holds now (its version and time), and per channel what the channel ' +
        'confirmed showing, what it should show, how far behind it is and how far to trust it (confidence 0..1). ' +
        'Read from the ledger when asked, never from a cache. An unknown SKU answers known: false.',
      inputSchema: stockInput,
      outputSchema: stockOutput,
      annotations: { title: 'Stock of SKUs', ...readOnly },
    },
    ({ skus }) =>
      answer(
        'stock',
        async () => ({ items: (await source.inventory(skus)).map((status) => withChannelConfidence(status, options.lagHalfLifeMs)) }),
        ({ items }) => items.map(stockText).join('\n'),
      ),
  );

  server.registerTool(
    'why_channel_quantity',
    {
      title: 'Why a channel shows a quantity',
      description:
        "Explains the quantity a channel shows for a SKU: the push it confirmed, the ledger version that reflects, the channel's " +
        'rules as arithmetic, the ledger changes that led there and those it has yet to show. Reads the audit trail; never calls the channel.',
      inputSchema: whyInput,
      outputSchema: whyOutput,
      annotations: { title: 'Why a channel shows a quantity', ...readOnly },
    },
    ({ channel, sku, limit }) =>
      answer(
        'why_channel_quantity',
        async () => {
          const known = source.channels.find((c) => c.id === channel);
          if (!known) return toolError(`channel: no channel "${channel}" is enabled; channels: ${channelList(source)}`);
          const report = await source.why(known, sku, limit ?? 20);
          if (!report) return toolError(`sku: neither the ledger nor channel "${channel}" knows SKU "${sku}"`);
          return forReadScope(report) as unknown as Record<string, unknown>;
        },
        (report) => formatWhy(report as unknown as WhyReport),
      ),
  );

  server.registerTool(
    'channel_health',
    {
      title: 'Channel health',
      description:
        'Per channel: SKUs behind the ledger and since when, SKUs dead-lettered or not listed, the last confirmation; and, from the ' +
        'hub pushing it, pushes pending and in flight, throttling, push success ratio and sync lag over the last minute.',
      inputSchema: channelHealthInput,
      outputSchema: channelHealthOutput,
      annotations: { title: 'Channel health', ...readOnly },
    },
    ({ channel }) =>
      answer(
        'channel_health',
        async () => {
          if (channel !== undefined && !source.channels.some((c) => c.id === channel)) return toolError(`channel: no channel "${channel}" is enabled; channels: ${channelList(source)}`);
          const { channels: all, liveUnavailable } = await source.channelHealth();
          const channels = channel === undefined ? all : all.filter((c) => c.channel === channel);
          return liveUnavailable !== undefined ? { channels, liveUnavailable } : { channels };
        },
        ({ channels, liveUnavailable }) => [...channels.map(healthText), ...(liveUnavailable ? [`live figures unavailable: ${liveUnavailable}`] : [])].join('\n') || 'no enabled channels',
      ),
  );

  server.registerTool(
    'alerts',
    {
      title: 'Firing alerts',
      description:
        "The running hub's alerts (sync lag p99, oversells, push success rate, dead letters, consumer backlog), firing first: critical, then oldest.",
      inputSchema: alertsInput,
      outputSchema: alertsOutput,
      annotations: { title: 'Firing alerts', ...readOnly },
    },
    ({ includeCleared }) =>
      answer(
        'alerts',
        async () => {
          const view = await source.alerts();
          const alerts = includeCleared ? view.alerts : view.alerts.filter((a) => a.firing);
          return { evaluatedAt: view.evaluatedAt, firing: view.alerts.filter((a) => a.firing).length, alerts };
        },
        ({ evaluatedAt, firing, alerts }) => {
          if (evaluatedAt === null) return 'the hub has not evaluated its alerts yet';
          const head = firing === 0 ? `no alert firing (evaluated ${evaluatedAt})` : `${firing} alert(s) firing (evaluated ${evaluatedAt})`;
          return [head, ...alerts.map((a) => `  ${a.firing ? a.severity.toUpperCase() : 'cleared'} ${a.id} since ${a.since}: ${a.message}`)].join('\n');
        },
      ),
  );

  server.registerTool(
    'recent_oversells',
    {
      title: 'Recent oversells',
      description: 'Orders that asked for more than the ledger had (the shortfall was sold on the channel but is not in stock), newest first.',
      inputSchema: oversellsInput,
      outputSchema: oversellsOutput,
      annotations: { title: 'Recent oversells', ...readOnly },
    },
    ({ sku, channel, sinceMinutes, limit }) =>
      answer(
        'recent_oversells',
        async () => {
          const oversells = await source.oversells({
            limit: limit ?? 20,
            ...(sku !== undefined ? { sku } : {}),
            ...(channel !== undefined ? { channel } : {}),
            ...(sinceMinutes !== undefined ? { since: new Date(Date.now() - sinceMinutes * 60_000) } : {}),
          });
          return { oversells, unitsOversold: oversells.reduce((sum, o) => sum + o.shortfall, 0) };
        },
        ({ oversells, unitsOversold }) =>
          oversells.length === 0 ? 'no oversell recorded' : [`${oversells.length} oversell(s), ${unitsOversold} unit(s) short:`, ...oversells.map(oversellText)].join('\n'),
      ),
  );

  return server;
}

function toolError(message: string): CallToolResult {
  return { isError: true, content: [{ type: 'text', text: message }] };
}

function isToolResult(value: unknown): value is CallToolResult {
  return typeof value === 'object' && value !== null && (value as CallToolResult).isError === true;
}

function channelList(source: McpReadSource): string {
  return source.channels.map((c) => c.id).join(', ') || '(none)';
}

/** Each channel's own confidence next to the SKU's summary one, so an agent can tell which channel to doubt. */
function withChannelConfidence(status: InventoryStatus, lagHalfLifeMs: number) {
  return { ...status, channels: status.channels.map((c) => ({ ...c, confidence: confidence([c], lagHalfLifeMs) })) };
}

/** The why answer with channel errors cut to their gist, as the read API gives them to read-scope callers. */
function forReadScope(report: WhyReport): WhyReport {
  return {
    ...report,
    deadLettered: report.deadLettered ? { ...report.deadLettered, lastError: report.deadLettered.lastError === null ? null : shortError(report.deadLettered.lastError) } : null,
    notListed: report.notListed ? { ...report.notListed, reason: report.notListed.reason === '' ? '' : shortError(report.notListed.reason) } : null,
  };
}

function stockText(status: InventoryStatus & { channels: Array<{ confidence: number }> }): string {
  if (!status.known) return `${status.sku}: unknown to the ledger`;
  const s = status.summary;
  const lines = [
    `${status.sku}: ${status.available} available (ledger version ${status.version}, updated ${status.updatedAt}); ${s.channelsInSync}/${s.channels} channels in sync, confidence ${s.confidence}`,
  ];
  for (const c of status.channels) {
    const shown = c.shown === null ? 'nothing confirmed' : `shows ${c.shown}`;
    const behind = c.state === 'in_sync' ? 'in sync' : `${c.state.replace('_', ' ')}, ${c.versionsBehind} change(s) and ${formatMs(c.msBehind)} behind, target ${c.target}`;
    lines.push(`  ${c.channel}: ${shown} (${behind}; confidence ${c.confidence})${c.lastError ? `; last error: ${c.lastError}` : ''}`);
  }
  return lines.join('\n');
}

function healthText(health: ChannelHealth): string {
  const { stored, live } = health;
  const parts = [`${health.channel} (${health.connector}): ${stored.skusBehind} SKU(s) behind${stored.behindSince ? ` since ${stored.behindSince}` : ''}`];
  if (stored.skusDeadLettered > 0) parts.push(`${stored.skusDeadLettered} dead-lettered`);
  if (stored.skusNotListed > 0) parts.push(`${stored.skusNotListed} not listed`);
  parts.push(`last confirmation ${stored.lastConfirmedAt ?? 'never'}`);
  if (live) {
    parts.push(`${live.pending} pending, ${live.inFlight} in flight`);
    if (live.throttledUntil) parts.push(`throttled until ${live.throttledUntil}`);
    parts.push(`push success ${formatPercent(live.successRatio)}`);
    if (live.lagP99Ms !== null) parts.push(`sync lag p99 ${formatMs(live.lagP99Ms)} over ${live.lagSamples} confirmation(s)`);
  }
  return parts.join('; ');
}

function oversellText(o: OversellView): string {
  return `  ${o.at} ${o.sku}: order ${o.eventId} from ${o.channel} asked ${o.requested} with ${o.availableBefore} available (short ${o.shortfall})`;
}
