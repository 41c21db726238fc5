import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import { afterEach, describe, expect, it } from 'vitest';
import tiktok from '../../connectors/tiktok/index.ts';
import type { TiktokOptions } from '../../connectors/tiktok/options.ts';
import { signRequest } from '../../connectors/tiktok/request-signature.ts';
import { startTiktokSimulator, type TiktokSimulator, type TiktokSimulatorOptions } from '../../connectors/tiktok/simulator.ts';
import { memoryConnectorState } from '../../core/plugins/memory-connector-state.ts';
import { isWebhookPayloadError, type ConnectorInstance, type WebhookRequest } from '../../core/sdk.ts';
import { startRecordingProxy, type RecordingProxy } from '../support/recording-proxy.ts';

/*
 * The TikTok Shop channel held against published artefacts (test/fixtures/vendor/tiktok/SOURCE): request-signing
 * known answers and the webhook sample of a published TikTok Shop SDK's tests, and the request/response models of
 * TikTok Shop's Node SDK (as JSON Schema with extra fields refused).
 */
const FIXTURES = new URL('../fixtures/vendor/tiktok/', import.meta.url);
const fixture = <T>(name: string): T => JSON.parse(readFileSync(new URL(name, FIXTURES), 'utf8')) as T;
const knownAnswers = fixture<{
  request: Array<{ appSecret: string; path: string; query: Record<string, string>; body: string; sign: string }>;
  webhook: Array<{ appKey: string; appSecret: string; body: string }>;
}>('signing-known-answers.json');
const models = fixture<{ definitions: Record<string, unknown> }>('tiktok-shop-sdk-models.schema.json');
const ajv = new Ajv({ allErrors: true, strict: false });
const model = (name: string) => ajv.compile({ $ref: `#/definitions/${name}`, definitions: models.definitions });

const silent = { debug() {}, info() {}, warn() {}, error() {} };
const signal = new AbortController().signal;
const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanup.length) await cleanup.pop()!();
});

async function setup(simOptions: TiktokSimulatorOptions = {}, skus = ['A', 'B'], secrets?: Set<string>): Promise<{ sim: TiktokSimulator; proxy: RecordingProxy; options: TiktokOptions; connector: ConnectorInstance }> {
  const sim = await startTiktokSimulator({ latency: { p50: 0, p99: 0 }, skus: Object.fromEntries(skus.map((s) => [s, 10])), ...simOptions });
  const proxy = await startRecordingProxy(sim.url);
  cleanup.push(sim.close, proxy.close);
  const options = { ...sim.connectorOptions(skus), baseUrl: proxy.url, authBaseUrl: proxy.url };
  const connector = await tiktok.create(options, { channelId: 'tiktok-main', logger: silent, signal, state: memoryConnectorState(), registerSecret: (v) => secrets?.add(v) });
  cleanup.push(async () => connector.close?.());
  return { sim, proxy, options, connector };
}

const signed = (sim: TiktokSimulator, body: string): WebhookRequest => {
  const rawBody = Buffer.from(body);
  return { rawBody, headers: sim.signWebhook!(rawBody), path: '', query: {} };
};

describe('TikTok Shop signing against a published SDK\'s known answers', () => {
  it('signs the SDK test request to the published sign', () => {
    for (const c of knownAnswers.request) expect(signRequest(c.appSecret, c.path, c.query, c.body)).toBe(c.sign);
  });

  it('leaves sign and access_token out of the signed string, as the SDKs do', () => {
    const c = knownAnswers.request[0]!;
    expect(signRequest(c.appSecret, c.path, { ...c.query, sign: 'x', access_token: 'y' }, c.body)).toBe(c.sign);
  });

  it('accepts the SDK webhook sample signed as HMAC-SHA256(app_secret, app_key + body), and asks for its exact order id', async () => {
    const c = knownAnswers.webhook[0]!;
    const { proxy, connector } = await setup({ appKey: c.appKey, appSecret: c.appSecret });
    const authorization = createHmac('sha256', c.appSecret).update(c.appKey + c.body).digest('hex');
    const err = await connector.handleWebhook!({ rawBody: Buffer.from(c.body), headers: { authorization }, path: '', query: {} }, signal).catch((e: unknown) => e);
    // Signature accepted: the connector went on to fetch the order (the simulator knows no such order).
    expect(isWebhookPayloadError(err)).toBe(true);
    const detail = proxy.requests.find((r) => r.path === '/order/202309/orders')!;
    expect(detail.query.get('ids')).toBe('576684019603311365');
  });
});

describe('TikTok Shop requests against the Node SDK models', () => {
  it('sends inventory updates the UpdateInventoryRequestBody model accepts, with the Content-Type the SDK requires', async () => {
    const { proxy, connector } = await setup({ skusPerProduct: 2 }, ['A', 'B', 'C']);
    await connector.push([{ sku: 'A', quantity: 3, version: 1 }, { sku: 'B', quantity: 4, version: 1 }, { sku: 'C', quantity: 5, version: 1 }], signal);
    const updates = proxy.requests.filter((r) => /\/inventory\/update$/.test(r.path));
    expect(updates).toHaveLength(2);
    const validate = model('Product202309UpdateInventoryRequestBody');
    for (const call of updates) {
      expect(validate(JSON.parse(call.body)), JSON.stringify(validate.errors)).toBe(true);
      expect(call.headers['content-type']).toBe('application/json');
    }
  });

  it('sends GET order detail with Content-Type: application/json, which the SDK marks required', async () => {
    const { sim, proxy, connector } = await setup();
    const { startWebhookReceiver } = await import('../support/webhook-receiver.ts');
    const receiver = await startWebhookReceiver(sim, connector, signal);
    cleanup.push(receiver.close);
    await sim.placeOrder!([{ sku: 'A', qty: 1 }]);
    expect(receiver.statuses).toEqual([200]);
    const detail = proxy.requests.find((r) => r.method === 'GET' && r.path === '/order/202309/orders')!;
    expect(detail.headers['content-type']).toBe('application/json');
  });

  it('sends inventory searches the InventorySearchRequestBody model accepts', async () => {
    const { proxy, connector } = await setup();
    await connector.fetchQuantities!(['A', 'B'], signal);
    const call = proxy.requests.find((r) => r.path === '/product/202309/inventory/search')!;
    const validate = model('Product202309InventorySearchRequestBody');
    expect(validate(JSON.parse(call.body)), JSON.stringify(validate.errors)).toBe(true);
    expect(call.headers['content-type']).toBe('application/json');
  });

  it('has the simulator answer within the SDK response models: inventory update with per-SKU errors, order detail, inventory search', async () => {
    const { sim, options, connector } = await setup({ skusPerProduct: 2 }, ['A', 'B']);
    sim.setFault({ kind: 'item-unknown', skus: ['A'] });
    const { request } = await import('undici');
    const token = await tokenOf(sim, options);
    const call = async (method: 'GET' | 'POST', path: string, extra: Record<string, string>, body?: unknown): Promise<unknown> => {
      const query: Record<string, string> = { ...extra, app_key: options.appKey, shop_cipher: options.shopCipher, timestamp: String(Math.floor(Date.now() / 1000)) };
      const text = body === undefined ? '' : JSON.stringify(body);
      query.sign = signRequest(options.appSecret as string, path, query, text);
      const res = await request(`${sim.url}${path}?${new URLSearchParams(query)}`, { method, headers: { 'content-type': 'application/json', 'x-tts-access-token': token }, body: body === undefined ? undefined : text });
      return res.body.json();
    };
    const product = options.skus!.A!.productId;
    const update = (await call('POST', `/product/202309/products/${product}/inventory/update`, {}, { skus: ['A', 'B'].map((s) => ({ id: options.skus![s]!.skuId, inventory: [{ quantity: 1 }] })) })) as { data: { errors: unknown[] } };
    expect(model('Product202309UpdateInventoryResponse')(update)).toBe(true);
    expect(update.data.errors).toHaveLength(1);
    sim.setFault(null);
    const search = await call('POST', '/product/202309/inventory/search', {}, { sku_ids: [options.skus!.A!.skuId] });
    const validateSearch = model('Product202309InventorySearchResponse');
    expect(validateSearch(search), JSON.stringify(validateSearch.errors)).toBe(true);
    const { startWebhookReceiver } = await import('../support/webhook-receiver.ts');
    const receiver = await startWebhookReceiver(sim, connector, signal);
    cleanup.push(receiver.close);
    const { orderId } = await sim.placeOrder!([{ sku: 'B', qty: 2 }]);
    const detail = await call('GET', '/order/202309/orders', { ids: orderId });
    const validateDetail = model('Order202309GetOrderDetailResponse');
    expect(validateDetail(detail), JSON.stringify(validateDetail.errors)).toBe(true);
  });
});

describe('TikTok Shop per-SKU errors in data.errors[] of the inventory update', () => {
  it('marks ok only the SKUs without an error: unknown is not_listed, locked is busy', async () => {
    const { sim, connector } = await setup({ skusPerProduct: 3 }, ['A', 'B', 'C']);
    sim.setFault({ kind: 'item-unknown', skus: ['A'] });
    const first = await connector.push([{ sku: 'A', quantity: 7, version: 1 }, { sku: 'B', quantity: 7, version: 1 }], signal);
    expect(first).toEqual(expect.arrayContaining([{ sku: 'A', status: 'not_listed', reason: expect.stringContaining('12052048') }, { sku: 'B', status: 'ok', quantity: 7 }]));
    expect(sim.shown('A')).toBe(10);
    expect(sim.shown('B')).toBe(7);
    sim.setFault({ kind: 'item-locked', skus: ['C'] });
    const second = await connector.push([{ sku: 'B', quantity: 6, version: 2 }, { sku: 'C', quantity: 6, version: 1 }], signal);
    expect(second).toEqual(expect.arrayContaining([{ sku: 'B', status: 'ok', quantity: 6 }, { sku: 'C', status: 'busy', reason: expect.any(String) }]));
    expect(sim.shown('C')).toBe(10);
  });
});

describe('TikTok Shop access tokens', () => {
  it('refreshes at the token endpoint with app_key, app_secret, refresh_token and grant_type=refresh_token', async () => {
    const { proxy, options, connector } = await setup();
    await connector.push([{ sku: 'A', quantity: 1, version: 1 }], signal);
    const refresh = proxy.requests.find((r) => r.path === '/api/v2/token/refresh')!;
    expect(refresh.method).toBe('GET');
    expect(Object.fromEntries(refresh.query)).toEqual({ app_key: options.appKey, app_secret: options.appSecret, refresh_token: options.refreshToken, grant_type: 'refresh_token' });
  });

  it('keeps pushing across expiries of short-lived tokens', async () => {
    const { sim, connector } = await setup({ tokenLifetimeMs: 1_500 }, ['A', 'B']);
    for (let round = 0; round < 3; round++) {
      const results = await Promise.all(['A', 'B'].map((sku) => connector.push([{ sku, quantity: round, version: round + 1 }], signal)));
      expect(results.flat().every((r) => r.status === 'ok')).toBe(true);
      await new Promise((r) => setTimeout(r, 1_000));
    }
    expect(sim.grants()).toBeGreaterThanOrEqual(2);
  });

  it('renews a token TikTok answers as expired (105002) once and sends the call again', async () => {
    const { sim, connector } = await setup({}, ['A']);
    await connector.push([{ sku: 'A', quantity: 1, version: 1 }], signal);
    const before = sim.grants();
    sim.expireTokens();
    expect(await connector.push([{ sku: 'A', quantity: 9, version: 9 }], signal)).toEqual([{ sku: 'A', status: 'ok', quantity: 9 }]);
    expect(sim.expiredTokenAnswers()).toBe(1);
    expect(sim.grants()).toBe(before + 1);
  });

  it('registers every access token it sends as a secret', async () => {
    const secrets = new Set<string>();
    const { proxy, options, connector } = await setup({}, ['A'], secrets);
    await connector.push([{ sku: 'A', quantity: 1, version: 1 }], signal);
    const sent = proxy.requests.map((r) => r.headers['x-tts-access-token']).filter((t): t is string => typeof t === 'string');
    expect(sent.length).toBeGreaterThan(0);
    for (const token of sent) expect(secrets.has(token)).toBe(true);
    expect(secrets.has(options.refreshToken!)).toBe(true);
  });
});

describe('TikTok Shop error text', () => {
  it('keeps credentials out of push results when TikTok echoes the request back', async () => {
    const { sim, options, proxy, connector } = await setup();
    await connector.push([{ sku: 'A', quantity: 1, version: 1 }], signal);
    sim.setFault({ kind: 'echo-errors' });
    const results = await connector.push([{ sku: 'A', quantity: 2, version: 2 }], signal);
    const text = JSON.stringify(results);
    expect(results[0]?.status).not.toBe('ok');
    const tokens = proxy.requests.map((r) => r.headers['x-tts-access-token']).filter((t): t is string => typeof t === 'string');
    for (const secret of [...tokens, options.appSecret as string, options.refreshToken!]) expect(text).not.toContain(secret);
  });
});

describe('TikTok Shop webhooks: signed but malformed, and large order ids', () => {
  it('answers a signed but malformed webhook with WebhookPayloadError, never a TypeError', async () => {
    const { sim, connector } = await setup();
    for (const body of ['[]', 'null', '7', '{not json', '{"type":1}', '{"type":1,"data":null}', '{"type":1,"data":{"order_id":{"a":1}}}', '{"type":1,"data":{"order_id":"../../x"}}', '{"type":1,"data":{"order_id":-5}}']) {
      const err = await connector.handleWebhook!(signed(sim, body), signal).catch((e: unknown) => e);
      expect(isWebhookPayloadError(err), `${body}: ${String(err)}`).toBe(true);
    }
  });

  it('keeps an order id above 2^53 exact when the signed webhook carries it as a JSON number', async () => {
    const { sim, proxy, connector } = await setup();
    const body = JSON.stringify(fixture('order-status-change.webhook.json')).replace('"576684019603311365"', '576684019603311365');
    await connector.handleWebhook!(signed(sim, body), signal).catch(() => undefined);
    expect(proxy.requests.find((r) => r.path === '/order/202309/orders')?.query.get('ids')).toBe('576684019603311365');
  });
});

async function tokenOf(sim: TiktokSimulator, options: TiktokOptions): Promise<string> {
  const { request } = await import('undici');
  const query = new URLSearchParams({ app_key: options.appKey, app_secret: options.appSecret as string, refresh_token: options.refreshToken!, grant_type: 'refresh_token' });
  const res = await request(`${sim.url}/api/v2/token/refresh?${query}`);
  return ((await res.body.json()) as { data: { access_token: string } }).data.access_token;
}
