import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import shopify from '../../connectors/shopify/index.ts';
import { startShopifySimulator } from '../../connectors/shopify/simulator.ts';
import { parseEvent } from '../../core/events/validate-event.ts';
import { Ledger } from '../../core/ledger/ledger.ts';
import { memoryConnectorState } from '../../core/plugins/memory-connector-state.ts';
import type { InventoryEvent, Logger } from '../../core/sdk.ts';
import { postgresBackend, type LedgerBackend } from '../ledger-support/ledger-backends.ts';
import { uniqueSuffix } from '../support/servers.ts';

// The simulator builds its webhooks and records from Shopify's published Order and Refund examples; here every
// webhook is lost and the orders API alone brings the lifecycle into the ledger.
const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {} };
const noSignal = (): AbortSignal => new AbortController().signal;

describe('shopify orders whose webhooks were all lost reach the ledger through listOrders', () => {
  const backend: LedgerBackend = postgresBackend();
  let ledger: Ledger;
  beforeAll(async () => {
    await backend.setUp();
    ledger = new Ledger(backend.primary().db);
  });
  afterAll(() => backend.tearDown());

  it('an order, a line-level cancellation, returns with and without restock and a cancellation end at the right quantity, each counted once', async () => {
    const [a, b] = [`SHP-A-${uniqueSuffix()}`, `SHP-B-${uniqueSuffix()}`];
    const sim = await startShopifySimulator({ latency: { p50: 0, p99: 0 }, skus: { [a]: 100, [b]: 100 } });
    const connector = await shopify.create(sim.connectorOptions([a, b]), { channelId: `shopify-${uniqueSuffix()}`, logger: quiet, signal: noSignal(), state: memoryConnectorState(), registerSecret: () => {} });
    try {
      await ledger.applyBatch([{ id: `set:${uniqueSuffix()}`, type: 'stock.set', channel: 'manual', occurredAt: new Date().toISOString(), lines: [{ sku: a, quantity: 20 }, { sku: b, quantity: 20 }] }]);
      // Order 1: 5 of A, 2 of B; 1 A cancelled before fulfilment, 2 A returned and restocked, 1 B refunded without restock.
      const first = await sim.placeOrder!([{ sku: a, qty: 5 }, { sku: b, qty: 2 }], { drop: true });
      await sim.refundOrder(first.orderId, [{ sku: a, qty: 1, restockType: 'cancel' }], { drop: true });
      await sim.refundOrder(first.orderId, [{ sku: a, qty: 2, restockType: 'return' }, { sku: b, qty: 1, restockType: 'no_restock' }], { drop: true });
      // Order 2: 3 of B, cancelled.
      const second = await sim.placeOrder!([{ sku: b, qty: 3 }], { drop: true });
      await sim.cancelOrder(second.orderId, { drop: true });
      expect(sim.sentWebhooks()).toEqual([]);

      let cursor: string | undefined;
      // Two passes: the second re-reads the overlap, which must count nothing again.
      for (let pass = 0; pass < 2; pass++) {
        for (;;) {
          const page = await connector.listOrders!(cursor, noSignal());
          const events: InventoryEvent[] = page.events;
          for (const event of events) expect(parseEvent(JSON.stringify(event), event.type)).toMatchObject({ ok: true });
          if (events.length > 0) await ledger.applyBatch(events);
          cursor = page.cursor;
          if (!page.more) break;
        }
      }
      expect((await ledger.getLevel(a))?.available).toBe(20 - 5 + 1 + 2);
      expect((await ledger.getLevel(b))?.available).toBe(20 - 2);
    } finally {
      await connector.close?.();
      await sim.close();
    }
  });
});
