import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { main } from '../../core/cli/main.ts';
import { importChannel } from '../../core/cli/import-channel.ts';
import { loadConfig } from '../../core/config/load-config.ts';
import { runValidate } from '../../core/config/validate-command.ts';
import { NatsBus } from '../../core/bus/nats-bus.ts';
import { startSandboxSimulator, type SandboxSimulator } from '../../connectors/sandbox/simulator.ts';
import { freshDatabase, freshNatsSettings, type FreshDatabase } from '../support/servers.ts';
import { startHub, waitFor } from '../support/test-hub.ts';
import { Ledger } from '../../core/ledger/ledger.ts';
import { openDatabase } from '../../core/ledger/database.ts';

const CATALOGUE_CONNECTOR = fileURLToPath(new URL('../fixtures/import/catalogue-connector.ts', import.meta.url));
const API_KEY = 'catalogue-api-key-0123456789';

let dir: string;

async function writeConfig(config: unknown, text?: string): Promise<string> {
  const file = join(dir, 'my.json');
  await writeFile(file, text ?? `${JSON.stringify(config, null, 2)}\n`);
  return file;
}

function catalogueChannel(id: string, catalogue: unknown[], extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { id, connector: CATALOGUE_CONNECTOR, options: { apiKey: API_KEY, catalogue, ...extra } };
}

const collect = (): { lines: string[]; out: (line: string) => void } => {
  const lines: string[] = [];
  return { lines, out: (line) => lines.push(line) };
};

describe('stockrelay import, without a database', () => {
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sr-import-'));
  });

  it('writes the channel map into the config, leaving the rest of the file as it was written', async () => {
    const catalogue = [{ sku: 'TEE-M', id: 'L1', quantity: 4 }, { sku: 'MUG', id: 'L2', quantity: 0 }, { sku: 'CAP', id: 'L3', quantity: 9 }];
    // Four-space indentation, keys in the seller's order, another channel after the one imported.
    const text = [
      '{',
      '    "http": { "port": 8080 },',
      '    "channels": [',
      `        { "id": "shop", "connector": ${JSON.stringify(CATALOGUE_CONNECTOR)}, "options": { "apiKey": "${API_KEY}", "catalogue": ${JSON.stringify(catalogue)} } },`,
      '        { "id": "other", "connector": "sandbox", "options": { "baseUrl": "http://127.0.0.1:1", "token": "t" } }',
      '    ]',
      '}',
      '',
    ].join('\n');
    const file = await writeConfig(undefined, text);
    const report = await importChannel({ configFile: file, channelId: 'shop', env: {} });
    expect(report).toMatchObject({ listings: 3, pages: 2, found: 3, added: ['CAP', 'MUG', 'TEE-M'], written: { to: 'config', path: file } });

    const after = await readFile(file, 'utf8');
    expect(after.startsWith('{\n    "http": { "port": 8080 },\n    "channels": [\n')).toBe(true);
    expect(after).toContain('        { "id": "other", "connector": "sandbox", "options": { "baseUrl": "http://127.0.0.1:1", "token": "t" } }\n    ]\n}\n');
    const loaded = await loadConfig(file, {});
    expect(loaded.config.channels[0]!.options.skus).toEqual({ CAP: { listingId: 'L3' }, MUG: { listingId: 'L2' }, 'TEE-M': { listingId: 'L1' } });
    const validated = collect();
    expect(await runValidate(file, validated.out, {})).toBe(0);
  });

  it('maps neither listing of a SKU two listings carry, reports listings without a SKU, and exits 2', async () => {
    const file = await writeConfig({
      channels: [catalogueChannel('shop', [{ sku: 'A', id: 'L1', quantity: 1 }, { sku: 'A', id: 'L9', quantity: 2, title: 'A again' }, { sku: '', id: 'L5', quantity: 3, title: 'Loose listing' }, { sku: 'B', id: 'L2', quantity: 1 }])],
    });
    const printed = collect();
    expect(await main(['import', '--config', file, '--channel', 'shop'], printed.out)).toBe(2);
    const text = printed.lines.join('\n');
    expect(text).toMatch(/SKUs on more than one listing/);
    expect(text).toContain('{"listingId":"L1"}');
    expect(text).toContain('"A again" {"listingId":"L9"}');
    expect(text).toMatch(/listings without a SKU[^\n]*\n {2}"Loose listing" \{"listingId":"L5"\}/);
    expect(text).not.toContain(API_KEY);
    const loaded = await loadConfig(file, {});
    expect(loaded.config.channels[0]!.options.skus).toEqual({ B: { listingId: 'L2' } });
  });

  it('writes a mapping file the config then references, relative to the config, and uses it on the next run', async () => {
    const file = await writeConfig({ channels: [catalogueChannel('shop', [{ sku: 'A', id: 'L1', quantity: 1 }])] });
    const first = await importChannel({ configFile: file, channelId: 'shop', mappingFile: join(dir, 'skus', 'shop.json'), env: {} });
    expect(first.written).toEqual({ to: 'file', path: join(dir, 'skus', 'shop.json'), referenceAdded: true });
    expect(JSON.parse(await readFile(file, 'utf8')).channels[0].options.skus).toEqual({ file: './skus/shop.json' });
    expect(JSON.parse(await readFile(join(dir, 'skus', 'shop.json'), 'utf8'))).toEqual({ A: { listingId: 'L1' } });
    expect((await loadConfig(file, {})).config.channels[0]!.options.skus).toEqual({ A: { listingId: 'L1' } });
    expect(await runValidate(file, () => {}, {})).toBe(0);

    const second = await importChannel({ configFile: file, channelId: 'shop', env: {} });
    expect(second).toMatchObject({ added: [], unchanged: 1, written: null });
  });

  it('writes into the mapping file a config names before it exists', async () => {
    const file = await writeConfig({ channels: [catalogueChannel('shop', [{ sku: 'A', id: 'L1', quantity: 1 }], { skus: { file: 'maps/shop.json' } })] });
    const report = await importChannel({ configFile: file, channelId: 'shop', env: {} });
    expect(report.written).toEqual({ to: 'file', path: join(dir, 'maps', 'shop.json'), referenceAdded: false });
    expect(JSON.parse(await readFile(join(dir, 'maps', 'shop.json'), 'utf8'))).toEqual({ A: { listingId: 'L1' } });
  });

  it('changes nothing on a dry run, and says what it would write', async () => {
    const file = await writeConfig({ channels: [catalogueChannel('shop', [{ sku: 'A', id: 'L1', quantity: 1 }])] });
    const before = await readFile(file, 'utf8');
    const printed = collect();
    expect(await main(['import', '--config', file, '--channel', 'shop', '--dry-run'], printed.out)).toBe(0);
    expect(printed.lines.join('\n')).toContain(`would write config ${file}`);
    expect(await readFile(file, 'utf8')).toBe(before);
  });

  it('names SKUs no other channel maps, when another channel has a map', async () => {
    const file = await writeConfig({
      channels: [
        catalogueChannel('shop', [{ sku: 'A', id: 'L1', quantity: 1 }, { sku: 'a-typo', id: 'L2', quantity: 1 }]),
        catalogueChannel('market', [], { skus: { A: { listingId: 'M1' } } }),
      ],
    });
    const report = await importChannel({ configFile: file, channelId: 'shop', dryRun: true, env: {} });
    expect(report.unknownSkus).toEqual(['a-typo']);
  });

  it('refuses --seed-ledger without a database, before reading anything', async () => {
    const file = await writeConfig({ channels: [catalogueChannel('shop', [])] });
    await expect(importChannel({ configFile: file, channelId: 'shop', seedLedger: true, env: {} })).rejects.toThrow(/--seed-ledger needs the ledger's database/);
  });

  it('names the channels there are when the channel is unknown', async () => {
    const file = await writeConfig({ channels: [catalogueChannel('shop', [])] });
    await expect(importChannel({ configFile: file, channelId: 'nope', env: {} })).rejects.toMatchObject({ code: 'SR_CHANNEL_NOT_FOUND', message: expect.stringContaining('channels: shop') });
  });
});

describe('stockrelay import --seed-ledger', () => {
  let database: FreshDatabase;
  let simulator: SandboxSimulator;
  const nats = freshNatsSettings();

  beforeAll(async () => {
    database = await freshDatabase('import');
    simulator = await startSandboxSimulator({ skus: { A: 5, B: 0, C: 12 }, latency: { p50: 0, p99: 0 } });
  });
  afterAll(async () => {
    await simulator.close();
    const bus = await NatsBus.connect(nats);
    await bus.deleteTopology();
    await bus.close();
    await database.drop();
  });
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sr-import-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('publishes each SKU count once however often it runs, and never overwrites what the ledger counts', async () => {
    const config = { nats, database: { url: database.url, poolSize: 2 }, http: { host: '127.0.0.1', port: 0 }, channels: [{ id: 'sbx', connector: 'sandbox', options: simulator.connectorOptions([]) }] };
    const file = await writeConfig(config);

    // Two runs before any hub applies them: the second run's events are the first's, collapsed by the stream.
    const first = await importChannel({ configFile: file, channelId: 'sbx', seedLedger: true, env: {} });
    expect(first).toMatchObject({ mapOption: null, found: 3, written: null, seed: { seeded: 3, duplicates: 0, alreadyCounted: [] } });
    const second = await importChannel({ configFile: file, channelId: 'sbx', seedLedger: true, env: {} });
    expect(second.seed).toMatchObject({ seeded: 3, duplicates: 3 });

    const loaded = await loadConfig(file, {});
    const hub = await startHub({ loaded });
    const opened = await openDatabase({ url: database.url, poolSize: 1 });
    try {
      const ledger = new Ledger(opened.db);
      await waitFor('the seeded counts in the ledger', async () => (await ledger.getLevels(['A', 'B', 'C'])).size === 3);
      const levels = await ledger.getLevels(['A', 'B', 'C']);
      expect(Object.fromEntries([...levels].map(([sku, l]) => [sku, l.available]))).toEqual({ A: 5, B: 0, C: 12 });

      // The channel changes behind the ledger's back: a later import reports it and leaves the ledger alone.
      simulator.setShown('D', 3);
      const third = await importChannel({ configFile: file, channelId: 'sbx', seedLedger: true, env: {} });
      expect(third.seed?.seeded).toBe(1);
      expect(third.seed?.alreadyCounted.map((c) => c.sku).sort()).toEqual(['A', 'B', 'C']);
      await waitFor('D seeded', async () => (await ledger.getLevels(['D'])).get('D')?.available === 3);
      const history = await ledger.getLevels(['A']);
      expect(history.get('A')?.version).toBe(levels.get('A')?.version);
    } finally {
      await opened.close();
      await hub.stop();
    }
  });
});
