import type { InventoryEvent, OrderLine as EventLine } from '../../core/sdk.ts';
import { orderEvent } from '../_kit/order-events.ts';
import type { OrderSummary } from './notification-payload.ts';

/**
 * The inventory events of one eBay order as the Fulfillment API reads it (`getOrder` after a notification, or
 * `getOrders` in the catch-up): both paths come here, so an order found either way yields the same event ids.
 *
 * - Every order is a confirmation of its lines, summed per hub SKU; lines without a SKU are not the hub's.
 * - `cancelStatus.cancelState` CANCELED adds the cancellation, always with the confirmation it implies, so the
 *   two net to zero whichever is applied first: an order placed and cancelled before its notification was read
 *   restocks nothing it never took.
 * - What eBay's Order does not carry is not guessed: a cancellation covers the whole order (`cancelRequests`
 *   name no lines or units), and line refunds (`lineItems[].refunds`) hold amounts and dates, with no units and
 *   no restock information; returns live in the Post-Order API, outside this contract.
 */
export function ebayOrderEvents(
  channelId: string,
  order: OrderSummary,
  hubSku: (ebaySku: string) => string,
  onSkuless: (line: OrderSummary['lines'][number]) => void = () => {},
  eventDate?: string,
): InventoryEvent[] {
  const quantities = new Map<string, number>();
  for (const line of order.lines) {
    if (line.sku === undefined) {
      onSkuless(line);
      continue;
    }
    const sku = hubSku(line.sku);
    quantities.set(sku, (quantities.get(sku) ?? 0) + line.quantity);
  }
  if (quantities.size === 0) return [];
  const lines: EventLine[] = [...quantities].map(([sku, qty]) => ({ sku, qty }));
  const placedAt = order.creationDate ?? eventDate ?? order.lastModifiedDate ?? new Date().toISOString();
  const confirmed = orderEvent(channelId, 'order.confirmed', { orderId: order.orderId, occurredAt: placedAt, lines });
  if (order.cancelState !== 'CANCELED') return [confirmed];
  return [confirmed, orderEvent(channelId, 'order.cancelled', { orderId: order.orderId, occurredAt: order.lastModifiedDate ?? placedAt, lines })];
}
