import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { startWebhookReceiver, type Receiver } from '../support/webhook-receiver.ts';
import etsy from '../../connectors/etsy/index.ts';
import type { EtsyOptions } from '../../connectors/etsy/options.ts';
import { startEtsySimulator, type EtsySimulator, type EtsySimulatorOptions } from '../../connectors/etsy/simulator.ts';
import { standardWebhookHeaders } from '../../connectors/_kit/standard-webhooks.ts';
import { toInventoryUpdate } from '../../connectors/etsy/inventory-update.ts';
import {
  RejectedError,
  RetryableError,
  ThrottledError,
  WebhookSignatureError,
  type ConnectorInstance,
  type InventoryEvent,
  type WebhookRequest,
} from '../../core/sdk.ts';
import { memoryConnectorState } from '../../core/plugins/memory-connector-state.ts';

const silent = { debug() {}, info() {}, warn() {}, error() {} };
const signal = new AbortController().signal;
const cleanup: Array<() => Promise<void>> = [];

afterEach(async () => {
  while (cleanup.length) await cleanup.pop()!();
});

async function connectorWith(options: EtsyOptions): Promise<ConnectorInstance> {
  const connector = await etsy.create(options, { channelId: 'etsy-main', logger: silent, signal, state: memoryConnectorState(), registerSecret: () => {} });
  cleanup.push(async () => connector.close?.());
  return connector;
}

async function setup(simOptions: EtsySimulatorOptions = {}, skus = ['A', 'B', 'C'], overrides: Partial<EtsyOptions> = {}) {
  const sim = await startEtsySimulator({ latency: { p50: 0, p99: 0 }, ...simOptions });
  cleanup.push(sim.close);
  const options = { ...sim.connectorOptions(skus), ...overrides };
  const connector = await connectorWith(options);
  return { sim, connector, options };
}


/** A tiny ingress: hands each delivery to the connector, as the hub's `/webhooks/<channel>` does. */
async function receiveWebhooks(sim: EtsySimulator, connector: ConnectorInstance): Promise<Receiver> {
  const receiver = await startWebhookReceiver(sim, connector, signal);
  cleanup.push(receiver.close);
  return receiver;
}

const update = (sku: string, quantity: number, version = 1) => ({ sku, quantity, version });

describe('Etsy connector: pushing quantities', () => {
  it('changes one product and writes every other product, price and property value back unchanged', async () => {
    const { sim, connector } = await setup({ skus: { A: 5, B: 9 } });
    const listingId = sim.listingOf('A')!;
    expect(sim.listingOf('B')).toBe(listingId);
    const before = structuredClone(sim.inventory(listingId)!);
    const results = await connector.push([update('A', 2)], signal);
    expect(results).toEqual([{ sku: 'A', status: 'ok', quantity: 2 }]);
    const after = sim.inventory(listingId)!;
    expect(sim.shown('A')).toBe(2);
    expect(sim.shown('B')).toBe(9);
    expect(after.products.map((p) => [p.sku, p.property_values.map((v) => v.values), p.offerings[0]?.price.amount])).toEqual(
      before.products.map((p) => [p.sku, p.property_values.map((v) => v.values), p.offerings[0]?.price.amount]),
    );
    expect(after.quantity_on_property).toEqual(before.quantity_on_property);
  });

  it('updates several SKUs of one listing with a single read and a single write', async () => {
    const { sim, connector } = await setup();
    // API calls only: the first call of a connector also renews its access token.
    const apiCalls = () => (sim.stats().requests ?? 0) - (sim.stats().refreshes ?? 0);
    const before = apiCalls();
    const results = await connector.push([update('A', 3), update('B', 4)], signal);
    expect(results).toHaveLength(2);
    expect(results.every((r) => r.status === 'ok')).toBe(true);
    expect(apiCalls() - before).toBe(2);
    expect([sim.shown('A'), sim.shown('B')]).toEqual([3, 4]);
  });

  it('keeps concurrent pushes to two SKUs of one listing from overwriting each other', async () => {
    const { sim, connector } = await setup({ latency: { p50: 5, p99: 10 } });
    await Promise.all([connector.push([update('A', 11)], signal), connector.push([update('B', 22)], signal)]);
    expect([sim.shown('A'), sim.shown('B')]).toEqual([11, 22]);
  });

  it('has the simulator refuse an inventory written back in the read shape (ids, money objects)', async () => {
    const { sim, options } = await setup();
    const listingId = sim.listingOf('A')!;
    const headers = { 'x-api-key': `${options.keystring}:${options.sharedSecret}`, authorization: `Bearer ${options.accessToken}`, 'content-type': 'application/json' };
    const res = await request(`${sim.url}/v3/application/listings/${listingId}/inventory`, { method: 'PUT', headers, body: JSON.stringify(sim.inventory(listingId)) });
    const body = (await res.body.json()) as { error: string };
    expect(res.statusCode).toBe(400);
    expect(body.error).toMatch(/product_id/);
  });

  it('answers not_listed for an unmapped hub SKU, a listing Etsy does not know, and a product missing from its listing', async () => {
    const { options } = await setup();
    const connector = await connectorWith({
      ...options,
      listings: { ...options.listings, GONE: { listingId: 1 }, MISSING: { listingId: options.listings!.A!.listingId, sku: 'NOPE' } },
    });
    const results = await connector.push([update('UNMAPPED', 1), update('GONE', 1), update('MISSING', 1), update('A', 6)], signal);
    expect(results).toContainEqual({ sku: 'UNMAPPED', status: 'not_listed', reason: expect.stringContaining('no Etsy listing') });
    expect(results).toContainEqual({ sku: 'GONE', status: 'not_listed', reason: expect.stringContaining('no listing 1') });
    expect(results).toContainEqual({ sku: 'MISSING', status: 'not_listed', reason: expect.stringContaining('NOPE') });
    expect(results).toContainEqual({ sku: 'A', status: 'ok', quantity: 6 });
  });

  it('writes back the processing profile of each offering and of the listing, where Etsy returns them', () => {
    const read = {
      products: [
        {
          product_id: 1,
          sku: 'E-A',
          is_deleted: false,
          property_values: [],
          offerings: [{ offering_id: 2, quantity: 3, is_enabled: true, is_deleted: false, price: { amount: 1250, divisor: 100, currency_code: 'USD' }, readiness_state_id: 77 }],
        },
      ],
      price_on_property: [],
      quantity_on_property: [],
      sku_on_property: [],
      readiness_state_on_property: [513],
    };
    expect(toInventoryUpdate(read)).toEqual({
      products: [{ sku: 'E-A', property_values: [], offerings: [{ price: 12.5, quantity: 3, is_enabled: true, readiness_state_id: 77 }] }],
      price_on_property: [],
      quantity_on_property: [],
      sku_on_property: [],
      readiness_state_on_property: [513],
    });
  });

  it('shows at most 999, the largest quantity Etsy takes', async () => {
    const { sim, connector } = await setup();
    expect(await connector.push([update('A', 5000)], signal)).toEqual([{ sku: 'A', status: 'ok', quantity: 999 }]);
    expect(sim.shown('A')).toBe(999);
  });

  it('refuses more than 5 items per push before calling Etsy', async () => {
    const { connector } = await setup();
    await expect(connector.push(Array.from({ length: 6 }, (_, i) => update(`S${i}`, 1)), signal)).rejects.toBeInstanceOf(RejectedError);
  });

  it('keeps the listings written before a throttle and answers retry for the rest', async () => {
    // The app's quota is shared (another app spends it): the connector's own pacing cannot see that.
    const { sim, connector } = await setup({ rateLimit: { perSecond: 0.5, burst: 2 }, productsPerListing: 1 }, undefined, { requestsPerSecond: 100 });
    const results = await connector.push([update('A', 3), update('B', 4)], signal);
    expect(results).toContainEqual({ sku: 'A', status: 'ok', quantity: 3 });
    expect(results).toContainEqual({ sku: 'B', status: 'retry', reason: expect.stringContaining('per-second'), afterMs: expect.any(Number) });
    expect(sim.shown('A')).toBe(3);
  });

  it('turns the per-second 429 into a ThrottledError with the retry-after delay', async () => {
    const { connector } = await setup({ rateLimit: { perSecond: 0.5, burst: 1 } }, undefined, { requestsPerSecond: 100 });
    const err = await connector.push([update('A', 1)], signal).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ThrottledError);
    expect((err as ThrottledError).retryAfterMs).toBeGreaterThanOrEqual(1000);
  });

  it('paces its calls under the per-second limit, so a push of several listings draws no 429', async () => {
    const { sim, connector } = await setup({ rateLimit: { perSecond: 4, burst: 4 }, productsPerListing: 1 }, ['A', 'B', 'C', 'D']);
    const results = await connector.push([update('A', 1), update('B', 2), update('C', 3), update('D', 4)], signal);
    expect(results.every((r) => r.status === 'ok')).toBe(true);
    expect(sim.stats().throttled).toBe(0);
  });

  it('turns the exhausted daily quota into a ThrottledError lasting until the window resets', async () => {
    const { connector } = await setup({ dailyLimit: 3 });
    await connector.push([update('A', 1)], signal);
    const err = await connector.push([update('A', 2)], signal).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ThrottledError);
    expect((err as ThrottledError).message).toMatch(/daily/);
    expect((err as ThrottledError).retryAfterMs).toBeGreaterThan(60_000);
  });

  it('sends the keystring with the shared secret; a wrong one is a RejectedError, an outage a RetryableError', async () => {
    const { sim, options } = await setup();
    const wrong = await connectorWith({ ...options, sharedSecret: 'not-it' });
    await expect(wrong.push([update('A', 1)], signal)).rejects.toBeInstanceOf(RejectedError);
    sim.setFault({ kind: 'down' });
    const right = await connectorWith(options);
    const err = await right.push([update('A', 1)], signal).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RetryableError);
    expect(err).not.toBeInstanceOf(ThrottledError);
  });

  it('reads back what Etsy shows', async () => {
    const { sim, connector } = await setup();
    sim.setShown('C', 17);
    const shown = await connector.fetchQuantities!(['A', 'C'], signal);
    expect(shown.get('C')).toBe(17);
    expect(shown.get('A')).toBe(0);
  });
});

describe('Etsy connector: order webhooks', () => {
  it('verifies the signature, fetches the receipt and emits order.confirmed in hub SKUs', async () => {
    const { sim, connector } = await setup({ skus: { A: 4, C: 4 } });
    const received = await receiveWebhooks(sim, connector);
    const { orderId } = await sim.placeOrder!([{ sku: 'A', qty: 1 }, { sku: 'C', qty: 3 }]);
    expect(received.statuses).toEqual([200]);
    const event = received.events[0]!;
    expect(event).toMatchObject({ id: `etsy-main:order:${orderId}:confirmed`, type: 'order.confirmed', channel: 'etsy-main', orderId });
    expect(event.type === 'order.confirmed' && event.lines).toEqual(expect.arrayContaining([{ sku: 'A', qty: 1 }, { sku: 'C', qty: 3 }]));
    expect(Math.abs(Date.parse(event.occurredAt) - Date.now())).toBeLessThan(60_000);
    expect(sim.shown('C')).toBe(1);
  });

  it('throws WebhookSignatureError for a wrong, truncated, missing or stale signature', async () => {
    const { sim, connector, options } = await setup();
    const received = await receiveWebhooks(sim, connector);
    await sim.placeOrder!([{ sku: 'A', qty: 1 }]);
    const good = received.requests[0]!;
    const signature = good.headers['webhook-signature']!;
    const stale = Math.floor(Date.now() / 1000) - 3600;
    const variants: WebhookRequest[] = [
      { ...good, rawBody: Buffer.concat([good.rawBody, Buffer.from(' ')]) },
      { ...good, headers: { ...good.headers, 'webhook-signature': signature.slice(0, signature.length - 6) } },
      { ...good, headers: { ...good.headers, 'webhook-signature': undefined } },
      { ...good, headers: { ...good.headers, ...standardWebhookHeaders(options.webhookSecret as string, good.headers['webhook-id']!, good.rawBody, stale) } },
    ];
    for (const variant of variants) await expect(connector.handleWebhook!(variant, signal)).rejects.toBeInstanceOf(WebhookSignatureError);
  });

  it('accepts the second of two active secrets during a rotation', async () => {
    const { sim, options } = await setup();
    const connector = await connectorWith({ ...options, webhookSecret: ['whsec_b2xkLXNlY3JldC1ub3QtdXNlZA==', options.webhookSecret as string] });
    const received = await receiveWebhooks(sim, connector);
    await sim.placeOrder!([{ sku: 'B', qty: 1 }]);
    expect(received.statuses).toEqual([200]);
    expect(received.events).toHaveLength(1);
  });

  it('collapses three deliveries of one order into one event id', async () => {
    const { sim, connector } = await setup();
    const received = await receiveWebhooks(sim, connector);
    const { orderId } = await sim.placeOrder!([{ sku: 'A', qty: 1 }], { times: 3 });
    expect(received.requests).toHaveLength(3);
    expect(new Set(received.events.map((e) => e.id))).toEqual(new Set([`etsy-main:order:${orderId}:confirmed`]));
  });

  it('collapses a retried delivery that overtakes the original into the same event id', async () => {
    const { sim, connector } = await setup();
    const received = await receiveWebhooks(sim, connector);
    const { orderId } = await sim.placeOrder!([{ sku: 'A', qty: 1 }], { outOfOrder: true });
    expect(received.requests).toHaveLength(2);
    expect(received.events.map((e) => e.id)).toEqual([`etsy-main:order:${orderId}:confirmed`, `etsy-main:order:${orderId}:confirmed`]);
  });

  it('reads a cancelled receipt as order.cancelled', async () => {
    const { sim, connector } = await setup();
    const received = await receiveWebhooks(sim, connector);
    const { orderId } = await sim.placeOrder!([{ sku: 'A', qty: 1 }]);
    sim.cancelReceipt(Number(orderId));
    const outcome = await connector.handleWebhook!(received.requests[0]!, signal);
    expect(outcome.events[0]).toMatchObject({ id: `etsy-main:order:${orderId}:cancelled`, type: 'order.cancelled', lines: [{ sku: 'A', qty: 1 }] });
  });
});
