/** Work that did not settle within its deadline (`withDeadline`). */
export class DeadlineError extends Error {
  override name = 'DeadlineError';
  readonly timeoutMs: number;
  constructor(timeoutMs: number) {
    super(`no answer within ${timeoutMs} ms`);
    this.timeoutMs = timeoutMs;
  }
}

/**
 * Runs `work` with a signal that aborts after `ms` or with `parent`, and settles by then whether or not
 * `work` honours the signal: a plugin that ignores its signal cannot hold a request or a poller. Rejects
 * with {@link DeadlineError} past the deadline, with `parent`'s reason when that aborts first.
 */
export async function withDeadline<T>(ms: number, parent: AbortSignal, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const deadline = AbortSignal.timeout(ms);
  const signal = AbortSignal.any([parent, deadline]);
  let onAbort: () => void = () => undefined;
  const expired = new Promise<never>((_, reject) => {
    onAbort = () => reject(parent.aborted ? parent.reason : new DeadlineError(ms));
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
  expired.catch(() => undefined);
  try {
    return await Promise.race([work(signal), expired]);
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}
