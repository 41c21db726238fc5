import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import amazon from '../../connectors/amazon/index.ts';
import { startAmazonSimulator, type AmazonSimulator } from '../../connectors/amazon/simulator.ts';
import { parseEvent } from '../../core/events/validate-event.ts';
import { Ledger } from '../../core/ledger/ledger.ts';
import { memoryConnectorState } from '../../core/plugins/memory-connector-state.ts';
import type { ConnectorInstance, InventoryEvent } from '../../core/sdk.ts';
import { postgresBackend } from '../ledger-support/ledger-backends.ts';
import { uniqueSuffix } from '../support/servers.ts';

/**
 * Amazon's order lifecycle into the ledger on PostgreSQL: ORDER_CHANGE notifications built from the example of
 * Amazon's schema, and orders as `searchOrders` lists them (Orders 2026-01-01). Amazon cancels whole orders; its
 * Orders model gives no cancelled quantity per item and no returns, so those are not part of its lifecycle.
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

let sim: AmazonSimulator | undefined;
let connector: ConnectorInstance | undefined;
afterEach(async () => {
  await connector?.close?.();
  await sim?.close();
});

async function channel(start: number) {
  const suffix = uniqueSuffix();
  const sku = `AMZ/${suffix}`;
  sim = await startAmazonSimulator({ latency: { p50: 0, p99: 0 }, skus: { [sku]: start } });
  connector = await amazon.create(sim.connectorOptions([sku]), { channelId: `amazon-${suffix}`, logger: silent, signal, state: memoryConnectorState(), registerSecret: () => {} });
  await ledger.applyBatch([{ id: `set:${suffix}`, type: 'stock.set', channel: 'manual', occurredAt: new Date().toISOString(), lines: [{ sku, quantity: start }] }]);
  return { sim, connector, sku };
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

describe('amazon order lifecycle into the ledger', () => {
  it('cancel before confirm: the cancellation applied first restocks nothing, and its confirmation then nets to zero', async () => {
    const { sim, connector, sku } = await channel(10);
    const { orderId } = await sim.placeOrder!([{ sku, qty: 4 }], { drop: true });
    sim.cancelOrder(orderId);
    const polled = await connector.pollOrders!(signal);
    await apply(polled.filter((e) => e.type === 'order.cancelled'));
    expect(await stock(sku)).toBe(10);
    await apply(polled.filter((e) => e.type === 'order.confirmed'));
    await apply(await caughtUp(connector));
    expect(await stock(sku)).toBe(10);
  });

  it('an order whose notifications were all lost is taken once by catch-up, and its cancellation found later restores it', async () => {
    const { sim, connector, sku } = await channel(10);
    const { orderId } = await sim.placeOrder!([{ sku, qty: 4 }], { drop: true });
    await apply(await caughtUp(connector));
    await apply(await caughtUp(connector));
    expect(await stock(sku)).toBe(6);
    sim.cancelOrder(orderId, { drop: true });
    await apply(await caughtUp(connector));
    expect(await stock(sku)).toBe(10);
  });

  it('a cancelled order that was oversold restores only what its confirmation took', async () => {
    const { sim, connector, sku } = await channel(2);
    const { orderId } = await sim.placeOrder!([{ sku, qty: 5 }]);
    await apply(await connector.pollOrders!(signal));
    expect(await stock(sku)).toBe(0);
    sim.cancelOrder(orderId);
    await apply(await connector.pollOrders!(signal));
    await apply(await caughtUp(connector));
    expect(await stock(sku)).toBe(2);
  });
});
