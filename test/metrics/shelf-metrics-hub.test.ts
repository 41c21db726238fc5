import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Hub } from '../../core/hub.ts';
import { startSimulatedHub, type SimulatedHub } from '../support/simulated-hub.ts';
import { waitFor } from '../support/test-hub.ts';

const now = (): string => new Date().toISOString();

async function scrape(hub: Hub): Promise<string> {
  const res = await request(`${hub.url}/metrics`);
  expect(res.statusCode).toBe(200);
  return res.body.text();
}

/** The value of `name{channel="<channel>"}` on a /metrics page, or undefined when absent. */
function sample(page: string, name: string, channel: string): number | undefined {
  const line = page.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(`channel="${channel}"`) && !l.includes('le="'));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

describe('phantom and hidden stock on /metrics of a real hub (NATS + Postgres)', () => {
  let env: SimulatedHub;

  beforeAll(async () => {
    env = await startSimulatedHub({
      channels: [
        { id: 'shop', connector: 'sandbox' },
        { id: 'slow', connector: 'sandbox' },
      ],
      skus: { 'PH-1': 0 },
    });
    await env.hub.publish({ id: 'ph:count', type: 'stock.set', channel: 'manual', occurredAt: now(), lines: [{ sku: 'PH-1', quantity: 10 }] });
    await waitFor('both channels to show 10', () => env.simulator('shop').shown('PH-1') === 10 && env.simulator('slow').shown('PH-1') === 10);
    await env.hub.idle(AbortSignal.timeout(20_000));
  });
  afterAll(async () => {
    await env?.stop();
  });

  it('declares the series of every channel at zero before anything is off', async () => {
    const page = await scrape(env.hub);
    for (const name of ['channel_phantom_seconds_total', 'channel_phantom_unit_seconds_total', 'channel_hidden_unit_seconds_total']) {
      expect(page).toContain(`# HELP ${name} `);
      expect(sample(page, name, 'slow')).toBeDefined();
    }
  });

  it('counts phantom stock on a channel that cannot be pushed while the ledger sells, and not on the channel the order came from', async () => {
    env.simulator('slow').setFault({ kind: 'down' });
    await env.hub.publish({ id: 'shop:order:ph-1:confirmed', type: 'order.confirmed', channel: 'shop', occurredAt: now(), lines: [{ sku: 'PH-1', qty: 4 }] });
    await waitFor('the ledger to record the order', async () => (await env.hub.ledger.getLevel('PH-1'))?.available === 6);
    await waitFor('phantom seconds on the channel that is down', async () => (sample(await scrape(env.hub), 'channel_phantom_seconds_total', 'slow') ?? 0) > 0);
    const page = await scrape(env.hub);
    // Showing 10 where the ledger has 6: four phantom units for every phantom second.
    expect(sample(page, 'channel_phantom_unit_seconds_total', 'slow')).toBeCloseTo(4 * sample(page, 'channel_phantom_seconds_total', 'slow')!, 6);
    expect(sample(page, 'channel_phantom_seconds_total', 'shop')).toBe(0);

    env.simulator('slow').setFault(null);
    await waitFor('the slow channel to show 6', () => env.simulator('slow').shown('PH-1') === 6, 30_000);
    await env.hub.idle(AbortSignal.timeout(20_000));
    await waitFor('the phantom episode to be recorded once it ended', async () => (sample(await scrape(env.hub), 'channel_phantom_episode_ms_count', 'slow') ?? 0) >= 1);
    const settled = await scrape(env.hub);
    const stopped = sample(settled, 'channel_phantom_seconds_total', 'slow')!;
    // Level again: the counter no longer grows from one scrape to the next.
    expect(sample(await scrape(env.hub), 'channel_phantom_seconds_total', 'slow')).toBe(stopped);
  });

  it('counts units the rules allow but a channel was not shown as hidden unit-seconds', async () => {
    const before = sample(await scrape(env.hub), 'channel_hidden_unit_seconds_total', 'slow') ?? 0;
    env.simulator('slow').setFault({ kind: 'down' });
    await env.hub.publish({ id: 'ph:restock', type: 'stock.adjusted', channel: 'warehouse', occurredAt: now(), lines: [{ sku: 'PH-1', delta: 20 }] });
    await waitFor('hidden unit-seconds while the restock waits', async () => (sample(await scrape(env.hub), 'channel_hidden_unit_seconds_total', 'slow') ?? 0) > before);
    env.simulator('slow').setFault(null);
    await waitFor('the slow channel to show 26', () => env.simulator('slow').shown('PH-1') === 26, 30_000);
  });
});
