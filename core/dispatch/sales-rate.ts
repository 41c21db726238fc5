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

/**
 * Orders reach the estimate in commits, each carrying what sold since the one before, so a SKU selling
 * hundreds of units a second still shows gaps as long as the time between two commits. While commits keep
 * coming (one within this long), a silence is measured up to the latest commit seen, not to now; once none
 * came for this long the shop is quiet and a silence runs until now.
 */
export const COMMITS_FLOWING_MS = 1_000;

interface Rate {
  /** The kernel's units per second as of `at` (reads low while the SKU has been watched less than a half-life or so). */
  perSecond: number;
  /** The same kernel over sales (orders) instead of units: with `perSecond`, the units a sale takes. */
  salesPerSecond: number;
  at: number;
  /** Epoch ms of the first sale the entry counts. */
  since: number;
  /** Epoch ms from which a silence counts: the last sale, moved on by the time the SKU then could not sell. */
  silentFrom: number;
  /** It stands at 0. */
  soldOut: boolean;
  /** Every channel shows it at 0 (forecasts hid it everywhere). */
  hidden: boolean;
  /** Epoch ms since which it could not sell (sold out or hidden everywhere: a silence it cannot help), while so. */
  pausedAt?: number;
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
  /** Epoch ms of the latest commit fed in (see {@link observed}). */
  #observedAt = -Infinity;

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
    const kept = this.#rates.get(sku);
    this.#rates.set(sku, {
      perSecond: (known?.perSecond ?? 0) + units * weight,
      salesPerSecond: (known?.salesPerSecond ?? 0) + weight,
      at: now,
      since: known?.since ?? now,
      silentFrom: now,
      soldOut: false,
      hidden: kept?.hidden ?? false,
      ...(kept?.hidden ? { pausedAt: now } : {}),
    });
  }

  /** Every order committed until now has been fed in: a SKU not among them was silent until now. */
  observed(): void {
    this.#observedAt = this.#clock.now();
  }

  /**
   * `sku` now stands at `available`. Time spent at 0 is no silence (nothing could sell), so when it comes
   * back its silence counts from then, not from its last sale: a SKU restocked after selling out is read at
   * the rate it sold at, not capped as a rush that ended.
   */
  stands(sku: string, available: number): void {
    const rate = this.#rates.get(sku);
    if (!rate) return;
    rate.soldOut = available <= 0;
    this.#pause(rate);
  }

  /**
   * Every channel shows `sku` at 0 (`hidden`), or some channel shows it again. A SKU that forecasts hide
   * everywhere cannot sell, so that time is no silence either: counting it, the estimate fell with the
   * hiding (traced: from about 600 units/s to 20 within two seconds), the forecasts then showed the last
   * units on every channel at once, and they sold several times over.
   */
  hiddenEverywhere(sku: string, hidden: boolean): void {
    const rate = this.#rates.get(sku);
    if (!rate) return;
    rate.hidden = hidden;
    this.#pause(rate);
  }

  /** Starts or ends the time the SKU could not sell; when it ends, its silence is moved on by that time. */
  #pause(rate: Rate): void {
    const now = this.#clock.now();
    if (rate.soldOut || rate.hidden) rate.pausedAt ??= now;
    else if (rate.pausedAt !== undefined) {
      rate.silentFrom += now - rate.pausedAt;
      rate.pausedAt = undefined;
    }
  }

  /** Estimated units of `sku` sold per second at `now` (0 for a SKU not seen selling lately). */
  perSecond(sku: string, now = this.#clock.now()): number {
    const rate = this.#decayed(sku, now);
    if (!rate) return 0;
    const watchedMs = Math.max(SALES_RATE_MIN_WINDOW_MS, now - rate.since);
    const estimate = rate.perSecond / (1 - Math.exp(-this.#decayPerMs * watchedMs));
    if (rate.pausedAt !== undefined) return estimate;
    // While commits flow, what sold after the latest one is not known yet, so it cannot be silence.
    const seenUntil = now - this.#observedAt <= COMMITS_FLOWING_MS ? this.#observedAt : now;
    const gapMs = seenUntil - rate.silentFrom;
    if (!(gapMs > 0)) return estimate;
    const unitsPerSale = rate.perSecond / rate.salesPerSecond;
    return Math.min(estimate, (SALES_GAP_EVIDENCE * unitsPerSale * 1_000) / gapMs);
  }

  /** The kernels' values at `now`, the first sale they count and the silence's start; undefined (and forgotten) once faded out. */
  #decayed(sku: string, now: number): { perSecond: number; salesPerSecond: number; since: number; silentFrom: number; pausedAt: number | undefined } | undefined {
    const rate = this.#rates.get(sku);
    if (!rate) return undefined;
    const decay = Math.exp(-this.#decayPerMs * Math.max(0, now - rate.at));
    const perSecond = rate.perSecond * decay;
    if (perSecond < FORGET_BELOW) {
      this.#rates.delete(sku);
      return undefined;
    }
    return { perSecond, salesPerSecond: rate.salesPerSecond * decay, since: rate.since, silentFrom: rate.silentFrom, pausedAt: rate.pausedAt };
  }
}

/** Feeds `sales` with a commit: the units each order took, from every channel, and where each SKU now stands. */
export function recordSales(sales: SalesRate, changes: readonly LedgerChange[]): void {
  for (const change of changes) {
    if (change.eventType === 'order.confirmed' && change.before > change.available) sales.sold(change.sku, change.before - change.available);
    sales.stands(change.sku, change.available);
  }
  sales.observed();
}
