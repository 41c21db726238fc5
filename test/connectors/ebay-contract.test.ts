import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import ebay from '../../connectors/ebay/index.ts';
import { startEbaySimulator, type EbaySimulator } from '../../connectors/ebay/simulator.ts';
import type { EbayOptions } from '../../connectors/ebay/options.ts';
import { memoryConnectorState } from '../../core/plugins/memory-connector-state.ts';
import { isWebhookPayloadError, isWebhookSignatureError, type ConnectorInstance, type WebhookRequest } from '../../core/sdk.ts';
import { loadOpenApi, requestSchemaName, requiredHeaders, schemaValidator } from '../support/openapi-3-schema.ts';
import { startRecordingProxy, type RecordingProxy } from '../support/recording-proxy.ts';

/*
 * The eBay channel held against eBay's own artefacts (test/fixtures/vendor/ebay/SOURCE): the event notification
 * SDK's signature test data, the sell inventory, sell fulfillment and notification OpenAPI contracts, and the
 * ORDER_CONFIRMATION notification shape.
 */
const FIXTURES = new URL('../fixtures/vendor/ebay/', import.meta.url);
const fixture = <T>(name: string): T => JSON.parse(readFileSync(new URL(name, FIXTURES), 'utf8')) as T;
const inventoryApi = loadOpenApi(new URL('sell_inventory_v1_oas3.trimmed.json', FIXTURES));
const fulfillmentApi = loadOpenApi(new URL('sell_fulfillment_v1_oas3.trimmed.json', FIXTURES));
const notificationApi = loadOpenApi(new URL('commerce_notification_v1_oas3.trimmed.json', FIXTURES));

interface SdkCase {
  signature: string;
  message: unknown;
  response: { key: string; algorithm: string; digest: string };
  public_key: string;
}
const sdkCases = fixture<Record<'VALID' | 'INVALID' | 'SIGNATURE_MISMATCH', SdkCase>>('event-notification-sdk-test.json');

const silent = { debug() {}, info() {}, warn() {}, error() {} };
const signal = new AbortController().signal;
const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanup.length) await cleanup.pop()!();
});

async function connectorFor(options: EbayOptions, secrets?: Set<string>): Promise<ConnectorInstance> {
  const connector = await ebay.create(options, {
    channelId: 'ebay-main',
    logger: silent,
    signal,
    state: memoryConnectorState(),
    registerSecret: (value) => secrets?.add(value),
  });
  cleanup.push(async () => connector.close?.());
  return connector;
}

async function simulatorBehindProxy(skus = ['A', 'B'], simOptions: Parameters<typeof startEbaySimulator>[0] = {}): Promise<{ sim: EbaySimulator; proxy: RecordingProxy; options: EbayOptions }> {
  const sim = await startEbaySimulator({ latency: { p50: 0, p99: 0 }, skus: Object.fromEntries(skus.map((s) => [s, 10])), ...simOptions });
  const proxy = await startRecordingProxy(sim.url);
  cleanup.push(sim.close, proxy.close);
  return { sim, proxy, options: { ...sim.connectorOptions(skus), baseUrl: proxy.url } };
}

/** A stand-in for eBay's token and public key endpoints answering exactly what the SDK test data says eBay answers. */
async function ebayServingKey(response: SdkCase['response']): Promise<{ url: string; keyFetches: () => number }> {
  let fetches = 0;
  const server = createServer((req, res) => {
    if (req.url === '/identity/v1/oauth2/token') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ access_token: 'v^1.1#app', expires_in: 7200, token_type: 'Application Access Token' }));
      return;
    }
    if (req.url?.startsWith('/commerce/notification/v1/public_key/')) {
      fetches += 1;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(response));
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanup.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, keyFetches: () => fetches };
}

/** The notification as eBay posts it: the message serialised compactly (what eBay's SDK verifies) and its header. */
const sdkDelivery = (c: SdkCase): WebhookRequest => ({
  rawBody: Buffer.from(JSON.stringify(c.message)),
  headers: { 'content-type': 'application/json', 'x-ebay-signature': c.signature },
  path: '',
  query: {},
});

const sdkOptions = (baseUrl: string): EbayOptions => ({ baseUrl, clientId: 'PROD1234ABCD', clientSecret: 'PRODSSSXXXZZZZ', refreshToken: 'v^1.1#refresh', listings: {} });

describe('eBay notifications against eBay event-notification SDK test data', () => {
  it('accepts the SDK VALID case, verified with the one-line PEM key getPublicKey returns', async () => {
    const ebayApi = await ebayServingKey(sdkCases.VALID.response);
    const connector = await connectorFor(sdkOptions(ebayApi.url));
    // MARKETPLACE_ACCOUNT_DELETION is signed and genuine, but carries no stock: accepted with no events.
    await expect(connector.handleWebhook!(sdkDelivery(sdkCases.VALID), signal)).resolves.toEqual({ events: [] });
    expect(ebayApi.keyFetches()).toBe(1);
  });

  it('refuses the SDK INVALID case (another message under the same signature)', async () => {
    const ebayApi = await ebayServingKey(sdkCases.INVALID.response);
    const connector = await connectorFor(sdkOptions(ebayApi.url));
    const err = await connector.handleWebhook!(sdkDelivery(sdkCases.INVALID), signal).catch((e: unknown) => e);
    expect(isWebhookSignatureError(err)).toBe(true);
  });

  it('refuses the SDK SIGNATURE_MISMATCH case', async () => {
    const ebayApi = await ebayServingKey(sdkCases.SIGNATURE_MISMATCH.response);
    const connector = await connectorFor(sdkOptions(ebayApi.url));
    const err = await connector.handleWebhook!(sdkDelivery(sdkCases.SIGNATURE_MISMATCH), signal).catch((e: unknown) => e);
    expect(isWebhookSignatureError(err)).toBe(true);
  });

  it('has the simulator serve its key in the shape of the SDK test data: one-line PEM, ECDSA, SHA1', async () => {
    const { sim, options } = await simulatorBehindProxy();
    const token = await (await import('undici')).request(`${sim.url}/identity/v1/oauth2/token`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${options.clientId}:${options.clientSecret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=client_credentials&scope=https%3A%2F%2Fapi.ebay.com%2Foauth%2Fapi_scope',
    });
    const { access_token } = (await token.body.json()) as { access_token: string };
    const res = await (await import('undici')).request(`${sim.url}/commerce/notification/v1/public_key/${sim.signingKid()}`, { headers: { authorization: `Bearer ${access_token}` } });
    const key = (await res.body.json()) as SdkCase['response'];
    expect(schemaValidator(notificationApi, 'PublicKey')(key)).toBe(true);
    expect(key.algorithm).toBe(sdkCases.VALID.response.algorithm);
    expect(key.digest).toBe(sdkCases.VALID.response.digest);
    expect(key.key).toMatch(/^-----BEGIN PUBLIC KEY-----[A-Za-z0-9+/=]+-----END PUBLIC KEY-----$/);
  });
});

describe('eBay requests against the sell inventory and fulfillment OpenAPI contracts', () => {
  it('batches as many SKUs per push as the bulkUpdatePriceQuantity method text allows: one', () => {
    const text = (inventoryApi.paths['/bulk_update_price_quantity']!.post as unknown as { description: string }).description;
    expect(text).toContain('Only one SKU (one product) can be updated per call');
    expect(text).toMatch(/Up to 25 offers associated with an inventory item/);
    expect(ebay.capabilities.maxBatchSize).toBe(1);
  });

  it('sends bulkUpdatePriceQuantity bodies that the BulkPriceQuantity schema accepts, one SKU each, with Content-Type', async () => {
    const { proxy, options } = await simulatorBehindProxy(['A', 'B'], { offersPerItem: 3 });
    const connector = await connectorFor(options);
    await connector.push([{ sku: 'A', quantity: 4, version: 1 }], signal);
    await connector.push([{ sku: 'B', quantity: 0, version: 1 }], signal);
    const calls = proxy.requests.filter((r) => r.path === '/sell/inventory/v1/bulk_update_price_quantity');
    expect(calls).toHaveLength(2);
    const validate = schemaValidator(inventoryApi, requestSchemaName(inventoryApi, '/bulk_update_price_quantity', 'post'));
    for (const call of calls) {
      const body = JSON.parse(call.body) as { requests: Array<{ offers: unknown[] }> };
      expect(validate(body), JSON.stringify(validate.errors)).toBe(true);
      expect(body.requests).toHaveLength(1);
      expect(body.requests[0]!.offers).toHaveLength(3);
      for (const header of requiredHeaders(inventoryApi, '/bulk_update_price_quantity', 'post')) expect(call.headers[header], header).toMatch(/^application\/json/);
    }
  });

  it('sends bulkGetInventoryItem bodies that the BulkGetInventoryItem schema accepts, with Content-Type', async () => {
    const { proxy, options } = await simulatorBehindProxy(['A', 'B']);
    const connector = await connectorFor(options);
    await connector.fetchQuantities!(['A', 'B'], signal);
    const call = proxy.requests.find((r) => r.path === '/sell/inventory/v1/bulk_get_inventory_item')!;
    const validate = schemaValidator(inventoryApi, requestSchemaName(inventoryApi, '/bulk_get_inventory_item', 'post'));
    expect(validate(JSON.parse(call.body)), JSON.stringify(validate.errors)).toBe(true);
    for (const header of requiredHeaders(inventoryApi, '/bulk_get_inventory_item', 'post')) expect(call.headers[header], header).toMatch(/^application\/json/);
  });

  it('has the simulator answer getOrder with a body the fulfillment Order schema accepts, no field eBay does not define', async () => {
    const { sim, options } = await simulatorBehindProxy(['A', 'B']);
    const connector = await connectorFor(options);
    const { startWebhookReceiver } = await import('../support/webhook-receiver.ts');
    const receiver = await startWebhookReceiver(sim, connector, signal);
    cleanup.push(receiver.close);
    const { orderId } = await sim.placeOrder!([{ sku: 'A', qty: 2 }, { sku: 'B', qty: 1 }]);
    const { request } = await import('undici');
    const { access_token } = (await (
      await request(`${sim.url}/identity/v1/oauth2/token`, {
        method: 'POST',
        headers: { authorization: `Basic ${Buffer.from(`${options.clientId}:${options.clientSecret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: options.refreshToken!, scope: 'https://api.ebay.com/oauth/api_scope/sell.fulfillment' }).toString(),
      })
    ).body.json()) as { access_token: string };
    const order = (await (await request(`${sim.url}/sell/fulfillment/v1/order/${orderId}`, { headers: { authorization: `Bearer ${access_token}` } })).body.json()) as unknown;
    const validate = schemaValidator(fulfillmentApi, 'Order');
    expect(validate(order), JSON.stringify(validate.errors)).toBe(true);
    expect(validate(fixture('fulfillment-order.template.json'))).toBe(true);
  });

  it('sends the refresh-token grant eBay documents: form-encoded, Basic credentials, grant_type and scope', async () => {
    const { proxy, options } = await simulatorBehindProxy(['A']);
    const connector = await connectorFor(options);
    await connector.push([{ sku: 'A', quantity: 1, version: 1 }], signal);
    const grant = proxy.requests.find((r) => r.path === '/identity/v1/oauth2/token')!;
    expect(grant.method).toBe('POST');
    expect(grant.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(grant.headers.authorization).toBe(`Basic ${Buffer.from(`${options.clientId}:${options.clientSecret}`).toString('base64')}`);
    const form = new URLSearchParams(grant.body);
    expect(form.get('grant_type')).toBe('refresh_token');
    expect(form.get('refresh_token')).toBe(options.refreshToken);
    expect(form.get('scope')?.split(' ')).toEqual(expect.arrayContaining(['https://api.ebay.com/oauth/api_scope/sell.inventory']));
  });
});

describe('eBay ORDER_CONFIRMATION notifications in the shape eBay delivers', () => {
  /** The example notification, naming an order the simulator knows, signed as eBay signs. */
  async function exampleFor(sim: EbaySimulator, orderId: string | number, rawOverride?: string): Promise<WebhookRequest> {
    const notification = fixture<{ notification: { data: { order: { orderId: unknown } } } }>('order-confirmation.notification.json');
    notification.notification.data.order.orderId = orderId;
    const rawBody = Buffer.from(rawOverride ?? JSON.stringify(notification));
    return { rawBody, headers: sim.signWebhook!(rawBody), path: '', query: {} };
  }

  it('reaches order.confirmed from data.order.orderId of eBay example notification', async () => {
    const { sim, options } = await simulatorBehindProxy(['A', 'B']);
    const connector = await connectorFor(options);
    const order = await placeSilently(sim, [{ sku: 'A', qty: 3 }]);
    const outcome = await connector.handleWebhook!(await exampleFor(sim, order), signal);
    expect(outcome.events).toEqual([expect.objectContaining({ id: `ebay-main:order:${order}:confirmed`, type: 'order.confirmed', lines: [{ sku: 'A', qty: 3 }] })]);
  });

  it('keeps an order id above 2^53 exact when a signed notification carries it as a JSON number', async () => {
    const { sim, proxy, options } = await simulatorBehindProxy(['A']);
    const connector = await connectorFor(options);
    const big = '12345678901234567890';
    const raw = JSON.stringify(fixture('order-confirmation.notification.json')).replace('"13-14786-65872"', big);
    const err = await connector.handleWebhook!(await exampleFor(sim, 0, raw), signal).catch((e: unknown) => e);
    // The simulator knows no such order: the point is which id was asked for.
    expect(isWebhookPayloadError(err)).toBe(true);
    expect(proxy.requests.map((r) => r.path)).toContain(`/sell/fulfillment/v1/order/${big}`);
  });

  it('answers a signed but malformed notification with WebhookPayloadError, never a TypeError', async () => {
    const { sim, options } = await simulatorBehindProxy(['A']);
    const connector = await connectorFor(options);
    // Prime the key cache with a genuine notification so even non-JSON bodies are judged against the key.
    await connector.handleWebhook!(await exampleFor(sim, await placeSilently(sim, [{ sku: 'A', qty: 1 }])), signal);
    const bodies = [
      '[]',
      'null',
      '"text"',
      '{not json',
      '{}',
      '{"metadata":5}',
      '{"metadata":{"topic":"ORDER_CONFIRMATION"}}',
      '{"metadata":{"topic":"ORDER_CONFIRMATION"},"notification":{"data":null}}',
      '{"metadata":{"topic":"ORDER_CONFIRMATION"},"notification":{"data":{"order":{"orderId":{"x":1}}}}}',
      '{"metadata":{"topic":"ORDER_CONFIRMATION"},"notification":{"data":{"order":{"orderId":"../../identity/v1/oauth2/token"}}}}',
      '{"metadata":{"topic":"ORDER_CONFIRMATION"},"notification":{"data":{"order":{"orderId":-1}}}}',
    ];
    for (const body of bodies) {
      const rawBody = Buffer.from(body);
      const err = await connector.handleWebhook!({ rawBody, headers: sim.signWebhook!(rawBody), path: '', query: {} }, signal).catch((e: unknown) => e);
      expect(isWebhookPayloadError(err), `${body}: ${String(err)}`).toBe(true);
    }
  });
});

describe('eBay key lookups (W5): the cheap checks first, and a cap', () => {
  it('300 unsigned or forged notifications make at most the per-minute cap of key lookups', async () => {
    const { sim, proxy, options } = await simulatorBehindProxy(['A']);
    const connector = await connectorFor({ ...options, publicKeyFetchesPerMinute: 5 });
    const body = Buffer.from(JSON.stringify(fixture('order-confirmation.notification.json')));
    const genuine = sim.signWebhook!(body)['x-ebay-signature']!;
    const decoded = JSON.parse(Buffer.from(genuine, 'base64').toString()) as Record<string, string>;
    const forgedHeader = (i: number) => Buffer.from(JSON.stringify({ ...decoded, kid: `forged-${i}` })).toString('base64');
    let answered = 0;
    for (let i = 0; i < 300; i++) {
      const variant = i % 3;
      const headers: Record<string, string | undefined> =
        variant === 0 ? {} : variant === 1 ? { 'x-ebay-signature': Buffer.from(`{"kid":"k${i}"}`).toString('base64') } : { 'x-ebay-signature': forgedHeader(i) };
      const err = await connector.handleWebhook!({ rawBody: body, headers, path: '', query: {} }, signal).catch((e: unknown) => e);
      if (err instanceof Error) answered += 1;
    }
    expect(answered).toBe(300);
    const lookups = proxy.requests.filter((r) => r.path.startsWith('/commerce/notification/v1/public_key/'));
    expect(lookups.length).toBeGreaterThan(0);
    expect(lookups.length).toBeLessThanOrEqual(5);
  });

  it('fetches no key for a malformed header or a body that is not JSON', async () => {
    const { sim, proxy, options } = await simulatorBehindProxy(['A']);
    const connector = await connectorFor(options);
    const notJson = Buffer.from('not json at all');
    const signedNotJson = { rawBody: notJson, headers: sim.signWebhook!(notJson), path: '', query: {} };
    const malformed = ['', 'e30=', Buffer.from('{"alg":"ecdsa","kid":"../x","signature":"AAAAAAAAAAAAAAAAAAAA"}').toString('base64'), '%%%'];
    for (const header of malformed) {
      const err = await connector.handleWebhook!({ rawBody: Buffer.from('{}'), headers: { 'x-ebay-signature': header }, path: '', query: {} }, signal).catch((e: unknown) => e);
      expect(isWebhookSignatureError(err)).toBe(true);
    }
    const err = await connector.handleWebhook!(signedNotJson, signal).catch((e: unknown) => e);
    expect(isWebhookSignatureError(err) || isWebhookPayloadError(err)).toBe(true);
    expect(proxy.requests.filter((r) => r.path.startsWith('/commerce/notification/v1/public_key/'))).toHaveLength(0);
  });
});

describe('eBay per-item answers in eBay error shape', () => {
  it('maps the item-unknown fault (25702) to not_listed and item-locked (25025) to busy', async () => {
    const { sim, options } = await simulatorBehindProxy(['A', 'B']);
    const connector = await connectorFor(options);
    sim.setFault({ kind: 'item-unknown', skus: ['A'] });
    expect(await connector.push([{ sku: 'A', quantity: 2, version: 1 }], signal)).toEqual([{ sku: 'A', status: 'not_listed', reason: expect.stringContaining('25702') }]);
    sim.setFault({ kind: 'item-locked', skus: ['B'] });
    expect(await connector.push([{ sku: 'B', quantity: 2, version: 1 }], signal)).toEqual([{ sku: 'B', status: 'busy', reason: expect.stringContaining('25025') }]);
    sim.setFault(null);
    expect(await connector.push([{ sku: 'B', quantity: 2, version: 1 }], signal)).toEqual([{ sku: 'B', status: 'ok', quantity: 2 }]);
  });
});

describe('eBay user tokens: refreshed, and answered as eBay answers them when expired', () => {
  it('has the simulator answer an expired token with 401 and error 1001', async () => {
    const { sim, options } = await simulatorBehindProxy(['A'], { tokenLifetimeMs: 200 });
    const connector = await connectorFor(options);
    await connector.push([{ sku: 'A', quantity: 1, version: 1 }], signal);
    const token = await userTokenOf(sim);
    await new Promise((r) => setTimeout(r, 300));
    const { request } = await import('undici');
    const res = await request(`${sim.url}/sell/fulfillment/v1/order/1-2-3`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.statusCode).toBe(401);
    expect(((await res.body.json()) as { errors: Array<{ errorId: number }> }).errors[0]?.errorId).toBe(1001);
  });

  it('keeps pushing across token expiries, refreshing as tokens lapse, one refresh for concurrent pushes', async () => {
    const { sim, options } = await simulatorBehindProxy(['A', 'B', 'C', 'D'], { tokenLifetimeMs: 400 });
    const connector = await connectorFor(options);
    for (let round = 0; round < 4; round++) {
      const results = await Promise.all(['A', 'B', 'C', 'D'].map((sku) => connector.push([{ sku, quantity: round, version: round + 1 }], signal)));
      expect(results.flat().every((r) => r.status === 'ok')).toBe(true);
      await new Promise((r) => setTimeout(r, 450));
    }
    // One grant per round at most (the four concurrent pushes share it), never one per push.
    expect(sim.grants().refresh_token).toBeGreaterThanOrEqual(2);
    expect(sim.grants().refresh_token).toBeLessThanOrEqual(4);
  });

  it('renews a token eBay refuses as expired (401, 1001) and sends the call again', async () => {
    const { sim, options } = await simulatorBehindProxy(['A']);
    const connector = await connectorFor(options);
    await connector.push([{ sku: 'A', quantity: 1, version: 1 }], signal);
    sim.expireTokens();
    expect(await connector.push([{ sku: 'A', quantity: 2, version: 2 }], signal)).toEqual([{ sku: 'A', status: 'ok', quantity: 2 }]);
    expect(sim.expiredTokenAnswers()).toBe(1);
    expect(sim.grants().refresh_token).toBe(2);
  });

  it('registers every token and credential it sends as a secret', async () => {
    const { sim, proxy, options } = await simulatorBehindProxy(['A']);
    const secrets = new Set<string>();
    const connector = await connectorFor(options, secrets);
    await connector.push([{ sku: 'A', quantity: 1, version: 1 }], signal);
    await connector.handleWebhook!(await signedExample(sim, await placeSilently(sim, [{ sku: 'A', qty: 1 }])), signal);
    const sent = proxy.requests.map((r) => r.headers.authorization).filter((h): h is string => typeof h === 'string');
    expect(sent.length).toBeGreaterThanOrEqual(4);
    for (const header of sent) expect(secrets.has(header.replace(/^(Bearer|Basic) /, ''))).toBe(true);
    expect(secrets.has(options.refreshToken!)).toBe(true);
  });
});

/** Records an order in the simulator without delivering its notifications (no webhook target). */
async function placeSilently(sim: EbaySimulator, lines: Array<{ sku: string; qty: number }>): Promise<string> {
  const sink = createServer((_req, res) => res.writeHead(200).end());
  await new Promise<void>((resolve) => sink.listen(0, '127.0.0.1', resolve));
  sim.setWebhookTarget!(`http://127.0.0.1:${(sink.address() as AddressInfo).port}/`);
  try {
    return (await sim.placeOrder!(lines)).orderId;
  } finally {
    await new Promise<void>((resolve) => sink.close(() => resolve()));
  }
}

async function signedExample(sim: EbaySimulator, orderId: string): Promise<WebhookRequest> {
  const notification = fixture<{ notification: { data: { order: { orderId: string } } } }>('order-confirmation.notification.json');
  notification.notification.data.order.orderId = orderId;
  const rawBody = Buffer.from(JSON.stringify(notification));
  return { rawBody, headers: sim.signWebhook!(rawBody), path: '', query: {} };
}

async function userTokenOf(sim: EbaySimulator): Promise<string> {
  const { clientId, clientSecret, refreshToken } = sim.credentials();
  const { request } = await import('undici');
  const res = await request(`${sim.url}/identity/v1/oauth2/token`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken, scope: 'https://api.ebay.com/oauth/api_scope/sell.fulfillment' }).toString(),
  });
  return ((await res.body.json()) as { access_token: string }).access_token;
}
