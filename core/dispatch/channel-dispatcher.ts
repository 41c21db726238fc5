import { setMaxListeners } from 'node:events';
import { describeError } from '../internal.ts';
import { isChannelFencedError } from '../ledger/channel-fenced-error.ts';
import type { LedgerChange } from '../ledger/ledger-types.ts';
import { bindLogger, createLogger } from '../logger.ts';
import type { Logger } from '../sdk.ts';
import type { BackoffPolicy } from './backoff.ts';
import { ChannelStateWriter } from './channel-state-writer.ts';
import { systemClock, type Clock } from './clock.ts';
import { skuStatusOf, snapshotOf } from './dispatch-status.ts';
import { shownQuantity, type DispatchObserver, type Dispatcher, type DispatcherSnapshot, type DispatchSkuStatus } from './dispatch-types.ts';
import { checkedDispatcherOptions, type ChannelDispatcherOptions } from './dispatcher-options.ts';
import { guardedObserver } from './guarded-observer.ts';
import { IdleWaiters } from './idle-waiters.ts';
import { OrderCatchUp } from './order-catch-up.ts';
import { DEFAULT_LATE_WRITE_WINDOW_MS } from './late-writes.ts';
import { PushBacklog } from './push-backlog.ts';
import { ChannelCalls } from './push-call.ts';
import { PushResults } from './push-results.ts';
import { PushScheduler, type BatchItem } from './push-scheduler.ts';
import { settleByReadBack, type ReadBackSettling } from './read-back.ts';
import { ReadBackSweep } from './read-back-sweep.ts';
import { ReadBudget } from './read-budget.ts';
import { ReconcilePass } from './reconcile-pass.ts';
import { recordSales, SalesRate } from './sales-rate.ts';
import type { SkuPushState } from './sku-push-state.ts';
import { WakeTimer } from './wake-timer.ts';

export type { ChannelDispatcherOptions } from './dispatcher-options.ts';

/**
 * Keeps one channel level with the ledger: SKUs behind are coalesced (newest quantity only), batched up
 * to the channel's maximum, paced by a token bucket and pushed with at most `concurrency` calls in
 * flight, never two for one SKU. Failures are retried with jittered backoff; exhausted SKUs are
 * dead-lettered and come back with the next ledger change or reconcile pass.
 *
 * This class is the loop that ties the parts together: what is behind ({@link PushBacklog}), what goes
 * next ({@link PushScheduler}), the calls ({@link ChannelCalls}), what their outcomes mean
 * ({@link PushResults}) and what is written down ({@link ChannelStateWriter}), all on one {@link Clock}.
 */
export class ChannelDispatcher implements Dispatcher {
  readonly #options: Readonly<ChannelDispatcherOptions>;
  readonly #channelId: string;
  readonly #logger: Logger;
  readonly #clock: Clock;
  readonly #observer: DispatchObserver;
  readonly #backlog = new PushBacklog();
  readonly #sales: SalesRate;
  readonly #scheduler: PushScheduler;
  readonly #calls: ChannelCalls;
  readonly #results: PushResults;
  readonly #writer: ChannelStateWriter;
  readonly #readBack: ReadBackSettling;
  readonly #wake: WakeTimer;
  readonly #reconcile: ReconcilePass;
  /** Continuous read-back on spare calls, or null (no `reads` option, or a connector that cannot read). */
  readonly #sweep: ReadBackSweep | null = null;
  readonly #readBudget: ReadBudget | null = null;
  #readInFlight = false;
  /** Missed-order catch-up on spare calls, or null (no `catchUp` option, or a connector without `listOrders`). */
  readonly #catchUp: OrderCatchUp | null = null;
  /** Spare calls alternate between read-back and catch-up when both want one: neither starves the other. */
  #catchUpNext = true;
  /** A catch-up call is in flight and counted among the calls in flight. */
  #catchUpSlot = false;
  readonly #idle = new IdleWaiters();
  /** Push calls and confirmation writes still running. */
  readonly #tasks = new Set<Promise<void>>();
  readonly #stopController = new AbortController();
  #pushesInFlight = 0;
  #started = false;
  #stopped = false;
  #fencedReported = false;
  #stopping: Promise<void> | null = null;
  #pumpQueued = false;

  constructor(options: ChannelDispatcherOptions) {
    const o = (this.#options = checkedDispatcherOptions(options));
    this.#channelId = o.channelId;
    this.#logger = bindLogger(o.logger ?? createLogger({}, 'warn'), { channel: o.channelId });
    this.#clock = o.clock ?? systemClock;
    const backoff: BackoffPolicy = { baseMs: Math.max(1, o.backoffBaseMs), maxMs: Math.max(1, o.backoffMaxMs) };
    const observer = (this.#observer = guardedObserver(o.observer, this.#logger));
    const common = { logger: this.#logger, clock: this.#clock, backoff, random: o.random ?? Math.random };
    // Every call in flight listens for the stop (and a read-back or two besides): with more than ten
    // pushes allowed at once Node would warn of a leak that is none.
    setMaxListeners(o.limits.concurrency + 8, this.#stopController.signal);
    this.#sales = o.sales ?? new SalesRate(this.#clock);
    this.#scheduler = new PushScheduler({
      limits: o.limits,
      rules: o.rules,
      canReadBack: () => Boolean(o.connector.fetchQuantities),
      now: this.#clock.now(),
      sales: this.#sales,
      channelId: o.channelId,
      ...(o.lastUnits ? { lastUnits: o.lastUnits } : {}),
      canBulk: typeof o.connector.pushBulk === 'function',
    });
    if (o.limits.bulk && !this.#scheduler.bulkLane) {
      this.#logger.warn('dispatch: the connector declares a bulk lane but has no pushBulk; every change goes per SKU', { connector: o.connectorName });
    }
    this.#calls = new ChannelCalls({ connector: o.connector, stop: this.#stopController.signal, timeoutMs: o.pushTimeoutMs, clock: this.#clock });
    this.#writer = new ChannelStateWriter({ ...common, channelId: o.channelId, store: o.store, fingerprint: o.configFingerprint ?? '', publish: o.deadLetter, observer });
    this.#results = new PushResults({
      ...common,
      channelId: o.channelId,
      connectorName: o.connectorName,
      maxAttempts: o.maxAttempts,
      compareAndSet: o.limits.compareAndSet,
      pushTimeoutMs: o.pushTimeoutMs,
      lateWriteWindowMs: o.lateWriteWindowMs ?? DEFAULT_LATE_WRITE_WINDOW_MS,
      writer: this.#writer,
      scheduler: this.#scheduler,
      onChannelAnswering: () => this.#backlog.wakeParkedByOutage() && this.#schedulePump(),
      observer,
    });
    this.#readBack = { rules: o.rules, logger: this.#logger, read: (entries) => this.#calls.readBack(entries), recordConfirmed: (entries, ms) => this.#writer.recordConfirmed(entries, ms) };
    this.#wake = new WakeTimer(this.#clock, () => this.#pump());
    this.#reconcile = new ReconcilePass({
      ...common,
      channelId: o.channelId,
      store: o.store,
      writer: this.#writer,
      backlog: this.#backlog,
      scheduler: this.#scheduler,
      fingerprint: o.configFingerprint ?? '',
      intervalMs: o.reconcileIntervalMs,
      stopped: () => this.#stopped,
      done: () => {
        this.#schedulePump();
        this.#checkIdle();
      },
    });
    if (o.reads && o.connector.fetchQuantities) {
      const budget = new ReadBudget(o.limits.perSecond, o.reads.share, o.reads.daily, this.#clock.now());
      if (budget.enabled) {
        this.#readBudget = budget;
        this.#sweep = new ReadBackSweep({
          channelId: o.channelId,
          store: o.reads.store,
          rules: o.rules,
          backlog: this.#backlog,
          maxBatchSize: o.limits.maxBatchSize,
          intervalMs: o.reconcileIntervalMs,
          read: (skus) => this.#calls.readQuantities(skus),
          drifted: () => this.#schedulePump(),
          observer,
          clock: this.#clock,
          logger: this.#logger,
        });
      }
    }
    if (o.catchUp && o.connector.listOrders) {
      const { intervalMs, cursor, publish } = o.catchUp;
      this.#catchUp = new OrderCatchUp({
        channelId: o.channelId,
        intervalMs,
        list: async (from) => {
          try {
            return await this.#calls.listOrders(from);
          } finally {
            this.#releaseCatchUpSlot();
          }
        },
        cursors: cursor,
        publish,
        throttled: (retryAfterMs) => {
          const { waitMs } = this.#scheduler.throttled(retryAfterMs, backoff, this.#clock.now());
          observer.throttled(o.channelId, waitMs);
        },
        observer,
        clock: this.#clock,
        logger: this.#logger,
      });
    }
  }

  async start(): Promise<void> {
    if (this.#started || this.#stopped) return;
    this.#started = true;
    await this.#reconcile.run();
    this.#schedulePump();
  }

  notify(changes: readonly LedgerChange[]): void {
    if (this.#stopped) return;
    const now = this.#clock.now();
    let marked = false;
    // Orders from every channel make the SKU's sales rate, which decides what is most at risk here; a
    // shared estimate is fed once per commit by its owner, not by each channel.
    if (this.#options.sales === undefined) recordSales(this.#sales, changes);
    for (const change of changes) marked = this.#backlog.observe(change, change.eventChannel === this.#channelId, now) || marked;
    if (marked) this.#schedulePump();
  }

  async retry(skus: readonly string[]): Promise<string[]> {
    if (this.#stopped || !this.#started) return [];
    const wanted = [...new Set(skus)];
    for (const sku of wanted) this.#backlog.requeue(sku);
    // A SKU this process never saw (dead-lettered before a restart) is only known to the store.
    if (wanted.some((sku) => !this.#backlog.isQueued(sku))) {
      await this.#reconcile.run();
      for (const sku of wanted) this.#backlog.forgetNotListed(sku);
    }
    this.#schedulePump();
    return wanted.filter((sku) => this.#backlog.isQueued(sku));
  }

  snapshot(): DispatcherSnapshot {
    return snapshotOf(this.#channelId, this.#backlog, this.#pushesInFlight, this.#scheduler.pausedUntil(this.#clock.now()));
  }

  skuStatus(sku: string): DispatchSkuStatus | undefined {
    const state = this.#backlog.get(sku);
    const now = this.#clock.now();
    if (!state) return undefined;
    const status = skuStatusOf(state, now, this.#scheduler.pausedUntil(now));
    const forecast = this.#scheduler.forecastOf(state, now);
    return forecast && (forecast.quantity < forecast.allowed || forecast.lastUnitsOn !== undefined) ? { ...status, forecast } : status;
  }

  landingMs(): number {
    return this.#scheduler.landingMs();
  }

  targetOf(sku: string): number | undefined {
    const state = this.#backlog.get(sku);
    if (!state) return undefined;
    return this.#scheduler.forecastOf(state, this.#clock.now())?.quantity ?? shownQuantity(this.#options.rules, state.available);
  }

  idle(signal?: AbortSignal): Promise<void> {
    if (this.#isIdle() || this.#stopped) return Promise.resolve();
    return this.#idle.wait(signal);
  }

  stop(): Promise<void> {
    if (this.#stopping) return this.#stopping;
    this.#stopped = true;
    this.#clearTimers();
    this.#stopController.abort(new Error(`channel "${this.#channelId}": dispatcher stopped`));
    this.#stopping = (async () => {
      await Promise.allSettled([...this.#tasks, ...(this.#reconcile.running ? [this.#reconcile.running] : [])]);
      this.#clearTimers();
      this.#idle.wakeAll();
    })();
    return this.#stopping;
  }

  /**
   * The database refused a state write: another process claimed the channel since. Stop pushing at
   * once; whatever this process had in flight, the new holder verifies.
   */
  #fenced(err: unknown): void {
    if (this.#fencedReported) return;
    this.#fencedReported = true;
    this.#logger.error('dispatch: another hub took this channel over; this one stops pushing it', { error: describeError(err) });
    void this.stop();
    try {
      this.#options.onFenced?.();
    } catch (hookErr) {
      this.#logger.warn('dispatch: onFenced hook threw', { error: describeError(hookErr) });
    }
  }

  #schedulePump(): void {
    if (this.#pumpQueued || this.#stopped || !this.#started) return;
    this.#pumpQueued = true;
    // setImmediate, not a microtask: changes notified in the same turn (one ledger batch) share a push.
    setImmediate(() => {
      this.#pumpQueued = false;
      this.#pump();
    });
  }

  #clearTimers(): void {
    this.#wake.clear();
    this.#reconcile.stop();
  }

  /** Sends what the scheduler says may be sent now, and sets a timer for when the next thing may. */
  #pump(): void {
    // Nothing is sent before the channel is claimed: every write must be fenced and marked first.
    if (this.#stopped || !this.#started || !this.#writer.claimed) return;
    const now = this.#clock.now();
    for (const state of this.#scheduler.forecastsMoved(now)) this.#backlog.forecastMoved(state, now);
    const plan = this.#scheduler.plan(this.#backlog.due, now, this.#options.limits.concurrency - this.#pushesInFlight);
    if (plan.unchanged.length > 0) {
      const entries = plan.unchanged.map(({ state, quantity }) => ({ state, version: state.version, quantity }));
      // The channel already shows these quantities: record the newer versions as confirmed without a call.
      this.#runTask(entries.map((e) => e.state), false, async () => void (await this.#writer.recordConfirmed(entries, 0)));
    }
    for (const batch of plan.readBacks) this.#runTask(batch, true, () => settleByReadBack(batch, this.#readBack));
    for (const items of plan.pushes) this.#runTask(items.map((item) => item.state), true, () => this.#push(items));
    // A bulk job holds none of the per-SKU calls: the lane counts its own jobs.
    for (const items of plan.bulk) this.#runTask(items.map((item) => item.state), false, () => this.#pushBulk(items));
    if (Number.isFinite(plan.wakeAt)) this.#wake.at(plan.wakeAt);
    this.#useSpareCalls();
    this.#checkIdle();
  }

  /**
   * Gives the call the pushes left unused to read-back or order catch-up; when both want one, they take
   * turns. Neither may go before the plan placed every push that could go.
   */
  #useSpareCalls(): void {
    void this.#sweep?.settleHealed();
    if (this.#catchUpNext) {
      if (!this.#catchUpIfSpare()) this.#readIfSpare();
    } else if (!this.#readIfSpare()) this.#catchUpIfSpare();
  }

  /**
   * Reads the next page of the channel's orders when a call is spare and a page is due: one at a time,
   * inside the channel's concurrency, on a call the pushes leave unused. True when a page was started.
   */
  #catchUpIfSpare(): boolean {
    const catchUp = this.#catchUp;
    if (!catchUp) return false;
    const now = this.#clock.now();
    if (!catchUp.wants(now)) {
      if (Number.isFinite(catchUp.nextAt)) this.#wake.at(catchUp.nextAt);
      return false;
    }
    if (this.#pushesInFlight >= this.#options.limits.concurrency) return false;
    if (!this.#scheduler.takeSpareCall(now)) {
      this.#wake.at(this.#scheduler.spareCallAt(now));
      return false;
    }
    this.#catchUpNext = false;
    // The call holds a place among the channel's calls in flight; publishing what it found does not.
    this.#pushesInFlight += 1;
    this.#catchUpSlot = true;
    this.#runTask([], false, async () => {
      try {
        await catchUp.poll();
      } finally {
        this.#releaseCatchUpSlot();
      }
    });
    return true;
  }

  #releaseCatchUpSlot(): void {
    if (!this.#catchUpSlot) return;
    this.#catchUpSlot = false;
    this.#pushesInFlight -= 1;
    this.#schedulePump();
  }

  /**
   * Reads the next SKUs back when a call is spare: after the plan placed every push that could go, within
   * the read budget, one read at a time and inside the channel's concurrency. True when a read was started.
   */
  #readIfSpare(): boolean {
    const sweep = this.#sweep;
    const budget = this.#readBudget;
    if (!sweep || !budget) return false;
    if (this.#readInFlight || this.#pushesInFlight >= this.#options.limits.concurrency) return false;
    const now = this.#clock.now();
    if (!sweep.wants(now, () => this.#schedulePump())) {
      if (Number.isFinite(sweep.nextSweepAt) && sweep.nextSweepAt > now) this.#wake.at(sweep.nextSweepAt);
      return false;
    }
    if (!budget.canTake(now)) {
      this.#wake.at(budget.nextAt(now));
      return false;
    }
    const batch = sweep.take();
    if (batch.length === 0) {
      this.#schedulePump();
      return false;
    }
    if (!this.#scheduler.takeSpareCall(now)) {
      sweep.putBack(batch);
      this.#wake.at(this.#scheduler.spareCallAt(now));
      return false;
    }
    budget.take(now);
    this.#catchUpNext = true;
    this.#readInFlight = true;
    this.#runTask([], true, async () => {
      try {
        await sweep.readBatch(batch);
      } finally {
        this.#readInFlight = false;
      }
    });
    return true;
  }

  #runTask(states: readonly SkuPushState[], countsAsPush: boolean, work: () => Promise<void>): void {
    if (countsAsPush) this.#pushesInFlight += 1;
    const task: Promise<void> = work()
      .catch((err: unknown) => {
        if (isChannelFencedError(err)) return this.#fenced(err);
        this.#logger.error('dispatch: unexpected failure', { error: describeError(err) });
      })
      .finally(() => {
        if (countsAsPush) this.#pushesInFlight -= 1;
        for (const state of states) {
          state.inFlight = false;
          this.#backlog.track(state);
        }
        this.#tasks.delete(task);
        this.#schedulePump();
        this.#checkIdle();
      });
    this.#tasks.add(task);
  }

  async #push(items: BatchItem[]): Promise<void> {
    const sentAt = this.#clock.now();
    const { pushTimeoutMs, lateWriteWindowMs = DEFAULT_LATE_WRITE_WINDOW_MS } = this.#options;
    if (!(await this.#writer.markWriting(items, sentAt + pushTimeoutMs + lateWriteWindowMs))) return;
    const outcome = await this.#calls.push(items.map((item) => item.update));
    if (outcome.kind === 'failed') await this.#results.failed(items, outcome.error, outcome.startedAt);
    else if (outcome.kind === 'answered') {
      await this.#results.answered(items, outcome.answer, outcome.startedAt, outcome.callMs);
      // The pace and the forecasts' horizon follow how long a push holds its SKUs and its call slot: the
      // mark before the call and the confirmation after it as well as the call, which on a busy hub take
      // longer than the channel does.
      this.#scheduler.answered(this.#clock.now() - sentAt);
    }
  }

  async #pushBulk(items: BatchItem[]): Promise<void> {
    const lane = this.#scheduler.bulkLane!;
    let measuredMs: number | undefined;
    try {
      const sentAt = this.#clock.now();
      const { lateWriteWindowMs = DEFAULT_LATE_WRITE_WINDOW_MS } = this.#options;
      const timeoutMs = lane.limits.maxDurationMs;
      if (!(await this.#writer.markWriting(items, sentAt + timeoutMs + lateWriteWindowMs))) return;
      const outcome = await this.#calls.pushBulk(items.map((item) => item.update), timeoutMs);
      if (outcome.kind === 'failed') {
        this.#observer.bulkJobEnded?.(this.#channelId, { outcome: 'failed', items: items.length, durationMs: this.#clock.now() - outcome.startedAt });
        await this.#results.failed(items, outcome.error, outcome.startedAt, 'bulk');
      } else if (outcome.kind === 'answered') {
        measuredMs = outcome.callMs;
        this.#observer.bulkJobEnded?.(this.#channelId, { outcome: 'answered', items: items.length, durationMs: outcome.callMs });
        await this.#results.answered(items, outcome.answer, outcome.startedAt, outcome.callMs);
      }
    } finally {
      lane.finished(measuredMs);
    }
  }

  #isIdle(): boolean {
    return this.#backlog.due.size === 0 && this.#tasks.size === 0 && this.#reconcile.running === null;
  }

  #checkIdle(): void {
    this.#idle.check(() => this.#isIdle());
  }
}
