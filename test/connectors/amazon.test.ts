import { afterEach, describe, expect, it } from 'vitest';
import amazon from '../../connectors/amazon/index.ts';
import { startAmazonSimulator, type AmazonSimulator, type AmazonSimulatorOptions } from '../../connectors/amazon/simulator.ts';
import { RejectedError, RetryableError, ThrottledError, type ConnectorContext, type ConnectorInstance, type InventoryEvent, type Logger } from '../../core/sdk.ts';
import type { AmazonOptions } from '../../connectors/amazon/options.ts';
import { memoryConnectorState } from '../../core/plugins/memory-connector-state.ts';

const silent: Logger = { debug() {}, info() {}, warn() {}, error() {} };
const context: ConnectorContext = { channelId: 'amazon-us', logger: silent, signal: new AbortController().signal, state: memoryConnectorState(), registerSecret: () => {} };
const signal = new AbortController().signal;

let sim: AmazonSimulator | undefined;
let connector: ConnectorInstance | undefined;

afterEach(async () => {
  await connector?.close?.();
  await sim?.close();
  connector = undefined;
  sim = undefined;
});

async function setup(skus: string[], simOptions: AmazonSimulatorOptions = {}, tweak: (o: AmazonOptions) => AmazonOptions = (o) => o, logger = silent) {
  sim = await startAmazonSimulator({ latency: { p50: 0, p99: 0 }, ...simOptions });
  connector = await amazon.create(tweak(sim.connectorOptions(skus)), { ...context, logger });
  return { sim, connector };
}

const update = (sku: string, quantity: number) => ({ sku, quantity, version: 1 });

describe('amazon connector: pushing quantities (Listings Items PATCH)', () => {
  it('sets the fulfillment_availability quantity of the mapped listing', async () => {
    const { sim, connector } = await setup(['SHIRT-1']);
    const results = await connector.push([update('SHIRT-1', 7)], signal);
    expect(results).toEqual([{ sku: 'SHIRT-1', status: 'ok', quantity: 7 }]);
    expect(sim.shown('SHIRT-1')).toBe(7);
  });

  it('URL-encodes the seller SKU so a SKU with a slash reaches its own listing', async () => {
    const { sim, connector } = await setup(['A/B']);
    expect(sim.sellerSku('A/B')).toContain('/');
    await connector.push([update('A/B', 3)], signal);
    expect(sim.shown('A/B')).toBe(3);
  });

  it('exchanges the refresh token once and reuses the access token', async () => {
    const { sim, connector } = await setup(['S1']);
    await connector.push([update('S1', 1)], signal);
    await connector.push([update('S1', 2)], signal);
    expect(sim.stats().tokensIssued).toBe(1);
  });

  it('fetches a new access token when Amazon refuses the current one with 403', async () => {
    const { sim, connector } = await setup(['S1']);
    await connector.push([update('S1', 1)], signal);
    sim.revokeAccessTokens();
    expect(await connector.push([update('S1', 4)], signal)).toEqual([{ sku: 'S1', status: 'ok', quantity: 4 }]);
    expect(sim.stats().tokensIssued).toBe(2);
  });

  it('rejects the push when Login with Amazon refuses the client credentials', async () => {
    const { connector } = await setup(['S1'], {}, (o) => ({ ...o, clientSecret: 'wrong' }));
    await expect(connector.push([update('S1', 1)], signal)).rejects.toBeInstanceOf(RejectedError);
  });

  it('refuses more than one SKU per call without calling Amazon', async () => {
    const { sim, connector } = await setup(['S1', 'S2']);
    await expect(connector.push([update('S1', 1), update('S2', 1)], signal)).rejects.toBeInstanceOf(RejectedError);
    expect(sim.stats().requests).toBe(0);
  });

  it('reports a hub SKU that has no listing mapping as not listed, without calling Amazon', async () => {
    const { sim, connector } = await setup(['S1']);
    const [result] = await connector.push([update('UNMAPPED', 1)], signal);
    expect(result).toMatchObject({ sku: 'UNMAPPED', status: 'not_listed' });
    expect(result?.status === 'not_listed' && result.reason).toContain('UNMAPPED');
    expect(sim.stats().requests).toBe(0);
  });

  it('maps an INVALID submission for a listing unknown to Amazon to a not-listed item carrying the issue', async () => {
    const { connector } = await setup(['S1'], {}, (o) => ({ ...o, listings: { ...o.listings, GHOST: { sellerSku: 'NOT-ON-AMAZON', productType: 'PRODUCT' } } }));
    const [result] = await connector.push([update('GHOST', 1)], signal);
    expect(result).toMatchObject({ sku: 'GHOST', status: 'not_listed' });
    expect(result?.status === 'not_listed' && result.reason).toContain('NOT-ON-AMAZON');
  });

  it('maps an INVALID submission for a wrong product type to a rejected item', async () => {
    const { connector } = await setup(['S1'], {}, (o) => ({ ...o, listings: { S1: { sellerSku: o.listings.S1!.sellerSku, productType: 'SHOES' } } }));
    const [result] = await connector.push([update('S1', 1)], signal);
    expect(result).toMatchObject({ sku: 'S1', status: 'rejected' });
  });

  it('throws ThrottledError after the burst, waiting one token of the rate Amazon reported', async () => {
    const { connector } = await setup(['S1'], { rateLimit: { perSecond: 2, burst: 1 } });
    await connector.push([update('S1', 1)], signal);
    const error = await connector.push([update('S1', 2)], signal).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(ThrottledError);
    expect((error as ThrottledError).retryAfterMs).toBe(500);
  });

  it('doubles the wait for every 429 in a row, since Amazon names no retry time', async () => {
    const { sim, connector } = await setup(['S1'], { rateLimit: { perSecond: 10, burst: 1 } });
    await connector.push([update('S1', 1)], signal);
    sim.setFault({ kind: 'throttle', retryAfterMs: 1000 });
    const waits: Array<number | undefined> = [];
    for (let i = 0; i < 3; i++) waits.push(((await connector.push([update('S1', 2)], signal).catch((err: unknown) => err)) as ThrottledError).retryAfterMs);
    expect(waits).toEqual([100, 200, 400]);
    sim.setFault(null);
    await new Promise((resolve) => setTimeout(resolve, 120));
    await connector.push([update('S1', 3)], signal);
    sim.setFault({ kind: 'throttle', retryAfterMs: 1000 });
    expect(((await connector.push([update('S1', 4)], signal).catch((err: unknown) => err)) as ThrottledError).retryAfterMs).toBe(100);
  });

  it('throws ThrottledError while the simulator throttles every request', async () => {
    const { sim, connector } = await setup(['S1']);
    await connector.push([update('S1', 1)], signal);
    sim.setFault({ kind: 'throttle', retryAfterMs: 1000 });
    await expect(connector.push([update('S1', 2)], signal)).rejects.toBeInstanceOf(ThrottledError);
  });

  it('throws a RetryableError (not a throttle) when Amazon answers 503', async () => {
    const { sim, connector } = await setup(['S1']);
    await connector.push([update('S1', 1)], signal);
    sim.setFault({ kind: 'down' });
    const error = await connector.push([update('S1', 2)], signal).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(RetryableError);
    expect(error).not.toBeInstanceOf(ThrottledError);
  });

  it('throws a RetryableError when the connection drops after Amazon applied the write', async () => {
    const { sim, connector } = await setup(['S1']);
    await connector.push([update('S1', 1)], signal);
    sim.setFault({ kind: 'drop-after-write' });
    await expect(connector.push([update('S1', 6)], signal)).rejects.toBeInstanceOf(RetryableError);
    expect(sim.shown('S1')).toBe(6);
  });

  it('reads back what the listing shows through getListingsItem', async () => {
    const { sim, connector } = await setup(['S1', 'S2']);
    sim.setShown('S1', 11);
    sim.setShown('S2', 0);
    const shown = await connector.fetchQuantities!(['S1', 'S2'], signal);
    expect(Object.fromEntries(shown)).toEqual({ S1: 11, S2: 0 });
  });
});

describe('amazon connector: orders through the ORDER_CHANGE queue', () => {
  it('turns a notification into an order.confirmed event with hub SKUs, read from its summary without calling the Orders API', async () => {
    const { sim, connector } = await setup(['S1', 'S2'], { skus: { S1: 10, S2: 5 } });
    const { orderId } = await sim.placeOrder!([
      { sku: 'S1', qty: 2 },
      { sku: 'S2', qty: 1 },
    ]);
    expect(sim.shown('S1')).toBe(8);
    const events = await connector.pollOrders!(signal);
    expect(events).toHaveLength(1);
    const [event] = events as [InventoryEvent];
    expect(event).toMatchObject({ id: `amazon-us:order:${orderId}:confirmed`, type: 'order.confirmed', channel: 'amazon-us', orderId });
    expect(event.lines).toEqual([
      { sku: 'S1', qty: 2 },
      { sku: 'S2', qty: 1 },
    ]);
    expect(Number.isNaN(Date.parse(event.occurredAt))).toBe(false);
    expect(sim.stats().ordersApiCalls).toBe(0);
  });

  it('reads the order from the Orders API (2026-01-01 getOrder) when the notification summary is unusable', async () => {
    const { sim, connector } = await setup(['S1'], { skus: { S1: 10 } });
    const { orderId } = await sim.placeOrder!([{ sku: 'S1', qty: 3 }]);
    await connector.pollOrders!(signal);
    await connector.pollOrders!(signal);
    const notification = structuredClone(sim.notificationsSent()[0]!) as unknown as { Payload: { OrderChangeNotification: { Summary: unknown } } };
    notification.Payload.OrderChangeNotification.Summary = { MarketplaceId: 'ATVPDKIKX0DER', OrderStatus: 'Unshipped' };
    sim.sendQueueMessage(JSON.stringify(notification));
    const events = await connector.pollOrders!(signal);
    expect(events.map((e) => [e.id, e.lines])).toEqual([[`amazon-us:order:${orderId}:confirmed`, [{ sku: 'S1', qty: 3 }]]]);
    expect(sim.stats().ordersApiCalls).toBe(1);
  });

  it('collapses a notification queued three times into one event id and deletes all three on the next poll', async () => {
    const { sim, connector } = await setup(['S1'], { skus: { S1: 10 } });
    const { orderId } = await sim.placeOrder!([{ sku: 'S1', qty: 1 }], { times: 3 });
    const events = await connector.pollOrders!(signal);
    expect(new Set(events.map((e) => e.id))).toEqual(new Set([`amazon-us:order:${orderId}:confirmed`]));
    expect(sim.queueDepth()).toEqual({ visible: 0, inFlight: 3 });
    expect(await connector.pollOrders!(signal)).toEqual([]);
    expect(sim.queueDepth()).toEqual({ visible: 0, inFlight: 0 });
  });

  it('gives the same event id when the update notification arrives before the creation one', async () => {
    const { sim, connector } = await setup(['S1'], { skus: { S1: 10 } });
    const { orderId } = await sim.placeOrder!([{ sku: 'S1', qty: 1 }], { outOfOrder: true });
    const events = await connector.pollOrders!(signal);
    expect(sim.stats().messagesReceived).toBe(2);
    expect(events.map((e) => e.id)).toEqual([`amazon-us:order:${orderId}:confirmed`]);
  });

  it('offers a notification again, with the same event id, when the hub never came back to take it', async () => {
    const { sim, connector } = await setup(['S1'], { skus: { S1: 10 }, visibilityTimeoutSeconds: 1 });
    await sim.placeOrder!([{ sku: 'S1', qty: 1 }]);
    const first = await connector.pollOrders!(signal);
    // A second connector stands for the hub restarted after a crash: it knows nothing of the first read.
    const restarted = await amazon.create(sim.connectorOptions(['S1']), context);
    try {
      expect(await restarted.pollOrders!(signal)).toEqual([]);
      await new Promise((resolve) => setTimeout(resolve, 1100));
      const again = await restarted.pollOrders!(signal);
      expect(again.map((e) => e.id)).toEqual(first.map((e) => e.id));
    } finally {
      await restarted.close?.();
    }
  });

  it('reports a cancelled order as its confirmation and its cancellation, so any arrival order nets out', async () => {
    const { sim, connector } = await setup(['S1'], { skus: { S1: 10 } });
    const { orderId } = await sim.placeOrder!([{ sku: 'S1', qty: 3 }]);
    await connector.pollOrders!(signal);
    sim.cancelOrder(orderId);
    expect(sim.shown('S1')).toBe(10);
    const events = await connector.pollOrders!(signal);
    expect(events.map((e) => e.type).sort()).toEqual(['order.cancelled', 'order.confirmed']);
    expect(events.find((e) => e.type === 'order.cancelled')?.id).toBe(`amazon-us:order:${orderId}:cancelled`);
  });

  it('leaves out order lines whose seller SKU is not mapped to a hub SKU', async () => {
    const { sim, connector } = await setup(['S1', 'S2'], { skus: { S1: 10, S2: 10 } });
    await sim.placeOrder!([
      { sku: 'S1', qty: 1 },
      { sku: 'S2', qty: 1 },
    ]);
    const narrow = await amazon.create({ ...sim.connectorOptions(['S1']) }, context);
    try {
      const [event] = await narrow.pollOrders!(signal);
      expect(event?.type === 'order.confirmed' && event.lines).toEqual([{ sku: 'S1', qty: 1 }]);
    } finally {
      await narrow.close?.();
    }
  });
});

describe('amazon connector: the notification queue is read as SQS requires', () => {
  it('keeps a queue message it cannot read (for the queue\'s redrive policy), reports it once, and still reads the orders behind it', async () => {
    const errors: Array<Record<string, unknown> | undefined> = [];
    const { sim, connector } = await setup(['S1'], { skus: { S1: 10 }, visibilityTimeoutSeconds: 1 }, (o) => o, { ...silent, error: (_msg: string, data?: Record<string, unknown>) => void errors.push(data) });
    sim.sendQueueMessage(JSON.stringify({ NotificationType: 'ANY_OFFER_CHANGED', Payload: {} }));
    sim.sendQueueMessage('not json at all');
    const { orderId } = await sim.placeOrder!([{ sku: 'S1', qty: 1 }]);
    expect((await connector.pollOrders!(signal)).map((e) => e.id)).toEqual([`amazon-us:order:${orderId}:confirmed`]);
    await connector.pollOrders!(signal);
    // The order's message is deleted; the two unreadable ones are not.
    expect(sim.stats().messagesDeleted).toBe(1);
    expect(sim.queueDepth()).toEqual({ visible: 0, inFlight: 2 });
    expect(errors.map((data) => data?.reason)).toEqual(['notification type ANY_OFFER_CHANGED is not ORDER_CHANGE', 'message body is not JSON']);
    // Offered again after the visibility timeout: still kept, not reported twice.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    await connector.pollOrders!(signal);
    expect(sim.stats().messagesDeleted).toBe(1);
    expect(errors).toHaveLength(2);
  });

  it('is refused by the queue when its requests are signed with the wrong AWS secret', async () => {
    const { connector } = await setup(['S1'], {}, (o) => ({ ...o, aws: { ...o.aws!, secretAccessKey: 'not-the-secret' } }));
    await expect(connector.pollOrders!(signal)).rejects.toBeInstanceOf(RejectedError);
  });
});
