import { afterEach, describe, expect, it } from 'vitest';
import { sleep } from '../../core/dispatch/clock.ts';
import type { BulkLimits, EffectiveLimits } from '../../core/dispatch/dispatch-types.ts';
import { PushScheduler } from '../../core/dispatch/push-scheduler.ts';
import { SalesRate } from '../../core/dispatch/sales-rate.ts';
import { ManualClock } from '../../core/dispatch/manual-clock.ts';
import { SkuPushState } from '../../core/dispatch/sku-push-state.ts';
import { ThrottledError } from '../../core/errors.ts';
import { CHANNEL, dispatchHarness, settled, stopDispatchers, until } from '../support/dispatch-harness.ts';

afterEach(stopDispatchers);

const T0 = 1_000_000;

/** A feed: jobs of up to 500 SKUs, one per 100 s (burst 2), taking about 10 s each. */
const FEED: BulkLimits = { maxBatchSize: 500, perSecond: 0.01, burst: 2, concurrency: 1, expectedDurationMs: 10_000, maxDurationMs: 60_000 };
/** A one-SKU-per-call channel at 5 calls/s with that feed beside it. */
const ONE_SKU: EffectiveLimits = { maxBatchSize: 1, perSecond: 5, burst: 5, concurrency: 4, compareAndSet: false, bulk: FEED };

function scheduler(options: { limits?: EffectiveLimits; canBulk?: boolean; sales?: SalesRate; reserve?: number } = {}): PushScheduler {
  return new PushScheduler({
    limits: options.limits ?? ONE_SKU,
    rules: { reserve: options.reserve ?? 0, share: 1 },
    canReadBack: () => false,
    now: T0,
    canBulk: options.canBulk ?? true,
    ...(options.sales ? { sales: options.sales } : {}),
  });
}

function due(sku: string, available: number): SkuPushState {
  const state = new SkuPushState(sku);
  state.observe(1, available, T0, false, T0);
  return state;
}

const backlog = (count: number, available = 100): SkuPushState[] =>
  Array.from({ length: count }, (_, i) => due(`S${String(i).padStart(3, '0')}`, available));

describe('bulk lane: what goes in a job', () => {
  it('moves to one job the SKUs the per-SKU queue would keep waiting longer than a job takes, and keeps the head per SKU', () => {
    const states = backlog(300);
    const plan = scheduler().plan(states, T0, 4);
    const perSku = plan.pushes.flat().map((i) => i.update.sku);
    const bulk = plan.bulk.flat().map((i) => i.update.sku);
    expect(plan.bulk).toHaveLength(1);
    // At 5 calls/s a job of 10 s is worth it from about the 50th SKU in the queue on.
    expect(bulk.length).toBeGreaterThan(200);
    expect(bulk.length).toBeLessThan(300 - 40);
    expect(new Set([...perSku, ...bulk]).size).toBe(perSku.length + bulk.length);
    expect(states.filter((s) => bulk.includes(s.sku)).every((s) => s.inFlight)).toBe(true);
  });

  it('sends nothing in bulk when the per-SKU calls clear the backlog within a job’s time', () => {
    const plan = scheduler().plan(backlog(30), T0, 4);
    expect(plan.bulk).toEqual([]);
  });

  it('never puts a move to zero in a job, even far back in a queue of them', () => {
    // A reserve of 5: the 150 SKUs with 3 left are shown 0, though the ledger still has units.
    const gone = Array.from({ length: 150 }, (_, i) => due(`GONE${i}`, 3));
    const plan = scheduler({ reserve: 5 }).plan([...backlog(300), ...gone], T0, 0);
    expect(plan.bulk.flat().length).toBeGreaterThan(150);
    expect(plan.bulk.flat().filter((i) => i.update.quantity === 0)).toEqual([]);
  });

  it('keeps per SKU a SKU expected to sell a tenth of what it has left before the job would land', async () => {
    const clock = new ManualClock({ start: T0 - 60_000 });
    const sales = new SalesRate(clock);
    // The HOT SKUs sell about 1 unit/s each against 50 left: 10 s of a job would sell a fifth of it.
    const hot = Array.from({ length: 150 }, (_, i) => `HOT${i}`);
    for (let t = 0; t < 60; t += 1) {
      for (const sku of hot) sales.sold(sku, 1);
      await clock.advance(1_000);
    }
    const states = [...backlog(300), ...hot.map((sku) => due(sku, 50))];
    const plan = scheduler({ sales }).plan(states, clock.now(), 0);
    expect(plan.bulk.flat().filter((i) => i.update.sku.startsWith('HOT'))).toEqual([]);
    expect(plan.bulk.flat().length).toBeGreaterThan(150);
  });

  it('has no lane without the connector’s pushBulk, whatever the limits say', () => {
    const plan = scheduler({ canBulk: false }).plan(backlog(300), T0, 4);
    expect(plan.bulk).toEqual([]);
  });

  it('paces jobs by the lane’s own bucket and slots, apart from the per-SKU calls', () => {
    const pacer = scheduler();
    const first = pacer.plan(backlog(1_200), T0, 4);
    expect(first.bulk).toHaveLength(1);
    // One job in flight fills the lane's only slot: no second job however long the queue.
    expect(pacer.plan(backlog(1_200), T0 + 1_000, 4).bulk).toEqual([]);
    pacer.bulkLane!.finished(9_000);
    expect(pacer.plan(backlog(1_200), T0 + 1_000, 4).bulk).toHaveLength(1);
    pacer.bulkLane!.finished(9_000);
    // Burst 2 spent: the next job waits for the bucket (one per 100 s), while per-SKU calls go on.
    const third = pacer.plan(backlog(1_200), T0 + 2_000, 4);
    expect(third.bulk).toEqual([]);
    expect(third.pushes.length).toBeGreaterThan(0);
  });

  it('a throttled lane pauses the jobs only: per-SKU calls go on', () => {
    const pacer = scheduler();
    const { until: pausedUntil } = pacer.bulkThrottled(30_000, { baseMs: 100, maxMs: 1_000 }, T0);
    expect(pausedUntil).toBe(T0 + 30_000);
    const plan = pacer.plan(backlog(300), T0 + 1, 4);
    expect(plan.bulk).toEqual([]);
    expect(plan.pushes.length).toBeGreaterThan(0);
    expect(pacer.pausedUntil(T0 + 1)).toBe(0);
  });
});

describe('bulk lane in a running dispatcher', () => {
  it('converges a restock of hundreds of SKUs through jobs and per-SKU calls, never writing one SKU in both at once', async () => {
    const { dispatcher, store, connector, clock, observer } = dispatchHarness({ limits: ONE_SKU });
    connector.respond = async (updates) => {
      await sleep(clock, 80);
      return updates.map((u) => ({ sku: u.sku, status: 'ok' as const }));
    };
    connector.respondBulk = async (updates) => {
      await sleep(clock, 8_000);
      return updates.map((u) => ({ sku: u.sku, status: 'ok' as const }));
    };
    const skus = Array.from({ length: 400 }, (_, i) => `R${i}`);
    for (const sku of skus) store.apply(sku, 20);
    store.apply('LAST', 0);
    await dispatcher.start();
    await settled(dispatcher);
    for (const sku of skus) expect(connector.shown.get(sku)).toBe(20);
    expect(connector.shown.get('LAST')).toBe(0);
    expect(connector.overlaps).toEqual([]);
    expect(connector.bulkCalls.length).toBeGreaterThan(0);
    expect(connector.bulkCalls.flatMap((c) => c.updates).some((u) => u.quantity === 0)).toBe(false);
    // The jobs carried what the per-SKU calls would have needed minutes for.
    expect(connector.calls.length).toBeLessThan(skus.length);
    expect(store.state(CHANNEL, 'R399')?.pushedQuantity).toBe(20);
    // Each job is reported once, with what it carried and how long the channel took.
    expect(observer.bulkJobs).toHaveLength(connector.bulkCalls.length);
    expect(observer.bulkJobs.every((j) => j.outcome === 'answered' && j.durationMs >= 8_000)).toBe(true);
    expect(observer.bulkJobs.reduce((n, j) => n + j.items, 0)).toBe(connector.bulkCalls.flatMap((c) => c.updates).length);
  });

  it('pushes a SKU’s newer quantity once its job ended, never during it', async () => {
    const { dispatcher, store, connector, clock } = dispatchHarness({ limits: ONE_SKU });
    let jobOpen = false;
    connector.respondBulk = async (updates) => {
      jobOpen = true;
      await sleep(clock, 8_000);
      jobOpen = false;
      return updates.map((u) => ({ sku: u.sku, status: 'ok' as const }));
    };
    const writesDuringJob: string[] = [];
    connector.respond = async (updates) => {
      if (jobOpen) for (const u of updates) if (connector.bulkCalls.at(-1)?.updates.some((b) => b.sku === u.sku)) writesDuringJob.push(u.sku);
      await sleep(clock, 80);
      return updates.map((u) => ({ sku: u.sku, status: 'ok' as const }));
    };
    const skus = Array.from({ length: 300 }, (_, i) => `N${i}`);
    for (const sku of skus) store.apply(sku, 30);
    await dispatcher.start();
    await until(dispatcher, () => connector.bulkCalls.length > 0, 'a job started');
    const inJob = connector.bulkCalls[0]!.updates.map((u) => u.sku);
    // While the job is open, one of its SKUs sells down: the newer quantity waits for the job's end.
    dispatcher.notify([store.apply(inJob[0]!, 12, { eventType: 'order.confirmed' })]);
    await settled(dispatcher);
    expect(writesDuringJob).toEqual([]);
    expect(connector.shown.get(inJob[0]!)).toBe(12);
    expect(connector.overlaps).toEqual([]);
  });

  it('a job given up on leaves its SKUs unverified until a later write proves them, never confirmed by the lost job', async () => {
    const { dispatcher, store, connector, clock } = dispatchHarness({ limits: { ...ONE_SKU, bulk: { ...FEED, maxDurationMs: 20_000 } } });
    connector.respond = async (updates) => {
      await sleep(clock, 80);
      return updates.map((u) => ({ sku: u.sku, status: 'ok' as const }));
    };
    let hang = true;
    connector.respondBulk = async (updates, call) => {
      if (hang) {
        hang = false;
        await new Promise<void>((_, reject) => call.signal.addEventListener('abort', () => reject(call.signal.reason), { once: true }));
      }
      await sleep(clock, 8_000);
      return updates.map((u) => ({ sku: u.sku, status: 'ok' as const }));
    };
    const skus = Array.from({ length: 300 }, (_, i) => `H${i}`);
    for (const sku of skus) store.apply(sku, 9);
    await dispatcher.start();
    await settled(dispatcher);
    expect(connector.bulkCalls[0]!.outcome).toBe('rejected');
    const lost = connector.bulkCalls[0]!.updates.map((u) => u.sku);
    // Every SKU of the lost job was written again after it (per SKU or in a later job) before it counted as shown.
    for (const sku of lost) {
      const writes = [...connector.calls, ...connector.bulkCalls.slice(1)].filter((c) => c.outcome === 'resolved' && c.updates.some((u) => u.sku === sku));
      expect(writes.length, sku).toBeGreaterThan(0);
      expect(store.state(CHANNEL, sku)?.pushedQuantity).toBe(9);
    }
  });

  it('on a throttled job the lane waits, and its SKUs still reach the channel', async () => {
    const { dispatcher, store, connector, clock, observer } = dispatchHarness({ limits: ONE_SKU });
    connector.respond = async (updates) => {
      await sleep(clock, 80);
      return updates.map((u) => ({ sku: u.sku, status: 'ok' as const }));
    };
    let throttles = 0;
    connector.respondBulk = async (updates) => {
      if (throttles === 0) {
        throttles += 1;
        throw new ThrottledError('feed quota', { retryAfterMs: 120_000 });
      }
      await sleep(clock, 8_000);
      return updates.map((u) => ({ sku: u.sku, status: 'ok' as const }));
    };
    const skus = Array.from({ length: 300 }, (_, i) => `T${i}`);
    for (const sku of skus) store.apply(sku, 4);
    await dispatcher.start();
    await settled(dispatcher);
    for (const sku of skus) expect(connector.shown.get(sku)).toBe(4);
    expect(observer.throttles).toHaveLength(1);
    const throttleAt = connector.bulkCalls[0]!.startedAt;
    // Per-SKU calls went on during the lane's pause.
    expect(connector.calls.some((c) => c.startedAt > throttleAt && c.startedAt < throttleAt + 60_000)).toBe(true);
    expect(observer.letters).toEqual([]);
    // No job went inside the pause the channel asked for.
    const throttledAt = connector.bulkCalls[0]!.startedAt;
    for (const job of connector.bulkCalls.slice(1)) expect(job.startedAt).toBeGreaterThanOrEqual(throttledAt + 120_000);
  });
});
