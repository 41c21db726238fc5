import type { Kysely } from 'kysely';
import { request } from 'undici';
import { explainChannelQuantity } from '../admin/why.ts';
import type { AlertsView, ChannelHealth, LiveChannelProgress, McpChannel, McpReadSource } from './mcp-read-source.ts';
import { SourceUnavailable } from './mcp-read-source.ts';
import type { LoadedConfig } from '../../config/config-types.ts';
import { describeError } from '../../errors.ts';
import type { Ledger } from '../../ledger/ledger.ts';
import type { LedgerSchema } from '../../ledger/schema.ts';
import type { ChannelSummary } from '../read/channel-summary.ts';
import { inventoryStatusesOf } from '../read/inventory-status.ts';
import { mcpStoredReads } from './mcp-stored-reads.ts';

/** Where a running hub's read API is, for what only a hub knows (alerts, live channel figures). */
export interface HubReadApi {
  /** Base URL, e.g. `http://127.0.0.1:8080`. */
  url: string;
  /** A read-scope (or admin) bearer token; without one the hub is not asked. */
  token: string | undefined;
  /** Deadline of one call to the hub, ms. */
  timeoutMs: number;
}

export interface LedgerReadSourceOptions {
  loaded: LoadedConfig;
  db: Kysely<LedgerSchema>;
  ledger: Ledger;
  hub: HubReadApi;
  redact(text: string): string;
}

/**
 * The read side of a process that opened the ledger and nothing else (`stockrelay mcp` over stdio), like
 * `stockrelay stock get` and `stockrelay why`: stock, why and oversells come from the database; what
 * lives only in a running hub's memory (alerts, pushes pending or in flight, throttles, sync lag) is
 * asked of the hub's read API, and a tool says so when no hub answers.
 */
export function ledgerReadSource(options: LedgerReadSourceOptions): McpReadSource {
  const { loaded, db, ledger, hub } = options;
  const channels: McpChannel[] = loaded.config.channels.filter((c) => c.enabled).map((c) => ({ id: c.id, connector: c.connector, rules: c.rules }));
  const ids = channels.map((c) => c.id);
  const stored = mcpStoredReads(db);

  const askHub = async <T>(path: string): Promise<T> => {
    if (!hub.token) throw new SourceUnavailable(`only a running hub knows this, and no read token is at hand to ask it: set STOCKRELAY_READ_TOKEN or add a read token to http.tokens`);
    let status: number;
    let text: string;
    try {
      const res = await request(new URL(path, hub.url), {
        headers: { authorization: `Bearer ${hub.token}`, accept: 'application/json' },
        headersTimeout: hub.timeoutMs,
        bodyTimeout: hub.timeoutMs,
        signal: AbortSignal.timeout(hub.timeoutMs),
      });
      status = res.statusCode;
      text = await res.body.text();
    } catch (err) {
      throw new SourceUnavailable(`only a running hub knows this, and none answered at ${hub.url} (${describeError(err)}): start it (stockrelay start) or pass --hub <url>`, { cause: err });
    }
    if (status !== 200) throw new SourceUnavailable(`the hub at ${hub.url} answered ${path} with HTTP ${status}${status === 401 || status === 403 ? ' (check the read token)' : ''}`);
    return JSON.parse(text) as T;
  };

  return {
    channels,
    async inventory(skus) {
      const stored = await ledger.readInventory(ids, skus);
      return inventoryStatusesOf(skus, { ...stored, channels, lagHalfLifeMs: loaded.config.alerts.syncLagP99Ms, now: Date.now() });
    },
    why: (channel, sku, limit) => explainChannelQuantity(ledger, channel, sku, { limit }),
    async channelHealth() {
      const [progress, live] = await Promise.all([
        stored.channelProgress(ids),
        askHub<{ channels: ChannelSummary[] }>('/v1/channels').then(
          (answer) => ({ summaries: new Map(answer.channels.map((s) => [s.channel, liveOf(s)])), unavailable: undefined }),
          (err: unknown) => ({ summaries: new Map<string, LiveChannelProgress>(), unavailable: err instanceof SourceUnavailable ? err.message : describeError(err) }),
        ),
      ]);
      const health: ChannelHealth[] = channels.map((c) => ({ channel: c.id, connector: c.connector, stored: progress.get(c.id)!, live: live.summaries.get(c.id) ?? null }));
      return live.unavailable === undefined ? { channels: health } : { channels: health, liveUnavailable: live.unavailable };
    },
    alerts: () => askHub<AlertsView>('/v1/alerts'),
    oversells: (query) => stored.oversells(query),
    redact: options.redact,
  };
}

/** The live part of the read API's channel summary. */
export function liveOf(summary: ChannelSummary): LiveChannelProgress {
  return {
    pending: summary.pending,
    inFlight: summary.inFlight,
    throttledUntil: summary.throttledUntil,
    successRatio: summary.successRatio,
    throttles: summary.throttles,
    lagP50Ms: summary.lag.p50,
    lagP99Ms: summary.lag.p99,
    lagSamples: summary.lag.samples,
  };
}

/**
 * The hub a config describes, as seen from this machine: its `http.host` (the loopback address when it
 * listens on every interface) and `http.port`, and a read token from `STOCKRELAY_READ_TOKEN` or else the
 * config's first read (then admin) token.
 */
export function hubReadApiOf(loaded: LoadedConfig, overrides: { url?: string; token?: string } = {}): HubReadApi {
  const { host, port, tokens } = loaded.config.http;
  const reachable = host === '0.0.0.0' || host === '::' || host === '' ? '127.0.0.1' : host;
  const url = overrides.url ?? `http://${reachable.includes(':') ? `[${reachable}]` : reachable}:${port}`;
  const token = overrides.token ?? tokens.find((t) => t.scope === 'read')?.token ?? tokens.find((t) => t.scope === 'admin')?.token;
  return { url, token, timeoutMs: 3_000 };
}
