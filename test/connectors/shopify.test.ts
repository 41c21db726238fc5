import { request } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import shopify from '../../connectors/shopify/index.ts';
import { validateConnectorOptions } from '../../core/plugins/validate-connector-options.ts';
import { parseEvent } from '../../core/events/validate-event.ts';
import { startShopifySimulator, type ShopifySimulator } from '../../connectors/shopify/simulator.ts';
import type { ShopifyOptions } from '../../connectors/shopify/options.ts';
import { startWebhookSink, type WebhookSink } from '../../connectors/_kit/webhook-sink.ts';
import { hmacSha256 } from '../../connectors/_kit/signatures.ts';
import { RejectedError, RetryableError, ThrottledError, WebhookSignatureError, type ConnectorContext, type ConnectorInstance, type Logger } from '../../core/sdk.ts';
import { memoryConnectorState } from '../../core/plugins/memory-connector-state.ts';

const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {} };
const context = (): ConnectorContext => ({ channelId: 'shopify-test', logger: quiet, signal: new AbortController().signal, state: memoryConnectorState(), registerSecret: () => {} });
const noSignal = (): AbortSignal => new AbortController().signal;
const fast = { latency: { p50: 0, p99: 0 } };

describe('shopify connector against its simulator', () => {
  let sim: ShopifySimulator;
  let options: ShopifyOptions;
  let connector: ConnectorInstance;

  beforeAll(async () => {
    sim = await startShopifySimulator({ ...fast, skus: { 'TEE-S': 5, 'TEE-M': 7, 'TEE-L': 9 } });
    options = sim.connectorOptions(['TEE-S', 'TEE-M', 'TEE-L']);
    connector = await shopify.create(options, context());
  });
  afterAll(async () => {
    await connector.close?.();
    await sim.close();
  });
  afterEach(() => sim.setFault(null));

  it('sets the available quantity of every mapped SKU with inventorySetQuantities', async () => {
    const results = await connector.push([{ sku: 'TEE-S', quantity: 3, version: 1 }, { sku: 'TEE-M', quantity: 0, version: 1 }], noSignal());
    expect(results).toEqual(expect.arrayContaining([{ sku: 'TEE-S', status: 'ok', quantity: 3 }, { sku: 'TEE-M', status: 'ok', quantity: 0 }]));
    expect(sim.shown('TEE-S')).toBe(3);
    expect(sim.shown('TEE-M')).toBe(0);
  });

  it('writes when previousQuantity matches what the shop shows (compare-and-swap)', async () => {
    sim.setShown('TEE-L', 9);
    const [result] = await connector.push([{ sku: 'TEE-L', quantity: 8, previousQuantity: 9, version: 2 }], noSignal());
    expect(result).toEqual({ sku: 'TEE-L', status: 'ok', quantity: 8 });
    expect(sim.shown('TEE-L')).toBe(8);
  });

  it('answers stale with the current quantity and leaves newer state alone when previousQuantity no longer matches', async () => {
    sim.setShown('TEE-L', 4);
    const [result] = await connector.push([{ sku: 'TEE-L', quantity: 7, previousQuantity: 8, version: 3 }], noSignal());
    expect(result).toMatchObject({ sku: 'TEE-L', status: 'stale', shown: 4 });
    expect((result as { reason: string }).reason).toContain('CHANGE_FROM_QUANTITY_STALE');
    expect(sim.shown('TEE-L')).toBe(4);
  });

  it('still writes the other quantities of a batch in which one is stale', async () => {
    sim.setShown('TEE-S', 10);
    sim.setShown('TEE-M', 10);
    const results = await connector.push([{ sku: 'TEE-S', quantity: 1, previousQuantity: 99, version: 4 }, { sku: 'TEE-M', quantity: 2, previousQuantity: 10, version: 4 }], noSignal());
    expect(results.find((r) => r.sku === 'TEE-S')).toMatchObject({ status: 'stale', shown: 10 });
    expect(results.find((r) => r.sku === 'TEE-M')).toEqual({ sku: 'TEE-M', status: 'ok', quantity: 2 });
    expect(sim.shown('TEE-S')).toBe(10);
    expect(sim.shown('TEE-M')).toBe(2);
  });

  it('answers not_listed for a SKU that has no inventory item mapping, without failing the others', async () => {
    const results = await connector.push([{ sku: 'NOT-MAPPED', quantity: 1, version: 1 }, { sku: 'TEE-S', quantity: 6, version: 5 }], noSignal());
    expect(results.find((r) => r.sku === 'NOT-MAPPED')).toMatchObject({ status: 'not_listed', reason: expect.stringContaining('NOT-MAPPED') });
    expect(results.find((r) => r.sku === 'TEE-S')).toMatchObject({ status: 'ok' });
  });

  it('maps a userError on one quantity (unknown inventory item) to not_listed for that SKU only', async () => {
    const withGhost = await shopify.create({ ...options, skus: { ...options.skus, GHOST: { inventoryItemId: 'gid://shopify/InventoryItem/1' } } }, context());
    try {
      const results = await withGhost.push([{ sku: 'GHOST', quantity: 1, version: 1 }, { sku: 'TEE-M', quantity: 5, version: 6 }], noSignal());
      expect(results.find((r) => r.sku === 'GHOST')).toMatchObject({ status: 'not_listed', reason: expect.stringContaining('INVALID_INVENTORY_ITEM') });
      expect(results.find((r) => r.sku === 'TEE-M')).toMatchObject({ status: 'ok' });
      expect(sim.shown('TEE-M')).toBe(5);
    } finally {
      await withGhost.close?.();
    }
  });

  it('refuses more than 250 quantities in one call with MAX_INPUT_SIZE_EXCEEDED', async () => {
    const quantities = Array.from({ length: 251 }, (_, i) => ({ inventoryItemId: `gid://shopify/InventoryItem/${i + 1}`, locationId: options.locationId, quantity: 1, changeFromQuantity: null }));
    const res = await request(`${sim.url}/admin/api/2026-04/graphql.json`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-shopify-access-token': options.accessToken },
      body: JSON.stringify({ query: 'mutation($input: InventorySetQuantitiesInput!) { inventorySetQuantities(input: $input) { userErrors { code } } }', variables: { input: { name: 'available', reason: 'correction', quantities } } }),
    });
    const body = (await res.body.json()) as { errors: Array<{ extensions: { code: string } }> };
    expect(body.errors[0]?.extensions.code).toBe('MAX_INPUT_SIZE_EXCEEDED');
  });

  it('refuses a batch above 250 before sending it', async () => {
    const updates = Array.from({ length: 251 }, (_, i) => ({ sku: `S${i}`, quantity: 1, version: 1 }));
    await expect(connector.push(updates, noSignal())).rejects.toBeInstanceOf(RejectedError);
  });

  it('throws RejectedError when the access token is wrong', async () => {
    const wrong = await shopify.create({ ...options, accessToken: 'shpat_wrong' }, context());
    try {
      await expect(wrong.push([{ sku: 'TEE-S', quantity: 1, version: 1 }], noSignal())).rejects.toBeInstanceOf(RejectedError);
    } finally {
      await wrong.close?.();
    }
  });

  it('throws RetryableError while the API is down', async () => {
    sim.setFault({ kind: 'down' });
    const err = await connector.push([{ sku: 'TEE-S', quantity: 1, version: 1 }], noSignal()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RetryableError);
    expect(err).not.toBeInstanceOf(ThrottledError);
  });

  it('reads the current quantities back with fetchQuantities', async () => {
    sim.setShown('TEE-S', 12);
    const shown = await connector.fetchQuantities!(['TEE-S', 'NOT-MAPPED'], noSignal());
    expect(shown.get('TEE-S')).toBe(12);
    expect(shown.has('NOT-MAPPED')).toBe(false);
  });

  it('hands out connector options that satisfy its own options schema', () => {
    expect(validateConnectorOptions(shopify, sim.connectorOptions(['NEW-SKU']))).toMatchObject({ ok: true });
  });

  it.each(['2025-10', '2026-01', '2024-04'])('refuses apiVersion %s, which would refuse changeFromQuantity and @idempotent, naming the field', (apiVersion) => {
    const result = validateConnectorOptions(shopify, { ...sim.connectorOptions(['NEW-SKU']), apiVersion });
    expect(result.ok).toBe(false);
    expect(JSON.stringify(result)).toContain('apiVersion');
  });

  it.each(['2026-04', '2026-07', '2027-01', 'unstable'])('accepts apiVersion %s', (apiVersion) => {
    expect(validateConnectorOptions(shopify, { ...sim.connectorOptions(['NEW-SKU']), apiVersion })).toMatchObject({ ok: true });
  });
});

describe('shopify cost-bucket throttling', () => {
  it('turns THROTTLED into ThrottledError with the time the bucket needs to hold the mutation again', async () => {
    // 10 points held, 10 restored per second: one mutation (10 points) empties it.
    const sim = await startShopifySimulator({ ...fast, costBucket: { restoreRate: 10, maximumAvailable: 10 }, skus: { A: 1 } });
    const first = await shopify.create(sim.connectorOptions(['A']), context());
    // A second hub process on the same app and shop: it has not seen the bucket drain.
    const second = await shopify.create(sim.connectorOptions(['A']), context());
    try {
      await first.push([{ sku: 'A', quantity: 2, version: 1 }], noSignal());
      const err = (await second.push([{ sku: 'A', quantity: 3, version: 2 }], noSignal()).catch((e: unknown) => e)) as ThrottledError;
      expect(err).toBeInstanceOf(ThrottledError);
      expect(err.retryAfterMs).toBeGreaterThan(0);
      expect(err.retryAfterMs).toBeLessThanOrEqual(1000);
      expect(sim.stats().throttled).toBe(1);
      expect(sim.shown('A')).toBe(2);
    } finally {
      await first.close?.();
      await second.close?.();
      await sim.close();
    }
  });

  it('does not send a call the last reported throttleStatus says cannot fit yet', async () => {
    const sim = await startShopifySimulator({ ...fast, costBucket: { restoreRate: 10, maximumAvailable: 10 }, skus: { A: 1 } });
    const connector = await shopify.create(sim.connectorOptions(['A']), context());
    try {
      await connector.push([{ sku: 'A', quantity: 2, version: 1 }], noSignal());
      const requests = sim.stats().requests;
      const err = (await connector.push([{ sku: 'A', quantity: 3, version: 2 }], noSignal()).catch((e: unknown) => e)) as ThrottledError;
      expect(err).toBeInstanceOf(ThrottledError);
      expect(err.retryAfterMs).toBeGreaterThan(0);
      expect(err.retryAfterMs).toBeLessThanOrEqual(1000);
      expect(sim.stats().requests).toBe(requests);
      expect(sim.stats().throttled).toBe(0);
    } finally {
      await connector.close?.();
      await sim.close();
    }
  });

  it('passes the throttle fault delay through as retryAfterMs', async () => {
    const sim = await startShopifySimulator({ ...fast, skus: { A: 1 } });
    const connector = await shopify.create(sim.connectorOptions(['A']), context());
    try {
      sim.setFault({ kind: 'throttle', retryAfterMs: 2000 });
      const err = (await connector.push([{ sku: 'A', quantity: 3, version: 2 }], noSignal()).catch((e: unknown) => e)) as ThrottledError;
      expect(err).toBeInstanceOf(ThrottledError);
      expect(err.retryAfterMs).toBe(2000);
    } finally {
      await connector.close?.();
      await sim.close();
    }
  });
});

describe('shopify order webhooks', () => {
  let sim: ShopifySimulator;
  let options: ShopifyOptions;
  let connector: ConnectorInstance;
  let sink: WebhookSink;

  const order = { id: 5820982911946, admin_graphql_api_id: 'gid://shopify/Order/5820982911946', name: '#1001', created_at: '2026-11-27T10:00:00-05:00', cancelled_at: null, line_items: [{ sku: 'TEE-S', quantity: 2, variant_id: null }, { sku: 'TEE-S', quantity: 1, variant_id: null }, { sku: null, quantity: 1, variant_id: null, title: 'Gift card' }] };
  const signed = (body: string, secret: string, topic = 'orders/create') => ({
    rawBody: Buffer.from(body),
    headers: { 'x-shopify-hmac-sha256': hmacSha256(secret, body, 'base64'), 'x-shopify-topic': topic, 'content-type': 'application/json' },
    path: '',
    query: {},
  });

  beforeAll(async () => {
    sim = await startShopifySimulator({ ...fast, skus: { 'TEE-S': 10, 'TEE-M': 10 } });
    options = { ...sim.connectorOptions(['TEE-S', 'TEE-M']), webhookSecret: ['old-secret', 'new-secret'] };
    connector = await shopify.create({ ...sim.connectorOptions(['TEE-S', 'TEE-M']) }, context());
    sink = await startWebhookSink((req) => connector.handleWebhook!(req, noSignal()));
    sim.setWebhookTarget!(sink.url);
  });
  afterAll(async () => {
    await sink.close();
    await connector.close?.();
    await sim.close();
  });

  it('turns a correctly signed orders/create into one order.confirmed keyed by the order id', async () => {
    const rotating = await shopify.create(options, context());
    const { events } = await rotating.handleWebhook!(signed(JSON.stringify(order), 'new-secret'), noSignal());
    expect(events).toEqual([{
      id: 'shopify-test:order:5820982911946:confirmed',
      type: 'order.confirmed',
      channel: 'shopify-test',
      occurredAt: '2026-11-27T15:00:00.000Z',
      orderId: '5820982911946',
      reference: '#1001',
      lines: [{ sku: 'TEE-S', qty: 3 }],
    }]);
  });

  it('accepts the previous secret during a rotation', async () => {
    const rotating = await shopify.create(options, context());
    const { events } = await rotating.handleWebhook!(signed(JSON.stringify(order), 'old-secret'), noSignal());
    expect(events).toHaveLength(1);
  });

  it.each([
    ['wrong', () => hmacSha256('not-the-secret', 'x', 'base64')],
    ['truncated', (h: string) => h.slice(0, -4)],
    ['missing', () => undefined],
  ])('throws WebhookSignatureError when the signature is %s', async (_label, mangle) => {
    const rotating = await shopify.create(options, context());
    const request = signed(JSON.stringify(order), 'new-secret');
    const headers = { ...request.headers, 'x-shopify-hmac-sha256': mangle(request.headers['x-shopify-hmac-sha256']) };
    await expect(rotating.handleWebhook!({ ...request, headers }, noSignal())).rejects.toBeInstanceOf(WebhookSignatureError);
  });

  it('rejects a body changed after signing', async () => {
    const rotating = await shopify.create(options, context());
    const request = signed(JSON.stringify(order), 'new-secret');
    const tampered = { ...request, rawBody: Buffer.from(JSON.stringify({ ...order, line_items: [{ sku: 'TEE-S', quantity: 1 }] })) };
    await expect(rotating.handleWebhook!(tampered, noSignal())).rejects.toBeInstanceOf(WebhookSignatureError);
  });

  it('turns orders/cancelled into order.cancelled alongside the confirmation it implies', async () => {
    const rotating = await shopify.create(options, context());
    const body = JSON.stringify({ ...order, cancelled_at: '2026-11-27T11:00:00-05:00' });
    const { events } = await rotating.handleWebhook!(signed(body, 'new-secret', 'orders/cancelled'), noSignal());
    expect(events.map((e) => [e.id, e.type, e.occurredAt])).toEqual([
      ['shopify-test:order:5820982911946:confirmed', 'order.confirmed', '2026-11-27T15:00:00.000Z'],
      ['shopify-test:order:5820982911946:cancelled', 'order.cancelled', '2026-11-27T16:00:00.000Z'],
    ]);
  });

  it('delivers a placed order three times with one webhook id, and every delivery yields the same event', async () => {
    const before = sink.deliveries.length;
    const { orderId } = await sim.placeOrder!([{ sku: 'TEE-M', qty: 2 }], { times: 3 });
    const deliveries = sink.deliveries.slice(before);
    expect(deliveries).toHaveLength(3);
    expect(new Set(deliveries.map((d) => d.headers['x-shopify-webhook-id'])).size).toBe(1);
    expect(deliveries.every((d) => d.status === 200)).toBe(true);
    const ids = deliveries.flatMap((d) => d.events.map((e) => e.id));
    expect(ids).toEqual(Array(3).fill(`shopify-test:order:${orderId}:confirmed`));
    expect(deliveries[0]?.events[0]).toMatchObject({ lines: [{ sku: 'TEE-M', qty: 2 }] });
    expect(sim.shown('TEE-M')).toBe(8);
  });

  it('delivers orders/updated before orders/create when out of order, and both collapse to one event id', async () => {
    const before = sink.deliveries.length;
    const { orderId } = await sim.placeOrder!([{ sku: 'TEE-S', qty: 1 }], { outOfOrder: true });
    const deliveries = sink.deliveries.slice(before);
    expect(deliveries.map((d) => d.headers['x-shopify-topic'])).toEqual(['orders/updated', 'orders/create']);
    expect(new Set(deliveries.flatMap((d) => d.events.map((e) => e.id)))).toEqual(new Set([`shopify-test:order:${orderId}:confirmed`]));
  });

  it('only produces events that pass the published event schemas', () => {
    const events = sink.events();
    expect(events.length).toBeGreaterThan(0);
    for (const event of events) expect(parseEvent(JSON.stringify(event), event.type)).toMatchObject({ ok: true });
  });
});
