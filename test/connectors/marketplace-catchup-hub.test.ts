import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import amazon from '../../connectors/amazon/index.ts';
import walmart from '../../connectors/walmart/index.ts';
import { memoryConnectorState } from '../../core/plugins/memory-connector-state.ts';
import type { ConnectorContext, ConnectorInstance, InventoryEvent, SimulatorHandle } from '../../core/sdk.ts';
import { startSimulatedHub, type SimulatedHub } from '../support/simulated-hub.ts';
import { waitFor } from '../support/test-hub.ts';

/**
 * Missed-order catch-up through a running hub on the real NATS and PostgreSQL: orders whose notifications were
 * dropped for good on Amazon and Walmart reach the ledger through `listOrders`, published as the host publishes them,
 * and orders the hub already took through its queue or webhook, found again, count once.
 */
const SKU = 'CATCHUP-1';
const START = 100;
const silent = { debug() {}, info() {}, warn() {}, error() {} };
const signal = new AbortController().signal;

describe.each([
  { id: 'amazon-main', connector: 'amazon', definition: amazon },
  { id: 'walmart-main', connector: 'walmart', definition: walmart },
] as const)('$connector: catch-up through a running hub', ({ id, connector, definition }) => {
  let env: SimulatedHub;
  let reader: ConnectorInstance;

  beforeAll(async () => {
    env = await startSimulatedHub({ channels: [{ id, connector }], skus: { [SKU]: START } });
    await env.hub.publish({ id: `${id}:seed`, type: 'stock.set', channel: 'manual', occurredAt: new Date().toISOString(), lines: [{ sku: SKU, quantity: START }] });
    await waitFor('the seeded stock', async () => (await env.hub.ledger.getLevels([SKU])).get(SKU)?.available === START);
    const sim = env.simulator(id) as SimulatorHandle<Record<string, unknown>>;
    reader = await (definition.create as unknown as (o: Record<string, unknown>, c: ConnectorContext) => Promise<ConnectorInstance>)(sim.connectorOptions([SKU]), {
      channelId: id,
      logger: silent,
      signal,
      state: memoryConnectorState(),
      registerSecret: () => {},
    });
  }, 60_000);
  afterAll(async () => {
    await reader?.close?.();
    await env?.stop();
  });

  it('ends with the ledger exact: every dropped order taken once, no notified order counted twice', async () => {
    const sim = env.simulator(id);
    let units = 0;
    for (let i = 0; i < 12; i++) {
      const qty = 1 + (i % 3);
      units += qty;
      // A third of the orders lose their notification for good.
      await sim.placeOrder!([{ sku: SKU, qty }], { drop: i % 3 === 0 });
    }
    const publishAll = async (): Promise<void> => {
      for (let page = await reader.listOrders!(undefined, signal); ; page = await reader.listOrders!(page.cursor, signal)) {
        for (const event of page.events as InventoryEvent[]) await env.hub.publish(event);
        if (!page.more) return;
      }
    };
    await publishAll();
    await publishAll();
    await waitFor('every order in the ledger', async () => (await env.hub.ledger.getLevels([SKU])).get(SKU)?.available === START - units, 30_000);
    const confirmations = (await env.hub.ledger.listAudit({ sku: SKU, limit: 100 })).filter((a) => a.eventType === 'order.confirmed');
    expect(confirmations).toHaveLength(12);
    expect((await env.hub.ledger.getLevels([SKU])).get(SKU)?.available).toBe(START - units);
  });
});
