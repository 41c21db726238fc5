import { readFileSync } from 'node:fs';
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import ebay from '../../connectors/ebay/index.ts';
import { ORDERS_PAGE } from '../../connectors/ebay/list-orders.ts';
import type { EbayOptions } from '../../connectors/ebay/options.ts';
import { startEbaySimulator, type EbaySimulator, type EbaySimulatorOptions } from '../../connectors/ebay/simulator.ts';
import { parseEvent } from '../../core/events/validate-event.ts';
import { memoryConnectorState } from '../../core/plugins/memory-connector-state.ts';
import { validateConnectorOptions } from '../../core/plugins/validate-connector-options.ts';
import type { ConnectorInstance, InventoryEvent, WebhookRequest } from '../../core/sdk.ts';
import { loadOpenApi, schemaValidator, type OpenApiDocument } from '../support/openapi-3-schema.ts';
import { startRecordingProxy, type RecordedRequest } from '../support/recording-proxy.ts';
import { readCatchUpPass } from '../support/catch-up-pass.ts';

/**
 * Missed-order catch-up (listOrders: Fulfillment getOrders) and onboarding (listListings: Inventory
 * getInventoryItems + getOffers) for eBay, held against eBay's sell fulfillment and sell inventory OpenAPI
 * contracts (test/fixtures/vendor/ebay/SOURCE).
 */
const FIXTURES = new URL('../fixtures/vendor/ebay/', import.meta.url);
const inventoryApi = loadOpenApi(new URL('sell_inventory_v1_oas3.trimmed.json', FIXTURES));
const fulfillmentApi = loadOpenApi(new URL('sell_fulfillment_v1_oas3.trimmed.json', FIXTURES));
const notificationExample = readFileSync(new URL('order-confirmation.notification.json', FIXTURES), 'utf8');

const silent = { debug() {}, info() {}, warn() {}, error() {} };
const signal = new AbortController().signal;
const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanup.length) await cleanup.pop()!();
});

async function connectorFor(options: EbayOptions): Promise<ConnectorInstance> {
  const connector = await ebay.create(options, { channelId: 'ebay-main', logger: silent, signal, state: memoryConnectorState(), registerSecret: () => {} });
  cleanup.push(async () => connector.close?.());
  return connector;
}

async function setup(skus = ['A', 'B'], simOptions: EbaySimulatorOptions = {}) {
  const sim = await startEbaySimulator({ latency: { p50: 0, p99: 0 }, skus: Object.fromEntries(skus.map((s) => [s, 10])), rateLimit: { perSecond: 1000, burst: 1000 }, ...simOptions });
  const proxy = await startRecordingProxy(sim.url);
  cleanup.push(sim.close, proxy.close);
  const options = { ...sim.connectorOptions(skus), baseUrl: proxy.url };
  return { sim, proxy, options, connector: await connectorFor(options) };
}

/** eBay's example ORDER_CONFIRMATION, naming this order, signed as eBay signs. */
function notificationFor(sim: EbaySimulator, orderId: string): WebhookRequest {
  const notification = JSON.parse(notificationExample) as { notification: { data: { order: { orderId: string } } } };
  notification.notification.data.order.orderId = orderId;
  const rawBody = Buffer.from(JSON.stringify(notification));
  return { rawBody, headers: sim.signWebhook!(rawBody), path: '', query: {} };
}

const readPass = (connector: ConnectorInstance, cursor?: string) => readCatchUpPass(connector, cursor, signal);

const orderIdOf = (event: InventoryEvent): string | undefined => ('orderId' in event ? event.orderId : undefined);
const calls = (requests: readonly RecordedRequest[], path: string) => requests.filter((r) => r.path === path);

/** Every way a GET departs from the contract's parameters: unknown names, and (where given) the documented bounds. */
function parameterProblems(doc: OpenApiDocument, path: string, call: RecordedRequest): string[] {
  const documented = new Set((doc.paths[path]!.get!.parameters ?? []).map((p) => p.name));
  return [...call.query.keys()].filter((name) => !documented.has(name)).map((name) => `${name} is not a parameter of GET ${path}`);
}

/** A user token from the simulator's token endpoint, for reading it directly. */
async function userToken(sim: EbaySimulator): Promise<string> {
  const { clientId, clientSecret, refreshToken } = sim.credentials();
  const res = await request(`${sim.url}/identity/v1/oauth2/token`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken, scope: 'https://api.ebay.com/oauth/api_scope/sell.fulfillment' }).toString(),
  });
  return ((await res.body.json()) as { access_token: string }).access_token;
}

describe('eBay order catch-up (listOrders)', () => {
  it('finds an order whose notification was lost for good, with the event id its notification gives', async () => {
    const { sim, connector } = await setup();
    const { orderId } = await sim.placeOrder!([{ sku: 'A', qty: 2 }, { sku: 'B', qty: 1 }], { drop: true });
    const { events } = await readPass(connector);
    expect(events).toEqual([{ id: `ebay-main:order:${orderId}:confirmed`, type: 'order.confirmed', channel: 'ebay-main', occurredAt: expect.any(String), orderId, lines: [{ sku: 'A', qty: 2 }, { sku: 'B', qty: 1 }] }]);
    const fromNotification = (await connector.handleWebhook!(notificationFor(sim, orderId), signal)).events;
    expect(events.map((e) => e.id)).toEqual(fromNotification.map((e) => e.id));
    for (const event of events) expect(parseEvent(JSON.stringify(event), event.type)).toMatchObject({ ok: true });
  });

  it('gives a cancelled order the confirmation and cancellation ids the notification path gives', async () => {
    const { sim, connector } = await setup();
    const { orderId } = await sim.placeOrder!([{ sku: 'A', qty: 3 }], { drop: true });
    sim.cancelOrder(orderId);
    const { events } = await readPass(connector);
    expect(events.map((e) => [e.id, e.type])).toEqual([
      [`ebay-main:order:${orderId}:confirmed`, 'order.confirmed'],
      [`ebay-main:order:${orderId}:cancelled`, 'order.cancelled'],
    ]);
    expect((await connector.handleWebhook!(notificationFor(sim, orderId), signal)).events.map((e) => e.id)).toEqual(events.map((e) => e.id));
  });

  it('starts a little before now and asks getOrders only what the fulfillment contract defines, brackets percent-encoded', async () => {
    const { proxy, connector } = await setup();
    const before = Date.now();
    await connector.listOrders!(undefined, signal);
    const [call] = calls(proxy.requests, '/sell/fulfillment/v1/order');
    expect(parameterProblems(fulfillmentApi, '/order', call!)).toEqual([]);
    expect(call!.url).toMatch(/filter=lastmodifieddate%3A%5B[^&]+\.\.%5D/);
    const start = /^lastmodifieddate:\[(.+)\.\.\]$/.exec(call!.query.get('filter')!)![1]!;
    expect(new Date(Date.parse(start)).toISOString()).toBe(start);
    expect(before - Date.parse(start)).toBeGreaterThanOrEqual(60_000);
    expect(before - Date.parse(start)).toBeLessThanOrEqual(15 * 60_000);
    expect(Number(call!.query.get('limit'))).toBeLessThanOrEqual(200);
    expect(call!.headers.authorization).toMatch(/^Bearer /);
  });

  it('pages through more orders than one page holds, finding each', async () => {
    const { sim, connector } = await setup();
    const placed = new Set<string>();
    for (let i = 0; i < ORDERS_PAGE * 2 + 3; i++) placed.add((await sim.placeOrder!([{ sku: i % 2 ? 'A' : 'B', qty: 1 }], { drop: true })).orderId);
    const first = await connector.listOrders!(undefined, signal);
    expect(first.more).toBe(true);
    const rest = await readPass(connector, first.cursor);
    expect(new Set([...first.events, ...rest.events].map(orderIdOf))).toEqual(placed);
    expect(rest.pages.length).toBeLessThanOrEqual(4);
  });

  it('resumes from its cursor: the next pass finds orders placed or cancelled since', async () => {
    const { sim, connector } = await setup();
    const { orderId: early } = await sim.placeOrder!([{ sku: 'A', qty: 1 }], { drop: true });
    const pass = await readPass(connector);
    expect(pass.events.map(orderIdOf)).toEqual([early]);
    const { orderId: later } = await sim.placeOrder!([{ sku: 'B', qty: 1 }], { drop: true });
    sim.cancelOrder(early);
    const next = await readPass(connector, pass.cursor);
    expect(new Set(next.events.map((e) => e.id))).toEqual(new Set([`ebay-main:order:${early}:confirmed`, `ebay-main:order:${early}:cancelled`, `ebay-main:order:${later}:confirmed`]));
  });

  it('refuses a cursor it did not write, naming it', async () => {
    const { connector } = await setup();
    await expect(connector.listOrders!('nope', signal)).rejects.toThrow(/cursor/);
  });
});

describe('eBay simulator: getOrders as the fulfillment contract describes it', () => {
  it('answers with an OrderSearchPagedCollection holding no field eBay does not define, paged by limit and offset', async () => {
    const { sim } = await setup();
    const placed: string[] = [];
    for (let i = 0; i < 3; i++) placed.push((await sim.placeOrder!([{ sku: 'A', qty: 1 }], { drop: true })).orderId);
    // A cancelled and a refunded order too: their cancelStatus and refunds must fit the contract as well.
    sim.cancelOrder(placed[0]!);
    sim.refundLine(placed[1]!, 'A');
    const token = await userToken(sim);
    const since = new Date(Date.now() - 60_000).toISOString();
    const res = await request(`${sim.url}/sell/fulfillment/v1/order?filter=${encodeURIComponent(`lastmodifieddate:[${since}..]`)}&limit=2&offset=0`, { headers: { authorization: `Bearer ${token}` } });
    const body = (await res.body.json()) as { orders: unknown[]; total: number; next?: string };
    const validate = schemaValidator(fulfillmentApi, 'OrderSearchPagedCollection');
    expect(validate(body), JSON.stringify(validate.errors)).toBe(true);
    expect([body.orders.length, body.total, typeof body.next]).toEqual([2, 3, 'string']);
    const rest = (await (await request(body.next!, { headers: { authorization: `Bearer ${token}` } })).body.json()) as { orders: unknown[] };
    expect(validate(rest), JSON.stringify(validate.errors)).toBe(true);
    expect(rest.orders).toHaveLength(1);
  });

  it.each([
    ['filter=creationdat:[2026-01-01T00:00:00.000Z..]', 30700],
    ['filter=lastmodifieddate:[yesterday..]', 30810],
    ['filter=lastmodifieddate:[..2026-01-01T00:00:00.000Z]', 30820],
    ['filter=lastmodifieddate:[2999-01-01T00:00:00.000Z..]', 30850],
    ['limit=201', 31100],
    ['offset=-1', 31000],
  ])('refuses %s with 400 and error %i, as the contract lists', async (query, errorId) => {
    const { sim } = await setup();
    const token = await userToken(sim);
    const [name, value] = [query.slice(0, query.indexOf('=')), query.slice(query.indexOf('=') + 1)];
    const res = await request(`${sim.url}/sell/fulfillment/v1/order?${new URLSearchParams({ [name]: value }).toString()}`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.statusCode).toBe(400);
    const body = (await res.body.json()) as { errors: Array<{ errorId: number; domain: string }> };
    expect(body.errors[0]).toMatchObject({ errorId, domain: 'API_FULFILLMENT' });
    const documented = Object.keys((fulfillmentApi.paths['/order']!.get as unknown as { responses: { 400: { 'x-response-codes': { errors: Record<string, unknown> } } } }).responses[400]['x-response-codes'].errors);
    expect(documented).toContain(String(errorId));
  });

  it('answers getOrders without a token with 401, and spends the Fulfillment API quota', async () => {
    const { sim } = await setup(['A'], { rateLimit: { perSecond: 0.001, burst: 1 } });
    const token = await userToken(sim);
    const first = await request(`${sim.url}/sell/fulfillment/v1/order`, { headers: { authorization: `Bearer ${token}` } });
    await first.body.dump();
    const second = await request(`${sim.url}/sell/fulfillment/v1/order`, { headers: { authorization: `Bearer ${token}` } });
    await second.body.dump();
    expect([first.statusCode, second.statusCode]).toEqual([200, 429]);
    const anonymous = await request(`${sim.url}/sell/fulfillment/v1/order`);
    await anonymous.body.dump();
    expect(anonymous.statusCode).toBe(401);
  });
});

describe('eBay onboarding (listListings)', () => {
  it('lists each inventory item with its published offers, and a channel mapped from them converges', async () => {
    const { sim, proxy, options } = await setup(['A', 'B'], { offersPerItem: 2 });
    const blank = await connectorFor({ ...options, listings: {} });
    const page = await blank.listListings!(undefined, signal);
    expect(page.cursor).toBeUndefined();
    expect(page.listings).toEqual(
      expect.arrayContaining([
        { sku: 'A', mapping: options.listings.A, quantity: 10, title: expect.any(String) },
        { sku: 'B', mapping: options.listings.B, quantity: 10, title: expect.any(String) },
      ]),
    );
    const listings = Object.fromEntries(page.listings.map((l) => [l.sku, l.mapping])) as unknown as EbayOptions['listings'];
    const mapped = { ...options, listings };
    expect(validateConnectorOptions(ebay, mapped)).toMatchObject({ ok: true });
    const pushing = await connectorFor(mapped);
    expect(await pushing.push([{ sku: 'A', quantity: 3, version: 1 }], signal)).toEqual([{ sku: 'A', status: 'ok', quantity: 3 }]);
    expect(sim.shown('A')).toBe(3);
    for (const [path, contractPath] of [['/sell/inventory/v1/inventory_item', '/inventory_item'], ['/sell/inventory/v1/offer', '/offer']] as const) {
      const seen = calls(proxy.requests, path);
      expect(seen.length).toBeGreaterThan(0);
      for (const call of seen) expect(parameterProblems(inventoryApi, contractPath, call)).toEqual([]);
    }
  });

  it('pages through more inventory items than one page holds', async () => {
    const skus = Array.from({ length: 30 }, (_, i) => `S${i}`);
    const { options } = await setup(skus);
    const connector = await connectorFor({ ...options, listings: {} });
    const first = await connector.listListings!(undefined, signal);
    expect(first.cursor).toBeDefined();
    const second = await connector.listListings!(first.cursor, signal);
    expect(second.cursor).toBeUndefined();
    expect(new Set([...first.listings, ...second.listings].map((l) => l.sku))).toEqual(new Set(skus));
  });

  it('has the simulator answer getInventoryItems and getOffers with the InventoryItems and Offers schemas, no field eBay does not define', async () => {
    const { sim } = await setup(['A']);
    const token = await userToken(sim);
    const get = async (path: string) => (await (await request(`${sim.url}${path}`, { headers: { authorization: `Bearer ${token}` } })).body.json()) as unknown;
    const items = schemaValidator(inventoryApi, 'InventoryItems');
    const itemsBody = await get('/sell/inventory/v1/inventory_item?limit=25&offset=0');
    expect(items(itemsBody), JSON.stringify(items.errors)).toBe(true);
    const offers = schemaValidator(inventoryApi, 'Offers');
    const offersBody = await get('/sell/inventory/v1/offer?sku=A');
    expect(offers(offersBody), JSON.stringify(offers.errors)).toBe(true);
  });
});
