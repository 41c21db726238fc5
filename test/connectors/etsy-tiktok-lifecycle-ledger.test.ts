import { readFileSync } from 'node:fs';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import etsy from '../../connectors/etsy/index.ts';
import type { EtsyOptions } from '../../connectors/etsy/options.ts';
import type { EtsySimulator } from '../../connectors/etsy/simulator.ts';
import tiktok from '../../connectors/tiktok/index.ts';
import type { TiktokOptions } from '../../connectors/tiktok/options.ts';
import type { TiktokSimulator } from '../../connectors/tiktok/simulator.ts';
import { parseEvent } from '../../core/events/validate-event.ts';
import { memoryConnectorState } from '../../core/plugins/memory-connector-state.ts';
import type { ConnectorInstance, InventoryEvent } from '../../core/sdk.ts';
import { loadOpenApiContract } from '../support/openapi-contract.ts';
import { startSimulatedHub, type SimulatedHub } from '../support/simulated-hub.ts';
import { waitFor } from '../support/test-hub.ts';

/*
 * The order lifecycle of Etsy and TikTok Shop, end to end through the real hub (NATS JetStream, PostgreSQL):
 * webhooks built from the vendors' own examples (test/fixtures/vendor/<channel>/SOURCE) go to the hub's webhook
 * route, and what the orders poll (listOrders) finds is published as the hub's catch-up publishes it.
 */
const ETSY_ORDER_PAID = readFileSync(new URL('../fixtures/vendor/etsy/webhook-order-paid.json', import.meta.url), 'utf8');
const TIKTOK_STATUS_CHANGE = readFileSync(new URL('../fixtures/vendor/tiktok/order-status-change.webhook.json', import.meta.url), 'utf8');
const etsyOas = loadOpenApiContract(new URL('../fixtures/vendor/etsy/openapi-3.0.0.trimmed.json', import.meta.url));
const START = 10;
const silent = { debug() {}, info() {}, warn() {}, error() {} };
const signal = new AbortController().signal;

describe('Etsy and TikTok order lifecycle into the ledger, through the hub', () => {
  let env: SimulatedHub;
  let etsyPoll: ConnectorInstance;
  let tiktokPoll: ConnectorInstance;
  let n = 0;
  /** A SKU of its own per case, seeded with START on the ledger. */
  const freshSku = async (prefix: string): Promise<string> => {
    const sku = `${prefix}-${++n}`;
    await env.hub.publish({ id: `seed:${sku}`, type: 'stock.set', channel: 'manual', occurredAt: new Date().toISOString(), lines: [{ sku, quantity: START }] });
    await waitFor(`${sku} seeded`, async () => (await env.hub.ledger.getLevel(sku))?.available === START);
    return sku;
  };
  const stockOf = async (sku: string) => (await env.hub.ledger.getLevel(sku))?.available;
  const etsySim = () => env.simulator('etsy-main') as unknown as EtsySimulator;
  const tiktokSim = () => env.simulator('tiktok-main') as unknown as TiktokSimulator;
  const optionsOf = <T>(id: string): T => env.simulated.loaded.config.channels.find((c) => c.id === id)!.options as T;

  /** Publishes `events` as the hub's catch-up does, after checking each against the event schema, and waits until they are applied. */
  async function publish(events: InventoryEvent[]): Promise<void> {
    for (const event of events) {
      expect(parseEvent(JSON.stringify(event), event.type)).toMatchObject({ ok: true });
      await env.hub.publish(event);
    }
    await waitFor('events applied', async () => (await Promise.all(events.map((e) => env.hub.ledger.isProcessed(e.id)))).every(Boolean));
  }
  /** Every order event one full pass of the orders poll finds for `orderId`. */
  async function poll(connector: ConnectorInstance, orderId: string): Promise<InventoryEvent[]> {
    const events: InventoryEvent[] = [];
    let cursor: string | undefined;
    for (;;) {
      const page = await connector.listOrders!(cursor, signal);
      events.push(...page.events.filter((e) => (e as { orderId?: string }).orderId === orderId));
      cursor = page.cursor;
      if (!page.more) return events;
    }
  }
  /** Delivers a signed webhook body to the hub's route, as the channel does. */
  async function webhook(channel: string, sim: { signWebhook?(raw: Buffer): Record<string, string> }, body: string): Promise<void> {
    const rawBody = Buffer.from(body);
    const res = await request(`${env.hub.url}/webhooks/${channel}`, { method: 'POST', headers: sim.signWebhook!(rawBody), body: rawBody });
    await res.body.dump();
    expect(res.statusCode).toBeLessThan(300);
  }
  const etsyWebhook = (receiptId: string) =>
    webhook('etsy-main', etsySim(), ETSY_ORDER_PAID.replace(/"resource_url": "[^"]+"/, `"resource_url": "https://openapi.etsy.com/v3/application/shops/${etsySim().shopId}/receipts/${receiptId}"`).replace(/"shop_id": \d+/, `"shop_id": ${etsySim().shopId}`));
  const tiktokWebhook = (orderId: string, status: string) =>
    webhook('tiktok-main', tiktokSim(), TIKTOK_STATUS_CHANGE.replace('"576684019603311365"', `"${orderId}"`).replace('"AWAITING_SHIPMENT"', `"${status}"`));

  beforeAll(async () => {
    env = await startSimulatedHub({ channels: [{ id: 'etsy-main', connector: 'etsy' }, { id: 'tiktok-main', connector: 'tiktok' }], skus: {} });
    // Pollers of the same channels. Etsy rotates refresh tokens, so this one presents the hub's first access token only.
    const { refreshToken: _rotating, ...etsyOptions } = optionsOf<EtsyOptions>('etsy-main');
    etsyPoll = await etsy.create({ ...etsyOptions, listings: {} }, { channelId: 'etsy-main', logger: silent, signal, state: memoryConnectorState(), registerSecret() {} });
    tiktokPoll = await tiktok.create({ ...optionsOf<TiktokOptions>('tiktok-main'), skus: {} }, { channelId: 'tiktok-main', logger: silent, signal, state: memoryConnectorState(), registerSecret() {} });
  }, 60_000);
  afterAll(async () => {
    await etsyPoll?.close?.();
    await tiktokPoll?.close?.();
    await env?.stop();
  });

  describe('Etsy', () => {
    it('a lost order.paid webhook: the poll finds the receipt and the ledger takes it once, though the webhook comes after all', async () => {
      const sku = await freshSku('ETSY-LOST');
      const { orderId } = await etsySim().placeOrder!([{ sku, qty: 2 }], { drop: true });
      await publish(await poll(etsyPoll, orderId));
      expect(await stockOf(sku)).toBe(START - 2);
      await etsyWebhook(orderId);
      await publish(await poll(etsyPoll, orderId));
      expect(await stockOf(sku)).toBe(START - 2);
    });

    it('cancel before confirm: the cancelled receipt restocks nothing, and the late confirmation nets to zero', async () => {
      const sku = await freshSku('ETSY-CBC');
      const { orderId } = await etsySim().recordOrder([{ sku, qty: 3 }]);
      // The confirmation the poll read while the receipt was paid, held up on its way to the ledger.
      const paid = await poll(etsyPoll, orderId);
      expect(paid.map((e) => e.type)).toEqual(['order.confirmed']);
      etsySim().cancelReceipt(Number(orderId));
      await etsyWebhook(orderId);
      await waitFor('cancellation applied', () => env.hub.ledger.isProcessed(`etsy-main:order:${orderId}:cancelled`));
      expect(await stockOf(sku)).toBe(START);
      await publish(paid);
      await publish(await poll(etsyPoll, orderId));
      expect(await stockOf(sku)).toBe(START);
    });

    it('a full refund gives the receipt\'s units back once; a partial refund, which names no units, changes nothing', async () => {
      const full = await freshSku('ETSY-FULL');
      const part = await freshSku('ETSY-PART');
      const a = await etsySim().placeOrder!([{ sku: full, qty: 2 }], { drop: true });
      const b = await etsySim().placeOrder!([{ sku: part, qty: 2 }], { drop: true });
      await publish([...(await poll(etsyPoll, a.orderId)), ...(await poll(etsyPoll, b.orderId))]);
      etsySim().refundReceipt(Number(a.orderId), true);
      etsySim().refundReceipt(Number(b.orderId), false);
      expect(etsyOas.checkResponse('GET', `/v3/application/shops/${etsySim().shopId}/receipts/${a.orderId}`, 200, etsySim().receipt(Number(a.orderId)))).toEqual([]);
      await publish([...(await poll(etsyPoll, a.orderId)), ...(await poll(etsyPoll, b.orderId))]);
      await publish(await poll(etsyPoll, a.orderId));
      expect([await stockOf(full), await stockOf(part)]).toEqual([START, START - 2]);
    });
  });

  describe('TikTok Shop', () => {
    it('a lost ORDER_STATUS_CHANGE: the poll finds the order and the ledger takes it once, though the webhook comes after all', async () => {
      const sku = await freshSku('TT-LOST');
      const { orderId } = await tiktokSim().placeOrder!([{ sku, qty: 2 }], { drop: true });
      await publish(await poll(tiktokPoll, orderId));
      expect(await stockOf(sku)).toBe(START - 2);
      await tiktokWebhook(orderId, 'AWAITING_SHIPMENT');
      await publish(await poll(tiktokPoll, orderId));
      expect(await stockOf(sku)).toBe(START - 2);
    });

    it('cancel before confirm: the CANCELLED notification restocks nothing, and the late confirmation nets to zero', async () => {
      const sku = await freshSku('TT-CBC');
      const { orderId } = await tiktokSim().placeOrder!([{ sku, qty: 3 }], { drop: true });
      const confirmation = await poll(tiktokPoll, orderId);
      tiktokSim().cancelOrder(orderId);
      await tiktokWebhook(orderId, 'CANCELLED');
      await waitFor('cancellation applied', () => env.hub.ledger.isProcessed(`tiktok-main:order:${orderId}:cancelled`));
      expect(await stockOf(sku)).toBe(START);
      await publish(confirmation);
      expect(await stockOf(sku)).toBe(START);
    });

    it('a unit cancelled on its own comes back alone; the whole order cancelled later brings back only the rest', async () => {
      const sku = await freshSku('TT-PART');
      const { orderId } = await tiktokSim().placeOrder!([{ sku, qty: 3 }]);
      await waitFor('order applied', async () => (await stockOf(sku)) === START - 3);
      tiktokSim().cancelUnits(orderId, sku, 1);
      await publish(await poll(tiktokPoll, orderId));
      expect(await stockOf(sku)).toBe(START - 2);
      await publish(await poll(tiktokPoll, orderId));
      expect(await stockOf(sku)).toBe(START - 2);
      tiktokSim().cancelOrder(orderId);
      await tiktokWebhook(orderId, 'CANCELLED');
      await publish(await poll(tiktokPoll, orderId));
      expect(await stockOf(sku)).toBe(START);
    });

    it('a cancelled unit that was oversold restocks nothing', async () => {
      const sku = await freshSku('TT-OVER');
      await env.hub.publish({ id: `zero:${sku}`, type: 'stock.set', channel: 'manual', occurredAt: new Date().toISOString(), lines: [{ sku, quantity: 1 }] });
      await waitFor('set to 1', async () => (await stockOf(sku)) === 1);
      const { orderId } = await tiktokSim().placeOrder!([{ sku, qty: 2 }], { drop: true });
      await publish(await poll(tiktokPoll, orderId));
      expect(await stockOf(sku)).toBe(0);
      tiktokSim().cancelUnits(orderId, sku, 1);
      await publish(await poll(tiktokPoll, orderId));
      expect(await stockOf(sku)).toBe(0);
    });
  });
});
