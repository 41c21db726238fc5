import type { NatsBus } from '../../bus/nats-bus.ts';
import type { Dispatcher } from '../../dispatch/dispatch-types.ts';
import { ReplayRefusedError } from '../../internal.ts';
import { DeadLetters } from './dead-letters.ts';

/** What a running hub lends its dead letters. */
export interface HubDeadLetterParts {
  bus: NatsBus;
  /** Whether the ledger already applied an event id. */
  isProcessed(eventId: string): Promise<boolean>;
  /** The channel's current dispatcher on this hub, or undefined when the channel does not run here. */
  dispatcher(channelId: string): Dispatcher | undefined;
}

/**
 * The dead letters of a running hub: push letters are replayed through the channel's own dispatcher,
 * so the channel gets the ledger's current quantity and the usual pacing, batching and retries.
 */
export function hubDeadLetters(parts: HubDeadLetterParts): DeadLetters {
  return new DeadLetters({
    bus: parts.bus,
    isProcessed: (eventId) => parts.isProcessed(eventId),
    retryPush: async (channelId, skus) => {
      const dispatcher = parts.dispatcher(channelId);
      if (!dispatcher) throw new ReplayRefusedError(`channel "${channelId}" is not running on this hub (removed or disabled in the config); discard the letter instead`);
      if (!dispatcher.retry) throw new ReplayRefusedError(`channel "${channelId}": its dispatcher cannot retry on demand; the reconcile pass will`);
      return dispatcher.retry(skus);
    },
  });
}
