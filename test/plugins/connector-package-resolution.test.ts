import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConnectorDefinition } from '../../core/plugins/load-connector-definition.ts';
import { resolveConnectorSource } from '../../core/plugins/resolve-connector.ts';
import { ErrorCodes, PluginError } from '../../core/internal.ts';

/** A plain-JavaScript connector module whose definition carries `name`, so a test sees which copy loaded. */
const connectorModule = (name: string): string => `export default Object.freeze({
  name: ${JSON.stringify(name)},
  contractVersion: 1,
  optionsSchema: { type: 'object', additionalProperties: false, properties: {} },
  capabilities: { maxBatchSize: 1, rateLimit: { perSecond: 1, burst: 1 }, quantityMode: 'absolute' },
  create: () => ({ push: async (updates) => updates.map((u) => ({ sku: u.sku, status: 'ok', quantity: u.quantity })) }),
});
`;

function writeFile(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
}

function installPackage(nodeModules: string, name: string, manifest: Record<string, unknown>, files: Record<string, string>): string {
  const dir = join(nodeModules, name);
  writeFile(join(dir, 'package.json'), JSON.stringify({ name, version: '1.0.0', type: 'module', ...manifest }));
  for (const [file, text] of Object.entries(files)) writeFile(join(dir, file), text);
  return dir;
}

async function refusal(promise: Promise<unknown>): Promise<PluginError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(PluginError);
  return err as PluginError;
}

/**
 * A seller's folder: `shop/` holds the config and its own node_modules; `shop/node_modules` is nearer than the
 * `node_modules` one level up, which is nearer than stockrelay's own.
 */
describe('a connector named by package in the config', () => {
  let root: string;
  let shop: string;

  beforeAll(() => {
    root = realpathSync(mkdtempSync(join(tmpdir(), 'stockrelay-resolve-')));
    shop = join(root, 'shop');
    mkdirSync(shop);
    installPackage(join(shop, 'node_modules'), 'stockrelay-connector-near', { exports: { '.': { require: './index.cjs', import: './index.mjs' } } }, {
      'index.mjs': connectorModule('near'),
      'index.cjs': 'throw new Error("the require entry must not be loaded by import()")',
    });
    installPackage(join(root, 'node_modules'), 'stockrelay-connector-near', { main: 'index.js' }, { 'index.js': connectorModule('far') });
    installPackage(join(root, 'node_modules'), 'stockrelay-connector-up', { main: 'lib/entry.js' }, { 'lib/entry.js': connectorModule('up') });
    installPackage(join(shop, 'node_modules'), '@acme/connectors', { exports: { './shop/*': { import: './src/*/index.js' }, './package.json': './package.json' } }, {
      'src/alpha/index.js': connectorModule('acme-alpha'),
    });
    installPackage(join(shop, 'node_modules'), 'stockrelay-connector-cjs-only', { exports: { require: './index.cjs' } }, { 'index.cjs': 'module.exports = {};' });
    // A linked package (npm link, a workspace): found through the link, reported where it really lives.
    const linked = installPackage(join(root, 'elsewhere'), 'stockrelay-connector-linked', {}, { 'index.js': connectorModule('linked') });
    symlinkSync(linked, join(shop, 'node_modules', 'stockrelay-connector-linked'), 'dir');
  });

  afterAll(() => {
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it('resolves from the config file’s folder first: the nearest node_modules wins over one further up', async () => {
    expect(resolveConnectorSource('stockrelay-connector-near', shop)).toEqual({
      kind: 'package',
      spec: 'stockrelay-connector-near',
      file: join(shop, 'node_modules', 'stockrelay-connector-near', 'index.mjs'),
      packageDir: join(shop, 'node_modules', 'stockrelay-connector-near'),
    });
    expect((await loadConnectorDefinition('stockrelay-connector-near', shop)).name).toBe('near');
  });

  it('looks in the parents of the config’s folder, as Node does, and follows a package’s main', async () => {
    expect((await loadConnectorDefinition('stockrelay-connector-up', shop)).name).toBe('up');
  });

  it('follows the import condition and subpath patterns of a package’s exports, scoped names included', async () => {
    expect((await loadConnectorDefinition('@acme/connectors/shop/alpha', shop)).name).toBe('acme-alpha');
  });

  it('follows a linked package to where it lives', async () => {
    const source = resolveConnectorSource('stockrelay-connector-linked', shop);
    expect(source).toMatchObject({ file: join(root, 'elsewhere', 'stockrelay-connector-linked', 'index.js') });
    expect((await loadConnectorDefinition('stockrelay-connector-linked', shop)).name).toBe('linked');
  });

  it('refuses a package installed beside the config that exports nothing for import, naming where it is', async () => {
    const err = await refusal(loadConnectorDefinition('stockrelay-connector-cjs-only', shop, 'legacy'));
    expect(err.code).toBe(ErrorCodes.PLUGIN_NOT_FOUND);
    expect(err.message).toMatch(/^channel "legacy": connector package "stockrelay-connector-cjs-only" is installed at .* but exports no module for import/);
    expect(err.message).toContain(join(shop, 'node_modules', 'stockrelay-connector-cjs-only'));
  });

  it('falls back to the packages installed beside stockrelay when the config’s folder has none', async () => {
    // zod is one of stockrelay's own dependencies and no connector: found (so refused as no definition), not missing.
    expect(resolveConnectorSource('zod', root)).toMatchObject({ kind: 'package', file: undefined, packageDir: undefined });
    const err = await refusal(loadConnectorDefinition('zod', root, 'not-a-connector'));
    expect(err.code).toBe(ErrorCodes.PLUGIN_INVALID);
  });

  it('says where it looked when no folder has the package', async () => {
    const err = await refusal(loadConnectorDefinition('stockrelay-connector-nowhere', shop, 'ghost'));
    expect(err.code).toBe(ErrorCodes.PLUGIN_NOT_FOUND);
    expect(err.message).toMatch(/^channel "ghost": connector "stockrelay-connector-nowhere" not found: .*installed beside the config or beside stockrelay/);
  });
});
