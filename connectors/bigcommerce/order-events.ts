import type { InventoryEvent, OrderLine as EventLine } from '../../core/sdk.ts';
import { orderEvent } from '../_kit/order-events.ts';
import { ORDER_STATUS, STOCK_RETURNED_STATUSES } from './api.ts';
import type { OrderContent, OrderLine } from './read-order.ts';

/**
 * The inventory events one BigCommerce order stands for, read from the v2 orders API. The webhook path and the
 * order catch-up both come here, so an order found either way yields the same event ids.
 *
 * - Incomplete orders (an abandoned checkout) took nothing: no event.
 * - Every other order is a confirmation of its lines, summed per hub SKU.
 * - Refunded, Cancelled and Declined give the stock back: the cancellation comes with the confirmation it
 *   implies, so the two net to zero whichever is applied first (cancel before confirm).
 * - Partially Refunded carries refunded units and amounts (`quantity_refunded`) but nothing about stock: the
 *   orders API has no restock information, so it stays a confirmation and the units stay taken.
 * - BigCommerce has no line-level cancellation: an order is cancelled as a whole.
 */
export function bigCommerceOrderEvents(
  channelId: string,
  orderId: string,
  order: OrderContent,
  products: readonly OrderLine[],
  hubSku: (line: OrderLine) => string | undefined,
): InventoryEvent[] {
  if (order.statusId === ORDER_STATUS.incomplete) return [];
  const totals = new Map<string, number>();
  for (const line of products) {
    const sku = hubSku(line);
    if (!sku || line.quantity === 0) continue;
    totals.set(sku, (totals.get(sku) ?? 0) + line.quantity);
  }
  if (totals.size === 0) return [];
  const lines: EventLine[] = [...totals].map(([sku, qty]) => ({ sku, qty }));
  const confirmed = orderEvent(channelId, 'order.confirmed', { orderId, occurredAt: order.createdAt, lines });
  if (!STOCK_RETURNED_STATUSES.has(order.statusId)) return [confirmed];
  return [confirmed, orderEvent(channelId, 'order.cancelled', { orderId, occurredAt: order.modifiedAt, lines })];
}
