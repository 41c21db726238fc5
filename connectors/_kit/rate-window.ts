/**
 * A fixed-window counter (BigCommerce's "N requests per 30 s window", Etsy's daily quota):
 * `take()` fails once `limit` requests were counted in the current window.
 */
export class FixedWindowCounter {
  private windowStart = Date.now();
  private used = 0;

  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
  ) {}

  take(): { ok: boolean; remaining: number; resetMs: number } {
    const now = Date.now();
    if (now - this.windowStart >= this.windowMs) {
      this.windowStart = now;
      this.used = 0;
    }
    const resetMs = this.windowStart + this.windowMs - now;
    if (this.used >= this.limit) return { ok: false, remaining: 0, resetMs };
    this.used += 1;
    return { ok: true, remaining: this.limit - this.used, resetMs };
  }
}
