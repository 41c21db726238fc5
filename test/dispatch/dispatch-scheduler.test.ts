import { afterEach, describe, expect, it } from 'vitest';
import type { EffectiveLimits } from '../../core/dispatch/dispatch-types.ts';
import { HiddenEverywhere } from '../../core/dispatch/hidden-everywhere.ts';
import { LateWrites } from '../../core/dispatch/late-writes.ts';
import { ManualClock } from '../../core/dispatch/manual-clock.ts';
import { OVERDUE_MS, PushScheduler, RATE_HEADROOM } from '../../core/dispatch/push-scheduler.ts';
import { SALES_GAP_EVIDENCE, SALES_RATE_HALF_LIFE_MS, SALES_RATE_MIN_WINDOW_MS, SalesRate } from '../../core/dispatch/sales-rate.ts';
import { SkuPushState } from '../../core/dispatch/sku-push-state.ts';
import { dispatchHarness, stopDispatchers, until } from '../support/dispatch-harness.ts';

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

describe('PushScheduler: risk first when the channel cannot keep up', () => {
  /** A one-SKU-per-call channel with one call free, whose sales are measured on `clock`. */
  function riskScheduler(clock: ManualClock): { pacer: PushScheduler; sales: SalesRate } {
    const sales = new SalesRate(clock);
    const pacer = new PushScheduler({
      limits: { maxBatchSize: 1, perSecond: 5, burst: 5, concurrency: 1, compareAndSet: false },
      rules: { reserve: 0, share: 1 },
      canReadBack: () => false,
      now: clock.now(),
      sales,
    });
    return { pacer, sales };
  }

  /** `units` sold of `sku`, one a second, ending now. */
  async function sell(clock: ManualClock, sales: SalesRate, sku: string, units: number): Promise<void> {
    for (let i = 0; i < units; i += 1) {
      sales.sold(sku, 1);
      await clock.advance(1_000 / units);
    }
  }

  it('spends the call on the SKU that is selling, of two with the same stock', async () => {
    const clock = new ManualClock({ start: T0 });
    const { pacer, sales } = riskScheduler(clock);
    await sell(clock, sales, 'HOT', 10);
    const plan = pacer.plan([due('COLD', 20, T0), due('HOT', 20, T0)], clock.now(), 1);
    expect(skusOf(plan.pushes)).toEqual([['HOT']]);
  });

  it('puts the SKU with the least stock against its sales rate ahead of a scarcer one that sells slowly', async () => {
    const clock = new ManualClock({ start: T0 });
    const { pacer, sales } = riskScheduler(clock);
    // FAST: 100 left at about 40 units/s sells out in seconds; SLOW: 10 left, hardly selling.
    await sell(clock, sales, 'FAST', 40);
    sales.sold('SLOW', 1);
    const plan = pacer.plan([due('SLOW', 10, T0), due('FAST', 100, T0)], clock.now(), 1);
    expect(skusOf(plan.pushes)).toEqual([['FAST']]);
  });

  it('of two SKUs alike in stock and sales, pushes first the one the channel has shown wrong for longer', async () => {
    const clock = new ManualClock({ start: T0 });
    const { pacer, sales } = riskScheduler(clock);
    await clock.advance(5_000);
    sales.sold('NEW', 5);
    sales.sold('STALE', 5);
    const plan = pacer.plan([due('NEW', 30, clock.now() - 100), due('STALE', 30, clock.now() - 2_000)], clock.now(), 1);
    expect(skusOf(plan.pushes)).toEqual([['STALE']]);
  });

  it('lets a rise wait behind a fall, however long it waited: showing fewer units than are left cannot oversell', async () => {
    const clock = new ManualClock({ start: T0 });
    const { pacer } = riskScheduler(clock);
    await clock.advance(2_000);
    const rise = due('UP', 8, T0);
    rise.confirmedQuantity = 5;
    const fall = due('DOWN', 40, clock.now());
    fall.confirmedQuantity = 41;
    const plan = pacer.plan([rise, fall], clock.now(), 1);
    expect(skusOf(plan.pushes)).toEqual([['DOWN']]);
  });

  it('still sends a move to zero before the SKU most at risk', async () => {
    const clock = new ManualClock({ start: T0 });
    const { pacer, sales } = riskScheduler(clock);
    await sell(clock, sales, 'HOT', 50);
    const plan = pacer.plan([due('HOT', 1, T0), due('GONE', 0, clock.now())], clock.now(), 1);
    expect(skusOf(plan.pushes)).toEqual([['GONE']]);
  });

  it('still sends a SKU overdue for the sync-lag alarm before the SKU most at risk, so none starves', async () => {
    const clock = new ManualClock({ start: T0 });
    const { pacer, sales } = riskScheduler(clock);
    await sell(clock, sales, 'HOT', 50);
    const plan = pacer.plan([due('HOT', 1, clock.now()), due('IDLE', 500, clock.now() - OVERDUE_MS)], clock.now(), 1);
    expect(skusOf(plan.pushes)).toEqual([['IDLE']]);
  });

  it('expects a refresh to take longer the longer the queue and the slower the calls', () => {
    const clock = new ManualClock({ start: T0 });
    const { pacer } = riskScheduler(clock);
    // 5 calls/s less headroom, one SKU per call: a SKU behind ten queued ones waits for eleven calls.
    expect(pacer.refreshMs(10)).toBeCloseTo((11 * 1_000) / (5 * RATE_HEADROOM), 5);
    // One call in flight taking 500 ms: two calls a second at most, whatever the rate.
    pacer.answered(500);
    expect(pacer.refreshMs(10)).toBeCloseTo(500 + 11 * 500, 5);
  });
});

describe('ChannelDispatcher: risk first', () => {
  afterEach(stopDispatchers);

  it('learns sales rates from the orders it is told of, and pushes the selling SKU before an idle one', async () => {
    const { dispatcher, store, connector } = dispatchHarness({ limits: { maxBatchSize: 1, concurrency: 1 } });
    await dispatcher.start();
    const release = connector.hold();
    dispatcher.notify([store.apply('FIRST', 5)]);
    await until(dispatcher, () => connector.calls.length === 1, 'the first call');
    // While the only call is open: two SKUs end at 20 units each, one of them after selling 20.
    dispatcher.notify([store.apply('IDLE', 20), store.apply('HOT', 40)]);
    for (let left = 39; left >= 20; left -= 1) dispatcher.notify([store.apply('HOT', left, { channel: 'other', eventType: 'order.confirmed' })]);
    release();
    await until(dispatcher, () => connector.calls.length === 3, 'both pushed');
    expect(connector.calls.map((call) => call.updates.map((u) => u.sku))).toEqual([['FIRST'], ['HOT'], ['IDLE']]);
  });
});

/** `count` commits 100 ms apart, each with one unit of `sku` sold (ten units a second), as the hub feeds them. */
async function commitsOf(clock: ManualClock, sales: SalesRate, sku: string, count: number): Promise<void> {
  for (let i = 0; i < count; i += 1) {
    sales.sold(sku, 1);
    sales.observed();
    await clock.advance(100);
  }
}

describe('SalesRate', () => {
  it('reads a steady stream of sales as its rate in units per second', async () => {
    const clock = new ManualClock({ start: T0 });
    const sales = new SalesRate(clock);
    // Four units a second for ten half-lives: the estimate has settled (to within 2^-10).
    for (let i = 0; i < (10 * SALES_RATE_HALF_LIFE_MS) / 250; i += 1) {
      sales.sold('A', 1);
      await clock.advance(250);
    }
    expect(sales.perSecond('A')).toBeGreaterThan(3.9);
    expect(sales.perSecond('A')).toBeLessThan(4.1);
    expect(sales.perSecond('B')).toBe(0);
  });

  it('halves every half-life once a SKU that sold for long stops selling, then forgets it', async () => {
    const clock = new ManualClock({ start: T0 });
    const sales = new SalesRate(clock);
    for (let i = 0; i < 10; i += 1) {
      sales.sold('A', 100);
      await clock.advance(SALES_RATE_HALF_LIFE_MS);
    }
    const first = sales.perSecond('A');
    await clock.advance(SALES_RATE_HALF_LIFE_MS);
    expect(sales.perSecond('A') / (first / 2)).toBeCloseTo(1, 2);
    await clock.advance(30 * SALES_RATE_HALF_LIFE_MS);
    expect(sales.perSecond('A')).toBe(0);
  });

  it('reads a flash sale that started seconds ago at its rate, not diluted over the half-life', async () => {
    const clock = new ManualClock({ start: T0 });
    const sales = new SalesRate(clock);
    // Ten units a second for ten seconds, a third of a half-life.
    for (let i = 0; i < 100; i += 1) {
      sales.sold('A', 1);
      await clock.advance(100);
    }
    expect(sales.perSecond('A')).toBeGreaterThan(9);
    expect(sales.perSecond('A')).toBeLessThan(11);
  });

  it('stops reading a rush within seconds of its end: a silence that long is unlikely at the old rate', async () => {
    const clock = new ManualClock({ start: T0 });
    const sales = new SalesRate(clock);
    for (let i = 0; i < 200; i += 1) {
      sales.sold('A', 1);
      await clock.advance(100);
    }
    expect(sales.perSecond('A')).toBeGreaterThan(9);
    await clock.advance(10_000);
    // Without the cap the kernel would still read ten units a second times 2^(−10/30), about 7.9.
    expect(sales.perSecond('A')).toBeLessThanOrEqual((SALES_GAP_EVIDENCE * 1) / 10 + 1e-9);
  });

  it('reads a SKU that sells in every commit at its rate, however far apart the commits come', async () => {
    const clock = new ManualClock({ start: T0 });
    const sales = new SalesRate(clock);
    // Five hundred units a second, seen in commits 200 ms apart; read 150 ms after the last one.
    for (let commit = 0; commit < 50; commit += 1) {
      for (let i = 0; i < 100; i += 1) sales.sold('A', 1);
      sales.observed();
      await clock.advance(commit === 49 ? 150 : 200);
    }
    expect(sales.perSecond('A')).toBeGreaterThan(450);
  });

  it('caps a SKU that stopped selling while commits of other SKUs keep coming', async () => {
    const clock = new ManualClock({ start: T0 });
    const sales = new SalesRate(clock);
    await commitsOf(clock, sales, 'A', 100);
    await commitsOf(clock, sales, 'B', 100);
    expect(sales.perSecond('A')).toBeLessThanOrEqual(SALES_GAP_EVIDENCE / 9.9);
  });

  // Two reasons a SKU cannot sell: it stands at 0, or every channel shows it at 0 (forecasts hid it everywhere).
  it.each([
    { cause: 'stood sold out', stop: (s: SalesRate) => s.stands('A', 0), resume: (s: SalesRate) => s.stands('A', 200) },
    { cause: 'was shown at 0 on every channel', stop: (s: SalesRate) => s.hiddenEverywhere('A', true), resume: (s: SalesRate) => s.hiddenEverywhere('A', false) },
  ])('does not count the time a SKU $cause as silence: it reads at the rate it sold at, and a silence after counts again', async ({ stop, resume }) => {
    const clock = new ManualClock({ start: T0 });
    const sales = new SalesRate(clock);
    await commitsOf(clock, sales, 'A', 100);
    stop(sales);
    await commitsOf(clock, sales, 'B', 50);
    // A hundred units over the fifteen seconds watched (the kernel's reading, about 6.7 a second), not a
    // rush that ended five seconds ago (capped at 4.6 / 5 s, under one a second).
    expect(sales.perSecond('A')).toBeGreaterThan(6);
    resume(sales);
    expect(sales.perSecond('A')).toBeGreaterThan(6);
    await commitsOf(clock, sales, 'B', 100);
    expect(sales.perSecond('A')).toBeLessThanOrEqual(SALES_GAP_EVIDENCE / 9.9);
  });

  it('knows a SKU hidden everywhere once every channel pushed was confirmed showing it at 0, and shown again once one shows it', () => {
    const flips: Array<[string, boolean]> = [];
    const hidden = new HiddenEverywhere(() => 3, (sku, h) => flips.push([sku, h]));
    hidden.confirmed('a', 'HOT', 0);
    hidden.confirmed('b', 'HOT', 0);
    expect(flips).toEqual([]);
    hidden.confirmed('c', 'HOT', 0);
    hidden.confirmed('c', 'HOT', 0);
    expect(flips).toEqual([['HOT', true]]);
    hidden.confirmed('b', 'HOT', 4);
    expect(flips).toEqual([
      ['HOT', true],
      ['HOT', false],
    ]);
    hidden.confirmed('b', 'HOT', 0);
    hidden.released('a');
    expect(flips.at(-1)).toEqual(['HOT', false]);
  });

  it('counts a silence in sales, not units: a SKU bought ten at a time is capped ten times higher', async () => {
    const clock = new ManualClock({ start: T0 });
    const sales = new SalesRate(clock);
    for (let i = 0; i < 20; i += 1) {
      sales.sold('A', 10);
      await clock.advance(1_000);
    }
    await clock.advance(9_000);
    expect(sales.perSecond('A')).toBeCloseTo((SALES_GAP_EVIDENCE * 10) / 10, 6);
  });

  it('reads a SKU still selling at its rate between two of its sales', async () => {
    const clock = new ManualClock({ start: T0 });
    const sales = new SalesRate(clock);
    for (let i = 0; i < (10 * SALES_RATE_HALF_LIFE_MS) / 2_000; i += 1) {
      sales.sold('A', 1);
      await clock.advance(2_000);
    }
    // Half a unit a second, read just before the next sale is due.
    expect(sales.perSecond('A')).toBeGreaterThan(0.45);
    expect(sales.perSecond('A')).toBeLessThan(0.55);
  });

  it('does not read one order as a rush: a single sale counts as sold over a few seconds at least', () => {
    const clock = new ManualClock({ start: T0 });
    const sales = new SalesRate(clock);
    sales.sold('A', 2);
    // Two units over the shortest window, give or take the kernel's own decay across it.
    expect(sales.perSecond('A')).toBeLessThan((1.1 * 2) / (SALES_RATE_MIN_WINDOW_MS / 1_000));
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
