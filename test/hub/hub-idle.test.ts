import { getEventListeners } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulatedHub, type SimulatedHub } from '../support/simulated-hub.ts';
import { waitFor } from '../support/test-hub.ts';

const CHANNELS = 12;

describe('waiting for a hub with many channels to go idle (NATS + Postgres)', () => {
  let env: SimulatedHub;
  const warnings: Error[] = [];
  const onWarning = (warning: Error): void => {
    warnings.push(warning);
  };

  beforeAll(async () => {
    process.on('warning', onWarning);
    env = await startSimulatedHub({
      channels: Array.from({ length: CHANNELS }, (_, i) => ({ id: `shop-${i}`, connector: 'sandbox' })),
      skus: { 'IDLE-1': 0 },
    });
  });
  afterAll(async () => {
    process.off('warning', onWarning);
    await env?.stop();
  });

  it('puts one listener on the caller’s signal, however many channels there are, and none once it returns', async () => {
    await env.hub.publish({ id: 'idle:count', type: 'stock.set', channel: 'manual', occurredAt: new Date().toISOString(), lines: [{ sku: 'IDLE-1', quantity: 5 }] });
    await waitFor('every channel to show 5', () => Array.from({ length: CHANNELS }, (_, i) => env.simulator(`shop-${i}`).shown('IDLE-1')).every((q) => q === 5));
    const caller = new AbortController();
    const idle = env.hub.idle(caller.signal);
    expect(getEventListeners(caller.signal, 'abort').length).toBeLessThanOrEqual(1);
    await idle;
    expect(getEventListeners(caller.signal, 'abort')).toEqual([]);
    expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning')).toEqual([]);
  });

  it('lets the caller stop waiting with its signal while a channel still has work', async () => {
    env.simulator('shop-0').setFault({ kind: 'down' });
    await env.hub.publish({ id: 'idle:recount', type: 'stock.set', channel: 'manual', occurredAt: new Date().toISOString(), lines: [{ sku: 'IDLE-1', quantity: 7 }] });
    await waitFor('the ledger to hold 7', async () => (await env.hub.ledger.getLevel('IDLE-1'))?.available === 7);
    const caller = new AbortController();
    const idle = env.hub.idle(caller.signal);
    caller.abort(new Error('enough'));
    await expect(idle).resolves.toBeUndefined();
    expect(getEventListeners(caller.signal, 'abort')).toEqual([]);
    env.simulator('shop-0').setFault(null);
  });
});
