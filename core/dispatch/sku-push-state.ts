import type { LateWrites } from './late-writes.ts';

/**
 * Occurrence times kept per SKU. A flash-sale SKU can change thousands of times while its channel is
 * down; the oldest changes carry the largest lag, so those are the ones kept.
 */
export const MAX_TRACKED_CHANGES = 256;

/**
 * What one channel's dispatcher knows about one SKU: the newest ledger state (coalesced: only the
 * newest quantity matters), what the channel last confirmed, and the retry bookkeeping.
 */
export class SkuPushState {
  readonly sku: string;
  /** Newest ledger state known. */
  available = 0;
  version = 0;
  /** Newest ledger version the channel confirmed showing. */
  confirmedVersion = 0;
  /** What the channel last said it shows (the compare-and-set base), when known. */
  confirmedQuantity: number | null = null;
  /**
   * Newest version whose change leaves what the channel shows unknown (the change came from the
   * channel itself, or was found in the store without its origin): such a change is always pushed.
   */
  unknownShownVersion = 0;
  /**
   * The changes the channel has not confirmed yet, oldest first, kept only to measure their sync lag:
   * version and epoch ms it happened at its source, in two arrays of plain numbers, since every change
   * of a flash sale lands here once per channel and an object each was a measurable share of the GC.
   */
  readonly #unconfirmedVersions: number[] = [];
  readonly #unconfirmedAt: number[] = [];
  /** Epoch ms the SKU last fell behind; orders SKUs whose changes were not tracked. */
  behindSince = 0;
  /** Failed attempts since the last confirmation (throttles excluded). */
  attempts = 0;
  /** Epoch ms before which the SKU is not pushed again. */
  notBefore = 0;
  inFlight = false;
  /** Dead-lettered: not pushed until a newer ledger change or the reconcile pass brings it back. */
  parked = false;
  /**
   * Why it is parked: `outage` (its calls failed whole until it ran out of attempts: comes back as soon
   * as the channel confirms any push again) or `item` (the channel answered for this item: refused it,
   * or kept asking for a retry; waits for a newer change or the reconcile pass).
   */
  parkedBy: 'outage' | 'item' = 'outage';
  /** Busy answers in a row (not attempts): the delay before the next try grows with them. */
  busyStreak = 0;
  /** Writes that may still land on the channel: while set, what the channel shows is unverified. */
  lateWrites: LateWrites | null = null;
  /** The channel said it has no listing for this SKU: not pushed there until that can have changed. */
  notListed: { at: number; reason: string } | null = null;
  lastError: string | null = null;

  constructor(sku: string) {
    this.sku = sku;
  }

  /** True while the channel has not confirmed the newest ledger version. */
  get behind(): boolean {
    return this.version > this.confirmedVersion;
  }

  /** Oldest unconfirmed change's time, or when the SKU fell behind if none was tracked. */
  get oldestPendingAt(): number {
    return this.#unconfirmedAt[0] ?? this.behindSince;
  }

  /** True when a push may be replaced by recording the confirmation: the channel already shows `quantity`. */
  canSkip(quantity: number): boolean {
    return this.confirmedQuantity === quantity && this.unknownShownVersion <= this.confirmedVersion && this.lateWrites === null;
  }

  /**
   * Takes a ledger state if it is newer than anything known; returns whether it was.
   * Afterwards `version`/`available` are the newest state and the change is tracked for lag.
   */
  observe(version: number, available: number, occurredAt: number, unknownShown: boolean, now: number): boolean {
    if (version <= this.version || version <= this.confirmedVersion) return false;
    if (!this.behind) this.behindSince = now;
    this.version = version;
    this.available = available;
    if (unknownShown) this.unknownShownVersion = version;
    if (this.#unconfirmedVersions.length < MAX_TRACKED_CHANGES) {
      this.#unconfirmedVersions.push(version);
      this.#unconfirmedAt.push(occurredAt);
    }
    return true;
  }

  /**
   * The channel confirmed showing `quantity` for ledger `version`. Returns the lag of every tracked
   * change the confirmation covers; afterwards those changes are no longer tracked.
   */
  confirm(version: number, quantity: number, confirmedAt: number): number[] {
    if (version >= this.confirmedVersion) {
      this.confirmedVersion = version;
      this.confirmedQuantity = quantity;
    }
    const covered = this.#coveredBy(version);
    const lags = this.#unconfirmedAt.splice(0, covered);
    this.#unconfirmedVersions.splice(0, covered);
    for (let i = 0; i < lags.length; i++) lags[i] = Math.max(0, confirmedAt - lags[i]!);
    return lags;
  }

  /**
   * A read-back found the channel showing `shown` where the ledger at `version` (`available`) gives
   * something else: the SKU is behind again, and its push carries `shown` as the compare-and-set base.
   * Returns false when the state moved on meanwhile (a newer change or a push in flight decides instead).
   */
  driftFound(version: number, available: number, shown: number | null, now: number): boolean {
    if (this.inFlight || version !== this.version || this.behind || this.lateWrites !== null) return false;
    this.behindSince = now;
    this.available = available;
    this.confirmedQuantity = shown;
    // Confirmed one version lower: behind by exactly this version, and never skipped as unchanged.
    this.confirmedVersion = version - 1;
    this.unknownShownVersion = version;
    return true;
  }

  /**
   * The forecast the channel shows moved (sales faded, the queue emptied): the SKU is behind again by its
   * current version, pushed from what the channel is known to show, with no sync lag to measure (no
   * ledger change waits). Returns false when a push pending, in flight or unverified decides instead.
   */
  forecastMoved(now: number): boolean {
    if (this.inFlight || this.behind || this.lateWrites !== null || this.parked || this.notListed !== null || this.version === 0) return false;
    this.behindSince = now;
    this.confirmedVersion = this.version - 1;
    return true;
  }

  /** The store knows of a newer confirmation than this process (another process, or an earlier run). */
  adoptConfirmed(version: number, quantity: number | null): void {
    if (version <= this.confirmedVersion) return;
    this.confirmedVersion = version;
    this.confirmedQuantity = quantity;
    const covered = this.#coveredBy(version);
    this.#unconfirmedVersions.splice(0, covered);
    this.#unconfirmedAt.splice(0, covered);
  }

  /** How many of the oldest unconfirmed changes a confirmation of `version` covers. */
  #coveredBy(version: number): number {
    let covered = 0;
    while (covered < this.#unconfirmedVersions.length && this.#unconfirmedVersions[covered]! <= version) covered += 1;
    return covered;
  }
}
