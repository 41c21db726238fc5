import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reconcileChannels } from '../../core/cli/reconcile-command.ts';
import { startSimulatedHub, type SimulatedHub } from '../support/simulated-hub.ts';
import { waitFor } from '../support/test-hub.ts';

const CHANNELS = ['shopify-main', 'woocommerce-main'] as const;
const SKUS = { 'RC-A': 0, 'RC-B': 0, 'RC-C': 0 };
const START = 12;

describe('stockrelay reconcile', () => {
  let env: SimulatedHub;

  beforeAll(async () => {
    // No continuous read-back: only the command finds the drift here.
    env = await startSimulatedHub({
      channels: [
        { id: 'shopify-main', connector: 'shopify' },
        { id: 'woocommerce-main', connector: 'woocommerce', rules: { reserve: 2 } },
      ],
      skus: SKUS,
      dispatch: { reconcileIntervalMs: 1000, readShare: 0 },
    });
    await env.hub.publish({ id: 'rc:seed', type: 'stock.set', channel: 'manual', occurredAt: new Date().toISOString(), lines: Object.keys(SKUS).map((sku) => ({ sku, quantity: START })) });
    await waitFor('the channels to show the seeded stock', () => Object.keys(SKUS).every((sku) => env.simulator('shopify-main').shown(sku) === START && env.simulator('woocommerce-main').shown(sku) === START - 2), 30_000, 100);
  }, 60_000);
  afterAll(async () => {
    await env?.stop();
  });

  it('--dry-run lists every drifted (channel, SKU) with shown vs expected and changes nothing', async () => {
    env.simulator('shopify-main').setShown('RC-A', 40);
    env.simulator('woocommerce-main').setShown('RC-B', 0);
    const loaded = env.hub.loaded;
    const report = await reconcileChannels(loaded, loaded.config.channels, true);
    expect(report.drift.map(({ channel, sku, shown, expected }) => ({ channel, sku, shown, expected }))).toEqual([
      { channel: 'shopify-main', sku: 'RC-A', shown: 40, expected: START },
      { channel: 'woocommerce-main', sku: 'RC-B', shown: 0, expected: START - 2 },
    ]);
    expect(report.channels.map((c) => [c.channel, c.read, c.drifted])).toEqual([
      ['shopify-main', 3, 1],
      ['woocommerce-main', 3, 1],
    ]);
    expect(env.simulator('shopify-main').shown('RC-A')).toBe(40);
    expect(env.simulator('woocommerce-main').shown('RC-B')).toBe(0);
    expect(await env.hub.database.db.selectFrom('channel_drift').selectAll().execute()).toEqual([]);
    expect(await env.hub.database.db.selectFrom('channel_read').selectAll().execute()).toEqual([]);
  }, 30_000);

  it('without --dry-run it converges them through the hub that holds the channels, and records them', async () => {
    const loaded = env.hub.loaded;
    const report = await reconcileChannels(loaded, loaded.config.channels, false);
    expect(report.drift.map(({ channel, sku, after, healed }) => ({ channel, sku, after, healed }))).toEqual([
      { channel: 'shopify-main', sku: 'RC-A', after: START, healed: true },
      { channel: 'woocommerce-main', sku: 'RC-B', after: START - 2, healed: true },
    ]);
    expect(env.simulator('shopify-main').shown('RC-A')).toBe(START);
    expect(env.simulator('woocommerce-main').shown('RC-B')).toBe(START - 2);
    const rows = await env.hub.database.db.selectFrom('channel_drift').select(['channel_id', 'sku', 'shown', 'expected', 'pushed_quantity']).orderBy('channel_id').execute();
    expect(rows).toEqual([
      { channel_id: 'shopify-main', sku: 'RC-A', shown: 40, expected: START, pushed_quantity: START },
      { channel_id: 'woocommerce-main', sku: 'RC-B', shown: 0, expected: START - 2, pushed_quantity: START - 2 },
    ]);
    const again = await reconcileChannels(loaded, loaded.config.channels, true);
    expect(again.drift).toEqual([]);
  }, 60_000);
});
