import type { Clock, ClockTimer } from './clock.ts';

interface ManualTimer extends ClockTimer {
  readonly seq: number;
  readonly callback: () => void;
}

export interface ManualClockOptions {
  /** Epoch ms the clock starts at. Default: the system time when it is made. */
  start?: number;
  /**
   * Waits for the work that is not driven by this clock (promises, I/O) to finish; called before time
   * moves and after each timer fires. Default: a few turns of the event loop, enough for in-process code.
   */
  settle?: () => Promise<void>;
}

/** Turns of the event loop one default settle gives: each `setImmediate` hop of a dispatcher takes one. */
const SETTLE_TURNS = 20;

/** Lets a few turns of the event loop pass: what in-process code started meanwhile runs to its next wait. */
export async function eventLoopTurns(): Promise<void> {
  for (let i = 0; i < SETTLE_TURNS; i += 1) await new Promise<void>((resolve) => setImmediate(resolve));
}

/**
 * A clock whose time moves only when told: `advance(ms)` fires every timer due on the way, in order,
 * letting the code they start run between them. Seconds of backoff, pacing and timeouts then take no
 * real time, and a test says exactly how much time passed.
 */
export class ManualClock implements Clock {
  readonly #timers = new Set<ManualTimer>();
  readonly #settle: () => Promise<void>;
  #now: number;
  #seq = 0;

  constructor(options: ManualClockOptions = {}) {
    this.#now = options.start ?? Date.now();
    this.#settle = options.settle ?? eventLoopTurns;
  }

  now(): number {
    return this.#now;
  }

  setTimeout(callback: () => void, delayMs: number): ClockTimer {
    const timer: ManualTimer = { dueAt: this.#now + Math.max(0, delayMs), seq: (this.#seq += 1), callback };
    this.#timers.add(timer);
    return timer;
  }

  clearTimeout(timer: ClockTimer): void {
    this.#timers.delete(timer as ManualTimer);
  }

  /** When the next timer fires, or null when none is set. */
  get nextDueAt(): number | null {
    return this.#next()?.dueAt ?? null;
  }

  /** Lets the work not driven by this clock finish, without moving time. */
  settle(): Promise<void> {
    return this.#settle();
  }

  /** Moves time forward by `ms`, firing every timer due on the way in order. Resolves once all settled. */
  async advance(ms: number): Promise<void> {
    const until = this.#now + Math.max(0, ms);
    await this.#settle();
    for (let timer = this.#next(); timer && timer.dueAt <= until; timer = this.#next()) await this.#fire(timer);
    this.#now = until;
    await this.#settle();
  }

  /** Moves time to the next timer and fires it (and any due at the same moment). False when none is set. */
  async runNext(): Promise<boolean> {
    await this.#settle();
    const first = this.#next();
    if (!first) return false;
    for (let timer: ManualTimer | undefined = first; timer && timer.dueAt <= first.dueAt; timer = this.#next()) await this.#fire(timer);
    return true;
  }

  async #fire(timer: ManualTimer): Promise<void> {
    this.#timers.delete(timer);
    this.#now = Math.max(this.#now, timer.dueAt);
    timer.callback();
    await this.#settle();
  }

  #next(): ManualTimer | undefined {
    let next: ManualTimer | undefined;
    for (const timer of this.#timers) {
      if (!next || timer.dueAt < next.dueAt || (timer.dueAt === next.dueAt && timer.seq < next.seq)) next = timer;
    }
    return next;
  }
}
