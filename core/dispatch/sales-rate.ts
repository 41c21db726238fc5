import type { LedgerChange } from '../ledger/ledger-types.ts';
import type { Clock } from './clock.ts';

/**
 * How fast the estimate forgets: a sale counts half as much this long after it happened. Short enough
 * that a flash sale's rate shows within seconds and fades within a minute or two of its end; long
 * enough that a SKU selling one unit every few seconds does not swing between "hot" and "cold".
 */
export const SALES_RATE_HALF_LIFE_MS = 30_000;

/**
 * A SKU not seen selling for a gap g is read at most this many sales (orders) per g: a Poisson stream at
 * that rate leaves such a gap less than 1 % of the time (e^−4.6). A rush that has stopped thus stops
 * counting within seconds instead of fading over half-lives, so a forecast gives back what it hid
 * soon after a flash sale ends; a SKU still selling is read at its rate, since its gaps stay short.
 */
export const SALES_GAP_EVIDENCE = Math.log(100);

/** Below this (units/s) a SKU's entry is dropped: about one unit in the last ten minutes. */
const FORGET_BELOW = 0.001;

/**
 * A SKU watched for less than this is measured as if watched this long: one order is not a rate of one
 * unit per millisecond, while a flash sale's rate reads true after a few seconds instead of the
 * half-lives the kernel alone would need to fill.
 */
export const SALES_RATE_MIN_WINDOW_MS = 5_000;

interface Rate {
  /** The kernel's units per second as of `at` (reads low while the SKU has been watched less than a half-life or so). */
  perSecond: number;
  /** The same kernel over sales (orders) instead of units: with `perSecond`, the units a sale takes. */
  salesPerSecond: number;
  at: number;
  /** Epoch ms of the first sale the entry counts. */
  since: number;
}

/**
 * Units sold per second per SKU, estimated from the recent order stream: every sale adds its units,
 * spread by an exponentially decaying kernel, so a steady stream of v units/s reads v and a SKU that
 * stops selling (after selling for a while) fades by half every half-life. A SKU that started selling
 * lately is read over the time it has sold, not the kernel's whole memory (the kernel is divided by
 * the share of its weight that time covers), so a flash sale's rate shows within seconds. A silence
 * longer than the rate makes likely caps it (see {@link SALES_GAP_EVIDENCE}). Time comes from the
 * injected clock.
 */
export class SalesRate {
  readonly #clock: Clock;
  /** ln 2 / half-life, per ms. */
  readonly #decayPerMs: number;
  readonly #rates = new Map<string, Rate>();

  constructor(clock: Clock, halfLifeMs = SALES_RATE_HALF_LIFE_MS) {
    if (!(halfLifeMs > 0)) throw new RangeError(`halfLifeMs must be > 0, got ${halfLifeMs}`);
    this.#clock = clock;
    this.#decayPerMs = Math.LN2 / halfLifeMs;
  }

  /** `units` of `sku` were sold now. Afterwards {@link perSecond} counts them. */
  sold(sku: string, units: number): void {
    if (!(units > 0)) return;
    const now = this.#clock.now();
    const known = this.#decayed(sku, now);
    const weight = this.#decayPerMs * 1_000;
    this.#rates.set(sku, {
      perSecond: (known?.perSecond ?? 0) + units * weight,
      salesPerSecond: (known?.salesPerSecond ?? 0) + weight,
      at: now,
      since: known?.since ?? now,
    });
  }

  /** Estimated units of `sku` sold per second at `now` (0 for a SKU not seen selling lately). */
  perSecond(sku: string, now = this.#clock.now()): number {
    const rate = this.#decayed(sku, now);
    if (!rate) return 0;
    const watchedMs = Math.max(SALES_RATE_MIN_WINDOW_MS, now - rate.since);
    const estimate = rate.perSecond / (1 - Math.exp(-this.#decayPerMs * watchedMs));
    const gapMs = now - rate.lastSaleAt;
    if (!(gapMs > 0)) return estimate;
    const unitsPerSale = rate.perSecond / rate.salesPerSecond;
    return Math.min(estimate, (SALES_GAP_EVIDENCE * unitsPerSale * 1_000) / gapMs);
  }

  /** The kernels' values at `now`, the first sale they count and the last; undefined (and forgotten) once faded out. */
  #decayed(sku: string, now: number): { perSecond: number; salesPerSecond: number; since: number; lastSaleAt: number } | undefined {
    const rate = this.#rates.get(sku);
    if (!rate) return undefined;
    const decay = Math.exp(-this.#decayPerMs * Math.max(0, now - rate.at));
    const perSecond = rate.perSecond * decay;
    if (perSecond < FORGET_BELOW) {
      this.#rates.delete(sku);
      return undefined;
    }
    return { perSecond, salesPerSecond: rate.salesPerSecond * decay, since: rate.since, lastSaleAt: rate.at };
  }
}

/** Feeds `sales` with the units each order of a commit took, from every channel. */
export function recordSales(sales: SalesRate, changes: readonly LedgerChange[]): void {
  for (const change of changes) {
    if (change.eventType === 'order.confirmed' && change.before > change.available) sales.sold(change.sku, change.before - change.available);
  }
}
