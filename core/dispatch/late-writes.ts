import { isPushTimeoutError } from '../internal.ts';

/**
 * How long after the hub gave up on a write that write may still land on the channel, ms, when the
 * config does not say. A gateway in front of a channel's API keeps working on a request the client
 * dropped until its own timeout (AWS API Gateway: 29 s), so the window covers that and a little more.
 */
export const DEFAULT_LATE_WRITE_WINDOW_MS = 30_000;

/**
 * Writes of one SKU whose fate is unknown: sent, never answered, and possibly still on their way to
 * the channel until `until`. While such a write may land, an "ok" for a newer quantity proves nothing
 * (the older write can land on top of it: the stale overwrite of DESIGN §2.3), so the SKU's channel
 * value stays unknown until a read-back or a write sent after `until` proves it.
 *
 * On a compare-and-set channel a late write only lands while the channel still shows its base, so a
 * newer write that leaves the channel showing anything else is safe at once: `bases` keeps those bases,
 * or is null when some late write carried none (it lands whatever the channel shows).
 */
export class LateWrites {
  /** Epoch ms until which one of the writes may still land. */
  until: number;
  bases: Set<number> | null;
  /** Newest ledger version pushed while the window was open (an "ok" that could not be trusted). */
  pushedVersion = 0;

  constructor(until: number, base: number | undefined) {
    this.until = until;
    this.bases = base === undefined ? null : new Set([base]);
  }

  /** Another write of the SKU may land until `until`, with compare-and-set base `base` (undefined: none). */
  add(until: number, base: number | undefined): void {
    this.until = Math.max(this.until, until);
    if (base === undefined) this.bases = null;
    else this.bases?.add(base);
    this.pushedVersion = 0;
  }

  /** True when the window is over at `now`: what the channel shows can be proved by a read-back or a write. */
  closed(now: number): boolean {
    return now >= this.until;
  }

  /**
   * Whether a write sent at `sentAt` that the channel answered "ok, shows `quantity`" proves the channel
   * shows it: sent after every late write had landed or died, or no late write can apply on top of it.
   */
  proves(quantity: number, sentAt: number): boolean {
    return sentAt >= this.until || (this.bases !== null && !this.bases.has(quantity));
  }
}

/**
 * Whether a push that failed this way may still have reached the channel and be applied later: the
 * hub's own timeout, or the HTTP client's wait for an answer running out after the request was sent.
 * Errors the channel answered with (5xx, 429, a refusal) end the write there.
 */
export function mayLandLater(err: unknown): boolean {
  for (let cause = err, depth = 0; cause !== undefined && cause !== null && depth < 8; depth += 1) {
    if (isPushTimeoutError(cause)) return true;
    const code = (cause as { code?: unknown }).code;
    if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') return true;
    cause = (cause as { cause?: unknown }).cause;
  }
  return false;
}
