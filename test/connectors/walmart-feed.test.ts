import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Ajv, type AnySchemaObject } from 'ajv';
import { afterEach, describe, expect, it } from 'vitest';
import walmart from '../../connectors/walmart/index.ts';
import { startWalmartSimulator, type WalmartSimulator, type WalmartSimulatorOptions } from '../../connectors/walmart/simulator.ts';
import type { WalmartOptions } from '../../connectors/walmart/options.ts';
import { basicAuthorization } from '../../connectors/walmart/walmart-token.ts';
import { isThrottledError, type ConnectorInstance, type Logger, type StockUpdate } from '../../core/sdk.ts';
import { memoryConnectorState } from '../../core/plugins/memory-connector-state.ts';
import { loadVendorSpec, requiredSharedHeaders, schemaErrors } from '../support/openapi-schema.ts';

/**
 * Walmart's bulk lane (the spec 1.4 inventory feed) against Walmart's own artefacts (test/fixtures/vendor/walmart/SOURCE):
 * the feed file against Walmart's InventoryFeed JSON Schema, the upload against the inventory document's
 * POST /v3/feeds, the status answers against the feeds document's PartnerFeedResponse.
 */
const inventorySpec = loadVendorSpec('walmart/inventory.json');
const feedsSpec = loadVendorSpec('walmart/feeds.json');

/** Walmart's InventoryFeed.json as published (draft-06), its `$ref`s to the two sibling files resolved by name. */
function walmartFeedSchema() {
  const file = (name: string) => JSON.parse(readFileSync(new URL(`../fixtures/vendor/walmart/inventory-feed/${name}`, import.meta.url), 'utf8')) as AnySchemaObject;
  const ajv = new Ajv({ allErrors: true, strict: false });
  ajv.addMetaSchema(createRequire(import.meta.url)('ajv/dist/refs/json-schema-draft-06.json') as AnySchemaObject);
  ajv.addSchema(file('InventoryHeader.json'), 'InventoryHeader.json');
  ajv.addSchema(file('Inventory.json'), 'Inventory.json');
  return ajv.compile(file('InventoryFeed.json'));
}

const silent: Logger = { debug() {}, info() {}, warn() {}, error() {} };
const never = new AbortController().signal;

let sim: WalmartSimulator | undefined;
let connector: ConnectorInstance | undefined;
afterEach(async () => {
  await connector?.close?.();
  await sim?.close();
  sim = undefined;
  connector = undefined;
});

async function setup(skus: string[], simOptions: WalmartSimulatorOptions = {}, tweak: (o: WalmartOptions) => WalmartOptions = (o) => o) {
  sim = await startWalmartSimulator({ latency: { p50: 0, p99: 0 }, feedProcessingMs: 20, ...simOptions });
  connector = await walmart.create(tweak({ ...sim.connectorOptions(skus), feedPollMs: 10 }), {
    channelId: 'walmart-us',
    logger: silent,
    signal: never,
    state: memoryConnectorState(),
    registerSecret: () => {},
  });
  return { sim, connector };
}

const updatesFor = (skus: readonly string[], quantity: (i: number) => number): StockUpdate[] => skus.map((sku, i) => ({ sku, quantity: quantity(i), version: 1 }));

/** A call made straight to the simulator with a token of its own, for what the connector never sends. */
async function rawCall(simulator: WalmartSimulator, method: string, path: string, body?: FormData | string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Headers; body: unknown }> {
  const options = simulator.connectorOptions([]);
  const basic = basicAuthorization(options.clientId, options.clientSecret);
  const common = { 'wm_qos.correlation_id': crypto.randomUUID(), 'wm_svc.name': 'Walmart Marketplace', accept: 'application/json', authorization: basic };
  const token = (await (
    await fetch(`${simulator.url}/v3/token`, { method: 'POST', headers: { ...common, 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=client_credentials' })
  ).json()) as { access_token: string };
  // fetch sets multipart/form-data with its boundary for a FormData body; the specs want a Content-Type on GETs too.
  const contentType: Record<string, string> = body instanceof FormData ? {} : { 'content-type': 'application/json' };
  const res = await fetch(`${simulator.url}${path}`, { method, headers: { ...common, ...contentType, 'wm_sec.access_token': token.access_token, ...headers }, body });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? (JSON.parse(text) as unknown) : undefined };
}

const feedForm = (file: string): FormData => {
  const form = new FormData();
  form.set('file', new Blob([file], { type: 'application/json' }), 'inventory.json');
  return form;
};

/** Polls the simulator's status call until the feed is done (the simulator processes feeds in a few ms). */
async function settledStatus(simulator: WalmartSimulator, feedId: string, query = ''): Promise<Record<string, unknown>> {
  for (;;) {
    const res = await rawCall(simulator, 'GET', `/v3/feeds/${encodeURIComponent(feedId)}${query}`);
    const body = res.body as { feedStatus?: string };
    if (res.status === 200 && (body.feedStatus === 'PROCESSED' || body.feedStatus === 'ERROR')) return res.body as Record<string, unknown>;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('walmart bulk lane: the feed as Walmart defines it', () => {
  it('uploads one multipart feed whose file validates against Walmart\'s InventoryFeed schema', async () => {
    const { sim, connector } = await setup(['S1', 'S2', 'S3']);
    await connector.pushBulk!(updatesFor(['S1', 'S2', 'S3'], (i) => 10 + i), never);

    const [feed, ...more] = sim.inventoryFeeds();
    expect(more).toHaveLength(0);
    const validate = walmartFeedSchema();
    const file = JSON.parse(feed!.file) as unknown;
    expect(validate(file), schemaErrors(validate)).toBe(true);
    expect(file).toEqual({
      InventoryHeader: { version: '1.4' },
      Inventory: ['S1', 'S2', 'S3'].map((sku, i) => ({ sku: sim.walmartSku(sku), quantity: { unit: 'EACH', amount: 10 + i } })),
    });
  });

  it('sends the upload with the spec\'s query, multipart Content-Type and every header the specs mark required', async () => {
    const { sim, connector } = await setup(['S1']);
    await connector.pushBulk!(updatesFor(['S1'], () => 4), never);

    const calls = sim.apiExchanges().filter((c) => c.path.startsWith('/v3/feeds'));
    const upload = calls.find((c) => c.method === 'POST');
    expect(upload?.query).toEqual({ feedType: 'inventory' });
    expect(String(upload?.headers['content-type'])).toMatch(/^multipart\/form-data; boundary=/);
    const required = new Set([...requiredSharedHeaders(inventorySpec.document), ...requiredSharedHeaders(feedsSpec.document)]);
    for (const call of calls) for (const name of required) expect(call.headers[name], `${call.method} ${call.path}: ${name}`).toBeTruthy();
    const feedId = inventorySpec.schema('#/components/schemas/FeedId');
    expect(feedId(upload?.response), schemaErrors(feedId)).toBe(true);
  });

  it('answers every status call in the shape of the feeds document\'s PartnerFeedResponse', async () => {
    const skus = Array.from({ length: 60 }, (_, i) => `P${i}`);
    const { sim, connector } = await setup(skus, { feedProcessingMs: 60 });
    await connector.pushBulk!(updatesFor(skus, () => 2), never);

    const validate = feedsSpec.schema('#/components/schemas/PartnerFeedResponse');
    const statuses = sim.apiExchanges().filter((c) => c.method === 'GET' && c.path.startsWith('/v3/feeds/'));
    expect(statuses.length).toBeGreaterThan(1);
    for (const status of statuses) expect(validate(status.response), schemaErrors(validate)).toBe(true);
    const details = statuses.filter((c) => c.query.includeDetails === 'true');
    // 60 lines at the documented 50 a page: two pages.
    expect(details.map((c) => c.query.offset)).toEqual(['0', '50']);
  });

  it('reports a file that fails Walmart\'s schema as a failed feed with a feed-level data error, in the documented shape', async () => {
    sim = await startWalmartSimulator({ latency: { p50: 0, p99: 0 }, feedProcessingMs: 5, skus: { S1: 3 } });
    const upload = await rawCall(sim, 'POST', '/v3/feeds?feedType=inventory', feedForm(JSON.stringify({ InventoryHeader: { version: '1.4' }, Inventory: [{ sku: 'S1', quantity: { unit: 'BOX', amount: 1 } }] })));
    expect(upload.status).toBe(200);
    const status = await settledStatus(sim, (upload.body as { feedId: string }).feedId);
    const validate = feedsSpec.schema('#/components/schemas/PartnerFeedResponse');
    expect(validate(status), schemaErrors(validate)).toBe(true);
    expect(status).toMatchObject({ feedStatus: 'ERROR', ingestionErrors: { ingestionError: [expect.objectContaining({ type: 'DATA_ERROR' })] } });
    expect(sim.shown('S1')).toBe(3);
  });

  it('refuses what Walmart refuses at the door: a body that is not multipart, and a status page over 50 lines', async () => {
    sim = await startWalmartSimulator({ latency: { p50: 0, p99: 0 }, feedProcessingMs: 5, skus: { S1: 3 } });
    expect((await rawCall(sim, 'POST', '/v3/feeds?feedType=inventory', JSON.stringify({ InventoryHeader: { version: '1.4' }, Inventory: [] }))).status).toBe(415);
    const upload = await rawCall(sim, 'POST', '/v3/feeds?feedType=inventory', feedForm(JSON.stringify({ InventoryHeader: { version: '1.4' }, Inventory: [{ sku: 'S1', quantity: { unit: 'EACH', amount: 1 } }] })));
    const feedId = encodeURIComponent((upload.body as { feedId: string }).feedId);
    expect((await rawCall(sim, 'GET', `/v3/feeds/${feedId}?includeDetails=true&offset=0&limit=51`)).status).toBe(400);
  });
});

describe('walmart bulk lane: results', () => {
  it('converges every quantity and returns exactly one result per update, paging through the line statuses', async () => {
    const skus = Array.from({ length: 120 }, (_, i) => `B${i}`);
    const { sim, connector } = await setup(skus);
    const results = await connector.pushBulk!(updatesFor(skus, (i) => i % 7), never);

    expect(results).toHaveLength(skus.length);
    expect(new Set(results.map((r) => r.sku))).toEqual(new Set(skus));
    for (const result of results) expect(result.status).toBe('ok');
    for (const [i, sku] of skus.entries()) expect(sim.shown(sku)).toBe(i % 7);
  });

  it('returns not_listed for a SKU the seller has no Walmart item for, and applies the rest', async () => {
    const { sim, connector } = await setup(['S1', 'S2'], {}, (o) => ({ ...o, skus: { ...o.skus, GHOST: 'GHOST-ON-WALMART' } }));
    const results = await connector.pushBulk!(updatesFor(['S1', 'GHOST', 'S2'], () => 6), never);

    expect(results).toHaveLength(3);
    expect(results.find((r) => r.sku === 'GHOST')).toMatchObject({ status: 'not_listed' });
    expect(results.filter((r) => r.status === 'ok').map((r) => r.sku).sort()).toEqual(['S1', 'S2']);
    expect(sim.shown('S1')).toBe(6);
  });

  it('returns not_listed for a hub SKU with no Walmart SKU mapped, without sending it', async () => {
    const { sim, connector } = await setup(['S1']);
    const results = await connector.pushBulk!(updatesFor(['S1', 'UNMAPPED'], () => 1), never);

    expect(results.find((r) => r.sku === 'UNMAPPED')).toMatchObject({ status: 'not_listed' });
    expect(sim.inventoryFeeds().map((f) => f.file).join()).not.toContain('UNMAPPED');
  });
});

describe('walmart bulk lane: limits and cancellation', () => {
  it('throws a ThrottledError carrying the wait when Walmart throttles the upload', async () => {
    const { connector } = await setup(['S1'], { feedRateLimit: { perSecond: 1 / 3600, burst: 1 } });
    await connector.pushBulk!(updatesFor(['S1'], () => 1), never);

    const err = await connector.pushBulk!(updatesFor(['S1'], () => 2), never).catch((e: unknown) => e);
    expect(isThrottledError(err)).toBe(true);
    expect((err as { retryAfterMs?: number }).retryAfterMs).toBeGreaterThan(0);
  });

  it('stops polling and rejects when the signal aborts', async () => {
    const { sim, connector } = await setup(['S1'], { feedProcessingMs: 600_000 });
    const controller = new AbortController();
    const pending = connector.pushBulk!(updatesFor(['S1'], () => 1), controller.signal);
    const statusCalls = () => sim.apiExchanges().filter((c) => c.method === 'GET' && c.path.startsWith('/v3/feeds/')).length;
    while (statusCalls() === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    controller.abort();

    await expect(pending).rejects.toThrow();
    const seen = statusCalls();
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(statusCalls()).toBe(seen);
  });

  it('keeps polling through a failed status call: the feed is already with Walmart', async () => {
    const { sim, connector } = await setup(['S1'], { feedProcessingMs: 200 });
    const pending = connector.pushBulk!(updatesFor(['S1'], () => 8), never);
    while (!sim.apiExchanges().some((c) => c.method === 'POST' && c.path === '/v3/feeds')) await new Promise((resolve) => setTimeout(resolve, 5));
    sim.setFault({ kind: 'server-error', status: 503 });
    while (sim.stats().failed === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    sim.setFault(null);

    expect(await pending).toEqual([{ sku: 'S1', status: 'ok', quantity: 8 }]);
    expect(sim.shown('S1')).toBe(8);
  });

  it('enforces Walmart\'s 10 inventory feeds an hour: the eleventh upload in a row gets 429 with Retry-After', async () => {
    sim = await startWalmartSimulator({ latency: { p50: 0, p99: 0 }, feedProcessingMs: 5, skus: { S1: 3 } });
    const file = JSON.stringify({ InventoryHeader: { version: '1.4' }, Inventory: [{ sku: 'S1', quantity: { unit: 'EACH', amount: 1 } }] });
    const answers: number[] = [];
    for (let i = 0; i < 11; i++) answers.push((await rawCall(sim, 'POST', '/v3/feeds?feedType=inventory', feedForm(file))).status);

    expect(answers.slice(0, 10)).toEqual(Array(10).fill(200));
    const throttled = await rawCall(sim, 'POST', '/v3/feeds?feedType=inventory', feedForm(file));
    expect(answers[10]).toBe(429);
    expect(throttled.status).toBe(429);
    expect(Number(throttled.headers.get('retry-after'))).toBeGreaterThan(0);
  });
});
