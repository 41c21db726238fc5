import type { BulkLimits } from './dispatch-types.ts';
import { TokenBucket } from './token-bucket.ts';

/** Share of the channel's declared job rate the hub uses, as for the per-SKU calls. */
const BULK_RATE_HEADROOM = 0.97;
/** How much the estimate of one job's duration moves towards each measured one. */
const DURATION_WEIGHT = 0.3;
/**
 * A SKU may ride in a job only when the units it is expected to sell before the job lands stay below this
 * share of what it has left (plus one): while the job is open no other write of the SKU can go, so a SKU
 * that might sell out meanwhile keeps its place in the per-SKU queue, where a newer quantity can overtake.
 */
export const BULK_MAX_RISK = 0.1;

/**
 * One channel's bulk lane (a feed): its own pace and jobs in flight, apart from the per-SKU calls, and
 * how long a job takes, measured. The scheduler asks it whether a job may go and fills it; a throttle on
 * the lane pauses the lane only.
 */
export class BulkLane {
  readonly limits: Readonly<BulkLimits>;
  readonly #bucket: TokenBucket;
  #inFlight = 0;
  #durationMs: number;
  #pausedUntil = 0;
  #throttlesInARow = 0;

  constructor(limits: Readonly<BulkLimits>, now: number) {
    this.limits = limits;
    this.#bucket = new TokenBucket(limits.perSecond * BULK_RATE_HEADROOM, Math.max(1, limits.burst), now);
    this.#durationMs = limits.expectedDurationMs;
  }

  /** How long a job takes from submission to its results, ms: the declared figure until jobs are measured. */
  get durationMs(): number {
    return this.#durationMs;
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  /** Whether a job may be submitted at `now` (a job slot free, not paused, a token in the bucket). */
  canSubmit(now: number): boolean {
    return this.#inFlight < this.limits.concurrency && now >= this.#pausedUntil && this.#bucket.available(now) >= 1;
  }

  /** When {@link canSubmit} may next become true by time alone (Infinity: only a finishing job frees it). */
  nextSubmitAt(now: number): number {
    if (this.#inFlight >= this.limits.concurrency) return Infinity;
    return Math.max(this.#pausedUntil, this.#bucket.nextTokenAt(now));
  }

  /** A job is being submitted: takes its token and its slot. */
  submitted(now: number): void {
    this.#bucket.tryTake(now);
    this.#inFlight += 1;
  }

  /** A job ended; `durationMs` when the channel answered it (a failure measures nothing). */
  finished(durationMs?: number): void {
    this.#inFlight = Math.max(0, this.#inFlight - 1);
    if (durationMs === undefined || !(durationMs >= 0)) return;
    this.#throttlesInARow = 0;
    this.#durationMs += DURATION_WEIGHT * (durationMs - this.#durationMs);
  }

  /** The channel refused a job with "slow down": no job goes until the pause ends. Returns the wait. */
  throttled(retryAfterMs: number | undefined, backoff: { baseMs: number; maxMs: number }, now: number): { waitMs: number; until: number } {
    this.#throttlesInARow += 1;
    const fallbackMs = Math.max(1_000 / this.limits.perSecond, backoff.baseMs * 2 ** Math.min(this.#throttlesInARow - 1, 30));
    const waitMs = retryAfterMs ?? Math.min(Math.max(backoff.maxMs, 1_000 / this.limits.perSecond), fallbackMs);
    this.#pausedUntil = Math.max(this.#pausedUntil, now + waitMs);
    this.#bucket.pauseUntil(this.#pausedUntil, now);
    return { waitMs, until: this.#pausedUntil };
  }
}
