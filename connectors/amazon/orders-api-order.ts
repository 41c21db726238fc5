import type { FulfillmentStatus } from './api.ts';
import type { OrderFacts } from './order-change.ts';

const FULFILLMENT_STATUSES: ReadonlySet<FulfillmentStatus> = new Set(['PENDING_AVAILABILITY', 'PENDING', 'UNSHIPPED', 'PARTIALLY_SHIPPED', 'SHIPPED', 'CANCELLED', 'UNFULFILLABLE']);

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const isoOrUndefined = (value: unknown): string | undefined => (typeof value === 'string' && Number.isFinite(Date.parse(value)) ? new Date(value).toISOString() : undefined);

/**
 * The facts of an Orders 2026-01-01 `getOrder` answer (`{ order: { orderItems[], fulfillment, createdTime, ... } }`),
 * or undefined when a field they rest on is missing or of the wrong type. An item without a seller SKU (not one of
 * the seller's listings) is left out; its quantity is no stock of the hub's.
 */
export function readOrdersApiOrder(body: unknown): OrderFacts | undefined {
  const order = isRecord(body) ? body.order : undefined;
  if (!isRecord(order) || !Array.isArray(order.orderItems)) return undefined;
  const fulfillment = isRecord(order.fulfillment) ? order.fulfillment : undefined;
  const status = fulfillment?.fulfillmentStatus;
  if (status !== undefined && !FULFILLMENT_STATUSES.has(status as FulfillmentStatus)) return undefined;
  const items: OrderFacts['items'] = [];
  for (const item of order.orderItems) {
    if (!isRecord(item) || !Number.isSafeInteger(item.quantityOrdered) || (item.quantityOrdered as number) < 0) return undefined;
    const sellerSku = isRecord(item.product) ? item.product.sellerSku : undefined;
    if (typeof sellerSku === 'string' && sellerSku.length > 0) items.push({ sellerSku, quantity: item.quantityOrdered as number });
  }
  return {
    cancelled: status === 'CANCELLED',
    fulfilledByAmazon: typeof fulfillment?.fulfilledBy === 'string' && fulfillment.fulfilledBy.toUpperCase() === 'AMAZON',
    purchasedAt: isoOrUndefined(order.createdTime),
    changedAt: isoOrUndefined(order.lastUpdatedTime),
    items,
  };
}
