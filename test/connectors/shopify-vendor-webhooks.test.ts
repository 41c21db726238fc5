import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import shopify from '../../connectors/shopify/index.ts';
import type { ShopifyOptions } from '../../connectors/shopify/options.ts';
import { hmacSha256 } from '../../connectors/_kit/signatures.ts';
import { parseEvent } from '../../core/events/validate-event.ts';
import { memoryConnectorState } from '../../core/plugins/memory-connector-state.ts';
import { isWebhookPayloadError, isWebhookSignatureError, type ConnectorContext, type ConnectorInstance, type Logger, type WebhookRequest } from '../../core/sdk.ts';

// The vendor's own artefacts are the oracle here: Shopify's HMAC validation test data (Shopify/shopify-app-js)
// and Shopify's published Order / Refund examples as the bodies its webhooks carry. See test/fixtures/vendor/shopify/SOURCE.
const fixture = (name: string): string => readFileSync(new URL(`../fixtures/vendor/shopify/${name}`, import.meta.url), 'utf8');
const hmacCases = JSON.parse(fixture('webhook-hmac-cases.json')) as {
  cases: Array<{ name: string; secrets: string[]; rawBody: string; headers: Record<string, string>; valid: boolean }>;
};
const orderCreate = fixture('order-create.json');
const orderCancelled = fixture('order-cancelled.json');
const refundCreate = fixture('refund-create.json');

const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {} };
const context = (): ConnectorContext => ({ channelId: 'shopify-main', logger: quiet, signal: new AbortController().signal, state: memoryConnectorState(), registerSecret: () => {} });
const noSignal = (): AbortSignal => new AbortController().signal;
const SECRET = 'shopify-app-secret';

const options = (overrides: Partial<ShopifyOptions> = {}): ShopifyOptions => ({
  baseUrl: 'http://127.0.0.1:9',
  accessToken: 'shpat_unused',
  locationId: '655441491',
  skus: {},
  webhookSecret: SECRET,
  ...overrides,
});

const delivery = (rawBody: string, topic: string, secret = SECRET): WebhookRequest => ({
  rawBody: Buffer.from(rawBody),
  headers: {
    'content-type': 'application/json',
    'x-shopify-topic': topic,
    'x-shopify-hmac-sha256': hmacSha256(secret, rawBody, 'base64'),
    'x-shopify-shop-domain': 'jsmith.myshopify.com',
    'x-shopify-api-version': '2026-04',
    'x-shopify-webhook-id': 'b54557e4-bdd9-4b37-8a5f-bf7d70bcd043',
  },
  path: '',
  query: {},
});

const connector = async (overrides: Partial<ShopifyOptions> = {}): Promise<ConnectorInstance> => shopify.create(options(overrides), context());

describe("shopify webhook signatures against Shopify's own validation tests (shopify-app-js)", () => {
  it.each(hmacCases.cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const instance = await connector({ webhookSecret: c.secrets.length === 1 ? c.secrets[0]! : c.secrets });
    const headers = Object.fromEntries(Object.entries(c.headers).map(([k, v]) => [k.toLowerCase(), v]));
    const outcome = instance.handleWebhook!({ rawBody: Buffer.from(c.rawBody), headers, path: '', query: {} }, noSignal());
    // A valid delivery of a non-order body (products/create) passes the check and yields no events.
    if (c.valid) await expect(outcome).resolves.toEqual({ events: [] });
    else await expect(outcome).rejects.toSatisfy(isWebhookSignatureError);
  });
});

describe("shopify order webhooks built from Shopify's published Order and Refund examples", () => {
  it('turns the example order (orders/create) into one order.confirmed with its SKUs and quantities', async () => {
    const order = JSON.parse(orderCreate) as { id: number; name: string; created_at: string; line_items: Array<{ sku: string; quantity: number }> };
    const { events } = await (await connector()).handleWebhook!(delivery(orderCreate, 'orders/create'), noSignal());
    expect(events).toEqual([{
      id: `shopify-main:order:${order.id}:confirmed`,
      type: 'order.confirmed',
      channel: 'shopify-main',
      occurredAt: new Date(order.created_at).toISOString(),
      orderId: String(order.id),
      reference: order.name,
      lines: order.line_items.map((l) => ({ sku: l.sku, qty: l.quantity })),
    }]);
    for (const event of events) expect(parseEvent(JSON.stringify(event), event.type)).toMatchObject({ ok: true });
  });

  it('maps order lines back to hub SKUs by variant id when the seller gave the variant', async () => {
    const instance = await connector({ skus: { 'HUB-BLACK': { inventoryItemId: '457924702', variantId: 'gid://shopify/ProductVariant/447654529' } } });
    const { events } = await instance.handleWebhook!(delivery(orderCreate, 'orders/create'), noSignal());
    expect(events[0]?.lines).toEqual([{ sku: 'HUB-BLACK', qty: 1 }]);
  });

  it('turns the example cancelled order (orders/cancelled) into order.cancelled at its cancelled_at, with the confirmation it implies', async () => {
    const order = JSON.parse(orderCancelled) as { id: number; cancelled_at: string; line_items: Array<{ sku: string; quantity: number }> };
    const { events } = await (await connector()).handleWebhook!(delivery(orderCancelled, 'orders/cancelled'), noSignal());
    expect(events.map((e) => [e.id, e.type])).toEqual([
      [`shopify-main:order:${order.id}:confirmed`, 'order.confirmed'],
      [`shopify-main:order:${order.id}:cancelled`, 'order.cancelled'],
    ]);
    expect(events[1]).toMatchObject({ occurredAt: new Date(order.cancelled_at).toISOString(), lines: order.line_items.map((l) => ({ sku: l.sku, qty: l.quantity })) });
    for (const event of events) expect(parseEvent(JSON.stringify(event), event.type)).toMatchObject({ ok: true });
  });

  it('reads the example refund (refunds/create, restock_type no_restock) as a return that restocks nothing', async () => {
    const refund = JSON.parse(refundCreate) as { id: number; order_id: number; created_at: string; refund_line_items: Array<{ quantity: number; line_item: { sku: string } }> };
    const { events } = await (await connector()).handleWebhook!(delivery(refundCreate, 'refunds/create'), noSignal());
    expect(events).toEqual([
      {
        id: `shopify-main:order:${refund.order_id}:returned:${refund.id}`,
        type: 'order.returned',
        channel: 'shopify-main',
        occurredAt: new Date(refund.created_at).toISOString(),
        orderId: String(refund.order_id),
        lines: [{ sku: refund.refund_line_items[0]!.line_item.sku, qty: refund.refund_line_items[0]!.quantity, restock: 0 }],
      },
    ]);
    expect(parseEvent(JSON.stringify(events[0]), 'order.returned')).toMatchObject({ ok: true });
  });
});

describe('shopify webhooks decide what happened from the signed body only (W3)', () => {
  it('a captured orders/create delivery replayed with X-Shopify-Topic: orders/cancelled restocks nothing', async () => {
    const instance = await connector();
    const captured = delivery(orderCreate, 'orders/create');
    const replayed = { ...captured, headers: { ...captured.headers, 'x-shopify-topic': 'orders/cancelled' } };
    const { events } = await instance.handleWebhook!(replayed, noSignal());
    expect(events.map((e) => e.type)).toEqual(['order.confirmed']);
    // The same event id as the original delivery, so the replay is a duplicate the ledger applies once.
    expect(events.map((e) => e.id)).toEqual((await instance.handleWebhook!(captured, noSignal())).events.map((e) => e.id));
  });

  it.each(['orders/create', 'orders/updated', 'orders/paid', 'products/update', 'app/uninstalled', ''])(
    'the example cancelled order means the same under topic %j',
    async (topic) => {
      const { events } = await (await connector()).handleWebhook!(delivery(orderCancelled, topic), noSignal());
      expect(events.map((e) => e.type)).toEqual(['order.confirmed', 'order.cancelled']);
    },
  );

  it('a signed refund replayed as orders/create or orders/cancelled is still only that refund', async () => {
    const instance = await connector();
    const original = (await instance.handleWebhook!(delivery(refundCreate, 'refunds/create'), noSignal())).events;
    for (const topic of ['orders/create', 'orders/cancelled']) {
      await expect(instance.handleWebhook!(delivery(refundCreate, topic), noSignal())).resolves.toEqual({ events: original });
    }
  });
});

describe('shopify webhook bodies read exactly and defensively', () => {
  it('keeps an order id above 2^53 exact (read from admin_graphql_api_id, not the rounded number)', async () => {
    const big = '820982911946154508';
    const body = orderCreate.replace(/"id": 1073459972,/, `"id": ${big},`).replace('gid://shopify/Order/1073459972', `gid://shopify/Order/${big}`);
    expect(body).toContain(`"id": ${big},`);
    const { events } = await (await connector()).handleWebhook!(delivery(body, 'orders/create'), noSignal());
    expect(events[0]).toMatchObject({ orderId: big, id: `shopify-main:order:${big}:confirmed` });
  });

  const mutate = (change: (order: Record<string, unknown>) => void): string => {
    const order = JSON.parse(orderCreate) as Record<string, unknown>;
    change(order);
    return JSON.stringify(order);
  };

  it.each([
    ['not JSON', '{"id": 1073459972, "line_items": ['],
    ['a JSON array', '[1, 2]'],
    ['JSON null', 'null'],
    ['an invalid created_at', mutate((o) => { o.created_at = 'yesterday'; })],
    ['created_at as a number', mutate((o) => { o.created_at = 1733000000; })],
    ['an invalid cancelled_at', mutate((o) => { o.cancelled_at = '2026-13-45T99:00:00Z'; })],
    ['line_items as an object', mutate((o) => { o.line_items = { sku: 'X' }; })],
    ['a null line item', mutate((o) => { o.line_items = [null]; })],
    ['a string quantity', mutate((o) => { (o.line_items as Array<Record<string, unknown>>)[0]!.quantity = '1'; })],
    ['a fractional quantity', mutate((o) => { (o.line_items as Array<Record<string, unknown>>)[0]!.quantity = 1.5; })],
    ['a numeric sku', mutate((o) => { (o.line_items as Array<Record<string, unknown>>)[0]!.sku = 42; })],
    ['a variant id that is an object', mutate((o) => { (o.line_items as Array<Record<string, unknown>>)[0]!.variant_id = {}; })],
    ['an id that disagrees with admin_graphql_api_id', mutate((o) => { o.id = 1; })],
    ['a name that is an object', mutate((o) => { o.name = { first: 'x' }; })],
  ])('answers WebhookPayloadError (400), never a TypeError or RangeError, for a signed order with %s', async (_label, body) => {
    await expect((await connector()).handleWebhook!(delivery(body, 'orders/create'), noSignal())).rejects.toSatisfy(isWebhookPayloadError);
  });
});
