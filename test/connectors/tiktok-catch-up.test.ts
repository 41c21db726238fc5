import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import { afterEach, describe, expect, it } from 'vitest';
import tiktok from '../../connectors/tiktok/index.ts';
import type { TiktokOptions } from '../../connectors/tiktok/options.ts';
import { signRequest } from '../../connectors/tiktok/request-signature.ts';
import { startTiktokSimulator, type TiktokSimulator, type TiktokSimulatorOptions } from '../../connectors/tiktok/simulator.ts';
import { memoryConnectorState } from '../../core/plugins/memory-connector-state.ts';
import { isRejectedError, isThrottledError, type ChannelListing, type ConnectorInstance, type InventoryEvent, type OrderPage } from '../../core/sdk.ts';
import { startRecordingProxy, type RecordingProxy } from '../support/recording-proxy.ts';
import { startWebhookReceiver } from '../support/webhook-receiver.ts';

/*
 * Missed-order catch-up (Search Orders) and onboarding (Search Products) of the TikTok Shop channel, held
 * against the request and response models of TikTok Shop's Node SDK (test/fixtures/vendor/tiktok/SOURCE).
 */
const models = JSON.parse(readFileSync(new URL('../fixtures/vendor/tiktok/tiktok-shop-sdk-models.schema.json', import.meta.url), 'utf8')) as { definitions: Record<string, unknown> };
const ajv = new Ajv({ allErrors: true, strict: false });
const model = (name: string) => ajv.compile({ $ref: `#/definitions/${name}`, definitions: models.definitions });
const silent = { debug() {}, info() {}, warn() {}, error() {} };
const signal = new AbortController().signal;
const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanup.length) await cleanup.pop()!();
});

interface Setup {
  sim: TiktokSimulator;
  proxy: RecordingProxy;
  options: TiktokOptions;
  connector: ConnectorInstance;
  state: ReturnType<typeof memoryConnectorState>;
}

async function setup(simOptions: TiktokSimulatorOptions = {}, skus = ['A', 'B'], overrides: Partial<TiktokOptions> = {}): Promise<Setup> {
  const sim = await startTiktokSimulator({ latency: { p50: 0, p99: 0 }, skus: Object.fromEntries(skus.map((s) => [s, 50])), ...simOptions });
  const proxy = await startRecordingProxy(sim.url);
  cleanup.push(sim.close, proxy.close);
  const options = { ...sim.connectorOptions(skus), baseUrl: proxy.url, authBaseUrl: proxy.url, ...overrides };
  const state = memoryConnectorState();
  const connector = await tiktok.create(options, { channelId: 'tiktok-main', logger: silent, signal, state, registerSecret() {} });
  cleanup.push(async () => connector.close?.());
  return { sim, proxy, options, connector, state };
}

async function pollAll(connector: ConnectorInstance, cursor?: string): Promise<{ events: InventoryEvent[]; pages: OrderPage[]; cursor: string | undefined }> {
  const pages: OrderPage[] = [];
  let at = cursor;
  for (;;) {
    const page = await connector.listOrders!(at, signal);
    pages.push(page);
    at = page.cursor;
    if (!page.more) return { events: pages.flatMap((p) => p.events), pages, cursor: at };
  }
}

async function allListings(connector: ConnectorInstance): Promise<ChannelListing[]> {
  const out: ChannelListing[] = [];
  let cursor: string | undefined;
  do {
    const page = await connector.listListings!(cursor, signal);
    out.push(...page.listings);
    cursor = page.cursor;
  } while (cursor !== undefined);
  return out;
}

const orderIdOf = (e: InventoryEvent): string | undefined => (e as { orderId?: string }).orderId;

/** The ORDER_STATUS_CHANGE the simulator would send for an order, signed as TikTok signs it. */
function statusChange(sim: TiktokSimulator, orderId: string) {
  const order = sim.order(orderId)!;
  const rawBody = Buffer.from(JSON.stringify({ type: 1, shop_id: '7494726673780148744', timestamp: Math.floor(Date.now() / 1000), data: { order_id: orderId, order_status: order.status, update_time: order.update_time } }));
  return { rawBody, headers: sim.signWebhook!(rawBody), path: '', query: {} };
}

describe('TikTok listOrders: missed-order catch-up', () => {
  it('finds an order whose webhook was lost for good and gives it the id its webhook gives', async () => {
    const { sim, connector } = await setup();
    const receiver = await startWebhookReceiver(sim, connector, signal);
    cleanup.push(receiver.close);
    const delivered = await sim.placeOrder!([{ sku: 'A', qty: 2 }]);
    const lost = await sim.placeOrder!([{ sku: 'B', qty: 1 }], { drop: true });
    expect(receiver.events.map(orderIdOf)).toEqual([delivered.orderId]);

    const { events } = await pollAll(connector);
    const byOrder = new Map(events.map((e) => [orderIdOf(e), e]));
    expect(byOrder.get(lost.orderId)).toMatchObject({ id: `tiktok-main:order:${lost.orderId}:confirmed`, type: 'order.confirmed', lines: [{ sku: 'B', qty: 1 }] });
    expect(byOrder.get(delivered.orderId)).toEqual(receiver.events[0]);
  });

  it('gives a cancelled order the cancellation its webhook gives', async () => {
    const { sim, connector } = await setup();
    const { orderId } = await sim.placeOrder!([{ sku: 'A', qty: 2 }], { drop: true });
    sim.cancelOrder(orderId);
    const webhook = await connector.handleWebhook!(statusChange(sim, orderId), signal);
    const { events } = await pollAll(connector);
    expect(webhook.events.map((e) => e.id)).toEqual([`tiktok-main:order:${orderId}:cancelled`]);
    expect(events.filter((e) => orderIdOf(e) === orderId)).toEqual(webhook.events);
  });

  it('reports units cancelled on their own as one cancellation per line item, alike from webhook and poll', async () => {
    const { sim, connector } = await setup();
    const { orderId } = await sim.placeOrder!([{ sku: 'A', qty: 3 }, { sku: 'B', qty: 1 }], { drop: true });
    const [line] = sim.cancelUnits(orderId, 'A', 1);
    const webhook = await connector.handleWebhook!(statusChange(sim, orderId), signal);
    expect(webhook.events).toMatchObject([
      { id: `tiktok-main:order:${orderId}:confirmed`, type: 'order.confirmed', lines: [{ sku: 'A', qty: 3 }, { sku: 'B', qty: 1 }] },
      { id: `tiktok-main:order:${orderId}:cancelled:${line}`, type: 'order.cancelled', orderId, lines: [{ sku: 'A', qty: 1 }] },
    ]);
    const { events } = await pollAll(connector);
    expect(events.filter((e) => orderIdOf(e) === orderId)).toEqual(webhook.events);
  });

  it('pages with next_page_token and finds every order once per pass', async () => {
    const { sim, connector } = await setup();
    const placed = new Set<string>();
    for (let i = 0; i < 120; i++) placed.add((await sim.placeOrder!([{ sku: i % 2 ? 'A' : 'B', qty: 1 }], { drop: true })).orderId);
    const { events, pages } = await pollAll(connector);
    expect(pages.length).toBeGreaterThanOrEqual(3);
    expect(pages[0]!.more).toBe(true);
    const ids = events.map((e) => e.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(new Set(events.map(orderIdOf))).toEqual(placed);
  });

  it('reads again a little before the last update it saw, and picks up a later change of an order already read', async () => {
    const { sim, connector } = await setup();
    const { orderId } = await sim.placeOrder!([{ sku: 'A', qty: 2 }], { drop: true });
    const pass = await pollAll(connector);
    expect(pass.events.map((e) => e.id)).toEqual([`tiktok-main:order:${orderId}:confirmed`]);
    sim.cancelOrder(orderId);
    const next = await pollAll(connector, pass.cursor);
    expect(next.events.map((e) => e.id)).toEqual([`tiktok-main:order:${orderId}:cancelled`]);
  });

  it('refuses a cursor it did not write', async () => {
    const { connector } = await setup();
    expect(isRejectedError(await connector.listOrders!('nope', signal).catch((e: unknown) => e))).toBe(true);
  });

  it('goes through the same token path as pushes: an expired token is renewed and the search signed again', async () => {
    const { sim, connector } = await setup();
    await sim.placeOrder!([{ sku: 'A', qty: 1 }], { drop: true });
    await pollAll(connector);
    sim.expireTokens();
    const { events } = await pollAll(connector);
    expect(events).toHaveLength(1);
    expect(sim.expiredTokenAnswers()).toBeGreaterThan(0);
    expect(sim.grants()).toBeGreaterThanOrEqual(2);
  });

  it('turns the rate-limit answer into a ThrottledError', async () => {
    const { sim, connector } = await setup();
    sim.setFault({ kind: 'throttle', retryAfterMs: 1000 });
    expect(isThrottledError(await connector.listOrders!(undefined, signal).catch((e: unknown) => e))).toBe(true);
  });
});

describe('TikTok listListings: onboarding', () => {
  it('lists every live SKU with the product and SKU ids the channel options need, and what TikTok shows', async () => {
    const { sim, connector } = await setup({ skusPerProduct: 2 }, ['A', 'B', 'C', 'D']);
    sim.setShown('B', 0);
    sim.setProductStatus(sim.productOf('C')!, 'SELLER_DEACTIVATED');
    const listings = await allListings(connector);
    expect(listings.map((l) => l.sku).sort()).toEqual(['A', 'B']);
    for (const listing of listings) {
      expect(listing.mapping).toEqual({ productId: sim.productOf(listing.sku), skuId: expect.any(String) });
      expect(listing.quantity).toBe(sim.shown(listing.sku));
    }
  });

  it('works for a channel that maps no SKU yet, and its mapping is what push needs', async () => {
    const skus = Array.from({ length: 5 }, (_, i) => `S${i}`);
    const { sim, options, connector, state } = await setup({ skusPerProduct: 2 }, skus, { skus: undefined });
    const listings = await allListings(connector);
    const mapped = await tiktok.create(
      { ...options, skus: Object.fromEntries(listings.map((l) => [l.sku, l.mapping as { productId: string; skuId: string }])) },
      { channelId: 'tiktok-main', logger: silent, signal, state, registerSecret() {} },
    );
    cleanup.push(async () => mapped.close?.());
    const results = await mapped.push(skus.map((sku, i) => ({ sku, quantity: 20 + i, version: 1 })), signal);
    expect(results.map((r) => r.status)).toEqual(skus.map(() => 'ok'));
    expect(skus.map((sku) => sim.shown(sku))).toEqual([20, 21, 22, 23, 24]);
  });

  it('pages with next_page_token through more products than one page holds', async () => {
    const skus = Array.from({ length: 130 }, (_, i) => `S${i}`);
    const { connector } = await setup({ skusPerProduct: 1 }, skus);
    const listings = await allListings(connector);
    expect(listings.map((l) => l.sku).sort()).toEqual([...skus].sort());
  });
});

describe('TikTok catch-up and onboarding against the Node SDK models', () => {
  it('sends order and product searches the SDK models accept, signed, with page_size and Content-Type', async () => {
    const { sim, proxy, connector, options } = await setup();
    await sim.placeOrder!([{ sku: 'A', qty: 1 }], { drop: true });
    await pollAll(connector);
    await allListings(connector);
    const searches = proxy.requests.filter((r) => r.path.endsWith('/search'));
    expect(new Set(searches.map((r) => `${r.method} ${r.path}`))).toEqual(new Set(['POST /order/202309/orders/search', 'POST /product/202309/products/search']));
    for (const req of searches) {
      const body = model(req.path.startsWith('/order') ? 'Order202309GetOrderListRequestBody' : 'Product202309SearchProductsRequestBody');
      expect(body(JSON.parse(req.body)), JSON.stringify(body.errors)).toBe(true);
      expect(Number(req.query.get('page_size'))).toBeGreaterThanOrEqual(1);
      expect(Number(req.query.get('page_size'))).toBeLessThanOrEqual(100);
      expect(req.headers['content-type']).toBe('application/json');
      const query = Object.fromEntries(req.query);
      expect(req.query.get('sign')).toBe(signRequest(options.appSecret as string, req.path, query, req.body));
    }
    const orderSearch = searches.find((r) => r.path.startsWith('/order'))!;
    expect(orderSearch.query.get('sort_field')).toBe('update_time');
    expect(JSON.parse(orderSearch.body)).toEqual({ update_time_ge: expect.any(Number) });
  });

  it('has the simulator answer both searches within the SDK response models, filters and tokens included', async () => {
    const { sim, proxy, connector } = await setup({ skusPerProduct: 1 }, ['A', 'B', 'C']);
    for (let i = 0; i < 60; i++) await sim.placeOrder!([{ sku: 'A', qty: 1 }], { drop: true });
    const { orderId } = await sim.placeOrder!([{ sku: 'B', qty: 2 }], { drop: true });
    sim.cancelUnits(orderId, 'B', 1);
    await pollAll(connector);
    await allListings(connector);
    const answers = proxy.requests.filter((r) => r.path.endsWith('/search'));
    expect(answers.length).toBeGreaterThanOrEqual(3);
    for (const r of answers) {
      const validate = model(r.path.startsWith('/order') ? 'Order202309GetOrderListResponse' : 'Product202309SearchProductsResponse');
      expect(validate(JSON.parse(r.responseBody!)), JSON.stringify(validate.errors)).toBe(true);
    }
  });

  it('has the simulator refuse a page_token that is not from the same search (invalid parameter); the connector then starts its pass again', async () => {
    const { sim, proxy, connector } = await setup();
    for (let i = 0; i < 60; i++) await sim.placeOrder!([{ sku: 'A', qty: 1 }], { drop: true });
    const first = await connector.listOrders!(undefined, signal);
    expect(first.more).toBe(true);
    const token = proxy.requests.at(-1)!.responseBody!.match(/"next_page_token":"([^"]+)"/)![1]!;
    // The same token under a cursor of another start time: not a token of that search.
    const forged = Buffer.from(JSON.stringify({ v: 1, since: 1, token, high: 1 })).toString('base64url');
    const restarted = await connector.listOrders!(forged, signal);
    expect(String(proxy.requests.at(-1)!.responseBody)).toMatch(/36009004/);
    expect(restarted).toMatchObject({ events: [], more: true });
    const again = await connector.listOrders!(restarted.cursor, signal);
    expect(proxy.requests.at(-1)!.query.get('page_token')).toBeNull();
    expect(again.events.length).toBeGreaterThan(0);
  });
});
