import { parseArgs } from 'node:util';
import { UsageError } from '../internal.ts';
import { importChannel, type ImportReport } from './import-channel.ts';
import type { ReportedListing } from './import-plan.ts';

const USAGE = 'usage: stockrelay import --config <file> --channel <id> [--mapping-file <file>] [--seed-ledger] [--dry-run] [--json]';

/** Most entries of one list the text report prints; `--json` has them all. */
const SHOWN = 20;

/**
 * `stockrelay import`: reads a channel's listings and writes its SKU map (see {@link importChannel}). Exit codes:
 * 0 done with nothing to look at, 2 done but some listings were not mapped (no SKU, or a SKU twice), 1 failed.
 */
export async function runImport(args: readonly string[], out: (line: string) => void): Promise<number> {
  const { values } = parseArgs({
    args: [...args],
    options: {
      config: { type: 'string', short: 'c' },
      channel: { type: 'string' },
      'mapping-file': { type: 'string' },
      'seed-ledger': { type: 'boolean' },
      'dry-run': { type: 'boolean' },
      json: { type: 'boolean' },
    },
    allowPositionals: false,
  });
  if (!values.config) throw new UsageError(`--config <file> is required\n${USAGE}`);
  if (!values.channel) throw new UsageError(`--channel <id> is required: the channel whose listings are imported\n${USAGE}`);
  const report = await importChannel({
    configFile: values.config,
    channelId: values.channel,
    ...(values['mapping-file'] !== undefined ? { mappingFile: values['mapping-file'] } : {}),
    seedLedger: values['seed-ledger'] === true,
    dryRun: values['dry-run'] === true,
  });
  if (values.json) out(JSON.stringify(report, null, 2));
  else for (const line of formatImport(report)) out(line);
  return report.withoutSku.length > 0 || report.duplicates.length > 0 ? 2 : 0;
}

/** The import report for a terminal: counts first, then each list that needs the seller's eye. */
export function formatImport(report: ImportReport): string[] {
  const lines: string[] = [];
  const would = report.dryRun ? 'would be ' : '';
  lines.push(`channel ${report.channel} (${report.connector})${report.dryRun ? ', dry run: nothing written or published' : ''}`);
  lines.push(`read ${report.listings} listing(s) in ${report.pages} page(s): ${report.found} SKU(s) listed once, ${report.withoutSku.length} without a SKU, ${report.duplicates.length} SKU(s) on more than one listing`);
  if (report.mapOption === null) {
    lines.push(`connector "${report.connector}" addresses listings by SKU: it needs no SKU map, so none is written`);
  } else {
    lines.push(`options.${report.mapOption}: ${report.added.length} added, ${report.changed.length} changed, ${report.unchanged} unchanged, ${report.notOnChannel.length} kept that the channel does not list`);
    if (report.written) {
      const where = report.written.to === 'file' ? `mapping file ${report.written.path}${report.written.referenceAdded ? ' (and the config now references it)' : ''}` : `config ${report.written.path}`;
      lines.push(`${report.dryRun ? 'would write' : 'written to'} ${where}`);
    } else {
      lines.push('nothing to write: the map already holds what the channel lists');
    }
    list(lines, 'changed (the channel lists them under other ids now)', report.changed);
    list(lines, 'mapped but not listed on the channel (kept; remove them by hand if the listing is gone)', report.notOnChannel);
  }
  if (report.withoutSku.length > 0) {
    lines.push(`listings without a SKU (not mapped; give them a SKU on the channel and import again):`);
    for (const listing of report.withoutSku.slice(0, SHOWN)) lines.push(`  ${describeListing(listing)}`);
    more(lines, report.withoutSku.length);
  }
  if (report.duplicates.length > 0) {
    lines.push('SKUs on more than one listing (none of them mapped; an existing mapping is kept): fix the SKU on the channel, or map one by hand');
    for (const dup of report.duplicates.slice(0, SHOWN)) {
      lines.push(`  ${dup.sku}:`);
      for (const listing of dup.listings) lines.push(`    ${describeListing(listing)}`);
    }
    more(lines, report.duplicates.length);
  }
  if (report.unknownSkus === null) lines.push('unknown SKUs: not checked (no database and no other channel to compare with)');
  else list(lines, 'SKUs neither the ledger nor another channel knows (a different spelling, or new)', report.unknownSkus);
  if (report.seed) {
    const { seed } = report;
    lines.push(`ledger: ${seed.seeded} starting count(s) ${would}published as stock.set${seed.duplicates > 0 ? ` (${seed.duplicates} already published by an earlier run, counted once)` : ''}`);
    if (seed.alreadyCounted.length > 0) {
      lines.push(`not seeded: ${seed.alreadyCounted.length} SKU(s) the ledger already counts (the ledger stays the truth; the channel will be made to show it):`);
      for (const c of seed.alreadyCounted.slice(0, SHOWN)) lines.push(`  ${c.sku}: ledger ${c.ledger}, channel shows ${c.channel}`);
      more(lines, seed.alreadyCounted.length);
    }
    list(lines, 'shown below zero on the channel, seeded as 0', seed.negative);
  }
  return lines;
}

function list(lines: string[], title: string, skus: readonly string[]): void {
  if (skus.length === 0) return;
  lines.push(`${title} (${skus.length}): ${skus.slice(0, SHOWN).join(', ')}${skus.length > SHOWN ? ', …' : ''}`);
}

function more(lines: string[], total: number): void {
  if (total > SHOWN) lines.push(`  … and ${total - SHOWN} more (--json lists them all)`);
}

function describeListing(listing: ReportedListing): string {
  const title = listing.title !== undefined ? `"${listing.title}" ` : '';
  return `${title}${JSON.stringify(listing.mapping)}, shows ${listing.quantity}`;
}
