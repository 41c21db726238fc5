import type { Clock, ClockTimer } from './clock.ts';

/**
 * One pending wake-up on a clock, kept at the earliest moment asked for: many reasons to look again
 * (a token, a backoff, a window's end) cost one timer, never one each.
 */
export class WakeTimer {
  readonly #clock: Clock;
  readonly #onWake: () => void;
  #timer: ClockTimer | null = null;
  #wakeAt = Infinity;

  constructor(clock: Clock, onWake: () => void) {
    this.#clock = clock;
    this.#onWake = onWake;
  }

  /** Calls `onWake` at epoch ms `at`, unless an earlier wake-up is already set. */
  at(at: number): void {
    if (this.#timer && this.#wakeAt <= at) return;
    this.clear();
    this.#wakeAt = at;
    this.#timer = this.#clock.setTimeout(() => {
      this.#timer = null;
      this.#wakeAt = Infinity;
      this.#onWake();
    }, at - this.#clock.now());
  }

  clear(): void {
    if (this.#timer) this.#clock.clearTimeout(this.#timer);
    this.#timer = null;
    this.#wakeAt = Infinity;
  }
}
