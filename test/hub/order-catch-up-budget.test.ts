import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SandboxSimulator } from '../../connectors/sandbox/simulator.ts';
import type { Hub } from '../../core/hub.ts';
import { setupTestHub, startHub, waitFor, type TestHubSetup } from '../support/test-hub.ts';

const CHANNEL = 'slow';
const SKUS = Array.from({ length: 30 }, (_, i) => `CB-${i}`);
const START = 1_000;
const DROPPED = 150;

describe('catch-up shares a busy channel\'s rate with pushes', () => {
  let setup: TestHubSetup;
  let hub: Hub;
  let sim: SandboxSimulator;
  const failures: string[] = [];

  beforeAll(async () => {
    // One SKU per call at 5 calls/s: thirty SKUs keep the channel busy for seconds at a time. The channel
    // holds one call more in its bucket than the hub spends: pushes going at the full rate on a busy machine
    // can arrive a few ms closer together than they left, which is no catch-up's doing; a catch-up call
    // taken outside the pushes' spare calls would still be refused.
    setup = await setupTestHub({
      channels: [{ id: CHANNEL, simulator: { rateLimit: { perSecond: 5, burst: 6 } }, limits: { perSecond: 5, burst: 5, maxBatchSize: 1 } }],
      dispatch: { catchUpIntervalMs: 100 },
    });
    sim = setup.simulators.get(CHANNEL)!;
    hub = await startHub(setup);
    sim.setWebhookTarget(`${hub.url}/webhooks/${CHANNEL}`);
    hub.metrics.tap({ catchUpPolled: (_channel, poll) => void (!poll.ok && failures.push(poll.code)) });
  }, 30_000);
  afterAll(async () => {
    await hub?.stop();
    await setup?.cleanup();
  });

  it('never draws a throttle answer while pushes are busy, and still finds every dropped order', async () => {
    await hub.publish({ id: 'cb-set', type: 'stock.set', channel: 'manual', occurredAt: new Date().toISOString(), lines: SKUS.map((sku) => ({ sku, quantity: START })) });
    await waitFor('the seed to be applied', async () => (await hub.ledger.getLevels(SKUS)).size === SKUS.length);
    // Restocks change every SKU again and again: each round is thirty calls the pushes need.
    const restock = (round: number) =>
      hub.publish({ id: `cb-restock:${round}`, type: 'stock.adjusted', channel: 'manual', occurredAt: new Date().toISOString(), lines: SKUS.map((sku) => ({ sku, delta: 10 })) });
    // More dropped orders than one page holds: catch-up needs pages back to back while pushes queue up.
    for (let i = 0; i < DROPPED; i++) await sim.placeOrder([{ sku: SKUS[i % SKUS.length]!, qty: 1 }], { drop: true });
    for (let round = 1; round <= 5; round++) {
      await restock(round);
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
    const expected = (): number => START + 50 - DROPPED / SKUS.length;
    await waitFor(
      'every dropped order counted and the channel level with the ledger',
      async () => {
        const levels = await hub.ledger.getLevels(SKUS);
        return SKUS.every((sku) => levels.get(sku)?.available === expected() && sim.shown(sku) === expected());
      },
      90_000,
      250,
    );
    const polls = (await hub.metrics.catchUpPolls.get()).values.find((v) => v.labels.outcome === 'ok')?.value ?? 0;
    expect(polls).toBeGreaterThanOrEqual(2);
    expect(failures).toEqual([]);
    expect(sim.stats().throttled).toBe(0);
  }, 120_000);
});
