import { afterEach, describe, expect, it } from 'vitest';
import amazon from '../../connectors/amazon/index.ts';
import { startAmazonSimulator, type AmazonSimulator, type AmazonSimulatorOptions } from '../../connectors/amazon/simulator.ts';
import type { AmazonOptions } from '../../connectors/amazon/options.ts';
import { memoryConnectorState } from '../../core/plugins/memory-connector-state.ts';
import type { ConnectorContext, ConnectorInstance, InventoryEvent, Logger } from '../../core/sdk.ts';
import { loadVendorSpec, schemaErrors } from '../support/openapi-schema.ts';
import { readCatchUpPass } from '../support/catch-up-pass.ts';

/**
 * Missed-order catch-up (`listOrders`, Orders 2026-01-01 `searchOrders`) and onboarding (`listListings`, Listings
 * Items 2021-08-01 `searchListingsItems`), checked against the models kept under test/fixtures/vendor/amazon.
 */
const ordersModel = loadVendorSpec('amazon/orders_2026-01-01.searchOrders.json');
const listingsModel = loadVendorSpec('amazon/listingsItems_2021-08-01.search.json');
type Parameter = { name: string; in: string; required?: boolean; type?: string; enum?: string[]; items?: { enum?: string[] } };
const searchOrdersParameters = (ordersModel.document.paths as Record<string, { get: { parameters: Parameter[] } }>)['/orders/2026-01-01/orders']!.get.parameters;
const searchListingsParameters = (listingsModel.document.paths as Record<string, { get: { parameters: Parameter[] } }>)['/listings/2021-08-01/items/{sellerId}']!.get.parameters;

const silent: Logger = { debug() {}, info() {}, warn() {}, error() {} };
const signal = new AbortController().signal;

let sim: AmazonSimulator | undefined;
const connectors: ConnectorInstance[] = [];
afterEach(async () => {
  for (const c of connectors.splice(0)) await c.close?.();
  await sim?.close();
  sim = undefined;
});

async function connect(options: AmazonOptions): Promise<ConnectorInstance> {
  const context: ConnectorContext = { channelId: 'amazon-us', logger: silent, signal, state: memoryConnectorState(), registerSecret: () => {} };
  const connector = await amazon.create(options, context);
  connectors.push(connector);
  return connector;
}

async function setup(skus: Record<string, number>, simOptions: AmazonSimulatorOptions = {}) {
  sim = await startAmazonSimulator({ latency: { p50: 0, p99: 0 }, skus, ...simOptions });
  return { sim, connector: await connect(sim.connectorOptions(Object.keys(skus))) };
}

const readAll = (connector: ConnectorInstance, cursor?: string) => readCatchUpPass(connector, cursor, signal);
const ids = (events: readonly InventoryEvent[]): string[] => events.map((e) => e.id).sort();
const orderIdOf = (event: InventoryEvent | undefined): string | undefined => (event && 'orderId' in event ? event.orderId : undefined);

/** Validates one searchOrders call against the model: known parameters, enum values, required ones, and the answer. */
function expectSearchOrdersCallValid(call: { query: Record<string, string>; status: number; response: unknown }): void {
  const byName = new Map(searchOrdersParameters.filter((p) => p.in === 'query').map((p) => [p.name, p]));
  for (const [name, value] of Object.entries(call.query)) {
    const parameter = byName.get(name);
    expect(parameter, `query parameter ${name}`).toBeDefined();
    const allowed = parameter!.items?.enum;
    if (allowed) for (const v of value.split(',')) expect(allowed, `${name}=${v}`).toContain(v);
    if (parameter!.type === 'integer') expect(Number.isInteger(Number(value)), name).toBe(true);
  }
  expect(['createdAfter', 'lastUpdatedAfter'].filter((n) => n in call.query)).toHaveLength(1);
  expect(call.status).toBe(200);
  const answer = ordersModel.schema('#/definitions/SearchOrdersResponse');
  expect(answer(call.response), schemaErrors(answer)).toBe(true);
}

describe('amazon listOrders: Orders 2026-01-01 searchOrders', () => {
  it('finds an order whose notification was dropped, with the event ids the notification path gives the same order', async () => {
    const { sim, connector } = await setup({ 'TEE/M': 10, MUG: 5 });
    const { orderId: lost } = await sim.placeOrder!([{ sku: 'TEE/M', qty: 2 }, { sku: 'MUG', qty: 1 }], { drop: true });
    const { orderId: notified } = await sim.placeOrder!([{ sku: 'MUG', qty: 1 }]);
    expect(sim.notificationsSent().map((n) => n.Payload.OrderChangeNotification.AmazonOrderId)).toEqual([notified]);

    const polled = await connector.pollOrders!(signal);
    const { events } = await readAll(connector);
    expect(ids(events)).toEqual([`amazon-us:order:${lost}:confirmed`, `amazon-us:order:${notified}:confirmed`].sort());
    expect(events.find((e) => e.id === polled[0]!.id)).toEqual(polled[0]);
    expect(events.find((e) => orderIdOf(e) === lost)?.lines).toEqual([{ sku: 'TEE/M', qty: 2 }, { sku: 'MUG', qty: 1 }]);
  });

  it('gives a cancelled order the confirmation and cancellation ids of its Canceled notification', async () => {
    const { sim, connector } = await setup({ S1: 10 });
    const { orderId } = await sim.placeOrder!([{ sku: 'S1', qty: 3 }]);
    sim.cancelOrder(orderId);
    const polled = await connector.pollOrders!(signal);
    const { events } = await readAll(connector);
    expect(ids(events)).toEqual(ids(polled));
    expect(ids(events)).toEqual([`amazon-us:order:${orderId}:cancelled`, `amazon-us:order:${orderId}:confirmed`]);
    expect(events).toEqual(expect.arrayContaining(polled));
  });

  it('sends only what the searchOrders model allows, and the simulator answers what SearchOrdersResponse allows', async () => {
    const { sim, connector } = await setup({ S1: 10 });
    await sim.placeOrder!([{ sku: 'S1', qty: 1 }], { drop: true });
    await readAll(connector);
    const calls = sim.apiExchanges().filter((c) => c.path === '/orders/2026-01-01/orders');
    expect(calls.length).toBeGreaterThan(0);
    for (const call of calls) expectSearchOrdersCallValid(call);
  });

  it('pages through a search with Amazon\'s nextToken, keeping every other parameter, and finds each order once', async () => {
    const { sim, connector } = await setup({ S1: 1000 });
    const placed = new Set<string>();
    for (let i = 0; i < 130; i++) placed.add((await sim.placeOrder!([{ sku: 'S1', qty: 1 }], { drop: true })).orderId);
    const { events, pages } = await readAll(connector);
    expect(pages.length).toBe(2);
    expect(pages[0]!.more).toBe(true);
    expect(new Set(events.map(orderIdOf))).toEqual(placed);
    expect(new Set(ids(events)).size).toBe(events.length);
    const [first, second] = sim.apiExchanges().filter((c) => c.path === '/orders/2026-01-01/orders');
    expect(second!.query.paginationToken).toBe((first!.response as { pagination: { nextToken: string } }).pagination.nextToken);
    const { paginationToken: _token, ...rest } = second!.query;
    expect(rest).toEqual(first!.query);
    for (const call of [first!, second!]) expectSearchOrdersCallValid(call);
  });

  it('overlaps the next search with the last one, so a re-found order keeps its ids, and finds orders placed since', async () => {
    const { sim, connector } = await setup({ S1: 10 });
    const { orderId: before } = await sim.placeOrder!([{ sku: 'S1', qty: 1 }], { drop: true });
    const first = await readAll(connector);
    const { orderId: after } = await sim.placeOrder!([{ sku: 'S1', qty: 2 }], { drop: true });
    const second = await readAll(connector, first.pages.at(-1)!.cursor);
    expect(ids(second.events)).toEqual([`amazon-us:order:${before}:confirmed`, `amazon-us:order:${after}:confirmed`].sort());
    expect(second.events.find((e) => orderIdOf(e) === before)).toEqual(first.events[0]);
  });

  it('keeps to the searchOrders usage plan: once the burst is spent a poll reads nothing and keeps its cursor, never drawing a 429', async () => {
    const { sim, connector } = await setup({ S1: 10 });
    await sim.placeOrder!([{ sku: 'S1', qty: 1 }], { drop: true });
    const first = await connector.listOrders!(undefined, signal);
    let cursor = first.cursor;
    for (let i = 0; i < 24; i++) cursor = (await connector.listOrders!(cursor, signal)).cursor;
    const calls = sim.apiExchanges().filter((c) => c.path === '/orders/2026-01-01/orders');
    expect(calls.length).toBeLessThanOrEqual(20);
    expect(calls.every((c) => c.status === 200)).toBe(true);
    const spent = await connector.listOrders!(cursor, signal);
    expect(spent).toEqual({ events: [], cursor, more: false });
  });

  it('turns a 429 of searchOrders into a retry of the poll, not a throttle of the channel: its pushes have their own usage plan', async () => {
    const { sim, connector } = await setup({ S1: 10 }, { searchOrdersRate: { perSecond: 0.001, burst: 1 } });
    await connector.listOrders!(undefined, signal);
    const refusal = await connector.listOrders!(undefined, signal).catch((err: unknown) => err);
    expect(refusal).toMatchObject({ code: 'SR_CONNECTOR_RETRYABLE' });
    expect(await connector.push([{ sku: 'S1', quantity: 3, version: 1 }], signal)).toEqual([{ sku: 'S1', status: 'ok', quantity: 3 }]);
  });

  it('starts a little before now on the first call, and refuses a cursor it did not write', async () => {
    const { sim, connector } = await setup({ S1: 10 });
    await readAll(connector);
    const [call] = sim.apiExchanges().filter((c) => c.path === '/orders/2026-01-01/orders');
    const lookback = Date.now() - Date.parse(call!.query.lastUpdatedAfter!);
    expect(lookback).toBeGreaterThan(0);
    expect(lookback).toBeLessThan(60 * 60_000);
    await expect(connector.listOrders!('not-a-cursor', signal)).rejects.toMatchObject({ code: 'SR_CONNECTOR_REJECTED' });
  });

  it('is refused by the simulator as the model refuses: both createdAfter and lastUpdatedAfter, a foreign token, a too-recent end', async () => {
    const { sim } = await setup({ S1: 10 });
    const connector = await connect(sim.connectorOptions(['S1']));
    await connector.push([{ sku: 'S1', quantity: 1, version: 1 }], signal);
    const token = sim.apiExchanges()[0]!.headers['x-amz-access-token'] as string;
    const now = new Date().toISOString();
    const get = async (query: string) => {
      const res = await fetch(`${sim!.url}/orders/2026-01-01/orders?${query}`, { headers: { 'x-amz-access-token': token } });
      return { status: res.status, body: (await res.json()) as { errors?: Array<{ code: string }> } };
    };
    for (const query of [`createdAfter=${now}&lastUpdatedAfter=${now}`, 'marketplaceIds=ATVPDKIKX0DER', `lastUpdatedAfter=${now}&paginationToken=forged`, `lastUpdatedAfter=2026-01-01T00:00:00Z&lastUpdatedBefore=${now}`, `lastUpdatedAfter=${now}&maxResultsPerPage=101`]) {
      const answer = await get(query);
      expect(answer.status, query).toBe(400);
      const errors = ordersModel.schema('#/definitions/ErrorList');
      expect(errors(answer.body), schemaErrors(errors)).toBe(true);
    }
    expect((await get(`lastUpdatedAfter=${encodeURIComponent(now)}`)).status).toBe(200);
  });
});

describe('amazon listListings: Listings Items 2021-08-01 searchListingsItems', () => {
  it('lists every listing with the mapping options.listings takes, what it shows, and its title, page by page', async () => {
    const skus: Record<string, number> = {};
    for (let i = 0; i < 45; i++) skus[`SKU/${String(i).padStart(2, '0')}`] = i;
    const { sim } = await setup(skus);
    // Onboarding starts from options that map no SKU yet.
    const fresh = await connect({ ...sim.connectorOptions([]), listings: {} });
    const listings = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await fresh.listListings!(cursor, signal);
      listings.push(...page.listings);
      cursor = page.cursor;
      pages += 1;
    } while (cursor !== undefined);
    expect(pages).toBe(3);
    expect(listings.map((l) => l.sku)).toEqual(Object.keys(skus).sort());
    expect(listings.find((l) => l.sku === 'SKU/07')).toEqual({ sku: 'SKU/07', mapping: { sellerSku: 'SKU/07', productType: 'PRODUCT' }, quantity: 7, title: expect.any(String) });

    const calls = sim.apiExchanges().filter((c) => c.path === `/listings/2021-08-01/items/${sim.connectorOptions([]).sellerId}`);
    const byName = new Map(searchListingsParameters.filter((p) => p.in === 'query').map((p) => [p.name, p]));
    const results = listingsModel.schema('#/definitions/ItemSearchResults');
    for (const call of calls) {
      for (const [name, value] of Object.entries(call.query)) {
        const parameter = byName.get(name);
        expect(parameter, name).toBeDefined();
        for (const v of parameter!.items?.enum ? value.split(',') : []) expect(parameter!.items!.enum).toContain(v);
        if (parameter!.enum) expect(parameter!.enum).toContain(value);
      }
      for (const p of searchListingsParameters.filter((p) => p.in === 'query' && p.required)) expect(call.query[p.name], p.name).toBeTruthy();
      expect(Number(call.query.pageSize)).toBeLessThanOrEqual(20);
      expect(results(call.response), schemaErrors(results)).toBe(true);
    }
  });

  it('gives mappings with which a connector pushes to those listings', async () => {
    const { sim } = await setup({ 'A/1': 3, B: 4 });
    const fresh = await connect({ ...sim.connectorOptions([]), listings: {} });
    const { listings } = await fresh.listListings!(undefined, signal);
    const mapped = await connect({ ...sim.connectorOptions([]), listings: Object.fromEntries(listings.map((l) => [l.sku, l.mapping as unknown as AmazonOptions['listings'][string]])) });
    expect(await mapped.push([{ sku: 'A/1', quantity: 9, version: 1 }], signal)).toEqual([{ sku: 'A/1', status: 'ok', quantity: 9 }]);
    expect(sim.shown('A/1')).toBe(9);
    expect(Object.fromEntries(await mapped.fetchQuantities!(['A/1', 'B'], signal))).toEqual({ 'A/1': 9, B: 4 });
  });
});
