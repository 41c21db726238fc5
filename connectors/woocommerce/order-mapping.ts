import type { InventoryEvent, Logger, OrderLine } from '../../core/sdk.ts';
import { orderEvent, orderEventId } from '../_kit/order-events.ts';
import { STOCK_RETURNED_STATUSES, STOCK_TAKEN_STATUSES } from './api.ts';
import type { WooOrderBody, WooOrderLine } from './order-body.ts';
import type { WooCommerceSkuMapping } from './options.ts';
import type { WooRefund } from './refund-body.ts';

/**
 * The one place where what WooCommerce says about an order becomes inventory events, whether the order came as
 * a webhook body or from the orders API, so both give the same events with the same ids.
 */
export interface WooOrderMapping {
  /** Whether the order's refunds matter for its events (their lines must then be read from the refunds endpoint). */
  needsRefunds(order: WooOrderBody): boolean;
  /** The order's events: its confirmation, its cancellation, and one return per refund with lines. */
  orderEvents(order: WooOrderBody, refunds: readonly WooRefund[]): InventoryEvent[];
}

/**
 * Statuses whose stock WooCommerce took: paid and on-hold orders, and `refunded`, an order paid and then refunded
 * in full. A refund restores stock through its lines (when the store restocks them), not through the status:
 * WooCommerce increases stock again on cancellation only.
 */
const TAKEN = new Set([...STOCK_TAKEN_STATUSES, 'refunded']);
/** Statuses that give back what the order took. */
const GIVEN_BACK = new Set([...STOCK_RETURNED_STATUSES].filter((status) => status !== 'refunded'));

export function createOrderMapping(channelId: string, skus: Readonly<Record<string, WooCommerceSkuMapping>>, restockRefunds: boolean, logger: Logger): WooOrderMapping {
  // Order lines carry product_id and variation_id: map them back to hub SKUs.
  const skuById = new Map<string, string>();
  for (const [sku, m] of Object.entries(skus)) skuById.set(`${m.productId}:${m.variationId ?? 0}`, sku);
  const totals = (orderId: string, lines: readonly WooOrderLine[]): Map<string, number> => {
    const bySku = new Map<string, number>();
    for (const line of lines) {
      const sku = skuById.get(`${line.productId}:${line.variationId}`) ?? line.sku ?? undefined;
      if (!sku) {
        logger.debug('order line without SKU ignored', { orderId, name: line.name });
        continue;
      }
      bySku.set(sku, (bySku.get(sku) ?? 0) + line.quantity);
    }
    return bySku;
  };
  const counts = (order: WooOrderBody): boolean => TAKEN.has(order.status) || GIVEN_BACK.has(order.status);

  return {
    needsRefunds: (order) => counts(order) && order.refundIds.length > 0,

    orderEvents(order, refunds) {
      // pending / checkout-draft orders have not taken stock yet; their later order.updated will.
      if (!counts(order)) return [];
      const bySku = totals(order.id, order.lines);
      if (bySku.size === 0) return [];
      const lines: OrderLine[] = [...bySku].map(([sku, qty]) => ({ sku, qty }));
      const facts = { orderId: order.id, reference: order.number, lines };
      const events: InventoryEvent[] = [orderEvent(channelId, 'order.confirmed', { ...facts, occurredAt: order.createdAt })];
      // A refund's lines came back to the store; whether WooCommerce restocked them is the store's setting
      // (api_restock / "Restock refunded items"), which the refund object does not carry.
      for (const refund of refunds) {
        const returned = totals(order.id, refund.lines);
        if (returned.size === 0) continue;
        events.push({
          id: orderEventId(channelId, order.id, 'order.returned', refund.id),
          type: 'order.returned',
          channel: channelId,
          occurredAt: refund.createdAt,
          orderId: order.id,
          ...(order.number !== undefined ? { reference: order.number } : {}),
          lines: [...returned].map(([sku, qty]) => ({ sku, qty, restock: restockRefunds ? qty : 0 })),
        });
      }
      // A cancelled or failed order: the confirmation goes out too (ids collapse repeats) so the ledger nets to
      // zero whether or not the confirmation was seen first.
      if (GIVEN_BACK.has(order.status)) events.push(orderEvent(channelId, 'order.cancelled', { ...facts, occurredAt: order.modifiedAt ?? order.createdAt }));
      return events;
    },
  };
}
