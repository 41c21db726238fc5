import { describeError } from '../internal.ts';
import type { Logger } from '../sdk.ts';
import type { DispatchObserver } from './dispatch-types.ts';

/**
 * The dispatcher's observer as it calls it: observers are metrics and alerts, so one that throws is
 * logged and never stops stock from reaching the channel. No observer: every call is a no-op.
 */
export function guardedObserver(observer: DispatchObserver | undefined, logger: Logger): DispatchObserver {
  const guarded = (call: (target: DispatchObserver) => void): void => {
    if (!observer) return;
    try {
      call(observer);
    } catch (err) {
      logger.warn('dispatch: observer threw', { error: describeError(err) });
    }
  };
  return {
    confirmed: (channelId, sku, lagMs, callMs, shown) => guarded((o) => o.confirmed(channelId, sku, lagMs, callMs, shown)),
    attempted: (channelId, ok) => guarded((o) => o.attempted(channelId, ok)),
    throttled: (channelId, retryAfterMs) => guarded((o) => o.throttled(channelId, retryAfterMs)),
    deadLettered: (channelId, letter) => guarded((o) => o.deadLettered(channelId, letter)),
    driftFound: (channelId, findings) => guarded((o) => o.driftFound?.(channelId, findings)),
    driftSwept: (channelId, drift) => guarded((o) => o.driftSwept?.(channelId, drift)),
    catchUpPolled: (channelId, poll) => guarded((o) => o.catchUpPolled?.(channelId, poll)),
    bulkJobEnded: (channelId, job) => guarded((o) => o.bulkJobEnded?.(channelId, job)),
  };
}
