import { isThrottledError, RetryableError, TokenBucket, type InventoryEvent, type OrderPage } from '../../core/sdk.ts';
import type { HttpRequest, HttpResponse } from '../_kit/http-client.ts';
import { decodeSearchCursor, encodeSearchCursor, nextSearchStart } from '../_kit/search-cursor.ts';
import { ORDERS_PATH, SEARCH_ORDERS_PAGE_MAX, SEARCH_ORDERS_RATE, type SearchOrdersResponse } from './api.ts';
import type { OrderFacts } from './order-change.ts';
import { readOrdersApiOrder } from './orders-api-order.ts';

/** The first catch-up ever starts this long before now. */
export const FIRST_LOOKBACK_MS = 15 * 60_000;
/** Each search starts this long before the previous one ended: Amazon indexes an order change a little late. */
export const SEARCH_OVERLAP_MS = 5 * 60_000;

export interface OrderSearchDeps {
  marketplaceId: string;
  /** Sends one `searchOrders` call (token, pacing, status ladder already handled). */
  request(req: Omit<HttpRequest, 'headers'>): Promise<HttpResponse>;
  /** The events of one order, exactly as the notification path makes them. */
  events(orderId: string, facts: OrderFacts): InventoryEvent[];
  describe(body: unknown): string;
}

/**
 * Missed-order catch-up through Orders 2026-01-01 `searchOrders`: the merchant-fulfilled orders of the marketplace
 * updated since the cursor, one page per call. While Amazon pages one search, the cursor keeps the search's start
 * (the model requires every parameter but the page size to stay the same with `paginationToken`); after its last
 * page the next search starts at the end Amazon reported (`lastUpdatedBefore`, else the time of the call), minus the overlap.
 */
export function createOrderSearch(deps: OrderSearchDeps): (cursor: string | undefined, signal: AbortSignal) => Promise<OrderPage> {
  // One token under Amazon's burst. Once it is spent a call is allowed every three minutes: rather than hold the
  // host's poll that long, or answer "throttled" (which would pause the channel's pushes, whose usage plan is another
  // one), the poll reads nothing now and keeps its cursor; the next poll carries on from there.
  const bucket = new TokenBucket(SEARCH_ORDERS_RATE.perSecond, SEARCH_ORDERS_RATE.burst - 1);
  return async (cursor, signal) => {
    const { after, page } = decodeSearchCursor('amazon', cursor, FIRST_LOOKBACK_MS);
    if (!bucket.tryTake()) return { events: [], cursor: encodeSearchCursor(page === undefined ? { after } : { after, page }), more: false };
    try {
      return await searchPage(after, page, signal);
    } catch (err) {
      // Amazon's usage plans are per operation: a 429 on searchOrders says nothing about patchListingsItem.
      if (isThrottledError(err)) throw new RetryableError(`amazon searchOrders throttled: ${(err as Error).message}`, { cause: err });
      throw err;
    }
  };

  async function searchPage(after: string, page: string | undefined, signal: AbortSignal): Promise<OrderPage> {
    const query = new URLSearchParams({
      lastUpdatedAfter: after,
      marketplaceIds: deps.marketplaceId,
      // FBA orders never draw on the seller's stock; leaving them out saves pages of a 0.0056/s operation.
      fulfilledBy: 'MERCHANT',
      maxResultsPerPage: String(SEARCH_ORDERS_PAGE_MAX),
      includedData: 'FULFILLMENT',
    });
    if (page !== undefined) query.set('paginationToken', page);
    const calledAt = Date.now();
    const res = await deps.request({ method: 'GET', path: `${ORDERS_PATH}?${query.toString()}`, signal });
    if (res.status !== 200) throw new RetryableError(`amazon searchOrders answered ${res.status}: ${deps.describe(res.body)}`);
    const body = res.body as Partial<SearchOrdersResponse> | undefined;
    if (!Array.isArray(body?.orders)) throw new RetryableError('amazon searchOrders answered without an orders list');
    const events = new Map<string, InventoryEvent>();
    for (const order of body.orders) {
      const facts = readOrdersApiOrder({ order });
      const orderId = (order as { orderId?: unknown } | null)?.orderId;
      // An order that cannot be read is not skipped silently: the page is read again later, as a whole.
      if (!facts || typeof orderId !== 'string') throw new RetryableError('amazon searchOrders answered an order without readable items');
      for (const event of deps.events(orderId, facts)) events.set(event.id, event);
    }
    const nextToken = body.pagination?.nextToken;
    if (typeof nextToken === 'string' && nextToken.length > 0) {
      return { events: [...events.values()], cursor: encodeSearchCursor({ after, page: nextToken }), more: true };
    }
    const reportedEnd = typeof body.lastUpdatedBefore === 'string' ? Date.parse(body.lastUpdatedBefore) : Number.NaN;
    const until = Number.isFinite(reportedEnd) ? Math.min(reportedEnd, calledAt) : calledAt;
    return { events: [...events.values()], cursor: encodeSearchCursor({ after: nextSearchStart(after, until, SEARCH_OVERLAP_MS) }), more: false };
  }
}
