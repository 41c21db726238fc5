import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import walmart from '../../connectors/walmart/index.ts';
import type { WalmartOptions } from '../../connectors/walmart/options.ts';
import { startWalmartSimulator, type WalmartSimulator, type WalmartSimulatorOptions } from '../../connectors/walmart/simulator.ts';
import { hmacSha256 } from '../../connectors/_kit/signatures.ts';
import {
  RejectedError,
  RetryableError,
  ThrottledError,
  WebhookSignatureError,
  type ConnectorContext,
  type ConnectorInstance,
  type InventoryEvent,
  type WebhookRequest,
} from '../../core/sdk.ts';
import { memoryConnectorState } from '../../core/plugins/memory-connector-state.ts';

const silent = { debug() {}, info() {}, warn() {}, error() {} };
const context: ConnectorContext = { channelId: 'walmart-us', logger: silent, signal: new AbortController().signal, state: memoryConnectorState(), registerSecret: () => {} };
const signal = new AbortController().signal;

let sim: WalmartSimulator | undefined;
let connector: ConnectorInstance | undefined;
let receiver: Server | undefined;

afterEach(async () => {
  await connector?.close?.();
  await sim?.close();
  await new Promise<void>((resolve) => (receiver ? receiver.close(() => resolve()) : resolve()));
  connector = undefined;
  sim = undefined;
  receiver = undefined;
});

async function setup(skus: string[], simOptions: WalmartSimulatorOptions = {}, tweak: (o: WalmartOptions) => WalmartOptions = (o) => o) {
  sim = await startWalmartSimulator({ latency: { p50: 0, p99: 0 }, ...simOptions });
  connector = await walmart.create(tweak(sim.connectorOptions(skus)), context);
  return { sim, connector };
}

/** A stand-in for the hub's ingress: every delivery goes through handleWebhook, and its events are collected. */
async function listen(instance: ConnectorInstance, target: WalmartSimulator): Promise<InventoryEvent[]> {
  const events: InventoryEvent[] = [];
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v[0] : v]));
      instance.handleWebhook!({ rawBody: Buffer.concat(chunks), headers, path: '', query: {} }, signal).then(
        (outcome) => {
          events.push(...outcome.events);
          res.writeHead(200).end();
        },
        () => res.writeHead(401).end(),
      );
    });
  });
  await new Promise<void>((resolve) => receiver!.listen(0, '127.0.0.1', resolve));
  target.setWebhookTarget!(`http://127.0.0.1:${(receiver!.address() as AddressInfo).port}/webhooks/walmart-us`);
  return events;
}

const update = (sku: string, quantity: number) => ({ sku, quantity, version: 1 });

const poCreated = (walmartSku: string, qty: number, purchaseOrderId = '1796277083022') =>
  Buffer.from(
    JSON.stringify({
      source: { eventType: 'PO_CREATED', eventTime: '2026-11-27T10:00:01.000Z', eventId: 'e-1' },
      payload: {
        purchaseOrderId,
        customerOrderId: '200011903823745',
        orderDate: '2026-11-27T10:00:00.000Z',
        orderLines: [{ lineNumber: '1', sku: walmartSku, quantity: { unitOfMeasure: 'EACH', measurementValue: String(qty) }, status: 'Created' }],
      },
    }),
  );

const webhook = (rawBody: Buffer, headers: Record<string, string | undefined>): WebhookRequest => ({ rawBody, headers, path: '', query: {} });

describe('walmart connector: pushing quantities (PUT /v3/inventory)', () => {
  it('sets the quantity of the mapped Walmart SKU', async () => {
    const { sim, connector } = await setup(['S1']);
    expect(await connector.push([update('S1', 9)], signal)).toEqual([{ sku: 'S1', status: 'ok', quantity: 9 }]);
    expect(sim.shown('S1')).toBe(9);
  });

  it('obtains one client-credentials token and reuses it', async () => {
    const { sim, connector } = await setup(['S1']);
    await connector.push([update('S1', 1)], signal);
    await connector.push([update('S1', 2)], signal);
    expect(sim.stats().tokensIssued).toBe(1);
  });

  it('shares one token request among pushes that start together', async () => {
    const { sim, connector } = await setup(['S1', 'S2']);
    await Promise.all([connector.push([update('S1', 1)], signal), connector.push([update('S2', 1)], signal)]);
    expect(sim.stats().tokensIssued).toBe(1);
  });

  it('renews the token before it expires instead of waiting for a 401', async () => {
    const { sim, connector } = await setup(['S1'], { tokenTtlSeconds: 1 });
    await connector.push([update('S1', 1)], signal);
    await new Promise((resolve) => setTimeout(resolve, 600));
    await connector.push([update('S1', 2)], signal);
    // Two token calls and two writes: no request was spent on a refused token.
    expect(sim.stats()).toMatchObject({ tokensIssued: 2, requests: 4 });
  });

  it('fetches a new token when Walmart answers 401 to the current one', async () => {
    const { sim, connector } = await setup(['S1']);
    await connector.push([update('S1', 1)], signal);
    sim.revokeAccessTokens();
    expect(await connector.push([update('S1', 3)], signal)).toEqual([{ sku: 'S1', status: 'ok', quantity: 3 }]);
    expect(sim.stats().tokensIssued).toBe(2);
  });

  it('rejects the push when the token API refuses the client credentials', async () => {
    const { connector } = await setup(['S1'], {}, (o) => ({ ...o, clientSecret: 'wrong' }));
    await expect(connector.push([update('S1', 1)], signal)).rejects.toBeInstanceOf(RejectedError);
  });

  it('refuses more than one SKU per call without calling Walmart', async () => {
    const { sim, connector } = await setup(['S1', 'S2']);
    await expect(connector.push([update('S1', 1), update('S2', 1)], signal)).rejects.toBeInstanceOf(RejectedError);
    expect(sim.stats().requests).toBe(0);
  });

  it('is refused by the simulator, with Walmart’s error shape, when one call carries several items', async () => {
    const { sim } = await setup(['S1']);
    const auth = { authorization: `Basic ${Buffer.from('simulated-client-id:simulated-client-secret').toString('base64')}`, 'wm_qos.correlation_id': 'c1', 'wm_svc.name': 'Walmart Marketplace' };
    const token = await fetch(`${sim.url}/v3/token`, { method: 'POST', headers: { ...auth, accept: 'application/json', 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=client_credentials' });
    const { access_token } = (await token.json()) as { access_token: string };
    const res = await fetch(`${sim.url}/v3/inventory?sku=WM-S1`, {
      method: 'PUT',
      headers: { ...auth, 'wm_sec.access_token': access_token, 'content-type': 'application/json' },
      body: JSON.stringify([{ sku: 'S1', quantity: { unit: 'EACH', amount: 1 } }, { sku: 'S2', quantity: { unit: 'EACH', amount: 1 } }]),
    });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { errors: Array<Record<string, unknown>> };
    expect(body.errors[0]).toMatchObject({ code: 'INVALID_REQUEST_CONTENT.GMP_INVENTORY_API', severity: 'ERROR', category: 'DATA' });
  });

  it('reports a hub SKU that has no Walmart mapping as not listed, without calling Walmart', async () => {
    const { sim, connector } = await setup(['S1']);
    const [result] = await connector.push([update('UNMAPPED', 1)], signal);
    expect(result).toMatchObject({ sku: 'UNMAPPED', status: 'not_listed' });
    expect(sim.stats().requests).toBe(0);
  });

  it('maps Walmart’s 404 for an unknown item to a not-listed item carrying the error code', async () => {
    const { connector } = await setup(['S1'], {}, (o) => ({ ...o, skus: { ...o.skus, GHOST: 'NOT-ON-WALMART' } }));
    const [result] = await connector.push([update('GHOST', 1)], signal);
    expect(result).toMatchObject({ sku: 'GHOST', status: 'not_listed' });
    expect(result?.status === 'not_listed' && result.reason).toContain('CONTENT_NOT_FOUND');
  });

  it('throws ThrottledError after the burst, waiting until the replenish time Walmart announced', async () => {
    const { connector } = await setup(['S1'], { rateLimit: { perSecond: 1, burst: 1 } });
    await connector.push([update('S1', 1)], signal);
    const error = await connector.push([update('S1', 2)], signal).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(ThrottledError);
    const wait = (error as ThrottledError).retryAfterMs ?? -1;
    expect(wait).toBeGreaterThan(0);
    expect(wait).toBeLessThanOrEqual(1000);
  });

  it('throws ThrottledError with the announced delay while the simulator throttles every request', async () => {
    const { sim, connector } = await setup(['S1']);
    await connector.push([update('S1', 1)], signal);
    sim.setFault({ kind: 'throttle', retryAfterMs: 4000 });
    const error = await connector.push([update('S1', 2)], signal).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(ThrottledError);
    expect((error as ThrottledError).retryAfterMs).toBeGreaterThan(3000);
  });

  it('throws a RetryableError (not a throttle) when Walmart answers 503', async () => {
    const { sim, connector } = await setup(['S1']);
    await connector.push([update('S1', 1)], signal);
    sim.setFault({ kind: 'down' });
    const error = await connector.push([update('S1', 2)], signal).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(RetryableError);
    expect(error).not.toBeInstanceOf(ThrottledError);
  });

  it('throws a RetryableError when the connection drops after Walmart applied the write', async () => {
    const { sim, connector } = await setup(['S1']);
    await connector.push([update('S1', 1)], signal);
    sim.setFault({ kind: 'drop-after-write' });
    await expect(connector.push([update('S1', 6)], signal)).rejects.toBeInstanceOf(RetryableError);
    expect(sim.shown('S1')).toBe(6);
  });

  it('reads back what Walmart shows through GET /v3/inventory', async () => {
    const { sim, connector } = await setup(['S1', 'S2']);
    sim.setShown('S1', 4);
    sim.setShown('S2', 0);
    expect(Object.fromEntries(await connector.fetchQuantities!(['S1', 'S2'], signal))).toEqual({ S1: 4, S2: 0 });
  });
});

describe('walmart connector: PO_CREATED webhooks signed with HMAC', () => {
  it('turns a correctly signed PO_CREATED into an order.confirmed event in hub SKUs', async () => {
    const { connector } = await setup(['S1']);
    const body = poCreated('S1', 2);
    const outcome = await connector.handleWebhook!(webhook(body, { authorization: hmacSha256('simulated-webhook-secret', body, 'hex') }), signal);
    expect(outcome.events).toEqual([
      {
        id: 'walmart-us:order:1796277083022:confirmed',
        type: 'order.confirmed',
        channel: 'walmart-us',
        occurredAt: '2026-11-27T10:00:00.000Z',
        orderId: '1796277083022',
        reference: '1796277083022',
        lines: [{ sku: 'S1', qty: 2 }],
      },
    ]);
  });

  it('accepts the digest base64-encoded as well as hex', async () => {
    const { connector } = await setup(['S1']);
    const body = poCreated('S1', 1);
    const outcome = await connector.handleWebhook!(webhook(body, { authorization: hmacSha256('simulated-webhook-secret', body, 'base64') }), signal);
    expect(outcome.events).toHaveLength(1);
  });

  it('refuses a wrong signature', async () => {
    const { connector } = await setup(['S1']);
    const body = poCreated('S1', 1);
    await expect(connector.handleWebhook!(webhook(body, { authorization: hmacSha256('another-secret', body, 'hex') }), signal)).rejects.toBeInstanceOf(WebhookSignatureError);
  });

  it('refuses a truncated signature', async () => {
    const { connector } = await setup(['S1']);
    const body = poCreated('S1', 1);
    const truncated = hmacSha256('simulated-webhook-secret', body, 'hex').slice(0, 32);
    await expect(connector.handleWebhook!(webhook(body, { authorization: truncated }), signal)).rejects.toBeInstanceOf(WebhookSignatureError);
  });

  it('refuses a missing signature before reading the body', async () => {
    const { connector } = await setup(['S1']);
    await expect(connector.handleWebhook!(webhook(Buffer.from('not json'), {}), signal)).rejects.toBeInstanceOf(WebhookSignatureError);
  });

  it('accepts the second secret during a rotation', async () => {
    const { connector } = await setup(['S1'], {}, (o) => ({ ...o, webhookSecret: ['new-secret', 'simulated-webhook-secret'] }));
    const body = poCreated('S1', 1);
    expect((await connector.handleWebhook!(webhook(body, { authorization: hmacSha256('new-secret', body, 'hex') }), signal)).events).toHaveLength(1);
    expect((await connector.handleWebhook!(webhook(body, { authorization: hmacSha256('simulated-webhook-secret', body, 'hex') }), signal)).events).toHaveLength(1);
  });

  it('reads the digest from the header the subscription named', async () => {
    const { connector } = await setup(['S1'], {}, (o) => ({ ...o, webhookAuthHeaderName: 'X-WM-Signature' }));
    const body = poCreated('S1', 1);
    const digest = hmacSha256('simulated-webhook-secret', body, 'hex');
    await expect(connector.handleWebhook!(webhook(body, { authorization: digest }), signal)).rejects.toBeInstanceOf(WebhookSignatureError);
    expect((await connector.handleWebhook!(webhook(body, { 'x-wm-signature': digest }), signal)).events).toHaveLength(1);
  });

  it('fetches the order from GET /v3/orders when the notification carries no lines', async () => {
    const { sim, connector } = await setup(['S1', 'S2'], { skus: { S1: 5, S2: 5 }, webhookLines: 'id-only' });
    const events = await listen(connector, sim);
    const { orderId } = await sim.placeOrder!([
      { sku: 'S1', qty: 1 },
      { sku: 'S2', qty: 3 },
    ]);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ id: `walmart-us:order:${orderId}:confirmed`, lines: [{ sku: 'S1', qty: 1 }, { sku: 'S2', qty: 3 }] });
    expect(sim.shown('S2')).toBe(2);
  });

  it('delivers an order three times when asked, always under the same event id', async () => {
    const { sim, connector } = await setup(['S1'], { skus: { S1: 5 } });
    const events = await listen(connector, sim);
    const { orderId } = await sim.placeOrder!([{ sku: 'S1', qty: 1 }], { times: 3 });
    expect(events.map((e) => e.id)).toEqual(Array(3).fill(`walmart-us:order:${orderId}:confirmed`));
  });

  it('gives the later copy delivered first the same event id and the order’s own time', async () => {
    const { sim, connector } = await setup(['S1'], { skus: { S1: 5 } });
    const events = await listen(connector, sim);
    const { orderId } = await sim.placeOrder!([{ sku: 'S1', qty: 1 }], { outOfOrder: true });
    expect(events).toHaveLength(2);
    expect(new Set(events.map((e) => e.id))).toEqual(new Set([`walmart-us:order:${orderId}:confirmed`]));
    expect(events[0]?.occurredAt).toBe(events[1]?.occurredAt);
  });

  it('turns PO_LINE_AUTOCANCELLED into an order.cancelled event for that line only', async () => {
    const { sim, connector } = await setup(['S1', 'S2'], { skus: { S1: 5, S2: 5 } });
    const events = await listen(connector, sim);
    const { orderId } = await sim.placeOrder!([
      { sku: 'S1', qty: 1 },
      { sku: 'S2', qty: 2 },
    ]);
    await sim.autoCancelLine(orderId, '2');
    expect(events[1]).toMatchObject({ id: `walmart-us:order:${orderId}:cancelled:2`, type: 'order.cancelled', lines: [{ sku: 'S2', qty: 2 }] });
    expect(sim.shown('S2')).toBe(5);
  });
});
