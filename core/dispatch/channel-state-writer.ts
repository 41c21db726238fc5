import { describeError } from '../internal.ts';
import { isChannelFencedError } from '../ledger/channel-fenced-error.ts';
import type { ChannelFence, ChannelStateStore, PushConfirmation, WriteMark } from '../ledger/ledger-types.ts';
import type { Logger } from '../sdk.ts';
import { backoffDelay, type BackoffPolicy } from './backoff.ts';
import type { Clock } from './clock.ts';
import type { DispatchObserver, PushDeadLetter } from './dispatch-types.ts';
import type { BatchItem } from './push-scheduler.ts';
import type { SkuPushState } from './sku-push-state.ts';

export interface ChannelStateWriterOptions {
  channelId: string;
  store: ChannelStateStore;
  /** Fingerprint of the channel's config, stored with "not listed" marks. */
  fingerprint: string;
  /** Publishes a dead letter (the hub's dead-letter stream). */
  publish(letter: PushDeadLetter): Promise<void>;
  observer: DispatchObserver;
  logger: Logger;
  clock: Clock;
  backoff: BackoffPolicy;
  random: () => number;
}

/**
 * Everything one channel's dispatcher writes to the store, fenced by its lease epoch: once another
 * process claims the channel every write is refused, and the {@link ChannelFencedError} is rethrown so
 * the dispatcher stops. Any other store failure is logged here, and the caller learns only what to do.
 */
export class ChannelStateWriter {
  readonly #o: ChannelStateWriterOptions;
  #epoch: number | undefined;
  /** Store writes failed in a row: the wait before a write is tried again grows with them. */
  #failures = 0;

  constructor(options: ChannelStateWriterOptions) {
    this.#o = options;
  }

  /** True once the channel is claimed: nothing may be sent before, since every write must be fenced. */
  get claimed(): boolean {
    return this.#epoch !== undefined;
  }

  get #fence(): ChannelFence | undefined {
    return this.#epoch === undefined ? undefined : { epoch: this.#epoch };
  }

  /**
   * Takes the channel in the store (a new lease epoch, so a former pusher's writes are refused from now
   * on) and hands each SKU's stored revision budget to `restoreRevision` (when given). Throws when the store does.
   */
  async claim(restoreRevision?: (sku: string, tokens: number, at: number) => void): Promise<void> {
    if (this.#epoch !== undefined) return;
    const epoch = await this.#o.store.claimChannel(this.#o.channelId);
    if (restoreRevision) {
      for (const left of await this.#o.store.listRevisionBudgets(this.#o.channelId)) restoreRevision(left.sku, left.tokens, left.at.getTime());
    }
    this.#epoch = epoch;
  }

  /**
   * Durable before the call: if this process dies with the write in flight, whoever pushes the channel
   * next knows the write may still land until `until`, and verifies instead of trusting a newer "ok".
   * Resolves true when recorded; false when the store failed (the items then wait for it).
   */
  async markWriting(items: readonly BatchItem[], until: number): Promise<boolean> {
    const writeUntil = new Date(until);
    const marks: WriteMark[] = items.map(({ update, revision }) =>
      revision ? { sku: update.sku, until: writeUntil, revision: { tokens: revision.tokens, at: new Date(revision.at) } } : { sku: update.sku, until: writeUntil },
    );
    try {
      await this.#o.store.recordWriting(this.#o.channelId, marks, this.#fence);
      this.#failures = 0;
      return true;
    } catch (err) {
      const retryInMs = this.#storeFailed(err);
      this.#o.logger.error('dispatch: marking writes in flight failed; not pushing until the store answers', { error: describeError(err), retryInMs });
      const retryAt = this.#o.clock.now() + retryInMs;
      for (const { state } of items) state.notBefore = Math.max(state.notBefore, retryAt);
      return false;
    }
  }

  /**
   * One store write for every confirmation of a push; lag is observed once it is durable. Resolves
   * whether it was recorded; if not, the SKUs remember what the channel shows and wait for the store.
   */
  async recordConfirmed(entries: ReadonlyArray<{ state: SkuPushState; version: number; quantity: number }>, callMs: number): Promise<boolean> {
    const confirmedAt = new Date(this.#o.clock.now());
    const confirmations: PushConfirmation[] = entries.map(({ state, version, quantity }) => ({ sku: state.sku, version, quantity, confirmedAt }));
    try {
      await this.#o.store.recordConfirmed(this.#o.channelId, confirmations, this.#fence);
      this.#failures = 0;
    } catch (err) {
      const retryInMs = this.#storeFailed(err);
      this.#o.logger.error('dispatch: recording confirmed pushes failed; will record again', { skus: entries.length, error: describeError(err), retryInMs });
      // The channel does show these quantities: remembering that turns the retry into a store write only.
      const retryAt = this.#o.clock.now() + retryInMs;
      for (const { state, quantity } of entries) {
        state.confirmedQuantity = quantity;
        state.notBefore = retryAt;
      }
      return false;
    }
    for (const { state, version, quantity } of entries) {
      const lags = state.confirm(version, quantity, confirmedAt.getTime());
      state.attempts = 0;
      state.busyStreak = 0;
      state.notBefore = 0;
      state.lastError = null;
      state.notListed = null;
      this.#o.observer.confirmed(this.#o.channelId, state.sku, lags, callMs, { quantity, available: state.available, version: state.version });
    }
    return true;
  }

  /** The channel says it shows `quantity` (a compare-and-set refusal): the next push's base. Best effort. */
  async recordShown(sku: string, quantity: number): Promise<void> {
    await this.#bestEffort('warn', 'dispatch: recording what the channel shows failed', { sku }, () =>
      this.#o.store.recordShown(this.#o.channelId, sku, quantity, this.#fence),
    );
  }

  /** The channel has no listing for these SKUs: durably, under the config it said so for. */
  async recordNotListed(entries: ReadonlyArray<{ sku: string; reason: string }>): Promise<void> {
    await this.#bestEffort('error', 'dispatch: recording SKUs not listed failed', {}, () =>
      this.#o.store.recordNotListed(this.#o.channelId, entries, this.#o.fingerprint, this.#fence),
    );
  }

  /**
   * Clears the in-flight marks of writes the channel answered, so a successor does not verify them for
   * nothing and `why` does not call them unverified. A SKU with an earlier write still possibly landing
   * keeps its mark. Best effort: a mark left behind only costs a successor one read-back.
   */
  async recordSettled(states: readonly SkuPushState[]): Promise<void> {
    const skus = states.filter((state) => state.lateWrites === null).map((state) => state.sku);
    if (skus.length === 0) return;
    await this.#bestEffort('warn', 'dispatch: clearing in-flight marks failed', {}, () => this.#o.store.recordSettled(this.#o.channelId, skus, this.#fence));
  }

  /** Publishes each letter, then marks the SKUs dead-lettered in the store. Best effort, one by one. */
  async recordDeadLettered(letters: readonly PushDeadLetter[]): Promise<void> {
    await Promise.all(
      letters.map(async (letter) => {
        try {
          await this.#o.publish(letter);
        } catch (err) {
          this.#o.logger.error('dispatch: publishing a dead letter failed', { sku: letter.sku, error: describeError(err) });
        }
      }),
    );
    const items = letters.map((letter) => ({ sku: letter.sku, error: letter.reason }));
    await this.#bestEffort('error', 'dispatch: marking SKUs dead-lettered failed', {}, () => this.#o.store.recordDeadLettered(this.#o.channelId, items, this.#fence));
  }

  /** Counts a failed write and returns how long to wait before the next; a fenced write is rethrown. */
  #storeFailed(err: unknown): number {
    if (isChannelFencedError(err)) throw err;
    this.#failures += 1;
    return Math.max(this.#o.backoff.baseMs, backoffDelay(this.#failures, this.#o.backoff, 0, this.#o.random));
  }

  async #bestEffort(level: 'warn' | 'error', msg: string, data: Record<string, unknown>, write: () => Promise<void>): Promise<void> {
    try {
      await write();
    } catch (err) {
      if (isChannelFencedError(err)) throw err;
      this.#o.logger[level](msg, { ...data, error: describeError(err) });
    }
  }
}
