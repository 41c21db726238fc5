import type { InventoryEvent, Logger, OrderLine } from '../../core/sdk.ts';
import { orderEvent } from '../_kit/order-events.ts';
import type { OrderFacts } from './order-change.ts';

/**
 * The events of one Amazon order, wherever it was read (an ORDER_CHANGE notification, `getOrder`, `searchOrders`):
 * every path goes through here, so the same order in the same state always gives the same event ids. A cancelled
 * order yields its confirmation too, so the pair nets out in any arrival order, and an order cancelled before any
 * of its confirmations was applied takes nothing. Amazon cancels whole orders only: the Orders model's item-level
 * `cancellation` names who cancelled and why, never how many units.
 */
export function amazonOrderEvents(
  channelId: string,
  orderId: string,
  order: OrderFacts,
  hubSkuBySellerSku: ReadonlyMap<string, string>,
  logger: Logger,
): InventoryEvent[] {
  if (order.fulfilledByAmazon) {
    // Amazon ships these from its own warehouses (FBA): the stock this hub keeps is the seller's own.
    logger.info('amazon order fulfilled by Amazon (FBA) left out: it does not draw on the seller\'s stock', { orderId });
    return [];
  }
  const quantities = new Map<string, number>();
  for (const item of order.items) {
    const hubSku = hubSkuBySellerSku.get(item.sellerSku);
    if (!hubSku) {
      logger.warn('amazon order line for an unmapped seller SKU ignored', { orderId, sellerSku: item.sellerSku });
      continue;
    }
    if (item.quantity > 0) quantities.set(hubSku, (quantities.get(hubSku) ?? 0) + item.quantity);
  }
  const lines: OrderLine[] = [...quantities].map(([sku, qty]) => ({ sku, qty }));
  if (lines.length === 0) return [];
  const purchasedAt = order.purchasedAt ?? order.changedAt ?? new Date().toISOString();
  const confirmed = orderEvent(channelId, 'order.confirmed', { orderId, occurredAt: purchasedAt, reference: orderId, lines });
  if (!order.cancelled) return [confirmed];
  return [confirmed, orderEvent(channelId, 'order.cancelled', { orderId, occurredAt: order.changedAt ?? purchasedAt, reference: orderId, lines })];
}
