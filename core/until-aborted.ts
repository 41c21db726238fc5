import { setTimeout as delay } from 'node:timers/promises';

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

/**
 * Resolves after `ms`, or rejects with the abort reason as soon as `signal` aborts (the timer is cleared
 * then). Node's own abortable timer does the waiting; only its rejection is turned into the signal's reason,
 * which is what every other abortable wait of the host and the connectors rejects with.
 */
export async function abortableDelay(ms: number, signal: AbortSignal): Promise<void> {
  try {
    await delay(ms, undefined, { signal });
  } catch (err) {
    if (signal.aborted) throw signal.reason as Error;
    throw err;
  }
}
