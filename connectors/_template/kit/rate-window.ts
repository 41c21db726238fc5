/**
 * The server side of a token bucket, as channel APIs enforce it: `take()` answers whether a request
 * may pass now and, when not, how long until a token is back (the value a 429's Retry-After carries).
 */
export class ServerTokenBucket {
  private tokens: number;
  private last = performance.now();

  constructor(
    private readonly perSecond: number,
    private readonly burst: number,
  ) {
    this.tokens = burst;
  }

  private refill(): void {
    const now = performance.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.perSecond);
    this.last = now;
  }

  /** Takes `cost` tokens if there are enough; otherwise returns the wait in ms until there will be. */
  take(cost = 1): { ok: true; remaining: number } | { ok: false; retryAfterMs: number; remaining: number } {
    this.refill();
    if (this.tokens >= cost) {
      this.tokens -= cost;
      return { ok: true, remaining: this.tokens };
    }
    return { ok: false, retryAfterMs: Math.ceil(((cost - this.tokens) / this.perSecond) * 1000), remaining: this.tokens };
  }

  available(): number {
    this.refill();
    return this.tokens;
  }
}
