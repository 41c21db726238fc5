import type { ChannelRules } from '../../config/config-types.ts';
import { shownQuantity } from '../../dispatch/dispatch-types.ts';
import { replaySku, ShelfTally, type AllowedStep, type ShownEvent } from './shelf-timeline.ts';

/** A simulator that keeps its own per-SKU write log (`[epoch ms, quantity]`), as the sandbox does. */
interface WriteLog {
  writes(sku: string): ReadonlyArray<readonly [number, number]>;
}

/** The slice of a simulated channel the recorder reads. */
export interface ShelfSource {
  shown(sku: string): number | undefined;
}

const hasWriteLog = (source: ShelfSource): source is ShelfSource & WriteLog => typeof (source as Partial<WriteLog>).writes === 'function';

/**
 * Records, from the simulator side, what every simulated channel showed over a bench run next to the
 * ledger, so phantom and hidden stock can be measured afterwards (see shelf-timeline.ts).
 *
 * A write's time is when the simulated API applied it: read from the simulator's own write log where it
 * keeps one, otherwise the moment the hub confirmed it (a little late, so phantom time is overstated,
 * never hidden). A shopper's purchase is recorded as it happens, on the channel it happened on.
 */
export class ShelfRecorder {
  readonly #skus: readonly string[];
  readonly #sources: ReadonlyMap<string, ShelfSource>;
  #from = 0;
  readonly #initialAvailable = new Map<string, number>();
  readonly #available = new Map<string, AllowedStep[]>();
  readonly #initialShown = new Map<string, Map<string, number>>();
  /** Per channel, the SKUs whose starting quantity the hub had confirmed for the ledger's newest version. */
  readonly #initialSettled = new Map<string, Set<string>>();
  readonly #events = new Map<string, Map<string, ShownEvent[]>>();

  constructor(skus: readonly string[], sources: ReadonlyMap<string, ShelfSource>) {
    this.#skus = skus;
    this.#sources = sources;
    for (const sku of skus) this.#available.set(sku, []);
    for (const id of sources.keys()) {
      this.#initialShown.set(id, new Map());
      this.#events.set(id, new Map(skus.map((sku) => [sku, []])));
    }
  }

  /**
   * Starts recording at `at`: what the ledger holds and what every channel shows then. `settled` says
   * whether the hub had confirmed the ledger's newest version of a SKU on a channel: only then is what it
   * shows below the rules held back on purpose (otherwise it is still waiting for its push).
   */
  start(at: number, available: ReadonlyMap<string, number>, settled: (channelId: string, sku: string) => boolean): void {
    this.#from = at;
    for (const sku of this.#skus) this.#initialAvailable.set(sku, available.get(sku) ?? 0);
    for (const [id, source] of this.#sources) {
      const shown = this.#initialShown.get(id)!;
      const done = new Set<string>();
      for (const sku of this.#skus) {
        shown.set(sku, source.shown(sku) ?? 0);
        if (settled(id, sku)) done.add(sku);
      }
      this.#initialSettled.set(id, done);
    }
  }

  /** The ledger's available stock of `sku` became `available` at `at`. */
  ledger(sku: string, available: number, at: number): void {
    this.#available.get(sku)?.push({ at, value: available });
  }

  /** A shopper bought `units` of `sku` on `channelId` at `at` (the channel took them off what it shows). */
  sold(channelId: string, sku: string, units: number, at: number): void {
    this.#events.get(channelId)?.get(sku)?.push({ at, sold: units });
  }

  /** The hub confirmed a write of `sku` to `channelId` at `at`; used only where the simulator keeps no write log. */
  confirmed(channelId: string, sku: string, at: number): void {
    const source = this.#sources.get(channelId);
    if (!source || hasWriteLog(source)) return;
    this.#events.get(channelId)?.get(sku)?.push({ at, set: source.shown(sku) ?? 0 });
  }

  /**
   * The figures of one channel over [`from` of {@link start}, `to`), judged against `rules` applied to
   * the ledger, with phantom episodes followed until `until`.
   */
  measure(channelId: string, rules: ChannelRules, to: number, until: number): ShelfTally {
    const tally = new ShelfTally();
    const source = this.#sources.get(channelId);
    const events = this.#events.get(channelId);
    if (!source || !events) return tally;
    const initialShown = this.#initialShown.get(channelId)!;
    for (const sku of this.#skus) {
      let shown = events.get(sku) ?? [];
      if (hasWriteLog(source)) {
        const writes: ShownEvent[] = source
          .writes(sku)
          .filter(([at]) => at >= this.#from)
          .map(([at, set]) => ({ at, set }));
        shown = byTime([...writes, ...shown]);
      } else shown = byTime(shown);
      const allowed = byTime(this.#available.get(sku) ?? []).map((step) => ({ at: step.at, value: shownQuantity(rules, step.value) }));
      const initialAllowed = shownQuantity(rules, this.#initialAvailable.get(sku) ?? 0);
      const startShown = initialShown.get(sku) ?? 0;
      const initialWithheld = this.#initialSettled.get(channelId)?.has(sku) ? Math.max(0, initialAllowed - startShown) : 0;
      replaySku({ initialShown: startShown, initialAllowed, initialWithheld, allowed, shown }, { from: this.#from, to, until }, tally);
    }
    return tally;
  }
}

/** Stable sort by time: events of one instant keep the order they were recorded in. */
function byTime<T extends { at: number }>(list: readonly T[]): T[] {
  return list
    .map((item, index) => ({ item, index }))
    .sort((a, b) => a.item.at - b.item.at || a.index - b.index)
    .map(({ item }) => item);
}
