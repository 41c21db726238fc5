import { request } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import woocommerce from '../../connectors/woocommerce/index.ts';
import { validateConnectorOptions } from '../../core/plugins/validate-connector-options.ts';
import { parseEvent } from '../../core/events/validate-event.ts';
import { startWooCommerceSimulator, type WooCommerceSimulator } from '../../connectors/woocommerce/simulator.ts';
import type { WooCommerceOptions } from '../../connectors/woocommerce/options.ts';
import { startWebhookSink, type WebhookSink } from '../../connectors/_kit/webhook-sink.ts';
import { hmacSha256 } from '../../connectors/_kit/signatures.ts';
import { RejectedError, RetryableError, ThrottledError, WebhookSignatureError, type ConnectorContext, type ConnectorInstance, type Logger, type WebhookRequest } from '../../core/sdk.ts';
import { memoryConnectorState } from '../../core/plugins/memory-connector-state.ts';

const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {} };
const context = (): ConnectorContext => ({ channelId: 'woo-test', logger: quiet, signal: new AbortController().signal, state: memoryConnectorState(), registerSecret: () => {} });
const noSignal = (): AbortSignal => new AbortController().signal;
const fast = { latency: { p50: 0, p99: 0 } };

describe('woocommerce connector against its simulator', () => {
  let sim: WooCommerceSimulator;
  let options: WooCommerceOptions;
  let connector: ConnectorInstance;

  beforeAll(async () => {
    sim = await startWooCommerceSimulator({ ...fast, skus: { MUG: 5, 'CAP-RED': 3, 'CAP-BLUE': 4 }, variations: { CAP: ['CAP-RED', 'CAP-BLUE'] } });
    options = sim.connectorOptions(['MUG', 'CAP-RED', 'CAP-BLUE']);
    connector = await woocommerce.create(options, context());
  });
  afterAll(async () => {
    await connector.close?.();
    await sim.close();
  });
  afterEach(() => sim.setFault(null));

  it('maps a simple product to its id and a variation to its parent and variation id', () => {
    expect(options.skus.MUG).toEqual({ productId: expect.any(Number) });
    expect(options.skus['CAP-RED']).toEqual({ productId: expect.any(Number), variationId: expect.any(Number) });
  });

  it('sets stock_quantity of products and variations through their batch endpoints', async () => {
    const results = await connector.push([{ sku: 'MUG', quantity: 2, version: 1 }, { sku: 'CAP-RED', quantity: 0, version: 1 }, { sku: 'CAP-BLUE', quantity: 9, version: 1 }], noSignal());
    expect(results).toHaveLength(3);
    expect(results.every((r) => r.status === 'ok')).toBe(true);
    expect([sim.shown('MUG'), sim.shown('CAP-RED'), sim.shown('CAP-BLUE')]).toEqual([2, 0, 9]);
  });

  it('authenticates with consumer key and secret as query parameters too', async () => {
    const viaQuery = await woocommerce.create({ ...options, authMode: 'query' }, context());
    try {
      const [result] = await viaQuery.push([{ sku: 'MUG', quantity: 6, version: 2 }], noSignal());
      expect(result).toMatchObject({ status: 'ok' });
      expect(sim.shown('MUG')).toBe(6);
    } finally {
      await viaQuery.close?.();
    }
  });

  it('maps a per-item unknown-id error inside the batch answer to not_listed for that SKU only', async () => {
    const withGhost = await woocommerce.create({ ...options, skus: { ...options.skus, GHOST: { productId: 999999 } } }, context());
    try {
      const results = await withGhost.push([{ sku: 'GHOST', quantity: 1, version: 1 }, { sku: 'MUG', quantity: 4, version: 3 }], noSignal());
      expect(results.find((r) => r.sku === 'GHOST')).toMatchObject({ status: 'not_listed', reason: expect.stringContaining('woocommerce_rest_product_invalid_id') });
      expect(results.find((r) => r.sku === 'MUG')).toMatchObject({ status: 'ok', quantity: 4 });
      expect(sim.shown('MUG')).toBe(4);
    } finally {
      await withGhost.close?.();
    }
  });

  it('keeps the products batch results when the variations batch of another parent fails', async () => {
    const mixed = await woocommerce.create({ ...options, skus: { ...options.skus, ORPHAN: { productId: 999999, variationId: 999998 } } }, context());
    try {
      const results = await mixed.push([{ sku: 'ORPHAN', quantity: 1, version: 1 }, { sku: 'MUG', quantity: 7, version: 4 }], noSignal());
      expect(results.find((r) => r.sku === 'ORPHAN')).toMatchObject({ status: 'rejected' });
      expect(results.find((r) => r.sku === 'MUG')).toMatchObject({ status: 'ok', quantity: 7 });
      expect(sim.shown('MUG')).toBe(7);
    } finally {
      await mixed.close?.();
    }
  });

  it('answers not_listed for a SKU that has no product mapping', async () => {
    const [result] = await connector.push([{ sku: 'NOT-MAPPED', quantity: 1, version: 1 }], noSignal());
    expect(result).toMatchObject({ sku: 'NOT-MAPPED', status: 'not_listed', reason: expect.stringContaining('NOT-MAPPED') });
  });

  it('refuses more than 100 objects in one batch with 413 woocommerce_rest_request_entity_too_large', async () => {
    const update = Array.from({ length: 101 }, (_, i) => ({ id: i + 1, stock_quantity: 1 }));
    const res = await request(`${sim.url}/wp-json/wc/v3/products/batch`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Basic ${Buffer.from(`${options.consumerKey}:${options.consumerSecret}`).toString('base64')}` },
      body: JSON.stringify({ update }),
    });
    expect(res.statusCode).toBe(413);
    expect(await res.body.json()).toMatchObject({ code: 'woocommerce_rest_request_entity_too_large', data: { status: 413 } });
  });

  it('refuses a batch above 100 before sending it', async () => {
    const updates = Array.from({ length: 101 }, (_, i) => ({ sku: `S${i}`, quantity: 1, version: 1 }));
    await expect(connector.push(updates, noSignal())).rejects.toBeInstanceOf(RejectedError);
  });

  it('throws RejectedError when the consumer secret is wrong', async () => {
    const wrong = await woocommerce.create({ ...options, consumerSecret: 'cs_wrong' }, context());
    try {
      await expect(wrong.push([{ sku: 'MUG', quantity: 1, version: 1 }], noSignal())).rejects.toBeInstanceOf(RejectedError);
    } finally {
      await wrong.close?.();
    }
  });

  it('throws ThrottledError with the Retry-After delay when the host answers 429', async () => {
    sim.setFault({ kind: 'throttle', retryAfterMs: 2000 });
    const err = (await connector.push([{ sku: 'MUG', quantity: 1, version: 1 }], noSignal()).catch((e: unknown) => e)) as ThrottledError;
    expect(err).toBeInstanceOf(ThrottledError);
    expect(err.retryAfterMs).toBe(2000);
  });

  it('throws RetryableError carrying Retry-After when the host answers 503', async () => {
    sim.setFault({ kind: 'down' });
    const err = (await connector.push([{ sku: 'MUG', quantity: 1, version: 1 }], noSignal()).catch((e: unknown) => e)) as RetryableError;
    expect(err).toBeInstanceOf(RetryableError);
    expect(err).not.toBeInstanceOf(ThrottledError);
    expect(err.retryAfterMs).toBe(5000);
  });

  it('reads stock of products and variations back with fetchQuantities', async () => {
    sim.setShown('MUG', 11);
    sim.setShown('CAP-BLUE', 12);
    const shown = await connector.fetchQuantities!(['MUG', 'CAP-BLUE', 'NOT-MAPPED'], noSignal());
    expect(Object.fromEntries(shown)).toEqual({ MUG: 11, 'CAP-BLUE': 12 });
  });

  it('hands out connector options that satisfy its own options schema', () => {
    expect(validateConnectorOptions(woocommerce, sim.connectorOptions(['NEW-SKU']))).toMatchObject({ ok: true });
  });
});

describe('woocommerce host rate limit', () => {
  it('answers 429 once the configured host limit is used up, and the connector throws ThrottledError', async () => {
    const sim = await startWooCommerceSimulator({ ...fast, rateLimit: { perSecond: 1, burst: 1 }, skus: { MUG: 1 } });
    const connector = await woocommerce.create(sim.connectorOptions(['MUG']), context());
    try {
      await connector.push([{ sku: 'MUG', quantity: 2, version: 1 }], noSignal());
      const err = (await connector.push([{ sku: 'MUG', quantity: 3, version: 2 }], noSignal()).catch((e: unknown) => e)) as ThrottledError;
      expect(err).toBeInstanceOf(ThrottledError);
      expect(err.retryAfterMs).toBe(1000);
      expect(sim.stats().throttled).toBe(1);
      expect(sim.shown('MUG')).toBe(2);
    } finally {
      await connector.close?.();
      await sim.close();
    }
  });
});

describe('woocommerce order webhooks', () => {
  let sim: WooCommerceSimulator;
  let options: WooCommerceOptions;
  let connector: ConnectorInstance;
  let sink: WebhookSink;

  const order = {
    id: 727,
    number: '727',
    status: 'processing',
    date_created_gmt: '2026-11-27T09:30:00',
    date_modified_gmt: '2026-11-27T09:45:00',
    line_items: [] as Array<{ product_id: number; variation_id: number; quantity: number; sku: string }>,
  };
  const signed = (body: string, secret: string, topic = 'order.created'): WebhookRequest => ({
    rawBody: Buffer.from(body),
    headers: { 'x-wc-webhook-signature': hmacSha256(secret, body, 'base64'), 'x-wc-webhook-topic': topic, 'x-wc-webhook-resource': 'order', 'x-wc-webhook-event': topic.split('.')[1] },
    path: '',
    query: {},
  });

  beforeAll(async () => {
    sim = await startWooCommerceSimulator({ ...fast, skus: { MUG: 10, 'CAP-RED': 10 }, variations: { CAP: ['CAP-RED'] } });
    options = sim.connectorOptions(['MUG', 'CAP-RED']);
    order.line_items = [
      { product_id: options.skus.MUG!.productId, variation_id: 0, quantity: 2, sku: 'mug-store-sku' },
      { product_id: options.skus['CAP-RED']!.productId, variation_id: options.skus['CAP-RED']!.variationId!, quantity: 1, sku: '' },
    ];
    connector = await woocommerce.create({ ...options, webhookSecret: ['old-secret', options.webhookSecret as string] }, context());
    sink = await startWebhookSink((req) => connector.handleWebhook!(req, noSignal()));
    sim.setWebhookTarget!(sink.url);
  });
  afterAll(async () => {
    await sink.close();
    await connector.close?.();
    await sim.close();
  });

  it('turns a signed order.created into order.confirmed in hub SKUs, mapped back from product and variation ids', async () => {
    const { events } = await connector.handleWebhook!(signed(JSON.stringify(order), options.webhookSecret as string), noSignal());
    expect(events).toEqual([{
      id: 'woo-test:order:727:confirmed',
      type: 'order.confirmed',
      channel: 'woo-test',
      occurredAt: '2026-11-27T09:30:00.000Z',
      orderId: '727',
      reference: '727',
      lines: [{ sku: 'MUG', qty: 2 }, { sku: 'CAP-RED', qty: 1 }],
    }]);
  });

  it('accepts the other active secret during a rotation', async () => {
    const { events } = await connector.handleWebhook!(signed(JSON.stringify(order), 'old-secret'), noSignal());
    expect(events).toHaveLength(1);
  });

  it.each([
    ['wrong', () => hmacSha256('not-the-secret', 'x', 'base64')],
    ['truncated', (h: string) => h.slice(0, -4)],
    ['missing', () => undefined],
  ])('throws WebhookSignatureError when the signature is %s', async (_label, mangle) => {
    const req = signed(JSON.stringify(order), options.webhookSecret as string);
    const headers = { ...req.headers, 'x-wc-webhook-signature': mangle(req.headers['x-wc-webhook-signature']!) };
    await expect(connector.handleWebhook!({ ...req, headers }, noSignal())).rejects.toBeInstanceOf(WebhookSignatureError);
  });

  it('answers the unsigned creation ping with 200 and no events', async () => {
    const before = sink.deliveries.length;
    expect(await sim.sendPing(42)).toBe(200);
    expect(sink.deliveries.slice(before)).toEqual([expect.objectContaining({ status: 200, events: [] })]);
  });

  it('does not let an unsigned request that is not the ping through', async () => {
    const req: WebhookRequest = { rawBody: Buffer.from('webhook_id=42&status=processing'), headers: {}, path: '', query: {} };
    await expect(connector.handleWebhook!(req, noSignal())).rejects.toBeInstanceOf(WebhookSignatureError);
  });

  it('turns a cancelled order into order.cancelled alongside the confirmation it implies', async () => {
    const body = JSON.stringify({ ...order, status: 'cancelled' });
    const { events } = await connector.handleWebhook!(signed(body, options.webhookSecret as string, 'order.updated'), noSignal());
    expect(events.map((e) => [e.id, e.type, e.occurredAt])).toEqual([
      ['woo-test:order:727:confirmed', 'order.confirmed', '2026-11-27T09:30:00.000Z'],
      ['woo-test:order:727:cancelled', 'order.cancelled', '2026-11-27T09:45:00.000Z'],
    ]);
  });

  it('emits nothing for a pending order, whose stock WooCommerce has not taken yet', async () => {
    const { events } = await connector.handleWebhook!(signed(JSON.stringify({ ...order, status: 'pending' }), options.webhookSecret as string), noSignal());
    expect(events).toEqual([]);
  });

  it('delivers a placed order three times and every delivery yields the same event id', async () => {
    const before = sink.deliveries.length;
    const { orderId } = await sim.placeOrder!([{ sku: 'CAP-RED', qty: 2 }], { times: 3 });
    const deliveries = sink.deliveries.slice(before);
    expect(deliveries).toHaveLength(3);
    expect(deliveries.flatMap((d) => d.events.map((e) => e.id))).toEqual(Array(3).fill(`woo-test:order:${orderId}:confirmed`));
    expect(deliveries[0]?.events[0]).toMatchObject({ lines: [{ sku: 'CAP-RED', qty: 2 }] });
    expect(sim.shown('CAP-RED')).toBe(8);
  });

  it('delivers order.updated before order.created when out of order, both collapsing to one event id', async () => {
    const before = sink.deliveries.length;
    const { orderId } = await sim.placeOrder!([{ sku: 'MUG', qty: 1 }], { outOfOrder: true });
    const deliveries = sink.deliveries.slice(before);
    expect(deliveries.map((d) => d.headers['x-wc-webhook-topic'])).toEqual(['order.updated', 'order.created']);
    expect(new Set(deliveries.flatMap((d) => d.events.map((e) => e.id)))).toEqual(new Set([`woo-test:order:${orderId}:confirmed`]));
  });

  it('only produces events that pass the published event schemas', () => {
    const events = sink.events();
    expect(events.length).toBeGreaterThan(0);
    for (const event of events) expect(parseEvent(JSON.stringify(event), event.type)).toMatchObject({ ok: true });
  });
});
