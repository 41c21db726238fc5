import { PushTimeoutError } from '../internal.ts';
import { untilAborted } from '../until-aborted.ts';
import { systemClock, type Clock } from './clock.ts';

/**
 * Runs one call to a connector with the signal it must honour: aborted when `stop` aborts (shutdown)
 * or after `timeoutMs` (with a {@link PushTimeoutError}, the hub's own error). Settles as soon as that
 * signal aborts even if the connector ignores it, so a plugin cannot hold the channel or shutdown.
 * The timeout runs on `clock`.
 */
export async function withCallDeadline<T>(stop: AbortSignal, timeoutMs: number, call: (signal: AbortSignal) => Promise<T>, clock: Clock = systemClock): Promise<T> {
  const controller = new AbortController();
  const onStop = (): void => controller.abort(stop.reason);
  if (stop.aborted) onStop();
  else stop.addEventListener('abort', onStop, { once: true });
  const timeout = clock.setTimeout(() => controller.abort(new PushTimeoutError(timeoutMs)), timeoutMs);
  try {
    return await untilAborted((async () => call(controller.signal))(), controller.signal);
  } finally {
    clock.clearTimeout(timeout);
    stop.removeEventListener('abort', onStop);
  }
}
