import type { InventoryEvent } from '../../core/sdk.ts';
import { orderEvent } from '../_kit/order-events.ts';
import type { OrderDetail, OrderLineItem } from './order-payload.ts';

/** The hub SKU of a line item (by its TikTok SKU id, else its seller SKU); undefined when it is none of ours. */
export type LineItemSkuResolver = (item: OrderLineItem) => string | undefined;

const CANCELLED = 'CANCELLED';

/** Units per hub SKU of some line items: TikTok lists one line item per unit sold. */
function units(items: readonly OrderLineItem[], resolveSku: LineItemSkuResolver): Array<{ sku: string; qty: number }> {
  const quantities = new Map<string, number>();
  for (const item of items) {
    const sku = resolveSku(item);
    if (sku !== undefined) quantities.set(sku, (quantities.get(sku) ?? 0) + 1);
  }
  return [...quantities].map(([sku, qty]) => ({ sku, qty }));
}

/**
 * The order events one TikTok order in its current state stands for. The webhook and the orders poll both call
 * this, so the same order in the same state gives the same ids however it was found:
 * - a cancelled order: `…:cancelled` with every unit;
 * - any other: `…:confirmed` with every unit, and for each unit cancelled on its own (line item
 *   `display_status` CANCELLED) `…:cancelled:<line item id>`, one fact per line item whatever else changes later.
 * A unit cancelled on its own and then again with the whole order is asked back twice; the ledger restores only
 * what the order line still holds, so it comes back once.
 */
export function tiktokOrderEvents(channelId: string, order: OrderDetail, resolveSku: LineItemSkuResolver): InventoryEvent[] {
  const all = units(order.lineItems, resolveSku);
  if (all.length === 0) return [];
  if (order.status === CANCELLED) return [orderEvent(channelId, 'order.cancelled', { orderId: order.id, occurredAt: order.cancelledAt, lines: all })];
  const events: InventoryEvent[] = [orderEvent(channelId, 'order.confirmed', { orderId: order.id, occurredAt: order.createdAt, lines: all })];
  for (const item of order.lineItems) {
    if (item.status !== CANCELLED || item.id === undefined) continue;
    const lines = units([item], resolveSku);
    if (lines.length > 0) events.push(orderEvent(channelId, 'order.cancelled', { orderId: order.id, occurredAt: order.cancelledAt, lines, part: item.id }));
  }
  return events;
}
