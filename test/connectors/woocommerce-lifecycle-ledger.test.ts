import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import woocommerce from '../../connectors/woocommerce/index.ts';
import { startWooCommerceSimulator, type WooCommerceSimulator } from '../../connectors/woocommerce/simulator.ts';
import { wooWebhookSignature } from '../../connectors/woocommerce/webhook-signature.ts';
import { startWebhookSink, type WebhookSink } from '../../connectors/_kit/webhook-sink.ts';
import { parseEvent } from '../../core/events/validate-event.ts';
import { Ledger } from '../../core/ledger/ledger.ts';
import { memoryConnectorState } from '../../core/plugins/memory-connector-state.ts';
import type { ConnectorInstance, InventoryEvent, Logger } from '../../core/sdk.ts';
import { postgresBackend, type LedgerBackend } from '../ledger-support/ledger-backends.ts';
import { uniqueSuffix } from '../support/servers.ts';

// WooCommerce's own example order (test/fixtures/vendor/woocommerce/SOURCE) and the simulator's orders and
// refunds, built from the reference's example order and refund, go through the connector into the ledger.
const orderExample = JSON.parse(readFileSync(new URL('../fixtures/vendor/woocommerce/order-example.json', import.meta.url), 'utf8')) as Record<string, unknown>;
const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {} };
const noSignal = (): AbortSignal => new AbortController().signal;
const fast = { latency: { p50: 0, p99: 0 } };

describe('woocommerce order lifecycle into the ledger on postgres', () => {
  const backend: LedgerBackend = postgresBackend();
  let ledger: Ledger;
  beforeAll(async () => {
    await backend.setUp();
    ledger = new Ledger(backend.primary().db);
  });
  afterAll(() => backend.tearDown());

  const stockOf = async (sku: string) => (await ledger.getLevel(sku))?.available;
  const set = (sku: string, quantity: number) => ledger.applyBatch([{ id: `set:${uniqueSuffix()}`, type: 'stock.set', channel: 'manual', occurredAt: new Date().toISOString(), lines: [{ sku, quantity }] }]);
  const apply = async (events: InventoryEvent[]) => {
    for (const event of events) expect(parseEvent(JSON.stringify(event), event.type)).toMatchObject({ ok: true });
    if (events.length > 0) await ledger.applyBatch(events);
  };

  /** A store with one SKU, a connector (restocking refunds or not) and a sink standing in for the hub's ingress. */
  async function store(sku: string, restockRefunds = true): Promise<{ sim: WooCommerceSimulator; connector: ConnectorInstance; sink: WebhookSink; applyNew(): Promise<void>; close(): Promise<void> }> {
    const sim = await startWooCommerceSimulator({ ...fast, skus: { [sku]: 100 } });
    const connector = await woocommerce.create({ ...sim.connectorOptions([sku]), restockRefunds }, { channelId: `woo-${uniqueSuffix()}`, logger: quiet, signal: noSignal(), state: memoryConnectorState(), registerSecret: () => {} });
    const sink = await startWebhookSink((req) => connector.handleWebhook!(req, noSignal()));
    sim.setWebhookTarget!(sink.url);
    let applied = 0;
    return {
      sim,
      connector,
      sink,
      async applyNew() {
        const fresh = sink.deliveries.slice(applied);
        applied = sink.deliveries.length;
        for (const delivery of fresh) await apply(delivery.events);
      },
      async close() {
        await sink.close();
        await connector.close?.();
        await sim.close();
      },
    };
  }

  it('cancel before confirm (the example order, cancelled): the cancellation restocks nothing and the confirmation then nets to zero', async () => {
    const connector = await woocommerce.create(
      { baseUrl: 'http://127.0.0.1:9', consumerKey: 'ck_unused', consumerSecret: 'cs_unused', skus: {}, webhookSecret: 'woo-secret' },
      { channelId: `woo-${uniqueSuffix()}`, logger: quiet, signal: noSignal(), state: memoryConnectorState(), registerSecret: () => {} },
    );
    const body = JSON.stringify({ ...orderExample, status: 'cancelled' });
    const headers = { 'content-type': 'application/json', 'x-wc-webhook-topic': 'order.updated', 'x-wc-webhook-signature': wooWebhookSignature('woo-secret', body) };
    const [confirmed, cancelled] = (await connector.handleWebhook!({ rawBody: Buffer.from(body), headers, path: '', query: {} }, noSignal())).events;
    expect([confirmed?.type, cancelled?.type]).toEqual(['order.confirmed', 'order.cancelled']);
    // The example's line with a SKU is Bar3.
    await set('Bar3', 10);
    await apply([cancelled!]);
    expect(await stockOf('Bar3')).toBe(10);
    await apply([confirmed!]);
    await apply([cancelled!, confirmed!]);
    expect(await stockOf('Bar3')).toBe(10);
  });

  it('a partial refund with restock puts back only the refunded units, once', async () => {
    const sku = `WOO-${uniqueSuffix()}`;
    const s = await store(sku);
    try {
      await set(sku, 10);
      const { orderId } = await s.sim.placeOrder!([{ sku, qty: 3 }]);
      await s.sim.refundOrder(orderId, [{ sku, qty: 1 }]);
      await s.applyNew();
      expect(await stockOf(sku)).toBe(8);
      // A redelivery of the refunded order counts nothing again.
      await apply(s.sink.deliveries.at(-1)!.events);
      expect(await stockOf(sku)).toBe(8);
    } finally {
      await s.close();
    }
  });

  it('a refund without restock (restockRefunds false) leaves the units taken, even when the order becomes refunded', async () => {
    const sku = `WOO-${uniqueSuffix()}`;
    const s = await store(sku, false);
    try {
      await set(sku, 10);
      const { orderId } = await s.sim.placeOrder!([{ sku, qty: 3 }]);
      await s.sim.refundOrder(orderId, [{ sku, qty: 3 }], { restock: false });
      await s.applyNew();
      expect(await stockOf(sku)).toBe(7);
    } finally {
      await s.close();
    }
  });

  it('a cancellation after a restocking partial refund restores each unit once', async () => {
    const sku = `WOO-${uniqueSuffix()}`;
    const s = await store(sku);
    try {
      await set(sku, 10);
      const { orderId } = await s.sim.placeOrder!([{ sku, qty: 4 }]);
      await s.sim.refundOrder(orderId, [{ sku, qty: 1 }]);
      await s.sim.cancelOrder(orderId);
      await s.applyNew();
      expect(await stockOf(sku)).toBe(10);
    } finally {
      await s.close();
    }
  });

  it('an order, its refund and its cancellation whose webhooks were all lost reach the ledger through listOrders, exactly once', async () => {
    const sku = `WOO-${uniqueSuffix()}`;
    const s = await store(sku);
    try {
      await set(sku, 10);
      const kept = await s.sim.placeOrder!([{ sku, qty: 2 }], { drop: true });
      const cancelled = await s.sim.placeOrder!([{ sku, qty: 3 }], { drop: true });
      await s.sim.refundOrder(cancelled.orderId, [{ sku, qty: 1 }], { delivery: { drop: true } });
      await s.sim.cancelOrder(cancelled.orderId, { drop: true });
      expect(s.sink.deliveries).toEqual([]);
      let cursor: string | undefined;
      for (let pass = 0; pass < 2; pass++) {
        for (;;) {
          const page = await s.connector.listOrders!(cursor, noSignal());
          await apply(page.events);
          cursor = page.cursor;
          if (!page.more) break;
        }
      }
      expect(kept.orderId).not.toBe(cancelled.orderId);
      expect(await stockOf(sku)).toBe(8);
    } finally {
      await s.close();
    }
  });
});
