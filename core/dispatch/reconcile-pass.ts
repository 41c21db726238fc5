import { describeError } from '../internal.ts';
import type { ChannelStateStore } from '../ledger/ledger-types.ts';
import type { Logger } from '../sdk.ts';
import { backoffDelay, type BackoffPolicy } from './backoff.ts';
import type { ChannelStateWriter } from './channel-state-writer.ts';
import type { Clock } from './clock.ts';
import type { PushBacklog } from './push-backlog.ts';
import type { PushScheduler } from './push-scheduler.ts';
import { WakeTimer } from './wake-timer.ts';

export interface ReconcilePassOptions {
  channelId: string;
  store: ChannelStateStore;
  writer: ChannelStateWriter;
  backlog: PushBacklog;
  scheduler: PushScheduler;
  /** Fingerprint of the channel's config now (see {@link PushBacklog.adopt}). */
  fingerprint: string;
  intervalMs: number;
  /** True once the dispatcher stopped: nothing is adopted and no next pass is set. */
  stopped(): boolean;
  /** Called after each pass that did not stop: what it adopted may be pushed. */
  done(): void;
  logger: Logger;
  clock: Clock;
  backoff: BackoffPolicy;
  random: () => number;
}

/**
 * Re-reads what the channel is behind on from the store, every `intervalMs` and when asked: the way a
 * dispatcher starts (claiming the channel first), and the way dead-lettered and failed SKUs converge.
 * A failed pass is tried again with backoff, sooner than the interval.
 */
export class ReconcilePass {
  readonly #o: ReconcilePassOptions;
  readonly #timer: WakeTimer;
  #running: Promise<void> | null = null;
  #failures = 0;
  /** The first pass after the claim read what the predecessor left in flight. */
  #adoptedOnce = false;

  constructor(options: ReconcilePassOptions) {
    this.#o = options;
    this.#timer = new WakeTimer(options.clock, () => void this.run());
  }

  /** The pass in progress, or null. */
  get running(): Promise<void> | null {
    return this.#running;
  }

  /** Runs a pass now (or joins the one running). Never rejects. */
  run(): Promise<void> {
    if (this.#running) return this.#running;
    this.#timer.clear();
    this.#running = (async () => {
      const o = this.#o;
      let nextInMs = o.intervalMs;
      try {
        const fromPredecessor = !o.writer.claimed || !this.#adoptedOnce;
        await o.writer.claim(o.scheduler.hasRevisionBudget ? (sku, tokens, at) => o.scheduler.restoreRevisions(sku, tokens, at) : undefined);
        const behind = await o.store.listBehind(o.channelId);
        this.#failures = 0;
        if (o.stopped()) return;
        const now = o.clock.now();
        for (const sku of behind) o.backlog.adopt(sku, now, fromPredecessor, o.fingerprint);
        this.#adoptedOnce = true;
      } catch (err) {
        this.#failures += 1;
        nextInMs = Math.min(nextInMs, Math.max(o.backoff.baseMs, backoffDelay(this.#failures, o.backoff, 0, o.random)));
        o.logger.error('dispatch: reading what the channel is behind on failed; retrying', { error: describeError(err), retryInMs: nextInMs });
      } finally {
        this.#running = null;
      }
      if (o.stopped()) return;
      this.#timer.at(o.clock.now() + nextInMs);
      o.done();
    })();
    return this.#running;
  }

  /** No further pass is set (one running finishes). */
  stop(): void {
    this.#timer.clear();
  }
}
