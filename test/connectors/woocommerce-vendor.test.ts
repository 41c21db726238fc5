import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import woocommerce from '../../connectors/woocommerce/index.ts';
import type { WooCommerceOptions } from '../../connectors/woocommerce/options.ts';
import { startWooCommerceSimulator, type WooCommerceSimulator } from '../../connectors/woocommerce/simulator.ts';
import { wooWebhookSignature, wpSpecialcharsDecode } from '../../connectors/woocommerce/webhook-signature.ts';
import { startWebhookSink } from '../../connectors/_kit/webhook-sink.ts';
import { parseEvent } from '../../core/events/validate-event.ts';
import { memoryConnectorState } from '../../core/plugins/memory-connector-state.ts';
import { isWebhookPayloadError, isWebhookSignatureError, type ConnectorContext, type ConnectorInstance, type Logger, type WebhookRequest } from '../../core/sdk.ts';
import { startRecordingProxy, type RecordingProxy } from '../support/recording-proxy.ts';

// The vendor's own artefacts are the oracle: WooCommerce's generate_signature test, its REST API reference
// (property tables as JSON Schema, the example order). See test/fixtures/vendor/woocommerce/SOURCE.
const fixture = (name: string): string => readFileSync(new URL(`../fixtures/vendor/woocommerce/${name}`, import.meta.url), 'utf8');
const signatureCases = JSON.parse(fixture('webhook-signature-cases.json')) as { cases: Array<{ name: string; origin: string; secret: string; payload: string; signature: string }> };
const orderExample = fixture('order-example.json');
const ajv = new Ajv({ allErrors: true, strict: false });
const productBatch = ajv.compile(JSON.parse(fixture('product-batch-request.schema.json')) as object);
const variationBatch = ajv.compile(JSON.parse(fixture('product-variation-batch-request.schema.json')) as object);
const orderSchema = ajv.compile(JSON.parse(fixture('order.schema.json')) as object);

const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {} };
const noSignal = (): AbortSignal => new AbortController().signal;
const fast = { latency: { p50: 0, p99: 0 } };
const SECRET = 'woo-secret';

const context = (secrets: string[] = []): ConnectorContext => ({
  channelId: 'woo-main',
  logger: quiet,
  signal: new AbortController().signal,
  state: memoryConnectorState(),
  registerSecret: (value) => void secrets.push(value),
});

const options = (overrides: Partial<WooCommerceOptions> = {}): WooCommerceOptions => ({
  baseUrl: 'http://127.0.0.1:9',
  consumerKey: 'ck_unused',
  consumerSecret: 'cs_unused',
  skus: {},
  webhookSecret: SECRET,
  ...overrides,
});
const connector = async (overrides: Partial<WooCommerceOptions> = {}): Promise<ConnectorInstance> => woocommerce.create(options(overrides), context());

const delivery = (rawBody: string, topic = 'order.created', signature = wooWebhookSignature(SECRET, rawBody)): WebhookRequest => ({
  rawBody: Buffer.from(rawBody),
  headers: {
    'content-type': 'application/json',
    'x-wc-webhook-source': 'https://example.com/',
    'x-wc-webhook-topic': topic,
    'x-wc-webhook-resource': topic.split('.')[0],
    'x-wc-webhook-event': topic.split('.')[1],
    'x-wc-webhook-signature': signature,
    'x-wc-webhook-id': '1',
    'x-wc-webhook-delivery-id': '5a3f4f0c0c2d6b1e',
  },
  path: '',
  query: {},
});

describe("woocommerce webhook signatures against WC_Webhook::generate_signature", () => {
  it.each(signatureCases.cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    expect(wooWebhookSignature(c.secret, c.payload)).toBe(c.signature);
    // Through the connector too, for the secrets a seller can configure (the options refuse an empty one).
    if (c.secret.length > 0) {
      const instance = await connector({ webhookSecret: c.secret });
      // Accepted (these payloads are not orders, so they carry no events).
      await expect(instance.handleWebhook!(delivery(c.payload, 'order.updated', c.signature), noSignal())).resolves.toEqual({ events: [] });
    }
  });

  it('decodes entities exactly as wp_specialchars_decode(…, ENT_QUOTES) does', () => {
    expect(wpSpecialcharsDecode('&amp;lt;')).toBe('&lt;');
    expect(wpSpecialcharsDecode('&#0039;&#X27;&#x0022;&#34;')).toBe('\'\'""');
    expect(wpSpecialcharsDecode('&AMP;&nbsp;&copy;')).toBe('&AMP;&nbsp;&copy;');
    expect(wpSpecialcharsDecode('no entities')).toBe('no entities');
  });

  it('with a secret stored with entities, accepts what WooCommerce signs (decoded key) and refuses the raw text as key', async () => {
    const instance = await connector({ webhookSecret: 'a&amp;b' });
    const body = orderExample;
    await expect(instance.handleWebhook!(delivery(body, 'order.created', wooWebhookSignature('a&b', body)), noSignal())).resolves.toMatchObject({ events: [{ type: 'order.confirmed' }] });
    const rawKey = createHmac('sha256', 'a&amp;b').update(body).digest('base64');
    await expect(instance.handleWebhook!(delivery(body, 'order.created', rawKey), noSignal())).rejects.toSatisfy(isWebhookSignatureError);
  });
});

describe("woocommerce order webhooks built from WooCommerce's published example order", () => {
  const order = JSON.parse(orderExample) as { id: number; number: string; date_created_gmt: string; line_items: Array<{ product_id: number; variation_id: number; quantity: number; sku: string }> };

  it('the example is an Order as the reference describes it', () => {
    expect(orderSchema(order), JSON.stringify(orderSchema.errors)).toBe(true);
  });

  it('turns the example order (processing) into one order.confirmed, mapping lines back by product and variation id', async () => {
    const instance = await connector({ skus: { 'HUB-BAR3': { productId: 22, variationId: 23 } } });
    const { events } = await instance.handleWebhook!(delivery(orderExample), noSignal());
    // The line without SKU or mapping (product 93) is not the hub's.
    expect(events).toEqual([{
      id: `woo-main:order:${order.id}:confirmed`,
      type: 'order.confirmed',
      channel: 'woo-main',
      occurredAt: new Date(`${order.date_created_gmt}Z`).toISOString(),
      orderId: String(order.id),
      reference: order.number,
      lines: [{ sku: 'HUB-BAR3', qty: 1 }],
    }]);
    for (const event of events) expect(parseEvent(JSON.stringify(event), event.type)).toMatchObject({ ok: true });
  });

  it('turns the example order, cancelled, into order.cancelled with the confirmation it implies', async () => {
    const body = JSON.stringify({ ...order, status: 'cancelled' });
    const { events } = await (await connector()).handleWebhook!(delivery(body, 'order.updated'), noSignal());
    expect(events.map((e) => e.type)).toEqual(['order.confirmed', 'order.cancelled']);
    expect(events[0]?.lines).toEqual([{ sku: 'Bar3', qty: 1 }]);
  });

  it.each(['product.updated', 'order.deleted', 'coupon.created', ''])('reads the example order the same under topic %j (the body decides, not the unsigned header)', async (topic) => {
    const { events } = await (await connector()).handleWebhook!(delivery(orderExample, topic), noSignal());
    expect(events.map((e) => e.type)).toEqual(['order.confirmed']);
  });

  it("takes nothing from a deleted order's body ({ id }) or a product body, whatever the topic", async () => {
    const instance = await connector();
    await expect(instance.handleWebhook!(delivery(JSON.stringify({ id: order.id }), 'order.created'), noSignal())).resolves.toEqual({ events: [] });
    await expect(instance.handleWebhook!(delivery(fixture('product-example.json'), 'order.created'), noSignal())).resolves.toEqual({ events: [] });
  });

  it('keeps an order id above 2^53 exact', async () => {
    const body = orderExample.replace(`"id": ${order.id},`, '"id": 9007199254740993,');
    const { events } = await (await connector()).handleWebhook!(delivery(body), noSignal());
    expect(events[0]).toMatchObject({ orderId: '9007199254740993', id: 'woo-main:order:9007199254740993:confirmed' });
  });

  const mutate = (change: (o: Record<string, unknown>) => void): string => {
    const o = JSON.parse(orderExample) as Record<string, unknown>;
    change(o);
    return JSON.stringify(o);
  };
  const firstLine = (o: Record<string, unknown>): Record<string, unknown> => (o.line_items as Array<Record<string, unknown>>)[1]!;

  it.each([
    ['not JSON', '{"id": 727, "status": "processing", "line_items": ['],
    ['a JSON array', '[]'],
    ['an invalid date_created_gmt', mutate((o) => { o.date_created_gmt = '2017-02-30T99:99:99'; })],
    ['date_created_gmt as a number', mutate((o) => { o.date_created_gmt = 1490211000; })],
    ['an invalid date_modified_gmt on a cancelled order', mutate((o) => { o.status = 'cancelled'; o.date_modified_gmt = 'soon'; })],
    ['a string id', mutate((o) => { o.id = '727'; })],
    ['a negative id', mutate((o) => { o.id = -727; })],
    ['a null line item', mutate((o) => { o.line_items = [null]; })],
    ['a string quantity', mutate((o) => { firstLine(o).quantity = '1'; })],
    ['a string product_id', mutate((o) => { firstLine(o).product_id = '22'; })],
    ['a numeric sku', mutate((o) => { firstLine(o).sku = 3; })],
    ['a number that is an object', mutate((o) => { o.number = {}; })],
  ])('answers WebhookPayloadError (400), never a TypeError or RangeError, for a signed order with %s', async (_label, body) => {
    await expect((await connector()).handleWebhook!(delivery(body), noSignal())).rejects.toSatisfy(isWebhookPayloadError);
  });
});

describe('every request the woocommerce connector sends, validated against the REST API reference', () => {
  let sim: WooCommerceSimulator;
  let proxy: RecordingProxy;
  let opts: WooCommerceOptions;

  beforeAll(async () => {
    sim = await startWooCommerceSimulator({ ...fast, skus: { MUG: 5, 'CAP-RED': 3, 'CAP-BLUE': 4 }, variations: { CAP: ['CAP-RED', 'CAP-BLUE'] } });
    proxy = await startRecordingProxy(sim.url);
    opts = { ...sim.connectorOptions(['MUG', 'CAP-RED', 'CAP-BLUE']), baseUrl: proxy.url };
  });
  afterAll(async () => {
    await proxy.close();
    await sim.close();
  });

  it('batch bodies match the products and variations batch schemas; every call is authenticated, writes are JSON', async () => {
    const registered: string[] = [];
    const instance = await woocommerce.create(opts, context(registered));
    try {
      const results = await instance.push([{ sku: 'MUG', quantity: 2, version: 1 }, { sku: 'CAP-RED', quantity: 1, version: 1 }], noSignal());
      expect(results.every((r) => r.status === 'ok')).toBe(true);
      await instance.fetchQuantities!(['MUG', 'CAP-RED', 'CAP-BLUE'], noSignal());
    } finally {
      await instance.close?.();
    }
    const writes = proxy.requests.filter((r) => r.method === 'POST');
    expect(writes.map((w) => w.path)).toEqual(expect.arrayContaining(['/wp-json/wc/v3/products/batch', `/wp-json/wc/v3/products/${opts.skus['CAP-RED']!.productId}/variations/batch`]));
    expect(writes).toHaveLength(2);
    for (const write of writes) {
      const body = JSON.parse(write.body) as { update: unknown[] };
      const check = write.path.includes('/variations/') ? variationBatch : productBatch;
      expect(check(body), JSON.stringify(check.errors)).toBe(true);
      expect(body.update.length).toBeLessThanOrEqual(100);
      expect(write.headers['content-type']).toMatch(/^application\/json/);
    }
    const basic = `Basic ${Buffer.from(`${opts.consumerKey}:${opts.consumerSecret}`).toString('base64')}`;
    for (const call of proxy.requests) expect(call.headers.authorization).toBe(basic);
    // The Basic credential is derived from the configured pair: the connector hands it to the host to mask.
    expect(registered).toContain(basic.slice('Basic '.length));
  });

  it('the simulator answers reads with the reference example product, its id, SKU and stock filled in', async () => {
    const product = JSON.parse(fixture('product-example.json')) as Record<string, unknown>;
    const mug = opts.skus.MUG!.productId;
    const res = await fetch(`${sim.url}/wp-json/wc/v3/products?include=${mug}`, { headers: { authorization: `Basic ${Buffer.from(`${opts.consumerKey}:${opts.consumerSecret}`).toString('base64')}` } });
    const [view] = (await res.json()) as Array<Record<string, unknown>>;
    expect(Object.keys(view!).sort()).toEqual(Object.keys(product).sort());
    expect(view).toMatchObject({ id: mug, sku: 'MUG', manage_stock: true, stock_quantity: sim.shown('MUG') });
  });
});

describe('woocommerce simulator faults and webhooks speak WooCommerce', () => {
  it('answers item-unknown with the per-item invalid-id error, which the connector reports as not_listed', async () => {
    const sim = await startWooCommerceSimulator({ ...fast, skus: { MUG: 5, PEN: 2 } });
    const instance = await woocommerce.create(sim.connectorOptions(['MUG', 'PEN']), context());
    try {
      sim.setFault({ kind: 'item-unknown', skus: ['PEN'] });
      const results = await instance.push([{ sku: 'MUG', quantity: 1, version: 1 }, { sku: 'PEN', quantity: 9, version: 1 }], noSignal());
      expect(results.find((r) => r.sku === 'PEN')).toMatchObject({ status: 'not_listed', reason: expect.stringContaining('woocommerce_rest_product_invalid_id') });
      expect(results.find((r) => r.sku === 'MUG')).toMatchObject({ status: 'ok' });
      expect(sim.shown('PEN')).toBe(2);
      expect(() => sim.setFault({ kind: 'item-locked', skus: ['PEN'] })).toThrow(/item-locked/);
    } finally {
      sim.setFault(null);
      await instance.close?.();
      await sim.close();
    }
  });

  it('delivers orders shaped as the reference example, and signWebhook signs any body as WooCommerce does', async () => {
    const sim = await startWooCommerceSimulator({ ...fast, skus: { MUG: 5 } });
    const instance = await woocommerce.create(sim.connectorOptions(['MUG']), context());
    const sink = await startWebhookSink((req) => instance.handleWebhook!(req, noSignal()));
    try {
      sim.setWebhookTarget!(sink.url);
      const { orderId } = await sim.placeOrder!([{ sku: 'MUG', qty: 2 }]);
      const body = JSON.parse(sink.deliveries[0]!.rawBody.toString('utf8')) as Record<string, unknown>;
      expect(Object.keys(body).sort()).toEqual(Object.keys(JSON.parse(orderExample) as object).sort());
      expect(orderSchema(body), JSON.stringify(orderSchema.errors)).toBe(true);
      expect(sink.deliveries[0]!.events).toMatchObject([{ type: 'order.confirmed', orderId, lines: [{ sku: 'MUG', qty: 2 }] }]);

      const raw = Buffer.from(orderExample);
      const headers = sim.signWebhook!(raw, { 'X-WC-Webhook-Topic': 'order.updated' });
      expect(headers['x-wc-webhook-topic']).toBe('order.updated');
      await expect(instance.handleWebhook!({ rawBody: raw, headers, path: '', query: {} }, noSignal())).resolves.toMatchObject({ events: [{ type: 'order.confirmed' }] });
    } finally {
      await sink.close();
      await instance.close?.();
      await sim.close();
    }
  });
});

describe('woocommerce error text stays short and never carries the credentials a channel echoes back', () => {
  it.each(['basic', 'query'] as const)('with %s auth, an echoing error answer becomes "code: message" only', async (authMode) => {
    const sim = await startWooCommerceSimulator({ ...fast, consumerSecret: 'cs_canary_7f3a9d', skus: { MUG: 5 } });
    const opts = { ...sim.connectorOptions(['MUG']), authMode };
    const instance = await woocommerce.create(opts, context());
    try {
      sim.setFault({ kind: 'echo-errors' });
      const outcome = await instance.push([{ sku: 'MUG', quantity: 1, version: 1 }], noSignal()).then((r) => JSON.stringify(r), (err: unknown) => String(err));
      expect(outcome).toContain('rest_invalid_request');
      expect(outcome).not.toContain('cs_canary_7f3a9d');
      expect(outcome).not.toContain(Buffer.from(`${opts.consumerKey}:${opts.consumerSecret}`).toString('base64'));
    } finally {
      sim.setFault(null);
      await instance.close?.();
      await sim.close();
    }
  });
});
