import { TokenBucket } from './token-bucket.ts';

const DAY_MS = 86_400_000;
/** Full buckets are forgotten after this many takes, so SKUs pushed once a day cost no memory. */
const PRUNE_EVERY = 1_024;

/**
 * Paces pushes per SKU for channels that cap revisions per listing per day (eBay: 250). A SKU may spend
 * a tenth of its allowance at once (a flash sale's burst of falls), then one revision every
 * `day / perDay`. Spending it all in the first minutes would leave the listing frozen, and overselling,
 * for the rest of the day; coalescing makes the paced pushes carry the newest quantity.
 */
export class RevisionBudget {
  readonly perDay: number;
  readonly burst: number;
  readonly #buckets = new Map<string, TokenBucket>();
  #takes = 0;

  constructor(perDay: number) {
    if (!Number.isInteger(perDay) || perDay < 1) throw new RangeError(`perDay must be an integer >= 1, got ${perDay}`);
    this.perDay = perDay;
    this.burst = Math.max(1, Math.ceil(perDay / 10));
  }

  /** Epoch ms from which `sku` may be pushed (`now` when it may already). */
  availableAt(sku: string, now: number): number {
    return this.#buckets.get(sku)?.nextTokenAt(now) ?? now;
  }

  /**
   * Spends one revision of `sku`; called when a push carrying it is sent. Returns what the SKU has left,
   * to be stored with the write so the budget survives a restart or a takeover.
   */
  take(sku: string, now: number): { tokens: number; at: number } {
    const bucket = this.#bucket(sku, now);
    bucket.tryTake(now);
    const left = { tokens: bucket.available(now), at: now };
    this.#takes += 1;
    if (this.#takes % PRUNE_EVERY === 0) {
      for (const [key, b] of this.#buckets) if (b.available(now) >= this.burst) this.#buckets.delete(key);
    }
    return left;
  }

  /** Takes back what a SKU had left at `at` (stored by an earlier process); refills from then on. */
  restore(sku: string, tokens: number, at: number): void {
    const bucket = this.#bucket(sku, at);
    bucket.restore(tokens, at);
  }

  #bucket(sku: string, now: number): TokenBucket {
    let bucket = this.#buckets.get(sku);
    if (!bucket) {
      bucket = new TokenBucket((this.perDay * 1000) / DAY_MS, this.burst, now);
      this.#buckets.set(sku, bucket);
    }
    return bucket;
  }
}
