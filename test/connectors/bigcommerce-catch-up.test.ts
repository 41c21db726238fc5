import { readFileSync } from 'node:fs';
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import bigcommerce from '../../connectors/bigcommerce/index.ts';
import { listingsOfProduct } from '../../connectors/bigcommerce/list-listings.ts';
import { ORDERS_PAGE } from '../../connectors/bigcommerce/list-orders.ts';
import type { BigCommerceOptions } from '../../connectors/bigcommerce/options.ts';
import { startBigCommerceSimulator, type BigCommerceSimulator, type BigCommerceSimulatorOptions } from '../../connectors/bigcommerce/simulator.ts';
import { parseEvent } from '../../core/events/validate-event.ts';
import { memoryConnectorState } from '../../core/plugins/memory-connector-state.ts';
import { validateConnectorOptions } from '../../core/plugins/validate-connector-options.ts';
import type { ConnectorInstance, InventoryEvent, WebhookRequest } from '../../core/sdk.ts';
import { loadOpenApiContract } from '../support/openapi-contract.ts';
import { startRecordingProxy, type RecordedRequest } from '../support/recording-proxy.ts';
import { readCatchUpPass } from '../support/catch-up-pass.ts';

/**
 * Missed-order catch-up (listOrders) and onboarding (listListings) for BigCommerce, against its simulator and the
 * orders v2 and catalog v3 OpenAPI documents BigCommerce publishes (test/fixtures/vendor/bigcommerce/SOURCE).
 */
const fixture = (name: string) => new URL(`../fixtures/vendor/bigcommerce/${name}`, import.meta.url);
const STORE = 'simstore';
const orders = loadOpenApiContract(fixture('orders.v2.trimmed.json'), { basePath: `/stores/${STORE}/v2` });
const catalog = loadOpenApiContract(fixture('catalog-products.v3.trimmed.json'), { basePath: `/stores/${STORE}/v3` });
const createdExample = readFileSync(fixture('webhook-store_order_created.json'), 'utf8');

type Doc = { paths: Record<string, { parameters?: Array<{ $ref?: string; name?: string }>; get: { parameters?: Array<{ $ref?: string; name?: string }> } }>; components: { parameters: Record<string, { name: string }>; schemas: Record<string, unknown> } };
const readDoc = (name: string): Doc => JSON.parse(readFileSync(fixture(name), 'utf8')) as Doc;
/** The query parameter names a GET operation of the document defines. */
const documentedQuery = (doc: Doc, path: string): Set<string> =>
  new Set([...(doc.paths[path]!.parameters ?? []), ...(doc.paths[path]!.get.parameters ?? [])].map((p) => (p.$ref ? doc.components.parameters[p.$ref.split('/').pop()!]!.name : p.name!)));

const quiet = { debug() {}, info() {}, warn() {}, error() {} };
const signal = new AbortController().signal;
const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanup.length) await cleanup.pop()!();
});

async function connectorFor(options: BigCommerceOptions): Promise<ConnectorInstance> {
  const connector = await bigcommerce.create(options, { channelId: 'bc-main', logger: quiet, signal, state: memoryConnectorState(), registerSecret: () => {} });
  cleanup.push(async () => connector.close?.());
  return connector;
}

async function setup(simOptions: BigCommerceSimulatorOptions = {}, skus = ['BOOT', 'SOCK']) {
  const sim: BigCommerceSimulator = await startBigCommerceSimulator({ latency: { p50: 0, p99: 0 }, skus: { BOOT: 50, SOCK: 50 }, quota: 5000, ...simOptions });
  cleanup.push(sim.close);
  const proxy = await startRecordingProxy(sim.url);
  cleanup.push(proxy.close);
  const options = { ...sim.connectorOptions(skus), baseUrl: proxy.url };
  return { sim, proxy, options, connector: await connectorFor(options) };
}

/** The webhook BigCommerce sends for an order: its own example body, naming this order, signed as it signs. */
const webhookFor = (sim: BigCommerceSimulator, orderId: string): WebhookRequest => {
  const body = JSON.stringify({ ...JSON.parse(createdExample), data: { type: 'order', id: Number(orderId) } });
  const rawBody = Buffer.from(body);
  return { rawBody, headers: sim.signWebhook!(rawBody), path: '', query: {} };
};

const readPass = (connector: ConnectorInstance, cursor?: string) => readCatchUpPass(connector, cursor, signal);

/** The channel order id of an order event. */
const orderIdOf = (event: InventoryEvent): string | undefined => ('orderId' in event ? event.orderId : undefined);

const listCalls = (requests: readonly RecordedRequest[]) => requests.filter((r) => r.path === `/stores/${STORE}/v2/orders`);

/**
 * Problems of an order list request against the document. The `sort` parameter's schema enumerates the bare field
 * names while its description says "To specify the direction, add `:asc` or `:desc` to the end": the direction is
 * checked against the description and the field against the enum.
 */
const orderListProblems = (call: RecordedRequest): string[] => {
  const url = new URL(call.url, 'http://x');
  const [field, direction] = (url.searchParams.get('sort') ?? 'id').split(':');
  const problems = direction === undefined || ['asc', 'desc'].includes(direction) ? [] : [`sort direction ${direction} is not asc or desc`];
  url.searchParams.set('sort', field!);
  return [...problems, ...orders.checkRequest({ ...call, url: url.pathname + url.search, query: url.searchParams })];
};

describe('BigCommerce order catch-up (listOrders)', () => {
  it('finds an order whose webhook was lost for good, with the event id its webhook gives', async () => {
    const { sim, connector } = await setup();
    const { orderId } = await sim.placeOrder!([{ sku: 'BOOT', qty: 2 }, { sku: 'SOCK', qty: 1 }], { drop: true });
    expect(sim.sentWebhooks()).toEqual([]);
    const { events } = await readPass(connector);
    const fromWebhook = (await connector.handleWebhook!(webhookFor(sim, orderId), signal)).events;
    expect(events).toEqual([{ id: `bc-main:order:${orderId}:confirmed`, type: 'order.confirmed', channel: 'bc-main', occurredAt: expect.any(String), orderId, lines: [{ sku: 'BOOT', qty: 2 }, { sku: 'SOCK', qty: 1 }] }]);
    expect(events).toEqual(fromWebhook);
    for (const event of events) expect(parseEvent(JSON.stringify(event), event.type)).toMatchObject({ ok: true });
  });

  it('gives a cancelled order the confirmation and cancellation ids its status webhook gives', async () => {
    const { sim, connector } = await setup();
    const { orderId } = await sim.placeOrder!([{ sku: 'BOOT', qty: 3 }], { drop: true });
    await sim.cancelOrder(orderId, { drop: true });
    const { events } = await readPass(connector);
    expect(events.map((e) => [e.id, e.type])).toEqual([
      [`bc-main:order:${orderId}:confirmed`, 'order.confirmed'],
      [`bc-main:order:${orderId}:cancelled`, 'order.cancelled'],
    ]);
    expect((await connector.handleWebhook!(webhookFor(sim, orderId), signal)).events.map((e) => e.id)).toEqual(events.map((e) => e.id));
  });

  it('starts its first pass a little before now, and sends only parameters the orders document defines', async () => {
    const { proxy, connector } = await setup();
    const before = Date.now();
    await connector.listOrders!(undefined, signal);
    const [call] = listCalls(proxy.requests);
    const since = Date.parse(call!.query.get('min_date_modified')!);
    expect(before - since).toBeGreaterThanOrEqual(60_000);
    expect(before - since).toBeLessThanOrEqual(15 * 60_000);
    expect(call!.query.get('sort')).toBe('date_modified:asc');
    const documented = documentedQuery(readDoc('orders.v2.trimmed.json'), '/orders');
    for (const name of call!.query.keys()) expect(documented.has(name), name).toBe(true);
    expect(orderListProblems(call!)).toEqual([]);
  });

  it('reads a burst of orders modified in the same second through every page, each once, then says no more', async () => {
    const { sim, proxy, connector } = await setup();
    const placed = new Set<string>();
    for (let i = 0; i < ORDERS_PAGE * 2 + 7; i++) placed.add((await sim.recordOrder([{ sku: i % 2 ? 'BOOT' : 'SOCK', qty: 1 }])).orderId);
    const first = await connector.listOrders!(undefined, signal);
    expect(first.more).toBe(true);
    const rest = await readPass(connector, first.cursor);
    const found = new Set([...first.events, ...rest.events].map(orderIdOf));
    expect(found).toEqual(placed);
    expect(rest.pages.length).toBeLessThanOrEqual(6);
    // Every request of the pass fits the orders document: pages, limits and the date filter.
    for (const call of listCalls(proxy.requests)) expect(orderListProblems(call)).toEqual([]);
  });

  it('resumes from its cursor: the next pass finds orders placed or changed since, reaching back a little', async () => {
    const { sim, proxy, connector } = await setup();
    const { orderId: early } = await sim.placeOrder!([{ sku: 'BOOT', qty: 1 }], { drop: true });
    const pass = await readPass(connector);
    expect(pass.events.map(orderIdOf)).toEqual([early]);
    const { orderId: later } = await sim.placeOrder!([{ sku: 'SOCK', qty: 1 }], { drop: true });
    await sim.cancelOrder(early, { drop: true });
    const next = await readPass(connector, pass.cursor);
    expect(new Set(next.events.map((e) => e.id))).toEqual(new Set([`bc-main:order:${early}:confirmed`, `bc-main:order:${early}:cancelled`, `bc-main:order:${later}:confirmed`]));
    // The second pass reads from before the first one's cursor (the overlap), never after it.
    const [firstCall, secondCall] = listCalls(proxy.requests).map((r) => Date.parse(r.query.get('min_date_modified')!));
    expect(secondCall!).toBeGreaterThan(firstCall!);
    expect(secondCall!).toBeLessThan(Date.now() - 60_000);
  });

  it('refuses a cursor it did not write, naming it', async () => {
    const { connector } = await setup();
    await expect(connector.listOrders!('not-a-cursor', signal)).rejects.toThrow(/cursor/);
  });
});

describe('BigCommerce simulator: the order list as the orders document describes it', () => {
  const headers = (token: string) => ({ 'x-auth-token': token, accept: 'application/json', 'content-type': 'application/json' });

  it('answers GET /v2/orders with the documented collection, filtered by min_date_modified and paged', async () => {
    const { sim, options } = await setup();
    for (let i = 0; i < 3; i++) await sim.recordOrder([{ sku: 'BOOT', qty: 1 }]);
    const get = async (query: string) => {
      const res = await request(`${sim.url}/stores/${STORE}/v2/orders?${query}`, { headers: headers(options.accessToken) });
      return { status: res.statusCode, body: (await res.body.json()) as Array<{ id: number }>, left: Number(res.headers['x-rate-limit-requests-left']) };
    };
    const all = await get('sort=date_modified:asc&limit=2&page=1');
    expect(orders.checkResponse('GET', `/stores/${STORE}/v2/orders`, all.status, all.body)).toEqual([]);
    expect(all.body).toHaveLength(2);
    expect((await get('sort=date_modified:asc&limit=2&page=2')).body).toHaveLength(1);
    const future = new Date(Date.now() + 3_600_000).toUTCString().replace('GMT', '+0000');
    expect((await get(`min_date_modified=${encodeURIComponent(future)}`)).body).toEqual([]);
    // The list spends the same per-window quota as every other call.
    const again = await get('limit=1');
    expect(again.left).toBeLessThan(all.left);
  });

  it('refuses an unreadable date or an undocumented sort with 400 in the v2 error shape', async () => {
    const { sim, options } = await setup();
    for (const query of ['min_date_modified=yesterday', 'sort=total:asc', 'limit=0']) {
      const res = await request(`${sim.url}/stores/${STORE}/v2/orders?${query}`, { headers: headers(options.accessToken) });
      expect({ query, status: res.statusCode }).toEqual({ query, status: 400 });
      expect(await res.body.json()).toEqual([{ status: 400, message: expect.any(String) }]);
    }
    const unauthorized = await request(`${sim.url}/stores/${STORE}/v2/orders`, { headers: headers('wrong') });
    await unauthorized.body.dump();
    expect(unauthorized.statusCode).toBe(401);
  });
});

describe('BigCommerce onboarding (listListings)', () => {
  it('lists each variant with the mapping push needs, and a channel mapped from it converges', async () => {
    const { sim, proxy, options } = await setup({ skus: { BOOT: 4, SOCK: 9 } });
    const blank = await connectorFor({ ...options, skus: {} });
    const page = await blank.listListings!(undefined, signal);
    expect(page.cursor).toBeUndefined();
    expect(page.listings).toEqual(
      expect.arrayContaining([
        { sku: 'BOOT', mapping: { variantId: options.skus.BOOT!.variantId }, quantity: 4, title: expect.any(String) },
        { sku: 'SOCK', mapping: { variantId: options.skus.SOCK!.variantId }, quantity: 9, title: expect.any(String) },
      ]),
    );
    const skus = Object.fromEntries(page.listings.map((l) => [l.sku, l.mapping])) as BigCommerceOptions['skus'];
    const mapped = { ...options, skus };
    expect(validateConnectorOptions(bigcommerce, mapped)).toMatchObject({ ok: true });
    const pushing = await connectorFor(mapped);
    const results = await pushing.push([{ sku: 'BOOT', quantity: 11, version: 1 }, { sku: 'SOCK', quantity: 12, version: 1 }], signal);
    expect(results.map((r) => r.status)).toEqual(['ok', 'ok']);
    expect([sim.shown('BOOT'), sim.shown('SOCK')]).toEqual([11, 12]);
    const call = proxy.requests.find((r) => r.path === `/stores/${STORE}/v3/catalog/products`)!;
    // `include` is a form-style array (comma-separated, explode false): its items are held against the document's enum.
    const includeEnum = (readDoc('catalog-products.v3.trimmed.json').components.schemas.IncludeParamBase as { items: { enum: string[] } }).items.enum;
    for (const item of call.query.get('include')!.split(',')) expect(includeEnum).toContain(item);
    const url = new URL(call.url, 'http://x');
    url.searchParams.delete('include');
    expect(catalog.checkRequest({ ...call, url: url.pathname + url.search, query: url.searchParams })).toEqual([]);
    const documented = documentedQuery(readDoc('catalog-products.v3.trimmed.json'), '/catalog/products');
    for (const name of call.query.keys()) expect(documented.has(name), name).toBe(true);
  });

  it('pages through a catalogue larger than one page', async () => {
    const skus = Object.fromEntries(Array.from({ length: 260 }, (_, i) => [`SKU-${i}`, i]));
    const { options } = await setup({ skus }, []);
    const connector = await connectorFor({ ...options, skus: {} });
    const first = await connector.listListings!(undefined, signal);
    expect(first.listings).toHaveLength(250);
    const second = await connector.listListings!(first.cursor, signal);
    expect(second.cursor).toBeUndefined();
    expect(new Set([...first.listings, ...second.listings].map((l) => l.sku)).size).toBe(260);
  });

  it('has the simulator answer the catalog with the documented product and variant schemas', async () => {
    const { sim, options } = await setup();
    const res = await request(`${sim.url}/stores/${STORE}/v3/catalog/products?include=variants&limit=250&page=1`, { headers: { 'x-auth-token': options.accessToken, accept: 'application/json' } });
    const body = (await res.body.json()) as { data: Array<{ variants: unknown[] }> };
    expect(catalog.checkResponse('GET', `/stores/${STORE}/v3/catalog/products`, res.statusCode, body)).toEqual([]);
    const doc = readDoc('catalog-products.v3.trimmed.json');
    const { Ajv } = await import('ajv');
    const ajv = new Ajv({ strict: false, validateFormats: false, allErrors: true });
    ajv.addSchema(doc, 'doc');
    const variantSchema = ajv.compile({ $ref: 'doc#/components/schemas/productVariant_Full' });
    for (const variant of body.data.flatMap((p) => p.variants)) expect(variantSchema(variant) ? [] : variantSchema.errors).toEqual([]);
  });

  it('maps a product that keeps its stock on the product by product id, and skips untracked products', () => {
    expect(listingsOfProduct({ id: 77, name: 'Tent', sku: 'TENT', inventory_level: 3, inventory_tracking: 'product', variants: [{ id: 101, product_id: 77, sku: 'TENT', inventory_level: 3 }] })).toEqual([
      { sku: 'TENT', mapping: { productId: 77 }, quantity: 3, title: 'Tent' },
    ]);
    expect(listingsOfProduct({ id: 78, name: 'Gift card', sku: 'GIFT', inventory_level: 0, inventory_tracking: 'none', variants: [] })).toEqual([]);
    // A variant without a SKU is listed with sku '' so the import can report it.
    expect(listingsOfProduct({ id: 79, name: 'Scarf', sku: '', inventory_tracking: 'variant', variants: [{ id: 9, product_id: 79, sku: '', inventory_level: 2 }] })).toEqual([
      { sku: '', mapping: { variantId: 9 }, quantity: 2, title: 'Scarf' },
    ]);
  });
});
