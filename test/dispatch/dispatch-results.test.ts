import { afterEach, describe, expect, it } from 'vitest';
import { RetryableError } from '../../core/errors.ts';
import type { ConnectorInstance, PushResult, StockUpdate } from '../../core/sdk.ts';
import { CHANNEL, dispatchHarness, settled, stopDispatchers, until } from '../support/dispatch-harness.ts';
import type { RecordingConnector } from '../support/recording-connector.ts';

afterEach(stopDispatchers);

const ok = (sku: string): PushResult => ({ sku, status: 'ok' });
const never = (): Promise<PushResult[]> => new Promise<PushResult[]>(() => {});

/** Gives the recording connector a read-back of what it shows. */
function withReadBack(connector: RecordingConnector): { reads: string[][] } {
  const log = { reads: [] as string[][] };
  (connector as ConnectorInstance).fetchQuantities = async (skus) => {
    log.reads.push([...skus]);
    return new Map(skus.filter((sku) => connector.shown.has(sku)).map((sku) => [sku, connector.shown.get(sku)!]));
  };
  return log;
}

describe('ChannelDispatcher: a push that times out (its write may land later)', () => {
  it('never records a newer quantity as confirmed while the timed-out write may still land on top of it', async () => {
    const { dispatcher, store, connector, clock } = dispatchHarness({ pushTimeoutMs: 100, lateWriteWindowMs: 500 });
    await dispatcher.start();
    let landed = false;
    connector.respond = (updates, call) => {
      if (connector.calls.indexOf(call) !== 0) return updates.map((u) => ok(u.sku));
      // The channel sits on the first write past the hub's timeout, then applies it anyway.
      clock.setTimeout(() => {
        for (const u of updates) connector.shown.set(u.sku, u.quantity);
        landed = true;
      }, 300);
      return never();
    };
    dispatcher.notify([store.apply('A', 9)]);
    await until(dispatcher, () => connector.calls[0]?.signal.aborted === true);
    dispatcher.notify([store.apply('A', 4)]);
    // Looked at after every step of virtual time: nothing changes between two steps.
    const wrongConfirmations: string[] = [];
    const sample = (): void => {
      const state = store.state(CHANNEL, 'A');
      if (state?.pushedVersion === 2 && connector.shown.get('A') !== state.pushedQuantity) {
        wrongConfirmations.push(`confirmed ${state.pushedQuantity}, channel shows ${connector.shown.get('A')}`);
      }
    };
    await until(dispatcher, () => (sample(), landed));
    await settled(dispatcher);
    sample();
    expect(connector.shown.get('A')).toBe(4);
    expect(store.state(CHANNEL, 'A')).toMatchObject({ pushedVersion: 2, pushedQuantity: 4 });
    expect(wrongConfirmations).toEqual([]);
  });

  it('proves the quantity by reading it back once the window is over, without writing it again', async () => {
    const { dispatcher, store, connector } = dispatchHarness({ pushTimeoutMs: 100, lateWriteWindowMs: 300 });
    const { reads } = withReadBack(connector);
    await dispatcher.start();
    // The first write is lost for good (never lands); the next one is taken.
    connector.respond = (updates, call) => (connector.calls.indexOf(call) === 0 ? never() : updates.map((u) => ok(u.sku)));
    dispatcher.notify([store.apply('A', 6)]);
    await settled(dispatcher);
    expect(reads).toEqual([['A']]);
    expect(connector.updatesFor('A')).toHaveLength(2);
    expect(store.state(CHANNEL, 'A')).toMatchObject({ pushedVersion: 1, pushedQuantity: 6 });
  });

  it('pushes again when the read-back shows the late write landed', async () => {
    const { dispatcher, store, connector, clock } = dispatchHarness({ pushTimeoutMs: 100, lateWriteWindowMs: 400 });
    const { reads } = withReadBack(connector);
    await dispatcher.start();
    connector.respond = (updates, call) => {
      if (connector.calls.indexOf(call) !== 0) return updates.map((u) => ok(u.sku));
      clock.setTimeout(() => connector.shown.set('A', 9), 250);
      return never();
    };
    dispatcher.notify([store.apply('A', 9)]);
    await until(dispatcher, () => connector.calls[0]?.signal.aborted === true);
    dispatcher.notify([store.apply('A', 3)]);
    await settled(dispatcher);
    expect(reads.length).toBeGreaterThanOrEqual(1);
    expect(connector.updatesFor('A').at(-1)).toMatchObject({ quantity: 3, version: 2 });
    expect(connector.shown.get('A')).toBe(3);
    expect(store.state(CHANNEL, 'A')).toMatchObject({ pushedVersion: 2, pushedQuantity: 3 });
  });

  it('pushes again when the read-back shows a late write on top of a quantity it had confirmed before', async () => {
    const { dispatcher, store, connector, clock } = dispatchHarness({ pushTimeoutMs: 100, lateWriteWindowMs: 400 });
    withReadBack(connector);
    await dispatcher.start();
    dispatcher.notify([store.apply('A', 0)]);
    await settled(dispatcher);
    expect(store.state(CHANNEL, 'A')).toMatchObject({ pushedQuantity: 0 });
    connector.respond = (updates, call) => {
      if (connector.calls.indexOf(call) !== 1) return updates.map((u) => ok(u.sku));
      // The rise to 9 gets no answer, and lands after the fall back to 0 was written.
      clock.setTimeout(() => connector.shown.set('A', 9), 250);
      return never();
    };
    dispatcher.notify([store.apply('A', 9)]);
    await until(dispatcher, () => connector.calls[1]?.signal.aborted === true);
    dispatcher.notify([store.apply('A', 0)]);
    await settled(dispatcher);
    // The channel showed 0 once before; after the late 9 that says nothing: it is pushed, not skipped.
    expect(connector.shown.get('A')).toBe(0);
    expect(store.state(CHANNEL, 'A')).toMatchObject({ pushedQuantity: 0 });
  });

  it('on a compare-and-set channel, confirms a newer quantity at once: the late write no longer matches its base', async () => {
    // A window far longer than the test: confirming must not wait for it.
    const { dispatcher, store, connector, clock } = dispatchHarness({ pushTimeoutMs: 100, lateWriteWindowMs: 60_000, limits: { compareAndSet: true } });
    await dispatcher.start();
    dispatcher.notify([store.apply('A', 10)]);
    await settled(dispatcher);
    connector.respond = (updates, call) => (connector.calls.indexOf(call) === 1 ? never() : updates.map((u) => ok(u.sku)));
    dispatcher.notify([store.apply('A', 9)]);
    await until(dispatcher, () => connector.calls[1]?.signal.aborted === true);
    const timedOutAt = clock.now();
    dispatcher.notify([store.apply('A', 4)]);
    await settled(dispatcher);
    // Settled well inside the 60 s window: the confirmation did not wait for it.
    expect(clock.now() - timedOutAt).toBeLessThan(60_000);
    const updates = connector.updatesFor('A');
    expect(updates[1]).toEqual({ sku: 'A', quantity: 9, version: 2, previousQuantity: 10 });
    expect(updates.slice(1).every((u) => u.previousQuantity !== undefined)).toBe(true);
    expect(updates.at(-1)).toMatchObject({ quantity: 4, version: 3 });
    expect(store.state(CHANNEL, 'A')).toMatchObject({ pushedVersion: 3, pushedQuantity: 4 });
  });

  it('records the write in flight before sending it, so a successor knows it may land', async () => {
    const { dispatcher, store, connector } = dispatchHarness({ pushTimeoutMs: 100, lateWriteWindowMs: 200 });
    await dispatcher.start();
    connector.hold();
    dispatcher.notify([store.apply('A', 5)]);
    await connector.waitForCalls(1);
    const writeUntil = store.state(CHANNEL, 'A')?.writeUntil?.getTime() ?? 0;
    expect(writeUntil).toBeGreaterThanOrEqual(connector.calls[0]!.startedAt + 100 + 200);
    const order = store.calls.map((c) => c.method);
    expect(order.indexOf('recordWriting')).toBeGreaterThan(-1);
  });
});

describe('ChannelDispatcher: what a plugin answers', () => {
  const cases: Array<[string, (sku: string) => unknown[]]> = [
    ['a null entry', () => [null]],
    ['a result without a reason', (sku) => [{ sku, status: 'rejected' }]],
    ['an empty reason', (sku) => [{ sku, status: 'retry', reason: '  ' }]],
    ['an unknown status', (sku) => [{ sku, status: 'done' }]],
    ['two results for one SKU', (sku) => [{ sku, status: 'ok' }, { sku, status: 'ok' }]],
    ['only a result for a SKU not in the push', () => [{ sku: 'OTHER', status: 'ok' }]],
    ['something that is not an array', () => ({ ok: true }) as unknown as unknown[]],
  ];
  for (const [what, answer] of cases) {
    it(`treats ${what} as a failed attempt that ends in a dead letter naming the plugin`, async () => {
      // A plain plugin object: whatever it resolves with reaches the dispatcher untouched.
      let calls = 0;
      const plugin = { push: async (updates: readonly StockUpdate[]) => ((calls += 1), answer(updates[0]!.sku)) };
      const { dispatcher, store, letters } = dispatchHarness({
        maxAttempts: 3,
        backoffBaseMs: 5,
        backoffMaxMs: 10,
        connectorName: 'bad-plugin',
        connector: plugin as unknown as RecordingConnector,
      });
      await dispatcher.start();
      dispatcher.notify([store.apply('A', 1)]);
      await settled(dispatcher);
      expect(calls).toBe(3);
      expect(letters).toHaveLength(1);
      expect(letters[0]).toMatchObject({ sku: 'A', attempts: 3 });
      expect(letters[0]!.reason).toMatch(/bad-plugin/);
      expect(letters[0]!.reason).toMatch(/shop/);
      expect(store.state(CHANNEL, 'A')?.deadLetteredAt).toBeInstanceOf(Date);
    });
  }

  it('keeps the valid results of a batch that also holds an invalid one', async () => {
    const { dispatcher, store, connector, letters } = dispatchHarness({ maxAttempts: 1 });
    await dispatcher.start();
    connector.respond = (updates) => updates.map((u) => (u.sku === 'B' ? ({ sku: 'B', status: 'busy' } as unknown as PushResult) : ok(u.sku)));
    dispatcher.notify([store.apply('A', 1), store.apply('B', 2)]);
    await settled(dispatcher);
    expect(store.state(CHANNEL, 'A')?.pushedVersion).toBe(1);
    expect(letters.map((l) => l.sku)).toEqual(['B']);
  });
});

describe('ChannelDispatcher: busy and not listed', () => {
  it('retries a busy item later without spending its attempts', async () => {
    const { dispatcher, store, connector, letters } = dispatchHarness({ maxAttempts: 2, backoffBaseMs: 5, backoffMaxMs: 20 });
    await dispatcher.start();
    let busy = 5;
    connector.respond = (updates) => updates.map((u): PushResult => (busy-- > 0 ? { sku: u.sku, status: 'busy', reason: 'listing is being edited' } : ok(u.sku)));
    dispatcher.notify([store.apply('A', 7)]);
    await settled(dispatcher);
    expect(connector.calls).toHaveLength(6);
    expect(letters).toEqual([]);
    expect(store.state(CHANNEL, 'A')).toMatchObject({ pushedVersion: 1, pushedQuantity: 7 });
  });

  it('waits ever longer between tries of an item that stays busy, and at least as long as the channel asked', async () => {
    const { dispatcher, store, connector, clock } = dispatchHarness({ backoffBaseMs: 20, backoffMaxMs: 160 });
    await dispatcher.start();
    connector.respond = (updates) => updates.map((u): PushResult => ({ sku: u.sku, status: 'busy', reason: 'locked', afterMs: 30 }));
    dispatcher.notify([store.apply('A', 7)]);
    await clock.advance(1_200);
    const starts = connector.calls.map((c) => c.startedAt);
    const gaps = starts.slice(1).map((t, i) => t - starts[i]!);
    // Delays of at least 30 ms growing to 80..160 ms allow at most about 17 calls in 1.2 s, never a spin.
    expect(connector.calls.length).toBeGreaterThanOrEqual(3);
    expect(connector.calls.length).toBeLessThanOrEqual(20);
    for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(30);
    expect(dispatcher.skuStatus('A')).toMatchObject({ attempts: 0, deadLettered: false, lastError: 'locked' });
  });

  it('stops pushing a SKU the channel does not list, records why, and does not dead-letter it', async () => {
    const { dispatcher, store, connector, letters, clock } = dispatchHarness({ configFingerprint: 'cfg-1', reconcileIntervalMs: 100 });
    await dispatcher.start();
    connector.respond = (updates) => updates.map((u): PushResult => (u.sku === 'GONE' ? { sku: u.sku, status: 'not_listed', reason: 'no offer for this SKU' } : ok(u.sku)));
    dispatcher.notify([store.apply('GONE', 3)]);
    await settled(dispatcher);
    dispatcher.notify([store.apply('GONE', 2)]);
    await clock.advance(350);
    await settled(dispatcher);
    expect(connector.updatesFor('GONE')).toHaveLength(1);
    expect(letters).toEqual([]);
    expect(store.state(CHANNEL, 'GONE')?.notListed).toMatchObject({ reason: 'no offer for this SKU', config: 'cfg-1' });
    expect(dispatcher.skuStatus('GONE')?.notListed).toMatchObject({ reason: 'no offer for this SKU' });
  });

  it('pushes a not-listed SKU again when the channel config changed or an operator retries it', async () => {
    const first = dispatchHarness({ configFingerprint: 'cfg-1' });
    await first.dispatcher.start();
    first.connector.respond = (updates) => updates.map((u): PushResult => ({ sku: u.sku, status: 'not_listed', reason: 'unknown variant' }));
    first.dispatcher.notify([first.store.apply('GONE', 3)]);
    await settled(first.dispatcher);
    await first.dispatcher.stop();

    const same = dispatchHarness({ store: first.store, clock: first.clock, configFingerprint: 'cfg-1' });
    await same.dispatcher.start();
    await settled(same.dispatcher);
    expect(same.connector.calls).toHaveLength(0);
    expect(await same.dispatcher.retry(['GONE'])).toEqual(['GONE']);
    await settled(same.dispatcher);
    expect(same.connector.updatesFor('GONE')).toHaveLength(1);
    await same.dispatcher.stop();

    first.store.channels.get(CHANNEL)!.get('GONE')!.notListed = { at: new Date(first.clock.now()), reason: 'unknown variant', config: 'cfg-1' };
    first.store.channels.get(CHANNEL)!.get('GONE')!.pushedVersion = 0;
    const changed = dispatchHarness({ store: first.store, clock: first.clock, configFingerprint: 'cfg-2' });
    await changed.dispatcher.start();
    await settled(changed.dispatcher);
    expect(changed.connector.updatesFor('GONE')).toHaveLength(1);
    expect(first.store.state(CHANNEL, 'GONE')).toMatchObject({ pushedVersion: 1, notListed: null });
  });
});

describe('ChannelDispatcher: parked SKUs', () => {
  it('brings SKUs that ran out of attempts back as soon as the channel confirms a push again', async () => {
    const { dispatcher, store, connector, letters } = dispatchHarness({ maxAttempts: 2, backoffBaseMs: 5, backoffMaxMs: 10, reconcileIntervalMs: 600_000 });
    await dispatcher.start();
    let down = true;
    connector.respond = (updates) => {
      if (down) throw new RetryableError('503 Service Unavailable');
      return updates.map((u) => ok(u.sku));
    };
    dispatcher.notify([store.apply('A', 4), store.apply('B', 5)]);
    await settled(dispatcher);
    expect(letters.map((l) => l.sku).sort()).toEqual(['A', 'B']);
    down = false;
    // A change of another SKU goes through: the channel is back, so the parked ones follow at once.
    dispatcher.notify([store.apply('C', 1)]);
    await settled(dispatcher);
    expect(store.state(CHANNEL, 'A')).toMatchObject({ pushedVersion: 1, deadLetteredAt: null });
    expect(store.state(CHANNEL, 'B')).toMatchObject({ pushedVersion: 1, deadLetteredAt: null });
  });

  it('leaves a SKU the channel kept answering "retry" for parked when other pushes succeed', async () => {
    const { dispatcher, store, connector, letters } = dispatchHarness({ maxAttempts: 2, backoffBaseMs: 5, backoffMaxMs: 10, reconcileIntervalMs: 600_000 });
    await dispatcher.start();
    connector.respond = (updates) => updates.map((u): PushResult => (u.sku === 'STUCK' ? { sku: u.sku, status: 'retry', reason: 'internal error for this item' } : ok(u.sku)));
    dispatcher.notify([store.apply('STUCK', 4)]);
    await settled(dispatcher);
    dispatcher.notify([store.apply('C', 1)]);
    await settled(dispatcher);
    expect(connector.updatesFor('STUCK')).toHaveLength(2);
    expect(letters.map((l) => l.sku)).toEqual(['STUCK']);
  });

  it('leaves a SKU the channel refused parked when other pushes succeed', async () => {
    const { dispatcher, store, connector, letters } = dispatchHarness({ reconcileIntervalMs: 600_000 });
    await dispatcher.start();
    connector.respond = (updates) => updates.map((u): PushResult => (u.sku === 'BAD' ? { sku: u.sku, status: 'rejected', reason: 'invalid quantity' } : ok(u.sku)));
    dispatcher.notify([store.apply('BAD', 4)]);
    await settled(dispatcher);
    dispatcher.notify([store.apply('C', 1)]);
    await settled(dispatcher);
    expect(connector.updatesFor('BAD')).toHaveLength(1);
    expect(letters.map((l) => l.sku)).toEqual(['BAD']);
  });
});

describe('ChannelDispatcher: lease fencing', () => {
  it('stops pushing once another process claimed the channel, and tells its owner', async () => {
    let fenced = 0;
    const { dispatcher, store, connector, clock } = dispatchHarness({ onFenced: () => (fenced += 1) });
    await dispatcher.start();
    dispatcher.notify([store.apply('A', 1)]);
    await settled(dispatcher);
    await store.claimChannel(CHANNEL);
    dispatcher.notify([store.apply('A', 2)]);
    await clock.settle();
    expect(fenced).toBe(1);
    dispatcher.notify([store.apply('A', 3)]);
    await clock.advance(50);
    expect(connector.updatesFor('A').map((u) => u.quantity)).toEqual([1]);
    expect(store.state(CHANNEL, 'A')?.pushedVersion).toBe(1);
  });
});
