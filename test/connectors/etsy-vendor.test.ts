import { readFileSync } from 'node:fs';
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import etsy from '../../connectors/etsy/index.ts';
import type { EtsyOptions } from '../../connectors/etsy/options.ts';
import type { EtsyInventory } from '../../connectors/etsy/api.ts';
import { toInventoryUpdate } from '../../connectors/etsy/inventory-update.ts';
import { readReceipt } from '../../connectors/etsy/read-receipt.ts';
import { startEtsySimulator, type EtsySimulatorOptions } from '../../connectors/etsy/simulator.ts';
import { isRejectedError, isWebhookPayloadError, type ConnectorInstance, type WebhookRequest } from '../../core/sdk.ts';
import { memoryConnectorState } from '../../core/plugins/memory-connector-state.ts';
import { loadOpenApiContract } from '../support/openapi-contract.ts';
import { startRecordingProxy, type RecordingProxy } from '../support/recording-proxy.ts';

/**
 * The Etsy connector and simulator against what Etsy publishes (test/fixtures/vendor/etsy/SOURCE): its
 * OpenAPI document, its example order webhook and its OAuth answers.
 */
const fixture = (name: string) => new URL(`../fixtures/vendor/etsy/${name}`, import.meta.url);
const oas = loadOpenApiContract(fixture('openapi-3.0.0.trimmed.json'));
const example = readFileSync(fixture('webhook-order-paid.json'));
const oauth = JSON.parse(readFileSync(fixture('oauth-answers.json'), 'utf8')) as {
  expiredAccessToken: { status: number; body: unknown };
  refreshRequest: { path: string; contentType: string; fields: string[]; grantType: string };
  refreshAnswer: { fields: string[]; tokenType: string };
};

const silent = { debug() {}, info() {}, warn() {}, error() {} };
const signal = new AbortController().signal;
const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanup.length) await cleanup.pop()!();
});

interface Setup {
  sim: Awaited<ReturnType<typeof startEtsySimulator>>;
  proxy: RecordingProxy;
  options: EtsyOptions;
  connector: ConnectorInstance;
  secrets: string[];
  state: ReturnType<typeof memoryConnectorState>;
}

/** A connector talking to the simulator through a recording proxy, so every request can be checked as sent. */
async function setup(simOptions: EtsySimulatorOptions = {}, skus = ['A', 'B'], overrides: Partial<EtsyOptions> = {}, state = memoryConnectorState()): Promise<Setup> {
  const sim = await startEtsySimulator({ latency: { p50: 0, p99: 0 }, ...simOptions });
  cleanup.push(sim.close);
  const proxy = await startRecordingProxy(sim.url);
  cleanup.push(proxy.close);
  const options = { ...sim.connectorOptions(skus), baseUrl: proxy.url, ...overrides };
  const secrets: string[] = [];
  const connector = await etsy.create(options, { channelId: 'etsy-main', logger: silent, signal, state, registerSecret: (v) => secrets.push(v) });
  cleanup.push(async () => connector.close?.());
  return { sim, proxy, options, connector, secrets, state };
}

const signed = (sim: Setup['sim'], body: Buffer | string): WebhookRequest => {
  const rawBody = Buffer.from(body);
  return { rawBody, headers: sim.signWebhook!(rawBody), path: '', query: {} };
};

describe('Etsy: every request fits Etsy\'s OpenAPI document', () => {
  it('pushes, reads back and fetches receipts with requests the document accepts, headers included', async () => {
    const { sim, proxy, connector } = await setup({ skus: { A: 5, B: 7 } });
    expect(await connector.push([{ sku: 'A', quantity: 3, version: 1 }, { sku: 'B', quantity: 4, version: 1 }], signal)).toHaveLength(2);
    await connector.fetchQuantities!(['A', 'B'], signal);
    const { orderId } = await sim.recordOrder([{ sku: 'A', qty: 1 }]);
    const body = JSON.stringify({ event_type: 'order.paid', resource_url: `https://openapi.etsy.com/v3/application/shops/${sim.shopId}/receipts/${orderId}`, shop_id: sim.shopId });
    const outcome = await connector.handleWebhook!(signed(sim, body), signal);
    expect(outcome.events).toHaveLength(1);

    const api = proxy.requests.filter((r) => !r.url.startsWith(oauth.refreshRequest.path));
    expect(api.map((r) => `${r.method} ${r.url.replace(/\d+/g, 'N')}`)).toEqual([
      'GET /vN/application/listings/N/inventory',
      'PUT /vN/application/listings/N/inventory',
      'GET /vN/application/listings/N/inventory',
      'GET /vN/application/shops/N/receipts/N',
    ]);
    for (const req of api) expect({ req: `${req.method} ${req.url}`, problems: oas.checkRequest(req) }).toEqual({ req: `${req.method} ${req.url}`, problems: [] });
  });

  it('renews its token with the form Etsy documents for the refresh-token grant', async () => {
    const { proxy, connector } = await setup({ skus: { A: 5 } });
    await connector.push([{ sku: 'A', quantity: 1, version: 1 }], signal);
    const grants = proxy.requests.filter((r) => r.url === oauth.refreshRequest.path);
    expect(grants).toHaveLength(1);
    expect(grants[0]!.method).toBe('POST');
    expect(grants[0]!.headers['content-type']).toBe(oauth.refreshRequest.contentType);
    const form = new URLSearchParams(grants[0]!.body);
    expect([...form.keys()].sort()).toEqual([...oauth.refreshRequest.fields].sort());
    expect(form.get('grant_type')).toBe(oauth.refreshRequest.grantType);
  });
});

describe('Etsy simulator: answers in the shapes of Etsy\'s OpenAPI document', () => {
  it('answers inventory reads and writes, receipts and errors with the documented schemas', async () => {
    const { sim, options } = await setup({ skus: { A: 5, B: 7 } });
    const token = await (async () => {
      const res = await request(`${sim.url}${oauth.refreshRequest.path}`, {
        method: 'POST',
        headers: { 'content-type': oauth.refreshRequest.contentType },
        body: new URLSearchParams({ grant_type: 'refresh_token', client_id: options.keystring, refresh_token: options.refreshToken! }).toString(),
      });
      const body = (await res.body.json()) as Record<string, unknown>;
      expect(Object.keys(body).sort()).toEqual([...oauth.refreshAnswer.fields].sort());
      expect(body.token_type).toBe(oauth.refreshAnswer.tokenType);
      return body.access_token as string;
    })();
    const headers = { 'x-api-key': `${options.keystring}:${options.sharedSecret}`, authorization: `Bearer ${token}` };
    const call = async (method: 'GET' | 'PUT', path: string, body?: unknown) => {
      const res = await request(`${sim.url}${path}`, { method, headers: { ...headers, ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined });
      return { status: res.statusCode, body: (await res.body.json()) as unknown };
    };
    const listingPath = `/v3/application/listings/${sim.listingOf('A')}/inventory`;
    const read = await call('GET', listingPath);
    const { orderId } = await sim.recordOrder([{ sku: 'B', qty: 2 }]);
    const answers = [
      ['GET', listingPath, read],
      ['PUT', listingPath, await call('PUT', listingPath, toInventoryUpdate(read.body as EtsyInventory))],
      ['PUT', listingPath, await call('PUT', listingPath, { products: [] })],
      ['GET', '/v3/application/listings/1/inventory', await call('GET', '/v3/application/listings/1/inventory')],
      ['GET', `/v3/application/shops/${sim.shopId}/receipts/${orderId}`, await call('GET', `/v3/application/shops/${sim.shopId}/receipts/${orderId}`)],
    ] as const;
    expect(answers.map(([, , a]) => a.status)).toEqual([200, 200, 400, 404, 200]);
    for (const [method, path, answer] of answers) expect({ path, problems: oas.checkResponse(method, path, answer.status, answer.body) }).toEqual({ path, problems: [] });
  });

  it('answers an expired access token exactly as Etsy does', async () => {
    const { sim, options } = await setup({ tokenLifetimeMs: 50 });
    await new Promise((resolve) => setTimeout(resolve, 120));
    const res = await request(`${sim.url}/v3/application/listings/${sim.listingOf('A')}/inventory`, {
      headers: { 'x-api-key': `${options.keystring}:${options.sharedSecret}`, authorization: `Bearer ${options.accessToken}` },
    });
    expect({ status: res.statusCode, body: await res.body.json() }).toEqual(oauth.expiredAccessToken);
  });
});

describe('Etsy: order webhooks as Etsy sends them', () => {
  it('reads Etsy\'s own example body: fetches that shop\'s receipt from the configured API, never from the URL\'s host', async () => {
    const { sim, proxy, connector } = await setup({ shopId: 12345 });
    const err = await connector.handleWebhook!(signed(sim, example), signal).catch((e: unknown) => e);
    // The example names receipt 54321 of shop 12345, which this simulator does not hold: Etsy answers 404, and
    // a receipt Etsy does not know is a payload never worth re-delivering.
    expect(isWebhookPayloadError(err)).toBe(true);
    expect(proxy.requests.filter((r) => r.url.includes('/receipts/')).map((r) => `${r.method} ${r.url}`)).toEqual(['GET /v3/application/shops/12345/receipts/54321']);
  });

  it('turns a simulated order into one order.confirmed event with hub SKUs', async () => {
    const { sim, connector } = await setup({ skus: { A: 5, B: 5 } });
    const { orderId } = await sim.recordOrder([{ sku: 'A', qty: 2 }, { sku: 'B', qty: 1 }]);
    const body = JSON.stringify({ ...JSON.parse(example.toString()), resource_url: `https://openapi.etsy.com/v3/application/shops/${sim.shopId}/receipts/${orderId}`, shop_id: sim.shopId });
    const { events } = await connector.handleWebhook!(signed(sim, body), signal);
    expect(events).toEqual([
      expect.objectContaining({ id: `etsy-main:order:${orderId}:confirmed`, type: 'order.confirmed', orderId, lines: expect.arrayContaining([{ sku: 'A', qty: 2 }, { sku: 'B', qty: 1 }]) }),
    ]);
  });

  it('never lets a webhook field reach the request line: ../ and other non-digit ids are a WebhookPayloadError and no call is made (W12)', async () => {
    const { sim, proxy, connector } = await setup();
    const shop = sim.shopId;
    const urls = [
      `https://openapi.etsy.com/v3/application/shops/${shop}/receipts/../../listings/1/inventory`,
      `https://openapi.etsy.com/v3/application/shops/${shop}/receipts/1/../../../listings/1`,
      `https://openapi.etsy.com/v3/application/shops/../receipts/1`,
      `https://openapi.etsy.com/v3/application/shops/${shop}/receipts/%2e%2e%2f1`,
      `https://openapi.etsy.com/v3/application/shops/${shop}/receipts/1%20HTTP/1.1`,
      `https://openapi.etsy.com/v3/application/shops/${shop}/receipts/-1`,
      `/v3/application/shops/${shop}/receipts/1`,
    ];
    const bodies = [
      ...urls.map((resource_url) => ({ event_type: 'order.paid', resource_url, shop_id: shop })),
      // Ids given as fields instead of a URL reached the path unencoded before.
      { event_type: 'ORDER_PAID', shop_id: '../../listings/1/inventory?', data: { receipt_id: '1' } },
      { event_type: 'ORDER_PAID', shop_id: shop, data: { receipt_id: '../../../listings/1/inventory' } },
    ];
    for (const body of bodies) {
      const err = await connector.handleWebhook!(signed(sim, JSON.stringify(body)), signal).catch((e: unknown) => e);
      expect(isWebhookPayloadError(err), JSON.stringify(body)).toBe(true);
    }
    expect(proxy.requests.filter((r) => r.url.includes('/receipts') || r.url.includes('..'))).toEqual([]);
  });

  it('answers a signed but malformed body with WebhookPayloadError, never a TypeError', async () => {
    const { sim, connector } = await setup();
    const bodies = ['', 'not json', '[]', 'null', '"order.paid"', '{"event_type":5}', '{"event_type":"order.paid"}', '{"event_type":"order.paid","resource_url":{}}', '{"event_type":"order.paid","data":[]}'];
    for (const body of bodies) {
      const err = await connector.handleWebhook!(signed(sim, body), signal).catch((e: unknown) => e);
      expect({ body, payloadError: isWebhookPayloadError(err) }).toEqual({ body, payloadError: true });
    }
  });

  it('ignores an order of another shop than the channel\'s, without calling Etsy', async () => {
    const { sim, proxy, connector } = await setup();
    const body = JSON.stringify({ event_type: 'order.paid', resource_url: 'https://openapi.etsy.com/v3/application/shops/999/receipts/1', shop_id: 999 });
    expect(await connector.handleWebhook!(signed(sim, body), signal)).toEqual({ events: [] });
    expect(proxy.requests.filter((r) => r.url.includes('/receipts/'))).toEqual([]);
  });

  it('reads a receipt field of the wrong type as WebhookPayloadError naming the field', () => {
    const good = { status: 'paid', created_timestamp: 1_700_000_000, transactions: [{ listing_id: 1, sku: 'S', quantity: 1 }] };
    expect(readReceipt(good, '1')).toMatchObject({ cancelled: false, lines: [{ listingId: 1, sku: 'S', quantity: 1 }] });
    expect(readReceipt({ ...good, status: 'canceled' }, '1').cancelled).toBe(true);
    for (const [receipt, field] of [
      [null, 'body'],
      [{ ...good, status: 3 }, 'status'],
      [{ ...good, created_timestamp: 'yesterday' }, 'created_timestamp'],
      [{ ...good, created_timestamp: 1e20 }, 'created_timestamp'],
      [{ ...good, transactions: {} }, 'transactions'],
      [{ ...good, transactions: [null] }, 'transactions[0]'],
      [{ ...good, transactions: [{ listing_id: 1, sku: 'S', quantity: '1' }] }, 'transactions[0].quantity'],
      [{ ...good, transactions: [{ listing_id: 'x', sku: 'S', quantity: 1 }] }, 'transactions[0].listing_id'],
      [{ ...good, transactions: [{ listing_id: 1, sku: 7, quantity: 1 }] }, 'transactions[0].sku'],
    ] as const) {
      let err: unknown;
      try {
        readReceipt(receipt, '1');
      } catch (e) {
        err = e;
      }
      expect(isWebhookPayloadError(err) && (err as Error).message.includes(field), field).toBe(true);
    }
  });
});

describe('Etsy: per-item answers', () => {
  it('answers not_listed for a product Etsy no longer holds, and pushes the listing\'s other products', async () => {
    const { sim, connector } = await setup({ skus: { A: 5, B: 5 } });
    sim.setFault({ kind: 'item-unknown', skus: ['A'] });
    const results = await connector.push([{ sku: 'A', quantity: 1, version: 2 }, { sku: 'B', quantity: 2, version: 2 }], signal);
    expect(results).toContainEqual({ sku: 'A', status: 'not_listed', reason: expect.stringContaining('no product') });
    expect(results).toContainEqual({ sku: 'B', status: 'ok', quantity: 2 });
  });

  it('says it cannot simulate a "locked" answer, which Etsy does not document', async () => {
    const { sim } = await setup();
    expect(() => sim.setFault({ kind: 'item-locked', skus: ['A'] })).toThrow(/item-locked/);
  });
});

describe('Etsy: access tokens that expire', () => {
  it('keeps pushing across several token lifetimes, refreshing one at a time and keeping the rotated refresh token', async () => {
    const { sim, connector, state, options, secrets } = await setup({ tokenLifetimeMs: 400, skus: { A: 5, B: 5 } });
    for (let round = 0; round < 4; round++) {
      const results = await Promise.all([connector.push([{ sku: 'A', quantity: round, version: round + 1 }], signal), connector.push([{ sku: 'B', quantity: round, version: round + 1 }], signal)]);
      expect(results.flat().map((r) => r.status)).toEqual(['ok', 'ok']);
      await new Promise((resolve) => setTimeout(resolve, 450));
    }
    expect(sim.refreshes()).toBeGreaterThanOrEqual(2);
    const stored = Object.values(state.entries()).join('\n');
    expect(stored).not.toContain(options.refreshToken!);
    expect(stored).toMatch(/12345678\./);
    // Every token the connector held was handed to registerSecret.
    expect(secrets).toContain(options.refreshToken);
    for (const value of Object.values(state.entries())) {
      const token = (JSON.parse(value) as { refreshToken: string }).refreshToken;
      expect(secrets).toContain(token);
    }
  });

  it('continues the refresh-token chain after a restart, though Etsy retired the configured refresh token', async () => {
    const first = await setup({ skus: { A: 5 } });
    await first.connector.push([{ sku: 'A', quantity: 1, version: 1 }], signal);
    const secrets: string[] = [];
    const restarted = await etsy.create(first.options, { channelId: 'etsy-main', logger: silent, signal, state: first.state, registerSecret: (v) => secrets.push(v) });
    cleanup.push(async () => restarted.close?.());
    expect(await restarted.push([{ sku: 'A', quantity: 2, version: 2 }], signal)).toEqual([{ sku: 'A', status: 'ok', quantity: 2 }]);
    expect(first.sim.shown('A')).toBe(2);
  });

  it('stops with a RejectedError naming what to do when Etsy refuses the refresh token, without quoting it', async () => {
    const { connector, options } = await setup({ skus: { A: 5 } }, ['A'], { refreshToken: '12345678.not-a-token-etsy-issued' });
    const err = await connector.push([{ sku: 'A', quantity: 1, version: 1 }], signal).catch((e: unknown) => e);
    expect(isRejectedError(err)).toBe(true);
    expect((err as Error).message).toMatch(/authorise the app again/);
    expect((err as Error).message).not.toContain(options.refreshToken!);
  });
});
