import type { ChannelRules } from '../config/config-types.ts';
import { shownQuantity } from '../dispatch/dispatch-types.ts';

/** What one channel showed against the ledger since this process started counting, in the hub's view. */
export interface ShelfTotals {
  /** SKU-seconds a SKU was shown above what the channel's rules give for the ledger's available stock. */
  phantomSeconds: number;
  /** Units shown above what the rules give, times seconds. */
  phantomUnitSeconds: number;
  /** Units the rules give (without forecast) but not shown, times seconds. */
  hiddenUnitSeconds: number;
}

interface Pair {
  sku: string;
  /** What the hub last confirmed the channel shows; null while unknown (the channel sold it itself). */
  shown: number | null;
  /** Epoch ms up to which this pair is counted. */
  since: number;
  /** Epoch ms the current phantom episode began, or null. */
  phantomSince: number | null;
}

interface Channel {
  id: string;
  rules: ChannelRules;
  pairs: Map<string, Pair>;
  /** Pairs showing other than the rules give: the only ones whose time runs between events. */
  off: Set<Pair>;
  phantomMs: number;
  phantomUnitMs: number;
  hiddenUnitMs: number;
}

/**
 * Phantom and hidden stock as the hub can know them: for each (channel, SKU) it confirmed a quantity
 * for, the time that confirmed quantity stood above (phantom) or below (hidden) what the channel's
 * rules give for the ledger's available stock at that moment. The ledger side follows every change the
 * hub learns (its own commits and other hubs' through the change feed); the channel side follows
 * confirmed pushes. A change from an order on the channel itself makes what it shows unknown (the
 * channel took the units off on its own) until the next confirmation, as the dispatcher treats it.
 *
 * Only channels this process pushes are counted, from the first confirmation of each SKU: a SKU never
 * pushed since start costs no memory. Time between events is added when read ({@link totals}), so a
 * scrape in the middle of a long episode sees it.
 */
export class ShelfTime {
  readonly #channels = new Map<string, Channel>();
  /** Newest ledger state per SKU some channel tracks. */
  readonly #ledger = new Map<string, { available: number; version: number }>();
  /** Per SKU, the channels counting it and their pair for it. */
  readonly #bySku = new Map<string, Map<Channel, Pair>>();
  readonly #now: () => number;
  readonly #onEpisode: (channelId: string, ms: number) => void;

  /**
   * `rulesOf` gives a channel's rules (undefined: not counted). `onEpisode` hears every phantom episode
   * that ended, with its duration.
   */
  constructor(
    private readonly rulesOf: (channelId: string) => ChannelRules | undefined,
    options: { now?: () => number; onEpisode?: (channelId: string, ms: number) => void } = {},
  ) {
    this.#now = options.now ?? Date.now;
    this.#onEpisode = options.onEpisode ?? (() => undefined);
  }

  /** The hub learned these ledger changes (version-ordered per SKU; older or repeated ones are ignored). */
  ledger(changes: ReadonlyArray<{ sku: string; available: number; version: number; eventChannel?: string; eventType?: string }>, at = this.#now()): void {
    for (const change of changes) {
      const pairs = this.#bySku.get(change.sku);
      if (!pairs) continue;
      const known = this.#ledger.get(change.sku);
      if (known && known.version >= change.version) continue;
      for (const [channel, pair] of pairs) this.#advance(channel, pair, at);
      // Updated in place: a flash sale brings thousands of changes a second.
      if (known) {
        known.available = change.available;
        known.version = change.version;
      } else this.#ledger.set(change.sku, { available: change.available, version: change.version });
      const ownOrder = change.eventType === 'order.confirmed' ? change.eventChannel : undefined;
      for (const [channel, pair] of pairs) {
        if (ownOrder !== undefined && channel.id === ownOrder) this.#unknown(channel, pair, at);
        this.#judge(channel, pair, at);
      }
    }
  }

  /** The hub confirmed `channelId` shows `quantity` of `sku`; `available`/`version`: the newest ledger state it knew. */
  shown(channelId: string, sku: string, quantity: number, ledger: { available: number; version: number }, at = this.#now()): void {
    let channel = this.#channels.get(channelId);
    if (!channel) {
      const rules = this.rulesOf(channelId);
      if (!rules) return;
      channel = { id: channelId, rules, pairs: new Map(), off: new Set(), phantomMs: 0, phantomUnitMs: 0, hiddenUnitMs: 0 };
      this.#channels.set(channelId, channel);
    }
    let pair = channel.pairs.get(sku);
    if (!pair) {
      pair = { sku, shown: null, since: at, phantomSince: null };
      channel.pairs.set(sku, pair);
      const pairs = this.#bySku.get(sku) ?? new Map<Channel, Pair>();
      pairs.set(channel, pair);
      this.#bySku.set(sku, pairs);
    }
    this.#advance(channel, pair, at);
    const known = this.#ledger.get(sku);
    if (!known) this.#ledger.set(sku, { available: ledger.available, version: ledger.version });
    else if (known.version < ledger.version) {
      known.available = ledger.available;
      known.version = ledger.version;
    }
    pair.shown = quantity;
    this.#judge(channel, pair, at);
  }

  /** This process no longer pushes `channelId`: its pairs stop counting (their totals stay). */
  release(channelId: string): void {
    const channel = this.#channels.get(channelId);
    if (!channel) return;
    const at = this.#now();
    for (const pair of channel.pairs.values()) {
      this.#advance(channel, pair, at);
      this.#bySku.get(pair.sku)?.delete(channel);
      if (this.#bySku.get(pair.sku)?.size === 0) {
        this.#bySku.delete(pair.sku);
        this.#ledger.delete(pair.sku);
      }
    }
    channel.pairs.clear();
    channel.off.clear();
  }

  /** Totals of `channelId` up to `at`, the time of pairs off the rules right now included. */
  totals(channelId: string, at = this.#now()): ShelfTotals {
    const channel = this.#channels.get(channelId);
    if (!channel) return { phantomSeconds: 0, phantomUnitSeconds: 0, hiddenUnitSeconds: 0 };
    for (const pair of channel.off) this.#advance(channel, pair, at);
    return { phantomSeconds: channel.phantomMs / 1000, phantomUnitSeconds: channel.phantomUnitMs / 1000, hiddenUnitSeconds: channel.hiddenUnitMs / 1000 };
  }

  /** Channels counted so far. */
  channels(): string[] {
    return [...this.#channels.keys()];
  }

  #allowed(channel: Channel, sku: string): number | null {
    const ledger = this.#ledger.get(sku);
    return ledger ? shownQuantity(channel.rules, ledger.available) : null;
  }

  /** Adds the time since the pair was last counted, judged by the state that held during it. */
  #advance(channel: Channel, pair: Pair, at: number): void {
    const dt = at - pair.since;
    if (dt <= 0) return;
    pair.since = at;
    const allowed = this.#allowed(channel, pair.sku);
    if (pair.shown === null || allowed === null) return;
    if (pair.shown > allowed) {
      channel.phantomMs += dt;
      channel.phantomUnitMs += (pair.shown - allowed) * dt;
    } else if (pair.shown < allowed) channel.hiddenUnitMs += (allowed - pair.shown) * dt;
  }

  #unknown(channel: Channel, pair: Pair, at: number): void {
    pair.shown = null;
    this.#endEpisode(channel, pair, at);
  }

  /** Files the pair as off the rules or level, and opens or closes its phantom episode. */
  #judge(channel: Channel, pair: Pair, at: number): void {
    const allowed = this.#allowed(channel, pair.sku);
    const phantom = pair.shown !== null && allowed !== null && pair.shown > allowed;
    if (pair.shown !== null && allowed !== null && pair.shown !== allowed) channel.off.add(pair);
    else channel.off.delete(pair);
    if (phantom && pair.phantomSince === null) pair.phantomSince = at;
    else if (!phantom) this.#endEpisode(channel, pair, at);
  }

  #endEpisode(channel: Channel, pair: Pair, at: number): void {
    if (pair.phantomSince === null) return;
    this.#onEpisode(channel.id, at - pair.phantomSince);
    pair.phantomSince = null;
  }
}
