import { readFileSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import bigcommerce from '../../connectors/bigcommerce/index.ts';
import { startWebhookSink } from '../../connectors/_kit/webhook-sink.ts';
import { startBigCommerceSimulator, type BigCommerceSimulator } from '../../connectors/bigcommerce/simulator.ts';
import { parseEvent } from '../../core/events/validate-event.ts';
import { Ledger } from '../../core/ledger/ledger.ts';
import { memoryConnectorState } from '../../core/plugins/memory-connector-state.ts';
import type { ConnectorInstance, InventoryEvent, Logger } from '../../core/sdk.ts';
import { postgresBackend, type LedgerBackend } from '../ledger-support/ledger-backends.ts';
import { uniqueSuffix } from '../support/servers.ts';
import { readCatchUpPass } from '../support/catch-up-pass.ts';

/**
 * BigCommerce orders through the connector into the ledger. The simulator's orders are BigCommerce's example order
 * and order products (orders v2 document), its webhooks BigCommerce's example bodies, signed as BigCommerce signs;
 * the status ids are those of the document's status table (5 Cancelled, 4 Refunded, 14 Partially Refunded).
 * BigCommerce has no line-level cancellation and its refunds carry no restock information.
 */
const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {} };
const signal = new AbortController().signal;
const createdExample = readFileSync(new URL('../fixtures/vendor/bigcommerce/webhook-store_order_created.json', import.meta.url), 'utf8');

// The real PostgreSQL only: the ledger's own specification covers PGlite, and one backend keeps this quick on a busy machine.
describe.each([postgresBackend()])('bigcommerce order lifecycle into the ledger on $name', (backend: LedgerBackend) => {
  let ledger: Ledger;
  const cleanup: Array<() => Promise<void>> = [];
  beforeAll(async () => {
    await backend.setUp();
    ledger = new Ledger(backend.primary().db);
  });
  afterAll(() => backend.tearDown());
  afterEach(async () => {
    while (cleanup.length) await cleanup.pop()!();
  });

  /** A store with fresh hub SKUs, a connector for a fresh channel, and the hub's ledger at 10 for each SKU. */
  async function store() {
    const [boot, sock] = [`BOOT-${uniqueSuffix()}`, `SOCK-${uniqueSuffix()}`];
    const sim: BigCommerceSimulator = await startBigCommerceSimulator({ latency: { p50: 0, p99: 0 }, skus: { [boot]: 10, [sock]: 10 }, quota: 5000 });
    cleanup.push(sim.close);
    const channelId = `bc-${uniqueSuffix()}`;
    const connector: ConnectorInstance = await bigcommerce.create(sim.connectorOptions([boot, sock]), { channelId, logger: quiet, signal, state: memoryConnectorState(), registerSecret: () => {} });
    cleanup.push(async () => connector.close?.());
    const received: InventoryEvent[] = [];
    // The hub's ingress, reduced to what matters here: each signed delivery through handleWebhook.
    const sink = await startWebhookSink(async (req) => {
      const outcome = await connector.handleWebhook!(req, signal);
      received.push(...outcome.events);
      return outcome;
    });
    cleanup.push(sink.close);
    sim.setWebhookTarget!(sink.url);
    await ledger.applyBatch([{ id: `set:${uniqueSuffix()}`, type: 'stock.set', channel: 'manual', occurredAt: new Date().toISOString(), lines: [boot, sock].map((sku) => ({ sku, quantity: 10 })) }]);
    const stock = async () => [(await ledger.getLevel(boot))?.available, (await ledger.getLevel(sock))?.available];
    const catchUp = async (): Promise<InventoryEvent[]> => (await readCatchUpPass(connector, undefined, signal)).events;
    const apply = async (events: InventoryEvent[]) => {
      for (const event of events) expect(parseEvent(JSON.stringify(event), event.type)).toMatchObject({ ok: true });
      await ledger.applyBatch(events);
    };
    /** Takes and clears what the webhooks brought so far. */
    const delivered = () => received.splice(0);
    return { sim, connector, boot, sock, stock, catchUp, apply, delivered };
  }

  it('an order found by both its webhook and the catch-up is taken once', async () => {
    const s = await store();
    await s.sim.placeOrder!([{ sku: s.boot, qty: 2 }, { sku: s.sock, qty: 1 }]);
    await s.apply(s.delivered());
    await s.apply(await s.catchUp());
    await s.apply(await s.catchUp());
    expect(await s.stock()).toEqual([8, 9]);
  });

  it('an order whose webhook was lost for good reaches the ledger through the catch-up', async () => {
    const s = await store();
    await s.sim.placeOrder!([{ sku: s.boot, qty: 3 }], { drop: true });
    expect(s.delivered()).toEqual([]);
    await s.apply(await s.catchUp());
    expect(await s.stock()).toEqual([7, 10]);
  });

  it('cancel before confirm: cancelled before its confirmation was applied, the order nets to zero in either order', async () => {
    const s = await store();
    const { orderId } = await s.sim.placeOrder!([{ sku: s.boot, qty: 4 }], { drop: true });
    await s.sim.cancelOrder(orderId);
    const fromStatusWebhook = s.delivered();
    expect(fromStatusWebhook.map((e) => e.type)).toEqual(['order.confirmed', 'order.cancelled']);
    await s.apply(fromStatusWebhook.filter((e) => e.type === 'order.cancelled'));
    expect(await s.stock()).toEqual([10, 10]);
    await s.apply(fromStatusWebhook.filter((e) => e.type === 'order.confirmed'));
    await s.apply(await s.catchUp());
    expect(await s.stock()).toEqual([10, 10]);
  });

  it('a cancellation after the confirmation restores what the order took, once', async () => {
    const s = await store();
    const { orderId } = await s.sim.placeOrder!([{ sku: s.boot, qty: 4 }, { sku: s.sock, qty: 1 }]);
    await s.apply(s.delivered());
    expect(await s.stock()).toEqual([6, 9]);
    await s.sim.cancelOrder(orderId, { drop: true });
    await s.apply(await s.catchUp());
    await s.apply(await s.catchUp());
    expect(await s.stock()).toEqual([10, 10]);
  });

  it('a full refund (status Refunded) gives every unit back, as the store does', async () => {
    const s = await store();
    const { orderId } = await s.sim.placeOrder!([{ sku: s.boot, qty: 2 }, { sku: s.sock, qty: 2 }]);
    await s.apply(s.delivered());
    await s.sim.refundOrder(orderId, [{ sku: s.boot, qty: 2 }, { sku: s.sock, qty: 2 }]);
    await s.apply(s.delivered());
    expect(await s.stock()).toEqual([10, 10]);
    expect([s.sim.shown(s.boot), s.sim.shown(s.sock)]).toEqual([10, 10]);
  });

  it('a partial refund carries no restock information: the refunded units stay taken', async () => {
    const s = await store();
    const { orderId } = await s.sim.placeOrder!([{ sku: s.boot, qty: 2 }, { sku: s.sock, qty: 2 }]);
    await s.apply(s.delivered());
    await s.sim.refundOrder(orderId, [{ sku: s.boot, qty: 1 }]);
    const events = s.delivered();
    expect(events.map((e) => e.type)).toEqual(['order.confirmed']);
    await s.apply(events);
    await s.apply(await s.catchUp());
    expect(await s.stock()).toEqual([8, 8]);
  });

  it('a webhook that outruns its order is acknowledged, and the catch-up takes the order once it is readable', async () => {
    const s = await store();
    const { orderId: before } = await s.sim.recordOrder([{ sku: s.sock, qty: 1 }]);
    // The store numbers orders in sequence: the webhook names the next order before the API holds it.
    const next = String(Number(before) + 1);
    const body = JSON.stringify({ ...JSON.parse(createdExample), data: { type: 'order', id: Number(next) } });
    const early = await s.connector.handleWebhook!({ rawBody: Buffer.from(body), headers: s.sim.signWebhook!(Buffer.from(body)), path: '', query: {} }, signal);
    expect(early.events).toEqual([]);
    expect((await s.sim.recordOrder([{ sku: s.sock, qty: 5 }])).orderId).toBe(next);
    await s.apply(await s.catchUp());
    expect(await s.stock()).toEqual([10, 4]);
  });
});
