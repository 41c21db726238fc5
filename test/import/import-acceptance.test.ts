import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { NatsBus } from '../../core/bus/nats-bus.ts';
import { importChannel } from '../../core/cli/import-channel.ts';
import { loadConfig } from '../../core/config/load-config.ts';
import { runValidate } from '../../core/config/validate-command.ts';
import { Ledger } from '../../core/ledger/ledger.ts';
import { openDatabase } from '../../core/ledger/database.ts';
import { loadConnectorDefinition } from '../../core/plugins/load-connector-definition.ts';
import { freshDatabase, freshNatsSettings } from '../support/servers.ts';
import { startHub, waitFor } from '../support/test-hub.ts';

/** Every built-in connector: each must onboard from its simulator's listings alone. */
const CONNECTORS = ['sandbox', 'shopify', 'woocommerce', 'bigcommerce', 'ebay', 'amazon', 'walmart', 'etsy', 'tiktok'] as const;

/** What the simulated channel lists before the import: the seller's catalogue, and the counts it holds. */
const CATALOGUE: Record<string, number> = { 'TEE-S': 7, 'TEE-M': 0, 'MUG-BLUE': 12, 'CAP-RED': 3 };

describe('stockrelay import against each simulator', () => {
  it.each(CONNECTORS)(
    '%s: writes a map that stockrelay validate accepts and with which a hub converges every SKU',
    async (connector) => {
      const dir = await mkdtemp(join(tmpdir(), `sr-onboard-${connector}-`));
      const database = await freshDatabase(`onboard_${connector}`);
      const nats = freshNatsSettings();
      const definition = await loadConnectorDefinition(connector, dir, connector);
      const simulator = await definition.simulator!({ skus: { ...CATALOGUE }, latency: { p50: 0, p99: 0 } });
      try {
        // The options that reach the simulator, with no SKU mapped: what a seller has before the import.
        const options: Record<string, unknown> = { ...simulator.connectorOptions([]) };
        delete options.skus;
        delete options.listings;
        const file = join(dir, 'my.json');
        const channelId = `${connector}-main`;
        await writeFile(
          file,
          JSON.stringify({ nats, database: { url: database.url, poolSize: 2 }, http: { host: '127.0.0.1', port: 0 }, dispatch: { backoffBaseMs: 50, backoffMaxMs: 1000, reconcileIntervalMs: 1000 }, channels: [{ id: channelId, connector, options }] }, null, 2),
        );

        const report = await importChannel({ configFile: file, channelId, seedLedger: true, env: {} });
        expect(report.withoutSku).toEqual([]);
        expect(report.duplicates).toEqual([]);
        expect(report.found).toBe(Object.keys(CATALOGUE).length);
        expect(report.seed?.seeded).toBe(Object.keys(CATALOGUE).length);

        const validation: string[] = [];
        expect(await runValidate(file, (line) => validation.push(line), {}), validation.join('\n')).toBe(0);

        const loaded = await loadConfig(file, {});
        const hub = await startHub({ loaded });
        const opened = await openDatabase({ url: database.url, poolSize: 1 });
        const bus = await NatsBus.connect(nats, 'onboard-test');
        try {
          const ledger = new Ledger(opened.db);
          const skus = Object.keys(CATALOGUE);
          await waitFor('the seeded counts', async () => (await ledger.getLevels(skus)).size === skus.length);
          // The seller sells and counts: every SKU changes, and the channel must follow.
          for (const [i, sku] of skus.entries()) {
            await bus.publishEvent({ id: `onboard:${connector}:${sku}`, type: 'stock.set', channel: 'manual', occurredAt: new Date().toISOString(), lines: [{ sku, quantity: 20 + i }] });
          }
          await waitFor(
            `every SKU shown on ${connector} as the ledger holds it`,
            async () => {
              const levels = await ledger.getLevels(skus);
              return skus.every((sku) => levels.get(sku)?.available === 20 + skus.indexOf(sku) && simulator.shown(sku) === levels.get(sku)?.available);
            },
            90_000,
            200,
          );
        } finally {
          await bus.deleteTopology().catch(() => undefined);
          await bus.close();
          await opened.close();
          await hub.stop();
        }
      } finally {
        await simulator.close();
        await database.drop();
        await rm(dir, { recursive: true, force: true });
      }
    },
    180_000,
  );
});
