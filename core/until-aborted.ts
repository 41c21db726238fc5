/**
 * Settles with `promise`, or rejects with the abort reason as soon as `signal` aborts, whichever comes first.
 * For a caller that must be able to leave a wait it does not own: a connector call that ignores its signal,
 * a token refresh shared with other callers. `promise` itself keeps running; should it fail after the caller
 * left, its rejection is handled here and goes nowhere. Without a signal, `promise` is returned as it is.
 */
export function untilAborted<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) {
    promise.catch(() => {});
    return Promise.reject(signal.reason as Error);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err as Error);
      },
    );
  });
}
