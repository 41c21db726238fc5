import { afterEach, describe, expect, it } from 'vitest';
import { OVERDUE_MS } from '../../core/dispatch/push-scheduler.ts';
import { sleep } from '../../core/dispatch/clock.ts';
import { RejectedError, RetryableError, ThrottledError } from '../../core/errors.ts';
import type { PushResult } from '../../core/sdk.ts';
import { CHANNEL, dispatchHarness, settled, stopDispatchers, until } from '../support/dispatch-harness.ts';

afterEach(stopDispatchers);

const ok = (sku: string): PushResult => ({ sku, status: 'ok' });

describe('ChannelDispatcher: level-triggered state', () => {
  it('pushes, on start, every SKU the store says the channel is behind on', async () => {
    const { dispatcher, store, connector } = dispatchHarness();
    store.apply('A', 5);
    store.apply('B', 3);
    await dispatcher.start();
    await settled(dispatcher);
    expect(connector.shown.get('A')).toBe(5);
    expect(connector.shown.get('B')).toBe(3);
    expect(store.state(CHANNEL, 'A')?.pushedVersion).toBe(1);
    expect(store.state(CHANNEL, 'B')?.pushedQuantity).toBe(3);
  });

  it('ignores a change that is not newer than the one it already knows', async () => {
    const { dispatcher, store, connector } = dispatchHarness();
    await dispatcher.start();
    const older = store.apply('A', 7);
    const newer = store.apply('A', 5);
    dispatcher.notify([newer, older]);
    await settled(dispatcher);
    expect(connector.updatesFor('A')).toEqual([{ sku: 'A', quantity: 5, version: 2 }]);
  });

  it('picks up, on its reconcile pass, a change it was never notified of', async () => {
    const { dispatcher, store, connector } = dispatchHarness({ reconcileIntervalMs: 100 });
    await dispatcher.start();
    store.apply('A', 4);
    await until(dispatcher, () => store.state(CHANNEL, 'A')?.pushedVersion === 1);
    expect(connector.shown.get('A')).toBe(4);
  });

  it('keeps going while the store is down at start and catches up once it is back', async () => {
    const { dispatcher, store, connector } = dispatchHarness({ reconcileIntervalMs: 60_000, backoffBaseMs: 20, backoffMaxMs: 50 });
    store.apply('A', 6);
    store.failing = true;
    await dispatcher.start();
    expect(connector.calls).toHaveLength(0);
    store.failing = false;
    await until(dispatcher, () => store.state(CHANNEL, 'A')?.pushedVersion === 1);
    expect(connector.shown.get('A')).toBe(6);
  });

  it('records the confirmation again when the store failed to, without pushing again', async () => {
    const { dispatcher, store, connector, clock } = dispatchHarness({ backoffBaseMs: 20, backoffMaxMs: 50 });
    await dispatcher.start();
    connector.respond = (updates) => {
      store.failing = true;
      clock.setTimeout(() => {
        store.failing = false;
      }, 100);
      return updates.map((u) => ok(u.sku));
    };
    dispatcher.notify([store.apply('A', 8)]);
    await until(dispatcher, () => store.state(CHANNEL, 'A')?.pushedVersion === 1);
    expect(connector.calls).toHaveLength(1);
  });
});

describe('ChannelDispatcher: coalescing and batching', () => {
  it('sends only the newest quantity after many changes to a SKU while its push was in flight', async () => {
    const { dispatcher, store, connector, observer } = dispatchHarness();
    await dispatcher.start();
    const release = connector.hold();
    dispatcher.notify([store.apply('A', 20)]);
    await connector.waitForCalls(1);
    for (let qty = 19; qty >= 10; qty -= 1) dispatcher.notify([store.apply('A', qty)]);
    release();
    await settled(dispatcher);
    expect(connector.updatesFor('A')).toEqual([
      { sku: 'A', quantity: 20, version: 1 },
      { sku: 'A', quantity: 10, version: 11, previousQuantity: 20 },
    ]);
    // Lag is observed once per ledger change the confirmation covers.
    expect(observer.confirmedCalls.map((c) => c.lagMs.length)).toEqual([1, 10]);
  });

  it('never puts more than the batch maximum in one push', async () => {
    const { dispatcher, store, connector } = dispatchHarness({ limits: { maxBatchSize: 3 } });
    await dispatcher.start();
    const skus = Array.from({ length: 10 }, (_, i) => `S${i}`);
    dispatcher.notify(skus.map((sku) => store.apply(sku, 1)));
    await settled(dispatcher);
    for (const call of connector.calls) expect(call.updates.length).toBeLessThanOrEqual(3);
    expect(connector.calls.flatMap((c) => c.updates.map((u) => u.sku)).sort()).toEqual(skus.sort());
  });

  it('never has one SKU in two pushes at once, and stays within its concurrency', async () => {
    const { dispatcher, store, connector, clock } = dispatchHarness({ limits: { maxBatchSize: 2, concurrency: 3 } });
    await dispatcher.start();
    connector.respond = async (updates) => {
      await sleep(clock, 5 + Math.floor(Math.random() * 20));
      return updates.map((u) => ok(u.sku));
    };
    const skus = ['A', 'B', 'C', 'D', 'E', 'F'];
    for (let round = 0; round < 30; round += 1) {
      dispatcher.notify(skus.map((sku) => store.apply(sku, 100 - round)));
      await clock.advance(4);
    }
    await settled(dispatcher);
    expect(connector.overlaps).toEqual([]);
    expect(connector.maxConcurrent).toBeGreaterThan(1);
    expect(connector.maxConcurrent).toBeLessThanOrEqual(3);
    for (const sku of skus) expect(connector.shown.get(sku)).toBe(71);
  });

  it('never calls the channel faster than its token bucket allows', async () => {
    const perSecond = 10;
    const burst = 3;
    const { dispatcher, store, connector } = dispatchHarness({ limits: { perSecond, burst, maxBatchSize: 1, concurrency: 4 } });
    await dispatcher.start();
    dispatcher.notify(Array.from({ length: 25 }, (_, i) => store.apply(`S${i}`, i)));
    await settled(dispatcher);
    expect(connector.calls).toHaveLength(25);
    const starts = connector.calls.map((c) => c.startedAt).sort((a, b) => a - b);
    for (const from of starts) {
      const inWindow = starts.filter((t) => t >= from && t < from + 1000).length;
      expect(inWindow).toBeLessThanOrEqual(perSecond + burst);
    }
  });

  it('pushes moves to zero first, then the lowest quantities, when the channel is saturated', async () => {
    const { dispatcher, store, connector, clock } = dispatchHarness({ limits: { maxBatchSize: 2, concurrency: 1 } });
    await dispatcher.start();
    const release = connector.hold();
    dispatcher.notify([store.apply('X', 1)]);
    await connector.waitForCalls(1);
    dispatcher.notify([store.apply('A', 50), store.apply('B', 0), store.apply('C', 7), store.apply('D', 0), store.apply('E', 3)]);
    await clock.advance(20);
    release();
    await settled(dispatcher);
    const batches = connector.calls.slice(1).map((c) => c.updates.map((u) => u.sku));
    expect(batches.map((b) => [...b].sort())).toEqual([['B', 'D'], ['C', 'E'], ['A']]);
    expect(batches[1]).toEqual(['E', 'C']);
  });

  it('lets a SKU that has waited past the overdue mark go ahead of lower quantities', async () => {
    const { dispatcher, store, connector, clock } = dispatchHarness({ limits: { maxBatchSize: 1, concurrency: 1 } });
    await dispatcher.start();
    const release = connector.hold();
    dispatcher.notify([store.apply('X', 1)]);
    await connector.waitForCalls(1);
    const longAgo = new Date(clock.now() - OVERDUE_MS - 1_000);
    dispatcher.notify([store.apply('LOW', 2), store.apply('OLD', 90, { occurredAt: longAgo }), store.apply('ZERO', 0)]);
    release();
    await settled(dispatcher);
    expect(connector.calls.slice(1).map((c) => c.updates[0]!.sku)).toEqual(['ZERO', 'OLD', 'LOW']);
  });

  it('holds back a SKU that spent its share of the channel\'s daily revisions, not the others', async () => {
    // 10 a day: one at once, then one every 2.4 hours.
    const { dispatcher, store, connector, clock } = dispatchHarness({ limits: { dailyRevisionsPerSku: 10 } });
    await dispatcher.start();
    dispatcher.notify([store.apply('A', 5)]);
    await until(dispatcher, () => connector.calls.length === 1);
    dispatcher.notify([store.apply('A', 4), store.apply('B', 7)]);
    await until(dispatcher, () => connector.shown.get('B') === 7);
    await clock.advance(50);
    expect(connector.updatesFor('A')).toHaveLength(1);
    expect(dispatcher.snapshot().pending).toBe(1);
  });

  it('never holds a move to zero on a revision-budgeted channel, even past the budget', async () => {
    const { dispatcher, store, connector } = dispatchHarness({ limits: { dailyRevisionsPerSku: 10 } });
    await dispatcher.start();
    dispatcher.notify([store.apply('A', 5)]);
    await until(dispatcher, () => connector.shown.get('A') === 5);
    dispatcher.notify([store.apply('A', 0)]);
    await until(dispatcher, () => connector.shown.get('A') === 0);
    expect(connector.updatesFor('A')).toHaveLength(2);
  });

  it('holds a small rise on a revision-budgeted channel, so falls keep their revisions', async () => {
    const { dispatcher, store, connector, clock } = dispatchHarness({ limits: { dailyRevisionsPerSku: 250 } });
    await dispatcher.start();
    dispatcher.notify([store.apply('A', 5)]);
    await until(dispatcher, () => connector.shown.get('A') === 5);
    dispatcher.notify([store.apply('A', 6)]);
    await clock.advance(100);
    expect(connector.shown.get('A')).toBe(5);
    expect(dispatcher.snapshot().pending).toBe(1);
    dispatcher.notify([store.apply('A', 3)]);
    await until(dispatcher, () => connector.shown.get('A') === 3);
  });

  it('applies the channel rules: reserve, share and max', async () => {
    const { dispatcher, store, connector } = dispatchHarness({ rules: { reserve: 2, share: 0.5, max: 10 } });
    await dispatcher.start();
    dispatcher.notify([store.apply('BIG', 30), store.apply('MID', 9), store.apply('LOW', 3)]);
    await settled(dispatcher);
    expect(Object.fromEntries(connector.shown)).toEqual({ BIG: 10, MID: 2, LOW: 0 });
  });

  it('records an unchanged quantity as confirmed without calling the channel', async () => {
    const { dispatcher, store, connector, observer } = dispatchHarness({ rules: { reserve: 0, share: 1, max: 5 } });
    await dispatcher.start();
    dispatcher.notify([store.apply('A', 100)]);
    await settled(dispatcher);
    dispatcher.notify([store.apply('A', 99, { channel: 'other-shop' })]);
    await settled(dispatcher);
    expect(connector.calls).toHaveLength(1);
    expect(store.state(CHANNEL, 'A')?.pushedVersion).toBe(2);
    expect(observer.confirmedCalls).toHaveLength(2);
    expect(observer.confirmedCalls[1]).toMatchObject({ sku: 'A', callMs: 0 });
    expect(observer.confirmedCalls[1]?.lagMs).toHaveLength(1);
  });

  it('pushes an unchanged quantity anyway when the change came from the channel itself', async () => {
    const { dispatcher, store, connector } = dispatchHarness({ rules: { reserve: 0, share: 1, max: 5 } });
    await dispatcher.start();
    dispatcher.notify([store.apply('A', 100)]);
    await settled(dispatcher);
    dispatcher.notify([store.apply('A', 99, { channel: CHANNEL, eventType: 'order.confirmed' })]);
    await settled(dispatcher);
    expect(connector.updatesFor('A')).toEqual([
      { sku: 'A', quantity: 5, version: 1 },
      { sku: 'A', quantity: 5, version: 2, previousQuantity: 5 },
    ]);
  });
});

describe('ChannelDispatcher: failures', () => {
  it('retries an item no earlier than the channel asked', async () => {
    const { dispatcher, store, connector } = dispatchHarness();
    await dispatcher.start();
    connector.respond = (updates, call) =>
      connector.calls.indexOf(call) === 0 ? updates.map((u) => ({ sku: u.sku, status: 'retry', reason: 'busy', afterMs: 300 })) : updates.map((u) => ok(u.sku));
    dispatcher.notify([store.apply('A', 4)]);
    await settled(dispatcher);
    expect(connector.calls).toHaveLength(2);
    const [first, second] = connector.calls;
    expect(second!.startedAt - first!.endedAt!).toBeGreaterThanOrEqual(300);
    expect(connector.shown.get('A')).toBe(4);
  });

  it('retries an item the channel gave no result for', async () => {
    const { dispatcher, store, connector } = dispatchHarness();
    await dispatcher.start();
    connector.respond = (updates, call) => (connector.calls.indexOf(call) === 0 ? updates.filter((u) => u.sku !== 'B').map((u) => ok(u.sku)) : updates.map((u) => ok(u.sku)));
    dispatcher.notify([store.apply('A', 1), store.apply('B', 2)]);
    await settled(dispatcher);
    expect(connector.calls.map((c) => c.updates.map((u) => u.sku))).toEqual([['A', 'B'], ['B']]);
    expect(store.state(CHANNEL, 'B')?.pushedVersion).toBe(1);
  });

  it('pauses the whole channel when it is throttled', async () => {
    const { dispatcher, store, connector, observer } = dispatchHarness({ limits: { maxBatchSize: 1 } });
    await dispatcher.start();
    let throttledOnce = false;
    connector.respond = (updates) => {
      if (!throttledOnce) {
        throttledOnce = true;
        throw new ThrottledError('429 Too Many Requests', { retryAfterMs: 400 });
      }
      return updates.map((u) => ok(u.sku));
    };
    dispatcher.notify([store.apply('A', 1)]);
    await until(dispatcher, () => observer.throttles.length === 1);
    const throttledAt = observer.throttles[0]!.at;
    expect(dispatcher.snapshot().throttledUntil).toBeGreaterThan(0);
    dispatcher.notify([store.apply('B', 2)]);
    await settled(dispatcher);
    expect(observer.throttles[0]!.retryAfterMs).toBe(400);
    const later = connector.calls.slice(1);
    expect(later.map((c) => c.updates[0]!.sku).sort()).toEqual(['A', 'B']);
    for (const call of later) expect(call.startedAt - throttledAt).toBeGreaterThanOrEqual(400);
  });

  it('does not use up an item\'s attempts on throttles', async () => {
    const { dispatcher, store, connector, letters } = dispatchHarness({ maxAttempts: 1 });
    await dispatcher.start();
    connector.respond = (updates, call) => {
      if (connector.calls.indexOf(call) < 3) throw new ThrottledError('THROTTLED', { retryAfterMs: 30 });
      return updates.map((u) => ok(u.sku));
    };
    dispatcher.notify([store.apply('A', 3)]);
    await settled(dispatcher);
    expect(connector.calls).toHaveLength(4);
    expect(letters).toEqual([]);
    expect(store.state(CHANNEL, 'A')?.pushedVersion).toBe(1);
  });

  it('dead-letters a SKU after maxAttempts and recovers it on the reconcile pass once the channel is back', async () => {
    const { dispatcher, store, connector, letters, observer } = dispatchHarness({ maxAttempts: 3, reconcileIntervalMs: 300 });
    await dispatcher.start();
    let down = true;
    connector.respond = (updates) => {
      if (down) throw new RetryableError('503 Service Unavailable');
      return updates.map((u) => ok(u.sku));
    };
    dispatcher.notify([store.apply('A', 9)]);
    await settled(dispatcher);
    expect(connector.calls).toHaveLength(3);
    expect(letters).toEqual([expect.objectContaining({ channelId: CHANNEL, sku: 'A', quantity: 9, version: 1, attempts: 3, reason: '503 Service Unavailable' })]);
    expect(observer.letters).toHaveLength(1);
    expect(store.state(CHANNEL, 'A')?.deadLetteredAt).not.toBeNull();
    expect(dispatcher.snapshot()).toMatchObject({ deadLettered: 1, pending: 0 });

    down = false;
    await until(dispatcher, () => store.state(CHANNEL, 'A')?.pushedVersion === 1);
    expect(connector.shown.get('A')).toBe(9);
    expect(store.state(CHANNEL, 'A')?.deadLetteredAt).toBeNull();
    expect(dispatcher.snapshot().deadLettered).toBe(0);
  });

  it('brings a dead-lettered SKU back with its next ledger change', async () => {
    const { dispatcher, store, connector, letters } = dispatchHarness({ maxAttempts: 1 });
    await dispatcher.start();
    let down = true;
    connector.respond = (updates) => {
      if (down) throw new Error('socket hang up');
      return updates.map((u) => ok(u.sku));
    };
    dispatcher.notify([store.apply('A', 9)]);
    await settled(dispatcher);
    expect(letters).toHaveLength(1);
    down = false;
    dispatcher.notify([store.apply('A', 8)]);
    await settled(dispatcher);
    expect(connector.shown.get('A')).toBe(8);
    expect(store.state(CHANNEL, 'A')?.pushedVersion).toBe(2);
  });

  it('keeps pushing a SKU whose newer change arrived while its last attempt failed', async () => {
    const { dispatcher, store, connector, letters } = dispatchHarness({ maxAttempts: 1 });
    await dispatcher.start();
    const release = connector.hold();
    connector.respond = (updates, call) => {
      if (connector.calls.indexOf(call) === 0) throw new RetryableError('503 Service Unavailable');
      return updates.map((u) => ok(u.sku));
    };
    dispatcher.notify([store.apply('A', 9)]);
    await connector.waitForCalls(1);
    dispatcher.notify([store.apply('A', 8)]);
    release();
    await settled(dispatcher);
    expect(letters).toEqual([expect.objectContaining({ sku: 'A', version: 1 })]);
    expect(connector.shown.get('A')).toBe(8);
    expect(store.state(CHANNEL, 'A')?.pushedVersion).toBe(2);
  });

  it('dead-letters every item at once when the push is rejected', async () => {
    const { dispatcher, store, connector, letters } = dispatchHarness({ maxAttempts: 5 });
    await dispatcher.start();
    connector.respond = () => {
      throw new RejectedError('401 invalid access token');
    };
    dispatcher.notify([store.apply('A', 1), store.apply('B', 2)]);
    await settled(dispatcher);
    expect(connector.calls).toHaveLength(1);
    expect(letters.map((l) => l.sku).sort()).toEqual(['A', 'B']);
    expect(letters[0]!.reason).toBe('401 invalid access token');
  });

  it('dead-letters a rejected item at once and confirms the others of its batch', async () => {
    const { dispatcher, store, connector, letters } = dispatchHarness();
    await dispatcher.start();
    connector.respond = (updates) => updates.map((u): PushResult => (u.sku === 'GONE' ? { sku: u.sku, status: 'rejected', reason: 'unknown listing' } : ok(u.sku)));
    dispatcher.notify([store.apply('A', 1), store.apply('GONE', 2)]);
    await settled(dispatcher);
    expect(connector.calls).toHaveLength(1);
    expect(letters).toEqual([expect.objectContaining({ sku: 'GONE', reason: 'unknown listing' })]);
    expect(store.state(CHANNEL, 'A')?.pushedVersion).toBe(1);
  });

  it('re-pushes at once after a compare-and-set refusal, against what the channel says it shows', async () => {
    const { dispatcher, store, connector } = dispatchHarness({ limits: { compareAndSet: true } });
    await dispatcher.start();
    dispatcher.notify([store.apply('A', 10)]);
    await settled(dispatcher);
    let refused = false;
    connector.respond = (updates) =>
      updates.map((u): PushResult => {
        if (!refused) {
          refused = true;
          return { sku: u.sku, status: 'stale', reason: 'changeFromQuantity mismatch', shown: 8 };
        }
        return ok(u.sku);
      });
    dispatcher.notify([store.apply('A', 9)]);
    await settled(dispatcher);
    expect(connector.updatesFor('A')).toEqual([
      { sku: 'A', quantity: 10, version: 1 },
      { sku: 'A', quantity: 9, version: 2, previousQuantity: 10 },
      { sku: 'A', quantity: 9, version: 2, previousQuantity: 8 },
    ]);
    expect(store.calls.some((c) => c.method === 'recordShown' && c.skus[0] === 'A')).toBe(true);
    expect(store.state(CHANNEL, 'A')).toMatchObject({ pushedVersion: 2, pushedQuantity: 9 });
  });

  it('retries a push that outlives its timeout, and confirms only a write sent after the timed-out one can no longer land', async () => {
    const timing = { pushTimeoutMs: 100, lateWriteWindowMs: 300 };
    const { dispatcher, store, connector } = dispatchHarness(timing);
    await dispatcher.start();
    connector.respond = (updates, call) =>
      connector.calls.indexOf(call) === 0 ? new Promise<PushResult[]>(() => {}) : updates.map((u) => ok(u.sku));
    dispatcher.notify([store.apply('A', 2)]);
    await settled(dispatcher);
    expect(connector.calls.length).toBeGreaterThanOrEqual(2);
    expect(connector.calls[0]!.signal.aborted).toBe(true);
    expect(connector.calls[0]!.signal.reason).toMatchObject({ code: 'SR_PUSH_TIMEOUT' });
    expect(connector.calls.at(-1)!.startedAt).toBeGreaterThanOrEqual(connector.calls[0]!.startedAt + timing.pushTimeoutMs + timing.lateWriteWindowMs);
    expect(store.state(CHANNEL, 'A')?.pushedVersion).toBe(1);
  });
});

describe('ChannelDispatcher: lifecycle', () => {
  it('aborts the push in flight on stop and pushes nothing afterwards', async () => {
    const { dispatcher, store, connector, clock } = dispatchHarness();
    await dispatcher.start();
    connector.hold();
    dispatcher.notify([store.apply('A', 1)]);
    await connector.waitForCalls(1);
    await dispatcher.stop();
    expect(connector.calls[0]!.signal.aborted).toBe(true);
    dispatcher.notify([store.apply('A', 2)]);
    await clock.advance(50);
    expect(connector.calls).toHaveLength(1);
    expect(store.state(CHANNEL, 'A')?.pushedVersion ?? 0).toBe(0);
  });

  it('reports what waits, what is in flight and since when', async () => {
    const { dispatcher, store, connector, clock } = dispatchHarness({ limits: { maxBatchSize: 1, concurrency: 1 } });
    await dispatcher.start();
    const release = connector.hold();
    const occurredAt = new Date(clock.now() - 5_000);
    dispatcher.notify([store.apply('A', 1, { occurredAt }), store.apply('B', 2)]);
    await connector.waitForCalls(1);
    expect(dispatcher.snapshot()).toEqual({
      channelId: CHANNEL,
      pending: 1,
      inFlight: 1,
      throttledUntil: 0,
      deadLettered: 0,
      oldestPendingAt: occurredAt.getTime(),
    });
    release();
    await settled(dispatcher);
    expect(dispatcher.snapshot()).toMatchObject({ pending: 0, inFlight: 0, oldestPendingAt: null });
  });
});
