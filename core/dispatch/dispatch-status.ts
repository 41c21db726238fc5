import type { DispatcherSnapshot, DispatchSkuStatus } from './dispatch-types.ts';
import type { PushBacklog } from './push-backlog.ts';
import type { SkuPushState } from './sku-push-state.ts';

/** What a channel's dispatcher says about itself at `now` (for /healthz, the read API and the demo). */
export function snapshotOf(channelId: string, backlog: PushBacklog, pushesInFlight: number, throttledUntil: number): DispatcherSnapshot {
  let pending = 0;
  for (const state of backlog.due) if (!state.inFlight) pending += 1;
  const oldest = backlog.oldestPendingAt();
  return {
    channelId,
    pending,
    inFlight: pushesInFlight,
    throttledUntil,
    deadLettered: backlog.parkedCount,
    oldestPendingAt: Number.isFinite(oldest) ? oldest : null,
  };
}

/** What the dispatcher knows about one SKU at `now`, in memory; a copy, so callers cannot change it. */
export function skuStatusOf(state: SkuPushState, now: number, channelThrottledUntil: number): DispatchSkuStatus {
  return {
    sku: state.sku,
    version: state.version,
    confirmedVersion: state.confirmedVersion,
    inFlight: state.inFlight,
    attempts: state.attempts,
    retryAt: state.notBefore > now ? state.notBefore : 0,
    deadLettered: state.parked,
    oldestPendingAt: state.behind ? state.oldestPendingAt : null,
    lastError: state.lastError,
    channelThrottledUntil,
    unverifiedUntil: state.lateWrites?.until ?? 0,
    notListed: state.notListed ? { ...state.notListed } : null,
  };
}
