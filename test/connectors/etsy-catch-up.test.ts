import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import etsy from '../../connectors/etsy/index.ts';
import type { EtsyOptions } from '../../connectors/etsy/options.ts';
import { startEtsySimulator, type EtsySimulator, type EtsySimulatorOptions } from '../../connectors/etsy/simulator.ts';
import { memoryConnectorState } from '../../core/plugins/memory-connector-state.ts';
import { isRejectedError, isThrottledError, type ChannelListing, type ConnectorInstance, type InventoryEvent, type OrderPage } from '../../core/sdk.ts';
import { loadOpenApiContract } from '../support/openapi-contract.ts';
import { startRecordingProxy, type RecordingProxy } from '../support/recording-proxy.ts';
import { startWebhookReceiver } from '../support/webhook-receiver.ts';

/*
 * Missed-order catch-up (getShopReceipts) and onboarding (getListingsByShop + getListingInventory) of the Etsy
 * channel, held against Etsy's OpenAPI document (test/fixtures/vendor/etsy/SOURCE).
 */
const oas = loadOpenApiContract(new URL('../fixtures/vendor/etsy/openapi-3.0.0.trimmed.json', import.meta.url));
const silent = { debug() {}, info() {}, warn() {}, error() {} };
const signal = new AbortController().signal;
const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanup.length) await cleanup.pop()!();
});

interface Setup {
  sim: EtsySimulator;
  proxy: RecordingProxy;
  options: EtsyOptions;
  connector: ConnectorInstance;
  state: ReturnType<typeof memoryConnectorState>;
}

async function setup(simOptions: EtsySimulatorOptions = {}, skus = ['A', 'B'], overrides: Partial<EtsyOptions> = {}): Promise<Setup> {
  const sim = await startEtsySimulator({ latency: { p50: 0, p99: 0 }, skus: Object.fromEntries(skus.map((s) => [s, 50])), ...simOptions });
  const proxy = await startRecordingProxy(sim.url);
  cleanup.push(sim.close, proxy.close);
  const options = { ...sim.connectorOptions(skus), baseUrl: proxy.url, ...overrides };
  const state = memoryConnectorState();
  const connector = await etsy.create(options, { channelId: 'etsy-main', logger: silent, signal, state, registerSecret() {} });
  cleanup.push(async () => connector.close?.());
  return { sim, proxy, options, connector, state };
}

/** Every page from `cursor` until the channel says no more waits. */
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

describe('Etsy listOrders: missed-order catch-up', () => {
  it('finds an order whose webhook was lost for good and gives it the id its webhook gives', async () => {
    const { sim, connector } = await setup();
    const receiver = await startWebhookReceiver(sim, connector, signal);
    cleanup.push(receiver.close);
    const delivered = await sim.placeOrder!([{ sku: 'A', qty: 2 }]);
    const lost = await sim.placeOrder!([{ sku: 'B', qty: 1 }], { drop: true });
    expect(receiver.events.map((e) => (e as { orderId?: string }).orderId)).toEqual([delivered.orderId]);

    const { events } = await pollAll(connector);
    const byOrder = new Map(events.map((e) => [(e as { orderId?: string }).orderId, e]));
    expect(byOrder.get(lost.orderId)).toMatchObject({ id: `etsy-main:order:${lost.orderId}:confirmed`, type: 'order.confirmed', lines: [{ sku: 'B', qty: 1 }] });
    // The delivered order is found again with exactly the webhook's event: the ledger counts it once.
    expect(byOrder.get(delivered.orderId)).toEqual(receiver.events[0]);
  });

  it('gives a cancelled receipt the cancellation id its webhook gives', async () => {
    const { sim, connector } = await setup();
    const receiver = await startWebhookReceiver(sim, connector, signal);
    cleanup.push(receiver.close);
    const { orderId } = await sim.recordOrder([{ sku: 'A', qty: 3 }]);
    sim.cancelReceipt(Number(orderId));
    const body = JSON.stringify({ event_type: 'order.paid', resource_url: `https://openapi.etsy.com/v3/application/shops/${sim.shopId}/receipts/${orderId}`, shop_id: sim.shopId });
    const rawBody = Buffer.from(body);
    const webhook = await connector.handleWebhook!({ rawBody, headers: sim.signWebhook!(rawBody), path: '', query: {} }, signal);
    const { events } = await pollAll(connector);
    expect(events.filter((e) => 'orderId' in e && e.orderId === orderId)).toEqual(webhook.events);
    expect(webhook.events.map((e) => e.id)).toEqual([`etsy-main:order:${orderId}:cancelled`]);
  });

  it('pages through more receipts than one call returns, and finds every order once per pass', async () => {
    const { sim, connector } = await setup();
    const placed = new Set<string>();
    for (let i = 0; i < 130; i++) placed.add((await sim.placeOrder!([{ sku: i % 2 ? 'A' : 'B', qty: 1 }], { drop: true })).orderId);
    const { events, pages } = await pollAll(connector);
    expect(pages.length).toBeGreaterThanOrEqual(2);
    expect(pages[0]!.more).toBe(true);
    expect(pages.at(-1)!.more).toBe(false);
    const ids = events.map((e) => e.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(new Set(events.map((e) => (e as { orderId?: string }).orderId))).toEqual(placed);
  });

  it('reads again a little before the last change it saw, so the next pass cannot miss a receipt changed in the same second', async () => {
    const { sim, connector } = await setup();
    const first = await sim.placeOrder!([{ sku: 'A', qty: 1 }], { drop: true });
    const pass = await pollAll(connector);
    const again = await pollAll(connector, pass.cursor);
    expect(again.events.map((e) => e.id)).toContain(`etsy-main:order:${first.orderId}:confirmed`);
    const later = await sim.placeOrder!([{ sku: 'B', qty: 1 }], { drop: true });
    const next = await pollAll(connector, again.cursor);
    expect(next.events.map((e) => e.id)).toContain(`etsy-main:order:${later.orderId}:confirmed`);
  });

  it('starts its first pass a little before now: an older receipt is not read', async () => {
    const { sim, connector } = await setup();
    const { orderId } = await sim.recordOrder([{ sku: 'A', qty: 1 }]);
    const receipt = sim.receipt(Number(orderId))!;
    const anHourAgo = Math.floor(Date.now() / 1000) - 3600;
    Object.assign(receipt, { update_timestamp: anHourAgo, updated_timestamp: anHourAgo });
    expect((await pollAll(connector)).events).toEqual([]);
  });

  it('refuses a cursor it did not write, naming it', async () => {
    const { connector } = await setup();
    const err = await connector.listOrders!('not-a-cursor', signal).catch((e: unknown) => e);
    expect(isRejectedError(err)).toBe(true);
    expect(String(err)).toMatch(/cursor/);
  });

  it('goes through the same token path as pushes: an expired access token is refreshed and the read repeated', async () => {
    const { sim, connector } = await setup({ tokenLifetimeMs: 1500 });
    await sim.placeOrder!([{ sku: 'A', qty: 1 }], { drop: true });
    await pollAll(connector);
    const before = sim.refreshes();
    await new Promise((resolve) => setTimeout(resolve, 1600));
    const { events } = await pollAll(connector);
    expect(events).toHaveLength(1);
    expect(sim.refreshes()).toBeGreaterThan(before);
  });

  it('turns Etsy\'s 429 into a ThrottledError, so the host waits', async () => {
    const { sim, connector } = await setup();
    await connector.listOrders!(undefined, signal);
    sim.setFault({ kind: 'throttle', retryAfterMs: 2000 });
    const err = await connector.listOrders!(undefined, signal).catch((e: unknown) => e);
    expect(isThrottledError(err)).toBe(true);
  });
});

describe('Etsy listListings: onboarding', () => {
  it('lists every product SKU with the listing and product the channel options need, and what Etsy shows', async () => {
    const { sim, connector } = await setup({ productsPerListing: 2 }, ['A', 'B', 'C']);
    sim.setShown('C', 0);
    sim.setListingState(sim.listingOf('C')!, 'sold_out');
    const listings = await allListings(connector);
    expect(listings.map((l) => l.sku).sort()).toEqual(['A', 'B', 'C']);
    for (const listing of listings) {
      expect(listing.mapping).toEqual({ listingId: sim.listingOf(listing.sku), sku: listing.sku });
      expect(listing.quantity).toBe(sim.shown(listing.sku));
      expect(listing.title).toEqual(expect.any(String));
    }
  });

  it('works for a channel that maps no SKU yet, and its mapping is what push needs', async () => {
    const { sim, options, connector, state } = await setup({ productsPerListing: 3 }, ['A', 'B', 'C', 'D'], { listings: undefined });
    const listings = await allListings(connector);
    const mapped = await etsy.create(
      { ...options, listings: Object.fromEntries(listings.map((l) => [l.sku, l.mapping as { listingId: number; sku: string }])) },
      // The same channel, mapped now: it keeps the refresh token Etsy rotated.
      { channelId: 'etsy-main', logger: silent, signal, state, registerSecret() {} },
    );
    cleanup.push(async () => mapped.close?.());
    const results = await mapped.push(['A', 'B', 'C', 'D'].map((sku, i) => ({ sku, quantity: 10 + i, version: 1 })), signal);
    expect(results.map((r) => r.status)).toEqual(['ok', 'ok', 'ok', 'ok']);
    expect(['A', 'B', 'C', 'D'].map((sku) => sim.shown(sku))).toEqual([10, 11, 12, 13]);
  });

  it('pages through more listings than one call returns', async () => {
    const skus = Array.from({ length: 30 }, (_, i) => `S${i}`);
    const { connector } = await setup({ productsPerListing: 1 }, skus);
    const listings = await allListings(connector);
    expect(listings.map((l) => l.sku).sort()).toEqual([...skus].sort());
  });
});

describe('Etsy catch-up and onboarding against Etsy\'s OpenAPI document', () => {
  it('sends getShopReceipts, getListingsByShop and getListingInventory requests the document accepts', async () => {
    const { sim, proxy, connector } = await setup();
    await sim.placeOrder!([{ sku: 'A', qty: 1 }], { drop: true });
    await pollAll(connector);
    await allListings(connector);
    const api = proxy.requests.filter((r) => !r.path.startsWith('/v3/public/'));
    expect(new Set(api.map((r) => `${r.method} ${r.path.replace(/\d+/g, 'N')}`))).toEqual(
      new Set(['GET /vN/application/shops/N/receipts', 'GET /vN/application/shops/N/listings', 'GET /vN/application/listings/N/inventory']),
    );
    for (const req of api) expect({ req: `${req.method} ${req.url}`, problems: oas.checkRequest(req) }).toEqual({ req: `${req.method} ${req.url}`, problems: [] });
    expect(new URL(api[0]!.url, 'http://x').searchParams.get('min_last_modified')).toMatch(/^\d+$/);
  });

  it('has the simulator answer both lists, and their refusals, in the documented shapes', async () => {
    const { sim, options } = await setup();
    await sim.placeOrder!([{ sku: 'A', qty: 2 }], { drop: true });
    const grant = await request(`${sim.url}/v3/public/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', client_id: options.keystring, refresh_token: options.refreshToken! }).toString(),
    });
    const token = ((await grant.body.json()) as { access_token: string }).access_token;
    const get = async (path: string) => {
      const res = await request(`${sim.url}${path}`, { headers: { 'x-api-key': `${options.keystring}:${options.sharedSecret}`, authorization: `Bearer ${token}` } });
      return { path: path.split('?')[0]!, status: res.statusCode, body: (await res.body.json()) as unknown };
    };
    const shop = `/v3/application/shops/${sim.shopId}`;
    const answers = [
      await get(`${shop}/receipts?min_last_modified=${Math.floor(Date.now() / 1000) - 60}&sort_on=updated&sort_order=asc&limit=100&offset=0`),
      await get(`${shop}/listings?state=active&limit=25`),
      await get(`${shop}/receipts?limit=101`),
      await get(`${shop}/receipts?min_last_modified=5`),
      await get(`${shop}/listings?state=gone`),
    ];
    expect(answers.map((a) => a.status)).toEqual([200, 200, 400, 400, 400]);
    expect((answers[0]!.body as { count: number }).count).toBe(1);
    for (const a of answers) expect({ path: a.path, problems: oas.checkResponse('GET', a.path, a.status, a.body) }).toEqual({ path: a.path, problems: [] });
  });
});
