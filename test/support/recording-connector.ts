import type { ConnectorInstance, PushResult, StockUpdate } from '../../core/sdk.ts';

export interface PushCall {
  /** Epoch ms the call started and settled. */
  startedAt: number;
  endedAt: number | null;
  updates: StockUpdate[];
  signal: AbortSignal;
  outcome: 'pending' | 'resolved' | 'rejected';
}

/** Decides what one push call answers; the default confirms every item. */
export type PushResponder = (updates: readonly StockUpdate[], call: PushCall) => PushResult[] | Promise<PushResult[]>;

/**
 * An in-process channel that records every push with its timing, keeps what it shows per SKU, and
 * notices a SKU being in two pushes at once. `hold()` keeps pushes open until released.
 */
export class RecordingConnector implements ConnectorInstance {
  readonly calls: PushCall[] = [];
  /** Bulk jobs (`pushBulk`), recorded apart from the per-SKU calls. */
  readonly bulkCalls: PushCall[] = [];
  readonly shown = new Map<string, number>();
  /** SKUs that were ever in two in-flight pushes at once (must stay empty). */
  readonly overlaps: string[] = [];
  maxConcurrent = 0;
  /** Where call times are read (a test's clock). */
  now: () => number = () => Date.now();
  respond: PushResponder = (updates) => updates.map((u) => ({ sku: u.sku, status: 'ok' as const }));
  /** What a bulk job answers; the default confirms every item. */
  respondBulk: PushResponder = (updates) => updates.map((u) => ({ sku: u.sku, status: 'ok' as const }));
  #inFlight = new Set<string>();
  #concurrent = 0;
  #gate: Promise<void> | null = null;
  #open: (() => void) | null = null;
  #waiters: Array<() => void> = [];

  /** Pushes started from now on wait until the returned function is called. */
  hold(): () => void {
    this.#gate = new Promise<void>((resolve) => {
      this.#open = resolve;
    });
    return () => {
      this.#gate = null;
      this.#open?.();
    };
  }

  /** Resolves once `count` push calls have started. */
  waitForCalls(count: number): Promise<void> {
    if (this.calls.length >= count) return Promise.resolve();
    return new Promise((resolve) => {
      const check = (): void => {
        if (this.calls.length >= count) resolve();
        else this.#waiters.push(check);
      };
      this.#waiters.push(check);
    });
  }

  push(updates: readonly StockUpdate[], signal: AbortSignal): Promise<PushResult[]> {
    return this.#record(this.calls, this.respond, updates, signal);
  }

  pushBulk(updates: readonly StockUpdate[], signal: AbortSignal): Promise<PushResult[]> {
    return this.#record(this.bulkCalls, this.respondBulk, updates, signal);
  }

  async #record(calls: PushCall[], respond: PushResponder, updates: readonly StockUpdate[], signal: AbortSignal): Promise<PushResult[]> {
    const call: PushCall = { startedAt: this.now(), endedAt: null, updates: updates.map((u) => ({ ...u })), signal, outcome: 'pending' };
    calls.push(call);
    this.#concurrent += 1;
    this.maxConcurrent = Math.max(this.maxConcurrent, this.#concurrent);
    for (const u of updates) {
      if (this.#inFlight.has(u.sku)) this.overlaps.push(u.sku);
      this.#inFlight.add(u.sku);
    }
    const waiters = this.#waiters.splice(0);
    for (const wake of waiters) wake();
    try {
      if (this.#gate) await abortable(this.#gate, signal);
      signal.throwIfAborted();
      const results = await respond(updates, call);
      for (const result of results) {
        if (result.status !== 'ok') continue;
        const update = updates.find((u) => u.sku === result.sku);
        if (update) this.shown.set(update.sku, result.quantity ?? update.quantity);
      }
      call.outcome = 'resolved';
      return results;
    } catch (err) {
      call.outcome = 'rejected';
      throw err;
    } finally {
      call.endedAt = this.now();
      this.#concurrent -= 1;
      for (const u of updates) this.#inFlight.delete(u.sku);
    }
  }

  /** Every update sent for one SKU, in order. */
  updatesFor(sku: string): StockUpdate[] {
    return this.calls.flatMap((call) => call.updates.filter((u) => u.sku === sku));
  }
}

function abortable(promise: Promise<void>, signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    });
  });
}
