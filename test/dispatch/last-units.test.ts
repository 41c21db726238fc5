import { afterEach, describe, expect, it } from 'vitest';
import type { ChannelRules } from '../../core/config/config-types.ts';
import type { DispatchObserver, EffectiveLimits } from '../../core/dispatch/dispatch-types.ts';
import type { ChannelDispatcher } from '../../core/dispatch/channel-dispatcher.ts';
import { HOLD_IDLE_MS, HOLDER_CONFIRM_MIN_MS, LastUnits, type LastUnitsOptions } from '../../core/dispatch/last-units.ts';
import { ManualClock } from '../../core/dispatch/manual-clock.ts';
import { PushScheduler, type PushPlan } from '../../core/dispatch/push-scheduler.ts';
import { recordSales, SalesRate } from '../../core/dispatch/sales-rate.ts';
import { SkuPushState } from '../../core/dispatch/sku-push-state.ts';
import type { LedgerChange } from '../../core/ledger/ledger-types.ts';
import { dispatchHarness, harnessClock, stopDispatchers, until } from '../support/dispatch-harness.ts';
import { MemoryChannelState } from '../support/memory-channel-state.ts';

const T0 = 1_000_000;
const FORECASTING: ChannelRules = { reserve: 0, share: 1, forecast: { enabled: true, maxHiddenShare: 1, confidence: 0.5, minHorizonMs: 0, maxHorizonMs: 120_000 } };
/** One SKU per call at five calls a second: a hot SKU sells out between two of its refreshes. */
const SLOW: EffectiveLimits = { maxBatchSize: 1, perSecond: 5, burst: 5, concurrency: 1, compareAndSet: false };

/** Three channels a hub pushes, `fast` landing soonest, and what the sales rate heard. */
function threeChannels(overrides: Partial<LastUnitsOptions> = {}): { units: LastUnits; flips: Array<[string, boolean]>; clock: ManualClock } {
  const landing: Record<string, number> = { slow: 4_000, fast: 300, middle: 1_000 };
  const flips: Array<[string, boolean]> = [];
  const clock = new ManualClock({ start: T0 });
  const units = new LastUnits({
    pushing: () => new Set(Object.keys(landing)),
    pushesAll: () => true,
    canHold: () => true,
    targetOf: () => 0,
    landingMs: (channelId) => landing[channelId]!,
    hiddenChanged: (sku, hidden) => flips.push([sku, hidden]),
    now: () => clock.now(),
    ...overrides,
  });
  return { units, flips, clock };
}

/** Every channel confirms showing `sku` at 0 while the ledger has `available`. */
function hideEverywhere(units: LastUnits, sku: string, available: number): void {
  for (const channelId of ['slow', 'fast', 'middle']) units.confirmed(channelId, sku, 0, available);
}

describe('LastUnits', () => {
  it('offers the last units of a SKU every channel shows at 0 on the one channel whose push lands soonest', () => {
    const { units } = threeChannels();
    units.confirmed('slow', 'HOT', 0, 12);
    units.confirmed('fast', 'HOT', 0, 12);
    expect(units.holderOf('HOT')).toBeUndefined();
    units.confirmed('middle', 'HOT', 0, 12);
    expect(units.holderOf('HOT')).toBe('fast');
  });

  it('offers nothing while the ledger has nothing left', () => {
    const { units } = threeChannels();
    hideEverywhere(units, 'HOT', 0);
    expect(units.holderOf('HOT')).toBeUndefined();
  });

  it('passes over a channel that cannot hold: no forecast, or rules that give it nothing', () => {
    const { units } = threeChannels({ canHold: (channelId) => channelId !== 'fast' });
    hideEverywhere(units, 'HOT', 12);
    expect(units.holderOf('HOT')).toBe('middle');
  });

  it('offers nothing on one channel while another hub pushes some of the channels: those could show the same units', () => {
    const { units } = threeChannels({ pushesAll: () => false });
    hideEverywhere(units, 'HOT', 12);
    expect(units.holderOf('HOT')).toBeUndefined();
  });

  it('keeps the SKU hidden for the sales rate while its holder shows the units: it sells on one channel of many', () => {
    const { units, flips } = threeChannels();
    hideEverywhere(units, 'HOT', 12);
    units.confirmed('fast', 'HOT', 12, 12);
    expect(flips).toEqual([['HOT', true]]);
  });

  it('holds while the holder sells the units, and ends once the ledger reaches 0', () => {
    const { units, flips } = threeChannels();
    hideEverywhere(units, 'HOT', 12);
    units.confirmed('fast', 'HOT', 12, 12);
    units.stands('HOT', 7);
    units.confirmed('fast', 'HOT', 7, 7);
    expect(units.holderOf('HOT')).toBe('fast');
    units.stands('HOT', 0);
    expect(units.holderOf('HOT')).toBeUndefined();
    // The holder still shows units when the hold ends: the SKU shows somewhere again.
    expect(flips).toEqual([
      ['HOT', true],
      ['HOT', false],
    ]);
  });

  it('offers nothing while a channel is to show some of it: its confirmation of 0 came before a restock', () => {
    const { units } = threeChannels({ targetOf: (channelId) => (channelId === 'slow' ? 150 : 0) });
    hideEverywhere(units, 'HOT', 212);
    expect(units.holderOf('HOT')).toBeUndefined();
  });

  it('ends when stock comes back: forecasts decide on every channel again', () => {
    const { units } = threeChannels();
    hideEverywhere(units, 'HOT', 12);
    units.stands('HOT', 212);
    expect(units.holderOf('HOT')).toBeUndefined();
  });

  it('gives the units back to every channel when the holder does not show them in time, and passes it over for the next hold', async () => {
    const { units, clock } = threeChannels();
    hideEverywhere(units, 'HOT', 12);
    expect(units.holderOf('HOT')).toBe('fast');
    await clock.advance(HOLDER_CONFIRM_MIN_MS + 1);
    expect(units.holderOf('HOT')).toBeUndefined();
    units.confirmed('slow', 'HOT', 0, 12);
    expect(units.holderOf('HOT')).toBe('middle');
  });

  it('keeps a holder that showed the units while they keep selling, and ends once they stop: the rush is over', async () => {
    const { units, clock } = threeChannels();
    hideEverywhere(units, 'HOT', 12);
    await clock.advance(HOLDER_CONFIRM_MIN_MS / 2);
    units.confirmed('fast', 'HOT', 12, 12);
    for (let available = 11; available > 6; available -= 1) {
      await clock.advance(HOLD_IDLE_MS - 1);
      units.stands('HOT', available);
      expect(units.holderOf('HOT')).toBe('fast');
    }
    await clock.advance(HOLD_IDLE_MS + 1);
    expect(units.holderOf('HOT')).toBeUndefined();
  });

  it('ends every hold when the hub stops pushing a channel', () => {
    const { units, flips } = threeChannels();
    hideEverywhere(units, 'HOT', 12);
    hideEverywhere(units, 'COLD', 3);
    units.released('slow');
    expect(units.holderOf('HOT')).toBeUndefined();
    expect(units.holderOf('COLD')).toBeUndefined();
    expect(flips.filter(([, hidden]) => !hidden).map(([sku]) => sku).sort()).toEqual(['COLD', 'HOT']);
  });
});

/** A SKU the ledger has `available` of at version 1, behind on the channel. */
function due(sku: string, available: number, at: number): SkuPushState {
  const state = new SkuPushState(sku);
  state.observe(1, available, at, false, at);
  return state;
}

const pushedQuantity = (plan: PushPlan, sku: string): number | undefined => plan.pushes.flat().find((item) => item.update.sku === sku)?.update.quantity;

describe('PushScheduler with a last-units hold', () => {
  /** A slow forecasting channel `channelId`, with HOT selling `perSecond` units a second for ten seconds, and `holder` holding HOT. */
  async function channel(channelId: string, holder: string | undefined, perSecond = 80): Promise<{ scheduler: PushScheduler; clock: ManualClock }> {
    const clock = new ManualClock({ start: T0 });
    const sales = new SalesRate(clock);
    for (let i = 0; i < perSecond * 10; i += 1) {
      sales.sold('HOT', 1);
      await clock.advance(1_000 / perSecond);
    }
    sales.observed();
    const lastUnits = { holderOf: (sku: string) => (sku === 'HOT' ? holder : undefined) };
    return { scheduler: new PushScheduler({ limits: SLOW, rules: FORECASTING, canReadBack: () => false, now: clock.now(), sales, channelId, lastUnits }), clock };
  }

  it('shows the holder what its rules allow, though its forecast would hide every unit', async () => {
    const free = await channel('a', undefined);
    expect(pushedQuantity(free.scheduler.plan([due('HOT', 12, free.clock.now())], free.clock.now(), 1), 'HOT')).toBe(0);
    const { scheduler, clock } = await channel('a', 'a');
    expect(pushedQuantity(scheduler.plan([due('HOT', 12, clock.now())], clock.now(), 1), 'HOT')).toBe(12);
  });

  it('shows every other channel 0 while its own forecast hides any unit', async () => {
    // Selling 3 a second, a fifth of a second's horizon hides under one unit: nothing at one half.
    const calm = await channel('b', 'a', 3);
    expect(pushedQuantity(calm.scheduler.plan([due('HOT', 12, calm.clock.now())], calm.clock.now(), 1), 'HOT')).toBe(12);
    // Selling 40 a second, the forecast alone would show some of 40 units.
    const free = await channel('b', undefined, 40);
    expect(pushedQuantity(free.scheduler.plan([due('HOT', 40, free.clock.now())], free.clock.now(), 1), 'HOT')).toBeGreaterThan(0);
    const { scheduler, clock } = await channel('b', 'a', 40);
    expect(pushedQuantity(scheduler.plan([due('HOT', 40, clock.now())], clock.now(), 1), 'HOT')).toBe(0);
    expect(scheduler.forecastOf(due('HOT', 40, clock.now()), clock.now())).toMatchObject({ quantity: 0, allowed: 40, lastUnitsOn: 'a' });
  });

  it('pushes another channel showing units down to 0 at once, where the hysteresis would have let a forecast stand', async () => {
    const showingThree = (at: number): SkuPushState => {
      const state = due('HOT', 12, at);
      state.confirm(1, 3, at);
      // A change that leaves the quantity as it was: the SKU is behind, the channel shows 3.
      state.observe(2, 12, at, false, at);
      return state;
    };
    const free = await channel('b', undefined);
    const freePlan = free.scheduler.plan([showingThree(free.clock.now())], free.clock.now(), 1);
    expect(freePlan.unchanged.map((u) => u.quantity)).toEqual([3]);
    const { scheduler, clock } = await channel('b', 'a');
    const plan = scheduler.plan([showingThree(clock.now())], clock.now(), 1);
    expect(plan.unchanged).toEqual([]);
    expect(pushedQuantity(plan, 'HOT')).toBe(0);
  });
});

describe('Two channels of one process sharing their last-units holds', () => {
  afterEach(stopDispatchers);

  it("show a rush's last units on the faster channel alone, never on both, until they are sold", async () => {
    const clock = harnessClock();
    const store = new MemoryChannelState();
    const sales = new SalesRate(clock);
    const dispatchers = new Map<string, ChannelDispatcher>();
    const units: LastUnits = new LastUnits({
      pushing: () => new Set(['fast', 'slow']),
      pushesAll: () => true,
      canHold: () => true,
      targetOf: (channelId, sku) => dispatchers.get(channelId)!.targetOf(sku),
      landingMs: (channelId) => dispatchers.get(channelId)!.landingMs(),
      hiddenChanged: (sku, hidden) => sales.hiddenEverywhere(sku, hidden),
      now: () => clock.now(),
    });
    const observer: DispatchObserver = {
      confirmed: (channelId, sku, _lags, _callMs, shown) => shown && units.confirmed(channelId, sku, shown.quantity, shown.available),
      attempted: () => {},
      throttled: () => {},
      deadLettered: () => {},
    };
    const rules: ChannelRules = { ...FORECASTING, forecast: { ...FORECASTING.forecast!, minHorizonMs: 10_000 } };
    const fast = dispatchHarness({ channelId: 'fast', rules, limits: { ...SLOW, perSecond: 10 }, clock, store, sales, lastUnits: units, observer });
    const slow = dispatchHarness({ channelId: 'slow', rules, limits: SLOW, clock, store, sales, lastUnits: units, observer });
    dispatchers.set('fast', fast.dispatcher).set('slow', slow.dispatcher);
    for (const { dispatcher } of [fast, slow]) await dispatcher.start();
    const commit = (change: LedgerChange): void => {
      recordSales(sales, [change]);
      units.stands(change.sku, change.available);
      for (const { dispatcher } of [fast, slow]) dispatcher.notify([change]);
    };
    // Ten units a second against a ten-second horizon: the forecast hides all of what is left on both.
    for (let available = 60; available >= 12; available -= 1) {
      commit(store.apply('HOT', available, { eventType: 'order.confirmed', channel: 'web' }));
      await clock.advance(100);
    }
    const bothShowing: number[] = [];
    const watch = (): boolean => {
      if ((fast.connector.shown.get('HOT') ?? 0) > 0 && (slow.connector.shown.get('HOT') ?? 0) > 0) bothShowing.push(clock.now());
      return true;
    };
    await until(fast.dispatcher, () => watch() && fast.connector.shown.get('HOT') === 12, 'the fast channel offers the last 12 units');
    expect(units.holderOf('HOT')).toBe('fast');
    expect(slow.connector.shown.get('HOT')).toBe(0);
    // The fast channel sells them; the slow one keeps showing 0 meanwhile.
    for (const available of [7, 2]) {
      commit(store.apply('HOT', available, { eventType: 'order.confirmed', channel: 'fast' }));
      await until(fast.dispatcher, () => watch() && fast.connector.shown.get('HOT') === available, `the fast channel shows ${available}`);
    }
    commit(store.apply('HOT', 0, { eventType: 'order.confirmed', channel: 'fast' }));
    await until(fast.dispatcher, () => watch() && fast.connector.shown.get('HOT') === 0, 'sold out');
    expect(units.holderOf('HOT')).toBeUndefined();
    expect(bothShowing).toEqual([]);
    expect(fast.connector.overlaps).toEqual([]);
  });
});
