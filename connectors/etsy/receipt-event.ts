import type { InventoryEvent } from '../../core/sdk.ts';
import { orderEvent } from '../_kit/order-events.ts';
import type { ReceiptContent } from './read-receipt.ts';

/** Finds the hub SKU of a receipt line from its listing and product SKU; undefined when it is none of ours. */
export type ReceiptSkuResolver = (listingId: number | undefined, productSku: string | undefined) => string | undefined;

/**
 * The one order event a receipt stands for, or undefined when it moves no stock of ours. The webhook and the
 * orders poll both call this, so the same receipt in the same state gives the same event id however it was
 * found: a cancelled (or fully refunded) receipt gives `…:cancelled`, any other `…:confirmed`.
 */
export function receiptEvent(channelId: string, receiptId: string, receipt: ReceiptContent, resolveSku: ReceiptSkuResolver): InventoryEvent | undefined {
  const quantities = new Map<string, number>();
  for (const line of receipt.lines) {
    if (line.quantity === 0) continue;
    const sku = resolveSku(line.listingId, line.sku);
    if (sku === undefined) continue; // a product without a SKU cannot be one of ours
    quantities.set(sku, (quantities.get(sku) ?? 0) + line.quantity);
  }
  if (quantities.size === 0) return undefined;
  return orderEvent(channelId, receipt.cancelled ? 'order.cancelled' : 'order.confirmed', {
    orderId: receiptId,
    occurredAt: receipt.occurredAt,
    lines: [...quantities].map(([sku, qty]) => ({ sku, qty })),
  });
}
