import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import { buildSchema, extendSchema, getOperationAST, getVariableValues, parse, validate, type GraphQLSchema } from 'graphql';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import shopify from '../../connectors/shopify/index.ts';
import { ORDER_QUERY, ORDERS_QUERY, VARIANTS_QUERY } from '../../connectors/shopify/order-queries.ts';
import { startShopifySimulator, type ShopifySimulator } from '../../connectors/shopify/simulator.ts';
import type { ShopifyOptions } from '../../connectors/shopify/options.ts';
import { startWebhookSink, type WebhookSink } from '../../connectors/_kit/webhook-sink.ts';
import { parseEvent } from '../../core/events/validate-event.ts';
import { memoryConnectorState } from '../../core/plugins/memory-connector-state.ts';
import { isThrottledError, type ChannelListing, type ConnectorContext, type ConnectorInstance, type InventoryEvent, type Logger, type OrderPage } from '../../core/sdk.ts';
import { startRecordingProxy, type RecordingProxy } from '../support/recording-proxy.ts';

// Oracle: Shopify's published GraphQL Admin schema (2025-01 introspection, trimmed; see
// test/fixtures/vendor/shopify/SOURCE) with the 2026-04 inventory changes, as the simulator serves it.
const fixture = (name: string): string => readFileSync(new URL(`../fixtures/vendor/shopify/${name}`, import.meta.url), 'utf8');
const schema: GraphQLSchema = extendSchema(
  extendSchema(buildSchema(fixture('admin-2025-01-inventory.graphql').replace(/^\s*compareQuantity: Int\n/m, '').replace(/^\s*ignoreCompareQuantity: Boolean = false\n/m, '')), parse(fixture('admin-2026-04-inventory-delta.graphql'))),
  parse(fixture('admin-2025-01-orders-variants.graphql')),
);

const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {} };
const noSignal = (): AbortSignal => new AbortController().signal;
const fast = { latency: { p50: 0, p99: 0 } };
const context = (channelId = 'shopify-main'): ConnectorContext => ({ channelId, logger: quiet, signal: noSignal(), state: memoryConnectorState(), registerSecret: () => {} });

/** Every page from `cursor` on until the connector says no more is waiting. */
/** One page, waiting out the cost bucket as the hub does when the channel throttles (earlier specs spend it). */
async function listPage(connector: ConnectorInstance, cursor: string | undefined): Promise<OrderPage> {
  for (;;) {
    try {
      return await connector.listOrders!(cursor, noSignal());
    } catch (err) {
      if (!isThrottledError(err)) throw err;
      await new Promise((resolve) => setTimeout(resolve, Math.max(100, (err as { retryAfterMs?: number }).retryAfterMs ?? 1_000)));
    }
  }
}

async function catchUp(connector: ConnectorInstance, cursor?: string): Promise<{ events: InventoryEvent[]; cursor: string; pages: number }> {
  const events: InventoryEvent[] = [];
  let pages = 0;
  for (;;) {
    const page = await listPage(connector, cursor);
    pages += 1;
    events.push(...page.events);
    cursor = page.cursor;
    if (!page.more) return { events, cursor, pages };
  }
}

async function allListings(connector: ConnectorInstance): Promise<{ listings: ChannelListing[]; pages: number }> {
  const listings: ChannelListing[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const page = await connector.listListings!(cursor, noSignal());
    pages += 1;
    listings.push(...page.listings);
    cursor = page.cursor;
  } while (cursor !== undefined);
  return { listings, pages };
}

/** Errors of a request against the schema: document validation, then the variables against their declared types. */
function requestErrors(body: { query: string; variables?: Record<string, unknown>; operationName?: string }): string[] {
  const document = parse(body.query);
  const invalid = validate(schema, document);
  if (invalid.length > 0) return invalid.map((e) => e.message);
  const operation = getOperationAST(document, body.operationName);
  if (!operation) return ['no operation'];
  return (getVariableValues(schema, operation.variableDefinitions ?? [], body.variables ?? {}).errors ?? []).map((e) => e.message);
}

describe("the catch-up and listing documents against Shopify's published Admin schema", () => {
  it.each([['orders', ORDERS_QUERY], ['order', ORDER_QUERY], ['productVariants', VARIANTS_QUERY]])('the %s query is valid', (_name, query) => {
    expect(validate(schema, parse(query)).map((e) => e.message)).toEqual([]);
  });

  it('filters on updated_at, a search field the orders query documents', () => {
    const description = schema.getQueryType()!.getFields().orders!.args.find((a) => a.name === 'query')!.description!;
    expect(description).toMatch(/\| updated_at \| time \|/);
    expect(ORDERS_QUERY).toMatch(/sortKey: UPDATED_AT/);
  });
});

describe('shopify listOrders finds what the webhooks missed, with the webhooks’ event ids', () => {
  let sim: ShopifySimulator;
  let proxy: RecordingProxy;
  let options: ShopifyOptions;
  let connector: ConnectorInstance;
  let sink: WebhookSink;

  beforeAll(async () => {
    sim = await startShopifySimulator({ ...fast, skus: { 'MUG-1': 500, 'MUG-2': 500, 'MUG-3': 500 } });
    proxy = await startRecordingProxy(sim.url);
    options = { ...sim.connectorOptions(['MUG-1', 'MUG-2', 'MUG-3']), baseUrl: proxy.url };
    connector = await shopify.create(options, context());
    sink = await startWebhookSink((req) => connector.handleWebhook!(req, noSignal()));
    sim.setWebhookTarget!(sink.url);
  });
  afterAll(async () => {
    await sink.close();
    await connector.close?.();
    await proxy.close();
    await sim.close();
  });

  it('an order placed with its webhook dropped is found on the first call, as order.confirmed with the webhook id', async () => {
    const before = sink.deliveries.length;
    const { orderId } = await sim.placeOrder!([{ sku: 'MUG-1', qty: 2 }, { sku: 'MUG-2', qty: 1 }], { drop: true });
    expect(sink.deliveries.length).toBe(before);
    const { events } = await catchUp(connector);
    const found = events.filter((e) => 'orderId' in e && e.orderId === orderId);
    expect(found).toEqual([expect.objectContaining({ id: `shopify-main:order:${orderId}:confirmed`, type: 'order.confirmed', lines: [{ sku: 'MUG-1', qty: 2 }, { sku: 'MUG-2', qty: 1 }] })]);
    for (const event of found) expect(parseEvent(JSON.stringify(event), event.type)).toMatchObject({ ok: true });
  });

  it('gives exactly the events the webhooks gave for an order placed, partly refunded and cancelled', async () => {
    const { orderId } = await sim.placeOrder!([{ sku: 'MUG-1', qty: 3 }, { sku: 'MUG-3', qty: 2 }]);
    await sim.refundOrder(orderId, [{ sku: 'MUG-1', qty: 1, restockType: 'cancel' }]);
    await sim.refundOrder(orderId, [{ sku: 'MUG-3', qty: 1, restockType: 'return' }, { sku: 'MUG-1', qty: 1, restockType: 'no_restock' }]);
    await sim.cancelOrder(orderId);
    // The refunds/create bodies are Shopify's example refund with this refund's ids and lines.
    const refundExample = JSON.parse(fixture('refund-create.json')) as Record<string, unknown>;
    const refundBodies = sink.deliveries.map((d) => JSON.parse(d.rawBody.toString('utf8')) as Record<string, unknown>).filter((b) => String(b.admin_graphql_api_id).includes('/Refund/') && String(b.order_id) === orderId);
    expect(refundBodies).toHaveLength(2);
    for (const body of refundBodies) expect(Object.keys(body).sort()).toEqual(Object.keys(refundExample).sort());
    const byWebhook = new Map(sink.events().filter((e) => 'orderId' in e && e.orderId === orderId).map((e) => [e.id, e]));
    expect([...byWebhook.values()].map((e) => e.type).sort()).toEqual(['order.cancelled', 'order.cancelled', 'order.confirmed', 'order.returned']);
    const { events } = await catchUp(connector);
    const byPoll = new Map(events.filter((e) => 'orderId' in e && e.orderId === orderId).map((e) => [e.id, e]));
    expect([...byPoll.keys()].sort()).toEqual([...byWebhook.keys()].sort());
    for (const [id, event] of byPoll) expect(event).toEqual(byWebhook.get(id));
  });

  it('a cancellation and a refund whose webhooks were dropped are found with the ids their webhooks would have had', async () => {
    const { orderId } = await sim.placeOrder!([{ sku: 'MUG-2', qty: 2 }]);
    const { refundId } = await sim.refundOrder(orderId, [{ sku: 'MUG-2', qty: 1, restockType: 'return' }], { drop: true });
    await sim.cancelOrder(orderId, { drop: true });
    const { events } = await catchUp(connector);
    expect(events.filter((e) => 'orderId' in e && e.orderId === orderId).map((e) => e.id).sort()).toEqual([
      `shopify-main:order:${orderId}:cancelled`,
      `shopify-main:order:${orderId}:confirmed`,
      `shopify-main:order:${orderId}:returned:${refundId}`,
    ]);
  });

  it('pages through more orders than one page holds, each order found, each request valid against the schema', async () => {
    const placed = new Set<string>();
    for (let i = 0; i < 65; i++) placed.add((await sim.placeOrder!([{ sku: 'MUG-3', qty: 1 }], { drop: true })).orderId);
    const { events, pages } = await catchUp(connector);
    expect(pages).toBeGreaterThan(2);
    const found = new Set(events.filter((e) => e.type === 'order.confirmed').map((e) => (e as { orderId: string }).orderId));
    for (const id of placed) expect(found.has(id)).toBe(true);
    for (const r of proxy.requests) {
      expect(r.headers['x-shopify-access-token']).toBe(options.accessToken);
      expect(requestErrors(JSON.parse(r.body) as never)).toEqual([]);
    }
  });

  it('the next poll from the returned cursor finds an order placed after the last one, and the overlap re-reads recent ones under the same ids', async () => {
    // An order of its own before the first pass, so the overlap has something to re-read whatever ran before.
    await sim.placeOrder!([{ sku: 'MUG-1', qty: 1 }], { drop: true });
    const first = await catchUp(connector);
    expect(first.events.length).toBeGreaterThan(0);
    const { orderId } = await sim.placeOrder!([{ sku: 'MUG-1', qty: 1 }], { drop: true });
    const next = await catchUp(connector, first.cursor);
    expect(next.events.map((e) => e.id)).toContain(`shopify-main:order:${orderId}:confirmed`);
    // Orders of the previous pass that fall in the overlap come back with the ids they had: they count once.
    const earlier = new Set(first.events.map((e) => e.id));
    expect(next.events.some((e) => earlier.has(e.id))).toBe(true);
  });

  it('filters by the time in the search query: a cursor past every order finds none', async () => {
    const future = Buffer.from(JSON.stringify({ v: 1, since: new Date(Date.now() + 3_600_000).toISOString() })).toString('base64url');
    const page = await listPage(connector, future);
    expect(page.events).toEqual([]);
    expect(page.more).toBe(false);
  });
});

describe('the shopify simulator serves the orders query as Shopify does', () => {
  let sim: ShopifySimulator;
  let options: ShopifyOptions;
  const post = async (body: unknown, token = options.accessToken): Promise<{ status: number; json: { data?: Record<string, unknown> | null; errors?: unknown; extensions?: Record<string, unknown> } }> => {
    const res = await request(`${sim.url}/admin/api/2026-04/graphql.json`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-shopify-access-token': token }, body: JSON.stringify(body) });
    return { status: res.statusCode, json: (await res.body.json()) as never };
  };

  beforeAll(async () => {
    sim = await startShopifySimulator({ ...fast, skus: { 'PEN-1': 10 } });
    options = sim.connectorOptions(['PEN-1']);
  });
  afterAll(async () => sim.close());

  it('refuses a wrong access token with 401', async () => {
    const { status } = await post({ query: ORDERS_QUERY, variables: { first: 5, query: '' } }, 'shpat_wrong');
    expect(status).toBe(401);
  });

  it('refuses a document above the single-query cost limit with MAX_COST_EXCEEDED', async () => {
    const { json } = await post({ query: ORDERS_QUERY.replace('lineItems(first: 10)', 'lineItems(first: 250)'), variables: { first: 30, query: '' } });
    expect(json.errors).toEqual([expect.objectContaining({ extensions: expect.objectContaining({ code: 'MAX_COST_EXCEEDED' }) })]);
  });

  it('reports a search term it does not apply as a warning, not an error', async () => {
    const { json } = await post({ query: ORDERS_QUERY, variables: { first: 5, query: 'colour:blue' } });
    expect(json.errors).toBeUndefined();
    expect(json.extensions?.search).toEqual([expect.objectContaining({ warnings: [expect.objectContaining({ field: 'colour' })] })]);
  });

  it('charges reads from the same cost bucket as writes: an empty bucket throttles the orders query', async () => {
    const small = await startShopifySimulator({ ...fast, costBucket: { restoreRate: 1, maximumAvailable: 800 }, skus: { 'PEN-1': 1 } });
    const connector = await shopify.create(small.connectorOptions(['PEN-1']), context());
    try {
      await connector.push([{ sku: 'PEN-1', quantity: 2, version: 1 }], noSignal());
      await expect(connector.listOrders!(undefined, noSignal())).rejects.toSatisfy(isThrottledError);
    } finally {
      await connector.close?.();
      await small.close();
    }
  });
});

describe('shopify listListings reads every variant as a listing whose mapping pushes', () => {
  it('lists every SKU over several pages, with gids the options accept, and pushing through those mappings lands', async () => {
    const skus = Object.fromEntries(Array.from({ length: 130 }, (_, i) => [`SKU-${String(i).padStart(3, '0')}`, i]));
    const sim = await startShopifySimulator({ ...fast, skus });
    const bare = { ...sim.connectorOptions([]), skus: {} };
    const reader = await shopify.create(bare, context());
    try {
      const { listings, pages } = await allListings(reader);
      expect(pages).toBe(2);
      expect(listings.map((l) => l.sku).sort()).toEqual(Object.keys(skus).sort());
      for (const l of listings) expect(l.quantity).toBe(skus[l.sku]);
      const mapped: ShopifyOptions = { ...bare, skus: Object.fromEntries(listings.map((l) => [l.sku, l.mapping as unknown as ShopifyOptions['skus'][string]])) };
      const check = new Ajv({ allErrors: true, strict: false }).compile(shopify.optionsSchema);
      expect(check(mapped), JSON.stringify(check.errors)).toBe(true);
      const writer = await shopify.create(mapped, context());
      try {
        const results = await writer.push(listings.slice(0, 50).map((l) => ({ sku: l.sku, quantity: 1000 + (skus[l.sku] ?? 0), previousQuantity: l.quantity, version: 1 })), noSignal());
        expect(results.every((r) => r.status === 'ok')).toBe(true);
        for (const l of listings.slice(0, 50)) expect(sim.shown(l.sku)).toBe(1000 + (skus[l.sku] ?? 0));
        // Order lines map back through the listed variant ids too.
        const { events } = await catchUpAfterOrder(sim, writer, listings[0]!.sku);
        expect(events.some((e) => e.type === 'order.confirmed' && e.lines[0]?.sku === listings[0]!.sku)).toBe(true);
      } finally {
        await writer.close?.();
      }
    } finally {
      await reader.close?.();
      await sim.close();
    }
  });
});

async function catchUpAfterOrder(sim: ShopifySimulator, connector: ConnectorInstance, sku: string): Promise<{ events: InventoryEvent[] }> {
  await sim.placeOrder!([{ sku, qty: 1 }], { drop: true });
  return catchUp(connector);
}
