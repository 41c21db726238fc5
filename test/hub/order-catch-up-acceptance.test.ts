import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { startSimulatedHub, type SimulatedHub } from '../support/simulated-hub.ts';
import { waitFor } from '../support/test-hub.ts';

/**
 * With 10 % of order webhooks dropped for good by every simulator during a burst, the ledger ends exact
 * after catch-up, and no order is counted twice. One row per built-in connector.
 */
const CONNECTORS = ['sandbox', 'shopify', 'woocommerce', 'bigcommerce', 'ebay', 'amazon', 'walmart', 'etsy', 'tiktok'] as const;
const ORDERS = 50;
const START = 200;
const SKUS = ['CU-A', 'CU-B', 'CU-C', 'CU-D', 'CU-E'];

describe('orders whose webhooks are lost for good are caught up, each counted once', () => {
  let env: SimulatedHub | undefined;
  afterEach(async () => {
    await env?.stop();
    env = undefined;
  });

  for (const connector of CONNECTORS) {
    it(`${connector}: every 10th order of a burst dropped, the ledger ends exact`, async () => {
      const id = `${connector}-cu`;
      env = await startSimulatedHub({
        channels: [{ id, connector }],
        skus: Object.fromEntries(SKUS.map((sku) => [sku, START])),
        dispatch: { catchUpIntervalMs: 500 },
      });
      const { hub } = env;
      expect(typeof hub.connectors.get(id)!.instance.listOrders, `${connector} has no listOrders`).toBe('function');
      await hub.publish({ id: `cu-seed:${connector}`, type: 'stock.set', channel: 'manual', occurredAt: new Date().toISOString(), lines: SKUS.map((sku) => ({ sku, quantity: START })) });
      await waitFor('the seed to be applied', async () => (await hub.ledger.getLevels(SKUS)).size === SKUS.length);

      const sim = env.simulator(id);
      const sold = new Map<string, number>();
      const burst: Array<Promise<unknown>> = [];
      for (let i = 0; i < ORDERS; i++) {
        const sku = SKUS[i % SKUS.length]!;
        sold.set(sku, (sold.get(sku) ?? 0) + 1);
        burst.push(sim.placeOrder!([{ sku, qty: 1 }], i % 10 === 9 ? { drop: true } : {}));
        if (burst.length === 10) await Promise.all(burst.splice(0));
      }
      await Promise.all(burst);

      const exact = async (): Promise<boolean> => {
        const levels = await hub.ledger.getLevels(SKUS);
        return SKUS.every((sku) => levels.get(sku)?.available === START - (sold.get(sku) ?? 0));
      };
      await waitFor('the ledger to count every order', exact, 60_000, 200);
      // Catch-up keeps finding the same orders on later polls (its overlap): they still count once.
      const polls = await catchUpPolls(env, id);
      await waitFor('another catch-up poll', async () => (await catchUpPolls(env!, id)) >= polls + 1, 60_000, 200);
      expect(await exact()).toBe(true);
      const confirmed = await hub.database.db
        .selectFrom('processed_event')
        .select(sql<number>`count(*)::int`.as('n'))
        .where('event_id', 'like', `${id}:order:%:confirmed`)
        .executeTakeFirstOrThrow();
      expect(confirmed.n).toBe(ORDERS);
    }, 120_000);
  }
});

async function catchUpPolls(env: SimulatedHub, channel: string): Promise<number> {
  const metric = await env.hub.metrics.catchUpPolls.get();
  return metric.values.filter((v) => v.labels.channel === channel && v.labels.outcome === 'ok').reduce((sum, v) => sum + v.value, 0);
}
