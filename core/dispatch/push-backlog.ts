import type { BehindSku, LedgerChange } from '../ledger/ledger-types.ts';
import { LateWrites } from './late-writes.ts';
import { SkuPushState } from './sku-push-state.ts';

/**
 * A SKU the channel called not listed is tried again after this long (at its next change or reconcile
 * pass): a listing created on the channel later is found within the hour, while a SKU the seller never
 * lists there costs one call an hour instead of one per change (or a dead letter per reconcile pass).
 */
export const NOT_LISTED_RECHECK_MS = 3_600_000;

/**
 * What one channel is behind on, per SKU: every SKU's push state, and the two sets a state can be in
 * while behind. `due` holds what still has to be pushed (in flight or waiting); `parked` what was
 * dead-lettered and waits for a newer change, the reconcile pass or the channel answering again.
 * A SKU not listed on the channel, or level with the ledger, is in neither.
 */
export class PushBacklog {
  readonly #states = new Map<string, SkuPushState>();
  readonly #due = new Set<SkuPushState>();
  readonly #parked = new Set<SkuPushState>();

  /** SKUs to push, in flight or waiting; the scheduler picks from these. */
  get due(): ReadonlySet<SkuPushState> {
    return this.#due;
  }

  get parkedCount(): number {
    return this.#parked.size;
  }

  get(sku: string): SkuPushState | undefined {
    return this.#states.get(sku);
  }

  /** True when `sku` is waiting for (or in) a push. */
  isQueued(sku: string): boolean {
    const state = this.#states.get(sku);
    return state !== undefined && this.#due.has(state);
  }

  /** occurredAt of the oldest change not yet confirmed, parked SKUs included; Infinity when none. */
  oldestPendingAt(): number {
    let oldest = Infinity;
    for (const state of this.#due) oldest = Math.min(oldest, state.oldestPendingAt);
    for (const state of this.#parked) oldest = Math.min(oldest, state.oldestPendingAt);
    return oldest;
  }

  /**
   * Takes one ledger change; returns whether it made the SKU due. `fromHere`: the change came from the
   * channel itself, so what the channel shows is unknown and the change is pushed even if unchanged.
   */
  observe(change: LedgerChange, fromHere: boolean, now: number): boolean {
    const state = this.#state(change.sku);
    if (!state.observe(change.version, change.available, change.occurredAt.getTime(), fromHere, now)) return false;
    this.unpark(state);
    if (state.notListed && now - state.notListed.at >= NOT_LISTED_RECHECK_MS) state.notListed = null;
    this.track(state);
    return true;
  }

  /**
   * Takes what the store says the channel is behind on for one SKU. `fromPredecessor`: the first pass
   * after the claim, when a write sent by an earlier holder (or an earlier run) may still land.
   * `fingerprint`: the channel's config now; a "not listed" mark made under another config is void.
   */
  adopt(behind: BehindSku, now: number, fromPredecessor: boolean, fingerprint: string): void {
    const state = this.#state(behind.sku);
    if (behind.pushedVersion < state.confirmedVersion && behind.version === state.version && !state.behind) {
      // The store was set behind what this process confirmed (`stockrelay reconcile` found the channel
      // showing something else): push it again, from what was read there.
      state.driftFound(behind.version, behind.available, behind.pushedQuantity, now);
    }
    state.adoptConfirmed(behind.pushedVersion, behind.pushedQuantity);
    // Found in the store without its origin: the change may have come from this channel, so push it.
    state.observe(behind.version, behind.available, behind.updatedAt.getTime(), true, now);
    // Later passes skip this: since the claim this process is the only writer, and knows its own writes.
    const writeUntil = fromPredecessor ? (behind.writeUntil?.getTime() ?? 0) : 0;
    if (writeUntil > now && !state.inFlight) {
      if (state.lateWrites) state.lateWrites.add(writeUntil, undefined);
      else state.lateWrites = new LateWrites(writeUntil, undefined);
    }
    const mark = behind.notListed;
    if (mark && mark.config === fingerprint && now - mark.at.getTime() < NOT_LISTED_RECHECK_MS) {
      state.notListed ??= { at: mark.at.getTime(), reason: mark.reason };
    } else if (state.notListed && now - state.notListed.at >= NOT_LISTED_RECHECK_MS) {
      state.notListed = null;
    }
    if (state.behind) this.unpark(state);
    this.track(state);
  }

  /**
   * A read-back found the channel showing `shown` for a SKU the ledger has at `level`: the SKU is due
   * at once. Returns false (nothing changed) when the SKU is behind, in flight or unverified anyway.
   */
  drifted(level: { sku: string; available: number; version: number }, shown: number, now: number): boolean {
    const state = this.#state(level.sku);
    if (state.version === 0 && state.confirmedVersion === 0) {
      // Never seen by this process: the store's word is that the channel confirmed this version.
      state.version = level.version;
      state.available = level.available;
      state.confirmedVersion = level.version;
    }
    if (state.notListed || !state.driftFound(level.version, level.available, shown, now)) return false;
    this.unpark(state);
    this.track(state);
    return true;
  }

  /** The forecast shown for this SKU moved past its hysteresis: due again (see {@link SkuPushState.forecastMoved}). */
  forecastMoved(state: SkuPushState, now: number): void {
    if (state.forecastMoved(now)) this.track(state);
  }

  /** An operator asks for `sku` again: parked or not listed, it is due at once with fresh attempts. */
  requeue(sku: string): void {
    const state = this.#states.get(sku);
    if (!state || (!state.parked && !state.notListed)) return;
    // An operator retrying a not-listed SKU says the listing exists now.
    state.notListed = null;
    this.unpark(state);
    this.track(state);
  }

  /** Drops the not-listed mark of `sku` (an operator said the listing exists). */
  forgetNotListed(sku: string): void {
    const state = this.#states.get(sku);
    if (!state?.notListed) return;
    state.notListed = null;
    this.track(state);
  }

  /**
   * The channel confirmed a push again: SKUs parked after their calls failed whole (an outage) are due
   * at once. SKUs the channel answered for (refused, or kept answering "retry" for) stay parked:
   * bringing them back at every success would dead-letter them again and again. Returns whether any came back.
   */
  wakeParkedByOutage(): boolean {
    let woke = false;
    for (const state of [...this.#parked]) {
      if (state.parkedBy !== 'outage' || state.inFlight) continue;
      this.unpark(state);
      this.track(state);
      woke = true;
    }
    return woke;
  }

  /** Puts a SKU in the set its state says it belongs to. */
  track(state: SkuPushState): void {
    if (!state.behind || state.notListed) {
      state.parked = false;
      this.#parked.delete(state);
      this.#due.delete(state);
    } else if (state.parked) {
      this.#due.delete(state);
      this.#parked.add(state);
    } else {
      this.#parked.delete(state);
      this.#due.add(state);
    }
  }

  unpark(state: SkuPushState): void {
    if (!state.parked) return;
    state.parked = false;
    state.attempts = 0;
    state.notBefore = 0;
  }

  #state(sku: string): SkuPushState {
    let state = this.#states.get(sku);
    if (!state) {
      state = new SkuPushState(sku);
      this.#states.set(sku, state);
    }
    return state;
  }
}
