import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Hub } from '../../core/hub.ts';
import type { InventoryEvent } from '../../core/events/event-types.ts';
import { setupTestHub, startHub, waitFor, type TestHubSetup } from '../support/test-hub.ts';

const now = () => new Date().toISOString();

describe('the hub applies events from JetStream to the ledger exactly once', () => {
  let setup: TestHubSetup;
  let hub: Hub;

  beforeAll(async () => {
    setup = await setupTestHub({ channels: [{ id: 'web' }, { id: 'market' }], nats: { duplicateWindowMs: 1500 } });
    hub = await startHub(setup);
  });
  afterAll(async () => {
    await hub?.stop();
    await setup?.cleanup();
  });

  it('stores an event published twice within the duplicate window once, and ignores it after the window', async () => {
    await hub.publish({ id: 'dedup:seed', type: 'stock.set', channel: 'manual', occurredAt: now(), lines: [{ sku: 'DEDUP-1', quantity: 10 }] });
    const order: InventoryEvent = { id: 'web:order:D1:confirmed', type: 'order.confirmed', channel: 'web', occurredAt: now(), lines: [{ sku: 'DEDUP-1', qty: 3 }] };
    const first = await hub.publish(order);
    const second = await hub.publish(order);
    expect(first.duplicate).toBe(false);
    expect(second.duplicate).toBe(true);
    expect(second.seq).toBe(first.seq);

    await waitFor('the order to be applied', async () => (await hub.ledger.getLevel('DEDUP-1'))?.available === 7);
    await new Promise((resolve) => setTimeout(resolve, 1700)); // past the 1.5 s window
    const late = await hub.publish(order);
    expect(late.duplicate).toBe(false); // a new message in the stream...
    await waitFor('the late copy to be consumed', async () => (await hub.metrics.duplicates.get()).values[0]?.value === 1);
    expect((await hub.ledger.getLevel('DEDUP-1'))?.available).toBe(7); // ...that changes nothing
    expect(await hub.ledger.listAudit({ sku: 'DEDUP-1' })).toHaveLength(2); // the set and the order
  });

  it('applies exactly 50 of 200 concurrent single-unit orders against 50 units and records 150 oversells', async () => {
    await hub.publish({ id: 'rush:seed', type: 'stock.set', channel: 'manual', occurredAt: now(), lines: [{ sku: 'RUSH-1', quantity: 50 }] });
    await waitFor('the seed', async () => (await hub.ledger.getLevel('RUSH-1'))?.available === 50);
    const orders = Array.from({ length: 200 }, (_, i): InventoryEvent => ({
      id: `market:order:R${i}:confirmed`,
      type: 'order.confirmed',
      channel: i % 2 ? 'market' : 'web',
      occurredAt: now(),
      lines: [{ sku: 'RUSH-1', qty: 1 }],
    }));
    await Promise.all(orders.map((o) => hub.publish(o)));
    await waitFor('all 200 orders to be processed', async () => {
      const processed = await Promise.all(orders.map((o) => hub.ledger.isProcessed(o.id)));
      return processed.every(Boolean);
    });
    expect((await hub.ledger.getLevel('RUSH-1'))?.available).toBe(0);
    const audit = await hub.ledger.listAudit({ sku: 'RUSH-1', limit: 1000 });
    expect(audit.filter((a) => a.eventType === 'order.confirmed')).toHaveLength(50);
    expect(audit.every((a) => a.after >= 0)).toBe(true);
    const oversells = await hub.ledger.listOversells({ sku: 'RUSH-1', limit: 1000 });
    expect(oversells).toHaveLength(150);
    expect(oversells.every((o) => o.shortfall === 1)).toBe(true);
  });

  it('applies every line of a multi-line order and records a line for an unknown SKU', async () => {
    await hub.publish({ id: 'multi:seed', type: 'stock.set', channel: 'manual', occurredAt: now(), lines: [{ sku: 'M-A', quantity: 5 }, { sku: 'M-B', quantity: 8 }] });
    await hub.publish({ id: 'web:order:M1:confirmed', type: 'order.confirmed', channel: 'web', occurredAt: now(), lines: [{ sku: 'M-A', qty: 2 }, { sku: 'M-B', qty: 3 }, { sku: 'M-NOPE', qty: 1 }] });
    await waitFor('the order', () => hub.ledger.isProcessed('web:order:M1:confirmed'));
    const levels = await hub.ledger.getLevels(['M-A', 'M-B', 'M-NOPE']);
    expect(levels.get('M-A')?.available).toBe(3);
    expect(levels.get('M-B')?.available).toBe(5);
    expect(levels.has('M-NOPE')).toBe(false);
    const rejected = await hub.ledger.listRejectedLines({ limit: 100 });
    expect(rejected).toEqual(expect.arrayContaining([expect.objectContaining({ eventId: 'web:order:M1:confirmed', sku: 'M-NOPE', reason: 'unknown_sku' })]));
    expect((await hub.metrics.unknownSkuLines.get()).values.find((v) => v.labels.channel === 'web')?.value).toBe(1);
  });

  it('brings every channel to the new quantity after an order', async () => {
    await hub.publish({ id: 'push:seed', type: 'stock.set', channel: 'manual', occurredAt: now(), lines: [{ sku: 'P-1', quantity: 9 }] });
    await hub.publish({ id: 'web:order:P1:confirmed', type: 'order.confirmed', channel: 'web', occurredAt: now(), lines: [{ sku: 'P-1', qty: 4 }] });
    await waitFor('both channels to show 5', () => setup.simulators.get('web')!.shown('P-1') === 5 && setup.simulators.get('market')!.shown('P-1') === 5);
    const lag = await hub.metrics.syncLag.get();
    expect(lag.values.some((v) => v.metricName === 'sync_lag_ms_count' && v.labels.channel === 'market' && v.value > 0)).toBe(true);
  });
});
