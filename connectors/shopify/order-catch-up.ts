import type { Logger, OrderPage } from '../../core/sdk.ts';
import type { AdminClient } from './admin-client.ts';
import type { OrderBody } from './order-body.ts';
import type { ShopifyOrderMapping } from './order-mapping.ts';
import { orderBodyOfNode, refundBodyOfNode } from './order-node.ts';
import { ORDER_QUERY, ORDER_REFUNDS, ORDERS_PAGE, ORDERS_QUERY, type OrderData, type OrderNode, type OrdersData } from './order-queries.ts';
import type { RefundBody } from './refund-body.ts';
import { decodeSinceCursor, encodeSinceCursor, laterInstant, type SinceCursor } from '../_kit/since-cursor.ts';

/**
 * How far before its cursor a pass reads: Shopify's search index trails writes by a few seconds, and an order
 * updated while a pass ran must not fall between two passes.
 */
export const ORDER_OVERLAP_MS = 2 * 60_000;

/** Where catch-up stands: a pass reads orders updated at or after `since` minus the overlap. */
interface OrderCursor extends SinceCursor {
  /** ISO instant: the latest `updatedAt` read by the last finished pass (or the first call's time). */
  since: string;
  /** The `orders` connection's endCursor within the pass under way. */
  after?: string;
  /** The latest `updatedAt` read so far in the pass under way. */
  seen?: string;
}

const encode = (cursor: OrderCursor): string => encodeSinceCursor(cursor);
const decode = (text: string | undefined, logger: Logger): OrderCursor | undefined => decodeSinceCursor<OrderCursor>(text, logger);
const later = laterInstant;

/**
 * One page of missed-order catch-up: orders updated since the cursor (less the overlap), oldest update first,
 * with the events their webhooks give. An order whose refunds or lines do not fit the list page is read again
 * on its own with them.
 */
export async function listShopifyOrders(client: AdminClient, mapping: ShopifyOrderMapping, logger: Logger, cursorText: string | undefined, signal: AbortSignal): Promise<OrderPage> {
  const cursor = decode(cursorText, logger) ?? { v: 1, since: new Date().toISOString() };
  const from = new Date(Date.parse(cursor.since) - ORDER_OVERLAP_MS).toISOString();
  const body = await client.graphql<OrdersData>(ORDERS_QUERY, { first: ORDERS_PAGE, after: cursor.after ?? null, query: `updated_at:>='${from}'` }, 'the orders query', signal);
  const connection = body.data?.orders;
  const events = [];
  let seen = cursor.seen ?? cursor.since;
  for (const node of connection?.nodes ?? []) {
    const { order, refunds } = node.lineItems.pageInfo.hasNextPage || node.refunds.length > 0 ? await readWhole(client, node, logger, signal) : { order: orderBodyOfNode(node), refunds: [] };
    events.push(...mapping.orderEvents(order), ...refunds.flatMap((refund) => mapping.refundEvents(refund)));
    seen = later(seen, order.updatedAt ?? order.createdAt);
  }
  const more = connection?.pageInfo.hasNextPage === true && typeof connection.pageInfo.endCursor === 'string';
  const next: OrderCursor = more ? { v: 1, since: cursor.since, after: connection!.pageInfo.endCursor!, seen } : { v: 1, since: seen };
  return { events, cursor: encode(next), more };
}

/** The order with all its lines and refunds, as far as one `order` query holds them. */
async function readWhole(client: AdminClient, listed: OrderNode, logger: Logger, signal: AbortSignal): Promise<{ order: OrderBody; refunds: RefundBody[] }> {
  const body = await client.graphql<OrderData>(ORDER_QUERY, { id: listed.id }, 'the order query', signal);
  const node = body.data?.order ?? listed;
  const order = orderBodyOfNode(node);
  const tooLong = node.lineItems.pageInfo.hasNextPage || node.refunds.length >= ORDER_REFUNDS || node.refunds.some((r) => r.refundLineItems?.pageInfo.hasNextPage);
  if (tooLong) logger.warn('order has more lines or refunds than one read holds; catch-up counts those it read', { orderId: order.id });
  return { order, refunds: body.data?.order ? node.refunds.map((refund) => refundBodyOfNode(refund, order)) : [] };
}
