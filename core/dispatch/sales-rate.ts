import type { Clock } from './clock.ts';

/**
 * How fast the estimate forgets: a sale counts half as much this long after it happened. Short enough
 * that a flash sale's rate shows within seconds and fades within a minute or two of its end; long
 * enough that a SKU selling one unit every few seconds does not swing between "hot" and "cold".
 */
export const SALES_RATE_HALF_LIFE_MS = 30_000;

/** Below this (units/s) a SKU's entry is dropped: about one unit in the last ten minutes. */
const FORGET_BELOW = 0.001;

interface Rate {
  /** Units per second as of `at`. */
  perSecond: number;
  at: number;
}

/**
 * Units sold per second per SKU, estimated from the recent order stream: every sale adds its units,
 * spread by an exponentially decaying kernel, so a steady stream of v units/s reads v and a SKU that
 * stops selling fades by half every half-life. Time comes from the injected clock.
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
    const perSecond = this.perSecond(sku, now) + units * this.#decayPerMs * 1_000;
    this.#rates.set(sku, { perSecond, at: now });
  }

  /** Estimated units of `sku` sold per second at `now` (0 for a SKU not seen selling lately). */
  perSecond(sku: string, now = this.#clock.now()): number {
    const rate = this.#rates.get(sku);
    if (!rate) return 0;
    const decayed = rate.perSecond * Math.exp(-this.#decayPerMs * Math.max(0, now - rate.at));
    if (decayed < FORGET_BELOW) {
      this.#rates.delete(sku);
      return 0;
    }
    return decayed;
  }
}
