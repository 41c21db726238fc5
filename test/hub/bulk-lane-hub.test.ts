import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AmazonSimulator } from '../../connectors/amazon/simulator.ts';
import { fixturePlugin } from '../support/custom-hub.ts';
import { startSimulatedHub, type SimulatedHub } from '../support/simulated-hub.ts';
import { waitFor } from '../support/test-hub.ts';

/**
 * A restock of a thousand SKUs on Amazon (one SKU per call at 5 calls/s, about 3 minutes of calls) goes mostly
 * through the listings feed, while an order that sells a SKU down during the restock still reaches the channel:
 * a hub on the real NATS and PostgreSQL, Amazon's connector against its simulator, which judges each feed
 * against Amazon's feed schema.
 */
const SKUS = Array.from({ length: 1_000 }, (_, i) => `FEED-${String(i).padStart(4, '0')}`);
const RESTOCK = 40;

describe('bulk lane in a running hub (Amazon listings feed)', () => {
  let env: SimulatedHub;
  let sim: AmazonSimulator;

  beforeAll(async () => {
    env = await startSimulatedHub({
      channels: [{ id: 'amazon-main', connector: fixturePlugin('amazon-quick-feed.ts') }],
      skus: Object.fromEntries(SKUS.map((sku) => [sku, 0])),
    });
    sim = env.simulator('amazon-main') as unknown as AmazonSimulator;
  }, 120_000);
  afterAll(async () => {
    await env?.stop();
  });

  it('shows every restocked quantity on Amazon, most of them by feed, and no SKU is left behind or dead-lettered', async () => {
    for (let i = 0; i < SKUS.length; i += 250) {
      const lines = SKUS.slice(i, i + 250).map((sku) => ({ sku, quantity: RESTOCK }));
      await env.hub.publish({ id: `restock-${i}`, type: 'stock.set', channel: 'manual', occurredAt: new Date().toISOString(), lines });
    }
    const sold = SKUS[SKUS.length - 1]!;
    await waitFor('the restock in the ledger', async () => (await env.hub.ledger.getLevels([sold])).get(sold)?.available === RESTOCK);
    // A sale during the restock: the newer quantity must win on the channel, whichever lane carried the older one.
    await env.hub.publish({ id: 'order-during-restock', type: 'order.confirmed', channel: 'manual', occurredAt: new Date().toISOString(), lines: [{ sku: sold, qty: 3 }] });

    await waitFor('Amazon to show every quantity', () => SKUS.every((sku) => sim.shown(sku) === (sku === sold ? RESTOCK - 3 : RESTOCK)), 150_000);
    const feeds = sim.feedUploads().map((doc) => JSON.parse(doc) as { messages: Array<{ sku: string }> });
    const byFeed = new Set(feeds.flatMap((f) => f.messages.map((m) => m.sku)));
    expect(feeds.length).toBeGreaterThan(0);
    // Per SKU, the restock would have needed over three minutes of calls; the feed carried most of it.
    expect(byFeed.size).toBeGreaterThan(SKUS.length / 2);
    const metrics = await (await fetch(`${env.hub.url}/metrics`)).text();
    expect(metrics).toMatch(/channel_bulk_jobs_total\{channel="amazon-main",outcome="answered"\} [1-9]/);
    expect(metrics).not.toMatch(/dead_letters_total\{kind="push"[^}]*\} [1-9]/);
  }, 200_000);
});
