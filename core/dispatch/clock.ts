/** A timer made by a {@link Clock}; only the clock that made it can cancel it. */
export interface ClockTimer {
  readonly dueAt: number;
}

/**
 * Where the dispatcher reads the time and sets its timers. Passed in, so the hub runs on the system's
 * time and tests run on a {@link ManualClock} that moves only when told (no test waits on a real timer).
 */
export interface Clock {
  /** Epoch ms now. Called on every decision that depends on time; must be cheap. */
  now(): number;
  /**
   * Calls `callback` once, `delayMs` after now (at once for 0 or less). A timer never keeps the process
   * alive: a dispatcher left waiting on one must not block shutdown.
   */
  setTimeout(callback: () => void, delayMs: number): ClockTimer;
  /** Cancels `timer` if it has not fired yet; afterwards its callback is never called. A no-op otherwise. */
  clearTimeout(timer: ClockTimer): void;
}

interface SystemTimer extends ClockTimer {
  readonly handle: NodeJS.Timeout;
}

/** The system's wall clock and Node's timers (unref'd). */
export const systemClock: Clock = Object.freeze({
  now: () => Date.now(),
  setTimeout(callback: () => void, delayMs: number): ClockTimer {
    const delay = Math.max(0, delayMs);
    const handle = setTimeout(callback, delay);
    handle.unref();
    const timer: SystemTimer = { dueAt: Date.now() + delay, handle };
    return timer;
  },
  clearTimeout(timer: ClockTimer): void {
    clearTimeout((timer as SystemTimer).handle);
  },
});

/** Resolves `delayMs` after now on `clock` (for code that waits, and for tests' in-process channels). */
export function sleep(clock: Clock, delayMs: number): Promise<void> {
  return new Promise<void>((resolve) => clock.setTimeout(resolve, delayMs));
}
