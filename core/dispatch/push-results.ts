import { describeError, isPushTimeoutError, isRejectedError, isRetryableError, isThrottledError, retryAfterOf } from '../internal.ts';
import type { Logger } from '../sdk.ts';
import { backoffDelay, busyDelay, type BackoffPolicy } from './backoff.ts';
import type { ChannelStateWriter } from './channel-state-writer.ts';
import type { Clock } from './clock.ts';
import type { DispatchObserver, PushDeadLetter } from './dispatch-types.ts';
import { LateWrites, mayLandLater } from './late-writes.ts';
import type { BatchItem, PushScheduler } from './push-scheduler.ts';
import { checkPushResults } from './result-validation.ts';
import type { SkuPushState } from './sku-push-state.ts';

/** A SKU that ran out of attempts or was refused, with what was last sent for it. */
interface Exhausted {
  state: SkuPushState;
  quantity: number;
  version: number;
  reason: string;
}

export interface PushResultsOptions {
  channelId: string;
  /** The connector's name, for errors about what the plugin answered. */
  connectorName: string | undefined;
  maxAttempts: number;
  compareAndSet: boolean;
  pushTimeoutMs: number;
  lateWriteWindowMs: number;
  writer: ChannelStateWriter;
  scheduler: PushScheduler;
  /** The channel confirmed a push: SKUs parked by an outage may come back. */
  onChannelAnswering(): void;
  observer: DispatchObserver;
  logger: Logger;
  clock: Clock;
  backoff: BackoffPolicy;
  random: () => number;
}

/**
 * What a push call's outcome means for each SKU it carried: confirmed, retried later (and when),
 * unverified while a late write may land, not listed, or dead-lettered. The class of a whole-call error
 * decides for every item; otherwise each item's result decides for it.
 */
export class PushResults {
  readonly #o: PushResultsOptions;

  constructor(options: PushResultsOptions) {
    this.#o = options;
  }

  /**
   * The push call threw (or timed out). `sentAt`: when the call started. `lane`: `bulk` for a bulk job,
   * whose deadline is the lane's and whose throttle pauses the lane only.
   */
  async failed(items: readonly BatchItem[], err: unknown, sentAt: number, lane: 'push' | 'bulk' = 'push'): Promise<void> {
    const { channelId, observer, logger, writer } = this.#o;
    const reason = describeError(err);
    const now = this.#o.clock.now();
    for (let i = 0; i < items.length; i += 1) observer.attempted(channelId, false);
    if (mayLandLater(err)) {
      // The request may be on its way still: until the window ends, what the channel shows is unknown.
      const timeoutMs = lane === 'bulk' ? (this.#o.scheduler.bulkLane?.limits.maxDurationMs ?? this.#o.pushTimeoutMs) : this.#o.pushTimeoutMs;
      const until = Math.max(now, sentAt + timeoutMs) + this.#o.lateWriteWindowMs;
      for (const { state, update } of items) {
        const base = this.#o.compareAndSet ? update.previousQuantity : undefined;
        if (state.lateWrites) state.lateWrites.add(until, base);
        else state.lateWrites = new LateWrites(until, base);
      }
      logger.warn('dispatch: push got no answer in time; its write may still land, so the channel stays unverified until the window ends', {
        skus: items.length,
        error: reason,
        verifyAfter: new Date(until).toISOString(),
      });
    } else {
      await writer.recordSettled(items.map((item) => item.state));
    }
    if (isThrottledError(err) && lane === 'bulk') {
      // The feed's own quota: the lane waits, and its SKUs go back to the queue, per SKU or in a later job.
      const { waitMs } = this.#o.scheduler.bulkThrottled(retryAfterOf(err), this.#o.backoff, now);
      observer.throttled(channelId, waitMs);
      logger.warn('dispatch: bulk lane throttled; pausing the lane', { retryAfterMs: waitMs, error: reason });
      for (const { state } of items) state.lastError = reason;
      return;
    }
    if (isThrottledError(err)) {
      const { waitMs, until } = this.#o.scheduler.throttled(retryAfterOf(err), this.#o.backoff, now);
      observer.throttled(channelId, waitMs);
      logger.warn('dispatch: channel throttled; pausing', { retryAfterMs: waitMs, error: reason });
      for (const { state } of items) {
        state.lastError = reason;
        state.notBefore = Math.max(state.notBefore, until);
      }
      return;
    }
    if (isRejectedError(err)) {
      await this.#deadLetter(items.map(({ state, update }) => ({ state, quantity: update.quantity, version: update.version, reason })), 'item');
      return;
    }
    const serverDelay = isRetryableError(err) ? retryAfterOf(err) : undefined;
    if (!isRetryableError(err) && !isPushTimeoutError(err)) logger.warn('dispatch: push failed with an unclassified error; retrying', { error: reason });
    const exhausted: Exhausted[] = [];
    for (const item of items) this.#retryLater(item, reason, serverDelay, now, exhausted);
    await this.#deadLetter(exhausted, 'outage');
  }

  /** The channel answered the call (`answer`, not yet checked against the contract). */
  async answered(items: readonly BatchItem[], answer: unknown, sentAt: number, callMs: number): Promise<void> {
    const { channelId, observer, writer } = this.#o;
    const now = this.#o.clock.now();
    const checked = checkPushResults(answer, items.map((item) => item.update));
    if (checked.invalid.size > 0 || checked.stray.length > 0) {
      this.#o.logger.warn('dispatch: the connector answered a push outside its contract; the items concerned count as failed attempts', {
        connector: this.#o.connectorName,
        problems: [...checked.stray, ...checked.invalid.values()].slice(0, 5),
      });
    }
    const confirmed: Array<{ state: SkuPushState; version: number; quantity: number }> = [];
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
        observer.attempted(channelId, false);
        const owner = this.#o.connectorName ? `connector "${this.#o.connectorName}"` : 'the connector';
        this.#retryLater(item, `channel "${channelId}": ${owner} answered out of contract: ${invalid ?? 'no result'}`, undefined, now, exhausted);
        continue;
      }
      if (result.status === 'busy') {
        // Locked on the channel's side: later, without spending an attempt, but ever later while it lasts.
        state.busyStreak += 1;
        state.lastError = result.reason;
        state.notBefore = now + busyDelay(state.busyStreak, this.#o.backoff, result.afterMs ?? 0, this.#o.random);
        continue;
      }
      if (result.status === 'not_listed') {
        notListed.push({ state, reason: result.reason });
        continue;
      }
      observer.attempted(channelId, result.status === 'ok');
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
        confirmed.push({ state, version: update.version, quantity });
      } else if (result.status === 'retry') {
        this.#retryLater(item, result.reason, result.afterMs, now, exhausted);
      } else if (result.status === 'stale') {
        // The channel changed under us; push again at once against what it says it shows.
        state.attempts += 1;
        state.lastError = result.reason;
        state.confirmedQuantity = result.shown ?? null;
        state.notBefore = 0;
        if (result.shown !== undefined) shown.push({ sku: update.sku, quantity: result.shown });
        if (state.attempts >= this.#o.maxAttempts) exhausted.push({ state, quantity: update.quantity, version: update.version, reason: result.reason });
      } else {
        exhausted.push({ state, quantity: update.quantity, version: update.version, reason: result.reason });
      }
    }
    if (confirmed.length > 0) {
      this.#o.scheduler.confirmed();
      if (await writer.recordConfirmed(confirmed, callMs)) this.#o.onChannelAnswering();
    }
    for (const entry of shown) await writer.recordShown(entry.sku, entry.quantity);
    if (notListed.length > 0) await this.#notListed(notListed);
    await writer.recordSettled(settled);
    // The channel answered for these items: their failure is theirs, not an outage's.
    await this.#deadLetter(exhausted, 'item');
  }

  /** The channel has no listing for these SKUs: stop pushing them there, durably, and say why. */
  async #notListed(entries: ReadonlyArray<{ state: SkuPushState; reason: string }>): Promise<void> {
    const at = this.#o.clock.now();
    for (const { state, reason } of entries) {
      state.notListed = { at, reason };
      state.attempts = 0;
      state.busyStreak = 0;
      state.lastError = reason;
    }
    this.#o.logger.info('dispatch: the channel has no listing for these SKUs; not pushing them there until its config changes or an operator retries', {
      skus: entries.map((e) => e.state.sku).slice(0, 20),
      reason: entries[0]?.reason,
    });
    await this.#o.writer.recordNotListed(entries.map(({ state, reason }) => ({ sku: state.sku, reason })));
  }

  #retryLater(item: BatchItem, reason: string, serverDelayMs: number | undefined, now: number, exhausted: Exhausted[]): void {
    const { state, update } = item;
    state.attempts += 1;
    state.lastError = reason;
    if (state.attempts >= this.#o.maxAttempts) {
      exhausted.push({ state, quantity: update.quantity, version: update.version, reason });
      return;
    }
    state.notBefore = now + backoffDelay(state.attempts, this.#o.backoff, serverDelayMs ?? 0, this.#o.random);
  }

  /** Parks SKUs out of attempts (unless a newer change arrived meanwhile) and publishes their letters. */
  async #deadLetter(entries: readonly Exhausted[], parkedBy: 'outage' | 'item'): Promise<void> {
    if (entries.length === 0) return;
    const { channelId, clock } = this.#o;
    const at = new Date(clock.now()).toISOString();
    const letters: PushDeadLetter[] = [];
    for (const { state, quantity, version, reason } of entries) {
      const letter: PushDeadLetter = { channelId, sku: state.sku, quantity, version, attempts: state.attempts, reason: String(reason || 'no reason given'), at };
      letters.push(letter);
      if (state.version > version) {
        // A newer change arrived meanwhile: by the rule that a newer change brings a SKU back, it stays.
        state.attempts = 0;
        state.notBefore = clock.now() + backoffDelay(1, this.#o.backoff, 0, this.#o.random);
      } else {
        state.parked = true;
        state.parkedBy = parkedBy;
      }
      this.#o.observer.deadLettered(channelId, letter);
    }
    this.#o.logger.warn('dispatch: dead-lettering pushes', { skus: letters.map((l) => l.sku), reason: letters[0]?.reason });
    await this.#o.writer.recordDeadLettered(letters);
  }
}
