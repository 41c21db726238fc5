import { request } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import bigcommerce from '../../connectors/bigcommerce/index.ts';
import { validateConnectorOptions } from '../../core/plugins/validate-connector-options.ts';
import { parseEvent } from '../../core/events/validate-event.ts';
import { startBigCommerceSimulator, type BigCommerceSimulator } from '../../connectors/bigcommerce/simulator.ts';
import type { BigCommerceOptions } from '../../connectors/bigcommerce/options.ts';
import { startWebhookSink, type WebhookSink } from '../../connectors/_kit/webhook-sink.ts';
import { signStandardWebhook } from '../../connectors/_kit/standard-webhooks.ts';
import { RejectedError, RetryableError, ThrottledError, WebhookSignatureError, type ConnectorContext, type ConnectorInstance, type Logger, type WebhookRequest } from '../../core/sdk.ts';
import { memoryConnectorState } from '../../core/plugins/memory-connector-state.ts';

const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {} };
const context = (): ConnectorContext => ({ channelId: 'bc-test', logger: quiet, signal: new AbortController().signal, state: memoryConnectorState(), registerSecret: () => {} });
const noSignal = (): AbortSignal => new AbortController().signal;
const fast = { latency: { p50: 0, p99: 0 } };

describe('bigcommerce connector against its simulator', () => {
  let sim: BigCommerceSimulator;
  let options: BigCommerceOptions;
  let connector: ConnectorInstance;

  beforeAll(async () => {
    sim = await startBigCommerceSimulator({ ...fast, skus: { BOOT: 5, SOCK: 7 } });
    options = sim.connectorOptions(['BOOT', 'SOCK']);
    connector = await bigcommerce.create(options, context());
  });
  afterAll(async () => {
    await connector.close?.();
    await sim.close();
  });
  afterEach(() => sim.setFault(null));

  it('sets quantities with one absolute adjustment', async () => {
    const results = await connector.push([{ sku: 'BOOT', quantity: 1, version: 1 }, { sku: 'SOCK', quantity: 0, version: 1 }], noSignal());
    expect(results).toEqual(expect.arrayContaining([{ sku: 'BOOT', status: 'ok', quantity: 1 }, { sku: 'SOCK', status: 'ok', quantity: 0 }]));
    expect([sim.shown('BOOT'), sim.shown('SOCK')]).toEqual([1, 0]);
    expect(sim.stats().itemsWritten).toBeGreaterThanOrEqual(2);
  });

  it('identifies an item by store SKU when the mapping gives one', async () => {
    const bySku = await bigcommerce.create({ ...options, skus: { 'hub-boot': { sku: 'BOOT' } } }, context());
    try {
      const [result] = await bySku.push([{ sku: 'hub-boot', quantity: 4, version: 2 }], noSignal());
      expect(result).toMatchObject({ status: 'ok' });
      expect(sim.shown('BOOT')).toBe(4);
    } finally {
      await bySku.close?.();
    }
  });

  it('answers not_listed for an item the 422 answer names as missing, and writes the rest', async () => {
    const withGhost = await bigcommerce.create({ ...options, skus: { ...options.skus, GHOST: { variantId: 999999 } } }, context());
    try {
      const results = await withGhost.push([{ sku: 'GHOST', quantity: 1, version: 1 }, { sku: 'SOCK', quantity: 6, version: 3 }], noSignal());
      expect(results.find((r) => r.sku === 'GHOST')).toMatchObject({ status: 'not_listed', reason: expect.stringContaining('variant_id 999999') });
      expect(results.find((r) => r.sku === 'SOCK')).toMatchObject({ status: 'ok', quantity: 6 });
      expect(sim.shown('SOCK')).toBe(6);
    } finally {
      await withGhost.close?.();
    }
  });

  it('answers not_listed for a SKU that has no item mapping', async () => {
    const [result] = await connector.push([{ sku: 'NOT-MAPPED', quantity: 1, version: 1 }], noSignal());
    expect(result).toMatchObject({ sku: 'NOT-MAPPED', status: 'not_listed', reason: expect.stringContaining('NOT-MAPPED') });
  });

  it('refuses more than 2,000 items in one adjustment with 422', async () => {
    const items = Array.from({ length: 2001 }, (_, i) => ({ location_id: 1, sku: `S${i}`, quantity: 1 }));
    const res = await request(`${sim.url}/stores/${options.storeHash}/v3/inventory/adjustments/absolute`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json', 'x-auth-token': options.accessToken },
      body: JSON.stringify({ reason: 'test', items }),
    });
    expect(res.statusCode).toBe(422);
    expect(await res.body.json()).toMatchObject({ status: 422, title: expect.stringContaining('2000') });
  });

  it('refuses a batch above 2,000 before sending it', async () => {
    const updates = Array.from({ length: 2001 }, (_, i) => ({ sku: `S${i}`, quantity: 1, version: 1 }));
    await expect(connector.push(updates, noSignal())).rejects.toBeInstanceOf(RejectedError);
  });

  it('throws RejectedError when the access token is wrong', async () => {
    const wrong = await bigcommerce.create({ ...options, accessToken: 'wrong' }, context());
    try {
      await expect(wrong.push([{ sku: 'BOOT', quantity: 1, version: 1 }], noSignal())).rejects.toBeInstanceOf(RejectedError);
    } finally {
      await wrong.close?.();
    }
  });

  it('throws RetryableError while the API is down', async () => {
    sim.setFault({ kind: 'down' });
    const err = await connector.push([{ sku: 'BOOT', quantity: 1, version: 1 }], noSignal()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RetryableError);
    expect(err).not.toBeInstanceOf(ThrottledError);
  });

  it('throws ThrottledError with X-Rate-Limit-Time-Reset-Ms as the delay on 429', async () => {
    // Its own instance: after a 429 a connector holds back until the window resets.
    const throttled = await bigcommerce.create(options, context());
    try {
      sim.setFault({ kind: 'throttle', retryAfterMs: 2000 });
      const err = (await throttled.push([{ sku: 'BOOT', quantity: 1, version: 1 }], noSignal()).catch((e: unknown) => e)) as ThrottledError;
      expect(err).toBeInstanceOf(ThrottledError);
      expect(err.retryAfterMs).toBe(2000);
    } finally {
      await throttled.close?.();
    }
  });

  it('reads inventory levels back with fetchQuantities', async () => {
    sim.setShown('BOOT', 21);
    const shown = await connector.fetchQuantities!(['BOOT', 'NOT-MAPPED'], noSignal());
    expect(Object.fromEntries(shown)).toEqual({ BOOT: 21 });
  });

  it('hands out connector options that satisfy its own options schema', () => {
    expect(validateConnectorOptions(bigcommerce, sim.connectorOptions(['NEW-SKU']))).toMatchObject({ ok: true });
  });
});

describe('bigcommerce request quota', () => {
  it('turns a 429 past the window quota into ThrottledError lasting until the window resets', async () => {
    const sim = await startBigCommerceSimulator({ ...fast, quota: 1, windowMs: 60_000, skus: { BOOT: 1 } });
    const first = await bigcommerce.create({ ...sim.connectorOptions(['BOOT']), lowQuotaThreshold: 0 }, context());
    const second = await bigcommerce.create({ ...sim.connectorOptions(['BOOT']), lowQuotaThreshold: 0 }, context());
    try {
      await first.push([{ sku: 'BOOT', quantity: 2, version: 1 }], noSignal());
      // Another app on the store (a second instance here) knows nothing of the spent quota.
      const err = (await second.push([{ sku: 'BOOT', quantity: 3, version: 2 }], noSignal()).catch((e: unknown) => e)) as ThrottledError;
      expect(err).toBeInstanceOf(ThrottledError);
      expect(err.retryAfterMs).toBeGreaterThan(50_000);
      expect(err.retryAfterMs).toBeLessThanOrEqual(60_000);
      expect(sim.stats().throttled).toBe(1);
      expect(sim.shown('BOOT')).toBe(2);
    } finally {
      await first.close?.();
      await second.close?.();
      await sim.close();
    }
  });

  it('does not spend a request once X-Rate-Limit-Requests-Left said the window is used up', async () => {
    const sim = await startBigCommerceSimulator({ ...fast, quota: 1, windowMs: 60_000, skus: { BOOT: 1 } });
    const connector = await bigcommerce.create({ ...sim.connectorOptions(['BOOT']), lowQuotaThreshold: 0 }, context());
    try {
      await connector.push([{ sku: 'BOOT', quantity: 2, version: 1 }], noSignal());
      const requests = sim.stats().requests;
      const err = (await connector.push([{ sku: 'BOOT', quantity: 3, version: 2 }], noSignal()).catch((e: unknown) => e)) as ThrottledError;
      expect(err).toBeInstanceOf(ThrottledError);
      expect(err.retryAfterMs).toBeGreaterThan(50_000);
      expect(sim.stats().requests).toBe(requests);
      expect(sim.stats().throttled).toBe(0);
    } finally {
      await connector.close?.();
      await sim.close();
    }
  });

  it('spaces calls out when few requests are left, so a short window is not overrun', async () => {
    const sim = await startBigCommerceSimulator({ ...fast, quota: 4, windowMs: 400, skus: { BOOT: 1 } });
    const connector = await bigcommerce.create({ ...sim.connectorOptions(['BOOT']), lowQuotaThreshold: 4 }, context());
    try {
      let skipped = 0;
      for (let version = 1; version <= 8; version += 1) {
        await connector.push([{ sku: 'BOOT', quantity: version, version }], noSignal()).catch((err: unknown) => {
          if (!(err instanceof ThrottledError)) throw err;
          skipped += 1;
        });
      }
      expect(sim.stats().throttled).toBe(0);
      expect(skipped).toBeLessThan(8);
    } finally {
      await connector.close?.();
      await sim.close();
    }
  });
});

describe('bigcommerce order webhooks', () => {
  let sim: BigCommerceSimulator;
  let options: BigCommerceOptions;
  let connector: ConnectorInstance;
  let sink: WebhookSink;
  const oldSecret = 'the-previous-client-secret';

  /** A delivery signed as BigCommerce signs: Standard Webhooks keyed by the app's client secret (base64-encoded, as its docs verify). */
  const webhook = (orderId: string, clientSecret: string, at = Math.floor(Date.now() / 1000), id = 'msg_test'): WebhookRequest => {
    const key = Buffer.from(clientSecret).toString('base64');
    const body = JSON.stringify({ scope: 'store/order/created', store_id: '1001', data: { type: 'order', id: Number(orderId) }, hash: 'x', created_at: at, producer: 'stores/simstore' });
    return {
      rawBody: Buffer.from(body),
      headers: { 'webhook-id': id, 'webhook-timestamp': String(at), 'webhook-signature': signStandardWebhook(key, id, at, body), 'content-type': 'application/json' },
      path: '',
      query: {},
    };
  };

  beforeAll(async () => {
    sim = await startBigCommerceSimulator({ ...fast, skus: { BOOT: 10, SOCK: 10 } });
    options = sim.connectorOptions(['BOOT', 'SOCK']);
    connector = await bigcommerce.create({ ...options, clientSecret: [oldSecret, options.clientSecret as string] }, context());
    sink = await startWebhookSink((req) => connector.handleWebhook!(req, noSignal()));
    sim.setWebhookTarget!(sink.url);
  });
  afterAll(async () => {
    await sink.close();
    await connector.close?.();
    await sim.close();
  });

  it('fetches the lines of an id-only store/order/created from the orders API', async () => {
    const before = sink.deliveries.length;
    const { orderId } = await sim.placeOrder!([{ sku: 'BOOT', qty: 2 }, { sku: 'SOCK', qty: 1 }]);
    const [delivery] = sink.deliveries.slice(before);
    expect(delivery?.status).toBe(200);
    expect(delivery?.events).toEqual([{
      id: `bc-test:order:${orderId}:confirmed`,
      type: 'order.confirmed',
      channel: 'bc-test',
      occurredAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z$/),
      orderId,
      lines: [{ sku: 'BOOT', qty: 2 }, { sku: 'SOCK', qty: 1 }],
    }]);
    expect(sim.shown('BOOT')).toBe(8);
  });

  it('accepts the previous client secret during a rotation', async () => {
    const { orderId } = await sim.placeOrder!([{ sku: 'BOOT', qty: 1 }]);
    const { events } = await connector.handleWebhook!(webhook(orderId, oldSecret), noSignal());
    expect(events.map((e) => e.id)).toEqual([`bc-test:order:${orderId}:confirmed`]);
  });

  it('accepts a webhook-signature listing several signatures when one of them matches', async () => {
    const { orderId } = await sim.placeOrder!([{ sku: 'BOOT', qty: 1 }]);
    const req = webhook(orderId, options.clientSecret as string);
    const headers = { ...req.headers, 'webhook-signature': `v1,${Buffer.from('nope').toString('base64')} ${req.headers['webhook-signature']}` };
    const { events } = await connector.handleWebhook!({ ...req, headers }, noSignal());
    expect(events).toHaveLength(1);
  });

  it.each([
    ['wrong', () => signStandardWebhook(`whsec_${Buffer.from('someone-else').toString('base64')}`, 'msg_test', 1, 'x')],
    ['truncated', (h: string) => h.slice(0, -4)],
    ['missing', () => undefined],
  ])('throws WebhookSignatureError when the signature is %s', async (_label, mangle) => {
    const req = webhook('101', options.clientSecret as string);
    const headers = { ...req.headers, 'webhook-signature': mangle(req.headers['webhook-signature']!) };
    await expect(connector.handleWebhook!({ ...req, headers }, noSignal())).rejects.toBeInstanceOf(WebhookSignatureError);
  });

  it('throws WebhookSignatureError for a correctly signed webhook whose timestamp is older than five minutes', async () => {
    const req = webhook('101', options.clientSecret as string, Math.floor(Date.now() / 1000) - 301);
    await expect(connector.handleWebhook!(req, noSignal())).rejects.toThrow(/webhook-timestamp/);
  });

  it('delivers one message three times with one webhook-id, every delivery yielding the same event', async () => {
    const before = sink.deliveries.length;
    const { orderId } = await sim.placeOrder!([{ sku: 'SOCK', qty: 2 }], { times: 3 });
    const deliveries = sink.deliveries.slice(before);
    expect(deliveries).toHaveLength(3);
    expect(new Set(deliveries.map((d) => d.headers['webhook-id'])).size).toBe(1);
    expect(deliveries.flatMap((d) => d.events.map((e) => e.id))).toEqual(Array(3).fill(`bc-test:order:${orderId}:confirmed`));
  });

  it('delivers store/order/updated before store/order/created when out of order, both collapsing to one event id', async () => {
    const before = sink.deliveries.length;
    const { orderId } = await sim.placeOrder!([{ sku: 'SOCK', qty: 1 }], { outOfOrder: true });
    const deliveries = sink.deliveries.slice(before);
    expect(deliveries.map((d) => JSON.parse(d.rawBody.toString()).scope)).toEqual(['store/order/updated', 'store/order/created']);
    expect(new Set(deliveries.flatMap((d) => d.events.map((e) => e.id)))).toEqual(new Set([`bc-test:order:${orderId}:confirmed`]));
  });

  it('turns a cancelled order into order.cancelled alongside the confirmation it implies', async () => {
    const { orderId } = await sim.placeOrder!([{ sku: 'BOOT', qty: 3 }]);
    const before = sink.deliveries.length;
    await sim.cancelOrder(orderId);
    const [delivery] = sink.deliveries.slice(before);
    expect(delivery?.events.map((e) => [e.id, e.type])).toEqual([
      [`bc-test:order:${orderId}:confirmed`, 'order.confirmed'],
      [`bc-test:order:${orderId}:cancelled`, 'order.cancelled'],
    ]);
    expect(delivery?.events[1]).toMatchObject({ lines: [{ sku: 'BOOT', qty: 3 }] });
  });

  it('only produces events that pass the published event schemas', () => {
    const events = sink.events();
    expect(events.length).toBeGreaterThan(0);
    for (const event of events) expect(parseEvent(JSON.stringify(event), event.type)).toMatchObject({ ok: true });
  });
});
