import { parseArgs } from 'node:util';
import { loadConfig } from '../config/load-config.ts';
import { formatCount, formatMs } from '../human-format.ts';
import { UsageError } from '../internal.ts';
import { inventoryStatusesOf, type InventoryStatus } from '../features/read/inventory-status.ts';
import { withLedger } from './with-ledger.ts';

const USAGE = 'usage: stockrelay stock get SKU [SKU...] --config <file> [--json]';

/**
 * `stockrelay stock get`: the ledger's quantity, version and time per SKU, and per channel what it
 * confirmed showing and how far behind it is. Reads the database directly (the same answer as the read
 * API, minus what only a running hub's memory knows: pushes in flight, backoffs, throttles).
 * Exit code 3 when a SKU is unknown to the ledger.
 */
export async function runStockGet(args: readonly string[], out: (line: string) => void): Promise<number> {
  const { values, positionals } = parseArgs({ args: [...args], options: { config: { type: 'string', short: 'c' }, json: { type: 'boolean' } }, allowPositionals: true });
  if (positionals.length === 0 || !values.config) throw new UsageError(USAGE);
  const loaded = await loadConfig(values.config);
  const channels = loaded.config.channels.filter((c) => c.enabled);
  const skus = [...new Set(positionals)];
  const statuses = await withLedger(loaded, async ({ ledger }) => {
    const levels = await ledger.getLevels(skus);
    const stored = await ledger.getChannelStatesOfSkus(
      channels.map((c) => c.id),
      skus.filter((sku) => levels.has(sku)),
    );
    const reads = await ledger.readBacks.lastReadsOf(channels.map((c) => c.id), skus);
    return inventoryStatusesOf(skus, { levels, states: stored, reads, channels, lagHalfLifeMs: loaded.config.alerts.syncLagP99Ms, now: Date.now() });
  });
  out(values.json ? JSON.stringify(statuses.length === 1 ? statuses[0] : { items: statuses }, null, 2) : statuses.map(formatStatus).join('\n\n'));
  return statuses.every((s) => s.known) ? 0 : 3;
}

function formatStatus(status: InventoryStatus): string {
  if (!status.known) return `${status.sku}: unknown to the ledger`;
  const lines = [`${status.sku}: ${status.available} available, version ${status.version}, updated ${status.updatedAt}`];
  const { summary } = status;
  lines.push(`  ${summary.channelsInSync}/${summary.channels} channels in sync${summary.oldestUnconfirmedAt ? `, oldest unconfirmed change ${summary.oldestUnconfirmedAt}` : ''}`);
  if (status.channels.length === 0) return lines.join('\n');
  const rows = [
    ['channel', 'shown', 'target', 'version', 'behind', 'state', 'read back', 'confirmed'],
    ...status.channels.map((c) => [
      c.channel,
      c.shown === null ? '-' : String(c.shown),
      String(c.target),
      String(c.pushedVersion),
      c.versionsBehind === 0 ? '0' : `${formatCount(c.versionsBehind)} (${formatMs(c.msBehind)})`,
      c.state.replace('_', ' '),
      c.readBack ? `${c.readBack.shown} at ${c.readBack.readAt}` : '-',
      (c.confirmedAt ?? '-') + (c.lastError ? `  last error: ${c.lastError}` : ''),
    ]),
  ];
  const widths = rows[0]!.map((_, col) => Math.max(...rows.map((r) => r[col]!.length)));
  for (const r of rows) lines.push(`  ${r.map((cell, col) => (col === r.length - 1 ? cell : cell.padEnd(widths[col]!))).join('  ')}`);
  return lines.join('\n');
}
