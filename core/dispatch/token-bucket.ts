/**
 * A token bucket: holds at most `burst` tokens and refills `perSecond` tokens per second.
 * One token pays for one request, so in any window of T seconds at most `burst + perSecond * T`
 * requests go out, which is how channels document their limits (Shopify's leaky bucket, eBay's quota).
 * Time is passed in (epoch ms) so callers and tests decide the clock.
 */
export class TokenBucket {
  readonly perSecond: number;
  readonly burst: number;
  #tokens: number;
  #refilledAt: number;

  /** Starts full: an idle channel may send its first requests at once. */
  constructor(perSecond: number, burst: number, now: number) {
    if (!(perSecond > 0)) throw new RangeError(`perSecond must be > 0, got ${perSecond}`);
    if (!(burst >= 1)) throw new RangeError(`burst must be >= 1, got ${burst}`);
    this.perSecond = perSecond;
    this.burst = burst;
    this.#tokens = burst;
    this.#refilledAt = now;
  }

  /** Tokens available at `now` (fractional). */
  available(now: number): number {
    this.#refill(now);
    return this.#tokens;
  }

  /** Takes one token when one is available at `now`; returns whether it did. */
  tryTake(now: number): boolean {
    this.#refill(now);
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }

  /** Earliest epoch ms at which `tryTake` will succeed (`now` when it would already). */
  nextTokenAt(now: number): number {
    this.#refill(now);
    if (this.#tokens >= 1) return now;
    return now + Math.ceil(((1 - this.#tokens) * 1000) / this.perSecond);
  }

  /**
   * Called when the channel said "slow down" until `until` (the caller sends nothing before then):
   * nothing accrues until that moment and at most one token is left at it, so the first request after a pause is a single probe, not a burst
   * that would be throttled again.
   */
  pauseUntil(until: number, now: number): void {
    this.#refill(now);
    this.#tokens = Math.min(this.#tokens, 1);
    this.#refilledAt = Math.max(this.#refilledAt, until);
  }

  /** Sets the bucket to hold `tokens` at `at` (a state saved earlier), capped at `burst`. */
  restore(tokens: number, at: number): void {
    this.#tokens = Math.max(0, Math.min(this.burst, tokens));
    this.#refilledAt = at;
  }

  #refill(now: number): void {
    // A clock stepping back (or a pause in the future) must not mint or burn tokens.
    const elapsed = now - this.#refilledAt;
    if (elapsed <= 0) return;
    this.#tokens = Math.min(this.burst, this.#tokens + (elapsed * this.perSecond) / 1000);
    this.#refilledAt = now;
  }
}
