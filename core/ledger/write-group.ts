/**
 * Writes of one kind from many callers, sent as one statement per group. The first write starts a
 * group at the end of the current tick; writes that arrive while its statement runs form the next group,
 * sent as soon as the statement returns. Under load one statement carries what forty dispatchers wrote
 * meanwhile instead of forty statements racing for the pool, each paying its own round trip, query
 * building and socket write on the hub's one thread; when idle a write waits only for the tick to end.
 *
 * `fits` keeps writes that may not share a statement apart (the next group takes the rest, in order); a
 * group always takes the first write waiting.
 * `send` writes a group and returns, per write in the order given, the error that write failed with or
 * undefined; when `send` throws, every write of the group fails with that error.
 */
export class WriteGroup<W> {
  readonly #send: (writes: readonly W[]) => Promise<ReadonlyArray<Error | undefined>>;
  readonly #fits: (group: readonly W[], write: W) => boolean;
  #waiting: Array<Waiting<W>> = [];
  #sending = false;

  constructor(send: (writes: readonly W[]) => Promise<ReadonlyArray<Error | undefined>>, fits: (group: readonly W[], write: W) => boolean = () => true) {
    this.#send = send;
    this.#fits = fits;
  }

  /** Resolves once the write is durable; rejects with what failed it. */
  write(write: W): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#waiting.push({ write, resolve, reject });
      if (this.#sending) return;
      this.#sending = true;
      queueMicrotask(() => void this.#drain());
    });
  }

  async #drain(): Promise<void> {
    while (this.#waiting.length > 0) {
      const group: Array<Waiting<W>> = [];
      const later: Array<Waiting<W>> = [];
      const writes: W[] = [];
      for (const waiting of this.#waiting) {
        if (writes.length === 0 || this.#fits(writes, waiting.write)) {
          group.push(waiting);
          writes.push(waiting.write);
        } else later.push(waiting);
      }
      this.#waiting = later;
      try {
        const failures = await this.#send(writes);
        group.forEach((waiting, i) => {
          const failure = failures[i];
          if (failure) waiting.reject(failure);
          else waiting.resolve();
        });
      } catch (err) {
        for (const waiting of group) waiting.reject(err);
      }
    }
    this.#sending = false;
  }
}

interface Waiting<W> {
  write: W;
  resolve: () => void;
  reject: (err: unknown) => void;
}
