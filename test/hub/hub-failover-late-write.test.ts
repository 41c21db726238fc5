import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Hub } from '../../core/hub.ts';
import { setupTestHub, startHub, waitFor, type TestHubSetup } from '../support/test-hub.ts';
import { startHubProcess } from '../support/hub-process.ts';

const SKU = 'FO-1';
const now = () => new Date().toISOString();

describe('a pusher killed with a write in flight', () => {
  let setup: TestHubSetup | undefined;
  let dir: string | undefined;
  let child: ChildProcess | undefined;
  let standby: Hub | undefined;

  afterAll(async () => {
    child?.kill('SIGKILL');
    await standby?.stop();
    await setup?.cleanup();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('its late write is caught by the hub that takes the channel over, and the channel ends at the ledger', async () => {
    // The killed hub's push is still waiting (5 s timeout) when it dies; the channel applies it 3 s after it came.
    setup = await setupTestHub({
      channels: [{ id: 'web' }],
      dispatch: { pushTimeoutMs: 5_000, lateWriteWindowMs: 2_000, backoffBaseMs: 50, backoffMaxMs: 200, reconcileIntervalMs: 600_000 },
    });
    dir = await mkdtemp(join(tmpdir(), 'stockrelay-failover-'));
    const configFile = join(dir, 'hub.json');
    await writeFile(configFile, JSON.stringify({ ...setup.config, http: { host: '127.0.0.1', port: 0 } }));
    const web = setup.simulators.get('web')!;

    child = await startHubProcess(configFile);
    standby = await startHub(setup, { leaseIntervalMs: 200 });
    expect(standby.pushing()).toEqual([]);

    await standby.publish({ id: 'fo:seed', type: 'stock.set', channel: 'manual', occurredAt: now(), lines: [{ sku: SKU, quantity: 20 }] });
    await waitFor('the pusher to show the seed', () => web.shown(SKU) === 20);

    web.setFault({ kind: 'hold-writes', ms: 3_000 });
    await standby.publish({ id: 'fo:13', type: 'stock.set', channel: 'manual', occurredAt: now(), lines: [{ sku: SKU, quantity: 13 }] });
    await waitFor('the pusher\'s write of 13 to be held', () => (web.stats().held ?? 0) > 0, 10_000, 10);
    child.kill('SIGKILL');
    await new Promise((resolve) => child!.once('exit', resolve));
    child = undefined;
    web.setFault(null);

    await waitFor('the standby to take the channel over', () => standby!.pushing().includes('web'), 15_000);
    // Sold out while the dead hub's write is still on its way.
    await standby.publish({ id: 'fo:0', type: 'stock.set', channel: 'manual', occurredAt: now(), lines: [{ sku: SKU, quantity: 0 }] });

    const wrong: string[] = [];
    const sample = async (): Promise<void> => {
      const [state] = await standby!.ledger.getChannelStates('web', [SKU]);
      const level = await standby!.ledger.getLevel(SKU);
      const shown = web.shown(SKU);
      if (state && level && state.pushedVersion === level.version && state.pushedQuantity !== shown) wrong.push(`confirmed ${state.pushedQuantity} at v${state.pushedVersion}, channel shows ${shown}`);
    };
    const landedLate = (): boolean => {
      const log = web.writes(SKU).map(([, quantity]) => quantity);
      return log.indexOf(0) >= 0 && log.lastIndexOf(13) > log.indexOf(0);
    };
    await waitFor('the dead hub\'s write of 13 to land after the 0', async () => (await sample(), landedLate()), 15_000);
    await waitFor('the channel to be repaired to 0 and confirmed', async () => {
      await sample();
      const [state] = await standby!.ledger.getChannelStates('web', [SKU]);
      return web.shown(SKU) === 0 && state?.pushedVersion === (await standby!.ledger.getLevel(SKU))?.version && state?.pushedQuantity === 0;
    }, 20_000);
    expect(wrong).toEqual([]);
  }, 90_000);
});
