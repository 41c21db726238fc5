import { describe, expect, it } from 'vitest';
import type { EffectiveLimits } from '../../core/dispatch/dispatch-types.ts';
import { LateWrites } from '../../core/dispatch/late-writes.ts';
import { ManualClock } from '../../core/dispatch/manual-clock.ts';
import { OVERDUE_MS, PushScheduler, RATE_HEADROOM } from '../../core/dispatch/push-scheduler.ts';
import { SkuPushState } from '../../core/dispatch/sku-push-state.ts';

const T0 = 1_000_000;

function scheduler(limits: Partial<EffectiveLimits> = {}, canReadBack = false): PushScheduler {
  return new PushScheduler({
    limits: { maxBatchSize: 10, perSecond: 1000, burst: 1000, concurrency: 4, compareAndSet: false, ...limits },
    rules: { reserve: 0, share: 1 },
    canReadBack: () => canReadBack,
    now: T0,
  });
}

/** A SKU behind the channel: the ledger has `available`, changed at `occurredAt`. */
function due(sku: string, available: number, occurredAt = T0): SkuPushState {
  const state = new SkuPushState(sku);
  state.observe(1, available, occurredAt, false, occurredAt);
  return state;
}

const skusOf = (batches: ReadonlyArray<ReadonlyArray<{ update: { sku: string } }>>): string[][] => batches.map((b) => b.map((i) => i.update.sku));

describe('PushScheduler', () => {
  it('plans moves to zero first, then overdue SKUs, then the scarcest, in batches of the channel maximum', () => {
    const states = [due('A', 50), due('B', 0), due('C', 7), due('OLD', 90, T0 - OVERDUE_MS - 1), due('E', 3)];
    const plan = scheduler({ maxBatchSize: 2 }).plan(states, T0, 4);
    expect(skusOf(plan.pushes)).toEqual([['B', 'OLD'], ['E', 'C'], ['A']]);
    expect(states.every((s) => s.inFlight)).toBe(true);
  });

  it('plans no more calls than are free, and leaves the rest unmarked', () => {
    const states = ['A', 'B', 'C'].map((sku, i) => due(sku, i + 1));
    const plan = scheduler({ maxBatchSize: 1 }).plan(states, T0, 2);
    expect(skusOf(plan.pushes)).toEqual([['A'], ['B']]);
    expect(states[2]!.inFlight).toBe(false);
  });

  it('paces calls by the token bucket and says when the next token is due', () => {
    const pacer = scheduler({ maxBatchSize: 1, perSecond: 10, burst: 2 });
    const plan = pacer.plan([due('A', 1), due('B', 2)], T0, 4);
    // Burst 2 less one token of headroom: one call now, the next one token later.
    expect(plan.pushes).toHaveLength(1);
    expect(plan.wakeAt).toBe(T0 + Math.ceil(1000 / (10 * RATE_HEADROOM)));
  });

  it('plans nothing while the channel is throttled, and one probe call when the pause ends', () => {
    const pacer = scheduler({ maxBatchSize: 1 });
    const { until } = pacer.throttled(400, { baseMs: 10, maxMs: 100 }, T0);
    expect(until).toBe(T0 + 400);
    expect(pacer.plan([due('A', 1)], T0 + 399, 4)).toMatchObject({ pushes: [], wakeAt: T0 + 400 });
    expect(pacer.pausedUntil(T0 + 399)).toBe(T0 + 400);
    expect(pacer.plan([due('B', 1), due('C', 2)], T0 + 400, 4).pushes).toHaveLength(1);
  });

  it('without Retry-After waits the whole exponential ceiling, growing with throttles in a row until a confirmation', () => {
    const pacer = scheduler();
    const backoff = { baseMs: 100, maxMs: 1_000 };
    expect([1, 2, 3].map(() => pacer.throttled(undefined, backoff, T0).waitMs)).toEqual([100, 200, 400]);
    pacer.confirmed();
    expect(pacer.throttled(undefined, backoff, T0).waitMs).toBe(100);
  });

  it('holds a SKU in backoff and one whose pushed write may be overwritten by a late one, and wakes at the earliest', () => {
    const backingOff = due('A', 1);
    backingOff.notBefore = T0 + 300;
    const unverified = due('B', 2);
    unverified.lateWrites = new LateWrites(T0 + 200, undefined);
    unverified.lateWrites.pushedVersion = 1;
    const plan = scheduler().plan([backingOff, unverified], T0, 4);
    expect(plan).toMatchObject({ pushes: [], readBacks: [], wakeAt: T0 + 200 });
  });

  it('reads back a SKU whose late-write window closed when the connector can, instead of writing it', () => {
    const closed = due('A', 5);
    closed.lateWrites = new LateWrites(T0 - 1, undefined);
    const plan = scheduler({}, true).plan([closed], T0, 4);
    expect(plan.readBacks).toEqual([[closed]]);
    expect(plan.pushes).toEqual([]);
  });

  it('confirms without a call a SKU the channel already shows as asked', () => {
    const same = due('A', 5);
    same.adoptConfirmed(0, 5);
    same.confirmedQuantity = 5;
    const plan = scheduler().plan([same], T0, 4);
    expect(plan.unchanged).toEqual([{ state: same, quantity: 5 }]);
    expect(plan.pushes).toEqual([]);
  });

  it('never holds a move to zero on a revision-budgeted channel, but holds a rise', () => {
    const budgeted = scheduler({ dailyRevisionsPerSku: 250 });
    const rise = due('UP', 9);
    rise.confirmedQuantity = 5;
    const fall = due('ZERO', 0);
    fall.confirmedQuantity = 5;
    const plan = budgeted.plan([rise, fall], T0, 4);
    expect(skusOf(plan.pushes)).toEqual([['ZERO']]);
    expect(plan.wakeAt).toBeGreaterThan(T0);
  });
});

describe('ManualClock', () => {
  it('fires timers in order at their due time, only as far as it is moved, and never a cleared one', async () => {
    const clock = new ManualClock({ start: 0 });
    const fired: Array<[string, number]> = [];
    clock.setTimeout(() => fired.push(['b', clock.now()]), 20);
    clock.setTimeout(() => fired.push(['a', clock.now()]), 10);
    const cleared = clock.setTimeout(() => fired.push(['x', clock.now()]), 5);
    clock.clearTimeout(cleared);
    await clock.advance(15);
    expect(fired).toEqual([['a', 10]]);
    expect(clock.now()).toBe(15);
    expect(await clock.runNext()).toBe(true);
    expect(fired).toEqual([['a', 10], ['b', 20]]);
    expect(await clock.runNext()).toBe(false);
  });

  it('lets a timer set by a firing timer fire within the same advance', async () => {
    const clock = new ManualClock({ start: 0 });
    const fired: number[] = [];
    clock.setTimeout(() => clock.setTimeout(() => fired.push(clock.now()), 10), 10);
    await clock.advance(25);
    expect(fired).toEqual([20]);
  });
});
