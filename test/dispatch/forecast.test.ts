import { afterEach, describe, expect, it } from 'vitest';
import type { ChannelRules, ForecastRules } from '../../core/config/config-types.ts';
import type { DispatchObserver, EffectiveLimits } from '../../core/dispatch/dispatch-types.ts';
import { shownQuantity } from '../../core/dispatch/dispatch-types.ts';
import { FORECAST_RECHECK_MS, forecastBand, showsAsIntended } from '../../core/dispatch/forecast.ts';
import { ManualClock } from '../../core/dispatch/manual-clock.ts';
import { PushBacklog } from '../../core/dispatch/push-backlog.ts';
import { PushScheduler, type PushPlan } from '../../core/dispatch/push-scheduler.ts';
import { ReadBackSweep } from '../../core/dispatch/read-back-sweep.ts';
import { recordSales, SalesRate } from '../../core/dispatch/sales-rate.ts';
import { SkuPushState } from '../../core/dispatch/sku-push-state.ts';
import type { ChannelRead, DriftFinding, ReadBackStore, SkuSyncLevel } from '../../core/ledger/ledger-types.ts';
import { CHANNEL, dispatchHarness, harnessClock, silentLogger, stopDispatchers, until } from '../support/dispatch-harness.ts';

const T0 = 1_000_000;
const FORECAST: ForecastRules = { enabled: true, maxHiddenShare: 0.5, confidence: 0.5, minHorizonMs: 0, maxHorizonMs: 60_000 };
const withForecast = (forecast: Partial<ForecastRules> = {}): ChannelRules => ({ reserve: 0, share: 1, forecast: { ...FORECAST, ...forecast } });
const NO_FORECAST: ChannelRules = { reserve: 0, share: 1 };
/** One SKU per call, five calls a second: a channel that cannot keep up with a flash sale. */
const SLOW: EffectiveLimits = { maxBatchSize: 1, perSecond: 5, burst: 5, concurrency: 1, compareAndSet: false };

function slowChannel(clock: ManualClock, rules: ChannelRules, sales = new SalesRate(clock)): { pacer: PushScheduler; sales: SalesRate } {
  return { pacer: new PushScheduler({ limits: SLOW, rules, canReadBack: () => false, now: clock.now(), sales }), sales };
}

/** `perSecond` units of `sku` sold a second for `seconds`, ending now. */
async function sell(clock: ManualClock, sales: SalesRate, sku: string, perSecond: number, seconds: number): Promise<void> {
  for (let i = 0; i < perSecond * seconds; i += 1) {
    sales.sold(sku, 1);
    await clock.advance(1_000 / perSecond);
  }
}

/** A SKU behind the channel: the ledger has `available`. */
function due(sku: string, available: number, at: number): SkuPushState {
  const state = new SkuPushState(sku);
  state.observe(1, available, at, false, at);
  return state;
}

/** `count` SKUs nobody buys, all behind: the queue a push joins. */
const queue = (count: number, at: number): SkuPushState[] => Array.from({ length: count }, (_, i) => due(`Q${i}`, 100, at));

const pushedQuantity = (plan: PushPlan, sku: string): number | undefined => plan.pushes.flat().find((item) => item.update.sku === sku)?.update.quantity;

describe('Forecast quantities', () => {
  it('show a slow channel less than is available of a SKU selling fast, by about the sales before its next refresh', async () => {
    const clock = new ManualClock({ start: T0 });
    const { pacer, sales } = slowChannel(clock, withForecast());
    await sell(clock, sales, 'HOT', 10, 10);
    const plan = pacer.plan([due('HOT', 200, clock.now()), ...queue(20, clock.now())], clock.now(), 1);
    const quantity = pushedQuantity(plan, 'HOT');
    expect(quantity).toBeDefined();
    expect(quantity!).toBeLessThan(200);
    // Twenty SKUs ahead at five a second: about four seconds, forty units at ten a second.
    expect(200 - quantity!).toBeGreaterThan(20);
  });

  it('never show below zero and never hide more than the configured share of what the rules allow', async () => {
    const clock = new ManualClock({ start: T0 });
    const sales = new SalesRate(clock);
    await sell(clock, sales, 'HOT', 50, 10);
    for (const maxHiddenShare of [0, 0.2, 0.5, 1]) {
      for (const rules of [withForecast({ maxHiddenShare }), { ...withForecast({ maxHiddenShare }), reserve: 3, share: 0.5 }]) {
        const { pacer } = slowChannel(clock, rules, sales);
        for (const available of [0, 1, 2, 7, 40, 1_000]) {
          for (const queued of [0, 10, 1_000]) {
            const forecast = pacer.forecastOf({ sku: 'HOT', available }, clock.now(), queued)!;
            const allowed = shownQuantity(rules, available);
            expect(forecast.allowed).toBe(allowed);
            expect(forecast.quantity).toBeGreaterThanOrEqual(0);
            expect(forecast.quantity).toBeLessThanOrEqual(allowed);
            expect(allowed - forecast.quantity).toBeLessThanOrEqual(Math.floor(allowed * maxHiddenShare));
          }
        }
      }
    }
  });

  it("on a batching channel, hide a hot SKU's sales until the next call slot even when nothing else is queued", async () => {
    const clock = new ManualClock({ start: T0 });
    const sales = new SalesRate(clock);
    // 250 SKUs a call at 2 calls a second: a push just sent, the next can go about half a second later.
    const limits: EffectiveLimits = { maxBatchSize: 250, perSecond: 2, burst: 2, concurrency: 4, compareAndSet: false };
    const pacer = new PushScheduler({ limits, rules: withForecast({ maxHiddenShare: 1 }), canReadBack: () => false, now: clock.now(), sales });
    await sell(clock, sales, 'HOT', 100, 10);
    const alone = pacer.forecastOf({ sku: 'HOT', available: 1_000 }, clock.now(), 0)!;
    const behindOthers = pacer.forecastOf({ sku: 'HOT', available: 1_000 }, clock.now(), 100)!;
    expect(alone.horizonMs).toBeGreaterThanOrEqual(1_000 / 2);
    // Whether another SKU waits in the same call does not move it: both go in one call.
    expect(alone.quantity).toBe(behindOthers.quantity);
  });

  it('hide everything of a SKU about to sell out when the bound allows it', async () => {
    const clock = new ManualClock({ start: T0 });
    const { pacer, sales } = slowChannel(clock, withForecast({ maxHiddenShare: 1 }));
    await sell(clock, sales, 'HOT', 20, 10);
    expect(pacer.forecastOf({ sku: 'HOT', available: 5 }, clock.now(), 20)!.quantity).toBe(0);
  });

  it('are not shown when the forecast is off or absent: the channel is shown what the rules allow', async () => {
    const clock = new ManualClock({ start: T0 });
    const sales = new SalesRate(clock);
    await sell(clock, sales, 'HOT', 10, 10);
    for (const rules of [NO_FORECAST, withForecast({ enabled: false })]) {
      const { pacer } = slowChannel(clock, rules, sales);
      expect(pacer.forecastOf({ sku: 'HOT', available: 200 }, clock.now(), 20)).toBeUndefined();
      const plan = pacer.plan([due('HOT', 200, clock.now()), ...queue(20, clock.now())], clock.now(), 1);
      expect(pushedQuantity(plan, 'HOT')).toBe(200);
    }
  });

  it('leave a SKU that sells slowly at its full quantity', async () => {
    const clock = new ManualClock({ start: T0 });
    const { pacer, sales } = slowChannel(clock, withForecast());
    // One unit every ten seconds for a minute.
    await sell(clock, sales, 'SLOW', 0.1, 60);
    const plan = pacer.plan([due('SLOW', 30, clock.now())], clock.now(), 1);
    expect(pushedQuantity(plan, 'SLOW')).toBe(30);
  });

  it('hide a margin above the expected sales at a higher confidence, so a burst of orders before the refresh is covered', async () => {
    const clock = new ManualClock({ start: T0 });
    const sales = new SalesRate(clock);
    await sell(clock, sales, 'WARM', 0.5, 60);
    const forecastAt = (confidence: number) => slowChannel(clock, withForecast({ confidence }), sales).pacer.forecastOf({ sku: 'WARM', available: 100 }, clock.now(), 100)!;
    const median = forecastAt(0.5);
    const safe = forecastAt(0.99);
    expect(median.expectedSales).toBeGreaterThan(1);
    expect(median.allowed - median.quantity).toBeLessThanOrEqual(Math.ceil(median.expectedSales));
    // Poisson: the 99th percentile lies at least two standard deviations (√λ) above the mean.
    expect(safe.allowed - safe.quantity).toBeGreaterThanOrEqual(median.expectedSales + 2 * Math.sqrt(median.expectedSales));
  });

  it('count only falls in the queue ahead: stock coming back waits behind a SKU that sells, so it does not lengthen the horizon', async () => {
    const clock = new ManualClock({ start: T0 });
    const sales = new SalesRate(clock);
    await sell(clock, sales, 'HOT', 10, 10);
    /** `count` SKUs the channel shows at `shown` whose ledger now gives `available`. */
    const behind = (count: number, shown: number, available: number): SkuPushState[] =>
      Array.from({ length: count }, (_, i) => {
        const state = new SkuPushState(`Q${i}`);
        state.observe(1, shown, clock.now(), false, clock.now());
        state.confirm(1, shown, clock.now());
        state.observe(2, available, clock.now(), false, clock.now());
        return state;
      });
    const hiddenBehind = (queue: SkuPushState[]): number => {
      const { pacer } = slowChannel(clock, withForecast(), sales);
      const plan = pacer.plan([due('HOT', 200, clock.now()), ...queue], clock.now(), 1);
      return 200 - pushedQuantity(plan, 'HOT')!;
    };
    const behindRises = hiddenBehind(behind(100, 50, 100));
    const behindFalls = hiddenBehind(behind(100, 100, 50));
    const alone = hiddenBehind([]);
    expect(behindFalls).toBeGreaterThan(behindRises);
    expect(behindRises).toBe(alone);
  });

  it('count as falls, from the last plan on, SKUs only their forecast lowers: SKUs still selling that the channel shows below the ledger', async () => {
    const clock = new ManualClock({ start: T0 });
    const sales = new SalesRate(clock);
    const selling = Array.from({ length: 100 }, (_, i) => `W${i}`);
    for (let tick = 0; tick < 50; tick += 1) {
      // HOT sells fastest against its stock, so it is the one push the single free call makes.
      sales.sold('HOT', 5);
      for (const sku of selling) sales.sold(sku, 2);
      await clock.advance(100);
    }
    // Shown 95 when the ledger had 100; the ledger has 98 now: the rules alone would raise it, the forecast lowers it.
    const shownBelow = (): SkuPushState[] =>
      selling.map((sku) => {
        const state = new SkuPushState(sku);
        state.observe(1, 100, clock.now(), false, clock.now());
        state.confirm(1, 95, clock.now());
        state.observe(2, 98, clock.now(), false, clock.now());
        return state;
      });
    const paced = (): PushScheduler => {
      const { pacer } = slowChannel(clock, withForecast(), sales);
      pacer.answered(200);
      return pacer;
    };
    const pacer = paced();
    const first = pacer.plan([due('HOT', 200, clock.now()), ...shownBelow()], clock.now(), 1);
    const alone = paced().plan([due('HOT', 200, clock.now())], clock.now(), 1);
    expect(pushedQuantity(first, 'HOT')).toBe(pushedQuantity(alone, 'HOT'));
    await clock.advance(200);
    const second = pacer.plan([due('HOT', 200, clock.now()), ...shownBelow()], clock.now(), 1);
    // A fifth of a second later the rate has barely moved; the queue the horizon counts has.
    expect(pushedQuantity(second, 'HOT')!).toBeLessThan(pushedQuantity(alone, 'HOT')! - 10);
  });

  it('stay within the horizon bounds: a longer shortest horizon hides more, a shorter longest horizon less', async () => {
    const clock = new ManualClock({ start: T0 });
    const sales = new SalesRate(clock);
    await sell(clock, sales, 'HOT', 10, 10);
    const hidden = (rules: ChannelRules, queued: number): number => {
      const f = slowChannel(clock, rules, sales).pacer.forecastOf({ sku: 'HOT', available: 1_000 }, clock.now(), queued)!;
      return f.allowed - f.quantity;
    };
    expect(hidden(withForecast({ minHorizonMs: 10_000 }), 0)).toBeGreaterThan(hidden(withForecast(), 0));
    expect(hidden(withForecast({ maxHorizonMs: 1_000 }), 500)).toBeLessThan(hidden(withForecast(), 500));
  });

  it('need no call while what the channel shows stays within the hysteresis of the new forecast, and one once it leaves it', async () => {
    const clock = new ManualClock({ start: T0 });
    const { pacer, sales } = slowChannel(clock, withForecast());
    await sell(clock, sales, 'HOT', 10, 10);
    const state = due('HOT', 200, clock.now());
    const first = pacer.plan([state, ...queue(20, clock.now())], clock.now(), 1);
    const shown = pushedQuantity(first, 'HOT')!;
    state.inFlight = false;
    state.confirm(state.version, shown, clock.now());
    // One more unit sold: the forecast moves by about one unit, far inside the hysteresis.
    await clock.advance(100);
    sales.sold('HOT', 1);
    state.observe(2, 199, clock.now(), false, clock.now());
    const next = pacer.plan([state, ...queue(20, clock.now())], clock.now(), 1);
    expect(next.unchanged.map((u) => u.state.sku)).toEqual(['HOT']);
    expect(next.unchanged[0]!.quantity).toBe(shown);
    expect(pushedQuantity(next, 'HOT')).toBeUndefined();
    // Stock far below what the channel shows: pushed.
    state.inFlight = false;
    state.observe(3, shown - 10, clock.now(), false, clock.now());
    expect(pushedQuantity(pacer.plan([state], clock.now(), 1), 'HOT')).toBeLessThan(shown);
  });
});

describe('ChannelDispatcher with a forecast', () => {
  afterEach(stopDispatchers);

  it('pushes a lowered quantity while a SKU sells fast, and re-pushes it as sales fade, a few times rather than every tick', async () => {
    const rules = withForecast({ minHorizonMs: 10_000 });
    const { dispatcher, store, connector, clock } = dispatchHarness({ rules, limits: SLOW });
    await dispatcher.start();
    let available = 1_000;
    const lowest: number[] = [];
    for (let i = 0; i < 100; i += 1) {
      available -= 1;
      dispatcher.notify([store.apply('HOT', available, { eventType: 'order.confirmed', channel: 'web' })]);
      await clock.advance(100);
      const shown = connector.shown.get('HOT');
      if (shown !== undefined) lowest.push(shown);
    }
    await until(dispatcher, () => connector.shown.get('HOT') !== undefined && connector.calls.every((c) => c.outcome !== 'pending'));
    expect(Math.min(...lowest)).toBeLessThan(available);
    // Sales stopped: the forecast fades back to what the rules allow.
    const callsBefore = connector.calls.length;
    const hiddenThen = available - connector.shown.get('HOT')!;
    expect(hiddenThen).toBeGreaterThan(0);
    await until(dispatcher, () => connector.shown.get('HOT') === available, 'the channel shows every unit again');
    const repushes = connector.calls.length - callsBefore;
    expect(repushes).toBeGreaterThan(0);
    expect(repushes).toBeLessThanOrEqual(Math.ceil(Math.log2(hiddenThen + 1)) + 2);
    expect(connector.overlaps).toEqual([]);
  });

  it('says what it shows and why in the SKU status: allowed, forecast quantity, sales rate and horizon', async () => {
    const rules = withForecast({ minHorizonMs: 10_000 });
    const { dispatcher, store, clock } = dispatchHarness({ rules, limits: SLOW });
    await dispatcher.start();
    for (let i = 0; i < 50; i += 1) {
      dispatcher.notify([store.apply('HOT', 500 - i, { eventType: 'order.confirmed', channel: 'web' })]);
      await clock.advance(100);
    }
    const forecast = dispatcher.skuStatus('HOT')?.forecast;
    expect(forecast).toBeDefined();
    expect(forecast!.allowed).toBe(451);
    expect(forecast!.quantity).toBeLessThan(forecast!.allowed);
    expect(forecast!.salesPerSecond).toBeGreaterThan(0);
    expect(forecast!.horizonMs).toBeGreaterThanOrEqual(10_000);
  });

  it('reads the sales rate its process shares between channels, fed once per commit by the process, not once per channel', async () => {
    const clock = harnessClock();
    const shared = new SalesRate(clock);
    const rules = withForecast({ minHorizonMs: 10_000 });
    const channels = [dispatchHarness({ rules, limits: SLOW, clock, sales: shared }), dispatchHarness({ rules, limits: SLOW, clock, sales: shared })];
    const alone = new SalesRate(clock);
    for (const { dispatcher } of channels) await dispatcher.start();
    for (let i = 0; i < 50; i += 1) {
      const changes = [channels[0]!.store.apply('HOT', 500 - i, { eventType: 'order.confirmed', channel: 'web' })];
      for (const { dispatcher } of channels) dispatcher.notify(changes);
      recordSales(shared, changes);
      recordSales(alone, changes);
      await clock.advance(100);
    }
    expect(shared.perSecond('HOT')).toBeGreaterThan(0);
    expect(shared.perSecond('HOT')).toBe(alone.perSecond('HOT'));
    for (const { dispatcher } of channels) expect(dispatcher.skuStatus('HOT')?.forecast?.salesPerSecond).toBe(alone.perSecond('HOT'));
  });

  it('looks at forecast SKUs again on its own timer, so a quiet channel still restores them', async () => {
    const rules = withForecast({ minHorizonMs: 10_000 });
    const { dispatcher, store, connector, clock } = dispatchHarness({ rules, limits: SLOW });
    await dispatcher.start();
    for (let i = 0; i < 30; i += 1) {
      dispatcher.notify([store.apply('HOT', 300 - i, { eventType: 'order.confirmed', channel: 'web' })]);
      await clock.advance(100);
    }
    await until(dispatcher, () => connector.calls.length > 0 && connector.calls.every((c) => c.outcome !== 'pending'));
    const start = clock.now();
    await until(dispatcher, () => connector.shown.get('HOT') === 271, 'restored');
    // Restored by the recheck timer alone: no ledger change came after the sales.
    expect(clock.now() - start).toBeGreaterThanOrEqual(FORECAST_RECHECK_MS);
  });
});

/** What a read-back sweep records, in memory: the sweep's decisions are what is tested here. */
class RecordedReadBacks implements ReadBackStore {
  readonly drift: DriftFinding[] = [];
  constructor(readonly levels: SkuSyncLevel[]) {}
  async listLevels(_channelId: string, afterSku: string, limit: number): Promise<SkuSyncLevel[]> {
    return this.levels.filter((l) => l.sku > afterSku).slice(0, limit);
  }
  async recordReads(): Promise<void> {}
  async recordDrift(_channelId: string, findings: readonly DriftFinding[]): Promise<void> {
    this.drift.push(...findings);
  }
  async recordHealed(): Promise<void> {}
  async markBehind(): Promise<void> {}
  async lastReads(): Promise<ChannelRead[]> {
    return [];
  }
}

describe('Read-back drift check with a forecast', () => {
  async function sweep(rules: ChannelRules, shown: Record<string, number>): Promise<string[]> {
    const clock = new ManualClock({ start: T0 });
    const levels = Object.keys(shown).map((sku) => ({ sku, available: 100, version: 3, pushedVersion: 3 }));
    const store = new RecordedReadBacks(levels);
    const found: string[] = [];
    const observer: DispatchObserver = { confirmed() {}, attempted() {}, throttled() {}, deadLettered() {}, driftFound: (_c, f) => found.push(...f.map((x) => x.sku)) };
    const s = new ReadBackSweep({
      channelId: CHANNEL,
      store,
      rules,
      backlog: new PushBacklog(),
      maxBatchSize: 50,
      intervalMs: 60_000,
      read: async (skus) => new Map(skus.map((sku) => [sku, shown[sku]!])),
      drifted() {},
      observer,
      clock,
      logger: silentLogger,
    });
    let ready!: () => void;
    const listed = new Promise<void>((resolve) => (ready = resolve));
    expect(s.wants(clock.now(), () => ready())).toBe(false);
    await listed;
    await s.readBatch(s.take());
    expect(store.drift.map((d) => d.sku).sort()).toEqual([...found].sort());
    return found.sort();
  }

  it('does not flag a channel showing a forecast quantity, but still flags more than the rules allow and less than the forecast may hide', async () => {
    // Available 100, at most half hidden: 50..100 is what the forecast may show.
    expect(await sweep(withForecast(), { FORECAST: 80, FLOOR: 50, ABOVE: 101, BELOW: 49 })).toEqual(['ABOVE', 'BELOW']);
  });

  it('flags any other quantity than the rules give when the channel has no forecast', async () => {
    expect(await sweep(NO_FORECAST, { FORECAST: 80, EXACT: 100 })).toEqual(['FORECAST']);
  });

  it('takes the band from the one shown-quantity function', () => {
    const rules = withForecast({ maxHiddenShare: 0.2 });
    expect(forecastBand(rules, 100)).toEqual({ lowest: 80, allowed: 100 });
    expect(showsAsIntended(rules, 100, 79)).toBe(false);
    expect(showsAsIntended(NO_FORECAST, 100, 99)).toBe(false);
  });
});
