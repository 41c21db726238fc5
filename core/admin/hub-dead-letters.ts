import { ReplayRefusedError } from '../internal.ts';
import type { Hub } from '../hub.ts';
import { DeadLetters } from './dead-letters.ts';

const byHub = new WeakMap<Hub, DeadLetters>();

/**
 * The dead letters of a running hub: push letters are replayed through the channel's own dispatcher,
 * so the channel gets the ledger's current quantity and the usual pacing, batching and retries.
 */
export function hubDeadLetters(hub: Hub): DeadLetters {
  let letters = byHub.get(hub);
  if (!letters) {
    letters = new DeadLetters({
      bus: hub.bus,
      isProcessed: (eventId) => hub.ledger.isProcessed(eventId),
      retryPush: async (channelId, skus) => {
        const dispatcher = hub.dispatchers.get(channelId);
        if (!dispatcher) throw new ReplayRefusedError(`channel "${channelId}" is not running on this hub (removed or disabled in the config); discard the letter instead`);
        if (!dispatcher.retry) throw new ReplayRefusedError(`channel "${channelId}": its dispatcher cannot retry on demand; the reconcile pass will`);
        return dispatcher.retry(skus);
      },
    });
    byHub.set(hub, letters);
  }
  return letters;
}
