import { afterEach, describe, expect, it } from 'vitest';
import walmart from '../../connectors/walmart/index.ts';
import { readWalmartOrder } from '../../connectors/walmart/po-notification.ts';
import { startWalmartSimulator, type WalmartSimulator, type WalmartSimulatorOptions } from '../../connectors/walmart/simulator.ts';
import type { WalmartOptions } from '../../connectors/walmart/options.ts';
import { isWebhookPayloadError, type ConnectorContext, type ConnectorInstance, type Logger, type WebhookRequest } from '../../core/sdk.ts';
import { memoryConnectorState } from '../../core/plugins/memory-connector-state.ts';
import { loadVendorSpec, requiredSharedHeaders, schemaErrors } from '../support/openapi-schema.ts';

/**
 * The Walmart connector and simulator against Walmart's own Marketplace OpenAPI documents
 * (test/fixtures/vendor/walmart/SOURCE): inventory (PUT/GET /v3/inventory), orders (GET /v3/orders/{id}), auth
 * (POST /v3/token), and the header parameters those documents mark required.
 */
const inventorySpec = loadVendorSpec('walmart/inventory.json');
const ordersSpec = loadVendorSpec('walmart/orders.json');
const authSpec = loadVendorSpec('walmart/auth.json');

type OrderExamples = Record<string, { value: { order: Record<string, unknown> } }>;
const orderExamples = (ordersSpec.document.paths as Record<string, { get: { responses: { '200': { content: { 'application/json': { examples: OrderExamples } } } } } }>)[
  '/v3/orders/{purchaseOrderId}'
]!.get.responses['200'].content['application/json'].examples;

const silent: Logger = { debug() {}, info() {}, warn() {}, error() {} };
const signal = new AbortController().signal;

let sim: WalmartSimulator | undefined;
let connector: ConnectorInstance | undefined;
afterEach(async () => {
  await connector?.close?.();
  await sim?.close();
  sim = undefined;
  connector = undefined;
});

async function setup(skus: string[], simOptions: WalmartSimulatorOptions = {}, tweak: (o: WalmartOptions) => WalmartOptions = (o) => o, extra: Partial<ConnectorContext> = {}) {
  sim = await startWalmartSimulator({ latency: { p50: 0, p99: 0 }, ...simOptions });
  const context: ConnectorContext = { channelId: 'walmart-us', logger: silent, signal, state: memoryConnectorState(), registerSecret: () => {}, ...extra };
  connector = await walmart.create(tweak(sim.connectorOptions(skus)), context);
  return { sim, connector };
}

const webhook = (simulator: WalmartSimulator, body: unknown): WebhookRequest => {
  const rawBody = Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
  const headers = Object.fromEntries(Object.entries(simulator.signWebhook!(rawBody)).map(([k, v]) => [k.toLowerCase(), v]));
  return { rawBody, headers, path: '', query: {} };
};

/** A PO_CREATED notification with the fields of Walmart's documented event (source + payload with orderLines). */
const poCreated = (purchaseOrderId: unknown, lines: unknown): Record<string, unknown> => ({
  source: { eventType: 'PO_CREATED', eventTime: '2026-12-02T07:00:00.000Z', eventId: '0b7e4f4e-3c1c-4d0a-9b55-2f1d4b2a9a11' },
  payload: { partnerId: '10000000001', purchaseOrderId, customerOrderId: '4372135469400', orderDate: '2026-12-02T06:59:00.000Z', orderLines: lines },
});

describe('walmart: requests as Walmart\'s specs define them', () => {
  it('sends every header the specs mark required, on the token call, the inventory update and the order fetch alike', async () => {
    const { sim, connector } = await setup(['S1'], { skus: { S1: 4 }, webhookLines: 'id-only' });
    sim.setWebhookTarget?.('http://127.0.0.1:9/unused');
    await connector.push([{ sku: 'S1', quantity: 3, version: 1 }], signal);
    await connector.fetchQuantities!(['S1'], signal);
    const walmartSku = sim.walmartSku('S1')!;
    await connector.handleWebhook!(webhook(sim, poCreated('1815367951431', [])), signal).catch(() => undefined);

    const calls = sim.apiExchanges();
    const apiHeaders = new Set([...requiredSharedHeaders(inventorySpec.document), ...requiredSharedHeaders(ordersSpec.document)]);
    // The auth document lists the access token among its header parameters too; the token call is how one is obtained.
    const tokenHeaders = requiredSharedHeaders(authSpec.document).filter((name) => name !== 'wm_sec.access_token');
    expect(calls.map((c) => `${c.method} ${c.path}`)).toEqual(['POST /v3/token', 'PUT /v3/inventory', 'GET /v3/inventory', 'GET /v3/orders/1815367951431']);
    for (const call of calls) {
      const needed = call.path === '/v3/token' ? tokenHeaders : [...apiHeaders];
      for (const name of needed) expect(call.headers[name], `${call.method} ${call.path}: ${name}`).toBeTruthy();
    }
    expect(calls[1]!.query).toEqual({ sku: walmartSku });
  });

  it('sends an inventory update that validates against the spec\'s Inventory schema and reads the documented answer', async () => {
    const { sim, connector } = await setup(['S1', 'GONE']);
    sim.setFault({ kind: 'item-unknown', skus: ['GONE'] });
    expect(await connector.push([{ sku: 'S1', quantity: 7, version: 1 }], signal)).toEqual([{ sku: 'S1', status: 'ok', quantity: 7 }]);
    expect(await connector.push([{ sku: 'GONE', quantity: 7, version: 1 }], signal)).toEqual([expect.objectContaining({ sku: 'GONE', status: 'not_listed' })]);
    const validate = inventorySpec.schema('#/components/schemas/Inventory');
    const puts = sim.apiExchanges().filter((c) => c.method === 'PUT');
    expect(puts).toHaveLength(2);
    for (const put of puts) expect(validate(put.body), schemaErrors(validate)).toBe(true);
    expect(validate(puts[0]!.response), schemaErrors(validate)).toBe(true);
  });
});

describe('walmart: orders as Walmart\'s spec shows them', () => {
  it('reads both of the spec\'s GET order examples (numeric-string quantities, epoch-ms dates)', () => {
    const order = orderExamples.ORDER!.value.order as { purchaseOrderId: string };
    expect(readWalmartOrder({ order })).toEqual({
      purchaseOrderId: order.purchaseOrderId,
      orderDate: new Date(1623796407000).toISOString(),
      lines: [{ lineNumber: '1', sku: 'YHY-FN25200B2', qty: 1, cancelledQty: 0, statusDate: expect.any(String) }],
    });
    expect(readWalmartOrder({ order: orderExamples.ATTRIBUTES!.value.order })?.lines).toEqual([{ lineNumber: '4', sku: 'test1', qty: 1, cancelledQty: 0, statusDate: expect.any(String) }]);
  });

  it('answers GET order in the shape of the spec\'s ORDER example, which the connector turns into the order\'s lines', async () => {
    const { sim, connector } = await setup(['S1', 'S2'], { skus: { S1: 5, S2: 5 }, webhookLines: 'id-only' });
    const events: unknown[] = [];
    sim.setWebhookTarget?.('http://127.0.0.1:9/unused');
    // Deliver the id-only PO_CREATED straight to the connector instead of over HTTP.
    const captured: Buffer[] = [];
    const { createServer } = await import('node:http');
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        captured.push(Buffer.concat(chunks));
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      sim.setWebhookTarget?.(`http://127.0.0.1:${(server.address() as { port: number }).port}/`);
      const { orderId } = await sim.placeOrder!([{ sku: 'S1', qty: 2 }, { sku: 'S2', qty: 1 }]);
      const outcome = await connector.handleWebhook!(webhook(sim, captured[0]!.toString('utf8')), signal);
      events.push(...outcome.events);
      expect(outcome.events).toEqual([expect.objectContaining({ id: `walmart-us:order:${orderId}:confirmed`, lines: [{ sku: 'S1', qty: 2 }, { sku: 'S2', qty: 1 }] })]);
      const fetched = sim.apiExchanges().find((c) => c.path === `/v3/orders/${orderId}`);
      const answer = (fetched?.response as { order: Record<string, unknown> }).order;
      // Same fields as Walmart's example, at every level the connector reads.
      expect(Object.keys(answer).sort()).toEqual(Object.keys(orderExamples.ORDER!.value.order).sort());
      const exampleLine = (orderExamples.ORDER!.value.order.orderLines as { orderLine: Array<Record<string, unknown>> }).orderLine[0]!;
      for (const line of (answer.orderLines as { orderLine: Array<Record<string, unknown>> }).orderLine) expect(Object.keys(line).sort()).toEqual(Object.keys(exampleLine).sort());
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('keeps a purchase order id above 2^53 exact when it arrives as a JSON number', async () => {
    const { sim, connector } = await setup(['S1']);
    const raw = JSON.stringify(poCreated('__ID__', [{ lineNumber: '1', sku: sim.walmartSku('S1'), quantity: { unitOfMeasure: 'EACH', measurementValue: '1' } }])).replace('"__ID__"', '18153679514310000123');
    const outcome = await connector.handleWebhook!(webhook(sim, raw), signal);
    expect(outcome.events.map((e) => e.id)).toEqual(['walmart-us:order:18153679514310000123:confirmed']);
  });

  it('refuses a signed but malformed notification with WebhookPayloadError (400), never a TypeError', async () => {
    const { sim, connector } = await setup(['S1']);
    const sku = sim.walmartSku('S1');
    const bodies: unknown[] = [
      'not json',
      '[]',
      { source: null },
      { source: { eventType: 'PO_CREATED' } },
      { source: { eventType: 'PO_CREATED' }, payload: null },
      poCreated(null, []),
      poCreated('../../v3/token', []),
      poCreated('1815367951431', 'lines'),
      poCreated('1815367951431', [null]),
      poCreated('1815367951431', [{ lineNumber: '1', sku, quantity: null }]),
      poCreated('1815367951431', [{ lineNumber: '1', sku, quantity: { measurementValue: '-1' } }]),
      poCreated('1815367951431', [{ lineNumber: '1', sku, quantity: { measurementValue: '1e309' } }]),
      poCreated('1815367951431', [{ lineNumber: '1', sku: 42, quantity: { measurementValue: '1' } }]),
      poCreated('1815367951431', [{ lineNumber: { n: 1 }, sku, quantity: { measurementValue: '1' } }]),
    ];
    for (const body of bodies) {
      const error = await connector.handleWebhook!(webhook(sim, body), signal).then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(isWebhookPayloadError(error), `${JSON.stringify(body)} → ${String(error)}`).toBe(true);
    }
  });
});

describe('walmart: credentials', () => {
  it('registers the access token and the Basic credential (whole and its base64 part) as secrets', async () => {
    const registered: string[] = [];
    const { sim, connector } = await setup(['S1'], {}, (o) => o, { registerSecret: (value) => void registered.push(value) });
    await connector.push([{ sku: 'S1', quantity: 1, version: 1 }], signal);
    const call = sim.apiExchanges().find((c) => c.method === 'PUT')!;
    const basic = String(call.headers.authorization);
    expect(registered).toEqual(expect.arrayContaining([String(call.headers['wm_sec.access_token']), basic, basic.slice('Basic '.length)]));
  });

  it('fetches a new token once the simulator\'s short-lived one has expired', async () => {
    const { sim, connector } = await setup(['S1'], { tokenLifetimeMs: 1200 });
    await connector.push([{ sku: 'S1', quantity: 1, version: 1 }], signal);
    await new Promise((resolve) => setTimeout(resolve, 1300));
    expect(await connector.push([{ sku: 'S1', quantity: 2, version: 2 }], signal)).toEqual([{ sku: 'S1', status: 'ok', quantity: 2 }]);
    expect(sim.stats().tokensIssued).toBe(2);
  });

  it('keeps an error that echoes the request out of the push result and out of a token error', async () => {
    const { sim, connector } = await setup(['S1']);
    await connector.push([{ sku: 'S1', quantity: 1, version: 1 }], signal);
    sim.setFault({ kind: 'echo-errors' });
    const [result] = await connector.push([{ sku: 'S1', quantity: 2, version: 2 }], signal);
    expect(result?.status).toBe('rejected');
    expect(result?.status === 'rejected' ? result.reason : '').not.toMatch(/Basic |eyJ|wm_sec|grant_type/i);
    // A connector without a token yet meets the echo on the token call itself.
    const fresh = await walmart.create(sim.connectorOptions(['S1']), { channelId: 'walmart-us', logger: silent, signal, state: memoryConnectorState(), registerSecret: () => {} });
    const error = await fresh.push([{ sku: 'S1', quantity: 3, version: 3 }], signal).then(
      () => undefined,
      (err: unknown) => err as Error,
    );
    await fresh.close?.();
    expect(error?.message).toBeDefined();
    expect(error?.message).not.toMatch(/Basic |eyJ|wm_sec|grant_type/i);
  });
});
