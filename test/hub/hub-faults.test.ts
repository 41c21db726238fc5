import { jetstream } from '@nats-io/jetstream';
import { afterEach, describe, expect, it } from 'vitest';
import type { Hub } from '../../core/hub.ts';
import { setupTestHub, startHub, waitFor, type TestHubSetup } from '../support/test-hub.ts';

const now = () => new Date().toISOString();
const skuList = (n: number, prefix: string) => Array.from({ length: n }, (_, i) => `${prefix}-${i}`);

/** Most requests seen in any sliding one-second window of a simulator's write log. */
function peakRequestsPerSecond(times: number[]): number {
  const sorted = [...times].sort((a, b) => a - b);
  let peak = 0;
  for (let i = 0, j = 0; i < sorted.length; i++) {
    while (sorted[i]! - sorted[j]! >= 1000) j++;
    peak = Math.max(peak, i - j + 1);
  }
  return peak;
}

describe('channel faults', () => {
  let setup: TestHubSetup | undefined;
  let hub: Hub | undefined;
  afterEach(async () => {
    await hub?.stop();
    await setup?.cleanup();
    hub = undefined;
    setup = undefined;
  });

  it('a channel answering 429 with Retry-After converges without exceeding its declared rate', async () => {
    setup = await setupTestHub({
      channels: [{ id: 'slow', simulator: { rateLimit: { perSecond: 4, burst: 2 } }, limits: { perSecond: 4, burst: 2, maxBatchSize: 3 } }],
    });
    hub = await startHub(setup);
    const sim = setup.simulators.get('slow')!;
    const requestTimes: number[] = [];
    const skus = skuList(24, 'THR');
    sim.setFault({ kind: 'throttle', retryAfterMs: 1200 });
    const faultCleared = setTimeout(() => sim.setFault(null), 1500);
    await hub.publish({ id: 'thr:seed', type: 'stock.set', channel: 'manual', occurredAt: now(), lines: skus.map((sku, i) => ({ sku, quantity: 10 + i })) });
    const started = Date.now();
    await waitFor('the channel to show every SKU', () => skus.every((sku, i) => sim.shown(sku) === 10 + i), 30_000);
    clearTimeout(faultCleared);
    for (const sku of skus) for (const [at] of sim.writes(sku)) requestTimes.push(at);
    // 24 SKUs at 3 per call: 8 calls at 4/s after a 1.2 s pause, so the throttle was honoured, not hammered.
    expect(sim.stats().throttled).toBeLessThanOrEqual(2);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1200);
    const callTimes = [...new Set(requestTimes)];
    expect(peakRequestsPerSecond(callTimes)).toBeLessThanOrEqual(4 + 2);
  });

  it('a channel down past the retry budget is dead-lettered, then converges once it is back', async () => {
    setup = await setupTestHub({
      channels: [{ id: 'down' }, { id: 'up' }],
      dispatch: { maxAttempts: 3, backoffBaseMs: 20, backoffMaxMs: 60, reconcileIntervalMs: 800 },
    });
    hub = await startHub(setup);
    const down = setup.simulators.get('down')!;
    down.setFault({ kind: 'down' });
    await hub.publish({ id: 'dl:seed', type: 'stock.set', channel: 'manual', occurredAt: now(), lines: [{ sku: 'DL-1', quantity: 7 }, { sku: 'DL-2', quantity: 4 }] });
    await waitFor('the healthy channel', () => setup!.simulators.get('up')!.shown('DL-1') === 7);

    const js = jetstream(hub.bus.nc);
    const dlq = setup.loaded.config.nats.deadLetterStream;
    await waitFor('dead letters for both SKUs', async () => (await hub!.bus.jsm.streams.info(dlq)).state.messages >= 2, 15_000);
    const letter = await js.streams.get(dlq).then((s) => s.getMessage({ seq: 1 }));
    const body = letter!.json<{ kind: string; channelId: string; sku: string; reason: string; attempts: number }>();
    expect(body).toMatchObject({ kind: 'push', channelId: 'down', attempts: 3 });
    expect(body.reason).toMatch(/503/);
    expect(letter!.subject).toBe(`t${setup.suffix}.dlq.push.down`);
    expect(down.shown('DL-1')).toBeUndefined();

    down.setFault(null);
    await waitFor('the recovered channel to converge', () => down.shown('DL-1') === 7 && down.shown('DL-2') === 4, 15_000);
    // The channel shows the quantities before the confirmation (which clears the marks) is durable.
    await waitFor('the dead-letter marks to clear', async () => {
      const states = await hub!.ledger.getChannelStates('down', ['DL-1', 'DL-2']);
      return states.every((s) => s.deadLetteredAt === null && s.pushedVersion > 0);
    }, 15_000);
  });

  it('a write held past the push timeout that lands later is caught and repaired, never recorded as what the channel shows', async () => {
    const logs: Array<{ level: string; msg: string }> = [];
    const capture = (level: string) => (msg: string) => void logs.push({ level, msg });
    const logger = { debug: capture('debug'), info: capture('info'), warn: capture('warn'), error: capture('error') };
    setup = await setupTestHub({
      channels: [{ id: 'slow' }],
      dispatch: { pushTimeoutMs: 300, lateWriteWindowMs: 4_000, backoffBaseMs: 50, backoffMaxMs: 200, reconcileIntervalMs: 600_000 },
    });
    hub = await startHub(setup, { logger });
    const sim = setup.simulators.get('slow')!;
    const dispatcher = hub.dispatchers.get('slow')!;
    await hub.publish({ id: 'lw:seed', type: 'stock.set', channel: 'manual', occurredAt: now(), lines: [{ sku: 'LW-1', quantity: 10 }] });
    await waitFor('the first quantity', () => sim.shown('LW-1') === 10);

    // The channel sits on writes for 2.5 s (past the 300 ms timeout), then applies them anyway.
    sim.setFault({ kind: 'hold-writes', ms: 2_500 });
    await hub.publish({ id: 'lw:2', type: 'stock.set', channel: 'manual', occurredAt: now(), lines: [{ sku: 'LW-1', quantity: 8 }] });
    await waitFor('the push to time out', () => /timed out/.test(dispatcher.skuStatus?.('LW-1')?.lastError ?? ''), 10_000);
    sim.setFault(null);
    // A sale: the newer, lower quantity reaches the channel before the held write of 8 lands on top of it.
    await hub.publish({ id: 'lw:3', type: 'stock.set', channel: 'manual', occurredAt: now(), lines: [{ sku: 'LW-1', quantity: 3 }] });

    const wrong: string[] = [];
    const sample = async (): Promise<void> => {
      const [state] = await hub!.ledger.getChannelStates('slow', ['LW-1']);
      const level = await hub!.ledger.getLevel('LW-1');
      const shown = sim.shown('LW-1');
      if (state && level && state.pushedVersion === level.version && state.pushedQuantity !== shown) wrong.push(`confirmed ${state.pushedQuantity} at v${state.pushedVersion}, channel shows ${shown}`);
    };
    const landedLate = (): boolean => {
      const log = sim.writes('LW-1').map(([, quantity]) => quantity);
      return log.lastIndexOf(8) > log.indexOf(3) && log.indexOf(3) >= 0;
    };
    await waitFor('the held write to land after the newer one', async () => (await sample(), landedLate()), 15_000);
    await waitFor('the channel to be repaired to 3 and confirmed', async () => {
      await sample();
      const [state] = await hub!.ledger.getChannelStates('slow', ['LW-1']);
      return sim.shown('LW-1') === 3 && state?.pushedVersion === (await hub!.ledger.getLevel('LW-1'))?.version && state?.pushedQuantity === 3;
    }, 20_000);
    expect(wrong).toEqual([]);
    // The hub's own timeout, named as such: not an unclassified plugin error.
    expect(logs.some((l) => /no answer in time/.test(l.msg))).toBe(true);
    expect(logs.filter((l) => /unclassified/.test(l.msg))).toEqual([]);
  });

  it('an invalid event goes to the dead-letter stream with its reason and does not block the events behind it', async () => {
    setup = await setupTestHub({ channels: [{ id: 'web' }] });
    hub = await startHub(setup);
    const prefix = setup.loaded.config.nats.subjectPrefix;
    await hub.bus.publishRaw(`${prefix}.in.order.confirmed`, JSON.stringify({ id: 'bad-1', type: 'order.confirmed', channel: 'web', occurredAt: now(), lines: [{ sku: 'X', qty: -2 }] }), 'bad-1');
    await hub.bus.publishRaw(`${prefix}.in.order.confirmed`, '{not json', 'bad-2');
    await hub.publish({ id: 'after-bad', type: 'stock.set', channel: 'manual', occurredAt: now(), lines: [{ sku: 'OK-1', quantity: 3 }] });
    await waitFor('the valid event behind them', async () => (await hub!.ledger.getLevel('OK-1'))?.available === 3);

    const dlq = setup.loaded.config.nats.deadLetterStream;
    await waitFor('two dead letters', async () => (await hub!.bus.jsm.streams.info(dlq)).state.messages === 2);
    const stream = await jetstream(hub.bus.nc).streams.get(dlq);
    const letters = await Promise.all([1, 2].map(async (seq) => (await stream.getMessage({ seq }))!));
    const reasons = letters.map((l) => l.json<{ reason: string }>().reason).join('\n');
    expect(reasons).toMatch(/lines\/0\/qty/);
    expect(reasons).toMatch(/JSON/i);
    expect(letters[0]!.header.get('Stockrelay-Reason')).toMatch(/qty/);
    expect(await hub.ledger.isProcessed('bad-1')).toBe(false);
    // Terminated, not redelivered: the consumer has nothing pending.
    await waitFor('nothing pending', async () => {
      const info = await hub!.bus.jsm.consumers.info(setup!.loaded.config.nats.stream, setup!.loaded.config.nats.consumer);
      return info.num_ack_pending === 0 && info.num_pending === 0;
    });
  });
});
