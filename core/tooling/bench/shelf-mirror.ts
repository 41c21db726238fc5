/**
 * One change of what a simulated channel shows, observed in the thread that runs it, with the time it
 * happened there (epoch ms, `Date.now()` in that thread, the same clock as the hub's): `write` is the hub's
 * write applied by the channel's API, `sold` a shopper's purchase taking units off the shelf, `set` a new
 * quantity seen on a simulator that keeps no write log (sampled, so its time is when it was seen).
 */
export type ShelfObservation =
  | { kind: 'write'; channel: string; sku: string; at: number; quantity: number }
  | { kind: 'sold'; channel: string; sku: string; at: number; units: number }
  | { kind: 'set'; channel: string; sku: string; at: number; quantity: number };

/**
 * What one simulated channel shows, rebuilt in the hub's thread from the observations of the thread that
 * runs the channel. It answers the bench's reads (the shelf recorder, convergence) as the simulator would,
 * a batch behind; the times it keeps are the channel's own, so figures built on them stay exact.
 */
export class ShelfMirror {
  readonly #shown = new Map<string, number>();
  readonly #writes = new Map<string, Array<[number, number]>>();
  /** SKU → when the channel last went to showing zero (absent while it shows more). */
  readonly #zeroSince = new Map<string, number>();

  constructor(initial: Readonly<Record<string, number>>) {
    for (const [sku, quantity] of Object.entries(initial)) this.#set(sku, quantity, 0);
  }

  shown(sku: string): number | undefined {
    return this.#shown.get(sku);
  }

  /** The hub's writes the channel applied to `sku`, `[epoch ms, quantity]`, in the order applied. */
  writes(sku: string): ReadonlyArray<readonly [number, number]> {
    return this.#writes.get(sku) ?? [];
  }

  /** Since when the channel shows zero of `sku` (epoch ms), or undefined while it shows more. */
  zeroSince(sku: string): number | undefined {
    return this.#zeroSince.get(sku);
  }

  /** Applies one observation of this channel. */
  apply(observation: ShelfObservation): void {
    const { sku, at } = observation;
    if (observation.kind === 'sold') {
      this.#set(sku, Math.max(0, (this.#shown.get(sku) ?? 0) - observation.units), at);
      return;
    }
    if (observation.kind === 'write') {
      const log = this.#writes.get(sku) ?? [];
      log.push([at, observation.quantity]);
      this.#writes.set(sku, log);
    }
    this.#set(sku, observation.quantity, at);
  }

  /**
   * What the channel shows of `sku` as read in its thread at `at`, after every observation before it: a
   * correction only (no write, no sale), so the mirror ends each batch exactly where the channel stands.
   */
  settle(sku: string, quantity: number, at: number): void {
    if (this.#shown.get(sku) !== quantity) this.#set(sku, quantity, at);
  }

  #set(sku: string, quantity: number, at: number): void {
    const before = this.#shown.get(sku);
    this.#shown.set(sku, quantity);
    if (quantity > 0) this.#zeroSince.delete(sku);
    else if (before === undefined || before > 0) this.#zeroSince.set(sku, at);
  }
}
