/** Where a {@link TokenBucket} reads the time, in ms (any origin, as long as it is the same for every call). */
export interface BucketClock {
  now(): number;
}

/** A monotonic clock: what a bucket reads when no clock is given. */
const MONOTONIC: BucketClock = Object.freeze({ now: () => performance.now() });

/** What {@link TokenBucket.take} answers: taken, or how long until the tokens asked for are there. */
export type BucketTake = { ok: true; remaining: number } | { ok: false; retryAfterMs: number; remaining: number };

/**
 * A token bucket: holds at most `burst` tokens and refills `perSecond` tokens per second.
 * One token pays for one request, so in any window of T seconds at most `burst + perSecond * T`
 * requests go out, which is how channels document their limits (Shopify's leaky bucket, eBay's quota).
 *
 * The one bucket of stockrelay, for both sides of a rate limit: the hub's dispatcher paces its pushes with it,
 * connectors pace their calls with it, and simulators enforce the channel's limit with it.
 * Time comes from the clock given at construction, or from the `now` a call passes (a caller that passes `now`
 * passes it to every call, on one time scale). Tests inject the clock and never wait on real time.
 */
export class TokenBucket {
  readonly perSecond: number;
  readonly burst: number;
  readonly #clock: BucketClock;
  #tokens: number;
  #refilledAt: number;

  /**
   * Starts full: an idle channel may send its first requests at once. `clock` is the clock the bucket reads
   * (default: a monotonic one), or the time it starts at, for a caller that passes `now` to every call.
   */
  constructor(perSecond: number, burst: number, clock: BucketClock | number = MONOTONIC) {
    if (!(perSecond > 0)) throw new RangeError(`perSecond must be > 0, got ${perSecond}`);
    if (!(burst >= 1)) throw new RangeError(`burst must be >= 1, got ${burst}`);
    this.perSecond = perSecond;
    this.burst = burst;
    this.#clock = typeof clock === 'number' ? MONOTONIC : clock;
    this.#tokens = burst;
    this.#refilledAt = typeof clock === 'number' ? clock : clock.now();
  }

  /** Tokens available at `now` (fractional). */
  available(now: number = this.#clock.now()): number {
    this.#refill(now);
    return this.#tokens;
  }

  /** Takes one token when one is available at `now`; returns whether it did. */
  tryTake(now: number = this.#clock.now()): boolean {
    this.#refill(now);
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }

  /**
   * Takes `cost` tokens when there are enough at `now`; otherwise takes none and says how long until there
   * will be (what a channel's 429 carries as Retry-After).
   */
  take(cost = 1, now: number = this.#clock.now()): BucketTake {
    this.#refill(now);
    if (this.#tokens >= cost) {
      this.#tokens -= cost;
      return { ok: true, remaining: this.#tokens };
    }
    return { ok: false, retryAfterMs: this.#waitMs(cost), remaining: this.#tokens };
  }

  /** Earliest time at which `tryTake` will succeed (`now` when it would already). */
  nextTokenAt(now: number = this.#clock.now()): number {
    this.#refill(now);
    return this.#tokens >= 1 ? now : now + this.#waitMs(1);
  }

  /**
   * Called when the channel said "slow down" until `until` (the caller sends nothing before then):
   * nothing accrues until that moment and at most one token is left at it, so the first request after a pause is a single probe, not a burst
   * that would be throttled again.
   */
  pauseUntil(until: number, now: number = this.#clock.now()): void {
    this.#refill(now);
    this.#tokens = Math.min(this.#tokens, 1);
    this.#refilledAt = Math.max(this.#refilledAt, until);
  }

  /** Sets the bucket to hold `tokens` at `at` (a state saved earlier), capped at `burst`. */
  restore(tokens: number, at: number): void {
    this.#tokens = Math.max(0, Math.min(this.burst, tokens));
    this.#refilledAt = at;
  }

  #waitMs(cost: number): number {
    return Math.ceil(((cost - this.#tokens) * 1000) / this.perSecond);
  }

  #refill(now: number): void {
    // A clock stepping back (or a pause in the future) must not mint or burn tokens.
    const elapsed = now - this.#refilledAt;
    if (elapsed <= 0) return;
    this.#tokens = Math.min(this.burst, this.#tokens + (elapsed * this.perSecond) / 1000);
    this.#refilledAt = now;
  }
}
