import type { ConnectorInstance, OrderPage, StockUpdate } from '../sdk.ts';
import { withCallDeadline } from './call-deadline.ts';
import type { Clock } from './clock.ts';
import { provenByReadBack, type ReadBackEntry } from './read-back.ts';

/** How one push call ended. `stopped`: the dispatcher stopped meanwhile, and nothing may be concluded. */
export type PushCallOutcome =
  | { kind: 'answered'; answer: unknown; startedAt: number; callMs: number }
  | { kind: 'failed'; error: unknown; startedAt: number }
  | { kind: 'stopped' };

export interface ChannelCallOptions {
  connector: ConnectorInstance;
  /** Aborted when the dispatcher stops: every call in flight is abandoned at once. */
  stop: AbortSignal;
  /** Each call is abandoned (and its signal aborted) this long after it started. */
  timeoutMs: number;
  clock: Clock;
}

/**
 * Calls to one channel's connector, each with the signal it must honour and a deadline on the
 * dispatcher's clock: a plugin that hangs or ignores its signal can hold neither the channel nor shutdown.
 */
export class ChannelCalls {
  readonly #o: ChannelCallOptions;

  constructor(options: ChannelCallOptions) {
    this.#o = options;
  }

  get stopped(): boolean {
    return this.#o.stop.aborted;
  }

  /** Sends one batch. Never throws: what the plugin answered, or why there is no answer, is in the outcome. */
  push(updates: readonly StockUpdate[]): Promise<PushCallOutcome> {
    const { connector, timeoutMs } = this.#o;
    return this.#write(timeoutMs, (signal) => connector.push(updates, signal));
  }

  /**
   * Sends one bulk job (the connector's `pushBulk`) with its own deadline, `timeoutMs`: a job runs for as
   * long as the channel takes to process it. Never throws, as {@link push}.
   */
  pushBulk(updates: readonly StockUpdate[], timeoutMs: number): Promise<PushCallOutcome> {
    const { connector } = this.#o;
    if (!connector.pushBulk) return Promise.resolve({ kind: 'stopped' });
    return this.#write(timeoutMs, (signal) => connector.pushBulk!(updates, signal));
  }

  async #write(timeoutMs: number, call: (signal: AbortSignal) => Promise<unknown>): Promise<PushCallOutcome> {
    const { stop, clock } = this.#o;
    if (stop.aborted) return { kind: 'stopped' };
    const startedAt = clock.now();
    try {
      const answer = await withCallDeadline(stop, timeoutMs, call, clock);
      return { kind: 'answered', answer, startedAt, callMs: clock.now() - startedAt };
    } catch (error) {
      // Stopped: nothing is lost, the durable pushed_version brings these SKUs back on the next start.
      if (stop.aborted) return { kind: 'stopped' };
      return { kind: 'failed', error, startedAt };
    }
  }

  /**
   * What the channel shows for `skus` (its `fetchQuantities`), or null when the dispatcher stopped or the
   * connector cannot read back. Rejects when the read failed.
   */
  async readQuantities(skus: readonly string[]): Promise<Map<string, number> | null> {
    const { connector, stop, timeoutMs, clock } = this.#o;
    if (!connector.fetchQuantities || stop.aborted) return null;
    try {
      return await withCallDeadline(stop, timeoutMs, (signal) => connector.fetchQuantities!(skus, signal), clock);
    } catch (err) {
      if (stop.aborted) return null;
      throw err;
    }
  }

  /**
   * One page of the channel's orders since `cursor` (its `listOrders`), or null when the dispatcher stopped
   * or the connector cannot list orders. Rejects when the call failed.
   */
  async listOrders(cursor: string | undefined): Promise<OrderPage | null> {
    const { connector, stop, timeoutMs, clock } = this.#o;
    if (!connector.listOrders || stop.aborted) return null;
    try {
      return await withCallDeadline(stop, timeoutMs, (signal) => connector.listOrders!(cursor, signal), clock);
    } catch (err) {
      if (stop.aborted) return null;
      throw err;
    }
  }

  /**
   * Reads back what the channel shows for `entries` and resolves with those it shows exactly as asked
   * (see {@link provenByReadBack}), or null when the dispatcher stopped. Rejects when the read failed.
   */
  async readBack<E extends ReadBackEntry>(entries: readonly E[]): Promise<E[] | null> {
    const { connector, stop, timeoutMs, clock } = this.#o;
    try {
      return await withCallDeadline(stop, timeoutMs, (signal) => provenByReadBack(connector, entries, signal), clock);
    } catch (err) {
      if (stop.aborted) return null;
      throw err;
    }
  }
}
