import { afterEach, describe, expect, it } from 'vitest';
import amazon from '../../connectors/amazon/index.ts';
import { readOrdersApiOrder } from '../../connectors/amazon/orders-api-order.ts';
import { startAmazonSimulator, type AmazonSimulator, type AmazonSimulatorOptions } from '../../connectors/amazon/simulator.ts';
import type { AmazonOptions } from '../../connectors/amazon/options.ts';
import type { ConnectorContext, ConnectorInstance, InventoryEvent, Logger } from '../../core/sdk.ts';
import { memoryConnectorState } from '../../core/plugins/memory-connector-state.ts';
import { loadVendorSpec, schemaErrors } from '../support/openapi-schema.ts';

/**
 * The Amazon connector and simulator against Amazon's own artefacts (test/fixtures/vendor/amazon/SOURCE):
 * the ORDER_CHANGE notification schema and its example, the Orders 2026-01-01 model (getOrder) and the Listings Items
 * 2021-08-01 model (patchListingsItem, getListingsItem).
 */
const notificationSchema = loadVendorSpec('amazon/OrderChangeNotification.json');
const ordersModel = loadVendorSpec('amazon/orders_2026-01-01.getOrder.json');
const listingsModel = loadVendorSpec('amazon/listingsItems_2021-08-01.patch-get.json');

interface NotificationExample {
  Payload: { OrderChangeNotification: { AmazonOrderId: string; Summary: { FulfillmentType: string; OrderItems: Array<{ SellerSKU: string; Quantity: number }> } } };
}
const vendorNotification = (): NotificationExample => structuredClone((notificationSchema.document.examples as NotificationExample[])[0]!);

type GetOrderOperation = { parameters: Array<{ name: string; in: string; items?: { enum?: string[] } }>; responses: { '200': { examples: { 'application/json': unknown } } } };
const getOrderOperation = (ordersModel.document.paths as Record<string, { get: GetOrderOperation }>)['/orders/2026-01-01/orders/{orderId}']!.get;

const silent: Logger = { debug() {}, info() {}, warn() {}, error() {} };
const signal = new AbortController().signal;

let sim: AmazonSimulator | undefined;
let connector: ConnectorInstance | undefined;
afterEach(async () => {
  await connector?.close?.();
  await sim?.close();
  connector = undefined;
  sim = undefined;
});

async function setup(skus: string[], simOptions: AmazonSimulatorOptions = {}, tweak: (o: AmazonOptions) => AmazonOptions = (o) => o, extra: Partial<ConnectorContext> = {}) {
  sim = await startAmazonSimulator({ latency: { p50: 0, p99: 0 }, ...simOptions });
  const context: ConnectorContext = { channelId: 'amazon-us', logger: silent, signal, state: memoryConnectorState(), registerSecret: () => {}, ...extra };
  connector = await amazon.create(tweak(sim.connectorOptions(skus)), context);
  return { sim, connector };
}

/** Maps hub SKU `HUB-1` to the example's seller SKU, as a seller would configure it. */
const mapExampleSku = (o: AmazonOptions): AmazonOptions => ({ ...o, listings: { ...o.listings, 'HUB-1': { sellerSku: 'SellerSKUID1', productType: 'PRODUCT' } } });

describe('amazon: ORDER_CHANGE notifications as Amazon\'s schema shapes them', () => {
  it('turns the schema\'s own example (Summary.OrderItems[].Quantity) into one order event of that quantity', async () => {
    const { sim, connector } = await setup(['S1'], {}, mapExampleSku);
    const example = vendorNotification();
    sim.sendQueueMessage(JSON.stringify(example));
    const events = await connector.pollOrders!(signal);
    expect(events).toEqual([
      expect.objectContaining({ id: 'amazon-us:order:903-8868176-2219830:confirmed', type: 'order.confirmed', orderId: '903-8868176-2219830', lines: [{ sku: 'HUB-1', qty: 10 }] }),
    ]);
    expect((events[0] as InventoryEvent).occurredAt).toBe('2022-07-13T19:42:04.284Z');
    // Read from the summary: no Orders API call.
    expect(sim.stats().ordersApiCalls).toBe(0);
    await connector.pollOrders!(signal);
    expect(sim.queueDepth()).toEqual({ visible: 0, inFlight: 0 });
  });

  it('leaves out an order Amazon fulfils from FBA stock (FulfillmentType AFN): it never drew on the seller\'s stock', async () => {
    const { sim, connector } = await setup(['S1'], {}, mapExampleSku);
    const example = vendorNotification();
    example.Payload.OrderChangeNotification.Summary.FulfillmentType = 'AFN';
    sim.sendQueueMessage(JSON.stringify(example));
    expect(await connector.pollOrders!(signal)).toEqual([]);
    await connector.pollOrders!(signal);
    expect(sim.queueDepth()).toEqual({ visible: 0, inFlight: 0 });
  });

  it('queues only notifications that validate against OrderChangeNotification.json', async () => {
    const { sim, connector } = await setup(['S1', 'S2'], { skus: { S1: 10, S2: 10 } });
    const { orderId } = await sim.placeOrder!([{ sku: 'S1', qty: 2 }, { sku: 'S2', qty: 1 }], { outOfOrder: true });
    sim.cancelOrder(orderId);
    const validate = notificationSchema.schema('#');
    expect(sim.notificationsSent()).toHaveLength(3);
    for (const notification of sim.notificationsSent()) expect(validate(notification), schemaErrors(validate)).toBe(true);
    const events = await connector.pollOrders!(signal);
    expect(events.map((e) => e.type).sort()).toEqual(['order.cancelled', 'order.confirmed']);
  });

  it('never throws on a mangled notification and never turns one into an event the ledger would refuse', async () => {
    const { sim, connector } = await setup(['S1'], {}, mapExampleSku);
    const mangles: Array<(n: Record<string, unknown>) => void> = [
      (n) => delete n.Payload,
      (n) => ((n.Payload as Record<string, unknown>).OrderChangeNotification = 'x'),
      (n) => ((n as unknown as NotificationExample).Payload.OrderChangeNotification.Summary.OrderItems = null as never),
      (n) => ((n as unknown as NotificationExample).Payload.OrderChangeNotification.Summary.OrderItems[0]!.Quantity = -3),
      (n) => ((n as unknown as NotificationExample).Payload.OrderChangeNotification.Summary.OrderItems[0]!.Quantity = '10' as never),
      (n) => ((n as unknown as NotificationExample).Payload.OrderChangeNotification.Summary.OrderItems[0]!.Quantity = 1e300),
      (n) => ((n as unknown as NotificationExample).Payload.OrderChangeNotification.Summary.OrderItems = [null as never]),
      (n) => ((n as unknown as NotificationExample).Payload.OrderChangeNotification.AmazonOrderId = '../../admin'),
      (n) => ((n as unknown as NotificationExample).Payload.OrderChangeNotification.AmazonOrderId = 12 as never),
      (n) => ((n as unknown as { Payload: { OrderChangeNotification: { Summary: unknown } } }).Payload.OrderChangeNotification.Summary = []),
    ];
    for (const mangle of mangles) {
      const example = vendorNotification() as unknown as Record<string, unknown>;
      mangle(example);
      sim.sendQueueMessage(JSON.stringify(example));
    }
    // Unreadable summaries fall back to the Orders API, which does not know the example's order: those stay queued.
    const events = await connector.pollOrders!(signal).catch((err: unknown) => err);
    expect(events).not.toBeInstanceOf(TypeError);
    expect(events).not.toBeInstanceOf(RangeError);
    if (Array.isArray(events)) for (const event of events) for (const line of event.lines) expect(Number.isSafeInteger(line.qty) && line.qty > 0).toBe(true);
  });
});

describe('amazon: Orders API 2026-01-01 (successor of the deprecated Orders v0)', () => {
  it('reads the model\'s own getOrder example: its seller SKU and quantity, merchant-fulfilled, not cancelled', () => {
    const example = getOrderOperation.responses['200'].examples['application/json'];
    expect(readOrdersApiOrder(example)).toEqual({
      cancelled: false,
      fulfilledByAmazon: false,
      purchasedAt: '2024-12-25T09:15:00.000Z',
      changedAt: '2024-12-25T16:30:00.000Z',
      items: [{ sellerSku: 'ECHO-DOT-4-UK-CHARCOAL-3PACK', quantity: 3 }],
    });
  });

  it('asks getOrder as the model defines it, and the simulator answers what GetOrderResponse allows', async () => {
    const { sim, connector } = await setup(['S1'], { skus: { S1: 10 } });
    const { orderId } = await sim.placeOrder!([{ sku: 'S1', qty: 4 }]);
    await connector.pollOrders!(signal);
    await connector.pollOrders!(signal);
    const notification = structuredClone(sim.notificationsSent()[0]!) as unknown as { Payload: { OrderChangeNotification: { Summary: unknown } } };
    notification.Payload.OrderChangeNotification.Summary = null;
    sim.sendQueueMessage(JSON.stringify(notification));
    expect((await connector.pollOrders!(signal)).map((e) => e.lines)).toEqual([[{ sku: 'S1', qty: 4 }]]);

    const calls = sim.apiExchanges().filter((call) => call.path.startsWith('/orders/'));
    expect(calls).toHaveLength(1);
    const [call] = calls as [(typeof calls)[number]];
    expect(call.path).toBe(`/orders/2026-01-01/orders/${orderId}`);
    const allowed = new Set(getOrderOperation.parameters.filter((p) => p.in === 'query').map((p) => p.name));
    for (const name of Object.keys(call.query)) expect(allowed.has(name), `query parameter ${name}`).toBe(true);
    const includedEnum = getOrderOperation.parameters.find((p) => p.name === 'includedData')?.items?.enum ?? [];
    for (const value of (call.query.includedData ?? '').split(',')) expect(includedEnum).toContain(value);
    expect(call.status).toBe(200);
    const validate = ordersModel.schema('#/definitions/GetOrderResponse');
    expect(validate(call.response), schemaErrors(validate)).toBe(true);
  });
});

describe('amazon: patchListingsItem as the Listings Items 2021-08-01 model defines it', () => {
  it('sends a body that validates against ListingsItemPatchRequest, with the required marketplaceIds, and reads the documented answer', async () => {
    const { sim, connector } = await setup(['S1', 'GONE']);
    sim.setFault({ kind: 'item-unknown', skus: ['GONE'] });
    expect(await connector.push([{ sku: 'S1', quantity: 5, version: 1 }], signal)).toEqual([{ sku: 'S1', status: 'ok', quantity: 5 }]);
    expect(await connector.push([{ sku: 'GONE', quantity: 5, version: 1 }], signal)).toEqual([expect.objectContaining({ sku: 'GONE', status: 'not_listed' })]);

    const patches = sim.apiExchanges().filter((call) => call.method === 'PATCH');
    expect(patches).toHaveLength(2);
    const body = listingsModel.schema('#/definitions/ListingsItemPatchRequest');
    const answer = listingsModel.schema('#/definitions/ListingsItemSubmissionResponse');
    const operation = (listingsModel.document.paths as Record<string, { patch: { parameters: Array<{ name: string; in: string; required?: boolean }> } }>)['/listings/2021-08-01/items/{sellerId}/{sku}']!.patch;
    const requiredQuery = operation.parameters.filter((p) => p.in === 'query' && p.required).map((p) => p.name);
    for (const call of patches) {
      expect(body(call.body), schemaErrors(body)).toBe(true);
      for (const name of requiredQuery) expect(call.query[name], `query ${name}`).toBeTruthy();
      expect(call.headers['content-type']).toMatch(/^application\/json/);
      expect(answer(call.response), schemaErrors(answer)).toBe(true);
    }
  });
});

describe('amazon: getListingsItem as the Listings Items 2021-08-01 model defines it', () => {
  it('reads back quantities with includedData values the model allows, from answers that validate against Item', async () => {
    const { sim, connector } = await setup(['S1', 'S2']);
    sim.setShown('S1', 4);
    sim.setShown('S2', 0);
    expect(Object.fromEntries(await connector.fetchQuantities!(['S1', 'S2'], signal))).toEqual({ S1: 4, S2: 0 });
    const operation = (listingsModel.document.paths as Record<string, { get: { parameters: Array<{ name: string; in: string; required?: boolean; items?: { enum?: string[] } }> } }>)['/listings/2021-08-01/items/{sellerId}/{sku}']!.get;
    const allowed = operation.parameters.find((p) => p.name === 'includedData')?.items?.enum ?? [];
    const item = listingsModel.schema('#/definitions/Item');
    const gets = sim.apiExchanges().filter((call) => call.method === 'GET');
    expect(gets).toHaveLength(2);
    for (const call of gets) {
      for (const value of (call.query.includedData ?? '').split(',')) expect(allowed).toContain(value);
      for (const p of operation.parameters.filter((p) => p.in === 'query' && p.required)) expect(call.query[p.name], p.name).toBeTruthy();
      expect(item(call.response), schemaErrors(item)).toBe(true);
    }
  });
});

describe('amazon: credentials', () => {
  it('registers the LWA access token it obtains and the configured AWS and LWA secrets as secrets', async () => {
    const registered: string[] = [];
    const { sim, connector } = await setup(['S1'], {}, (o) => ({ ...o, aws: { ...o.aws!, sessionToken: 'FwoGZXIvYXdzEXAMPLE-session' } }), { registerSecret: (value) => void registered.push(value) });
    await connector.push([{ sku: 'S1', quantity: 1, version: 1 }], signal);
    const options = sim.connectorOptions(['S1']);
    const token = sim.apiExchanges()[0]?.headers['x-amz-access-token'];
    expect(typeof token).toBe('string');
    expect(registered).toEqual(expect.arrayContaining([token, options.clientSecret, options.refreshToken, options.aws!.secretAccessKey, 'FwoGZXIvYXdzEXAMPLE-session']));
  });

  it('fetches a new access token when the simulator\'s short-lived one has expired', async () => {
    const { sim, connector } = await setup(['S1'], { tokenLifetimeMs: 1200 });
    await connector.push([{ sku: 'S1', quantity: 1, version: 1 }], signal);
    await new Promise((resolve) => setTimeout(resolve, 1300));
    expect(await connector.push([{ sku: 'S1', quantity: 2, version: 2 }], signal)).toEqual([{ sku: 'S1', status: 'ok', quantity: 2 }]);
    expect(sim.stats().tokensIssued).toBe(2);
    expect(sim.shown('S1')).toBe(2);
  });
});

describe('amazon: channel error text', () => {
  it('keeps an error that echoes the request out of the push result: no token, no request body', async () => {
    const { sim, connector } = await setup(['S1']);
    await connector.push([{ sku: 'S1', quantity: 1, version: 1 }], signal);
    const token = sim.apiExchanges()[0]?.headers['x-amz-access-token'] as string;
    sim.setFault({ kind: 'echo-errors' });
    const [result] = await connector.push([{ sku: 'S1', quantity: 2, version: 2 }], signal);
    expect(result?.status).toBe('rejected');
    const reason = result?.status === 'rejected' ? result.reason : '';
    expect(reason).not.toContain(token);
    expect(reason).not.toContain('fulfillment_availability');
    expect(reason.length).toBeLessThan(400);
  });
});
