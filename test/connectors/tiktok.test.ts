import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { startWebhookReceiver, type Receiver } from '../support/webhook-receiver.ts';
import tiktok from '../../connectors/tiktok/index.ts';
import type { TiktokOptions } from '../../connectors/tiktok/options.ts';
import { signRequest, signWebhook } from '../../connectors/tiktok/request-signature.ts';
import { startTiktokSimulator, type TiktokSimulator, type TiktokSimulatorOptions } from '../../connectors/tiktok/simulator.ts';
import {
  RejectedError,
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

async function connectorWith(options: TiktokOptions): Promise<ConnectorInstance> {
  const connector = await tiktok.create(options, { channelId: 'tiktok-main', logger: silent, signal, state: memoryConnectorState(), registerSecret: () => {} });
  cleanup.push(async () => connector.close?.());
  return connector;
}

async function setup(simOptions: TiktokSimulatorOptions = {}, skus = ['A', 'B', 'C'], overrides: Partial<TiktokOptions> = {}) {
  const sim = await startTiktokSimulator({ latency: { p50: 0, p99: 0 }, ...simOptions });
  cleanup.push(sim.close);
  const options = { ...sim.connectorOptions(skus), ...overrides };
  const connector = await connectorWith(options);
  return { sim, connector, options };
}


/** A tiny ingress: hands each delivery to the connector, as the hub's `/webhooks/<channel>` does. */
async function receiveWebhooks(sim: TiktokSimulator, connector: ConnectorInstance): Promise<Receiver> {
  const receiver = await startWebhookReceiver(sim, connector, signal);
  cleanup.push(receiver.close);
  return receiver;
}

const update = (sku: string, quantity: number, version = 1) => ({ sku, quantity, version });

describe('TikTok connector: pushing quantities', () => {
  it('sets quantities with one signed call per product', async () => {
    const { sim, connector } = await setup();
    expect(sim.productOf('A')).toBe(sim.productOf('B'));
    expect(sim.productOf('C')).not.toBe(sim.productOf('A'));
    const results = await connector.push([update('A', 4), update('B', 5), update('C', 6)], signal);
    expect(results).toHaveLength(3);
    expect(results.every((r) => r.status === 'ok')).toBe(true);
    expect([sim.shown('A'), sim.shown('B'), sim.shown('C')]).toEqual([4, 5, 6]);
    expect(sim.inventoryUpdates()).toBe(2);
  });

  it('answers not_listed for a hub SKU with no TikTok mapping, without calling TikTok', async () => {
    const { sim, connector } = await setup();
    expect(await connector.push([update('UNMAPPED', 1)], signal)).toEqual([{ sku: 'UNMAPPED', status: 'not_listed', reason: expect.stringContaining('no TikTok SKU') }]);
    expect(sim.stats().requests).toBe(0);
  });

  it('has the simulator refuse more than 100 SKUs in one update with code 36009004', async () => {
    const { sim, options } = await setup({ accessToken: 'TTP_fixed_token' });
    const productId = options.skus!.A!.productId;
    const path = `/product/202309/products/${productId}/inventory/update`;
    const body = JSON.stringify({ skus: Array.from({ length: 101 }, () => ({ id: options.skus!.A!.skuId, inventory: [{ quantity: 1 }] })) });
    const query: Record<string, string> = { app_key: options.appKey, shop_cipher: options.shopCipher, timestamp: String(Math.floor(Date.now() / 1000)) };
    query.sign = signRequest(options.appSecret as string, path, query, body);
    const res = await request(`${sim.url}${path}?${new URLSearchParams(query)}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-tts-access-token': 'TTP_fixed_token' },
      body,
    });
    expect(((await res.body.json()) as { code: number }).code).toBe(36009004);
  });

  it('refuses more than 100 items per push before calling TikTok', async () => {
    const { connector } = await setup();
    await expect(connector.push(Array.from({ length: 101 }, (_, i) => update(`S${i}`, 1)), signal)).rejects.toBeInstanceOf(RejectedError);
  });

  it('paces its calls under the app limit, so a push spanning many products draws no throttle', async () => {
    const skus = ['A', 'B', 'C', 'D', 'E', 'F'];
    const { sim, connector } = await setup({ rateLimit: { perSecond: 4, burst: 4 }, skusPerProduct: 1 }, skus);
    const results = await connector.push(skus.map((sku, i) => update(sku, i + 1)), signal);
    expect(results.every((r) => r.status === 'ok')).toBe(true);
    expect(sim.stats().throttled).toBe(0);
  });

  it('turns the rate-limit code 36009002 into a ThrottledError with a delay', async () => {
    // Another app spends the same limit: the connector's own pacing cannot see that.
    const { connector } = await setup({ rateLimit: { perSecond: 0.5, burst: 1 } }, undefined, { requestsPerSecond: 100 });
    await connector.push([update('A', 1)], signal);
    const err = await connector.push([update('A', 2)], signal).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ThrottledError);
    expect((err as ThrottledError).retryAfterMs).toBeGreaterThan(0);
  });

  it('keeps the products written before a throttle and answers retry for the rest', async () => {
    const { sim, connector } = await setup({ rateLimit: { perSecond: 0.5, burst: 1 } }, undefined, { requestsPerSecond: 100 });
    const results = await connector.push([update('A', 3), update('C', 4)], signal);
    expect(results).toContainEqual({ sku: 'A', status: 'ok', quantity: 3 });
    expect(results).toContainEqual({ sku: 'C', status: 'retry', reason: expect.stringContaining('36009002'), afterMs: expect.any(Number) });
    expect(sim.shown('A')).toBe(3);
  });

  it('honours a Retry-After that comes with a throttle answer', async () => {
    const { sim, connector } = await setup();
    sim.setFault({ kind: 'throttle', retryAfterMs: 3000 });
    const err = await connector.push([update('A', 1)], signal).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ThrottledError);
    expect((err as ThrottledError).retryAfterMs).toBe(3000);
  });

  it('rejects a push signed with the wrong app secret (106001), sent with a bad access token, or without a valid refresh token', async () => {
    const { options } = await setup({ accessToken: 'TTP_fixed_token' });
    const { refreshToken: _ignored, ...fixed } = options;
    const wrongSecret = await connectorWith({ ...fixed, accessToken: 'TTP_fixed_token', appSecret: 'not-the-secret' });
    await expect(wrongSecret.push([update('A', 1)], signal)).rejects.toThrow(/106001/);
    const wrongToken = await connectorWith({ ...fixed, accessToken: 'TTP_wrong' });
    await expect(wrongToken.push([update('A', 1)], signal)).rejects.toBeInstanceOf(RejectedError);
    const wrongRefresh = await connectorWith({ ...options, refreshToken: 'TTP_revoked' });
    await expect(wrongRefresh.push([update('A', 1)], signal)).rejects.toBeInstanceOf(RejectedError);
  });

  it('answers not_listed for the SKUs of a product TikTok does not know and still writes the other products', async () => {
    const { sim, options } = await setup();
    const connector = await connectorWith({ ...options, skus: { ...options.skus, GHOST: { productId: '1', skuId: '2' } } });
    const results = await connector.push([update('GHOST', 1), update('C', 8)], signal);
    expect(results).toContainEqual({ sku: 'GHOST', status: 'not_listed', reason: expect.stringContaining('12052048') });
    expect(results).toContainEqual({ sku: 'C', status: 'ok', quantity: 8 });
    expect(sim.shown('C')).toBe(8);
  });

  it('answers retry for every item during an outage', async () => {
    const { sim, connector } = await setup();
    await connector.push([update('A', 2)], signal);
    sim.setFault({ kind: 'down' });
    const results = await connector.push([update('A', 1), update('C', 1)], signal);
    expect(results.map((r) => r.status)).toEqual(['retry', 'retry']);
  });

  it('reads back what TikTok shows', async () => {
    const { sim, connector } = await setup();
    sim.setShown('B', 31);
    const shown = await connector.fetchQuantities!(['A', 'B'], signal);
    expect(shown.get('B')).toBe(31);
    expect(shown.get('A')).toBe(0);
  });
});

describe('TikTok connector: order webhooks', () => {
  it('verifies the signature, fetches the order and counts one line item per unit', async () => {
    const { sim, connector } = await setup({ skus: { A: 10, C: 10 } });
    const received = await receiveWebhooks(sim, connector);
    const { orderId } = await sim.placeOrder!([{ sku: 'A', qty: 3 }, { sku: 'C', qty: 1 }]);
    expect(received.statuses).toEqual([200]);
    const event = received.events[0]!;
    expect(event).toMatchObject({ id: `tiktok-main:order:${orderId}:confirmed`, type: 'order.confirmed', channel: 'tiktok-main', orderId });
    expect(event.type === 'order.confirmed' && event.lines).toEqual(expect.arrayContaining([{ sku: 'A', qty: 3 }, { sku: 'C', qty: 1 }]));
    expect(Math.abs(Date.parse(event.occurredAt) - Date.now())).toBeLessThan(60_000);
    expect(sim.shown('A')).toBe(7);
  });

  it('throws WebhookSignatureError for a wrong, truncated or missing signature', async () => {
    const { sim, connector } = await setup();
    const received = await receiveWebhooks(sim, connector);
    await sim.placeOrder!([{ sku: 'A', qty: 1 }]);
    const good = received.requests[0]!;
    const signature = good.headers.authorization!;
    const variants: WebhookRequest[] = [
      { ...good, rawBody: Buffer.from(good.rawBody.toString().replace('"type":1', '"type":1 ')) },
      { ...good, headers: { ...good.headers, authorization: signature.slice(0, 32) } },
      { ...good, headers: { ...good.headers, authorization: undefined } },
    ];
    for (const variant of variants) await expect(connector.handleWebhook!(variant, signal)).rejects.toBeInstanceOf(WebhookSignatureError);
  });

  it('accepts a webhook signed with the second app secret during a rotation', async () => {
    const { sim, options } = await setup();
    const previous = 'previous-app-secret';
    const connector = await connectorWith({ ...options, appSecret: [options.appSecret as string, previous] });
    const received = await receiveWebhooks(sim, connector);
    await sim.placeOrder!([{ sku: 'B', qty: 1 }]);
    const delivered = received.requests[0]!;
    const resigned = { ...delivered, headers: { ...delivered.headers, authorization: signWebhook(previous, options.appKey, delivered.rawBody) } };
    const outcome = await connector.handleWebhook!(resigned, signal);
    expect(outcome.events).toHaveLength(1);
    expect(outcome.events[0]?.id).toBe(received.events[0]?.id);
  });

  it('collapses three deliveries of one order into one event id', async () => {
    const { sim, connector } = await setup();
    const received = await receiveWebhooks(sim, connector);
    const { orderId } = await sim.placeOrder!([{ sku: 'A', qty: 1 }], { times: 3 });
    expect(received.requests).toHaveLength(3);
    expect(new Set(received.events.map((e) => e.id))).toEqual(new Set([`tiktok-main:order:${orderId}:confirmed`]));
  });

  it('collapses the paid status arriving before the unpaid one into one event id', async () => {
    const { sim, connector } = await setup();
    const received = await receiveWebhooks(sim, connector);
    const { orderId } = await sim.placeOrder!([{ sku: 'A', qty: 2 }], { outOfOrder: true });
    const statuses = received.requests.map((r) => (JSON.parse(r.rawBody.toString()) as { data: { order_status: string } }).data.order_status);
    expect(statuses).toEqual(['AWAITING_SHIPMENT', 'UNPAID']);
    expect(received.events.map((e) => e.id)).toEqual([`tiktok-main:order:${orderId}:confirmed`, `tiktok-main:order:${orderId}:confirmed`]);
  });

  it('reads a cancelled order as order.cancelled', async () => {
    const { sim, connector } = await setup();
    const received = await receiveWebhooks(sim, connector);
    const { orderId } = await sim.placeOrder!([{ sku: 'A', qty: 2 }]);
    sim.cancelOrder(orderId);
    const outcome = await connector.handleWebhook!(received.requests[0]!, signal);
    expect(outcome.events[0]).toMatchObject({ id: `tiktok-main:order:${orderId}:cancelled`, type: 'order.cancelled', lines: [{ sku: 'A', qty: 2 }] });
  });
});
