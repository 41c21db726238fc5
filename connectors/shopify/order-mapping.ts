import type { InventoryEvent, Logger, OrderLine } from '../../core/sdk.ts';
import { orderEvent, orderEventId } from '../_kit/order-events.ts';
import { gidTail } from './api.ts';
import type { OrderBody } from './order-body.ts';
import type { ShopifySkuMapping } from './options.ts';
import type { RefundBody } from './refund-body.ts';

/**
 * The one place where what Shopify says about an order becomes inventory events, whether it came as a
 * webhook body or from the orders API, so both give the same events with the same ids.
 */
export interface ShopifyOrderMapping {
  /** An order: its confirmation, and its cancellation when it is cancelled. */
  orderEvents(order: OrderBody): InventoryEvent[];
  /** A refund: line-level cancellations (`cancel`) and returns (the other restock types), keyed by the refund id. */
  refundEvents(refund: RefundBody): InventoryEvent[];
}

export function createOrderMapping(channelId: string, skus: Readonly<Record<string, ShopifySkuMapping>>, logger: Logger): ShopifyOrderMapping {
  // Order lines carry variant_id: map it back to the hub SKU when the seller told us the variant.
  const skuByVariant = new Map<string, string>();
  for (const [sku, mapping] of Object.entries(skus)) if (mapping.variantId) skuByVariant.set(gidTail(mapping.variantId), sku);
  const skuOf = (line: { variantId: string | null; sku: string | null }): string | undefined =>
    (line.variantId !== null ? skuByVariant.get(line.variantId) : undefined) ?? line.sku ?? undefined;

  return {
    orderEvents(order) {
      const totals = new Map<string, number>();
      for (const line of order.lines) {
        const sku = skuOf(line);
        if (!sku) {
          logger.debug('order line without SKU ignored', { orderId: order.id, title: line.title });
          continue;
        }
        totals.set(sku, (totals.get(sku) ?? 0) + line.quantity);
      }
      if (totals.size === 0) return [];
      const lines: OrderLine[] = [...totals].map(([sku, qty]) => ({ sku, qty }));
      const confirmed = orderEvent(channelId, 'order.confirmed', { orderId: order.id, occurredAt: order.createdAt, reference: order.name, lines });
      if (!order.cancelledAt) return [confirmed];
      // A cancellation implies the order existed: both events go out (ids collapse repeats), so a
      // cancellation that overtakes its orders/create still nets to zero in the ledger.
      const cancelled = orderEvent(channelId, 'order.cancelled', { orderId: order.id, occurredAt: order.cancelledAt, reference: order.name, lines });
      return [confirmed, cancelled];
    },

    /**
     * A refund's lines by what Shopify did with the stock: `cancel` (never fulfilled) is a line-level
     * cancellation, so it counts against an oversold part first; `return` and `legacy_restock` went back into
     * stock; `no_restock` did not. One event per kind, keyed by the refund id, so a redelivery counts once.
     */
    refundEvents(refund) {
      const cancelled = new Map<string, number>();
      const returned = new Map<string, { qty: number; restock: number }>();
      for (const line of refund.lines) {
        const sku = skuOf(line);
        if (!sku) {
          logger.debug('refund line without SKU ignored', { orderId: refund.orderId, refundId: refund.id });
          continue;
        }
        if (line.restockType === 'cancel') {
          cancelled.set(sku, (cancelled.get(sku) ?? 0) + line.quantity);
          continue;
        }
        const entry = returned.get(sku) ?? { qty: 0, restock: 0 };
        entry.qty += line.quantity;
        if (line.restockType !== 'no_restock') entry.restock += line.quantity;
        returned.set(sku, entry);
      }
      const facts = { orderId: refund.orderId, occurredAt: refund.createdAt };
      const events: InventoryEvent[] = [];
      if (cancelled.size > 0) {
        const lines = [...cancelled].map(([sku, qty]) => ({ sku, qty }));
        events.push(orderEvent(channelId, 'order.cancelled', { ...facts, lines, part: `refund-${refund.id}` }));
      }
      if (returned.size > 0) {
        events.push({
          id: orderEventId(channelId, refund.orderId, 'order.returned', refund.id),
          type: 'order.returned',
          channel: channelId,
          ...facts,
          lines: [...returned].map(([sku, r]) => ({ sku, qty: r.qty, restock: r.restock })),
        });
      }
      return events;
    },
  };
}
