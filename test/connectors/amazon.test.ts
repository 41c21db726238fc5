import { afterEach, describe, expect, it } from 'vitest';
import amazon from '../../connectors/amazon/index.ts';
import { startAmazonSimulator, type AmazonSimulator, type AmazonSimulatorOptions } from '../../connectors/amazon/simulator.ts';
import { RejectedError, RetryableError, ThrottledError, type ConnectorContext, type ConnectorInstance, type InventoryEvent } from '../../core/sdk.ts';
import type { AmazonOptions } from '../../connectors/amazon/options.ts';
import { sigV4Signature, signAwsRequest } from '../../connectors/amazon/aws-sigv4.ts';
import { memoryConnectorState } from '../../core/plugins/memory-connector-state.ts';

const silent = { debug() {}, info() {}, warn() {}, error() {} };
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

async function setup(skus: string[], simOptions: AmazonSimulatorOptions = {}, tweak: (o: AmazonOptions) => AmazonOptions = (o) => o) {
  sim = await startAmazonSimulator({ latency: { p50: 0, p99: 0 }, ...simOptions });
  connector = await amazon.create(tweak(sim.connectorOptions(skus)), context);
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

  it('rejects a hub SKU that has no listing mapping, without calling Amazon', async () => {
    const { sim, connector } = await setup(['S1']);
    const [result] = await connector.push([update('UNMAPPED', 1)], signal);
    expect(result).toMatchObject({ sku: 'UNMAPPED', status: 'rejected' });
    expect(result?.status === 'rejected' && result.reason).toContain('UNMAPPED');
    expect(sim.stats().requests).toBe(0);
  });

  it('maps an INVALID submission (listing unknown to Amazon) to a rejected item carrying the issue', async () => {
    const { connector } = await setup(['S1'], {}, (o) => ({ ...o, listings: { ...o.listings, GHOST: { sellerSku: 'NOT-ON-AMAZON', productType: 'PRODUCT' } } }));
    const [result] = await connector.push([update('GHOST', 1)], signal);
    expect(result).toMatchObject({ sku: 'GHOST', status: 'rejected' });
    expect(result?.status === 'rejected' && result.reason).toContain('NOT-ON-AMAZON');
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

  it('fetches the order from the Orders API when the notification carries no items', async () => {
    const { sim, connector } = await setup(['S1'], { skus: { S1: 10 } });
    const { orderId } = await sim.placeOrder!([{ sku: 'S1', qty: 3 }]);
    await connector.pollOrders!(signal);
    await connector.pollOrders!(signal);
    sim.sendQueueMessage(
      JSON.stringify({
        NotificationType: 'ORDER_CHANGE',
        Payload: { OrderChangeNotification: { AmazonOrderId: orderId, Summary: { MarketplaceId: 'ATVPDKIKX0DER', OrderStatus: 'Unshipped', PurchaseDate: new Date().toISOString() } } },
      }),
    );
    const events = await connector.pollOrders!(signal);
    expect(events.map((e) => [e.id, e.lines])).toEqual([[`amazon-us:order:${orderId}:confirmed`, [{ sku: 'S1', qty: 3 }]]]);
    expect(sim.stats().ordersApiCalls).toBe(2);
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
  it('drops a queue message that is not an ORDER_CHANGE notification and still reads the orders behind it', async () => {
    const { sim, connector } = await setup(['S1'], { skus: { S1: 10 } });
    sim.sendQueueMessage(JSON.stringify({ NotificationType: 'ANY_OFFER_CHANGED', Payload: {} }));
    sim.sendQueueMessage('not json at all');
    const { orderId } = await sim.placeOrder!([{ sku: 'S1', qty: 1 }]);
    expect((await connector.pollOrders!(signal)).map((e) => e.id)).toEqual([`amazon-us:order:${orderId}:confirmed`]);
    await connector.pollOrders!(signal);
    expect(sim.queueDepth()).toEqual({ visible: 0, inFlight: 0 });
  });

  it('is refused by the queue when its requests are signed with the wrong AWS secret', async () => {
    const { connector } = await setup(['S1'], {}, (o) => ({ ...o, aws: { ...o.aws!, secretAccessKey: 'not-the-secret' } }));
    await expect(connector.pollOrders!(signal)).rejects.toBeInstanceOf(RejectedError);
  });

  it('computes AWS Signature Version 4 as AWS documents it (IAM ListUsers example)', () => {
    const signature = sigV4Signature(
      {
        method: 'GET',
        url: new URL('https://iam.amazonaws.com/?Action=ListUsers&Version=2010-05-08'),
        headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
        body: '',
        service: 'iam',
        region: 'us-east-1',
      },
      'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
      '20150830T123600Z',
      ['content-type', 'host', 'x-amz-date'],
    );
    expect(signature).toBe('5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7');
  });

  it('writes the SigV4 Authorization header with the credential scope and every sent header signed', () => {
    const headers = signAwsRequest(
      { method: 'GET', url: new URL('https://example.amazonaws.com/'), headers: {}, body: '', service: 'service', region: 'us-east-1' },
      { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' },
      new Date('2015-08-30T12:36:00Z'),
    );
    expect(headers).toEqual({
      'x-amz-date': '20150830T123600Z',
      authorization:
        'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31',
    });
  });
});
