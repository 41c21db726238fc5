/**
 * Recent sync-lag samples of one channel over a sliding time window, for percentiles that
 * describe "now" (alerts, the demo's live table) rather than everything since start.
 */
export class LagWindow {
  private times: number[] = [];
  private values: number[] = [];
  private head = 0;

  constructor(
    private readonly windowMs = 60_000,
    private readonly maxSamples = 20_000,
  ) {}

  add(lagMs: number, at = Date.now()): void {
    this.times.push(at);
    this.values.push(lagMs);
    if (this.times.length - this.head > this.maxSamples) this.head += 1;
    if (this.head > 4096) this.compact();
  }

  /** The q-quantile (0..1) of samples within the window, or null when there are none. */
  quantile(q: number, now = Date.now()): number | null {
    const recent = this.recent(now);
    if (recent.length === 0) return null;
    recent.sort((a, b) => a - b);
    return recent[Math.min(recent.length - 1, Math.max(0, Math.ceil(q * recent.length) - 1))]!;
  }

  count(now = Date.now()): number {
    return this.recent(now).length;
  }

  private recent(now: number): number[] {
    const from = now - this.windowMs;
    while (this.head < this.times.length && this.times[this.head]! < from) this.head += 1;
    return this.values.slice(this.head);
  }

  private compact(): void {
    this.times = this.times.slice(this.head);
    this.values = this.values.slice(this.head);
    this.head = 0;
  }
}
