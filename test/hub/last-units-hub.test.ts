import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HOLD_IDLE_MS } from '../../core/dispatch/last-units.ts';
import { startSimulatedHub, type SimulatedHub } from '../support/simulated-hub.ts';
import { waitFor } from '../support/test-hub.ts';

const now = (): string => new Date().toISOString();
/** A forecast whose horizon is never under 30 s: sixty orders in a few seconds hide every unit left. */
const FORECAST = { forecast: { enabled: true, minHorizonMs: 30_000 } };
const SKU = 'LU-1';

/**
 * A rush on a real hub (NATS + Postgres, two sandbox channels with forecasts): once both channels hide
 * the SKU's last units, the channel that refreshes faster offers them alone, and once they stop selling
 * the other channel's forecast decides again.
 */
describe('last units of a rush in a running hub', () => {
  let env: SimulatedHub;

  beforeAll(async () => {
    env = await startSimulatedHub({
      channels: [
        { id: 'fast', connector: 'sandbox', limits: { perSecond: 20, burst: 20 }, rules: FORECAST },
        { id: 'slow', connector: 'sandbox', limits: { perSecond: 2, burst: 2 }, rules: FORECAST },
      ],
      skus: { [SKU]: 0 },
    });
    await env.hub.publish({ id: 'lu:count', type: 'stock.set', channel: 'manual', occurredAt: now(), lines: [{ sku: SKU, quantity: 100 }] });
    await waitFor('both channels to show 100', () => env.simulator('fast').shown(SKU) === 100 && env.simulator('slow').shown(SKU) === 100);
  }, 60_000);
  afterAll(async () => {
    await env?.stop();
  });

  it('offers the last units on the faster channel alone while forecasts hide them, and gives them back to the other once they stop selling', async () => {
    await Promise.all(
      Array.from({ length: 60 }, (_, i) => env.hub.publish({ id: `lu:order:${i}`, type: 'order.confirmed', channel: 'manual', occurredAt: now(), lines: [{ sku: SKU, qty: 1 }] })),
    );
    await waitFor('the ledger to record the orders', async () => (await env.hub.ledger.getLevel(SKU))?.available === 40);
    const shown = (): [number | undefined, number | undefined] => [env.simulator('fast').shown(SKU), env.simulator('slow').shown(SKU)];
    await waitFor('the fast channel alone to offer the last 40 units', () => shown()[0] === 40 && shown()[1] === 0, 20_000);
    // What the read API and the MCP tools answer from: the slow channel hides them because the fast one offers them.
    expect(env.hub.dispatchers.get('slow')?.skuStatus?.(SKU)?.forecast).toMatchObject({ quantity: 0, allowed: 40, lastUnitsOn: 'fast' });
    expect(env.hub.dispatchers.get('fast')?.skuStatus?.(SKU)?.forecast).toMatchObject({ quantity: 40, allowed: 40, lastUnitsOn: 'fast' });
    // No sale for a while: the rush is over, and the slow channel's own forecast decides again (with its
    // 30 s horizon it gives the units back over the next minutes, as the silence lowers the sales rate).
    await waitFor('the slow channel to show units again once they stop selling', () => (shown()[1] ?? 0) > 0, HOLD_IDLE_MS + 30_000);
    expect(shown()[0]).toBe(40);
    expect((await env.hub.ledger.getLevel(SKU))?.available).toBe(40);
  }, 90_000);
});
