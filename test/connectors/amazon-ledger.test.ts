import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AmazonSimulator } from '../../connectors/amazon/simulator.ts';
import { loadVendorSpec } from '../support/openapi-schema.ts';
import { startSimulatedHub, type SimulatedHub } from '../support/simulated-hub.ts';
import { waitFor } from '../support/test-hub.ts';

/**
 * Acceptance (issue 8): an ORDER_CHANGE notification shaped as Amazon's schema reaches the ledger once. The
 * notification is the example of schemas/notifications/OrderChangeNotification.json itself (quantity 10), with only
 * its seller SKU set to the listing the hub maps, queued twice as SQS's at-least-once delivery may hand it over.
 */
interface NotificationExample {
  Payload: { OrderChangeNotification: { AmazonOrderId: string; Summary: { OrderItems: Array<{ SellerSKU: string; Quantity: number }> } } };
}

describe('amazon: a notification shaped as Amazon\'s schema, through a running hub', () => {
  let env: SimulatedHub;
  const SKU = 'AMZ-LEDGER-1';
  const START = 25;

  beforeAll(async () => {
    env = await startSimulatedHub({ channels: [{ id: 'amazon-main', connector: 'amazon' }], skus: { [SKU]: 0 } });
    await env.hub.publish({ id: 'amazon-ledger:seed', type: 'stock.set', channel: 'manual', occurredAt: new Date().toISOString(), lines: [{ sku: SKU, quantity: START }] });
    await waitFor('the seeded stock', async () => (await env.hub.ledger.getLevels([SKU])).get(SKU)?.available === START);
  }, 60_000);
  afterAll(async () => {
    await env?.stop();
  });

  it('changes the ledger once, by the example\'s Quantity, however often the queue hands it over', async () => {
    const sim = env.simulator('amazon-main') as unknown as AmazonSimulator;
    const spec = loadVendorSpec('amazon/OrderChangeNotification.json');
    const example = structuredClone((spec.document.examples as NotificationExample[])[0]!);
    const [item] = example.Payload.OrderChangeNotification.Summary.OrderItems;
    item!.SellerSKU = sim.sellerSku(SKU)!;
    const body = JSON.stringify(example);
    sim.sendQueueMessage(body);
    sim.sendQueueMessage(body);

    await waitFor('both copies to be taken off the queue', () => {
      const depth = sim.queueDepth();
      return depth.visible === 0 && depth.inFlight === 0 && sim.stats().messagesDeleted === 2;
    });
    await waitFor('the order to reach the ledger', async () => (await env.hub.ledger.getLevels([SKU])).get(SKU)?.available === START - item!.Quantity);
    const audits = (await env.hub.ledger.listAudit({ sku: SKU, limit: 100 })).filter((a) => a.eventType === 'order.confirmed');
    expect(audits).toHaveLength(1);
    expect(audits[0]!.channel).toBe('amazon-main');
    expect((await env.hub.ledger.getLevels([SKU])).get(SKU)?.available).toBe(START - 10);
    // And Amazon is told the new quantity, like every channel.
    await waitFor('Amazon to show the new quantity', () => sim.shown(SKU) === START - 10);
  });
});
