import { afterEach, describe, expect, it } from 'vitest';
import walmart from '../../connectors/walmart/index.ts';
import type { WalmartOptions } from '../../connectors/walmart/options.ts';
import { startWalmartSimulator, type WalmartSimulator, type WalmartSimulatorOptions } from '../../connectors/walmart/simulator.ts';
import { memoryConnectorState } from '../../core/plugins/memory-connector-state.ts';
import type { ConnectorContext, ConnectorInstance, InventoryEvent } from '../../core/sdk.ts';
import { loadVendorSpec, schemaErrors } from '../support/openapi-schema.ts';
import { startWebhookReceiver, type Receiver } from '../support/webhook-receiver.ts';
import { readCatchUpPass } from '../support/catch-up-pass.ts';

/**
 * Missed-order catch-up (`listOrders`, `GET /v3/orders`) and onboarding (`listListings`, `GET /v3/items` and
 * `GET /v3/inventory`), checked against Walmart's orders and items documents (test/fixtures/vendor/walmart/SOURCE).
 */
const ordersSpec = loadVendorSpec('walmart/orders.json');
const itemsSpec = loadVendorSpec('walmart/items.json');
type Parameter = { name: string; in: string; required?: boolean; $ref?: string };
const operation = (spec: typeof ordersSpec, path: string) => (spec.document.paths as Record<string, { get: { parameters: Parameter[] } }>)[path]!.get;
const headerParameters = (spec: typeof ordersSpec) => spec.document.components as { parameters: Record<string, { name: string; required?: boolean }> };

const silent = { debug() {}, info() {}, warn() {}, error() {} };
const signal = new AbortController().signal;

let sim: WalmartSimulator | undefined;
const connectors: ConnectorInstance[] = [];
const receivers: Receiver[] = [];
afterEach(async () => {
  for (const r of receivers.splice(0)) await r.close();
  for (const c of connectors.splice(0)) await c.close?.();
  await sim?.close();
  sim = undefined;
});

async function connect(options: WalmartOptions): Promise<ConnectorInstance> {
  const context: ConnectorContext = { channelId: 'walmart-us', logger: silent, signal, state: memoryConnectorState(), registerSecret: () => {} };
  const connector = await walmart.create(options, context);
  connectors.push(connector);
  return connector;
}

async function setup(skus: Record<string, number>, simOptions: WalmartSimulatorOptions = {}) {
  sim = await startWalmartSimulator({ latency: { p50: 0, p99: 0 }, skus, ...simOptions });
  const connector = await connect(sim.connectorOptions(Object.keys(skus)));
  const receiver = await startWebhookReceiver(sim, connector, signal);
  receivers.push(receiver);
  return { sim, connector, receiver };
}

const readAll = (connector: ConnectorInstance, cursor?: string) => readCatchUpPass(connector, cursor, signal);
const ids = (events: readonly InventoryEvent[]): string[] => [...new Set(events.map((e) => e.id))].sort();
const orderIdOf = (event: InventoryEvent): string | undefined => ('orderId' in event ? event.orderId : undefined);

/** One call against Walmart's document: known query parameters, every required header, and the answer's envelope. */
function expectCallValid(spec: typeof ordersSpec, path: string, call: { query: Record<string, string>; headers: Record<string, unknown>; status: number }): void {
  const known = new Set(operation(spec, path).parameters.filter((p) => p.in === 'query').map((p) => p.name));
  for (const name of Object.keys(call.query)) expect(known.has(name), `query parameter ${name}`).toBe(true);
  for (const header of Object.values(headerParameters(spec).parameters).filter((p) => p.required)) expect(call.headers[header.name.toLowerCase()], header.name).toBeTruthy();
  expect(call.status).toBe(200);
}

describe('walmart listOrders: GET /v3/orders', () => {
  it('finds a PO whose PO_CREATED was dropped, with the event id the webhook gives the same PO', async () => {
    const { sim, connector, receiver } = await setup({ S1: 10, S2: 10 });
    const { orderId: lost } = await sim.placeOrder!([{ sku: 'S1', qty: 2 }], { drop: true });
    const { orderId: delivered } = await sim.placeOrder!([{ sku: 'S2', qty: 1 }]);
    expect(ids(receiver.events)).toEqual([`walmart-us:order:${delivered}:confirmed`]);
    const { events } = await readAll(connector);
    expect(ids(events)).toEqual([`walmart-us:order:${lost}:confirmed`, `walmart-us:order:${delivered}:confirmed`].sort());
    expect(events.find((e) => orderIdOf(e) === delivered)).toEqual(receiver.events[0]);
    expect(events.find((e) => orderIdOf(e) === lost)?.lines).toEqual([{ sku: 'S1', qty: 2 }]);
  });

  it('gives each auto-cancelled line the cancellation id and units PO_LINE_AUTOCANCELLED gives it', async () => {
    const { sim, connector, receiver } = await setup({ S1: 10, S2: 10 });
    const { orderId } = await sim.placeOrder!([{ sku: 'S1', qty: 1 }, { sku: 'S2', qty: 3 }]);
    await sim.autoCancelLine(orderId, '2');
    await sim.autoCancelLine(orderId, '1', { drop: true });
    const { events } = await readAll(connector);
    expect(ids(events)).toEqual([`walmart-us:order:${orderId}:cancelled:1`, `walmart-us:order:${orderId}:cancelled:2`, `walmart-us:order:${orderId}:confirmed`]);
    for (const delivered of receiver.events) expect(events.find((e) => e.id === delivered.id)?.lines).toEqual(delivered.lines);
    expect(events.find((e) => e.id.endsWith(':cancelled:1'))?.lines).toEqual([{ sku: 'S1', qty: 1 }]);
  });

  it('asks with the documented parameters and headers, and follows Walmart\'s nextCursor page by page', async () => {
    const { sim, connector } = await setup({ S1: 1000 });
    const placed = new Set<string>();
    for (let i = 0; i < 230; i++) placed.add((await sim.placeOrder!([{ sku: 'S1', qty: 1 }], { drop: true })).orderId);
    const { events, pages } = await readAll(connector);
    expect(pages.map((p) => p.more)).toEqual([true, true, false]);
    expect(new Set(events.map(orderIdOf))).toEqual(placed);
    const calls = sim.apiExchanges().filter((c) => c.path === '/v3/orders');
    expect(calls).toHaveLength(3);
    expect(calls[0]!.query.lastModifiedStartDate).toBeTruthy();
    // Beyond Walmart's seven-day default, so a cancellation of an older PO is found too.
    expect(Date.now() - Date.parse(calls[0]!.query.createdStartDate!)).toBeGreaterThan(7 * 24 * 3600_000);
    expect(calls[1]!.query.hasMoreElements).toBe('true');
    const meta = ordersSpec.schema('#/components/schemas/MetaType');
    for (const call of calls) {
      expectCallValid(ordersSpec, '/v3/orders', call);
      expect(Number(call.query.limit)).toBeLessThanOrEqual(200);
      const list = (call.response as { list: { meta: unknown; elements: { order: Array<Record<string, unknown>> } } }).list;
      expect(meta(list.meta), schemaErrors(meta)).toBe(true);
      // The document's element schema points orderLines at the refund line type (a generator slip): the envelope and
      // each order's own fields are checked against the schema, the lines against the example's keys.
      const record = ordersSpec.schema('#/components/schemas/GetOrderResponseRecord');
      for (const order of list.elements.order) {
        const { orderLines: _lines, ...rest } = order;
        expect(record({ ...rest, orderLines: { orderLine: [] } }), schemaErrors(record)).toBe(true);
      }
    }
  });

  it('overlaps the next search with the last, so a re-found PO keeps its id, and finds a later cancellation', async () => {
    const { sim, connector } = await setup({ S1: 10 });
    const { orderId } = await sim.placeOrder!([{ sku: 'S1', qty: 2 }], { drop: true });
    const first = await readAll(connector);
    await sim.autoCancelLine(orderId, '1', { qty: 1, drop: true });
    const second = await readAll(connector, first.pages.at(-1)!.cursor);
    expect(ids(second.events)).toEqual([`walmart-us:order:${orderId}:cancelled:1`, `walmart-us:order:${orderId}:confirmed`]);
    expect(second.events.find((e) => e.type === 'order.cancelled')?.lines).toEqual([{ sku: 'S1', qty: 1 }]);
    expect(second.events.find((e) => e.type === 'order.confirmed')).toEqual(first.events[0]);
  });

  it('refuses what the orders document does not allow: a limit over 200, an unknown status, a cursor it did not write', async () => {
    const { sim, connector } = await setup({ S1: 10 });
    await connector.push([{ sku: 'S1', quantity: 1, version: 1 }], signal);
    const headers = sim.apiExchanges().find((c) => c.method === 'PUT')!.headers as Record<string, string>;
    for (const query of ['limit=201', 'status=Lost', 'hasMoreElements=true&poIndex=5&sellerId=other', 'createdStartDate=2020-01-01']) {
      const res = await fetch(`${sim.url}/v3/orders?${query}`, { headers });
      expect(res.status, query).toBe(400);
      const body = (await res.json()) as { errors: unknown[] };
      expect(body.errors.length).toBeGreaterThan(0);
    }
    await expect(connector.listOrders!('bogus', signal)).rejects.toMatchObject({ code: 'SR_CONNECTOR_REJECTED' });
  });
});

describe('walmart listListings: GET /v3/items', () => {
  it('lists every active item with the mapping options.skus takes and what it shows, page by page', async () => {
    const skus: Record<string, number> = {};
    for (let i = 0; i < 55; i++) skus[`W-${String(i).padStart(2, '0')}`] = i;
    sim = await startWalmartSimulator({ latency: { p50: 0, p99: 0 }, skus });
    const fresh = await connect({ ...sim.connectorOptions([]), skus: {} });
    const listings = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await fresh.listListings!(cursor, signal);
      listings.push(...page.listings);
      cursor = page.cursor;
      pages += 1;
    } while (cursor !== undefined);
    expect(pages).toBe(2);
    expect(listings.map((l) => l.sku)).toEqual(Object.keys(skus).sort());
    expect(listings.find((l) => l.sku === 'W-07')).toEqual({ sku: 'W-07', mapping: { sku: 'W-07' }, quantity: 7, title: expect.any(String) });
    const itemCalls = sim.apiExchanges().filter((c) => c.path === '/v3/items');
    const answer = itemsSpec.schema('#/components/schemas/ItemResponses');
    for (const call of itemCalls) {
      expectCallValid(itemsSpec, '/v3/items', call);
      expect(Number(call.query.limit)).toBeLessThanOrEqual(50);
      // Walmart's example (which the simulator follows) gives price.amount as a number where the schema says string.
      const items = (call.response as { ItemResponse: Array<Record<string, unknown>> }).ItemResponse.map(({ price: _price, ...rest }) => rest);
      expect(answer({ ...(call.response as object), ItemResponse: items }), schemaErrors(answer)).toBe(true);
    }
  });

  it('gives mappings with which a connector pushes to those items', async () => {
    sim = await startWalmartSimulator({ latency: { p50: 0, p99: 0 }, skus: { A: 3, B: 4 } });
    const fresh = await connect({ ...sim.connectorOptions([]), skus: {} });
    const { listings } = await fresh.listListings!(undefined, signal);
    const mapped = await connect({ ...sim.connectorOptions([]), skus: Object.fromEntries(listings.map((l) => [l.sku, (l.mapping as { sku: string }).sku])) });
    expect(await mapped.push([{ sku: 'A', quantity: 9, version: 1 }], signal)).toEqual([{ sku: 'A', status: 'ok', quantity: 9 }]);
    expect(sim.shown('A')).toBe(9);
  });
});
