/**
 * Every sample of a latency, kept at 1 ms resolution up to a ceiling, in constant memory: a flash sale
 * confirms millions of (channel, change) pairs, and percentiles must come from all of them, not a sample.
 */
export class LagHistogram {
  readonly #counts: Uint32Array;
  #count = 0;
  #sum = 0;
  #max = 0;
  #overflow = 0;

  /** `ceilingMs`: samples above it are counted at the ceiling (and in `max` exactly). */
  constructor(readonly ceilingMs = 120_000) {
    this.#counts = new Uint32Array(ceilingMs + 1);
  }

  add(ms: number): void {
    const v = ms < 0 ? 0 : ms;
    const bucket = v >= this.ceilingMs ? this.ceilingMs : Math.round(v);
    if (v >= this.ceilingMs) this.#overflow += 1;
    this.#counts[bucket] = (this.#counts[bucket] ?? 0) + 1;
    this.#count += 1;
    this.#sum += v;
    if (v > this.#max) this.#max = v;
  }

  /** Adds every sample of `other` (same ceiling). */
  merge(other: LagHistogram): void {
    const counts = other.buckets();
    for (let i = 0; i < counts.length && i < this.#counts.length; i++) this.#counts[i] = (this.#counts[i] ?? 0) + (counts[i] ?? 0);
    this.#count += other.count;
    this.#sum += other.mean * other.count;
    this.#max = Math.max(this.#max, other.max);
    this.#overflow += other.overflow;
  }

  get count(): number {
    return this.#count;
  }

  get max(): number {
    return this.#max;
  }

  get mean(): number {
    return this.#count === 0 ? 0 : this.#sum / this.#count;
  }

  /** Samples at or above the ceiling. */
  get overflow(): number {
    return this.#overflow;
  }

  /** The q-quantile (0..1), nearest rank, or null without samples. */
  quantile(q: number): number | null {
    if (this.#count === 0) return null;
    const rank = Math.max(1, Math.ceil(q * this.#count));
    let seen = 0;
    for (let i = 0; i < this.#counts.length; i++) {
      seen += this.#counts[i]!;
      if (seen >= rank) return i === this.ceilingMs ? this.#max : i;
    }
    return this.#max;
  }

  /** Raw per-millisecond counts (read-only view). */
  buckets(): Readonly<Uint32Array> {
    return this.#counts;
  }

  /** Counts per bucket between successive `edges` (ms), the last bucket open-ended: for charts. */
  counts(edges: readonly number[]): number[] {
    const out = new Array<number>(edges.length).fill(0);
    let edge = 0;
    for (let i = 0; i < this.#counts.length; i++) {
      const c = this.#counts[i]!;
      if (c === 0) continue;
      while (edge + 1 < edges.length && i >= edges[edge + 1]!) edge += 1;
      out[edge]! += c;
    }
    return out;
  }

  /** Summary used in reports. */
  summary(): LagSummary {
    return { count: this.#count, p50: this.quantile(0.5), p95: this.quantile(0.95), p99: this.quantile(0.99), max: this.#count === 0 ? null : Math.round(this.#max), mean: this.#count === 0 ? null : Math.round(this.mean * 10) / 10 };
  }
}

/** Percentiles of a latency in ms; null when nothing was measured. */
export interface LagSummary {
  count: number;
  p50: number | null;
  p95: number | null;
  p99: number | null;
  max: number | null;
  mean: number | null;
}
