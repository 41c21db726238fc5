import { parseArgs } from 'node:util';
import { formatWhy } from '../features/admin/format-why.ts';
import { explainChannelQuantity } from '../features/admin/why.ts';
import { loadConfig } from '../config/load-config.ts';
import { ErrorCodes, StockrelayError, UsageError } from '../internal.ts';
import { withLedger } from './with-ledger.ts';

const USAGE = 'usage: stockrelay why <channel> <sku> --config <file> [--json] [--limit <n>]';

/**
 * `stockrelay why <channel> <sku>`: why the channel shows what it shows, from the audit trail and the
 * stored channel state. Reads the database directly; no hub needs to run. Exit code 3 when the SKU is unknown.
 */
export async function runWhy(args: readonly string[], out: (line: string) => void): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...args],
    options: { config: { type: 'string', short: 'c' }, json: { type: 'boolean' }, limit: { type: 'string' } },
    allowPositionals: true,
  });
  const [channelId, sku] = positionals;
  if (!channelId || !sku || !values.config) throw new UsageError(USAGE);
  const limit = values.limit === undefined ? undefined : Number(values.limit);
  if (limit !== undefined && (!Number.isSafeInteger(limit) || limit < 1)) throw new UsageError(`--limit must be a whole number >= 1\n${USAGE}`);
  const loaded = await loadConfig(values.config);
  const channel = loaded.config.channels.find((c) => c.id === channelId);
  if (!channel) throw new StockrelayError(ErrorCodes.CHANNEL_NOT_FOUND, `no channel "${channelId}" in ${loaded.path}; channels: ${loaded.config.channels.map((c) => c.id).join(', ')}`);
  const report = await withLedger(loaded, ({ ledger }) => explainChannelQuantity(ledger, channel, sku, limit !== undefined ? { limit } : {}));
  if (!report) {
    out(values.json ? JSON.stringify({ error: 'not_found', channel: channelId, sku }) : `neither the ledger nor channel "${channelId}" knows SKU "${sku}"`);
    return 3;
  }
  out(values.json ? JSON.stringify(report, null, 2) : formatWhy(report));
  return 0;
}
