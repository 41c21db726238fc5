import type { Logger, OrderPage } from '../../core/sdk.ts';
import { headerNumber } from '../_kit/http-client.ts';
import { API_PREFIX } from './api.ts';
import { readWooOrderBody, type WooOrderBody } from './order-body.ts';
import type { WooOrderMapping } from './order-mapping.ts';
import { readWooRefund, type WooRefund } from './refund-body.ts';
import type { StoreClient } from './store-client.ts';
import { decodeSinceCursor, encodeSinceCursor, laterInstant, type SinceCursor } from '../_kit/since-cursor.ts';

/**
 * How far before its cursor a pass reads: `modified_after` compares with the second-resolution
 * date_modified_gmt, and an order saved while a pass ran must not fall between two passes.
 */
export const ORDER_OVERLAP_MS = 2 * 60_000;
/** Orders per page (the REST API's maximum `per_page` is 100). */
export const ORDERS_PER_PAGE = 50;
/** Refunds read per order. */
export const REFUNDS_PER_PAGE = 100;

/** Where catch-up stands: a pass reads orders modified after `since` minus the overlap, page by page. */
interface OrderCursor extends SinceCursor {
  /** ISO instant: the latest date_modified_gmt read by the last finished pass (or the first call's time). */
  since: string;
  /** The next page of the pass under way (1-based). */
  page?: number;
  /** The latest date_modified_gmt read so far in the pass under way. */
  seen?: string;
}

const encode = (cursor: OrderCursor): string => encodeSinceCursor(cursor);
const decode = (text: string | undefined, logger: Logger): OrderCursor | undefined => decodeSinceCursor<OrderCursor>(text, logger);
const later = laterInstant;
/** `modified_after` as WordPress reads it with dates_are_gmt: a GMT date-time without zone, to the second. */
const gmtParam = (at: number): string => new Date(at).toISOString().slice(0, 19);

/** Every refund of an order, with its lines, from GET /orders/<id>/refunds. */
export async function readRefunds(client: StoreClient, orderId: string, signal: AbortSignal): Promise<WooRefund[]> {
  const refunds: WooRefund[] = [];
  for (let page = 1; ; page += 1) {
    const res = await client.request('GET', `${API_PREFIX}/orders/${orderId}/refunds?per_page=${REFUNDS_PER_PAGE}&page=${page}`, signal);
    const list = Array.isArray(res.body) ? res.body : [];
    list.forEach((refund, i) => refunds.push(readWooRefund(refund, i)));
    if (page >= (headerNumber(res.headers, 'x-wp-totalpages') ?? 1)) return refunds;
  }
}

/**
 * One page of missed-order catch-up: orders modified since the cursor (less the overlap), by id ascending, so a
 * page boundary never moves while the pass runs (new orders join the end), with the events their webhooks give.
 */
export async function listWooOrders(client: StoreClient, mapping: WooOrderMapping, logger: Logger, cursorText: string | undefined, signal: AbortSignal): Promise<OrderPage> {
  const cursor = decode(cursorText, logger) ?? { v: 1, since: new Date().toISOString() };
  const page = cursor.page ?? 1;
  const query = new URLSearchParams({
    modified_after: gmtParam(Date.parse(cursor.since) - ORDER_OVERLAP_MS),
    dates_are_gmt: 'true',
    orderby: 'id',
    order: 'asc',
    per_page: String(ORDERS_PER_PAGE),
    page: String(page),
  });
  const res = await client.request('GET', `${API_PREFIX}/orders?${query}`, signal);
  const raw = Array.isArray(res.body) ? res.body : [];
  const events = [];
  let seen = cursor.seen ?? cursor.since;
  for (const item of raw) {
    // The same reader as the webhook body's, so an order reads the same whichever way it came.
    const order: WooOrderBody | undefined = readWooOrderBody(Buffer.from(JSON.stringify(item)));
    if (!order) continue;
    const refunds = mapping.needsRefunds(order) ? await readRefunds(client, order.id, signal) : [];
    events.push(...mapping.orderEvents(order, refunds));
    seen = later(seen, order.modifiedAt ?? order.createdAt);
  }
  const more = page < (headerNumber(res.headers, 'x-wp-totalpages') ?? 1);
  const next: OrderCursor = more ? { v: 1, since: cursor.since, page: page + 1, seen } : { v: 1, since: seen };
  return { events, cursor: encode(next), more };
}
