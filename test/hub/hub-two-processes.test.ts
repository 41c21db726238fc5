import { afterAll, describe, expect, it } from 'vitest';
import type { Hub } from '../../core/hub.ts';
import { setupTestHub, startHub, waitFor, type TestHubSetup } from '../support/test-hub.ts';

const now = () => new Date().toISOString();

describe('two hubs sharing one ledger and one consumer', () => {
  // Either hub may apply an event; one pushes each channel.
  let setup: TestHubSetup;
  let first: Hub | undefined;
  let second: Hub | undefined;
  afterAll(async () => {
    await first?.stop();
    await second?.stop();
    await setup?.cleanup();
  });

  it('push each channel from one hub at a time, and the other takes over when it stops', async () => {
    // No reconcile pass during the test: the pushing hub must hear of the other hub's commits at once.
    setup = await setupTestHub({ channels: [{ id: 'web' }, { id: 'market' }], dispatch: { reconcileIntervalMs: 600_000 } });
    first = await startHub(setup);
    second = await startHub(setup, { leaseIntervalMs: 200 });
    expect(first.pushing().sort()).toEqual(['market', 'web']);
    expect(second.pushing()).toEqual([]);

    // Both hubs apply events (work-queue consumer); only the first pushes.
    await first.publish({ id: 'two:seed', type: 'stock.set', channel: 'manual', occurredAt: now(), lines: [{ sku: 'TWO-1', quantity: 50 }] });
    // Two consumers do not keep the stream's order between them: let the SKU exist before orders for it.
    await waitFor('the seed', async () => (await first!.ledger.getLevel('TWO-1'))?.available === 50);
    for (let i = 0; i < 20; i++) await second.publish({ id: `web:order:TWO${i}:confirmed`, type: 'order.confirmed', channel: 'web', occurredAt: now(), lines: [{ sku: 'TWO-1', qty: 1 }] });
    const web = setup.simulators.get('web')!;
    await waitFor('the channel to show 30', () => web.shown('TWO-1') === 30);
    const pushedByFirst = (await first.metrics.pushSucceeded.get()).values.reduce((n, v) => n + v.value, 0);
    const pushedBySecond = (await second.metrics.pushSucceeded.get()).values.reduce((n, v) => n + v.value, 0);
    expect(pushedByFirst).toBeGreaterThan(0);
    expect(pushedBySecond).toBe(0);

    await first.stop();
    first = undefined;
    await waitFor('the second hub to take both channels', () => second!.pushing().length === 2, 10_000);
    for (let i = 20; i < 25; i++) await second.publish({ id: `web:order:TWO${i}:confirmed`, type: 'order.confirmed', channel: 'web', occurredAt: now(), lines: [{ sku: 'TWO-1', qty: 1 }] });
    await waitFor('both channels to show 25', () => web.shown('TWO-1') === 25 && setup.simulators.get('market')!.shown('TWO-1') === 25);
    expect((await second.ledger.getLevel('TWO-1'))?.available).toBe(25);
  });
});
