import { RetryableError, type InventoryEvent, type OrderPage } from '../../core/sdk.ts';
import type { HttpResponse } from '../_kit/http-client.ts';
import { ordersPath } from './api.ts';
import { decodeOrderCursor, encodeOrderCursor, FIRST_PASS_LOOKBACK_MS, ORDER_OVERLAP_MS, type OrderCursor } from './order-cursor.ts';
import { readOrder, type OrderContent } from './read-order.ts';

/** Orders per list page: the API's default, so one page of orders and their products stays a small burst of calls. */
export const ORDERS_PAGE = 50;

export interface OrderListerDeps {
  storeHash: string;
  /** A paced, judged GET (the channel's shared request quota). */
  get<T>(path: string, signal: AbortSignal): Promise<HttpResponse & { body: T }>;
  /** The events of one order, exactly as the webhook path makes them. */
  orderEventsOf(orderId: string, order: OrderContent, signal: AbortSignal): Promise<InventoryEvent[]>;
  now?: () => number;
}

/**
 * Missed-order catch-up for BigCommerce: `GET /v2/orders?min_date_modified=…&sort=date_modified:asc`, read as
 * keyset pages. Each full page moves `since` to the last order's `date_modified` (inclusive, so orders sharing
 * that second are read again, which their ids make harmless); a page whose orders all share one second moves to
 * the next page number instead, so a burst of orders in one second is still read through.
 */
export function createOrderLister(deps: OrderListerDeps): (cursor: string | undefined, signal: AbortSignal) => Promise<OrderPage> {
  const now = deps.now ?? Date.now;
  return async (cursor, signal) => {
    const started = now();
    const at: OrderCursor = cursor === undefined ? { since: started - FIRST_PASS_LOOKBACK_MS, page: 1, within: true } : decodeOrderCursor(cursor);
    const from = at.within ? at.since : at.since - ORDER_OVERLAP_MS;
    const query = new URLSearchParams({
      min_date_modified: new Date(from).toISOString(),
      sort: 'date_modified:asc',
      limit: String(ORDERS_PAGE),
      page: String(at.page),
    });
    const res = await deps.get<unknown>(`${ordersPath(deps.storeHash)}?${query.toString()}`, signal);
    let rows: unknown[];
    if (res.status === 204) rows = [];
    else if (res.status === 200 && Array.isArray(res.body)) rows = res.body;
    else throw new RetryableError(`bigcommerce answered ${res.status} to the order list${res.status === 200 ? ' without an array' : ''}`);

    const events: InventoryEvent[] = [];
    let last = from;
    for (const row of rows) {
      const id = (row as { id?: unknown } | null)?.id;
      if (!Number.isSafeInteger(id) || (id as number) < 1) throw new RetryableError('bigcommerce listed an order without a usable id');
      const orderId = String(id);
      const order = readOrder(row, orderId);
      last = Math.max(last, Date.parse(order.modifiedAt));
      events.push(...(await deps.orderEventsOf(orderId, order, signal)));
    }
    if (rows.length >= ORDERS_PAGE) {
      const next: OrderCursor = last > from ? { since: last, page: 1, within: true } : { since: from, page: at.page + 1, within: true };
      return { events, cursor: encodeOrderCursor(next), more: true };
    }
    // The pass is over. The next one starts from the newest change seen or the time this read began, whichever is
    // later, less the overlap.
    return { events, cursor: encodeOrderCursor({ since: Math.max(last, started), page: 1, within: false }), more: false };
  };
}
