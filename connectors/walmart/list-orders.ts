import { RetryableError, type InventoryEvent, type OrderPage } from '../../core/sdk.ts';
import type { HttpRequest, HttpResponse } from '../_kit/http-client.ts';
import { decodeSearchCursor, encodeSearchCursor, nextSearchStart } from '../_kit/search-cursor.ts';
import { ORDERS_PAGE_LIMIT, ORDERS_PATH, type WalmartOrderList } from './api.ts';
import { poConfirmed, poLineCancellations, type PoEventScope } from './po-events.ts';
import { readWalmartOrderObject } from './po-notification.ts';

/** The first catch-up ever starts this long before now. */
export const FIRST_LOOKBACK_MS = 15 * 60_000;
/** Each search starts this long before the previous one ended, so an order Walmart indexes late is still found. */
export const SEARCH_OVERLAP_MS = 2 * 60_000;
/** How far before the search's start a PO may have been created and still be found changed. */
const CREATED_REACH_MS = 30 * 24 * 3600_000;
/** Walmart serves orders created in the last 180 days; a day is kept as margin. */
const MAX_CREATED_AGE_MS = 179 * 24 * 3600_000;

export interface OrderListDeps {
  request(req: Omit<HttpRequest, 'headers'>): Promise<HttpResponse>;
  scope: PoEventScope;
  describe(body: unknown): string;
}

/**
 * Missed-order catch-up through `GET /v3/orders`: the POs modified since the cursor (`lastModifiedStartDate`, so a
 * cancellation of an older PO is found too), one page per call. Each PO gives its confirmation and one cancellation per
 * cancelled line, exactly as the webhooks do. While Walmart pages, the cursor keeps its `nextCursor` query string.
 */
export function createOrderList(deps: OrderListDeps): (cursor: string | undefined, signal: AbortSignal) => Promise<OrderPage> {
  return async (cursor, signal) => {
    const { after, page } = decodeSearchCursor('walmart', cursor, FIRST_LOOKBACK_MS);
    // Walmart's `createdStartDate` defaults to seven days back, which would hide a cancellation of an older PO: the
    // search reaches back further, within the 180 days the API serves.
    const createdStart = Math.max(Date.parse(after) - CREATED_REACH_MS, Date.now() - MAX_CREATED_AGE_MS);
    const query =
      page ?? `?${new URLSearchParams({ lastModifiedStartDate: after, createdStartDate: new Date(createdStart).toISOString(), limit: String(ORDERS_PAGE_LIMIT) }).toString()}`;
    const calledAt = Date.now();
    const res = await deps.request({ method: 'GET', path: `${ORDERS_PATH}${query}`, signal });
    if (res.status !== 200) throw new RetryableError(`walmart GET ${ORDERS_PATH} answered ${res.status}: ${deps.describe(res.body)}`);
    const list = (res.body as Partial<WalmartOrderList> | undefined)?.list;
    const orders = list?.elements?.order;
    if (!Array.isArray(orders)) throw new RetryableError(`walmart GET ${ORDERS_PATH} answered without list.elements.order`);
    const events = new Map<string, InventoryEvent>();
    for (const raw of orders) {
      const order = readWalmartOrderObject(raw);
      if (!order) throw new RetryableError(`walmart GET ${ORDERS_PATH} answered an order without readable lines`);
      const placedAt = order.orderDate ?? new Date(calledAt).toISOString();
      const found = [
        ...poConfirmed(deps.scope, order.purchaseOrderId, placedAt, order.lines),
        ...order.lines
          .filter((line) => line.cancelledQty > 0)
          .flatMap((line) => poLineCancellations(deps.scope, order.purchaseOrderId, line.statusDate ?? placedAt, [{ ...line, qty: line.cancelledQty }])),
      ];
      for (const event of found) events.set(event.id, event);
    }
    const next = list?.meta?.nextCursor;
    // The next page's query string, as Walmart wrote it; anything else is not sent anywhere.
    if (typeof next === 'string' && next.startsWith('?') && !/[\s#]/.test(next) && orders.length > 0) {
      return { events: [...events.values()], cursor: encodeSearchCursor({ after, page: next }), more: true };
    }
    return { events: [...events.values()], cursor: encodeSearchCursor({ after: nextSearchStart(after, calledAt, SEARCH_OVERLAP_MS) }), more: false };
  };
}
