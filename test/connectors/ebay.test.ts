import { createHash } from 'node:crypto';
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { startWebhookReceiver, type Receiver } from '../support/webhook-receiver.ts';
import ebay from '../../connectors/ebay/index.ts';
import { startEbaySimulator, type EbaySimulator, type EbaySimulatorOptions } from '../../connectors/ebay/simulator.ts';
import {
  RejectedError,
  RetryableError,
  ThrottledError,
  WebhookSignatureError,
  type ConnectorInstance,
  type InventoryEvent,
  type WebhookRequest,
} from '../../core/sdk.ts';
import type { EbayOptions } from '../../connectors/ebay/options.ts';
import { memoryConnectorState } from '../../core/plugins/memory-connector-state.ts';

const silent = { debug() {}, info() {}, warn() {}, error() {} };
const signal = new AbortController().signal;
const cleanup: Array<() => Promise<void>> = [];

afterEach(async () => {
  while (cleanup.length) await cleanup.pop()!();
});

async function setup(simOptions: EbaySimulatorOptions = {}, skus = ['A', 'B']) {
  const sim = await startEbaySimulator({ latency: { p50: 0, p99: 0 }, ...simOptions });
  const options = sim.connectorOptions(skus);
  const connector = await ebay.create(options, { channelId: 'ebay-main', logger: silent, signal, state: memoryConnectorState(), registerSecret: () => {} });
  cleanup.push(sim.close, async () => connector.close?.());
  return { sim, connector, options };
}

async function connectorWith(options: EbayOptions): Promise<ConnectorInstance> {
  const connector = await ebay.create(options, { channelId: 'ebay-main', logger: silent, signal, state: memoryConnectorState(), registerSecret: () => {} });
  cleanup.push(async () => connector.close?.());
  return connector;
}


/** A tiny ingress: hands each delivery to the connector, as the hub's `/webhooks/<channel>` does. */
async function receiveWebhooks(sim: EbaySimulator, connector: ConnectorInstance): Promise<Receiver> {
  const receiver = await startWebhookReceiver(sim, connector, signal);
  cleanup.push(receiver.close);
  return receiver;
}

const update = (sku: string, quantity: number, version = 1) => ({ sku, quantity, version });

/** A user access token from the simulator's token endpoint, as the connector would obtain it. */
async function userToken(sim: EbaySimulator): Promise<string> {
  const { clientId, clientSecret, refreshToken } = sim.credentials();
  const res = await request(`${sim.url}/identity/v1/oauth2/token`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken, scope: 'https://api.ebay.com/oauth/api_scope/sell.inventory' }).toString(),
  });
  return ((await res.body.json()) as { access_token: string }).access_token;
}

describe('eBay connector: pushing quantities', () => {
  it('sets the inventory item and its offers to the pushed quantity', async () => {
    const { sim, connector } = await setup({ offersPerItem: 2 });
    expect(await connector.push([update('A', 7)], signal)).toEqual([{ sku: 'A', status: 'ok', quantity: 7 }]);
    expect(await connector.push([update('B', 0)], signal)).toEqual([{ sku: 'B', status: 'ok', quantity: 0 }]);
    expect(sim.shown('A')).toBe(7);
    expect(sim.shown('B')).toBe(0);
    expect(sim.stats().itemsWritten).toBe(2);
  });

  it('answers not_listed for a hub SKU with no eBay mapping, without calling eBay', async () => {
    const { sim, connector } = await setup();
    const before = sim.stats().requests;
    const results = await connector.push([update('UNMAPPED', 3)], signal);
    expect(results).toEqual([{ sku: 'UNMAPPED', status: 'not_listed', reason: expect.stringContaining('no eBay listing') }]);
    expect(sim.stats().requests).toBe(before);
  });

  it('has the simulator refuse two SKUs in one bulkUpdatePriceQuantity call with eBay error 25709', async () => {
    const { sim, options } = await setup();
    const res = await request(`${sim.url}/sell/inventory/v1/bulk_update_price_quantity`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await userToken(sim)}`, 'content-type': 'application/json' },
      body: JSON.stringify({ requests: ['A', 'B'].map((sku) => ({ sku: options.listings[sku]!.sku, shipToLocationAvailability: { quantity: 1 } })) }),
    });
    const body = (await res.body.json()) as { errors: Array<{ errorId: number }> };
    expect(res.statusCode).toBe(400);
    expect(body.errors[0]?.errorId).toBe(25709);
    expect(sim.stats().itemsWritten).toBe(0);
  });

  it('has the simulator refuse more than 25 offers of one SKU', async () => {
    const { sim, options } = await setup();
    const res = await request(`${sim.url}/sell/inventory/v1/bulk_update_price_quantity`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await userToken(sim)}`, 'content-type': 'application/json' },
      body: JSON.stringify({ requests: [{ sku: options.listings.A!.sku, offers: Array.from({ length: 26 }, (_, i) => ({ offerId: String(9_000_000_000 + i), availableQuantity: 1 })) }] }),
    });
    expect(res.statusCode).toBe(400);
    expect(((await res.body.json()) as { errors: Array<{ errorId: number }> }).errors[0]?.errorId).toBe(25709);
  });

  it('refuses a batch above one SKU before sending it', async () => {
    const { sim, connector } = await setup();
    const before = sim.stats().requests;
    await expect(connector.push([update('A', 1), update('B', 1)], signal)).rejects.toBeInstanceOf(RejectedError);
    expect(sim.stats().requests).toBe(before);
  });

  it('turns a 429 into a ThrottledError with a delay', async () => {
    const { connector } = await setup({ rateLimit: { perSecond: 0.5, burst: 1 } });
    await connector.push([update('A', 1)], signal);
    const err = await connector.push([update('A', 2)], signal).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ThrottledError);
    expect((err as ThrottledError).retryAfterMs).toBeGreaterThanOrEqual(1000);
  });

  it('honours a Retry-After that comes with a 429', async () => {
    const { sim, connector } = await setup();
    sim.setFault({ kind: 'throttle', retryAfterMs: 4000 });
    const err = await connector.push([update('A', 1)], signal).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ThrottledError);
    expect((err as ThrottledError).retryAfterMs).toBe(4000);
  });

  it('turns an outage into a RetryableError and a bad token into a RejectedError', async () => {
    const { sim, connector, options } = await setup();
    sim.setFault({ kind: 'down' });
    const down = await connector.push([update('A', 1)], signal).catch((e: unknown) => e);
    expect(down).toBeInstanceOf(RetryableError);
    expect(down).not.toBeInstanceOf(ThrottledError);
    sim.setFault(null);
    const badToken = await connectorWith({ baseUrl: options.baseUrl, listings: options.listings, accessToken: 'wrong' });
    await expect(badToken.push([update('A', 1)], signal)).rejects.toBeInstanceOf(RejectedError);
    const badRefresh = await connectorWith({ ...options, refreshToken: 'revoked' });
    await expect(badRefresh.push([update('A', 1)], signal)).rejects.toBeInstanceOf(RejectedError);
  });

  it('maps a per-item system error (25001) to retry', async () => {
    const { sim, connector } = await setup();
    sim.failItem('A');
    expect(await connector.push([update('A', 4)], signal)).toEqual([{ sku: 'A', status: 'retry', reason: expect.stringContaining('25001') }]);
    expect(await connector.push([update('A', 4)], signal)).toEqual([{ sku: 'A', status: 'ok', quantity: 4 }]);
  });

  it('maps an unknown offer (25713) and an unknown eBay SKU (25702) to not_listed', async () => {
    const { options } = await setup();
    const connector = await connectorWith({
      ...options,
      listings: { ...options.listings, A: { sku: options.listings.A!.sku, offerIds: ['999999'] }, GHOST: { sku: 'NOT-ON-EBAY', offerIds: [] } },
    });
    expect(await connector.push([update('A', 1)], signal)).toEqual([{ sku: 'A', status: 'not_listed', reason: expect.stringContaining('25713') }]);
    expect(await connector.push([update('GHOST', 1)], signal)).toEqual([{ sku: 'GHOST', status: 'not_listed', reason: expect.stringContaining('25702') }]);
  });

  it('once a listing reached its daily revision limit, answers retry after the day turns', async () => {
    const { sim, connector } = await setup({ dailyRevisionLimit: 2 });
    await connector.push([update('A', 9)], signal);
    await connector.push([update('A', 8)], signal);
    const [result] = await connector.push([update('A', 7)], signal);
    expect(result).toMatchObject({ sku: 'A', status: 'retry' });
    expect(result?.status === 'retry' && result.afterMs).toBeGreaterThan(0);
    expect(sim.shown('A')).toBe(8);
    expect(sim.revisions('A')).toBe(2);
  });

  it('reads back what eBay shows', async () => {
    const { sim, connector } = await setup();
    sim.setShown('A', 12);
    const shown = await connector.fetchQuantities!(['A', 'B'], signal);
    expect(shown.get('A')).toBe(12);
    expect(shown.get('B')).toBe(0);
  });
});

describe('eBay connector: order notifications', () => {
  it('verifies the ECDSA signature, fetches the order and emits order.confirmed in hub SKUs', async () => {
    const { sim, connector } = await setup({ skus: { A: 10, B: 10 } });
    const received = await receiveWebhooks(sim, connector);
    const { orderId } = await sim.placeOrder!([{ sku: 'A', qty: 2 }, { sku: 'B', qty: 1 }]);
    expect(received.statuses).toEqual([200, 200]);
    const event = received.events[0]!;
    expect(event).toMatchObject({ id: `ebay-main:order:${orderId}:confirmed`, type: 'order.confirmed', channel: 'ebay-main', orderId });
    expect(event.type === 'order.confirmed' && event.lines).toEqual(expect.arrayContaining([{ sku: 'A', qty: 2 }, { sku: 'B', qty: 1 }]));
    expect(Number.isNaN(Date.parse(event.occurredAt))).toBe(false);
    expect(sim.shown('A')).toBe(8);
  });

  it('throws WebhookSignatureError for a wrong, truncated or missing signature', async () => {
    const { sim, connector } = await setup();
    const received = await receiveWebhooks(sim, connector);
    await sim.placeOrder!([{ sku: 'A', qty: 1 }]);
    const good = received.requests[0]!;
    const header = good.headers['x-ebay-signature']!;
    const decoded = JSON.parse(Buffer.from(header, 'base64').toString()) as { signature: string };
    const truncatedSig = Buffer.from(JSON.stringify({ ...decoded, signature: decoded.signature.slice(0, 20) })).toString('base64');
    const variants: WebhookRequest[] = [
      { ...good, rawBody: Buffer.from(good.rawBody.toString().replace('ORDER_CONFIRMATION', 'ORDER_CONFIRMATION ')) },
      { ...good, headers: { ...good.headers, 'x-ebay-signature': truncatedSig } },
      { ...good, headers: { ...good.headers, 'x-ebay-signature': header.slice(0, header.length / 2) } },
      { ...good, headers: { ...good.headers, 'x-ebay-signature': undefined } },
    ];
    for (const variant of variants) await expect(connector.handleWebhook!(variant, signal)).rejects.toBeInstanceOf(WebhookSignatureError);
  });

  it('accepts notifications signed with a rotated key, fetching the new key by kid', async () => {
    const { sim, connector } = await setup();
    const received = await receiveWebhooks(sim, connector);
    await sim.placeOrder!([{ sku: 'A', qty: 1 }]);
    const firstKid = sim.signingKid();
    sim.rotateSigningKey();
    expect(sim.signingKid()).not.toBe(firstKid);
    await sim.placeOrder!([{ sku: 'B', qty: 1 }]);
    expect(received.statuses).toEqual([200, 200]);
    expect(received.events).toHaveLength(2);
  });

  it('fetches the public key once per kid, not per notification', async () => {
    const { sim, connector } = await setup();
    const received = await receiveWebhooks(sim, connector);
    await sim.placeOrder!([{ sku: 'A', qty: 1 }]);
    const afterFirst = sim.stats().requests ?? 0;
    await sim.placeOrder!([{ sku: 'A', qty: 1 }]);
    // The second notification costs only the order fetch.
    expect((sim.stats().requests ?? 0) - afterFirst).toBe(1);
    expect(received.events).toHaveLength(2);
  });

  it('refuses a notification signed under a kid eBay does not know, asking eBay about that kid once', async () => {
    const { sim, connector } = await setup();
    const received = await receiveWebhooks(sim, connector);
    await sim.placeOrder!([{ sku: 'A', qty: 1 }]);
    const good = received.requests[0]!;
    const decoded = JSON.parse(Buffer.from(good.headers['x-ebay-signature']!, 'base64').toString()) as Record<string, string>;
    const forged = { ...good, headers: { ...good.headers, 'x-ebay-signature': Buffer.from(JSON.stringify({ ...decoded, kid: 'invented-kid' })).toString('base64') } };
    const before = sim.stats().requests ?? 0;
    await expect(connector.handleWebhook!(forged, signal)).rejects.toBeInstanceOf(WebhookSignatureError);
    await expect(connector.handleWebhook!(forged, signal)).rejects.toBeInstanceOf(WebhookSignatureError);
    expect((sim.stats().requests ?? 0) - before).toBe(1);
  });

  it('collapses repeated deliveries of one order into one event id', async () => {
    const { sim, connector } = await setup();
    const received = await receiveWebhooks(sim, connector);
    const { orderId } = await sim.placeOrder!([{ sku: 'A', qty: 1 }], { times: 3 });
    expect(received.requests).toHaveLength(3);
    expect(new Set(received.events.map((e) => e.id))).toEqual(new Set([`ebay-main:order:${orderId}:confirmed`]));
  });

  it('yields one event id with every line from the per-line notifications, a re-send arriving first included', async () => {
    const { sim, connector } = await setup();
    const received = await receiveWebhooks(sim, connector);
    const { orderId } = await sim.placeOrder!([{ sku: 'A', qty: 1 }, { sku: 'B', qty: 2 }], { outOfOrder: true });
    const attempts = received.requests.map((r) => (JSON.parse(r.rawBody.toString()) as { notification: { publishAttemptCount: number } }).notification.publishAttemptCount);
    expect(attempts).toEqual([2, 1, 1]);
    const events = received.events.filter((e) => e.type === 'order.confirmed' && e.orderId === orderId);
    expect(events).toHaveLength(3);
    expect(new Set(events.map((e) => e.id))).toEqual(new Set([`ebay-main:order:${orderId}:confirmed`]));
    for (const event of events) expect(event.type === 'order.confirmed' && event.lines).toEqual(expect.arrayContaining([{ sku: 'A', qty: 1 }, { sku: 'B', qty: 2 }]));
  });

  it('reads a cancelled order as order.cancelled alongside the confirmation it implies, so the two net to zero', async () => {
    const { sim, connector } = await setup();
    const received = await receiveWebhooks(sim, connector);
    const { orderId } = await sim.placeOrder!([{ sku: 'A', qty: 1 }]);
    sim.cancelOrder(orderId);
    const outcome = await connector.handleWebhook!(received.requests[0]!, signal);
    expect(outcome.events.map((e) => [e.id, e.type])).toEqual([
      [`ebay-main:order:${orderId}:confirmed`, 'order.confirmed'],
      [`ebay-main:order:${orderId}:cancelled`, 'order.cancelled'],
    ]);
  });

  it('answers the endpoint challenge with sha256(challengeCode + verificationToken + endpoint)', async () => {
    const { options } = await setup();
    const verificationToken = 'a'.repeat(40);
    const endpointUrl = 'https://hub.example.com/webhooks/ebay-main';
    const connector = await connectorWith({ ...options, verificationToken, endpointUrl });
    const outcome = await connector.handleWebhook!({ rawBody: Buffer.alloc(0), headers: {}, path: '', query: { challenge_code: 'abc123' } }, signal);
    const expected = createHash('sha256').update(`abc123${verificationToken}${endpointUrl}`).digest('hex');
    expect(outcome.events).toEqual([]);
    expect(outcome.response).toMatchObject({ status: 200, body: { challengeResponse: expected } });
  });
});
