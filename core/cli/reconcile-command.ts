import { parseArgs } from 'node:util';
import type { ChannelConfig, LoadedConfig } from '../config/config-types.ts';
import { loadConfig } from '../config/load-config.ts';
import { ChannelDispatcher } from '../dispatch/channel-dispatcher.ts';
import { localLeases, postgresLeases } from '../dispatch/channel-leases.ts';
import { channelConfigFingerprint } from '../dispatch/config-fingerprint.ts';
import { shownQuantity } from '../dispatch/dispatch-types.ts';
import { showsAsIntended } from '../dispatch/forecast.ts';
import { TokenBucket } from '../dispatch/token-bucket.ts';
import { ErrorCodes, StockrelayError, UsageError } from '../internal.ts';
import { DatabaseConnectorState } from '../ledger/database-connector-state.ts';
import type { Ledger } from '../ledger/ledger.ts';
import type { SkuSyncLevel } from '../ledger/ledger-types.ts';
import { createLogger } from '../logger.ts';
import { loadConnector, type LoadedConnector } from '../plugins/load-connector.ts';
import { withLedger } from './with-ledger.ts';

const USAGE = 'usage: stockrelay reconcile --config <file> [--channel <id>] [--dry-run] [--json]';
/** Share of a channel's rate the on-demand pass reads at when the config turns continuous reads off. */
const ON_DEMAND_READ_SHARE = 0.2;

/** One (channel, SKU) whose channel shows other than its rules give for the ledger. */
export interface DriftLine {
  channel: string;
  sku: string;
  shown: number;
  expected: number;
  ledgerVersion: number;
  /** After a converging run: what the channel shows now. */
  after?: number;
  healed?: boolean;
}

export interface ReconcileReport {
  dryRun: boolean;
  at: string;
  channels: Array<{ channel: string; read: number; notListed: number; drifted: number; healed: number; error?: string }>;
  drift: DriftLine[];
}

/**
 * `stockrelay reconcile`: reads every SKU back from the channels now and compares it with what their
 * rules give for the ledger. `--dry-run` lists the drift and changes nothing. Otherwise the drifted SKUs
 * are recorded and made behind, pushed by the hub that holds the channel (or by this command when none
 * does), and read again. Exit codes: 0 no drift left, 2 drift left (listed), 1 anything else.
 */
export async function runReconcile(args: readonly string[], out: (line: string) => void): Promise<number> {
  const { values } = parseArgs({
    args: [...args],
    options: { config: { type: 'string', short: 'c' }, channel: { type: 'string' }, 'dry-run': { type: 'boolean' }, json: { type: 'boolean' } },
    allowPositionals: false,
  });
  if (!values.config) throw new UsageError(USAGE);
  const loaded = await loadConfig(values.config);
  const enabled = loaded.config.channels.filter((c) => c.enabled);
  const channels = values.channel === undefined ? enabled : enabled.filter((c) => c.id === values.channel);
  if (channels.length === 0) {
    throw new StockrelayError(ErrorCodes.CHANNEL_NOT_FOUND, `no enabled channel "${values.channel}" in ${loaded.path}; channels: ${enabled.map((c) => c.id).join(', ')}`);
  }
  const dryRun = values['dry-run'] === true;
  const report = await reconcileChannels(loaded, channels, dryRun);
  if (values.json) out(JSON.stringify(report, null, 2));
  else for (const line of formatReport(report)) out(line);
  const left = report.drift.filter((d) => !d.healed).length;
  return report.channels.some((c) => c.error !== undefined) ? 1 : left > 0 ? 2 : 0;
}

export async function reconcileChannels(loaded: LoadedConfig, channels: readonly ChannelConfig[], dryRun: boolean): Promise<ReconcileReport> {
  const logger = createLogger({}, 'warn');
  const abort = new AbortController();
  const report: ReconcileReport = { dryRun, at: new Date().toISOString(), channels: [], drift: [] };
  await withLedger(loaded, async ({ db, ledger }) => {
    for (const channel of channels) {
      const line = { channel: channel.id, read: 0, notListed: 0, drifted: 0, healed: 0 } as ReconcileReport['channels'][number];
      report.channels.push(line);
      let connector: LoadedConnector | undefined;
      try {
        connector = await loadConnector(channel, loaded.dir, { signal: abort.signal, logger, state: new DatabaseConnectorState(db, channel.id), registerSecret: () => {} });
        if (!connector.instance.fetchQuantities) throw new Error(`connector "${connector.definition.name}" cannot read quantities back (no fetchQuantities)`);
        const levels = await listAll(ledger, channel.id);
        const shown = await readAll(connector, channel, loaded, levels.map((l) => l.sku), abort.signal);
        line.read = shown.size;
        line.notListed = levels.length - shown.size;
        const drift: DriftLine[] = [];
        for (const level of levels) {
          const quantity = shown.get(level.sku);
          if (quantity === undefined) continue;
          // A forecast quantity (within what the rules and the forecast allow) is no drift.
          if (showsAsIntended(channel.rules, level.available, quantity)) continue;
          const expected = shownQuantity(channel.rules, level.available);
          drift.push({ channel: channel.id, sku: level.sku, shown: quantity, expected, ledgerVersion: level.version });
        }
        line.drifted = drift.length;
        report.drift.push(...drift);
        if (dryRun || drift.length === 0) continue;
        const readAt = new Date();
        await ledger.readBacks.recordReads(channel.id, [...shown].map(([sku, q]) => ({ sku, shown: q })), readAt);
        await ledger.readBacks.recordDrift(channel.id, drift.map((d) => ({ sku: d.sku, shown: d.shown, expected: d.expected, version: d.ledgerVersion, readAt })));
        await ledger.readBacks.markBehind(channel.id, drift.map((d) => ({ sku: d.sku, shown: d.shown })));
        await converge(loaded, channel, connector, ledger, drift, abort.signal);
        const after = await readAll(connector, channel, loaded, drift.map((d) => d.sku), abort.signal);
        const levelsNow = await ledger.getLevels(drift.map((d) => d.sku));
        const healed: Array<{ sku: string; quantity: number; at: Date }> = [];
        for (const d of drift) {
          d.after = after.get(d.sku) ?? d.shown;
          const level = levelsNow.get(d.sku);
          d.healed = level !== undefined && showsAsIntended(channel.rules, level.available, d.after);
          if (d.healed) healed.push({ sku: d.sku, quantity: d.after, at: new Date() });
        }
        line.healed = healed.length;
        await ledger.readBacks.recordHealed(channel.id, healed);
      } catch (err) {
        line.error = err instanceof Error ? err.message : String(err);
      } finally {
        await connector?.instance.close?.().catch(() => undefined);
      }
    }
  });
  abort.abort();
  return report;
}

/**
 * Gets the drifted SKUs pushed. When no hub holds the channel, this command takes it and pushes them with
 * the hub's own dispatcher (claimed and fenced like a hub); otherwise the hub that holds it finds them
 * behind at its next reconcile pass, and this waits for that (at most two passes).
 */
async function converge(loaded: LoadedConfig, channel: ChannelConfig, connector: LoadedConnector, ledger: Ledger, drift: readonly DriftLine[], signal: AbortSignal): Promise<void> {
  const { config } = loaded;
  const leases = config.database.url ? postgresLeases(config.database.url, createLogger({}, 'warn')) : localLeases();
  try {
    if (await leases.tryAcquire(channel.id)) {
      const dispatcher = new ChannelDispatcher({
        channelId: channel.id,
        connector: connector.instance,
        limits: connector.limits,
        rules: channel.rules,
        store: ledger,
        maxAttempts: config.dispatch.maxAttempts,
        backoffBaseMs: config.dispatch.backoffBaseMs,
        backoffMaxMs: config.dispatch.backoffMaxMs,
        reconcileIntervalMs: config.dispatch.reconcileIntervalMs,
        pushTimeoutMs: config.dispatch.pushTimeoutMs,
        lateWriteWindowMs: config.dispatch.lateWriteWindowMs,
        configFingerprint: channelConfigFingerprint(channel),
        connectorName: connector.definition.name,
        deadLetter: async () => {},
      });
      await dispatcher.start();
      await dispatcher.idle(AbortSignal.any([signal, AbortSignal.timeout(config.dispatch.pushTimeoutMs * config.dispatch.maxAttempts)]));
      await dispatcher.stop();
      return;
    }
    const deadline = Date.now() + 2 * config.dispatch.reconcileIntervalMs + config.dispatch.pushTimeoutMs;
    const skus = new Set(drift.map((d) => d.sku));
    while (Date.now() < deadline && !signal.aborted) {
      const behind = await ledger.listBehind(channel.id);
      if (!behind.some((b) => skus.has(b.sku))) return;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  } finally {
    await leases.close();
  }
}

async function listAll(ledger: Ledger, channelId: string): Promise<SkuSyncLevel[]> {
  const levels: SkuSyncLevel[] = [];
  for (let after = ''; ; ) {
    const page = await ledger.readBacks.listLevels(channelId, after, 1_000);
    levels.push(...page);
    if (page.length < 1_000) return levels;
    after = page[page.length - 1]!.sku;
  }
}

/** Reads `skus` in batches at the channel's read share of its rate, so a running hub's pushes keep their calls. */
async function readAll(connector: LoadedConnector, channel: ChannelConfig, loaded: LoadedConfig, skus: readonly string[], signal: AbortSignal): Promise<Map<string, number>> {
  const share = channel.limits.readShare ?? loaded.config.dispatch.readShare;
  const bucket = new TokenBucket(connector.limits.perSecond * (share > 0 ? share : ON_DEMAND_READ_SHARE), 1, Date.now());
  const shown = new Map<string, number>();
  for (let i = 0; i < skus.length; i += connector.limits.maxBatchSize) {
    const wait = bucket.nextTokenAt(Date.now()) - Date.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    bucket.tryTake(Date.now());
    const batch = skus.slice(i, i + connector.limits.maxBatchSize);
    const read = await connector.instance.fetchQuantities!(batch, AbortSignal.any([signal, AbortSignal.timeout(loaded.config.dispatch.pushTimeoutMs)]));
    for (const sku of batch) {
      const quantity = read.get(sku);
      if (typeof quantity === 'number' && Number.isFinite(quantity)) shown.set(sku, quantity);
    }
  }
  return shown;
}

function formatReport(report: ReconcileReport): string[] {
  const lines: string[] = [];
  for (const c of report.channels) {
    if (c.error !== undefined) lines.push(`${c.channel}: not reconciled: ${c.error}`);
    else if (report.dryRun) lines.push(`${c.channel}: ${c.read} SKU(s) read, ${c.drifted} drifted${c.notListed > 0 ? `, ${c.notListed} not listed there` : ''}`);
    else lines.push(`${c.channel}: ${c.read} SKU(s) read, ${c.drifted} drifted, ${c.healed} healed${c.notListed > 0 ? `, ${c.notListed} not listed there` : ''}`);
  }
  for (const d of report.drift) {
    const after = d.after === undefined ? '' : d.healed ? `, now ${d.after} (healed)` : `, still ${d.after}`;
    lines.push(`  ${d.channel} ${d.sku}: shows ${d.shown}, expected ${d.expected}${after}`);
  }
  if (report.dryRun && report.drift.length > 0) lines.push('dry run: nothing was changed; run without --dry-run to push the expected quantities');
  return lines;
}
