import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AlertEngine } from '../../core/features/alerts/alert-engine.ts';
import type { DriftFinding } from '../../core/ledger/ledger-types.ts';
import { silentLogger } from '../support/dispatch-harness.ts';
import { startSimulatedHub, type SimulatedHub } from '../support/simulated-hub.ts';
import { waitFor } from '../support/test-hub.ts';

const CHANNELS = ['shopify', 'woocommerce', 'bigcommerce', 'ebay', 'etsy', 'tiktok', 'walmart', 'amazon'] as const;
const RECONCILE_INTERVAL_MS = 3_000;
const START = 20;
const skuOf = (channel: string) => `${channel.toUpperCase()}-DRIFT`;

describe('a quantity changed behind the hub\'s back is read back, counted, alerted and pushed away', () => {
  let env: SimulatedHub;
  const found: Array<{ channel: string; finding: DriftFinding }> = [];
  let alerts: AlertEngine;

  beforeAll(async () => {
    const skus = Object.fromEntries(CHANNELS.map((c) => [skuOf(c), 0]));
    env = await startSimulatedHub({
      channels: CHANNELS.map((c) => ({ id: `${c}-main`, connector: c })),
      skus,
      dispatch: { reconcileIntervalMs: RECONCILE_INTERVAL_MS, readShare: 0.5 },
    });
    env.hub.metrics.tap({ driftFound: (channel, findings) => findings.forEach((finding) => found.push({ channel, finding })) });
    alerts = new AlertEngine({
      settings: { ...env.hub.loaded.config.alerts, driftSkus: 1 },
      channels: CHANNELS.map((c) => `${c}-main`),
      snapshot: () => undefined,
      probes: { deadLetters: async () => new Map(), backlog: async () => 0 },
      metrics: env.hub.metrics,
      logger: silentLogger,
    });
    env.hub.metrics.tap(alerts);
    await env.hub.publish({ id: 'drift:seed', type: 'stock.set', channel: 'manual', occurredAt: new Date().toISOString(), lines: Object.keys(skus).map((sku) => ({ sku, quantity: START })) });
    await waitFor('every channel to show the seeded stock', () => CHANNELS.every((c) => Object.keys(skus).every((sku) => env.simulator(`${c}-main`).shown(sku) === START)), 30_000, 100);
  }, 60_000);
  afterAll(async () => {
    await alerts?.stop();
    await env?.stop();
  });

  for (const channel of CHANNELS) {
    const id = `${channel}-main`;
    it(`${channel}: the edit is found within one reconcile interval, recorded, alerted and healed`, async () => {
      const sku = skuOf(channel);
      const editedAt = Date.now();
      env.simulator(id).setShown(sku, START + 7);
      await waitFor('the channel to show the ledger again', () => env.simulator(id).shown(sku) === START, 4 * RECONCILE_INTERVAL_MS, 50);
      const finding = found.find((f) => f.channel === id && f.finding.sku === sku);
      expect(finding?.finding).toMatchObject({ shown: START + 7, expected: START });
      // Found by the next sweep: sweeps start every interval, and this channel's reads fit in one.
      expect(finding!.finding.readAt.getTime() - editedAt).toBeLessThanOrEqual(RECONCILE_INTERVAL_MS + 1_000);

      await waitFor('the healing push to be recorded', async () => {
        const rows = await env.hub.database.db.selectFrom('channel_drift').selectAll().where('channel_id', '=', id).where('sku', '=', sku).execute();
        return rows.length === 1 && rows[0]!.pushed_quantity === START;
      });
      const [row] = await env.hub.database.db.selectFrom('channel_drift').selectAll().where('channel_id', '=', id).where('sku', '=', sku).execute();
      expect(row).toMatchObject({ shown: START + 7, expected: START, pushed_quantity: START });
      const [read] = await env.hub.ledger.readBacks.lastReads(sku, id);
      expect(read?.shown).toBeTypeOf('number');

      const metrics = await env.hub.metrics.registry.metrics();
      expect(metrics).toMatch(new RegExp(`channel_drift_skus\\{channel="${id}"\\} \\d`));
      expect(metrics).toMatch(new RegExp(`channel_drift_units\\{channel="${id}"\\} \\d`));
      await alerts.evaluate();
      expect(alerts.list().find((a) => a.id === `drift:${id}`)).toMatchObject({ firing: true, kind: 'drift' });
      // Reads only used calls the pushes left unused, at the channel's pace: never a throttle answer.
      expect(env.simulator(id).stats().throttled ?? 0).toBe(0);
    }, 30_000);
  }

  it('a channel showing what the ledger gives has no drift recorded', async () => {
    const rows = await env.hub.database.db
      .selectFrom('channel_drift')
      .select(['channel_id', sql<number>`count(*)`.as('n')])
      .groupBy('channel_id')
      .execute();
    for (const row of rows) expect(Number(row.n)).toBe(1);
  });
});
