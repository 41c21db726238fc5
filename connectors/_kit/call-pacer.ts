import { TokenBucket, type BucketClock } from '../../core/sdk.ts';

/**
 * A client-side token bucket that waits: for connectors whose push costs a varying number of API
 * calls (Etsy: a read and a write per listing), so the channel's per-request limit holds however the
 * dispatcher batched. `take` resolves when a call may go out, or rejects when `signal` aborts.
 */
export class CallPacer {
  readonly #bucket: TokenBucket;
  readonly #clock: BucketClock;
  #queue: Promise<void> = Promise.resolve();

  constructor(perSecond: number, burst: number, clock: BucketClock = { now: () => performance.now() }) {
    this.#clock = clock;
    this.#bucket = new TokenBucket(perSecond, burst, clock);
  }

  take(signal?: AbortSignal): Promise<void> {
    // Callers are served in arrival order: each waits for the previous one's token.
    const turn = this.#queue.then(() => this.#waitForToken(signal));
    this.#queue = turn.catch(() => undefined);
    return turn;
  }

  async #waitForToken(signal?: AbortSignal): Promise<void> {
    for (;;) {
      signal?.throwIfAborted();
      if (this.#bucket.tryTake()) return;
      const waitMs = Math.ceil(this.#bucket.nextTokenAt() - this.#clock.now());
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        }, waitMs);
        const onAbort = (): void => {
          clearTimeout(timer);
          reject(signal!.reason);
        };
        signal?.addEventListener('abort', onAbort, { once: true });
      });
    }
  }
}
