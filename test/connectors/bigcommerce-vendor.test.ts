import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import bigcommerce from '../../connectors/bigcommerce/index.ts';
import type { BigCommerceOptions } from '../../connectors/bigcommerce/options.ts';
import { exactOrderId, readOrder, readOrderProducts } from '../../connectors/bigcommerce/read-order.ts';
import { startBigCommerceSimulator, type BigCommerceSimulatorOptions } from '../../connectors/bigcommerce/simulator.ts';
import { isWebhookPayloadError, type ConnectorInstance, type WebhookRequest } from '../../core/sdk.ts';
import { memoryConnectorState } from '../../core/plugins/memory-connector-state.ts';
import { loadOpenApiContract } from '../support/openapi-contract.ts';
import { startRecordingProxy, type RecordingProxy } from '../support/recording-proxy.ts';

/**
 * The BigCommerce connector and simulator against what BigCommerce publishes (test/fixtures/vendor/bigcommerce/SOURCE):
 * the inventory and orders OpenAPI documents with their examples, the webhook payload examples and the documented
 * way webhooks are signed.
 */
const fixture = (name: string) => new URL(`../fixtures/vendor/bigcommerce/${name}`, import.meta.url);
const STORE = 'simstore';
const inventory = loadOpenApiContract(fixture('inventory.v3.trimmed.json'), { basePath: `/stores/${STORE}/v3` });
const orders = loadOpenApiContract(fixture('orders.v2.trimmed.json'), { basePath: `/stores/${STORE}/v2` });
const inventoryDocument = JSON.parse(readFileSync(fixture('inventory.v3.trimmed.json'), 'utf8')) as {
  paths: Record<string, { put: { responses: Record<string, { content: Record<string, { examples: Record<string, { value: unknown }> }> }> } }>;
};
/** BigCommerce's own example of a refused absolute adjustment: the item named only in `title`, `errors` empty. */
const REFUSAL_EXAMPLE = Object.values(inventoryDocument.paths['/inventory/adjustments/absolute']!.put.responses['422']!.content['application/problem+json']!.examples)[0]!.value;
const createdExample = readFileSync(fixture('webhook-store_order_created.json'), 'utf8');

const quiet = { debug() {}, info() {}, warn() {}, error() {} };
const signal = new AbortController().signal;
const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanup.length) await cleanup.pop()!();
});

async function connectorFor(options: BigCommerceOptions, secrets: string[] = []): Promise<ConnectorInstance> {
  const connector = await bigcommerce.create(options, { channelId: 'bc-main', logger: quiet, signal, state: memoryConnectorState(), registerSecret: (v) => secrets.push(v) });
  cleanup.push(async () => connector.close?.());
  return connector;
}

async function setup(simOptions: BigCommerceSimulatorOptions = {}, skus = ['BOOT', 'SOCK']) {
  const sim = await startBigCommerceSimulator({ latency: { p50: 0, p99: 0 }, skus: { BOOT: 5, SOCK: 5 }, ...simOptions });
  cleanup.push(sim.close);
  const proxy: RecordingProxy = await startRecordingProxy(sim.url);
  cleanup.push(proxy.close);
  const options = { ...sim.connectorOptions(skus), baseUrl: proxy.url };
  const secrets: string[] = [];
  const connector = await connectorFor(options, secrets);
  return { sim, proxy, options, connector, secrets };
}

const signed = (sim: { signWebhook?(b: Buffer): Record<string, string> }, body: string): WebhookRequest => {
  const rawBody = Buffer.from(body);
  return { rawBody, headers: sim.signWebhook!(rawBody), path: '', query: {} };
};

/** A stand-in for the adjustments endpoint that answers from a script, to replay BigCommerce's documented answers. */
async function scriptedStore(answer: (items: Array<Record<string, unknown>>) => { status: number; body: unknown }) {
  const calls: Array<Array<Record<string, unknown>>> = [];
  const server = createServer(async (req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const items = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { items: Array<Record<string, unknown>> }).items;
    calls.push(items);
    const { status, body } = answer(items);
    res.writeHead(status, { 'content-type': status === 200 ? 'application/json' : 'application/problem+json' }).end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanup.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, calls };
}

const storeOptions = (baseUrl: string, variants: number[]): BigCommerceOptions => ({
  baseUrl,
  storeHash: STORE,
  accessToken: 'bc-token',
  locationId: 1,
  skus: Object.fromEntries(variants.map((v) => [`V${v}`, { variantId: v }])),
});

describe('BigCommerce: 422 answers as BigCommerce documents them', () => {
  it('rejects the item BigCommerce\'s own 422 example names in its title, and writes the others', async () => {
    // The example names variant_id 106: refused whenever it is in the batch, the rest applied.
    const store = await scriptedStore((items) => (items.some((i) => i.variant_id === 106) ? { status: 422, body: REFUSAL_EXAMPLE } : { status: 200, body: { transaction_id: 'tx-1' } }));
    const connector = await connectorFor(storeOptions(store.url, [105, 106, 107]));
    const results = await connector.push([105, 106, 107].map((v) => ({ sku: `V${v}`, quantity: 3, version: 1 })), signal);
    expect(results).toContainEqual({ sku: 'V106', status: 'rejected', reason: expect.stringContaining('tracked by product') });
    expect(results).toContainEqual({ sku: 'V105', status: 'ok', quantity: 3 });
    expect(results).toContainEqual({ sku: 'V107', status: 'ok', quantity: 3 });
    expect(store.calls).toHaveLength(2);
  });

  it('finds a refused item by halving the batch when the answer names none, within a bounded number of calls', async () => {
    const unnamed = { status: 422, title: 'JSON data is missing or invalid', type: 'https://developer.bigcommerce.com/api-docs/getting-started/api-status-codes', errors: {} };
    const store = await scriptedStore((items) => (items.some((i) => i.variant_id === 13) ? { status: 422, body: unnamed } : { status: 200, body: { transaction_id: 'tx' } }));
    const variants = Array.from({ length: 16 }, (_, i) => i + 1);
    const connector = await connectorFor(storeOptions(store.url, variants));
    const results = await connector.push(variants.map((v) => ({ sku: `V${v}`, quantity: 1, version: 1 })), signal);
    expect(results.filter((r) => r.status !== 'ok')).toEqual([{ sku: 'V13', status: 'rejected', reason: expect.stringContaining('JSON data is missing or invalid') }]);
    expect(results).toHaveLength(16);
    expect(store.calls.length).toBeLessThanOrEqual(12);
  });

  it('has the simulator refuse an adjustment the way the documented example does', async () => {
    const { sim, options } = await setup({ skus: { BOOT: 5 } });
    const res = await request(`${sim.url}/stores/${STORE}/v3/inventory/adjustments/absolute`, {
      method: 'PUT',
      headers: { 'x-auth-token': options.accessToken, 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ items: [{ location_id: 1, variant_id: 424242, quantity: 1 }] }),
    });
    const body = (await res.body.json()) as { title: string; errors: unknown };
    expect(res.statusCode).toBe(422);
    expect(res.headers['content-type']).toBe('application/problem+json');
    expect(Object.keys(body).sort()).toEqual(Object.keys(REFUSAL_EXAMPLE as object).sort());
    expect(body.title).toMatch(/^\[Item with variant_id 424242 .*\]$/);
    expect(inventory.checkResponse('PUT', `/stores/${STORE}/v3/inventory/adjustments/absolute`, 422, body)).toEqual([]);
  });

  it('answers not_listed for an item the simulated store does not hold (item-unknown), writing the rest', async () => {
    const { sim, connector } = await setup();
    sim.setFault({ kind: 'item-unknown', skus: ['BOOT'] });
    const results = await connector.push([{ sku: 'BOOT', quantity: 1, version: 2 }, { sku: 'SOCK', quantity: 2, version: 2 }], signal);
    expect(results).toContainEqual({ sku: 'BOOT', status: 'not_listed', reason: expect.stringContaining('does not exist') });
    expect(results).toContainEqual({ sku: 'SOCK', status: 'ok', quantity: 2 });
    expect(sim.shown('SOCK')).toBe(2);
  });
});

describe('BigCommerce: every request fits the published OpenAPI documents', () => {
  it('sends adjustments and order reads the documents accept, Accept and Content-Type included', async () => {
    const { sim, proxy, connector } = await setup();
    await connector.push([{ sku: 'BOOT', quantity: 3, version: 1 }, { sku: 'SOCK', quantity: 4, version: 1 }], signal);
    sim.setWebhookTarget!('http://127.0.0.1:9/unused');
    const { orderId } = await sim.recordOrder([{ sku: 'BOOT', qty: 1 }]);
    const body = JSON.stringify({ ...JSON.parse(createdExample), data: { type: 'order', id: Number(orderId) } });
    expect((await connector.handleWebhook!(signed(sim, body), signal)).events).toHaveLength(1);
    const seen = proxy.requests.map((r) => `${r.method} ${r.path.replace(/\d+/g, 'N')}`);
    expect(seen).toEqual(['PUT /stores/simstore/vN/inventory/adjustments/absolute', 'GET /stores/simstore/vN/orders/N', 'GET /stores/simstore/vN/orders/N/products']);
    for (const req of proxy.requests) {
      const contract = req.path.includes('/v3/') ? inventory : orders;
      expect({ req: `${req.method} ${req.path}`, problems: contract.checkRequest(req) }).toEqual({ req: `${req.method} ${req.path}`, problems: [] });
    }
  });

  it('has the simulator answer orders, order products and adjustments with the documented schemas', async () => {
    const { sim, options } = await setup();
    const { orderId } = await sim.recordOrder([{ sku: 'BOOT', qty: 2 }, { sku: 'SOCK', qty: 1 }]);
    const headers = { 'x-auth-token': options.accessToken, accept: 'application/json', 'content-type': 'application/json' };
    const get = async (path: string) => {
      const res = await request(`${sim.url}${path}`, { headers });
      return { status: res.statusCode, body: (await res.body.json()) as unknown };
    };
    const order = await get(`/stores/${STORE}/v2/orders/${orderId}`);
    const products = await get(`/stores/${STORE}/v2/orders/${orderId}/products`);
    expect(orders.checkResponse('GET', `/stores/${STORE}/v2/orders/${orderId}`, order.status, order.body)).toEqual([]);
    expect(orders.checkResponse('GET', `/stores/${STORE}/v2/orders/${orderId}/products`, products.status, products.body)).toEqual([]);
    const put = await request(`${sim.url}/stores/${STORE}/v3/inventory/adjustments/absolute`, {
      method: 'PUT',
      headers,
      body: JSON.stringify({ reason: 'count', items: [{ location_id: 1, variant_id: options.skus.BOOT!.variantId, quantity: 9 }] }),
    });
    expect(inventory.checkResponse('PUT', `/stores/${STORE}/v3/inventory/adjustments/absolute`, put.statusCode, await put.body.json())).toEqual([]);
  });
});

describe('BigCommerce: webhooks as BigCommerce sends and signs them', () => {
  it('signs deliveries the way BigCommerce\'s documentation verifies them: the reference library keyed by the base64 client secret', async () => {
    const { sim, options } = await setup();
    const deliveries: Array<{ body: string; headers: Record<string, string> }> = [];
    const sink = createServer(async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      deliveries.push({ body: Buffer.concat(chunks).toString('utf8'), headers: req.headers as Record<string, string> });
      res.writeHead(200).end();
    });
    await new Promise<void>((resolve) => sink.listen(0, '127.0.0.1', resolve));
    cleanup.push(() => new Promise<void>((resolve) => sink.close(() => resolve())));
    sim.setWebhookTarget!(`http://127.0.0.1:${(sink.address() as AddressInfo).port}`);
    await sim.placeOrder!([{ sku: 'BOOT', qty: 1 }]);
    const verifier = new Webhook(Buffer.from(options.clientSecret as string).toString('base64'));
    expect(verifier.verify(deliveries[0]!.body, deliveries[0]!.headers)).toMatchObject({ scope: 'store/order/created', data: { type: 'order' } });
    // The body is BigCommerce's example for the scope, with this store and order.
    expect(Object.keys(JSON.parse(deliveries[0]!.body) as object).sort()).toEqual(Object.keys(JSON.parse(createdExample) as object).sort());
  });

  it('reads BigCommerce\'s example webhook: asks the orders API for exactly the order it names', async () => {
    const { sim, proxy, connector } = await setup();
    const outcome = await connector.handleWebhook!(signed(sim, createdExample), signal);
    // Order 250 is not in this store: a fresh order can lag behind its webhook. The webhook is acknowledged with no
    // event (a 503 would draw BigCommerce's retry a minute later and count against the destination's success
    // rate); the order catch-up finds the order once it is readable.
    expect(outcome.events).toEqual([]);
    expect(outcome.response?.status ?? 200).toBe(200);
    expect(proxy.requests.map((r) => r.path)).toEqual([`/stores/${STORE}/v2/orders/250`]);
  });

  it('keeps an order id above 2^53 exact, digit for digit', async () => {
    const { sim, proxy, connector } = await setup();
    const body = createdExample.replace('"id": 250', '"id": 9007199254740993');
    await connector.handleWebhook!(signed(sim, body), signal).catch(() => undefined);
    expect(proxy.requests.map((r) => r.path)).toEqual([`/stores/${STORE}/v2/orders/9007199254740993`]);
    expect(exactOrderId('{"data":{"id":9223372036854775807}}', 9223372036854775807)).toBe('9223372036854775807');
    // Two long ids that read as the same number: which one is the order cannot be told.
    expect(exactOrderId('{"a":{"id":9007199254740993},"data":{"id":9007199254740992}}', 9007199254740992)).toBeUndefined();
  });

  it('refuses order id 0 as a payload, since no BigCommerce order can ever have it (re-delivery would never help)', () => {
    expect(exactOrderId('{"data":{"id":0}}', 0)).toBeUndefined();
    expect(exactOrderId('{"data":{"id":"0"}}', '0')).toBeUndefined();
    // Beyond a 64-bit integer, as a fuzzed body had it.
    expect(exactOrderId('{"data":{"id":18446744073709551617}}', 18446744073709551617)).toBeUndefined();
    expect(exactOrderId('{"data":{"id":250}}', 250)).toBe('250');
  });

  it('answers a signed but malformed body or order with WebhookPayloadError, never a TypeError', async () => {
    const { sim, connector } = await setup();
    for (const body of ['', 'nope', '[]', 'null', '{"scope":5}', '{"scope":"store/order/created"}', '{"scope":"store/order/created","data":{"type":"order","id":"1; DROP"}}', '{"scope":"store/order/created","data":{"type":"order","id":-1}}', '{"scope":"store/order/created","data":{"type":"order","id":1.5}}']) {
      const err = await connector.handleWebhook!(signed(sim, body), signal).catch((e: unknown) => e);
      expect({ body, payloadError: isWebhookPayloadError(err) }).toEqual({ body, payloadError: true });
    }
    for (const [read, field] of [
      [() => readOrder(null, '1'), 'not an object'],
      [() => readOrder({ status_id: '11', date_created: 'Tue, 05 Mar 2019 21:40:11 +0000' }, '1'), 'status_id'],
      [() => readOrder({ status_id: 11, date_created: 'soon' }, '1'), 'date_created'],
      [() => readOrderProducts({}, '1'), 'not an array'],
      [() => readOrderProducts([{ quantity: '2' }], '1'), 'quantity'],
      [() => readOrderProducts([{ quantity: 2, variant_id: 'x' }], '1'), 'variant_id'],
      [() => readOrderProducts([{ quantity: 2, sku: 5 }], '1'), 'sku'],
    ] as const) {
      let err: unknown;
      try {
        read();
      } catch (e) {
        err = e;
      }
      expect(isWebhookPayloadError(err) && (err as Error).message.includes(field), field).toBe(true);
    }
  });

  it('registers the access token and the derived signing keys as secrets', async () => {
    const { options, secrets } = await setup();
    expect(secrets).toContain(options.accessToken);
    expect(secrets).toContain(Buffer.from(options.clientSecret as string).toString('base64'));
  });
});
