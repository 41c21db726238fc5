import { dirname, resolve } from 'node:path';
import { parse } from 'jsonc-parser';
import { readFile } from 'node:fs/promises';
import { NatsBus } from '../bus/nats-bus.ts';
import type { ChannelConfig, LoadedConfig } from '../config/config-types.ts';
import { loadConfig } from '../config/load-config.ts';
import { isSkuMapFileRef, resolveSkuMapFile } from '../config/sku-map-file.ts';
import { ConfigError, ErrorCodes, StockrelayError, UsageError } from '../internal.ts';
import { DatabaseConnectorState } from '../ledger/database-connector-state.ts';
import { migrateToLatest } from '../ledger/migrate.ts';
import { createLogger } from '../logger.ts';
import { loadConnector, type LoadedConnector } from '../plugins/load-connector.ts';
import { loadConnectorDefinition } from '../plugins/load-connector-definition.ts';
import { memoryConnectorState } from '../plugins/memory-connector-state.ts';
import { validateConnectorOptions } from '../plugins/validate-connector-options.ts';
import { addChannelSecrets, addConfigSecrets } from '../secrets/config-secrets.ts';
import { SecretRegistry } from '../secrets/secret-registry.ts';
import { readAllListings, type ReadListingsOptions } from './import-listings.ts';
import { planSkuMap, skuMapOption, type ReportedListing } from './import-plan.ts';
import { planSeed, seedEvent } from './import-seed.ts';
import { writeSkuMap, type MapTarget } from './import-write.ts';
import { withLedger } from './with-ledger.ts';

export interface ImportOptions {
  /** The config file; the channel's SKU map is written into it, or into the mapping file it references. */
  configFile: string;
  channelId: string;
  /**
   * Write the map into this file (created, or replaced) and make the config reference it, instead of into the
   * config itself. Without it, a map the config already keeps in a file is written to that file.
   */
  mappingFile?: string;
  /** Take the channel's quantities as the ledger's starting counts (SKUs the ledger does not count yet). */
  seedLedger?: boolean;
  /** Read and report only: no file is written and no event published. */
  dryRun?: boolean;
  env?: NodeJS.ProcessEnv;
  signal?: AbortSignal;
  /** Paging and retry settings of the listings read. */
  read?: Omit<ReadListingsOptions, 'signal'>;
}

/** What `stockrelay import` found and did. Holds no secret: options are never part of it. */
export interface ImportReport {
  channel: string;
  connector: string;
  dryRun: boolean;
  /** Listings the channel holds, and the pages it took to read them. */
  listings: number;
  pages: number;
  /** The option holding the SKU map (`skus`, `listings`), or null when the connector needs none (it addresses listings by SKU). */
  mapOption: string | null;
  /** SKUs the channel lists once: mapped (when the connector has a map) and seedable. */
  found: number;
  added: string[];
  changed: string[];
  unchanged: number;
  /** Already mapped, not listed on the channel now: kept in the map. */
  notOnChannel: string[];
  withoutSku: ReportedListing[];
  duplicates: Array<{ sku: string; listings: ReportedListing[] }>;
  /** Found SKUs neither the ledger nor another channel's map knows; null when there was nothing to compare with. */
  unknownSkus: string[] | null;
  /** Where the map went (or would go, on a dry run); null when nothing was to be written. */
  written: { to: 'config' | 'file'; path: string; referenceAdded: boolean } | null;
  seed: {
    /** SKUs seeded (published as `stock.set`), or that would be on a dry run. */
    seeded: number;
    /** Of those, events the stream or ledger already held from an earlier run (counted once). */
    duplicates: number;
    alreadyCounted: Array<{ sku: string; ledger: number; channel: number }>;
    negative: string[];
  } | null;
}

/**
 * Onboards one channel: creates its connector from the config (its SKU map may be empty or absent), reads every
 * listing, and writes the channel's SKU map (see {@link planSkuMap} for what is mapped and what is reported).
 * The new map is checked against the connector's options schema before anything is written. With `seedLedger`,
 * the quantities the channel shows become the starting counts of SKUs the ledger does not count yet, as
 * `stock.set` events with stable ids (see {@link seedEvent}), published through the bus so a hub applies them
 * exactly once like any other event.
 */
export async function importChannel(options: ImportOptions): Promise<ImportReport> {
  const env = options.env ?? process.env;
  const signal = options.signal ?? new AbortController().signal;
  const configFile = resolve(options.configFile);
  const loaded = await loadConfig(configFile, env, { mayBeMissing: options.channelId });
  const index = loaded.config.channels.findIndex((c) => c.id === options.channelId);
  const channel = loaded.config.channels[index];
  if (!channel) {
    throw new StockrelayError(ErrorCodes.CHANNEL_NOT_FOUND, `no channel "${options.channelId}" in ${loaded.path}; channels: ${loaded.config.channels.map((c) => c.id).join(', ') || 'none'}`);
  }
  const hasDatabase = loaded.config.database.url !== undefined || loaded.config.database.dataDir !== undefined;
  if (options.seedLedger && !hasDatabase) {
    throw new UsageError(`--seed-ledger needs the ledger's database: ${loaded.path} names none (database.url), so the counts would go to a throw-away ledger`);
  }

  const definition = await loadConnectorDefinition(channel.connector, loaded.dir, channel.id);
  const map = skuMapOption(definition.optionsSchema);
  const existing = map ? asRecord(channel.options[map.option]) : {};
  // The connector starts with the map it has, or an empty one: listing must work before anything is mapped.
  const startOptions = map ? { ...channel.options, [map.option]: existing } : channel.options;

  const secrets = importSecrets(loaded, channel, definition.optionsSchema);
  const run = async (state: DatabaseConnectorState | undefined, ledgerCounts: (skus: string[]) => Promise<Map<string, number>>): Promise<ImportReport> => {
    const abort = new AbortController();
    const stop = (): void => abort.abort(signal.reason);
    signal.addEventListener('abort', stop, { once: true });
    let connector: LoadedConnector | undefined;
    try {
      connector = await loadConnector({ ...channel, options: startOptions }, loaded.dir, {
        signal: abort.signal,
        logger: createLogger({ component: 'import' }, env.STOCKRELAY_LOG ?? 'warn'),
        state: state ?? memoryConnectorState(),
        registerSecret: (value) => secrets.add(value),
      });
      const read = await readAllListings(channel.id, connector.instance, { ...options.read, signal: abort.signal });
      const plan = planSkuMap(read.listings, existing, map?.valueSchema);
      const found = [...plan.found.keys()];
      const counted = hasDatabase ? await ledgerCounts(found) : new Map<string, number>();

      const report: ImportReport = {
        channel: channel.id,
        connector: definition.name,
        dryRun: options.dryRun === true,
        listings: read.listings.length,
        pages: read.pages,
        mapOption: map?.option ?? null,
        found: plan.found.size,
        added: plan.added,
        changed: plan.changed,
        unchanged: plan.unchanged.length,
        notOnChannel: map ? plan.notOnChannel : [],
        withoutSku: plan.withoutSku,
        duplicates: plan.duplicates,
        unknownSkus: unknownSkus(found, loaded, channel, counted, hasDatabase),
        written: null,
        seed: null,
      };

      if (map) {
        const checked = validateConnectorOptions(definition, { ...channel.options, [map.option]: plan.map });
        if (!checked.ok) {
          const problems = checked.problems.map((p) => ({ path: `/channels/${index}/${p.path}`, message: p.message }));
          throw new ConfigError(
            `the SKU map read from channel "${channel.id}" does not fit connector "${definition.name}", so nothing was written (the connector's listListings gives mappings its own options refuse)`,
            problems,
          );
        }
        const target = await mapTarget(configFile, index, map.option, options.mappingFile);
        const changes = plan.added.length + plan.changed.length > 0 || (target.kind === 'file' && target.reference) || Object.keys(existing).length === 0;
        if (changes) {
          report.written = { to: target.kind, path: target.kind === 'file' ? target.file : target.configFile, referenceAdded: target.kind === 'file' && target.reference };
          if (!report.dryRun) await writeSkuMap(target, index, map.option, plan.map);
        }
      }

      if (options.seedLedger) {
        const seed = planSeed(plan.found, counted);
        report.seed = { seeded: seed.seed.length, duplicates: 0, alreadyCounted: seed.alreadyCounted, negative: seed.negative };
        if (!report.dryRun && seed.seed.length > 0) report.seed.duplicates = await publishSeed(loaded, channel.id, seed.seed);
      }
      return report;
    } finally {
      signal.removeEventListener('abort', stop);
      abort.abort();
      await connector?.instance.close?.().catch(() => undefined);
    }
  };

  try {
    if (!hasDatabase) return secrets.redactValue(await run(undefined, async () => new Map()));
    // The connector keeps what it learns (a rotated refresh token) where the hub will find it.
    const report = await withLedger(loaded, async ({ db, ledger }) => {
      // An import is often the first thing run against a new database: it needs the tables a hub would make.
      await migrateToLatest(db);
      return run(new DatabaseConnectorState(db, channel.id), async (skus) => new Map([...(await ledger.getLevels(skus))].map(([sku, level]) => [sku, level.available])));
    });
    return secrets.redactValue(report);
  } catch (err) {
    throw masked(err, secrets);
  }
}

/** Where the map goes: `--mapping-file`, else the file the config already references, else the config. */
async function mapTarget(configFile: string, index: number, option: string, mappingFile: string | undefined): Promise<MapTarget> {
  const raw = parse(await readFile(configFile, 'utf8'), [], { allowTrailingComma: true }) as { channels?: Array<{ options?: Record<string, unknown> }> };
  const current = raw.channels?.[index]?.options?.[option];
  const referenced = isSkuMapFileRef(current) ? resolveSkuMapFile(dirname(configFile), current.file) : undefined;
  if (mappingFile !== undefined) {
    const file = resolve(mappingFile);
    if (file === configFile) throw new UsageError('--mapping-file must not be the config file itself');
    return { kind: 'file', configFile, file, reference: referenced !== file };
  }
  if (referenced !== undefined) return { kind: 'file', configFile, file: referenced, reference: false };
  return { kind: 'config', configFile };
}

/**
 * The found SKUs that neither the ledger counts nor another channel maps: likely a SKU spelt differently on this
 * channel. Null when there is nothing to compare with (no database, and no other channel with a map).
 */
function unknownSkus(found: readonly string[], loaded: LoadedConfig, channel: ChannelConfig, counted: ReadonlyMap<string, number>, hasDatabase: boolean): string[] | null {
  const known = new Set<string>();
  for (const other of loaded.config.channels) {
    if (other.id === channel.id) continue;
    for (const option of ['skus', 'listings']) for (const sku of Object.keys(asRecord(other.options[option]))) known.add(sku);
  }
  if (!hasDatabase && known.size === 0) return null;
  return found.filter((sku) => !known.has(sku) && !counted.has(sku));
}

/** Publishes the seed events; resolves how many the stream already held (an earlier run's). */
async function publishSeed(loaded: LoadedConfig, channelId: string, seed: ReadonlyArray<{ sku: string; quantity: number }>): Promise<number> {
  const bus = await NatsBus.connect(loaded.config.nats, 'stockrelay-import');
  try {
    await bus.ensureTopology();
    const at = new Date();
    let duplicates = 0;
    for (const { sku, quantity } of seed) {
      const ack = await bus.publishEvent(seedEvent(channelId, sku, quantity, at));
      if (ack.duplicate) duplicates += 1;
    }
    return duplicates;
  } finally {
    await bus.close();
  }
}

function importSecrets(loaded: LoadedConfig, channel: ChannelConfig, optionsSchema: Record<string, unknown>): SecretRegistry {
  const secrets = new SecretRegistry();
  addConfigSecrets(secrets, loaded);
  addChannelSecrets(secrets, channel, optionsSchema);
  return secrets;
}

/** `err` with every known secret masked in its message (a channel's error can echo a credential). */
function masked(err: unknown, secrets: SecretRegistry): unknown {
  if (!(err instanceof Error)) return err;
  const message = secrets.redact(err.message);
  if (message !== err.message) Object.defineProperty(err, 'message', { value: message, writable: true, configurable: true, enumerable: false });
  return err;
}

function asRecord(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}
