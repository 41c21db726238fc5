import { describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { loadConnector, type ConnectorHost } from '../../core/plugins/load-connector.ts';
import { memoryConnectorState } from '../../core/plugins/memory-connector-state.ts';
import { loadConnectorDefinition } from '../../core/plugins/load-connector-definition.ts';
import { listBuiltinConnectors, resolveConnectorSource } from '../../core/plugins/resolve-connector.ts';
import { effectiveLimits } from '../../core/plugins/effective-limits.ts';
import type { ChannelConfig } from '../../core/config/config-types.ts';
import { ConfigError, ErrorCodes, PluginError } from '../../core/internal.ts';
import type { Logger } from '../../core/sdk.ts';
import { created } from '../fixtures/plugins/good-connector.ts';
import { started as futureStarted } from '../fixtures/plugins/wrong-contract.ts';

const pluginsDir = fileURLToPath(new URL('../fixtures/plugins/', import.meta.url));
const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

interface LogLine {
  level: string;
  msg: string;
  data?: Record<string, unknown>;
}

function host(): ConnectorHost & { lines: LogLine[] } {
  const lines: LogLine[] = [];
  const log = (level: string) => (msg: string, data?: Record<string, unknown>) => void lines.push({ level, msg, data });
  return { signal: new AbortController().signal, logger: { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') }, state: memoryConnectorState(), registerSecret: () => {}, lines };
}

function channel(id: string, connector: string, options: Record<string, unknown> = {}, limits: ChannelConfig['limits'] = {}): ChannelConfig {
  return { id, connector, options, rules: { reserve: 0, share: 1 }, limits, enabled: true };
}

async function refusal(promise: Promise<unknown>): Promise<PluginError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(PluginError);
  return err as PluginError;
}

describe('loadConnector', () => {
  it('loads a connector from a path relative to the config folder and starts it with its options', async () => {
    const loaded = await loadConnector(channel('shop-a', './good-connector.ts', { apiKey: 'k' }), pluginsDir, host());
    expect(loaded.channelId).toBe('shop-a');
    expect(loaded.definition.name).toBe('good');
    const results = await loaded.instance.push([{ sku: 'A', quantity: 3, version: 1 }], new AbortController().signal);
    expect(results).toEqual([{ sku: 'A', status: 'ok' }]);
  });

  it('hands create the options with the schema defaults filled in, frozen', async () => {
    await loadConnector(channel('shop-defaults', './good-connector.ts', { apiKey: 'k' }), pluginsDir, host());
    const call = created.find((c) => c.channelId === 'shop-defaults');
    expect(call?.options).toEqual({ apiKey: 'k', region: 'eu' });
    expect(Object.isFrozen(call?.options)).toBe(true);
  });

  it('keeps optional members optional, so the host can feature-detect them', async () => {
    const { instance } = await loadConnector(channel('shop-b', './good-connector.ts', { apiKey: 'k' }), pluginsDir, host());
    expect(typeof instance.handleWebhook).toBe('function');
    expect(typeof instance.fetchQuantities).toBe('function');
    expect(instance.pollOrders).toBeUndefined();
    expect(instance.close).toBeUndefined();
  });

  it('gives the connector a logger that names its channel', async () => {
    const h = host();
    await loadConnector(channel('shop-log', './good-connector.ts', { apiKey: 'k' }), pluginsDir, h);
    expect(h.lines).toContainEqual({ level: 'info', msg: 'good connector created', data: { channel: 'shop-log', region: 'eu' } });
  });

  it('loads a folder whose package.json names the main file', async () => {
    const loaded = await loadConnector(channel('folder', './folder-connector'), pluginsDir, host());
    expect(loaded.definition.name).toBe('folder');
  });

  it('resolves a path without its extension', async () => {
    const loaded = await loadConnector(channel('no-ext', './good-connector', { apiKey: 'k' }), pluginsDir, host());
    expect(loaded.definition.name).toBe('good');
  });

  it('applies config limits over the connector capabilities', async () => {
    const loaded = await loadConnector(channel('limited', './good-connector.ts', { apiKey: 'k' }, { perSecond: 2, maxBatchSize: 50, concurrency: 1 }), pluginsDir, host());
    expect(loaded.limits).toEqual({ maxBatchSize: 50, perSecond: 2, burst: 10, concurrency: 1, compareAndSet: true });
  });

  it('never raises the batch size above what the connector accepts, and says so', async () => {
    const h = host();
    const loaded = await loadConnector(channel('greedy', './good-connector.ts', { apiKey: 'k' }, { maxBatchSize: 5000 }), pluginsDir, h);
    expect(loaded.limits.maxBatchSize).toBe(100);
    expect(h.lines.some((l) => l.level === 'warn' && l.msg.includes('greedy') && l.msg.includes('maxBatchSize'))).toBe(true);
  });

  describe('refuses, naming the channel and the cause,', () => {
    it('a module that does not exist', async () => {
      const err = await refusal(loadConnector(channel('ghost', './nowhere.ts'), pluginsDir, host()));
      expect(err.code).toBe(ErrorCodes.PLUGIN_NOT_FOUND);
      expect(err.channelId).toBe('ghost');
      expect(err.message).toMatch(/^channel "ghost": connector module "\.\/nowhere\.ts" not found/);
      expect(err.message).toContain(join(pluginsDir, 'nowhere.ts'));
    });

    it('a package that is not installed and is no built-in', async () => {
      const err = await refusal(loadConnector(channel('pkg', 'stockrelay-connector-that-does-not-exist'), pluginsDir, host()));
      expect(err.code).toBe(ErrorCodes.PLUGIN_NOT_FOUND);
      expect(err.message).toMatch(/^channel "pkg": connector "stockrelay-connector-that-does-not-exist" not found/);
    });

    it('a module without a default export', async () => {
      const err = await refusal(loadConnector(channel('forgetful', './no-default-export.mjs'), pluginsDir, host()));
      expect(err.code).toBe(ErrorCodes.PLUGIN_INVALID);
      expect(err.message).toMatch(/^channel "forgetful": .*has no default export/);
    });

    it('a default export that is not a connector definition, saying which members are missing', async () => {
      const err = await refusal(loadConnector(channel('half', './not-a-definition.ts'), pluginsDir, host()));
      expect(err.code).toBe(ErrorCodes.PLUGIN_INVALID);
      expect(err.message).toContain('channel "half"');
      expect(err.message).toContain('create is missing');
      expect(err.message).toContain('capabilities is missing');
    });

    it('a connector declaring impossible capabilities', async () => {
      const err = await refusal(loadConnector(channel('boast', './bad-capabilities.ts'), pluginsDir, host()));
      expect(err.code).toBe(ErrorCodes.PLUGIN_INVALID);
      expect(err.message).toContain('capabilities.maxBatchSize must be a positive integer');
      expect(err.message).toContain('capabilities.quantityMode must be "absolute"');
    });

    it('a connector declaring a bulk lane it could never use, naming each field', async () => {
      const err = await refusal(loadConnector(channel('bulky', './bad-bulk-capabilities.ts'), pluginsDir, host()));
      expect(err.code).toBe(ErrorCodes.PLUGIN_INVALID);
      expect(err.message).toContain('capabilities.bulk.rateLimit.perSecond must be a number > 0');
      expect(err.message).toContain('capabilities.bulk.maxDurationMs (30000) must be at least expectedDurationMs (60000)');
    });

    it('a connector written for another contract version, before any of its code is started', async () => {
      const err = await refusal(loadConnector(channel('future', './wrong-contract.ts'), pluginsDir, host()));
      expect(err.code).toBe(ErrorCodes.PLUGIN_CONTRACT);
      expect(err.message).toBe('channel "future": connector "from-the-future" was written for contract version 2, but this hub implements contract version 1');
      expect(futureStarted.count).toBe(0);
    });

    it('options that do not fit the connector schema, listing each problem with its path', async () => {
      const before = created.length;
      const err = await refusal(loadConnector(channel('bad-opts', './good-connector.ts', { region: 'mars', shop: {} }), pluginsDir, host()));
      expect(err.code).toBe(ErrorCodes.PLUGIN_OPTIONS);
      expect(err.message).toContain('channel "bad-opts"');
      expect(err.message).toContain('options/apiKey is required');
      expect(err.message).toContain('options/region must be one of: "eu", "us" (got "mars")');
      expect(err.message).toContain('options/shop/name is required');
      expect(err.cause).toBeInstanceOf(ConfigError);
      expect((err.cause as ConfigError).problems.map((p) => p.path).sort()).toEqual(['options/apiKey', 'options/region', 'options/shop/name']);
      expect(created.length).toBe(before);
    });

    it('an options schema that is not valid JSON Schema', async () => {
      const err = await refusal(loadConnector(channel('bad-schema', './bad-options-schema.ts'), pluginsDir, host()));
      expect(err.code).toBe(ErrorCodes.PLUGIN_INVALID);
      expect(err.message).toMatch(/^channel "bad-schema": connector "bad-schema" has an optionsSchema that is not valid JSON Schema/);
    });

    it('a module that throws while it is imported, keeping the cause', async () => {
      const err = await refusal(loadConnector(channel('explodes', './fails-on-import.mjs'), pluginsDir, host()));
      expect(err.code).toBe(ErrorCodes.PLUGIN_INVALID);
      expect(err.message).toContain('missing native binding');
      expect((err.cause as Error).message).toBe('missing native binding');
    });

    it('a connector whose create throws, keeping the cause', async () => {
      const err = await refusal(loadConnector(channel('grumpy', './throws-in-create.ts'), pluginsDir, host()));
      expect(err.code).toBe(ErrorCodes.PLUGIN_CREATE);
      expect(err.message).toBe('channel "grumpy": connector "grumpy" failed to start: could not reach the token endpoint');
      expect((err.cause as Error).message).toBe('could not reach the token endpoint');
    });

    it('to start a connector once the hub is shutting down', async () => {
      const controller = new AbortController();
      controller.abort();
      const err = await refusal(loadConnector(channel('late', './good-connector.ts', { apiKey: 'k' }), pluginsDir, { ...host(), signal: controller.signal }));
      expect(err.code).toBe(ErrorCodes.PLUGIN_CREATE);
      expect(created.some((c) => c.channelId === 'late')).toBe(false);
    });
  });
});

describe('loadConnectorDefinition', () => {
  it('returns the definition without starting the connector', async () => {
    const before = created.length;
    const definition = await loadConnectorDefinition('./good-connector.ts', pluginsDir);
    expect(definition.name).toBe('good');
    expect(created.length).toBe(before);
  });

  it('names the spec when no channel is given', async () => {
    const err = await refusal(loadConnectorDefinition('./nowhere.ts', pluginsDir));
    expect(err.message).toMatch(/^channel "\.\/nowhere\.ts": /);
  });
});

describe('resolveConnectorSource', () => {
  it('treats a folder under connectors/ as a built-in connector', () => {
    expect(listBuiltinConnectors()).toContain('sandbox');
    expect(resolveConnectorSource('sandbox', pluginsDir)).toEqual({
      kind: 'builtin',
      spec: 'sandbox',
      file: join(repoRoot, 'connectors', 'sandbox', 'index.ts'),
      tried: [join(repoRoot, 'connectors', 'sandbox', 'index.ts')],
    });
  });

  it('does not take folders starting with "_" for connectors', () => {
    expect(listBuiltinConnectors().some((name) => name.startsWith('_'))).toBe(false);
    expect(resolveConnectorSource('_kit', pluginsDir)).toMatchObject({ kind: 'package', spec: '_kit', file: undefined });
  });

  it('treats any other bare name as a package', () => {
    expect(resolveConnectorSource('@acme/stockrelay-connector', pluginsDir)).toEqual({ kind: 'package', spec: '@acme/stockrelay-connector', file: undefined, packageDir: undefined });
  });

  it('resolves an absolute path as is', () => {
    const file = join(pluginsDir, 'good-connector.ts');
    expect(resolveConnectorSource(file, '/somewhere/else')).toMatchObject({ kind: 'path', file });
  });
});

describe('effectiveLimits', () => {
  const capabilities = { maxBatchSize: 250, rateLimit: { perSecond: 2, burst: 40 }, quantityMode: 'absolute' as const };

  it('takes the connector capabilities when the config overrides nothing, with 4 pushes in flight', () => {
    expect(effectiveLimits(capabilities, {})).toEqual({ maxBatchSize: 250, perSecond: 2, burst: 40, concurrency: 4, compareAndSet: false });
  });

  it('takes the connector concurrency and revision budget when it declares them', () => {
    expect(effectiveLimits({ ...capabilities, maxConcurrency: 1, dailyRevisionsPerSku: 250 }, {})).toMatchObject({ concurrency: 1, dailyRevisionsPerSku: 250 });
  });

  it('lets the config lower the batch size but never raise it', () => {
    expect(effectiveLimits(capabilities, { maxBatchSize: 10 }).maxBatchSize).toBe(10);
    expect(effectiveLimits(capabilities, { maxBatchSize: 1000 }).maxBatchSize).toBe(250);
  });

  it('takes the connector’s bulk lane, one job at a time unless it says more, and drops it when the config says bulk: false', () => {
    const bulk = { maxBatchSize: 5000, rateLimit: { perSecond: 0.01, burst: 15 }, expectedDurationMs: 300_000, maxDurationMs: 3_600_000 };
    expect(effectiveLimits({ ...capabilities, bulk }, {}).bulk).toEqual({
      maxBatchSize: 5000,
      perSecond: 0.01,
      burst: 15,
      concurrency: 1,
      expectedDurationMs: 300_000,
      maxDurationMs: 3_600_000,
    });
    expect(effectiveLimits({ ...capabilities, bulk }, { bulk: false }).bulk).toBeUndefined();
  });
});
