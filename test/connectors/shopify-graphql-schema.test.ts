import { readFileSync } from 'node:fs';
import { buildSchema, extendSchema, getOperationAST, getVariableValues, parse, validate, type GraphQLSchema } from 'graphql';
import { request } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import shopify from '../../connectors/shopify/index.ts';
import { LEVELS_QUERY, SET_QUANTITIES_MUTATION } from '../../connectors/shopify/api.ts';
import { startShopifySimulator, type ShopifySimulator } from '../../connectors/shopify/simulator.ts';
import type { ShopifyOptions } from '../../connectors/shopify/options.ts';
import { startWebhookSink } from '../../connectors/_kit/webhook-sink.ts';
import { memoryConnectorState } from '../../core/plugins/memory-connector-state.ts';
import type { ConnectorContext, ConnectorInstance, Logger } from '../../core/sdk.ts';
import { startRecordingProxy, type RecordingProxy } from '../support/recording-proxy.ts';

// Oracle: Shopify's own published schema of the Admin API (2025-01 introspection from Shopify/dev-mcp, trimmed
// to the inventory slice) plus the 2026-04 changes; see test/fixtures/vendor/shopify/SOURCE.
const fixture = (name: string): string => readFileSync(new URL(`../fixtures/vendor/shopify/${name}`, import.meta.url), 'utf8');
const published = fixture('admin-2025-01-inventory.graphql');
const schema2026: GraphQLSchema = extendSchema(buildSchema(published), parse(fixture('admin-2026-04-inventory-delta.graphql')));
const orderExample = JSON.parse(fixture('order-create.json')) as Record<string, unknown> & { line_items: Array<Record<string, unknown>> };

const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {} };
const context = (): ConnectorContext => ({ channelId: 'shopify-test', logger: quiet, signal: new AbortController().signal, state: memoryConnectorState(), registerSecret: () => {} });
const noSignal = (): AbortSignal => new AbortController().signal;
const fast = { latency: { p50: 0, p99: 0 } };

interface Captured {
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: { query: string; variables?: Record<string, unknown>; operationName?: string };
}

const captured = (proxy: RecordingProxy): Captured[] =>
  proxy.requests.map((r) => ({ path: r.path, headers: r.headers, body: JSON.parse(r.body) as Captured['body'] }));

/** Errors of a request against the schema: document validation, then the variables against their declared types. */
function requestErrors(schema: GraphQLSchema, body: Captured['body']): string[] {
  const document = parse(body.query);
  const invalid = validate(schema, document);
  if (invalid.length > 0) return invalid.map((e) => e.message);
  const operation = getOperationAST(document, body.operationName);
  if (!operation) return ['no operation'];
  return (getVariableValues(schema, operation.variableDefinitions ?? [], body.variables ?? {}).errors ?? []).map((e) => e.message);
}

describe("the connector's GraphQL documents against Shopify's Admin API schema", () => {
  it('the inventorySetQuantities mutation is valid for 2026-04', () => {
    expect(validate(schema2026, parse(SET_QUANTITIES_MUTATION)).map((e) => e.message)).toEqual([]);
  });

  it('the inventory level query is valid for 2026-04', () => {
    expect(validate(schema2026, parse(LEVELS_QUERY)).map((e) => e.message)).toEqual([]);
  });

  it('the inventory level query is valid against the published 2025-01 schema as it stands', () => {
    expect(validate(buildSchema(published), parse(LEVELS_QUERY)).map((e) => e.message)).toEqual([]);
  });

  it('uses none of the compare-quantity fields that 2026-04 removed', () => {
    expect(SET_QUANTITIES_MUTATION).not.toMatch(/compareQuantity|ignoreCompareQuantity/);
  });
});

describe('every request the shopify connector sends, validated against the schema', () => {
  let sim: ShopifySimulator;
  let proxy: RecordingProxy;
  let options: ShopifyOptions;
  let connector: ConnectorInstance;

  beforeAll(async () => {
    sim = await startShopifySimulator({ ...fast, skus: { 'TEE-S': 5, 'TEE-M': 7 } });
    proxy = await startRecordingProxy(sim.url);
    options = { ...sim.connectorOptions(['TEE-S', 'TEE-M']), baseUrl: proxy.url };
    connector = await shopify.create(options, context());
  });
  afterAll(async () => {
    await connector.close?.();
    await proxy.close();
    await sim.close();
  });

  it('pushes (with and without a compare-and-set base) and reads back, each request valid, JSON, authenticated', async () => {
    await connector.push([{ sku: 'TEE-S', quantity: 3, previousQuantity: 5, version: 1 }, { sku: 'TEE-M', quantity: 1, version: 1 }], noSignal());
    // A stale write makes the connector read the current quantities back as well.
    sim.setShown('TEE-S', 9);
    await connector.push([{ sku: 'TEE-S', quantity: 2, previousQuantity: 3, version: 2 }], noSignal());
    await connector.fetchQuantities!(['TEE-S', 'TEE-M'], noSignal());
    const operations = captured(proxy).map((c) => getOperationAST(parse(c.body.query))?.operation);
    expect(operations).toEqual(expect.arrayContaining(['mutation', 'query']));
    for (const c of captured(proxy)) {
      expect(c.path).toBe('/admin/api/2026-04/graphql.json');
      expect(c.headers['content-type']).toMatch(/^application\/json/);
      expect(c.headers['x-shopify-access-token']).toBe(options.accessToken);
      expect(requestErrors(schema2026, c.body)).toEqual([]);
    }
  });
});

describe('the shopify simulator runs documents through the schema, as Shopify does', () => {
  let sim: ShopifySimulator;
  let options: ShopifyOptions;
  const post = async (body: unknown, version = '2026-04'): Promise<{ data?: Record<string, unknown> | null; errors?: Array<{ message: string; extensions?: { code?: string } }> }> => {
    const res = await request(`${sim.url}/admin/api/${version}/graphql.json`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-shopify-access-token': options.accessToken },
      body: JSON.stringify(body),
    });
    return (await res.body.json()) as never;
  };
  const item = (): string => options.skus['INK-1']!.inventoryItemId;

  beforeAll(async () => {
    sim = await startShopifySimulator({ ...fast, skus: { 'INK-1': 4, 'INK-2': 6 } });
    options = sim.connectorOptions(['INK-1', 'INK-2']);
  });
  afterAll(async () => sim.close());
  afterEach(() => sim.setFault(null));

  it('runs a mutation written with literal arguments and an alias, answering only the fields selected', async () => {
    const query = `mutation { set: inventorySetQuantities(input: { name: "available", reason: "correction", quantities: [{ inventoryItemId: "${item()}", locationId: "${options.locationId}", quantity: 11, changeFromQuantity: 4 }] }) @idempotent(key: "literal-1") { userErrors { code } } }`;
    const answer = await post({ query });
    expect(answer.errors).toBeUndefined();
    expect(answer.data).toEqual({ set: { userErrors: [] } });
    expect(sim.shown('INK-1')).toBe(11);
  });

  it('refuses a field the schema does not have, and writes nothing', async () => {
    sim.setShown('INK-1', 4);
    const query = `mutation { inventorySetQuantity(input: { name: "available", reason: "correction", quantities: [] }) @idempotent(key: "k") { userErrors { code } } }`;
    const answer = await post({ query });
    expect(answer.data ?? null).toBeNull();
    expect(answer.errors?.[0]?.message).toMatch(/inventorySetQuantity/);
    expect(sim.shown('INK-1')).toBe(4);
  });

  it('refuses compareQuantity in 2026-04 variables (removed in that version), and writes nothing', async () => {
    const answer = await post({
      query: SET_QUANTITIES_MUTATION,
      variables: { idempotencyKey: 'k2', input: { name: 'available', reason: 'correction', quantities: [{ inventoryItemId: item(), locationId: options.locationId, quantity: 1, compareQuantity: 4 }] } },
    });
    expect(answer.errors?.[0]?.extensions?.code).toBe('INVALID_VARIABLE');
    expect(sim.shown('INK-1')).toBe(4);
  });

  it('refuses a 2026-04 inventorySetQuantities without @idempotent', async () => {
    const query = `mutation($input: InventorySetQuantitiesInput!) { inventorySetQuantities(input: $input) { userErrors { code } } }`;
    const answer = await post({ query, variables: { input: { name: 'available', reason: 'correction', quantities: [{ inventoryItemId: item(), locationId: options.locationId, quantity: 2, changeFromQuantity: null }] } } });
    expect(answer.errors?.length).toBeGreaterThan(0);
    expect(sim.shown('INK-1')).toBe(4);
  });

  it('refuses changeFromQuantity and @idempotent under 2025-01, which has neither', async () => {
    const answer = await post({
      query: SET_QUANTITIES_MUTATION,
      variables: { idempotencyKey: 'k3', input: { name: 'available', reason: 'correction', quantities: [{ inventoryItemId: item(), locationId: options.locationId, quantity: 1, changeFromQuantity: 4 }] } },
    }, '2025-01');
    expect(answer.errors?.map((e) => e.message).join(' ')).toMatch(/idempotent/);
    expect(sim.shown('INK-1')).toBe(4);
  });

  it('answers item-unknown with INVALID_INVENTORY_ITEM, which the connector reports as not_listed', async () => {
    const connector = await shopify.create(options, context());
    try {
      sim.setFault({ kind: 'item-unknown', skus: ['INK-2'] });
      const results = await connector.push([{ sku: 'INK-1', quantity: 3, version: 1 }, { sku: 'INK-2', quantity: 5, version: 1 }], noSignal());
      expect(results.find((r) => r.sku === 'INK-2')).toMatchObject({ status: 'not_listed', reason: expect.stringContaining('INVALID_INVENTORY_ITEM') });
      expect(results.find((r) => r.sku === 'INK-1')).toEqual({ sku: 'INK-1', status: 'ok', quantity: 3 });
      expect(sim.shown('INK-2')).toBe(6);
    } finally {
      await connector.close?.();
    }
  });

  it('refuses the item-locked fault, which Shopify has no per-item answer for', () => {
    expect(() => sim.setFault({ kind: 'item-locked', skus: ['INK-1'] })).toThrow(/item-locked/);
  });
});

describe('shopify simulator webhooks speak from the published Order example', () => {
  it('sends order bodies with the example order’s fields, and signWebhook signs any body as Shopify does', async () => {
    const sim = await startShopifySimulator({ ...fast, skus: { 'CUP-1': 3 } });
    const connector = await shopify.create(sim.connectorOptions(['CUP-1']), context());
    const sink = await startWebhookSink((req) => connector.handleWebhook!(req, noSignal()));
    try {
      sim.setWebhookTarget!(sink.url);
      const { orderId } = await sim.placeOrder!([{ sku: 'CUP-1', qty: 2 }]);
      const [delivery] = sink.deliveries;
      const body = JSON.parse(delivery!.rawBody.toString('utf8')) as Record<string, unknown> & { line_items: Array<Record<string, unknown>> };
      expect(Object.keys(body).sort()).toEqual(Object.keys(orderExample).sort());
      expect(Object.keys(body.line_items[0]!).sort()).toEqual(Object.keys(orderExample.line_items[0]!).sort());
      expect(delivery!.events).toMatchObject([{ type: 'order.confirmed', orderId, lines: [{ sku: 'CUP-1', qty: 2 }] }]);

      const raw = Buffer.from(JSON.stringify(orderExample));
      const headers = sim.signWebhook!(raw, { 'X-Shopify-Topic': 'orders/updated' });
      expect(headers['x-shopify-topic']).toBe('orders/updated');
      const { events } = await connector.handleWebhook!({ rawBody: raw, headers, path: '', query: {} }, noSignal());
      expect(events.map((e) => e.type)).toEqual(['order.confirmed']);
    } finally {
      await sink.close();
      await connector.close?.();
      await sim.close();
    }
  });
});

describe('shopify error text stays short and never carries the token a channel echoes back', () => {
  it('an echoing error answer becomes its messages only', async () => {
    const sim = await startShopifySimulator({ ...fast, accessToken: 'shpat_canary_51c0de', skus: { 'CUP-1': 3 } });
    const connector = await shopify.create(sim.connectorOptions(['CUP-1']), context());
    try {
      sim.setFault({ kind: 'echo-errors' });
      const outcome = await connector.push([{ sku: 'CUP-1', quantity: 1, version: 1 }], noSignal()).then((r) => JSON.stringify(r), (err: unknown) => String(err));
      expect(outcome).toContain('Bad request');
      expect(outcome).not.toContain('shpat_canary_51c0de');
    } finally {
      sim.setFault(null);
      await connector.close?.();
      await sim.close();
    }
  });
});
