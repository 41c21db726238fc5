import { ConfigError, describeError, isPushTimeoutError, isRejectedError, isThrottledError, isRetryableError, retryAfterOf } from '../internal.ts';
import type { Logger, PushResult, StockUpdate } from '../sdk.ts';
import { isChannelFencedError } from '../ledger/channel-fenced-error.ts';
import type { BehindSku, ChannelFence, LedgerChange, PushConfirmation, WriteMark } from '../ledger/ledger-types.ts';
import { backoffDelay, busyDelay } from './backoff.ts';
import type { BackoffPolicy } from './backoff.ts';
import { shownQuantity } from './dispatch-types.ts';
import type { Dispatcher, DispatcherOptions, DispatcherSnapshot, DispatchObserver, DispatchSkuStatus, PushDeadLetter } from './dispatch-types.ts';
import { withCallDeadline } from './call-deadline.ts';
import { systemClock, type Clock, type ClockTimer } from './clock.ts';
import { DEFAULT_LATE_WRITE_WINDOW_MS, LateWrites, mayLandLater } from './late-writes.ts';
import { provenByReadBack } from './read-back.ts';
import { checkPushResults } from './result-validation.ts';
import { RevisionBudget } from './revision-budget.ts';
import { SkuPushState } from './sku-push-state.ts';
import { TokenBucket } from './token-bucket.ts';

export interface ChannelDispatcherOptions extends DispatcherOptions {
  /** Where store outages and connector surprises are reported. Default: warnings and errors to stderr. */
  logger?: Logger;
  /** Source of jitter, [0, 1). Default `Math.random`. */
  random?: () => number;
  /** Time and timers: pacing, backoff, deadlines and the reconcile pass. Default: the system clock. */
  clock?: Clock;
}

/** One item of a push call, frozen when the batch was built. */
interface BatchItem {
  state: SkuPushState;
  update: StockUpdate;
  /** What the SKU's daily revision budget has left after this push (channels with one). */
  revision?: { tokens: number; at: number };
}

/** A SKU that ran out of attempts or was refused, with what was last sent for it. */
interface Exhausted {
  state: SkuPushState;
  quantity: number;
  version: number;
  reason: string;
}

/**
 * A SKU waiting this long goes ahead of every non-zero quantity. Without it a saturated channel would
 * serve the scarce SKUs forever and starve the plentiful ones past the sync-lag alarm (p99 > 5 s).
 */
export const OVERDUE_MS = 4_000;
/** Share of the channel's declared rate the dispatcher uses (see the token bucket below). */
export const RATE_HEADROOM = 0.97;
/**
 * On channels with a per-SKU revision budget, a rise in stock waits this long to be coalesced with the
 * next changes: showing fewer units than are available cannot oversell, while every revision spent on
 * a rise is one fewer for the falls that matter.
 */
export const BUDGETED_INCREASE_HOLD_MS = 60_000;
/**
 * A SKU the channel called not listed is tried again after this long (at its next change or reconcile
 * pass): a listing created on the channel later is found within the hour, while a SKU the seller never
 * lists there costs one call an hour instead of one per change (or a dead letter per reconcile pass).
 */
export const NOT_LISTED_RECHECK_MS = 3_600_000;

/**
 * Push order when the channel cannot take everything at once, what prevents oversells first: moves to
 * zero, then SKUs overdue, then the scarcest, then the longest waiting.
 */
function byUrgency(
  a: { quantity: number; since: number; overdue: boolean },
  b: { quantity: number; since: number; overdue: boolean },
): number {
  if ((a.quantity === 0) !== (b.quantity === 0)) return a.quantity === 0 ? -1 : 1;
  if (a.overdue !== b.overdue) return a.overdue ? -1 : 1;
  if (a.overdue && a.since !== b.since) return a.since - b.since;
  if (a.quantity !== b.quantity) return a.quantity - b.quantity;
  return a.since - b.since;
}

const stderrLogger: Logger = {
  debug() {},
  info() {},
  warn(msg, data) {
    console.warn(JSON.stringify({ level: 'warn', msg, ...data }));
  },
  error(msg, data) {
    console.error(JSON.stringify({ level: 'error', msg, ...data }));
  },
};

/**
 * Keeps one channel level with the ledger: SKUs behind are coalesced (newest quantity only), batched up
 * to the channel's maximum, paced by a token bucket and pushed with at most `concurrency` calls in
 * flight, never two for one SKU. Failures are retried with jittered backoff; exhausted SKUs are
 * dead-lettered and come back with the next ledger change or reconcile pass.
 *
 * Throttles pause the whole channel for the time it asked but do not consume the items' attempts:
 * a 429 says "later", not "this item is broken", and giving up on a flash-sale SKU because the
 * channel was busy would leave it showing stale stock longer than waiting does.
 */
export class ChannelDispatcher implements Dispatcher {
  readonly #options: Readonly<ChannelDispatcherOptions>;
  readonly #channelId: string;
  readonly #logger: Logger;
  readonly #random: () => number;
  readonly #clock: Clock;
  readonly #backoff: BackoffPolicy;
  readonly #bucket: TokenBucket;
  readonly #revisions: RevisionBudget | null;
  readonly #states = new Map<string, SkuPushState>();
  /** Behind and not parked: what still has to be pushed (in flight or waiting). */
  readonly #dirty = new Set<SkuPushState>();
  readonly #parked = new Set<SkuPushState>();
  /** Push calls and confirmation writes still running. */
  readonly #tasks = new Set<Promise<void>>();
  readonly #stopController = new AbortController();
  readonly #idleWaiters = new Set<() => void>();
  #pushesInFlight = 0;
  #pausedUntil = 0;
  #consecutiveThrottles = 0;
  #storeFailures = 0;
  #reconcileFailures = 0;
  #started = false;
  #stopped = false;
  /** This process's lease epoch on the channel, once claimed: every state write carries it. */
  #epoch: number | undefined;
  #fencedReported = false;
  /** The first pass after the claim read what the predecessor left in flight. */
  #adoptedOnce = false;
  #stopping: Promise<void> | null = null;
  #reconciling: Promise<void> | null = null;
  #reconcileTimer: ClockTimer | null = null;
  #wakeTimer: ClockTimer | null = null;
  #wakeAt = Infinity;
  #pumpQueued = false;

  constructor(options: ChannelDispatcherOptions) {
    const { limits } = options;
    const problems: string[] = [];
    if (!Number.isInteger(limits.maxBatchSize) || limits.maxBatchSize < 1) problems.push(`maxBatchSize must be an integer >= 1 (got ${limits.maxBatchSize})`);
    if (!Number.isInteger(limits.concurrency) || limits.concurrency < 1) problems.push(`concurrency must be an integer >= 1 (got ${limits.concurrency})`);
    if (!(limits.perSecond > 0)) problems.push(`perSecond must be > 0 (got ${limits.perSecond})`);
    if (!(limits.burst >= 1)) problems.push(`burst must be >= 1 (got ${limits.burst})`);
    if (limits.dailyRevisionsPerSku !== undefined && (!Number.isInteger(limits.dailyRevisionsPerSku) || limits.dailyRevisionsPerSku < 1)) {
      problems.push(`dailyRevisionsPerSku must be an integer >= 1 (got ${limits.dailyRevisionsPerSku})`);
    }
    if (!Number.isInteger(options.maxAttempts) || options.maxAttempts < 1) problems.push(`maxAttempts must be an integer >= 1 (got ${options.maxAttempts})`);
    if (!(options.pushTimeoutMs > 0)) problems.push(`pushTimeoutMs must be > 0 (got ${options.pushTimeoutMs})`);
    if (!(options.reconcileIntervalMs > 0)) problems.push(`reconcileIntervalMs must be > 0 (got ${options.reconcileIntervalMs})`);
    if (options.lateWriteWindowMs !== undefined && !(options.lateWriteWindowMs >= 0)) problems.push(`lateWriteWindowMs must be >= 0 (got ${options.lateWriteWindowMs})`);
    if (problems.length > 0) {
      throw new ConfigError(
        `channel "${options.channelId}": invalid dispatch limits: ${problems.join('; ')}`,
        problems.map((message) => ({ path: `/channels/${options.channelId}/limits`, message })),
      );
    }
    this.#options = Object.freeze({ ...options, limits: Object.freeze({ ...limits }), rules: Object.freeze({ ...options.rules }) });
    this.#channelId = options.channelId;
    this.#logger = options.logger ?? stderrLogger;
    this.#random = options.random ?? Math.random;
    this.#clock = options.clock ?? systemClock;
    this.#backoff = { baseMs: Math.max(1, options.backoffBaseMs), maxMs: Math.max(1, options.backoffMaxMs) };
    // Paced a little under the channel's own bucket: requests reach the channel with jittered delays
    // (new connections, token fetches), and one token of headroom absorbs that instead of a 429.
    this.#bucket = new TokenBucket(limits.perSecond * RATE_HEADROOM, Math.max(1, limits.burst - 1), this.#clock.now());
    this.#revisions = limits.dailyRevisionsPerSku !== undefined ? new RevisionBudget(limits.dailyRevisionsPerSku) : null;
  }

  async start(): Promise<void> {
    if (this.#started || this.#stopped) return;
    this.#started = true;
    await this.#reconcile();
    this.#schedulePump();
  }

  notify(changes: readonly LedgerChange[]): void {
    if (this.#stopped) return;
    const now = this.#clock.now();
    let marked = false;
    for (const change of changes) {
      const state = this.#state(change.sku);
      const fromHere = change.eventChannel === this.#channelId;
      if (!state.observe(change.version, change.available, change.occurredAt.getTime(), fromHere, now)) continue;
      this.#unpark(state);
      if (state.notListed && now - state.notListed.at >= NOT_LISTED_RECHECK_MS) state.notListed = null;
      this.#track(state);
      marked = true;
    }
    if (marked) this.#schedulePump();
  }

  async retry(skus: readonly string[]): Promise<string[]> {
    if (this.#stopped || !this.#started) return [];
    const wanted = [...new Set(skus)];
    for (const sku of wanted) {
      const state = this.#states.get(sku);
      if (!state || (!state.parked && !state.notListed)) continue;
      // An operator retrying a not-listed SKU says the listing exists now.
      state.notListed = null;
      this.#unpark(state);
      this.#track(state);
    }
    // A SKU this process never saw (dead-lettered before a restart) is only known to the store.
    if (wanted.some((sku) => !this.#isQueued(sku))) {
      await this.#reconcile();
      for (const sku of wanted) {
        const state = this.#states.get(sku);
        if (!state?.notListed) continue;
        state.notListed = null;
        this.#track(state);
      }
    }
    this.#schedulePump();
    return wanted.filter((sku) => this.#isQueued(sku));
  }

  #isQueued(sku: string): boolean {
    const state = this.#states.get(sku);
    return state !== undefined && this.#dirty.has(state);
  }

  snapshot(): DispatcherSnapshot {
    let pending = 0;
    let oldest = Infinity;
    for (const state of this.#dirty) {
      if (!state.inFlight) pending += 1;
      oldest = Math.min(oldest, state.oldestPendingAt);
    }
    for (const state of this.#parked) oldest = Math.min(oldest, state.oldestPendingAt);
    return {
      channelId: this.#channelId,
      pending,
      inFlight: this.#pushesInFlight,
      throttledUntil: this.#pausedUntil > this.#clock.now() ? this.#pausedUntil : 0,
      deadLettered: this.#parked.size,
      oldestPendingAt: Number.isFinite(oldest) ? oldest : null,
    };
  }

  skuStatus(sku: string): DispatchSkuStatus | undefined {
    const state = this.#states.get(sku);
    if (!state) return undefined;
    const now = this.#clock.now();
    return {
      sku,
      version: state.version,
      confirmedVersion: state.confirmedVersion,
      inFlight: state.inFlight,
      attempts: state.attempts,
      retryAt: state.notBefore > now ? state.notBefore : 0,
      deadLettered: state.parked,
      oldestPendingAt: state.behind ? state.oldestPendingAt : null,
      lastError: state.lastError,
      channelThrottledUntil: this.#pausedUntil > now ? this.#pausedUntil : 0,
      unverifiedUntil: state.lateWrites?.until ?? 0,
      notListed: state.notListed ? { ...state.notListed } : null,
    };
  }

  idle(signal?: AbortSignal): Promise<void> {
    if (this.#isIdle() || this.#stopped || signal?.aborted) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const done = (): void => {
        signal?.removeEventListener('abort', done);
        this.#idleWaiters.delete(done);
        resolve();
      };
      this.#idleWaiters.add(done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }

  stop(): Promise<void> {
    if (this.#stopping) return this.#stopping;
    this.#stopped = true;
    this.#clearTimers();
    this.#stopController.abort(new Error(`channel "${this.#channelId}": dispatcher stopped`));
    this.#stopping = (async () => {
      await Promise.allSettled([...this.#tasks, ...(this.#reconciling ? [this.#reconciling] : [])]);
      this.#clearTimers();
      for (const wake of [...this.#idleWaiters]) wake();
    })();
    return this.#stopping;
  }

  // --- level-triggered state ---------------------------------------------------------------

  #state(sku: string): SkuPushState {
    let state = this.#states.get(sku);
    if (!state) {
      state = new SkuPushState(sku);
      this.#states.set(sku, state);
    }
    return state;
  }

  /** Puts a SKU in the set its state says it belongs to. */
  #track(state: SkuPushState): void {
    if (state.notListed && state.behind) {
      state.parked = false;
      this.#parked.delete(state);
      this.#dirty.delete(state);
    } else if (!state.behind) {
      state.parked = false;
      this.#parked.delete(state);
      this.#dirty.delete(state);
    } else if (state.parked) {
      this.#dirty.delete(state);
      this.#parked.add(state);
    } else {
      this.#parked.delete(state);
      this.#dirty.add(state);
    }
  }

  #unpark(state: SkuPushState): void {
    if (!state.parked) return;
    state.parked = false;
    state.attempts = 0;
    state.notBefore = 0;
  }

  #adopt(behind: BehindSku, now: number, fromPredecessor: boolean): void {
    const state = this.#state(behind.sku);
    state.adoptConfirmed(behind.pushedVersion, behind.pushedQuantity);
    // Found in the store without its origin: the change may have come from this channel, so push it.
    state.observe(behind.version, behind.available, behind.updatedAt.getTime(), true, now);
    // A write sent by an earlier holder (or an earlier run) may still land: verify before trusting any "ok".
    // Later passes skip this: since the claim this process is the only writer, and knows its own writes.
    const writeUntil = fromPredecessor ? (behind.writeUntil?.getTime() ?? 0) : 0;
    if (writeUntil > now && !state.inFlight) {
      if (state.lateWrites) state.lateWrites.add(writeUntil, undefined);
      else state.lateWrites = new LateWrites(writeUntil, undefined);
    }
    const mark = behind.notListed;
    if (mark && mark.config === this.#fingerprint && now - mark.at.getTime() < NOT_LISTED_RECHECK_MS) {
      state.notListed ??= { at: mark.at.getTime(), reason: mark.reason };
    } else if (state.notListed && now - state.notListed.at >= NOT_LISTED_RECHECK_MS) {
      state.notListed = null;
    }
    if (state.behind) this.#unpark(state);
    this.#track(state);
  }

  get #fingerprint(): string {
    return this.#options.configFingerprint ?? '';
  }

  get #fence(): ChannelFence | undefined {
    return this.#epoch === undefined ? undefined : { epoch: this.#epoch };
  }

  /**
   * Takes the channel in the store (a new lease epoch, so a former pusher's writes are refused from now
   * on) and loads what must outlive a process: the SKUs' revision budgets.
   */
  async #claim(): Promise<void> {
    if (this.#epoch !== undefined) return;
    const epoch = await this.#options.store.claimChannel(this.#channelId);
    if (this.#revisions) {
      for (const left of await this.#options.store.listRevisionBudgets(this.#channelId)) {
        this.#revisions.restore(left.sku, left.tokens, left.at.getTime());
      }
    }
    this.#epoch = epoch;
  }

  /**
   * The database refused a state write: another process claimed the channel since. Stop pushing at
   * once; whatever this process had in flight, the new holder verifies.
   */
  #fenced(err: unknown): void {
    if (this.#fencedReported) return;
    this.#fencedReported = true;
    this.#logger.error('dispatch: another hub took this channel over; this one stops pushing it', { channel: this.#channelId, error: describeError(err) });
    void this.stop();
    try {
      this.#options.onFenced?.();
    } catch (hookErr) {
      this.#logger.warn('dispatch: onFenced hook threw', { channel: this.#channelId, error: describeError(hookErr) });
    }
  }

  /** Re-reads what the channel is behind on; the way dead-lettered and failed SKUs converge. Never throws. */
  #reconcile(): Promise<void> {
    if (this.#reconciling) return this.#reconciling;
    if (this.#reconcileTimer) this.#clock.clearTimeout(this.#reconcileTimer);
    this.#reconcileTimer = null;
    this.#reconciling = (async () => {
      let nextInMs = this.#options.reconcileIntervalMs;
      try {
        const fromPredecessor = this.#epoch === undefined || !this.#adoptedOnce;
        await this.#claim();
        const behind = await this.#options.store.listBehind(this.#channelId);
        this.#reconcileFailures = 0;
        if (this.#stopped) return;
        const now = this.#clock.now();
        for (const sku of behind) this.#adopt(sku, now, fromPredecessor);
        this.#adoptedOnce = true;
      } catch (err) {
        this.#reconcileFailures += 1;
        nextInMs = Math.min(nextInMs, Math.max(this.#backoff.baseMs, backoffDelay(this.#reconcileFailures, this.#backoff, 0, this.#random)));
        this.#logger.error('dispatch: reading what the channel is behind on failed; retrying', {
          channel: this.#channelId,
          error: describeError(err),
          retryInMs: nextInMs,
        });
      } finally {
        this.#reconciling = null;
      }
      if (this.#stopped) return;
      this.#reconcileTimer = this.#clock.setTimeout(() => void this.#reconcile(), nextInMs);
      this.#schedulePump();
      this.#checkIdle();
    })();
    return this.#reconciling;
  }

  // --- scheduling ----------------------------------------------------------------------------

  #schedulePump(): void {
    if (this.#pumpQueued || this.#stopped || !this.#started) return;
    this.#pumpQueued = true;
    // setImmediate, not a microtask: changes notified in the same turn (one ledger batch) share a push.
    setImmediate(() => {
      this.#pumpQueued = false;
      this.#pump();
    });
  }

  #wakeUpAt(at: number): void {
    if (this.#stopped) return;
    if (this.#wakeTimer && this.#wakeAt <= at) return;
    if (this.#wakeTimer) this.#clock.clearTimeout(this.#wakeTimer);
    this.#wakeAt = at;
    this.#wakeTimer = this.#clock.setTimeout(() => {
      this.#wakeTimer = null;
      this.#wakeAt = Infinity;
      this.#pump();
    }, at - this.#clock.now());
  }

  #clearTimers(): void {
    if (this.#wakeTimer) this.#clock.clearTimeout(this.#wakeTimer);
    if (this.#reconcileTimer) this.#clock.clearTimeout(this.#reconcileTimer);
    this.#wakeTimer = null;
    this.#wakeAt = Infinity;
    this.#reconcileTimer = null;
  }

  /** Sends what may be sent now, and sets a timer for when the next thing may. */
  #pump(): void {
    // Nothing is sent before the channel is claimed: every write must be fenced and marked first.
    if (this.#stopped || !this.#started || this.#epoch === undefined) return;
    const now = this.#clock.now();
    if (now < this.#pausedUntil) {
      this.#wakeUpAt(this.#pausedUntil);
      return;
    }
    const { rules, limits } = this.#options;
    // No call can go out now: a finishing push or the token timer pumps again. Returning before the
    // scan keeps a saturated channel from re-sorting its whole backlog on every ledger commit.
    if (this.#pushesInFlight >= limits.concurrency) return;
    const tokenAt = this.#bucket.nextTokenAt(now);
    if (tokenAt > now) {
      this.#wakeUpAt(tokenAt);
      return;
    }
    let nextNotBefore = Infinity;
    const toVerify: SkuPushState[] = [];
    const skippable: Array<{ state: SkuPushState; quantity: number }> = [];
    const candidates: Array<{ state: SkuPushState; quantity: number; since: number; overdue: boolean }> = [];
    for (const state of this.#dirty) {
      if (state.inFlight) continue;
      if (state.notBefore > now) {
        nextNotBefore = Math.min(nextNotBefore, state.notBefore);
        continue;
      }
      const late = state.lateWrites;
      if (late && !late.closed(now) && late.pushedVersion >= state.version) {
        // Already pushed this version while an earlier write may still land: only the window's end tells.
        nextNotBefore = Math.min(nextNotBefore, late.until);
        continue;
      }
      if (late && late.closed(now) && this.#options.connector.fetchQuantities) {
        toVerify.push(state);
        continue;
      }
      const quantity = shownQuantity(rules, state.available);
      const heldUntil = this.#revisions ? this.#budgetHold(state, quantity, now) : now;
      if (heldUntil > now) {
        nextNotBefore = Math.min(nextNotBefore, heldUntil);
        continue;
      }
      if (state.canSkip(quantity)) {
        skippable.push({ state, quantity });
      } else {
        const since = state.oldestPendingAt;
        candidates.push({ state, quantity, since, overdue: now - since >= OVERDUE_MS });
      }
    }
    if (skippable.length > 0) this.#confirmUnchanged(skippable);

    // Read-backs first: each settles a SKU without spending a write (or a revision).
    for (let next = 0; next < toVerify.length && this.#pushesInFlight < limits.concurrency; ) {
      if (!this.#bucket.tryTake(now)) {
        this.#wakeUpAt(this.#bucket.nextTokenAt(now));
        break;
      }
      const batch = toVerify.slice(next, next + limits.maxBatchSize);
      next += batch.length;
      this.#launchVerify(batch);
    }

    if (candidates.length > 0 && this.#pushesInFlight < limits.concurrency) {
      candidates.sort(byUrgency);
      let next = 0;
      while (next < candidates.length && this.#pushesInFlight < limits.concurrency) {
        if (!this.#bucket.tryTake(now)) {
          this.#wakeUpAt(this.#bucket.nextTokenAt(now));
          break;
        }
        const batch = candidates.slice(next, next + limits.maxBatchSize);
        next += batch.length;
        this.#launch(batch.map(({ state, quantity }) => this.#item(state, quantity)));
      }
    }
    // A push finishing pumps again; only backoff expiries need a timer.
    if (Number.isFinite(nextNotBefore)) this.#wakeUpAt(nextNotBefore);
    this.#checkIdle();
  }

  /**
   * Until when a revision-budgeted channel holds this SKU (`now`: push). A move to zero is never held:
   * it is what stops an oversell. A rise is held a while to coalesce; other changes wait for the budget.
   */
  #budgetHold(state: SkuPushState, quantity: number, now: number): number {
    if (quantity === 0) return now;
    const confirmed = state.confirmedQuantity;
    if (confirmed !== null && confirmed > 0 && quantity > confirmed) {
      const until = state.oldestPendingAt + BUDGETED_INCREASE_HOLD_MS;
      if (until > now) return until;
    }
    return this.#revisions!.availableAt(state.sku, now);
  }

  /** The update for a SKU, from its newest known ledger state (never an older one). */
  #item(state: SkuPushState, quantity: number): BatchItem {
    state.inFlight = true;
    const revision = this.#revisions?.take(state.sku, this.#clock.now());
    const update: StockUpdate = { sku: state.sku, quantity, version: state.version };
    if (state.confirmedQuantity !== null) update.previousQuantity = state.confirmedQuantity;
    return revision ? { state, update, revision } : { state, update };
  }

  #runTask(states: readonly SkuPushState[], work: () => Promise<void>, countsAsPush: boolean): void {
    if (countsAsPush) this.#pushesInFlight += 1;
    const task: Promise<void> = work()
      .catch((err: unknown) => {
        if (isChannelFencedError(err)) return this.#fenced(err);
        this.#logger.error('dispatch: unexpected failure', { channel: this.#channelId, error: describeError(err) });
      })
      .finally(() => {
        if (countsAsPush) this.#pushesInFlight -= 1;
        for (const state of states) {
          state.inFlight = false;
          this.#track(state);
        }
        this.#tasks.delete(task);
        this.#schedulePump();
        this.#checkIdle();
      });
    this.#tasks.add(task);
  }

  // --- pushing -------------------------------------------------------------------------------

  #launch(items: BatchItem[]): void {
    this.#runTask(
      items.map((item) => item.state),
      () => this.#push(items),
      true,
    );
  }

  async #push(items: BatchItem[]): Promise<void> {
    const stopSignal = this.#stopController.signal;
    const sentAt = this.#clock.now();
    // Durable before the call: if this process dies with the write in flight, whoever pushes the channel
    // next knows the write may still land, and verifies instead of trusting a newer "ok".
    const writeUntil = new Date(sentAt + this.#options.pushTimeoutMs + this.#lateWriteWindowMs);
    const marks: WriteMark[] = items.map(({ update, revision }) =>
      revision ? { sku: update.sku, until: writeUntil, revision: { tokens: revision.tokens, at: new Date(revision.at) } } : { sku: update.sku, until: writeUntil },
    );
    try {
      await this.#options.store.recordWriting(this.#channelId, marks, this.#fence);
      this.#storeFailures = 0;
    } catch (err) {
      if (isChannelFencedError(err)) throw err;
      this.#storeFailures += 1;
      const retryInMs = Math.max(this.#backoff.baseMs, backoffDelay(this.#storeFailures, this.#backoff, 0, this.#random));
      this.#logger.error('dispatch: marking writes in flight failed; not pushing until the store answers', { channel: this.#channelId, error: describeError(err), retryInMs });
      for (const { state } of items) state.notBefore = Math.max(state.notBefore, this.#clock.now() + retryInMs);
      return;
    }
    if (stopSignal.aborted) return;
    const startedAt = this.#clock.now();
    let answer: unknown;
    try {
      const updates = items.map((item) => item.update);
      answer = await withCallDeadline(stopSignal, this.#options.pushTimeoutMs, (signal) => this.#options.connector.push(updates, signal), this.#clock);
    } catch (err) {
      // Stopped: nothing is lost, the durable pushed_version brings these SKUs back on the next start.
      if (stopSignal.aborted) return;
      await this.#failed(items, err, startedAt);
      return;
    }
    await this.#answered(items, answer, startedAt, this.#clock.now() - startedAt);
  }

  get #lateWriteWindowMs(): number {
    return this.#options.lateWriteWindowMs ?? DEFAULT_LATE_WRITE_WINDOW_MS;
  }

  /** The push call threw (or timed out): the class of the error decides for every item. */
  async #failed(items: BatchItem[], err: unknown, sentAt: number): Promise<void> {
    const reason = describeError(err);
    const now = this.#clock.now();
    for (let i = 0; i < items.length; i += 1) this.#observe((o) => o.attempted(this.#channelId, false));
    if (mayLandLater(err)) {
      // The request may be on its way still: until the window ends, what the channel shows is unknown.
      const until = Math.max(now, sentAt + this.#options.pushTimeoutMs) + this.#lateWriteWindowMs;
      for (const { state, update } of items) {
        const base = this.#options.limits.compareAndSet ? update.previousQuantity : undefined;
        if (state.lateWrites) state.lateWrites.add(until, base);
        else state.lateWrites = new LateWrites(until, base);
      }
      this.#logger.warn('dispatch: push got no answer in time; its write may still land, so the channel stays unverified until the window ends', {
        channel: this.#channelId,
        skus: items.length,
        error: reason,
        verifyAfter: new Date(until).toISOString(),
      });
    } else {
      await this.#settled(items.map((item) => item.state));
    }
    if (isThrottledError(err)) {
      this.#consecutiveThrottles += 1;
      // No Retry-After: wait the whole exponential ceiling; a jittered wait could be zero and hit the same wall.
      const waitMs = retryAfterOf(err) ?? Math.min(this.#backoff.maxMs, this.#backoff.baseMs * 2 ** Math.min(this.#consecutiveThrottles - 1, 30));
      this.#pausedUntil = Math.max(this.#pausedUntil, now + waitMs);
      this.#bucket.pauseUntil(this.#pausedUntil, now);
      this.#observe((o) => o.throttled(this.#channelId, waitMs));
      this.#logger.warn('dispatch: channel throttled; pausing', { channel: this.#channelId, retryAfterMs: waitMs, error: reason });
      for (const { state } of items) {
        state.lastError = reason;
        state.notBefore = Math.max(state.notBefore, this.#pausedUntil);
      }
      return;
    }
    if (isRejectedError(err)) {
      await this.#deadLetter(items.map(({ state, update }) => ({ state, quantity: update.quantity, version: update.version, reason })), 'item');
      return;
    }
    const serverDelay = isRetryableError(err) ? retryAfterOf(err) : undefined;
    if (!isRetryableError(err) && !isPushTimeoutError(err)) {
      this.#logger.warn('dispatch: push failed with an unclassified error; retrying', { channel: this.#channelId, error: reason });
    }
    const exhausted: Exhausted[] = [];
    for (const item of items) this.#retryLater(item, reason, serverDelay, now, exhausted);
    await this.#deadLetter(exhausted, 'outage');
  }

  /** The channel answered per item. */
  async #answered(items: BatchItem[], answer: unknown, sentAt: number, callMs: number): Promise<void> {
    const now = this.#clock.now();
    const checked = checkPushResults(answer, items.map((item) => item.update));
    if (checked.invalid.size > 0 || checked.stray.length > 0) {
      this.#logger.warn('dispatch: the connector answered a push outside its contract; the items concerned count as failed attempts', {
        channel: this.#channelId,
        connector: this.#options.connectorName,
        problems: [...checked.stray, ...checked.invalid.values()].slice(0, 5),
      });
    }
    const confirmed: Array<{ item: BatchItem; quantity: number }> = [];
    const shown: Array<{ sku: string; quantity: number }> = [];
    const notListed: Array<{ state: SkuPushState; reason: string }> = [];
    /** Answered without a confirmation (retry, busy, refused, out of contract): the write cannot land later. */
    const settled: SkuPushState[] = [];
    const exhausted: Exhausted[] = [];
    for (const item of items) {
      const { state, update } = item;
      const invalid = checked.invalid.get(update.sku);
      const result = checked.bySku.get(update.sku);
      if (result?.status !== 'ok' && result?.status !== 'not_listed' && result?.status !== 'stale') settled.push(state);
      if (invalid !== undefined || !result) {
        this.#observe((o) => o.attempted(this.#channelId, false));
        const owner = this.#options.connectorName ? `connector "${this.#options.connectorName}"` : 'the connector';
        this.#retryLater(item, `channel "${this.#channelId}": ${owner} answered out of contract: ${invalid ?? 'no result'}`, undefined, now, exhausted);
        continue;
      }
      if (result.status === 'busy') {
        // Locked on the channel's side: later, without spending an attempt, but ever later while it lasts.
        state.busyStreak += 1;
        state.lastError = result.reason;
        state.notBefore = now + busyDelay(state.busyStreak, this.#backoff, result.afterMs ?? 0, this.#random);
        continue;
      }
      if (result.status === 'not_listed') {
        notListed.push({ state, reason: result.reason });
        continue;
      }
      this.#observe((o) => o.attempted(this.#channelId, result.status === 'ok'));
      if (result.status === 'ok') {
        const quantity = result.quantity ?? update.quantity;
        const late = state.lateWrites;
        if (late && !late.proves(quantity, sentAt)) {
          // The channel took it, but an older write may still land on top: not confirmed until verified.
          late.pushedVersion = Math.max(late.pushedVersion, update.version);
          state.attempts = 0;
          state.busyStreak = 0;
          continue;
        }
        if (late && sentAt >= late.until) state.lateWrites = null;
        confirmed.push({ item, quantity });
      } else if (result.status === 'retry') {
        this.#retryLater(item, result.reason, result.afterMs, now, exhausted);
      } else if (result.status === 'stale') {
        // The channel changed under us; push again at once against what it says it shows.
        state.attempts += 1;
        state.lastError = result.reason;
        state.confirmedQuantity = result.shown ?? null;
        state.notBefore = 0;
        if (result.shown !== undefined) shown.push({ sku: update.sku, quantity: result.shown });
        if (state.attempts >= this.#options.maxAttempts) {
          exhausted.push({ state, quantity: update.quantity, version: update.version, reason: result.reason });
        }
      } else {
        exhausted.push({ state, quantity: update.quantity, version: update.version, reason: result.reason });
      }
    }
    if (confirmed.length > 0) {
      this.#consecutiveThrottles = 0;
      const recorded = await this.#recordConfirmed(
        confirmed.map(({ item, quantity }) => ({ state: item.state, version: item.update.version, quantity })),
        callMs,
      );
      if (recorded) this.#channelAnswering();
    }
    for (const entry of shown) {
      try {
        await this.#options.store.recordShown(this.#channelId, entry.sku, entry.quantity, this.#fence);
      } catch (err) {
        if (isChannelFencedError(err)) throw err;
        this.#logger.warn('dispatch: recording what the channel shows failed', { channel: this.#channelId, sku: entry.sku, error: describeError(err) });
      }
    }
    if (notListed.length > 0) await this.#markNotListed(notListed);
    await this.#settled(settled);
    // The channel answered for these items: their failure is theirs, not an outage's.
    await this.#deadLetter(exhausted, 'item');
  }

  /**
   * The channel confirmed a push again: SKUs parked after their calls failed whole (an outage) come back
   * at once instead of at the next reconcile pass. SKUs the channel answered for (refused, or kept
   * answering "retry" for) stay parked: bringing them back at every success would dead-letter them again
   * and again.
   */
  #channelAnswering(): void {
    let woke = false;
    for (const state of [...this.#parked]) {
      if (state.parkedBy !== 'outage' || state.inFlight) continue;
      this.#unpark(state);
      this.#track(state);
      woke = true;
    }
    if (woke) this.#schedulePump();
  }

  /** The channel has no listing for these SKUs: stop pushing them there, durably, and say why. */
  async #markNotListed(entries: ReadonlyArray<{ state: SkuPushState; reason: string }>): Promise<void> {
    const at = this.#clock.now();
    for (const { state, reason } of entries) {
      state.notListed = { at, reason };
      state.attempts = 0;
      state.busyStreak = 0;
      state.lastError = reason;
    }
    this.#logger.info('dispatch: the channel has no listing for these SKUs; not pushing them there until its config changes or an operator retries', {
      channel: this.#channelId,
      skus: entries.map((e) => e.state.sku).slice(0, 20),
      reason: entries[0]?.reason,
    });
    try {
      await this.#options.store.recordNotListed(
        this.#channelId,
        entries.map(({ state, reason }) => ({ sku: state.sku, reason })),
        this.#fingerprint,
        this.#fence,
      );
    } catch (err) {
      if (isChannelFencedError(err)) throw err;
      this.#logger.error('dispatch: recording SKUs not listed failed', { channel: this.#channelId, error: describeError(err) });
    }
  }

  /**
   * Clears the in-flight marks of writes the channel answered, so a successor does not verify them for
   * nothing and `why` does not call them unverified. A SKU with an earlier write still possibly landing
   * keeps its mark. Best effort: a mark left behind only costs a successor one read-back.
   */
  async #settled(states: readonly SkuPushState[]): Promise<void> {
    const skus = states.filter((state) => state.lateWrites === null).map((state) => state.sku);
    if (skus.length === 0) return;
    try {
      await this.#options.store.recordSettled(this.#channelId, skus, this.#fence);
    } catch (err) {
      if (isChannelFencedError(err)) throw err;
      this.#logger.warn('dispatch: clearing in-flight marks failed', { channel: this.#channelId, error: describeError(err) });
    }
  }

  #retryLater(item: BatchItem, reason: string, serverDelayMs: number | undefined, now: number, exhausted: Exhausted[]): void {
    const { state, update } = item;
    state.attempts += 1;
    state.lastError = reason;
    if (state.attempts >= this.#options.maxAttempts) {
      exhausted.push({ state, quantity: update.quantity, version: update.version, reason });
      return;
    }
    state.notBefore = now + backoffDelay(state.attempts, this.#backoff, serverDelayMs ?? 0, this.#random);
  }

  #launchVerify(states: SkuPushState[]): void {
    for (const state of states) state.inFlight = true;
    this.#runTask(states, () => this.#verify(states), true);
  }

  /**
   * Reads back what the channel shows for SKUs whose late-write window closed: a SKU showing what the
   * ledger asks for is confirmed without a write; any other is pushed again (and that push, sent after
   * the window, proves itself). A failed read-back falls back to the push.
   */
  async #verify(states: SkuPushState[]): Promise<void> {
    const entries = states.map((state) => ({ state, sku: state.sku, version: state.version, quantity: shownQuantity(this.#options.rules, state.available) }));
    const stopSignal = this.#stopController.signal;
    let proven: typeof entries = [];
    try {
      proven = await withCallDeadline(stopSignal, this.#options.pushTimeoutMs, (signal) => provenByReadBack(this.#options.connector, entries, signal), this.#clock);
    } catch (err) {
      if (stopSignal.aborted) return;
      this.#logger.warn('dispatch: reading back what the channel shows failed; pushing again instead', { channel: this.#channelId, error: describeError(err) });
    }
    // The window is over: from now on a push's "ok" proves itself, whatever the read-back said.
    for (const { state } of entries) state.lateWrites = null;
    // A SKU the read-back did not prove shows something else (a late write landed) or could not be read:
    // what was confirmed before is no longer known, so it must be pushed, never skipped as "unchanged".
    const provenSkus = new Set(proven.map(({ sku }) => sku));
    for (const { state, sku } of entries) if (!provenSkus.has(sku)) state.confirmedQuantity = null;
    if (proven.length > 0) await this.#recordConfirmed(proven.map(({ state, version, quantity }) => ({ state, version, quantity })), 0);
  }


  /** The channel already shows these quantities: record the newer versions as confirmed without a call. */
  #confirmUnchanged(entries: ReadonlyArray<{ state: SkuPushState; quantity: number }>): void {
    for (const { state } of entries) state.inFlight = true;
    this.#runTask(
      entries.map((entry) => entry.state),
      async () => {
        await this.#recordConfirmed(entries.map(({ state, quantity }) => ({ state, version: state.version, quantity })), 0);
      },
      false,
    );
  }

  /** One store write for every confirmation of a push; lag is observed once it is durable. Resolves whether it was recorded. */
  async #recordConfirmed(entries: ReadonlyArray<{ state: SkuPushState; version: number; quantity: number }>, callMs: number): Promise<boolean> {
    const confirmedAt = new Date(this.#clock.now());
    const confirmations: PushConfirmation[] = entries.map(({ state, version, quantity }) => ({ sku: state.sku, version, quantity, confirmedAt }));
    try {
      await this.#options.store.recordConfirmed(this.#channelId, confirmations, this.#fence);
      this.#storeFailures = 0;
    } catch (err) {
      if (isChannelFencedError(err)) throw err;
      this.#storeFailures += 1;
      const retryInMs = Math.max(this.#backoff.baseMs, backoffDelay(this.#storeFailures, this.#backoff, 0, this.#random));
      this.#logger.error('dispatch: recording confirmed pushes failed; will record again', {
        channel: this.#channelId,
        skus: entries.length,
        error: describeError(err),
        retryInMs,
      });
      // The channel does show these quantities: remembering that turns the retry into a store write only.
      const retryAt = this.#clock.now() + retryInMs;
      for (const { state, quantity } of entries) {
        state.confirmedQuantity = quantity;
        state.notBefore = retryAt;
      }
      return false;
    }
    for (const { state, version, quantity } of entries) {
      const lags = state.confirm(version, quantity, confirmedAt.getTime());
      state.attempts = 0;
      state.busyStreak = 0;
      state.notBefore = 0;
      state.lastError = null;
      state.notListed = null;
      this.#observe((o) => o.confirmed(this.#channelId, state.sku, lags, callMs));
    }
    return true;
  }

  async #deadLetter(entries: readonly Exhausted[], parkedBy: 'outage' | 'item'): Promise<void> {
    if (entries.length === 0) return;
    const at = new Date(this.#clock.now()).toISOString();
    const letters: PushDeadLetter[] = [];
    for (const { state, quantity, version, reason } of entries) {
      const letter: PushDeadLetter = { channelId: this.#channelId, sku: state.sku, quantity, version, attempts: state.attempts, reason: String(reason || 'no reason given'), at };
      letters.push(letter);
      if (state.version > version) {
        // A newer change arrived meanwhile: by the rule that a newer change brings a SKU back, it stays.
        state.attempts = 0;
        state.notBefore = this.#clock.now() + backoffDelay(1, this.#backoff, 0, this.#random);
      } else {
        state.parked = true;
        state.parkedBy = parkedBy;
      }
      this.#observe((o) => o.deadLettered(this.#channelId, letter));
    }
    this.#logger.warn('dispatch: dead-lettering pushes', { channel: this.#channelId, skus: letters.map((l) => l.sku), reason: letters[0]?.reason });
    await Promise.all(
      letters.map(async (letter) => {
        try {
          await this.#options.deadLetter(letter);
        } catch (err) {
          this.#logger.error('dispatch: publishing a dead letter failed', { channel: this.#channelId, sku: letter.sku, error: describeError(err) });
        }
      }),
    );
    try {
      await this.#options.store.recordDeadLettered(
        this.#channelId,
        letters.map((letter) => ({ sku: letter.sku, error: letter.reason })),
        this.#fence,
      );
    } catch (err) {
      if (isChannelFencedError(err)) throw err;
      this.#logger.error('dispatch: marking SKUs dead-lettered failed', { channel: this.#channelId, error: describeError(err) });
    }
  }

  // --- idle, observer -----------------------------------------------------------------------

  #isIdle(): boolean {
    return this.#dirty.size === 0 && this.#tasks.size === 0 && this.#reconciling === null;
  }

  #checkIdle(): void {
    if (this.#idleWaiters.size === 0 || !this.#isIdle()) return;
    for (const wake of [...this.#idleWaiters]) wake();
  }

  /** Observers are metrics and alerts: a bug in one must not stop stock from reaching the channel. */
  #observe(call: (observer: DispatchObserver) => void): void {
    const { observer } = this.#options;
    if (!observer) return;
    try {
      call(observer);
    } catch (err) {
      this.#logger.warn('dispatch: observer threw', { channel: this.#channelId, error: describeError(err) });
    }
  }
}
