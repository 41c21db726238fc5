import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import walmart from '../../connectors/walmart/index.ts';
import { startWalmartSimulator, type WalmartSimulator } from '../../connectors/walmart/simulator.ts';
import { parseEvent } from '../../core/events/validate-event.ts';
import { Ledger } from '../../core/ledger/ledger.ts';
import { memoryConnectorState } from '../../core/plugins/memory-connector-state.ts';
import type { ConnectorInstance, InventoryEvent } from '../../core/sdk.ts';
import { postgresBackend } from '../ledger-support/ledger-backends.ts';
import { uniqueSuffix } from '../support/servers.ts';
import { startWebhookReceiver, type Receiver } from '../support/webhook-receiver.ts';

/**
 * Walmart's order lifecycle into the ledger on PostgreSQL: PO_CREATED and PO_LINE_AUTOCANCELLED as the simulator
 * delivers them (the fields of Walmart's event tables, see test/fixtures/vendor/walmart/SOURCE) and POs as
 * `GET /v3/orders` lists them (the list example of Walmart's orders document, each line's quantity split by status).
 * Walmart carries no restock information for refunds or returns, so those are not part of its lifecycle.
 */
const silent = { debug() {}, info() {}, warn() {}, error() {} };
const signal = new AbortController().signal;
const backend = postgresBackend();
let ledger: Ledger;
beforeAll(async () => {
  await backend.setUp();
  ledger = new Ledger(backend.primary().db);
});
afterAll(() => backend.tearDown());

let sim: WalmartSimulator | undefined;
let connector: ConnectorInstance | undefined;
let receiver: Receiver | undefined;
afterEach(async () => {
  await receiver?.close();
  await connector?.close?.();
  await sim?.close();
});

/** A channel of its own, on SKUs of its own, each starting at `start` in the ledger. */
async function channel(skus: string[], start: number) {
  const suffix = uniqueSuffix();
  const hub = skus.map((sku) => `${sku}-${suffix}`);
  sim = await startWalmartSimulator({ latency: { p50: 0, p99: 0 }, skus: Object.fromEntries(hub.map((sku) => [sku, start])) });
  connector = await walmart.create(sim.connectorOptions(hub), { channelId: `walmart-${suffix}`, logger: silent, signal, state: memoryConnectorState(), registerSecret: () => {} });
  receiver = await startWebhookReceiver(sim, connector, signal);
  await ledger.applyBatch([{ id: `set:${suffix}`, type: 'stock.set', channel: 'manual', occurredAt: new Date().toISOString(), lines: hub.map((sku) => ({ sku, quantity: start })) }]);
  return { sim, connector, receiver, hub };
}
const apply = async (events: InventoryEvent[]) => {
  for (const event of events) expect(parseEvent(JSON.stringify(event), event.type)).toMatchObject({ ok: true });
  if (events.length > 0) await ledger.applyBatch(events);
};
const stock = async (sku: string) => (await ledger.getLevel(sku))?.available;
const caughtUp = async (c: ConnectorInstance) => {
  const events: InventoryEvent[] = [];
  for (let page = await c.listOrders!(undefined, signal); ; page = await c.listOrders!(page.cursor, signal)) {
    events.push(...page.events);
    if (!page.more) return events;
  }
};

describe('walmart order lifecycle into the ledger', () => {
  it('cancel before confirm: a line cancelled before its PO_CREATED was ever applied nets to zero once the PO is found', async () => {
    const { sim, connector, receiver, hub } = await channel(['S'], 10);
    const { orderId } = await sim.placeOrder!([{ sku: hub[0]!, qty: 3 }], { drop: true });
    await sim.autoCancelLine(orderId, '1');
    await apply(receiver.events);
    expect(await stock(hub[0]!)).toBe(10);
    await apply(await caughtUp(connector));
    await apply(await caughtUp(connector));
    expect(await stock(hub[0]!)).toBe(10);
  });

  it('a line-level cancellation restores that line only', async () => {
    const { sim, connector, receiver, hub } = await channel(['A', 'B'], 10);
    const { orderId } = await sim.placeOrder!([{ sku: hub[0]!, qty: 2 }, { sku: hub[1]!, qty: 3 }]);
    await sim.autoCancelLine(orderId, '2');
    await apply(receiver.events);
    await apply(await caughtUp(connector));
    expect([await stock(hub[0]!), await stock(hub[1]!)]).toEqual([8, 10]);
  });

  it('some units of a line cancelled (seen only in the orders API) restore those units', async () => {
    const { sim, connector, receiver, hub } = await channel(['S'], 10);
    const { orderId } = await sim.placeOrder!([{ sku: hub[0]!, qty: 3 }]);
    await apply(receiver.events);
    await sim.autoCancelLine(orderId, '1', { qty: 1, drop: true });
    await apply(await caughtUp(connector));
    expect(await stock(hub[0]!)).toBe(8);
  });

  it('a cancelled line that was oversold restores only what its confirmation took', async () => {
    const { sim, connector, receiver, hub } = await channel(['S'], 1);
    // The simulated channel still shows 5: the hub's count (1) is what oversells.
    sim.setShown(hub[0]!, 5);
    const { orderId } = await sim.placeOrder!([{ sku: hub[0]!, qty: 3 }]);
    await apply(receiver.events);
    expect(await stock(hub[0]!)).toBe(0);
    await sim.autoCancelLine(orderId, '1');
    await apply(receiver.events);
    await apply(await caughtUp(connector));
    expect(await stock(hub[0]!)).toBe(1);
  });
});
