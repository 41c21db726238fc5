import { describeError, isThrottledError, retryAfterOf } from '../internal.ts';
import type { InventoryEvent } from '../events/event-types.ts';
import type { Logger, OrderPage } from '../sdk.ts';
import type { Clock } from './clock.ts';
import type { CatchUpPoll, DispatchObserver } from './dispatch-types.ts';

/** Where a channel's catch-up cursor is kept (durable: it survives restarts and moves with the channel). */
export interface CatchUpCursorStore {
  /** The cursor stored last, or undefined before the first page ever. */
  get(): Promise<string | undefined>;
  /** Stores `cursor`; resolves once it is durable. */
  set(cursor: string): Promise<void>;
}

export interface OrderCatchUpOptions {
  channelId: string;
  /** A poll starts at most this often (pages of one poll follow each other as spare calls allow). */
  intervalMs: number;
  /** One page of the channel's orders since `cursor` (its `listOrders` under the call deadline); null: stopped. */
  list(cursor: string | undefined): Promise<OrderPage | null>;
  cursors: CatchUpCursorStore;
  /** Publishes the page's events to the inbound stream; resolves once every one is stored there. */
  publish(events: readonly InventoryEvent[]): Promise<void>;
  /** The channel answered with a throttle: the dispatcher pauses every call to it. */
  throttled(retryAfterMs: number | undefined): void;
  observer: DispatchObserver;
  clock: Clock;
  logger: Logger;
}

/**
 * Missed-order catch-up of one channel: reads the orders the channel changed since a durable cursor,
 * page by page, and publishes their events the way webhooks are published, so an order whose webhook was
 * lost for good still reaches the ledger (and one found twice counts once: same event ids).
 *
 * The cursor moves only after every event of its page is in the stream: a crash in between reads the page
 * again, and its event ids collapse. It decides when a page is wanted; the dispatcher decides when a call
 * is spare for it.
 */
export class OrderCatchUp {
  readonly #o: OrderCatchUpOptions;
  /** The first poll goes as soon as a call is spare: what was missed while no hub held the channel. */
  #nextAt = 0;
  #more = false;
  #polling = false;

  constructor(options: OrderCatchUpOptions) {
    this.#o = options;
  }

  /** Whether a page is wanted at `now`: the interval passed, or the last page said more are waiting. */
  wants(now: number): boolean {
    return !this.#polling && (this.#more || now >= this.#nextAt);
  }

  /** Epoch ms at which the next poll is due (0 while pages are waiting; Infinity while one is read). */
  get nextAt(): number {
    if (this.#polling) return Infinity;
    return this.#more ? 0 : this.#nextAt;
  }

  /** Reads one page, publishes it and stores its cursor. Never rejects. */
  async poll(): Promise<void> {
    const o = this.#o;
    this.#polling = true;
    try {
      const outcome = await this.#page();
      if (outcome) o.observer.catchUpPolled?.(o.channelId, outcome);
    } finally {
      if (!this.#more) this.#nextAt = o.clock.now() + o.intervalMs;
      this.#polling = false;
    }
  }

  async #page(): Promise<CatchUpPoll | null> {
    const o = this.#o;
    let stage = 'reading the stored cursor';
    try {
      const cursor = await o.cursors.get();
      stage = 'listing orders';
      const page = await o.list(cursor);
      if (page === null) return null;
      const problem = pageProblem(page);
      if (problem) throw new Error(`listOrders answered ${problem}`);
      stage = 'publishing the orders found';
      await o.publish(page.events);
      stage = 'storing the cursor';
      await o.cursors.set(page.cursor);
      this.#more = page.more;
      if (page.events.length > 0) o.logger.info('order catch-up: published orders the channel lists', { events: page.events.length, more: page.more });
      return { ok: true, events: page.events.length, at: o.clock.now() };
    } catch (err) {
      this.#more = false;
      const code = errorCode(err);
      if (isThrottledError(err)) o.throttled(retryAfterOf(err));
      o.logger.warn(`order catch-up: failed ${stage}; trying again at the next interval`, { code, error: describeError(err) });
      return { ok: false, code };
    }
  }
}

/** What is wrong with a page a plugin returned, or undefined when it is one. */
function pageProblem(page: unknown): string | undefined {
  if (typeof page !== 'object' || page === null) return 'no page';
  const { events, cursor, more } = page as Partial<OrderPage>;
  if (!Array.isArray(events)) return 'a page without an events array';
  if (typeof cursor !== 'string' || cursor.length === 0) return 'a page without a cursor string';
  if (typeof more !== 'boolean') return 'a page whose "more" is not a boolean';
  return undefined;
}

function errorCode(err: unknown): string {
  const code = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
  return typeof code === 'string' ? code : 'error';
}
