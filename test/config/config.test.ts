import { describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { loadConfig } from '../../core/config/load-config.ts';
import { CONFIG_SCHEMA, validateConfigObject, EMBEDDED_DATABASE_WARNING } from '../../core/config/validate-config.ts';
import { formatProblems } from '../../core/config/format-problems.ts';
import { ConfigError, ErrorCodes } from '../../core/internal.ts';

const fixture = (name: string): string => fileURLToPath(new URL(`../fixtures/configs/${name}`, import.meta.url));

async function loadError(path: string, env: NodeJS.ProcessEnv = {}): Promise<ConfigError> {
  const err = await loadConfig(path, env).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ConfigError);
  return err as ConfigError;
}

describe('loadConfig', () => {
  it('fills every default from the schema', async () => {
    const { config, warnings } = await loadConfig(fixture('minimal.json'), {});
    expect(config.nats).toEqual({
      servers: ['nats://127.0.0.1:4222'],
      stream: 'STOCKRELAY_IN',
      deadLetterStream: 'STOCKRELAY_DLQ',
      subjectPrefix: 'inventory',
      consumer: 'stockrelay-core',
      duplicateWindowMs: 120000,
      replicas: 1,
      ackWaitMs: 10000,
      inboundMaxAgeMs: 604800000,
      inboundMaxBytes: -1,
      deadLetterMaxAgeMs: 2592000000,
      deadLetterMaxBytes: 1073741824,
    });
    expect(config.database).toEqual({ poolSize: 10 });
    expect(config.http).toEqual({ host: '127.0.0.1', port: 8080, tokens: [], requestTimeoutMs: 15000, connectionTimeoutMs: 60000, keepAliveTimeoutMs: 5000, webhookTimeoutMs: 10000, protectMetrics: false });
    expect(config.alerts).toEqual({ evaluateIntervalMs: 5000, windowMs: 300000, syncLagP99Ms: 5000, minSuccessRate: 0.99, oversell: true, deadLetterDepth: 1, driftSkus: 1, backlog: 10000 });
    expect(config.ledger).toEqual({ maxBatchEvents: 500, maxConflictRetries: 8, processedEventRetentionDays: 30, pruneIntervalMs: 300000 });
    expect(config.dispatch).toEqual({ maxAttempts: 8, backoffBaseMs: 250, backoffMaxMs: 30000, reconcileIntervalMs: 30000, pushTimeoutMs: 15000, pollTimeoutMs: 30000, lateWriteWindowMs: 30000, readShare: 0.2, catchUpIntervalMs: 60000 });
    expect(config.channels).toEqual([{ id: 'shop', connector: 'sandbox', options: {}, rules: { reserve: 0, share: 1, forecast: { enabled: false, maxHiddenShare: 1, confidence: 0.5, minHorizonMs: 0, maxHorizonMs: 120000 } }, limits: {}, enabled: true }]);
    expect(warnings).toEqual([EMBEDDED_DATABASE_WARNING]);
  });

  it('names the read-back fields it refuses', () => {
    const result = validateConfigObject({ dispatch: { readShare: 1.5 }, channels: [{ id: 'shop', connector: 'sandbox', limits: { readShare: -1, dailyReads: 0 } }] });
    expect(result.ok).toBe(false);
    const paths = result.ok ? [] : result.problems.map((p) => p.path);
    expect(paths).toEqual(expect.arrayContaining(['/dispatch/readShare', '/channels/0/limits/readShare', '/channels/0/limits/dailyReads']));
  });

  it('names the catch-up interval fields it refuses', () => {
    const result = validateConfigObject({ dispatch: { catchUpIntervalMs: 0 }, channels: [{ id: 'shop', connector: 'sandbox', limits: { catchUpIntervalMs: 'often' } }] });
    expect(result.ok).toBe(false);
    const paths = result.ok ? [] : result.problems.map((p) => p.path);
    expect(paths).toEqual(expect.arrayContaining(['/dispatch/catchUpIntervalMs', '/channels/0/limits/catchUpIntervalMs']));
  });

  it('resolves API tokens and the alert webhook from the environment', async () => {
    const result = validateConfigObject(
      { channels: [{ id: 'shop', connector: 'sandbox' }], http: { tokens: [{ token: { env: 'READ_TOKEN' }, scope: 'read' }] }, alerts: { webhookUrl: { env: 'ALERT_URL' } } },
      { READ_TOKEN: 'r'.repeat(20), ALERT_URL: 'http://127.0.0.1:9/alerts' },
    );
    expect(result.ok && result.loaded.config.http.tokens[0]?.token).toBe('r'.repeat(20));
    expect(result.ok && result.loaded.config.alerts.webhookUrl).toBe('http://127.0.0.1:9/alerts');
    const missing = validateConfigObject({ channels: [{ id: 'shop', connector: 'sandbox' }], http: { tokens: [{ token: { env: 'NOPE_TOKEN' }, scope: 'admin' }] } }, {});
    expect(missing.ok ? [] : missing.problems).toEqual([expect.objectContaining({ path: '/http/tokens/0/token', message: expect.stringContaining('NOPE_TOKEN') })]);
  });

  it('drops the editor-only "$schema" key and knows where the file lives', async () => {
    const loaded = await loadConfig(fixture('minimal.json'), {});
    expect(loaded.config).not.toHaveProperty('$schema');
    expect(loaded.path).toBe(fixture('minimal.json'));
    expect(loaded.dir).toBe(dirname(fixture('minimal.json')));
  });

  it('returns a deep-frozen config', async () => {
    const { config } = await loadConfig(fixture('minimal.json'), {});
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.nats.servers)).toBe(true);
    expect(Object.isFrozen(config.channels[0]?.rules)).toBe(true);
    expect(() => {
      (config.http as { port: number }).port = 1;
    }).toThrow(TypeError);
  });

  it('resolves secret references from the environment, in database.url and deep inside connector options', async () => {
    const { config, warnings } = await loadConfig(fixture('secrets.json'), {
      SR_TEST_DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/postgres',
      SR_TEST_SHOP_KEY: 'shh',
    });
    expect(config.database.url).toBe('postgres://postgres@127.0.0.1:5432/postgres');
    expect(config.channels[0]?.options).toEqual({ apiKey: 'shh', shop: { name: 'main' } });
    expect(warnings).toEqual([]);
  });

  it('names the missing environment variable and where it is referenced', async () => {
    const err = await loadError(fixture('secrets.json'), { SR_TEST_DATABASE_URL: 'postgres://postgres@127.0.0.1/x' });
    expect(err.code).toBe(ErrorCodes.CONFIG_SECRET_MISSING);
    expect(err.problems).toEqual([{ path: '/channels/0/options/apiKey', message: 'secret environment variable SR_TEST_SHOP_KEY is not set' }]);
    expect(err.message).toContain('SR_TEST_SHOP_KEY');
    expect(err.message).toContain('/channels/0/options/apiKey');
  });

  it('treats an empty secret as missing', async () => {
    const err = await loadError(fixture('secrets.json'), { SR_TEST_DATABASE_URL: '', SR_TEST_SHOP_KEY: 'k' });
    expect(err.problems).toEqual([{ path: '/database/url', message: 'secret environment variable SR_TEST_DATABASE_URL is empty' }]);
  });

  it('reports exactly the three mistakes of a config, each at its path', async () => {
    const err = await loadError(fixture('three-mistakes.json'));
    expect(err.code).toBe(ErrorCodes.CONFIG_INVALID);
    expect(err.problems.map((p) => p.path).sort()).toEqual(['/channels/1/id', '/channels/2/rules/share', '/natz']);
    expect(err.message).toContain('3 problems');
  });

  it('names an unknown key and the keys allowed there', async () => {
    const err = await loadError(fixture('three-mistakes.json'));
    const unknown = err.problems.find((p) => p.path === '/natz');
    expect(unknown?.message).toMatch(/unknown key "natz"/);
    expect(unknown?.message).toContain('nats');
  });

  it('refuses duplicate channel ids, pointing at the duplicate and the first use', async () => {
    const err = await loadError(fixture('duplicate-ids.json'));
    expect(err.problems).toEqual([{ path: '/channels/2/id', message: 'duplicate channel id "shop" (first used at /channels/0/id)' }]);
  });

  it('names a file that does not exist', async () => {
    const err = await loadError(fixture('nope.json'));
    expect(err.code).toBe(ErrorCodes.CONFIG_READ);
    expect(err.message).toContain(fixture('nope.json'));
    expect(err.message).toContain('does not exist');
  });

  it('gives the line and column of a JSON syntax error', async () => {
    const err = await loadError(fixture('broken.json'));
    expect(err.code).toBe(ErrorCodes.CONFIG_READ);
    expect(err.message).toContain(fixture('broken.json'));
    expect(err.message).toContain('line 4, column 3');
  });

  it('accepts a file saved with a byte-order mark', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sr-config-'));
    const file = join(dir, 'bom.json');
    await writeFile(file, `\uFEFF${JSON.stringify({ channels: [{ id: 'a', connector: 'sandbox' }] })}`);
    const { config } = await loadConfig(file, {});
    expect(config.channels[0]?.id).toBe('a');
  });

  it('places syntax errors V8 gives no position for: a missing value, a bad literal', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sr-config-'));
    const file = join(dir, 'bad.json');
    await writeFile(file, '{\n  "http": {\n    "port": tru\n  }\n}\n');
    expect((await loadError(file)).message).toContain('line 3, column 13');
    await writeFile(file, '{\n  "http": {\n    "port": \n');
    expect((await loadError(file)).message).toContain('line 4, column 1');
  });
});

describe('validateConfigObject', () => {
  it('does not change the object it is given', () => {
    const raw = { channels: [{ id: 'a', connector: 'sandbox' }] };
    const result = validateConfigObject(raw, {});
    expect(result.ok).toBe(true);
    expect(raw).toEqual({ channels: [{ id: 'a', connector: 'sandbox' }] });
  });

  it('collects schema errors, duplicate ids and missing secrets in one pass', () => {
    const result = validateConfigObject(
      {
        http: { port: 70000 },
        database: { url: { env: 'SR_NOT_SET' } },
        channels: [
          { id: 'a', connector: 'sandbox' },
          { id: 'a', connector: 'sandbox', options: { token: { env: 'SR_ALSO_NOT_SET' } } },
        ],
      },
      {},
    );
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems).toEqual(
      expect.arrayContaining([
        { path: '/http/port', message: 'must be <= 65535 (got 70000)' },
        { path: '/channels/1/id', message: 'duplicate channel id "a" (first used at /channels/0/id)' },
        { path: '/database/url', message: 'secret environment variable SR_NOT_SET is not set' },
        { path: '/channels/1/options/token', message: 'secret environment variable SR_ALSO_NOT_SET is not set' },
      ]),
    );
    expect(result.problems).toHaveLength(4);
  });

  it('lists the allowed values of an enum-like field and the expected type', () => {
    const result = validateConfigObject({ channels: [{ id: 'a', connector: 'sandbox', enabled: 'yes', rules: { reserve: -1 } }] }, {});
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems).toEqual([
      { path: '/channels/0/rules/reserve', message: 'must be >= 0 (got -1)' },
      { path: '/channels/0/enabled', message: 'must be a boolean (got "yes")' },
    ]);
  });

  it('requires at least one channel, each with an id and a connector', () => {
    const none = validateConfigObject({ channels: [] }, {});
    expect(none.ok ? [] : none.problems).toEqual([{ path: '/channels', message: 'must have at least 1 item' }]);
    const bare = validateConfigObject({ channels: [{}] }, {});
    expect(bare.ok ? [] : bare.problems).toEqual([
      { path: '/channels/0/id', message: 'is required' },
      { path: '/channels/0/connector', message: 'is required' },
    ]);
  });

  it('says database.url takes a string or a secret reference, without the branch noise', () => {
    const result = validateConfigObject({ database: { url: { env: 'X', extra: 1 } }, channels: [{ id: 'a', connector: 'sandbox' }] }, {});
    expect(result.ok ? [] : result.problems).toEqual([
      { path: '/database/url', message: 'must be a string or a secret reference {"env": "NAME"} (got {"env":"X","extra":1})' },
    ]);
  });

  it('refuses a database url that is not a postgres URL, without echoing it', () => {
    const result = validateConfigObject({ database: { url: 'mysql://root:hunter2@db/x' }, channels: [{ id: 'a', connector: 'sandbox' }] }, {});
    expect(result.ok ? [] : result.problems).toEqual([{ path: '/database/url', message: 'must be a postgres:// or postgresql:// URL' }]);
  });

  it('refuses a backoff cap below the backoff base', () => {
    const result = validateConfigObject({ dispatch: { backoffBaseMs: 1000, backoffMaxMs: 10 }, channels: [{ id: 'a', connector: 'sandbox' }] }, {});
    expect(result.ok ? [] : result.problems).toEqual([{ path: '/dispatch/backoffMaxMs', message: 'must not be below backoffBaseMs (1000)' }]);
  });

  it('refuses a subject prefix that is not dot-separated NATS tokens', () => {
    const result = validateConfigObject({ nats: { subjectPrefix: 'inv.*' }, channels: [{ id: 'a', connector: 'sandbox' }] }, {});
    expect(result.ok ? [] : result.problems.map((p) => p.path)).toEqual(['/nats/subjectPrefix']);
  });

  it('keeps connector options open: unknown option keys are left to the connector schema', () => {
    const result = validateConfigObject({ channels: [{ id: 'a', connector: 'sandbox', options: { anything: { nested: [1, 2] } } }] }, {});
    expect(result.ok).toBe(true);
  });
});

describe('the published config schema', () => {
  type Node = Record<string, unknown>;
  const definitions = CONFIG_SCHEMA.definitions as Record<string, Node>;
  const deref = (node: Node): Node => (typeof node.$ref === 'string' ? (definitions[node.$ref.replace('#/definitions/', '')] ?? node) : node);

  /** Every named field of the schema, with its JSON path, following $refs once. */
  function fields(node: Node, path: string, out: Array<{ path: string; schema: Node }>): Array<{ path: string; schema: Node }> {
    const target = deref(node);
    for (const [key, child] of Object.entries((target.properties as Record<string, Node> | undefined) ?? {})) {
      out.push({ path: `${path}/${key}`, schema: child });
      fields(child, `${path}/${key}`, out);
    }
    if (target.items) fields(target.items as Node, `${path}/*`, out);
    return out;
  }

  const all = fields(CONFIG_SCHEMA, '', []);

  it('gives every field a title and a description, so editors can explain it', () => {
    const undocumented = all.filter(({ schema }) => {
      const target = deref(schema);
      return typeof (schema.title ?? target.title) !== 'string' || typeof (schema.description ?? target.description) !== 'string';
    });
    expect(undocumented.map((f) => f.path)).toEqual([]);
  });

  it('closes every object to unknown keys except connector options and the SKU maps in them', () => {
    const objects = [{ path: '', schema: CONFIG_SCHEMA as Node }, ...all].map(({ path, schema }) => ({ path, schema: deref(schema) })).filter(({ schema }) => schema.type === 'object');
    const open = objects.filter(({ schema }) => schema.additionalProperties !== false).map((o) => o.path);
    expect(open).toEqual(['/channels/*/options', '/channels/*/options/skus', '/channels/*/options/listings']);
  });
});

describe('formatProblems', () => {
  it('prints one indented line per problem, path first', () => {
    expect(
      formatProblems([
        { path: '/a', message: 'is required' },
        { path: '/b/0', message: 'must not be empty' },
      ]),
    ).toBe('  /a: is required\n  /b/0: must not be empty');
  });
});
