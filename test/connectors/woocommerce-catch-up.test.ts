import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import woocommerce from '../../connectors/woocommerce/index.ts';
import type { WooCommerceOptions } from '../../connectors/woocommerce/options.ts';
import { readWooRefund } from '../../connectors/woocommerce/refund-body.ts';
import { startWooCommerceSimulator, type WooCommerceSimulator } from '../../connectors/woocommerce/simulator.ts';
import { startWebhookSink, type WebhookSink } from '../../connectors/_kit/webhook-sink.ts';
import { parseEvent } from '../../core/events/validate-event.ts';
import { memoryConnectorState } from '../../core/plugins/memory-connector-state.ts';
import { isThrottledError, type ChannelListing, type ConnectorContext, type ConnectorInstance, type InventoryEvent, type Logger } from '../../core/sdk.ts';
import { startRecordingProxy, type RecordingProxy } from '../support/recording-proxy.ts';

// Oracle: WooCommerce's REST API reference (woocommerce-rest-api-docs): the list endpoints' documented
// parameters as JSON Schema, and its example refunds. See test/fixtures/vendor/woocommerce/SOURCE.
const fixture = (name: string): string => readFileSync(new URL(`../fixtures/vendor/woocommerce/${name}`, import.meta.url), 'utf8');
const listParameters = JSON.parse(fixture('list-parameters.schema.json')) as Record<string, object>;
const refundsExample = JSON.parse(fixture('refunds-list-example.json')) as unknown[];
const ajv = new Ajv({ allErrors: true, strict: false, coerceTypes: 'array' });
const orderSchema = new Ajv({ allErrors: true, strict: false }).compile(JSON.parse(fixture('order.schema.json')) as object);
const parametersOf = (route: string) => ajv.compile(listParameters[route]!);

const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {} };
const noSignal = (): AbortSignal => new AbortController().signal;
const fast = { latency: { p50: 0, p99: 0 } };
const context = (channelId = 'woo-main'): ConnectorContext => ({ channelId, logger: quiet, signal: noSignal(), state: memoryConnectorState(), registerSecret: () => {} });
const forOrder = (events: InventoryEvent[], orderId: string) => events.filter((e) => 'orderId' in e && e.orderId === orderId);

async function catchUp(connector: ConnectorInstance, cursor?: string): Promise<{ events: InventoryEvent[]; cursor: string; pages: number }> {
  const events: InventoryEvent[] = [];
  let pages = 0;
  for (;;) {
    const page = await connector.listOrders!(cursor, noSignal());
    pages += 1;
    events.push(...page.events);
    cursor = page.cursor;
    if (!page.more) return { events, cursor, pages };
  }
}

async function allListings(connector: ConnectorInstance): Promise<ChannelListing[]> {
  const listings: ChannelListing[] = [];
  let cursor: string | undefined;
  do {
    const page = await connector.listListings!(cursor, noSignal());
    listings.push(...page.listings);
    cursor = page.cursor;
  } while (cursor !== undefined);
  return listings;
}

/** The documented route a recorded request went to, for its parameter schema. */
function routeOf(path: string): string | undefined {
  if (path === '/wp-json/wc/v3/orders') return 'GET /wp-json/wc/v3/orders';
  if (/^\/wp-json\/wc\/v3\/orders\/\d+\/refunds$/.test(path)) return 'GET /wp-json/wc/v3/orders/<id>/refunds';
  if (path === '/wp-json/wc/v3/products') return 'GET /wp-json/wc/v3/products';
  if (/^\/wp-json\/wc\/v3\/products\/\d+\/variations$/.test(path)) return 'GET /wp-json/wc/v3/products/<product_id>/variations';
  return undefined;
}

describe("the refund reader against WooCommerce's example refunds", () => {
  it('reads the reference\'s refund list: negative line quantities as units refunded, an amount-only refund as no lines', () => {
    const [amountOnly, withLine] = refundsExample.map((r, i) => readWooRefund(r, i));
    expect(amountOnly).toEqual({ id: '726', createdAt: '2017-03-21T20:07:11.000Z', lines: [] });
    expect(withLine).toEqual({ id: '724', createdAt: '2017-03-21T19:55:37.000Z', lines: [{ productId: 87, variationId: 0, quantity: 1, sku: null, name: 'Woo Album #2' }] });
  });
});

describe('woocommerce listOrders finds what the webhooks missed, with the webhooks’ event ids', () => {
  let sim: WooCommerceSimulator;
  let proxy: RecordingProxy;
  let options: WooCommerceOptions;
  let connector: ConnectorInstance;
  let sink: WebhookSink;

  beforeAll(async () => {
    sim = await startWooCommerceSimulator({ ...fast, skus: { 'CAP-1': 500, 'CAP-2': 500 } });
    proxy = await startRecordingProxy(sim.url);
    options = { ...sim.connectorOptions(['CAP-1', 'CAP-2']), baseUrl: proxy.url };
    connector = await woocommerce.create(options, context());
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
    const { orderId } = await sim.placeOrder!([{ sku: 'CAP-1', qty: 2 }], { drop: true });
    expect(sink.deliveries.length).toBe(before);
    const found = forOrder((await catchUp(connector)).events, orderId);
    expect(found).toEqual([expect.objectContaining({ id: `woo-main:order:${orderId}:confirmed`, type: 'order.confirmed', lines: [{ sku: 'CAP-1', qty: 2 }] })]);
    for (const event of found) expect(parseEvent(JSON.stringify(event), event.type)).toMatchObject({ ok: true });
  });

  it('gives exactly the events the webhooks gave for an order placed, partly refunded and cancelled', async () => {
    const { orderId } = await sim.placeOrder!([{ sku: 'CAP-1', qty: 3 }, { sku: 'CAP-2', qty: 1 }]);
    await sim.refundOrder(orderId, [{ sku: 'CAP-1', qty: 1 }]);
    await sim.cancelOrder(orderId);
    const byWebhook = new Map(forOrder(sink.events(), orderId).map((e) => [e.id, e]));
    expect([...byWebhook.values()].map((e) => e.type).sort()).toEqual(['order.cancelled', 'order.confirmed', 'order.returned']);
    const byPoll = new Map(forOrder((await catchUp(connector)).events, orderId).map((e) => [e.id, e]));
    expect([...byPoll.keys()].sort()).toEqual([...byWebhook.keys()].sort());
    for (const [id, event] of byPoll) expect(event).toEqual(byWebhook.get(id));
  });

  it('a refund whose webhook was dropped is found as order.returned keyed by the refund id, its lines read from the refunds endpoint', async () => {
    const { orderId } = await sim.placeOrder!([{ sku: 'CAP-2', qty: 2 }]);
    const { refundId } = await sim.refundOrder(orderId, [{ sku: 'CAP-2', qty: 2 }], { delivery: { drop: true } });
    const found = forOrder((await catchUp(connector)).events, orderId);
    expect(found.map((e) => e.id).sort()).toEqual([`woo-main:order:${orderId}:confirmed`, `woo-main:order:${orderId}:returned:${refundId}`]);
    expect(found.find((e) => e.type === 'order.returned')?.lines).toEqual([{ sku: 'CAP-2', qty: 2, restock: 2 }]);
    expect(proxy.requests.some((r) => r.path === `/wp-json/wc/v3/orders/${orderId}/refunds`)).toBe(true);
  });

  it('pages through more orders than one page holds, each found, each request within the documented parameters', async () => {
    const placed: string[] = [];
    for (let i = 0; i < 110; i++) placed.push((await sim.placeOrder!([{ sku: 'CAP-2', qty: 1 }], { drop: true })).orderId);
    const { events, pages } = await catchUp(connector);
    expect(pages).toBeGreaterThan(2);
    const found = new Set(events.filter((e) => e.type === 'order.confirmed').map((e) => (e as { orderId: string }).orderId));
    for (const id of placed) expect(found.has(id)).toBe(true);
    const reads = proxy.requests.filter((r) => r.method === 'GET');
    expect(reads.length).toBeGreaterThan(0);
    for (const r of reads) {
      const route = routeOf(r.path);
      if (!route) continue;
      expect(r.headers.authorization).toMatch(/^Basic /);
      const check = parametersOf(route);
      const params: Record<string, unknown> = Object.fromEntries(r.query);
      expect(check(params), `${r.url}: ${JSON.stringify(check.errors)}`).toBe(true);
    }
  });

  it('the next poll from the returned cursor finds an order placed after the pass', async () => {
    const first = await catchUp(connector);
    const { orderId } = await sim.placeOrder!([{ sku: 'CAP-1', qty: 1 }], { drop: true });
    const next = await catchUp(connector, first.cursor);
    expect(next.events.map((e) => e.id)).toContain(`woo-main:order:${orderId}:confirmed`);
  });

  it('a cursor past every order finds none: modified_after filters', async () => {
    const future = Buffer.from(JSON.stringify({ v: 1, since: new Date(Date.now() + 3_600_000).toISOString() })).toString('base64url');
    const page = await connector.listOrders!(future, noSignal());
    expect(page).toMatchObject({ events: [], more: false });
  });
});

describe('woocommerce refunds as returns, by the store\'s restock setting', () => {
  it('restocks refunded units by default, and none with restockRefunds false; a refunded status is not a cancellation', async () => {
    const sim = await startWooCommerceSimulator({ ...fast, skus: { 'HAT-1': 10 } });
    const restocking = await woocommerce.create(sim.connectorOptions(['HAT-1']), context());
    const keeping = await woocommerce.create({ ...sim.connectorOptions(['HAT-1']), restockRefunds: false }, context());
    const sinks = await Promise.all([restocking, keeping].map((c) => startWebhookSink((req) => c.handleWebhook!(req, noSignal()))));
    try {
      sim.setWebhookTarget!(sinks[0]!.url);
      const { orderId } = await sim.placeOrder!([{ sku: 'HAT-1', qty: 2 }]);
      const { refundId } = await sim.refundOrder(orderId, [{ sku: 'HAT-1', qty: 2 }]);
      const last = sinks[0]!.deliveries.at(-1)!;
      expect(JSON.parse(last.rawBody.toString('utf8'))).toMatchObject({ status: 'refunded', refunds: [{ id: Number(refundId) }] });
      expect(last.events.map((e) => e.type)).toEqual(['order.confirmed', 'order.returned']);
      expect(last.events[1]).toMatchObject({ id: `woo-main:order:${orderId}:returned:${refundId}`, lines: [{ sku: 'HAT-1', qty: 2, restock: 2 }] });
      const { events } = await keeping.handleWebhook!({ rawBody: last.rawBody, headers: last.headers, path: '', query: {} }, noSignal());
      expect(events[1]).toMatchObject({ type: 'order.returned', lines: [{ sku: 'HAT-1', qty: 2, restock: 0 }] });
    } finally {
      for (const sink of sinks) await sink.close();
      await restocking.close?.();
      await keeping.close?.();
      await sim.close();
    }
  });
});

describe('the woocommerce simulator serves the list endpoints as the reference documents them', () => {
  let sim: WooCommerceSimulator;
  beforeAll(async () => {
    sim = await startWooCommerceSimulator({ ...fast, skus: { 'PIN-1': 3 } });
  });
  afterAll(async () => sim.close());
  const get = async (path: string, auth = true): Promise<{ status: number; headers: Headers; body: unknown }> => {
    const res = await fetch(`${sim.url}/wp-json/wc/v3${path}`, { headers: auth ? { authorization: `Basic ${Buffer.from('ck_simulator:cs_simulator').toString('base64')}` } : {} });
    return { status: res.status, headers: res.headers, body: await res.json() };
  };

  it('refuses an unauthenticated orders list with 401', async () => {
    expect(await get('/orders', false)).toMatchObject({ status: 401, body: { code: 'woocommerce_rest_cannot_view' } });
  });

  it('refuses per_page above 100 and an orderby the reference does not list, naming the parameter', async () => {
    expect(await get('/orders?per_page=101')).toMatchObject({ status: 400, body: { code: 'rest_invalid_param', data: { params: { per_page: expect.any(String) } } } });
    expect(await get('/orders?orderby=modified')).toMatchObject({ status: 400, body: { code: 'rest_invalid_param', data: { params: { orderby: expect.any(String) } } } });
  });

  it('lists orders that are Orders as the reference describes them, and refunds shaped as its example refund', async () => {
    const { orderId } = await sim.placeOrder!([{ sku: 'PIN-1', qty: 2 }], { drop: true });
    await sim.refundOrder(orderId, [{ sku: 'PIN-1', qty: 1 }], { delivery: { drop: true } });
    const orders = (await get('/orders?per_page=100')).body as unknown[];
    for (const order of orders) expect(orderSchema(order), JSON.stringify(orderSchema.errors)).toBe(true);
    const [refund] = (await get(`/orders/${orderId}/refunds`)).body as Array<Record<string, unknown> & { line_items: Array<Record<string, unknown>> }>;
    const example = refundsExample[1] as Record<string, unknown> & { line_items: Array<Record<string, unknown>> };
    expect(Object.keys(refund!).sort()).toEqual(Object.keys(example).sort());
    expect(Object.keys(refund!.line_items[0]!).sort()).toEqual(Object.keys(example.line_items[0]!).sort());
    expect(refund!.line_items[0]).toMatchObject({ quantity: -1, sku: 'PIN-1' });
  });

  it('answers pages with X-WP-Total and X-WP-TotalPages', async () => {
    const total = Number((await get('/orders?per_page=1')).headers.get('x-wp-total'));
    for (let i = 0; i < 3; i++) await sim.placeOrder!([{ sku: 'PIN-1', qty: 1 }], { drop: true });
    const answer = await get('/orders?per_page=2&page=1');
    expect(answer.status).toBe(200);
    expect(answer.headers.get('x-wp-total')).toBe(String(total + 3));
    expect(answer.headers.get('x-wp-totalpages')).toBe(String(Math.ceil((total + 3) / 2)));
    expect((answer.body as unknown[]).length).toBe(2);
  });

  it('counts reads against the same rate limit as writes', async () => {
    const limited = await startWooCommerceSimulator({ ...fast, rateLimit: { perSecond: 0.01, burst: 1 }, skus: { 'PIN-1': 3 } });
    const connector = await woocommerce.create(limited.connectorOptions(['PIN-1']), context());
    try {
      await connector.push([{ sku: 'PIN-1', quantity: 1, version: 1 }], noSignal());
      await expect(connector.listOrders!(undefined, noSignal())).rejects.toSatisfy(isThrottledError);
    } finally {
      await connector.close?.();
      await limited.close();
    }
  });
});

describe('woocommerce listListings reads products and variations as listings whose mappings push', () => {
  it('lists every simple product and variation over several pages, with mappings the options accept, and pushing through them lands', async () => {
    const skus = Object.fromEntries(Array.from({ length: 120 }, (_, i) => [`ITEM-${String(i).padStart(3, '0')}`, i]));
    const variations = { 'SHIRT': ['SHIRT-S', 'SHIRT-M', 'SHIRT-L'] };
    const sim = await startWooCommerceSimulator({ ...fast, skus: { ...skus, 'SHIRT-S': 4, 'SHIRT-M': 5, 'SHIRT-L': 6 }, variations });
    const bare = { ...sim.connectorOptions([]), skus: {} };
    const reader = await woocommerce.create(bare, context());
    try {
      const listings = await allListings(reader);
      const expected = { ...skus, 'SHIRT-S': 4, 'SHIRT-M': 5, 'SHIRT-L': 6 };
      expect(listings.map((l) => l.sku).sort()).toEqual(Object.keys(expected).sort());
      for (const l of listings) expect(l.quantity).toBe(expected[l.sku as keyof typeof expected]);
      expect(listings.find((l) => l.sku === 'SHIRT-M')?.mapping).toEqual({ productId: expect.any(Number), variationId: expect.any(Number) });
      const mapped: WooCommerceOptions = { ...bare, skus: Object.fromEntries(listings.map((l) => [l.sku, l.mapping as unknown as WooCommerceOptions['skus'][string]])) };
      const check = new Ajv({ allErrors: true, strict: false }).compile(woocommerce.optionsSchema);
      expect(check(mapped), JSON.stringify(check.errors)).toBe(true);
      const writer = await woocommerce.create(mapped, context());
      try {
        const chosen = [...listings.slice(0, 20), ...listings.filter((l) => l.sku.startsWith('SHIRT'))];
        const results = await writer.push(chosen.map((l) => ({ sku: l.sku, quantity: 700, version: 1 })), noSignal());
        expect(results.every((r) => r.status === 'ok')).toBe(true);
        for (const l of chosen) expect(sim.shown(l.sku)).toBe(700);
      } finally {
        await writer.close?.();
      }
    } finally {
      await reader.close?.();
      await sim.close();
    }
  });
});
