/**
 * Counts of successes and attempts over a sliding time window, kept in fixed time slots so a channel
 * pushing thousands of items a second costs a few hundred numbers, not one entry per item.
 */
export class WindowedTally {
  readonly #slotMs: number;
  readonly #slots: Array<{ start: number; ok: number; all: number }> = [];

  constructor(readonly windowMs: number, slots = 100) {
    this.#slotMs = Math.max(10, Math.ceil(windowMs / slots));
  }

  add(ok: boolean, at = Date.now()): void {
    const start = at - (at % this.#slotMs);
    let slot = this.#slots[this.#slots.length - 1];
    if (!slot || slot.start !== start) {
      slot = { start, ok: 0, all: 0 };
      this.#slots.push(slot);
      this.#drop(at);
    }
    slot.all += 1;
    if (ok) slot.ok += 1;
  }

  /** Successes and attempts whose slot lies within the window ending at `now`. */
  totals(now = Date.now()): { ok: number; all: number } {
    this.#drop(now);
    let ok = 0;
    let all = 0;
    for (const slot of this.#slots) {
      ok += slot.ok;
      all += slot.all;
    }
    return { ok, all };
  }

  #drop(now: number): void {
    const from = now - this.windowMs;
    let stale = 0;
    while (stale < this.#slots.length && this.#slots[stale]!.start + this.#slotMs <= from) stale += 1;
    if (stale > 0) this.#slots.splice(0, stale);
  }
}
