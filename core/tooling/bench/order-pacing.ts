/** What {@link paceOrders} drives: the orders offered so far (read and moved on), and one order placed. */
export interface PacedOrders {
  /** Orders offered so far; `placeOne` counts each it places. */
  offered(): number;
  /** Moves the count on without placing: orders a stalled timer can no longer place in time. */
  skipTo(offered: number): void;
  placeOne(): void;
}

/**
 * Places `rate` orders a second from `start` until `end` (`performance.now()` ms), and resolves at `end`.
 * Orders due so far follow the wall clock, so a late timer catches up instead of lowering the rate; at most
 * a tenth of a second is caught up at once, so a stalled thread does not burst.
 */
export function paceOrders(rate: number, start: number, end: number, orders: PacedOrders): Promise<void> {
  return new Promise<void>((resolve) => {
    const tick = (): void => {
      const now = performance.now();
      if (now >= end) {
        clearInterval(timer);
        resolve();
        return;
      }
      const due = Math.floor(((now - start) / 1000) * rate);
      const offered = orders.offered();
      let owed = Math.min(due - offered, Math.ceil(rate / 10));
      if (due - offered > owed) orders.skipTo(due - owed);
      while (owed-- > 0) orders.placeOne();
    };
    const timer = setInterval(tick, 5);
  });
}
