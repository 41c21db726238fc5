import { readFileSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import ebay from '../../connectors/ebay/index.ts';
import { startEbaySimulator, type EbaySimulator } from '../../connectors/ebay/simulator.ts';
import { parseEvent } from '../../core/events/validate-event.ts';
import { Ledger } from '../../core/ledger/ledger.ts';
import { memoryConnectorState } from '../../core/plugins/memory-connector-state.ts';
import type { ConnectorInstance, InventoryEvent, Logger, WebhookRequest } from '../../core/sdk.ts';
import { postgresBackend, type LedgerBackend } from '../ledger-support/ledger-backends.ts';
import { uniqueSuffix } from '../support/servers.ts';
import { startWebhookReceiver } from '../support/webhook-receiver.ts';
import { readCatchUpPass } from '../support/catch-up-pass.ts';

/**
 * eBay orders through the connector into the ledger. Orders are eBay's Fulfillment `Order` (the template checked
 * against eBay's sell fulfillment contract), notifications eBay's ORDER_CONFIRMATION shape, signed as eBay signs.
 * eBay's Order carries whole-order cancellation (`cancelStatus`) and line refunds as amounts only.
 */
const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {} };
const signal = new AbortController().signal;
const notificationExample = readFileSync(new URL('../fixtures/vendor/ebay/order-confirmation.notification.json', import.meta.url), 'utf8');

// The real PostgreSQL only: the ledger's own specification covers PGlite, and one backend keeps this quick on a busy machine.
describe.each([postgresBackend()])('ebay order lifecycle into the ledger on $name', (backend: LedgerBackend) => {
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

  async function seller() {
    const [a, b] = [`A-${uniqueSuffix()}`, `B-${uniqueSuffix()}`];
    const sim: EbaySimulator = await startEbaySimulator({ latency: { p50: 0, p99: 0 }, skus: { [a]: 10, [b]: 10 }, rateLimit: { perSecond: 1000, burst: 1000 } });
    cleanup.push(sim.close);
    const channelId = `ebay-${uniqueSuffix()}`;
    const connector: ConnectorInstance = await ebay.create(sim.connectorOptions([a, b]), { channelId, logger: quiet, signal, state: memoryConnectorState(), registerSecret: () => {} });
    cleanup.push(async () => connector.close?.());
    const receiver = await startWebhookReceiver(sim, connector, signal);
    cleanup.push(receiver.close);
    await ledger.applyBatch([{ id: `set:${uniqueSuffix()}`, type: 'stock.set', channel: 'manual', occurredAt: new Date().toISOString(), lines: [a, b].map((sku) => ({ sku, quantity: 10 })) }]);
    const stock = async () => [(await ledger.getLevel(a))?.available, (await ledger.getLevel(b))?.available];
    const catchUp = async (): Promise<InventoryEvent[]> => (await readCatchUpPass(connector, undefined, signal)).events;
    const apply = async (events: InventoryEvent[]) => {
      for (const event of events) expect(parseEvent(JSON.stringify(event), event.type)).toMatchObject({ ok: true });
      await ledger.applyBatch(events);
    };
    /** eBay's example ORDER_CONFIRMATION for this order, signed, through the connector. */
    const notify = async (orderId: string): Promise<InventoryEvent[]> => {
      const notification = JSON.parse(notificationExample) as { notification: { data: { order: { orderId: string } } } };
      notification.notification.data.order.orderId = orderId;
      const rawBody = Buffer.from(JSON.stringify(notification));
      const req: WebhookRequest = { rawBody, headers: sim.signWebhook!(rawBody), path: '', query: {} };
      return (await connector.handleWebhook!(req, signal)).events;
    };
    const delivered = () => receiver.events.splice(0);
    return { sim, a, b, stock, catchUp, apply, notify, delivered };
  }

  it('an order found by its notifications and by the catch-up is taken once', async () => {
    const s = await seller();
    await s.sim.placeOrder!([{ sku: s.a, qty: 2 }, { sku: s.b, qty: 1 }]);
    await s.apply(s.delivered());
    await s.apply(await s.catchUp());
    expect(await s.stock()).toEqual([8, 9]);
  });

  it('an order whose notification was lost for good reaches the ledger through the catch-up', async () => {
    const s = await seller();
    await s.sim.placeOrder!([{ sku: s.b, qty: 4 }], { drop: true });
    expect(s.delivered()).toEqual([]);
    await s.apply(await s.catchUp());
    expect(await s.stock()).toEqual([10, 6]);
  });

  it('cancel before confirm: an order cancelled before it was read restocks nothing it never took, in either order', async () => {
    const s = await seller();
    const { orderId } = await s.sim.placeOrder!([{ sku: s.a, qty: 3 }], { drop: true });
    s.sim.cancelOrder(orderId);
    const events = await s.notify(orderId);
    expect(events.map((e) => e.type)).toEqual(['order.confirmed', 'order.cancelled']);
    await s.apply(events.filter((e) => e.type === 'order.cancelled'));
    expect(await s.stock()).toEqual([10, 10]);
    await s.apply(events.filter((e) => e.type === 'order.confirmed'));
    await s.apply(await s.catchUp());
    expect(await s.stock()).toEqual([10, 10]);
  });

  it('a cancellation after the confirmation, found by the catch-up, restores what the order took, once', async () => {
    const s = await seller();
    const { orderId } = await s.sim.placeOrder!([{ sku: s.a, qty: 3 }, { sku: s.b, qty: 2 }]);
    await s.apply(s.delivered());
    expect(await s.stock()).toEqual([7, 8]);
    s.sim.cancelOrder(orderId);
    await s.apply(await s.catchUp());
    await s.apply(await s.catchUp());
    expect(await s.stock()).toEqual([10, 10]);
  });

  it('a line refund carries an amount, no units and no restock information: the units stay taken', async () => {
    const s = await seller();
    const { orderId } = await s.sim.placeOrder!([{ sku: s.a, qty: 2 }]);
    await s.apply(s.delivered());
    s.sim.refundLine(orderId, s.a);
    const events = await s.catchUp();
    expect(events.map((e) => e.type)).toEqual(['order.confirmed']);
    await s.apply(events);
    expect(await s.stock()).toEqual([8, 10]);
  });
});
