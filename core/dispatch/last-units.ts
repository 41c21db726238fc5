import { HiddenEverywhere } from './hidden-everywhere.ts';

/**
 * A holder has max(this, 3 × its landing time) to confirm showing the units, ms; one that does not (its
 * API down, its queue stuck) gives them back to every channel's forecast, so the last units of a SKU
 * never wait on a channel that cannot show them.
 */
export const HOLDER_CONFIRM_MIN_MS = 10_000;
/** A channel that missed that deadline is not made a holder again for this long, ms. */
export const HOLDER_PASSED_OVER_MS = 60_000;
/**
 * A hold whose units have not sold for this long since the holder showed them ends, ms: the rush is over,
 * and each channel's forecast decides again (while held, the SKU's sales rate does not read silence, so
 * without this its last units would wait on one channel for as long as the rate takes to fade).
 */
export const HOLD_IDLE_MS = 10_000;

/** What a dispatcher asks: which channel, if any, alone offers a SKU's last units now. */
export interface LastUnitsView {
  holderOf(sku: string): string | undefined;
}

export interface LastUnitsOptions {
  /** The channels the hub pushes now. */
  pushing: () => ReadonlySet<string>;
  /**
   * True when the hub pushes every channel of its config. Only then can it make one channel the only one
   * showing a SKU: a channel another hub pushes could show the same units.
   */
  pushesAll: () => boolean;
  /** True when `channelId` shows forecasts and its rules give more than 0 for `available`. */
  canHold: (channelId: string, available: number) => boolean;
  /**
   * What `channelId`'s rules and forecast give `sku` now, undefined when unknown. A hold is made only
   * while every channel's is 0: a confirmation of 0 can be older than a restock, and a hold made then
   * would hide stock the forecasts no longer hide.
   */
  targetOf: (channelId: string, sku: string) => number | undefined;
  /** Time until a push sent to `channelId` now could land, ms (its forecast's horizon). */
  landingMs: (channelId: string) => number;
  /** Hears every SKU that becomes hidden everywhere, or is shown again (see {@link HiddenEverywhere}). */
  hiddenChanged: (sku: string, hidden: boolean) => void;
  /** Epoch ms now. */
  now: () => number;
}

interface Hold {
  channelId: string;
  /** The ledger's available quantity the hold was made for, lowered by each sale since. */
  available: number;
  /** Epoch ms by which the holder must confirm showing units, or null once it has. */
  confirmBy: number | null;
  /** Epoch ms of the last sale since the holder showed the units, or of that confirmation. */
  soldAt: number;
}

/**
 * The last units of a SKU that forecasts hide on every channel, offered on one channel alone.
 *
 * A forecast hides a SKU's units when more are expected to sell before the channel's next refresh than
 * it has; in a rush every channel does, and the last units stay hidden everywhere until the rush fades
 * (measured: a fifth fewer units sold in a flash sale). Shown on one channel only, they cannot be sold
 * twice: that channel takes what it sells off its own listing, and every other one shows 0. So when every
 * channel the hub pushes was confirmed showing a SKU at 0, and is to show 0 now, while the ledger still has some, the channel
 * whose push would land soonest is made its holder: it shows what its rules allow, without forecast, and
 * every other forecasting channel shows 0 as long as its own forecast would hide any unit. The hold ends
 * when the ledger reaches 0, when stock comes back (forecasts apply again), when the holder does not
 * show the units in time (see {@link HOLDER_CONFIRM_MIN_MS}), when they stop selling (see
 * {@link HOLD_IDLE_MS}), or when the hub stops pushing any channel.
 */
export class LastUnits implements LastUnitsView {
  readonly #options: LastUnitsOptions;
  readonly #holds = new Map<string, Hold>();
  /** Channels that missed a hold's deadline, until when they are passed over. */
  readonly #passedOver = new Map<string, number>();
  readonly #hidden: HiddenEverywhere;

  constructor(options: LastUnitsOptions) {
    this.#options = options;
    this.#hidden = new HiddenEverywhere(
      () => options.pushing().size,
      (sku, hidden) => options.hiddenChanged(sku, hidden),
      (sku) => this.#holds.get(sku)?.channelId,
    );
  }

  holderOf(sku: string): string | undefined {
    const hold = this.#holds.get(sku);
    if (!hold) return undefined;
    const now = this.#options.now();
    if (hold.confirmBy !== null && now > hold.confirmBy) {
      this.#passedOver.set(hold.channelId, now + HOLDER_PASSED_OVER_MS);
      this.#end(sku);
      return undefined;
    }
    if (hold.confirmBy === null && now - hold.soldAt > HOLD_IDLE_MS) {
      this.#end(sku);
      return undefined;
    }
    return hold.channelId;
  }

  /** `channelId` was confirmed showing `quantity` of `sku`, the ledger having `available` of it. */
  confirmed(channelId: string, sku: string, quantity: number, available: number): void {
    this.#hidden.confirmed(channelId, sku, quantity);
    const hold = this.#holds.get(sku);
    if (hold) {
      if (hold.channelId === channelId && quantity > 0 && hold.confirmBy !== null) {
        hold.confirmBy = null;
        hold.soldAt = this.#options.now();
      }
    } else if (this.#hidden.isHidden(sku) && available > 0) this.#appoint(sku, available);
  }

  /** The ledger now has `available` of `sku`. */
  stands(sku: string, available: number): void {
    const hold = this.#holds.get(sku);
    if (!hold) return;
    if (available <= 0 || available > hold.available) this.#end(sku);
    else if (available < hold.available) {
      hold.available = available;
      hold.soldAt = this.#options.now();
    }
  }

  /** The hub stopped pushing `channelId`: no channel is the only one showing anything any more. */
  released(channelId: string): void {
    this.#holds.clear();
    this.#hidden.released(channelId);
  }

  #appoint(sku: string, available: number): void {
    const { pushing, pushesAll, canHold, landingMs, targetOf, now } = this.#options;
    if (!pushesAll()) return;
    const at = now();
    let best: { channelId: string; ms: number } | undefined;
    for (const channelId of pushing()) {
      if (targetOf(channelId, sku) !== 0) return;
      if (!canHold(channelId, available) || (this.#passedOver.get(channelId) ?? 0) > at) continue;
      const ms = landingMs(channelId);
      if (!best || ms < best.ms) best = { channelId, ms };
    }
    if (best) this.#holds.set(sku, { channelId: best.channelId, available, confirmBy: at + Math.max(HOLDER_CONFIRM_MIN_MS, 3 * best.ms), soldAt: at });
  }

  #end(sku: string): void {
    this.#holds.delete(sku);
    this.#hidden.recount(sku);
  }
}
