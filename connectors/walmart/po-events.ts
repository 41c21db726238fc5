import type { InventoryEvent, Logger, OrderLine } from '../../core/sdk.ts';
import { orderEvent } from '../_kit/order-events.ts';

/** What turning Walmart purchase-order lines into events needs to know of the channel. */
export interface PoEventScope {
  channelId: string;
  hubSkuByWalmartSku: ReadonlyMap<string, string>;
  logger: Logger;
}

/**
 * The events of Walmart purchase orders, for the webhook path (PO_CREATED, PO_LINE_AUTOCANCELLED) and the catch-up
 * path (`GET /v3/orders`) alike, so one PO in one state gives the same event ids whichever path read it:
 * - `<channel>:order:<PO>:confirmed`: every line as ordered;
 * - `<channel>:order:<PO>:cancelled:<lineNumber>`: one per cancelled line, with its cancelled units. Walmart cancels
 *   per line (auto-cancellation takes whole lines; a seller's cancellation names a line and a quantity), so the line
 *   number tells the facts apart. A line cancelled again later keeps its id: only its first cancelled units count.
 */
export function poConfirmed(scope: PoEventScope, purchaseOrderId: string, occurredAt: string, lines: ReadonlyArray<{ sku: string; qty: number }>): InventoryEvent[] {
  const orderLines = hubLines(scope, purchaseOrderId, lines);
  if (orderLines.length === 0) return [];
  return [orderEvent(scope.channelId, 'order.confirmed', { orderId: purchaseOrderId, occurredAt, reference: purchaseOrderId, lines: orderLines })];
}

export function poLineCancellations(
  scope: PoEventScope,
  purchaseOrderId: string,
  occurredAt: string,
  lines: ReadonlyArray<{ lineNumber: string; sku: string; qty: number }>,
): InventoryEvent[] {
  return lines.flatMap((line) => {
    const cancelled = hubLines(scope, purchaseOrderId, [line]);
    if (cancelled.length === 0) return [];
    return [orderEvent(scope.channelId, 'order.cancelled', { orderId: purchaseOrderId, occurredAt, reference: purchaseOrderId, lines: cancelled, part: line.lineNumber })];
  });
}

/** Lines in hub SKUs, summed per SKU; lines for Walmart SKUs the hub does not manage are left out. */
function hubLines(scope: PoEventScope, orderId: string, lines: ReadonlyArray<{ sku: string; qty: number }>): OrderLine[] {
  const quantities = new Map<string, number>();
  for (const line of lines) {
    const hubSku = scope.hubSkuByWalmartSku.get(line.sku);
    if (!hubSku) {
      scope.logger.warn('walmart order line for an unmapped SKU ignored', { orderId, walmartSku: line.sku });
      continue;
    }
    if (Number.isInteger(line.qty) && line.qty > 0) quantities.set(hubSku, (quantities.get(hubSku) ?? 0) + line.qty);
  }
  return [...quantities].map(([sku, qty]) => ({ sku, qty }));
}
