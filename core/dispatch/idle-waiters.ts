/**
 * Callers waiting for a dispatcher to have nothing left to do (tests, shutdown, the demo). The
 * dispatcher calls `check` whenever work may have ended; waiters wake once it says it is idle.
 */
export class IdleWaiters {
  readonly #waiters = new Set<() => void>();

  /** Resolves at the first `check` that finds the owner idle, at `wakeAll`, or when `signal` aborts. */
  wait(signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const done = (): void => {
        signal?.removeEventListener('abort', done);
        this.#waiters.delete(done);
        resolve();
      };
      this.#waiters.add(done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }

  /** Wakes every waiter when `isIdle()` holds; asks nothing when nobody waits. */
  check(isIdle: () => boolean): void {
    if (this.#waiters.size === 0 || !isIdle()) return;
    this.wakeAll();
  }

  wakeAll(): void {
    for (const wake of [...this.#waiters]) wake();
  }
}
