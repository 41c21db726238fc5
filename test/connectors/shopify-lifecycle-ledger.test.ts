import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import shopify from '../../connectors/shopify/index.ts';
import { hmacSha256 } from '../../connectors/_kit/signatures.ts';
import { parseEvent } from '../../core/events/validate-event.ts';
import { Ledger } from '../../core/ledger/ledger.ts';
import { memoryConnectorState } from '../../core/plugins/memory-connector-state.ts';
import type { InventoryEvent, Logger } from '../../core/sdk.ts';
import { pgliteBackend, postgresBackend, type LedgerBackend } from '../ledger-support/ledger-backends.ts';
import { uniqueSuffix } from '../support/servers.ts';

// Shopify's own example bodies (test/fixtures/vendor/shopify/SOURCE) go through the connector into the ledger.
// The example refund says restock_type "no_restock"; the other cases set that same field to the other values
// Shopify documents for it ("return", "cancel"), changing nothing else.
const fixture = (name: string): string => readFileSync(new URL(`../fixtures/vendor/shopify/${name}`, import.meta.url), 'utf8');
const orderCancelled = fixture('order-cancelled.json');
const refundCreate = fixture('refund-create.json');
const withRestockType = (type: string): string => refundCreate.replace('"restock_type": "no_restock"', `"restock_type": "${type}"`);
const [GREEN, RED, BLACK] = ['IPOD2008GREEN', 'IPOD2008RED', 'IPOD2008BLACK'];
const SECRET = 'shopify-app-secret';
const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {} };

describe.each([postgresBackend(), pgliteBackend()])('shopify order lifecycle into the ledger on $name', (backend: LedgerBackend) => {
  let ledger: Ledger;
  beforeAll(async () => {
    await backend.setUp();
    ledger = new Ledger(backend.primary().db);
  });
  afterAll(() => backend.tearDown());

  /** The events the connector of a fresh channel makes of one signed delivery. */
  async function deliver(channelId: string, body: string, topic: string): Promise<InventoryEvent[]> {
    const instance = await shopify.create(
      { baseUrl: 'http://127.0.0.1:9', accessToken: 'shpat_unused', locationId: '655441491', skus: {}, webhookSecret: SECRET },
      { channelId, logger: quiet, signal: new AbortController().signal, state: memoryConnectorState(), registerSecret: () => {} },
    );
    const headers = { 'content-type': 'application/json', 'x-shopify-topic': topic, 'x-shopify-hmac-sha256': hmacSha256(SECRET, body, 'base64') };
    const { events } = await instance.handleWebhook!({ rawBody: Buffer.from(body), headers, path: '', query: {} }, new AbortController().signal);
    for (const event of events) expect(parseEvent(JSON.stringify(event), event.type)).toMatchObject({ ok: true });
    return events;
  }
  const channel = () => `shopify-${uniqueSuffix()}`;
  const stockOf = async (sku: string) => (await ledger.getLevel(sku))?.available;
  const set = (quantity: number) =>
    ledger.applyBatch([{ id: `set:${uniqueSuffix()}`, type: 'stock.set', channel: 'manual', occurredAt: new Date().toISOString(), lines: [GREEN, RED, BLACK].map((sku) => ({ sku, quantity })) }]);
  const confirmation = (events: InventoryEvent[]) => events.filter((e) => e.type === 'order.confirmed');

  it('cancel before confirm: the cancellation restocks nothing and the confirmation then nets to zero', async () => {
    const ch = channel();
    await set(10);
    const [confirmed, cancelled] = await deliver(ch, orderCancelled, 'orders/cancelled');
    await ledger.applyBatch([cancelled!]);
    expect(await stockOf(RED)).toBe(10);
    await ledger.applyBatch([confirmed!]);
    await ledger.applyBatch([cancelled!, confirmed!]);
    expect([await stockOf(GREEN), await stockOf(RED), await stockOf(BLACK)]).toEqual([10, 10, 10]);
  });

  it('a refund without restock (the example refund) leaves the line taken', async () => {
    const ch = channel();
    await set(10);
    await ledger.applyBatch(confirmation(await deliver(ch, orderCancelled, 'orders/create')));
    await ledger.applyBatch(await deliver(ch, refundCreate, 'refunds/create'));
    expect(await stockOf(RED)).toBe(9);
  });

  it('a refund with restock_type return puts the returned unit back, once', async () => {
    const ch = channel();
    await set(10);
    await ledger.applyBatch(confirmation(await deliver(ch, orderCancelled, 'orders/create')));
    const refund = await deliver(ch, withRestockType('return'), 'refunds/create');
    expect(refund.map((e) => e.type)).toEqual(['order.returned']);
    await ledger.applyBatch(refund);
    await ledger.applyBatch(refund);
    expect([await stockOf(GREEN), await stockOf(RED), await stockOf(BLACK)]).toEqual([9, 10, 9]);
  });

  it('a refund with restock_type cancel is a line-level cancellation: only that line comes back', async () => {
    const ch = channel();
    await set(10);
    await ledger.applyBatch(confirmation(await deliver(ch, orderCancelled, 'orders/create')));
    const refund = await deliver(ch, withRestockType('cancel'), 'refunds/create');
    expect(refund.map((e) => e.type)).toEqual(['order.cancelled']);
    await ledger.applyBatch(refund);
    expect([await stockOf(GREEN), await stockOf(RED), await stockOf(BLACK)]).toEqual([9, 10, 9]);
  });

  it('a cancelled unit that was oversold restocks nothing', async () => {
    const ch = channel();
    await set(0);
    const [outcome] = await ledger.applyBatch(confirmation(await deliver(ch, orderCancelled, 'orders/create')));
    expect(outcome!.oversells.map((o) => o.sku).sort()).toEqual([BLACK, GREEN, RED].sort());
    await ledger.applyBatch(await deliver(ch, withRestockType('cancel'), 'refunds/create'));
    await ledger.applyBatch(await deliver(ch, withRestockType('return'), 'refunds/create'));
    expect(await stockOf(RED)).toBe(0);
  });

  it('the order cancelled after a restocking refund restores each unit once', async () => {
    const ch = channel();
    await set(10);
    const [confirmed, cancelled] = await deliver(ch, orderCancelled, 'orders/cancelled');
    await ledger.applyBatch([confirmed!]);
    await ledger.applyBatch(await deliver(ch, withRestockType('return'), 'refunds/create'));
    await ledger.applyBatch([cancelled!]);
    expect([await stockOf(GREEN), await stockOf(RED), await stockOf(BLACK)]).toEqual([10, 10, 10]);
  });
});
