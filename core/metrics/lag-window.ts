/** Bucket bounds grow by this ratio: a quantile is reported within about 2% of the exact sample. */
const GROWTH = 1.04;
const LOG_GROWTH = Math.log(GROWTH);
/** Buckets up to about one hour (ms); slower samples land in the last bucket. */
const BUCKETS = Math.ceil(Math.log(3_600_000) / LOG_GROWTH) + 2;
/** Time slices per window: a sample leaves the window at most one slice late. */
const SLICES = 60;

const bucketOf = (ms: number): number => (ms < 1 ? 0 : Math.min(BUCKETS - 1, 1 + Math.floor(Math.log(ms) / LOG_GROWTH)));
/** The value a bucket stands for: the geometric middle of its bounds. */
const valueOf = (bucket: number): number => (bucket === 0 ? 0 : GROWTH ** (bucket - 0.5));

/**
 * Recent sync-lag samples of one channel over a sliding time window, for percentiles that describe
 * "now" (alerts, the dashboard, the demo's live table) rather than everything since start.
 *
 * Samples are counted in log-scale buckets per time slice rather than kept and sorted: a flash sale adds
 * thousands of samples per second per channel, and percentiles are read every second for every channel,
 * so sorting raw samples cost a measurable share of the hub's CPU. Adding is O(1), a quantile
 * O(slices × buckets) with no allocation.
 */
export class LagWindow {
  private readonly sliceMs: number;
  private readonly counts: Uint32Array[] = [];
  /** Start time of the slice each row of `counts` holds, or -1 when the row is empty. */
  private readonly sliceStart: number[] = [];
  private readonly scratch = new Float64Array(BUCKETS);

  constructor(private readonly windowMs = 60_000) {
    this.sliceMs = Math.max(1, Math.ceil(windowMs / SLICES));
    for (let i = 0; i < SLICES + 1; i++) {
      this.counts.push(new Uint32Array(BUCKETS));
      this.sliceStart.push(-1);
    }
  }

  add(lagMs: number, at = Date.now()): void {
    const start = at - (at % this.sliceMs);
    const row = Math.floor(start / this.sliceMs) % this.counts.length;
    if (this.sliceStart[row] !== start) {
      this.counts[row]!.fill(0);
      this.sliceStart[row] = start;
    }
    this.counts[row]![bucketOf(lagMs)]! += 1;
  }

  /** The q-quantile (0..1) of samples within the window, or null when there are none. */
  quantile(q: number, now = Date.now()): number | null {
    const total = this.sum(now);
    if (total === 0) return null;
    const rank = Math.min(total, Math.max(1, Math.ceil(q * total)));
    let seen = 0;
    for (let bucket = 0; bucket < BUCKETS; bucket++) {
      seen += this.scratch[bucket]!;
      if (seen >= rank) return valueOf(bucket);
    }
    return valueOf(BUCKETS - 1);
  }

  count(now = Date.now()): number {
    return this.sum(now);
  }

  /** Fills `scratch` with the bucket counts of the slices inside the window; returns the sample count. */
  private sum(now: number): number {
    this.scratch.fill(0);
    const from = now - this.windowMs;
    let total = 0;
    for (let row = 0; row < this.counts.length; row++) {
      const start = this.sliceStart[row]!;
      if (start < 0 || start + this.sliceMs <= from || start > now) continue;
      const counts = this.counts[row]!;
      for (let bucket = 0; bucket < BUCKETS; bucket++) {
        const n = counts[bucket]!;
        if (n !== 0) {
          this.scratch[bucket]! += n;
          total += n;
        }
      }
    }
    return total;
  }
}
