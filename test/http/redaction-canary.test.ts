import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../core/cli/main.ts';
import { validateConfigObject } from '../../core/config/validate-config.ts';
import type { Hub } from '../../core/hub.ts';
import { loadConnectorDefinition } from '../../core/plugins/load-connector-definition.ts';
import type { JsonSchema, Logger, SimulatorHandle } from '../../core/sdk.ts';
import { NatsBus } from '../../core/bus/nats-bus.ts';
import { createAjv } from '../../core/config/create-ajv.ts';
import type { HubConfig } from '../../core/config/config-types.ts';
import { freshDatabase, NATS_URL, uniqueSuffix, type FreshDatabase } from '../support/servers.ts';
import { startHub, waitFor } from '../support/test-hub.ts';

const CONNECTORS = ['sandbox', 'shopify', 'woocommerce', 'bigcommerce', 'etsy', 'ebay', 'tiktok', 'walmart', 'amazon'];
const SKUS = { 'CAN-1': 10, 'CAN-2': 10 };
const READ_TOKEN = 'CNRYread-token-5d1f0a9c2b7e';
const ADMIN_TOKEN = 'CNRYadmin-token-8e4b2c6a1f3d';
const DB_PASSWORD = 'CNRYdbpass4c7e9a';
const ENV_ADMIN = 'SR_CANARY_ADMIN_TOKEN';

/** Every canary planted, to look for in everything the hub and the CLI put out. */
const canaries: string[] = [READ_TOKEN, ADMIN_TOKEN, DB_PASSWORD];

const ajv = createAjv({ useDefaults: false, strict: false });

/** A canary the field's own schema accepts (Etsy's `<user id>.<token>`, base64-ish webhook secrets, eBay's 32 characters). */
function canary(channel: string, field: string, i: number, schema: unknown): string {
  const core = `CNRY${channel.replace(/[^a-z]/g, '')}${field.replace(/[^A-Za-z]/g, '')}${i}q7w8e9r0t1y2u3i4o5p6`;
  const candidates = [core, `7.${core}`, `whsec_${Buffer.from(core).toString('base64')}`];
  const plain = { ...(schema as Record<string, unknown>) };
  delete plain.oneOf;
  const check = ajv.compile(Array.isArray((schema as { oneOf?: unknown }).oneOf) ? { anyOf: [{ type: 'string', minLength: 1 }] } : plain);
  const value = candidates.find((candidate) => check(candidate)) ?? core;
  canaries.push(value);
  return value;
}

/** `options` with every value its schema marks writeOnly replaced by a canary. */
function plantCanaries(schema: unknown, options: unknown, channel: string, path: string): unknown {
  const s = (typeof schema === 'object' && schema !== null ? schema : {}) as Record<string, unknown>;
  if (s.writeOnly === true) {
    if (typeof options === 'string') return canary(channel, path, 0, s);
    if (Array.isArray(options)) return options.map((item, i) => (typeof item === 'string' ? canary(channel, path, i, s) : item));
    return options;
  }
  if (typeof options === 'object' && options !== null && !Array.isArray(options)) {
    const properties = (s.properties ?? {}) as Record<string, unknown>;
    return Object.fromEntries(Object.entries(options).map(([key, value]) => [key, plantCanaries(properties[key], value, channel, `${path}${key}`)]));
  }
  return options;
}

/** Every way a canary could hide in text: itself, URL-encoded, or inside a base64 run (Basic credentials). */
function leaks(text: string): string[] {
  const decoded = [text];
  try {
    decoded.push(decodeURIComponent(text));
  } catch {
    // not URL-encoded as a whole
  }
  for (const run of text.match(/[A-Za-z0-9+/_-]{16,}={0,2}/g) ?? []) decoded.push(Buffer.from(run, 'base64').toString('latin1'));
  return canaries.filter((value) => decoded.some((d) => d.includes(value)));
}

describe('a canary in every secret field never appears in a log line, dead letter, API answer or CLI output', () => {
  const lines: string[] = [];
  const simulators: SimulatorHandle[] = [];
  const skipped: string[] = [];
  let database: FreshDatabase;
  let hub: Hub;
  let dir: string;
  let file: string;
  let nats: Record<string, unknown>;
  let natsSettings: HubConfig['nats'] | undefined;

  beforeAll(async () => {
    const suffix = uniqueSuffix();
    database = await freshDatabase('canary');
    const url = new URL(database.url);
    url.password = DB_PASSWORD;
    const channels = [];
    for (const connector of CONNECTORS) {
      const definition = await loadConnectorDefinition(connector, process.cwd());
      const simulator = await definition.simulator!({ skus: SKUS, latency: { p50: 0, p99: 0 } });
      simulators.push(simulator);
      try {
        simulator.setFault({ kind: 'echo-errors' });
      } catch (err) {
        skipped.push(`${connector}: ${(err as Error).message}`);
      }
      const id = `cn-${connector}`;
      channels.push({ id, connector, options: plantCanaries(definition.optionsSchema as JsonSchema, simulator.connectorOptions(Object.keys(SKUS)), id, '') });
    }
    nats = { servers: [NATS_URL], stream: `SR_IN_${suffix}`, deadLetterStream: `SR_DLQ_${suffix}`, subjectPrefix: `t${suffix}`, consumer: `core_${suffix}`, ackWaitMs: 3000 };
    process.env[ENV_ADMIN] = ADMIN_TOKEN;
    const raw = {
      nats,
      database: { url: url.toString(), poolSize: 4 },
      http: { host: '127.0.0.1', port: 0, tokens: [{ token: READ_TOKEN, scope: 'read' }, { token: { env: ENV_ADMIN }, scope: 'admin' }] },
      dispatch: { maxAttempts: 2, backoffBaseMs: 20, backoffMaxMs: 100, reconcileIntervalMs: 600_000, pushTimeoutMs: 3000 },
      channels,
    };
    dir = await mkdtemp(join(tmpdir(), 'sr-canary-'));
    file = join(dir, 'stockrelay.json');
    await writeFile(file, JSON.stringify(raw));
    const checked = validateConfigObject(raw, process.env, file);
    if (!checked.ok) throw new Error(`canary config invalid: ${JSON.stringify(checked.problems)}`);
    natsSettings = checked.loaded.config.nats;
    const record = (level: string) => (msg: string, data?: Record<string, unknown>) => void lines.push(JSON.stringify({ level, msg, ...data }));
    const logger: Logger = { debug: record('debug'), info: record('info'), warn: record('warn'), error: record('error') };
    hub = await startHub({ loaded: checked.loaded }, { logger, pollIntervalMs: 200 });
  }, 120_000);

  afterAll(async () => {
    await hub?.stop();
    await Promise.all(simulators.map((s) => s.close().catch(() => undefined)));
    if (natsSettings) {
      const bus = await NatsBus.connect(natsSettings);
      await bus.deleteTopology();
      await bus.close();
    }
    await database?.drop();
    if (dir) await rm(dir, { recursive: true, force: true });
    delete process.env[ENV_ADMIN];
  });

  it('holds across failing pushes, dead letters, the read and admin APIs and the CLI', async () => {
    console.info(`canaries planted: ${canaries.length}; echo-errors not available: ${skipped.join('; ') || 'none'}`);
    await hub.publish({ id: 'canary:seed', type: 'stock.set', channel: 'manual', occurredAt: new Date().toISOString(), lines: Object.keys(SKUS).map((sku) => ({ sku, quantity: 5 })) });
    const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
    const read = { authorization: `Bearer ${READ_TOKEN}` };
    const answers: string[] = [];
    const fetchText = async (path: string, headers: Record<string, string>): Promise<string> => {
      const res = await fetch(`${hub.url}${path}`, { headers });
      const text = await res.text();
      answers.push(text);
      return text;
    };
    // Enough channels give up on the echoing API for the check to mean something.
    await waitFor('dead letters from the echoing channels', async () => ((JSON.parse(await fetchText('/v1/dead-letters?kind=push&limit=500', admin)) as { total: number }).total >= 4), 60_000, 500);

    const page = JSON.parse(await fetchText('/v1/dead-letters?limit=500', admin)) as { letters: Array<{ seq: number; channelId: string; reason: string }> };
    for (const letter of page.letters) await fetchText(`/v1/dead-letters/${letter.seq}`, admin);
    for (const sku of Object.keys(SKUS)) {
      await fetchText(`/v1/inventory/${sku}`, read);
      await fetchText(`/v1/inventory/${sku}`, admin);
      for (const connector of CONNECTORS) await fetchText(`/v1/why/cn-${connector}/${sku}`, admin);
    }
    await fetchText('/healthz', {});
    await fetchText('/metrics', {});
    await fetchText('/v1/alerts', read);

    const printed: string[] = [];
    const cli = async (args: string[]) => void (await main(args, (l) => printed.push(l), (l) => printed.push(l)));
    await cli(['dead-letters', 'list', '--config', file]);
    for (const letter of page.letters.slice(0, 20)) await cli(['dead-letters', 'show', String(letter.seq), '--config', file]);
    await cli(['stock', 'get', ...Object.keys(SKUS), '--config', file]);
    for (const connector of CONNECTORS) await cli(['why', `cn-${connector}`, 'CAN-1', '--config', file]);

    // The echoes did carry credentials (or the check proves nothing): they come back masked.
    expect(page.letters.some((letter) => letter.reason.includes('[redacted]'))).toBe(true);
    expect(lines.length).toBeGreaterThan(0);
    expect(printed.length).toBeGreaterThan(0);
    expect({ where: 'log lines', leaked: lines.filter((l) => leaks(l).length > 0).slice(0, 3) }).toEqual({ where: 'log lines', leaked: [] });
    expect({ where: 'API answers', leaked: answers.filter((a) => leaks(a).length > 0).map((a) => a.slice(0, 400)).slice(0, 3) }).toEqual({ where: 'API answers', leaked: [] });
    expect({ where: 'CLI output', leaked: printed.filter((p) => leaks(p).length > 0).slice(0, 3) }).toEqual({ where: 'CLI output', leaked: [] });
  }, 180_000);
});
