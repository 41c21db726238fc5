import type { ChannelRead, ChannelSkuState, StockLevel } from '../../ledger/ledger-types.ts';

/** What one read returns: levels by SKU and stored push states (see `Ledger.readInventory`). */
export interface InventoryRows {
  levels: Map<string, StockLevel>;
  states: ChannelSkuState[];
  /** What read-backs last found the channels showing, when the reader reads them. */
  reads?: ChannelRead[];
}

/** The single statement the reader runs for a group of reads. */
export type ReadInventory = (channelIds: readonly string[], skus: readonly string[]) => Promise<InventoryRows>;

/** SKUs one statement reads at most; a larger group is split (a batch query alone is up to 500). */
const MAX_SKUS_PER_STATEMENT = 2_000;

/**
 * Reads that arrive in the same event-loop turn share one ledger statement. Each statement starts
 * after every read it serves was asked for, so an answer still reflects every change committed
 * before its request arrived: this is coalescing, not a cache. Under a burst of agent queries it
 * turns N round trips (each a socket write and read, the dearest part of a small read) into one.
 */
export class CoalescedInventoryReader {
  readonly #read: ReadInventory;
  readonly #channelIds: readonly string[];
  #waiting: Array<{ skus: readonly string[]; resolve: (rows: InventoryRows) => void; reject: (err: unknown) => void }> = [];
  #scheduled = false;

  constructor(read: ReadInventory, channelIds: readonly string[]) {
    this.#read = read;
    this.#channelIds = Object.freeze([...channelIds]);
  }

  /** Resolves with rows covering at least `skus` (possibly more: those of reads grouped with it). */
  read(skus: readonly string[]): Promise<InventoryRows> {
    return new Promise((resolve, reject) => {
      this.#waiting.push({ skus, resolve, reject });
      if (this.#scheduled) return;
      this.#scheduled = true;
      // setImmediate, not a microtask: requests parsed in the same I/O phase join the group.
      setImmediate(() => this.#flush());
    });
  }

  #flush(): void {
    this.#scheduled = false;
    const waiting = this.#waiting;
    this.#waiting = [];
    let group: typeof waiting = [];
    const skus = new Set<string>();
    const run = (members: typeof waiting, union: readonly string[]): void => {
      this.#read(this.#channelIds, union).then(
        (rows) => members.forEach((m) => m.resolve(rows)),
        (err: unknown) => members.forEach((m) => m.reject(err)),
      );
    };
    for (const entry of waiting) {
      if (group.length > 0 && skus.size + entry.skus.length > MAX_SKUS_PER_STATEMENT) {
        run(group, [...skus]);
        group = [];
        skus.clear();
      }
      group.push(entry);
      for (const sku of entry.skus) skus.add(sku);
    }
    if (group.length > 0) run(group, [...skus]);
  }
}
