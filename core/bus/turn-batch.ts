/**
 * Starts the tasks asked for during one turn of the event loop together, at the turn's end
 * (`setImmediate`), in the order they were asked for.
 *
 * Why: the NATS client writes what was published to its socket once per microtask checkpoint. Inbound
 * events arrive one per webhook request, each in its own I/O callback, so each JetStream publish was a
 * socket write of its own: at 500 webhooks a second the hub's thread spent about 7 % of its time in those
 * writes. Started together, the publishes of every request the turn read go out in one write. A task
 * waits at most for the rest of the turn it was asked for in.
 */
export class TurnBatch {
  #queue: Array<() => void> = [];
  #scheduled = false;

  /** Runs `task` at the end of this turn; settles as the task does (also when it throws at once). */
  run<T>(task: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#queue.push(() => {
        try {
          task().then(resolve, reject);
        } catch (err) {
          reject(err);
        }
      });
      if (!this.#scheduled) {
        this.#scheduled = true;
        setImmediate(() => this.#start());
      }
    });
  }

  #start(): void {
    const queue = this.#queue;
    this.#queue = [];
    this.#scheduled = false;
    for (const start of queue) start();
  }
}
