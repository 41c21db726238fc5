import { RejectedError, RetryableError, type InventoryEvent, type OrderPage } from '../../core/sdk.ts';
import type { HttpResponse } from '../_kit/http-client.ts';
import { ORDERS_PATH, type OrderSearchPagedCollection } from './api.ts';
import { readOrder, type OrderSummary } from './notification-payload.ts';
import { decodeOrderCursor, encodeOrderCursor, FIRST_PASS_LOOKBACK_MS, ORDER_OVERLAP_MS, type OrderCursor } from './order-cursor.ts';

/** Orders per getOrders page: eBay's default. */
export const ORDERS_PAGE = 50;
/**
 * Orders read again at each page boundary. eBay documents no sort order for getOrders and the filter is
 * open-ended, so an order changed while a pass pages through may shift the rest of the set; starting each page a
 * few orders early keeps a shifted order from falling between two pages (a re-read order yields the same ids).
 */
export const PAGE_OVERLAP = 5;

export interface OrderListerDeps {
  /** A GET with a current user token, its status judged (429 and 5xx thrown). */
  get(path: string, what: string, signal: AbortSignal): Promise<HttpResponse>;
  /** The events of one order, exactly as the notification path makes them. */
  eventsOf(order: OrderSummary): InventoryEvent[];
  now?: () => number;
}

/** Missed-order catch-up for eBay: Fulfillment `getOrders` filtered by `lastmodifieddate`, paged by offset. */
export function createOrderLister(deps: OrderListerDeps): (cursor: string | undefined, signal: AbortSignal) => Promise<OrderPage> {
  const now = deps.now ?? Date.now;
  return async (cursor, signal) => {
    const started = now();
    const at: OrderCursor = cursor === undefined ? { since: started - FIRST_PASS_LOOKBACK_MS, offset: 0, within: true } : decodeOrderCursor(cursor);
    const from = at.within ? at.since : at.since - ORDER_OVERLAP_MS;
    // An open-ended range: eBay refuses an end date in its future (30850), and our clock may run ahead of eBay's.
    const query = new URLSearchParams({ filter: `lastmodifieddate:[${new Date(from).toISOString()}..]`, limit: String(ORDERS_PAGE), offset: String(at.offset) });
    const res = await deps.get(`${ORDERS_PATH}?${query.toString()}`, 'getOrders', signal);
    if (res.status === 400) throw new RejectedError(`eBay refused the getOrders query: ${JSON.stringify((res.body as { errors?: unknown } | undefined)?.errors ?? res.body).slice(0, 300)}`);
    if (res.status !== 200) throw new RetryableError(`eBay answered ${res.status} to getOrders`);
    const page = (res.body ?? {}) as OrderSearchPagedCollection;
    const rows: unknown[] = Array.isArray(page.orders) ? page.orders : [];
    const total = Number.isSafeInteger(page.total) ? (page.total as number) : at.offset + rows.length;

    const events: InventoryEvent[] = [];
    let last = from;
    for (const row of rows) {
      const order = readOrder(row);
      if (order.lastModifiedDate) last = Math.max(last, Date.parse(order.lastModifiedDate));
      events.push(...deps.eventsOf(order));
    }
    const read = at.offset + rows.length;
    if (rows.length > 0 && read < total) {
      const offset = rows.length > PAGE_OVERLAP ? read - PAGE_OVERLAP : read;
      return { events, cursor: encodeOrderCursor({ since: from, offset, within: true }), more: true };
    }
    return { events, cursor: encodeOrderCursor({ since: Math.max(last, started), offset: 0, within: false }), more: false };
  };
}
