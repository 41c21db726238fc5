import { readFileSync } from 'node:fs';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulatedHub, type SimulatedHub } from '../support/simulated-hub.ts';
import { waitFor } from '../support/test-hub.ts';

// Shopify's published Order example (test/fixtures/vendor/shopify), its one line pointed at a hub SKU.
const example = JSON.parse(readFileSync(new URL('../fixtures/vendor/shopify/order-create.json', import.meta.url), 'utf8')) as Record<string, unknown> & {
  line_items: Array<Record<string, unknown>>;
};
const orderBody = (id: number, qty: number): string =>
  JSON.stringify({
    ...example,
    id,
    admin_graphql_api_id: `gid://shopify/Order/${id}`,
    created_at: new Date().toISOString(),
    line_items: [{ ...example.line_items[0], sku: 'RPL-1', variant_id: null, quantity: qty }],
  });

describe('a captured Shopify order delivery replayed under another topic, through the hub (W3)', () => {
  let env: SimulatedHub;
  beforeAll(async () => {
    env = await startSimulatedHub({ channels: [{ id: 'shopify-main', connector: 'shopify' }], skus: { 'RPL-1': 0 } });
  });
  afterAll(async () => env?.stop());

  const post = async (rawBody: string, topic: string): Promise<number> => {
    const headers = env.simulator('shopify-main').signWebhook!(Buffer.from(rawBody), { 'x-shopify-topic': topic });
    const res = await request(`${env.hub.url}/webhooks/shopify-main`, { method: 'POST', headers, body: rawBody });
    await res.body.dump();
    return res.statusCode;
  };
  const available = async (): Promise<number | undefined> => (await env.hub.ledger.getLevel('RPL-1'))?.available;

  it('takes the order once and restocks nothing when the same signed body comes back as orders/cancelled', async () => {
    await env.hub.publish({ id: 'rpl:seed', type: 'stock.set', channel: 'manual', occurredAt: new Date().toISOString(), lines: [{ sku: 'RPL-1', quantity: 10 }] });
    await waitFor('the seed to apply', async () => (await available()) === 10);
    const base = Date.now() % 1_000_000_000;
    const captured = orderBody(7_000_000_000 + base, 3);
    expect(await post(captured, 'orders/create')).toBe(200);
    await waitFor('the order to take 3', async () => (await available()) === 7);

    // The attacker's replay: the same signed body, the unsigned topic header changed.
    expect(await post(captured, 'orders/cancelled')).toBe(200);
    // A later genuine order is applied after the replay (same stream, published later): once it shows, the replay has been seen.
    expect(await post(orderBody(7_000_000_001 + base, 1), 'orders/create')).toBe(200);
    await waitFor('the later order to take 1 more', async () => (await available()) === 6);
    expect(await available()).toBe(6);
  });
});
