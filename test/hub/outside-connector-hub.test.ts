import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { authorProject } from '../support/author-project.ts';
import { startSimulatedHub, type SimulatedHub } from '../support/simulated-hub.ts';
import { waitFor } from '../support/test-hub.ts';

describe('a connector written outside the repo', () => {
  let dir: string | undefined;
  let env: SimulatedHub | undefined;
  afterAll(async () => {
    await env?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('loads by path in a running hub and receives its pushes', async () => {
    dir = authorProject();
    env = await startSimulatedHub({
      channels: [{ id: 'acme-shop', connector: join(dir, 'my-connector') }, { id: 'web', connector: 'sandbox' }],
      skus: { 'OUT-1': 0, 'OUT-2': 0 },
    });
    expect(env.hub.connectors.get('acme-shop')?.definition.name).toBe('acme-outside');
    await env.hub.publish({ id: 'out:seed', type: 'stock.set', channel: 'manual', occurredAt: new Date().toISOString(), lines: [{ sku: 'OUT-1', quantity: 12 }, { sku: 'OUT-2', quantity: 3 }] });
    await env.hub.publish({ id: 'web:order:OUT:confirmed', type: 'order.confirmed', channel: 'web', occurredAt: new Date().toISOString(), lines: [{ sku: 'OUT-1', qty: 5 }] });
    const acme = env.simulator('acme-shop');
    await waitFor('the outside connector to show the ledger', () => acme.shown('OUT-1') === 7 && acme.shown('OUT-2') === 3);
    expect(acme.stats().requests).toBeGreaterThan(0);
  });
});
