/**
 * Which SKUs every channel a hub pushes was last confirmed showing at 0: a SKU hidden everywhere (by
 * forecasts, or sold out) cannot sell, and the sales rate must not read that as a rush that ended (see
 * {@link SalesRate.hiddenEverywhere}). A channel that has confirmed nothing for a SKU counts as showing it.
 * One channel per SKU may be exempt (the one its last units are offered on, see {@link LastUnits}): the
 * SKU then counts as hidden while every other channel shows it at 0, since it sells on one channel of
 * many and that is no measure of its demand.
 */
export class HiddenEverywhere {
  /** Per SKU, the channels last confirmed showing it at 0. */
  readonly #atZero = new Map<string, Set<string>>();
  /** SKUs last reported hidden. */
  readonly #hidden = new Set<string>();
  readonly #channels: () => number;
  readonly #changed: (sku: string, hidden: boolean) => void;
  readonly #exempt: (sku: string) => string | undefined;

  /**
   * `channels`: how many channels the hub pushes now; `changed` hears every SKU whose state flips;
   * `exempt`: the channel of a SKU whose showing it does not count, if any.
   */
  constructor(channels: () => number, changed: (sku: string, hidden: boolean) => void, exempt: (sku: string) => string | undefined = () => undefined) {
    this.#channels = channels;
    this.#changed = changed;
    this.#exempt = exempt;
  }

  /** `channelId` was confirmed showing `quantity` of `sku`. */
  confirmed(channelId: string, sku: string, quantity: number): void {
    let atZero = this.#atZero.get(sku);
    if (quantity > 0) {
      if (!atZero?.delete(channelId)) return;
      if (atZero.size === 0) this.#atZero.delete(sku);
    } else {
      if (!atZero) this.#atZero.set(sku, (atZero = new Set()));
      atZero.add(channelId);
    }
    this.recount(sku);
  }

  /** True when every channel pushed (the exempt one aside) was last confirmed showing `sku` at 0. */
  isHidden(sku: string): boolean {
    return this.#hidden.has(sku);
  }

  /** Looks at `sku` again (its exempt channel changed), telling `changed` if its state flips. */
  recount(sku: string): void {
    const atZero = this.#atZero.get(sku);
    const exempt = this.#exempt(sku);
    const counted = (atZero?.size ?? 0) + (exempt !== undefined && !atZero?.has(exempt) ? 1 : 0);
    const hidden = counted >= this.#channels() && counted > 0;
    if (hidden === this.#hidden.has(sku)) return;
    if (hidden) this.#hidden.add(sku);
    else this.#hidden.delete(sku);
    this.#changed(sku, hidden);
  }

  /** The hub stopped pushing `channelId`: whatever it showed no longer counts, and every SKU shows somewhere again. */
  released(channelId: string): void {
    for (const [sku, atZero] of this.#atZero) {
      atZero.delete(channelId);
      if (atZero.size === 0) this.#atZero.delete(sku);
    }
    const hidden = [...this.#hidden];
    this.#hidden.clear();
    for (const sku of hidden) this.#changed(sku, false);
  }
}
