/**
 * Which SKUs every channel a hub pushes was last confirmed showing at 0: a SKU hidden everywhere (by
 * forecasts, or sold out) cannot sell, and the sales rate must not read that as a rush that ended (see
 * {@link SalesRate.hiddenEverywhere}). A channel that has confirmed nothing for a SKU counts as showing it.
 */
export class HiddenEverywhere {
  /** Per SKU, the channels last confirmed showing it at 0. */
  readonly #atZero = new Map<string, Set<string>>();
  readonly #channels: () => number;
  readonly #changed: (sku: string, hidden: boolean) => void;

  /** `channels`: how many channels the hub pushes now; `changed` hears every SKU whose state flips. */
  constructor(channels: () => number, changed: (sku: string, hidden: boolean) => void) {
    this.#channels = channels;
    this.#changed = changed;
  }

  /** `channelId` was confirmed showing `quantity` of `sku`. */
  confirmed(channelId: string, sku: string, quantity: number): void {
    let atZero = this.#atZero.get(sku);
    const before = atZero !== undefined && atZero.size >= this.#channels();
    if (quantity > 0) {
      if (!atZero?.delete(channelId)) return;
      if (atZero.size === 0) this.#atZero.delete(sku);
    } else {
      if (!atZero) this.#atZero.set(sku, (atZero = new Set()));
      atZero.add(channelId);
    }
    const after = atZero.size >= this.#channels();
    if (after !== before) this.#changed(sku, after);
  }

  /** The hub stopped pushing `channelId`: whatever it showed no longer counts, and every SKU shows somewhere again. */
  released(channelId: string): void {
    for (const [sku, atZero] of this.#atZero) {
      atZero.delete(channelId);
      this.#changed(sku, false);
      if (atZero.size === 0) this.#atZero.delete(sku);
    }
  }
}
