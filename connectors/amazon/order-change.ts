import type { NotificationOrderStatus } from './api.ts';

/** What one order needs to become inventory events, wherever it was read from (notification summary or Orders API). */
export interface OrderFacts {
  /** `Canceled` (notification) and `CANCELLED` (Orders API) are both read as cancelled. */
  cancelled: boolean;
  /** Amazon ships it from FBA stock (AFN / fulfilledBy AMAZON): the seller's own stock is not touched. */
  fulfilledByAmazon: boolean;
  /** ISO time the order was placed, when Amazon said. */
  purchasedAt: string | undefined;
  /** ISO time of the change this read reflects, when known. */
  changedAt: string | undefined;
  /** Seller SKU and quantity of each item. */
  items: Array<{ sellerSku: string; quantity: number }>;
}

/**
 * One SQS message read as an ORDER_CHANGE notification:
 * - `order`: the order id, and its facts when the notification's summary holds everything they need (it does when
 *   it follows Amazon's schema: `Summary` and its `OrderItems[]` with `SellerSKU` and `Quantity` are required);
 *   `facts` undefined means the summary cannot be trusted and the order is read from the Orders API instead.
 * - `unusable`: nothing can be made of it (not JSON, another notification type, no order id), with the reason.
 */
export type OrderChangeReading =
  | { kind: 'order'; orderId: string; facts: OrderFacts | undefined }
  | { kind: 'unusable'; reason: string };

const STATUSES: ReadonlySet<NotificationOrderStatus> = new Set([
  'Pending',
  'Unshipped',
  'PartiallyShipped',
  'Shipped',
  'Canceled',
  'Unfulfillable',
  'InvoiceUnconfirmed',
  'PendingAvailability',
]);

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const isoOrUndefined = (value: unknown): string | undefined => (typeof value === 'string' && Number.isFinite(Date.parse(value)) ? new Date(value).toISOString() : undefined);

/** The summary's facts, or undefined when any field they rest on is missing or of the wrong type. */
function summaryFacts(summary: unknown, trigger: unknown): OrderFacts | undefined {
  if (!isRecord(summary) || !Array.isArray(summary.OrderItems)) return undefined;
  const status = summary.OrderStatus;
  if (typeof status !== 'string' || !STATUSES.has(status as NotificationOrderStatus)) return undefined;
  if (summary.FulfillmentType !== 'MFN' && summary.FulfillmentType !== 'AFN') return undefined;
  const items: OrderFacts['items'] = [];
  for (const item of summary.OrderItems) {
    if (!isRecord(item) || typeof item.SellerSKU !== 'string' || item.SellerSKU.length === 0) return undefined;
    if (!Number.isSafeInteger(item.Quantity) || (item.Quantity as number) < 0) return undefined;
    items.push({ sellerSku: item.SellerSKU, quantity: item.Quantity as number });
  }
  return {
    cancelled: status === 'Canceled',
    fulfilledByAmazon: summary.FulfillmentType === 'AFN',
    purchasedAt: isoOrUndefined(summary.PurchaseDate),
    changedAt: isRecord(trigger) ? isoOrUndefined(trigger.TimeOfOrderChange) : undefined,
    items,
  };
}

/** Reads an SQS message body; never throws, whatever the body holds. */
export function readOrderChange(body: string): OrderChangeReading {
  let notification: unknown;
  try {
    notification = JSON.parse(body);
  } catch {
    return { kind: 'unusable', reason: 'message body is not JSON' };
  }
  if (!isRecord(notification)) return { kind: 'unusable', reason: 'message body is not a JSON object' };
  if (notification.NotificationType !== 'ORDER_CHANGE') {
    const type = typeof notification.NotificationType === 'string' ? notification.NotificationType.slice(0, 64) : 'none';
    return { kind: 'unusable', reason: `notification type ${type} is not ORDER_CHANGE` };
  }
  const payload = isRecord(notification.Payload) ? notification.Payload.OrderChangeNotification : undefined;
  if (!isRecord(payload)) return { kind: 'unusable', reason: 'Payload.OrderChangeNotification is missing' };
  const orderId = payload.AmazonOrderId;
  // Amazon order ids are 3-7-7 digits; anything far from that shape is not an id to put in a path or an event id.
  if (typeof orderId !== 'string' || !/^[A-Za-z0-9-]{1,64}$/.test(orderId)) {
    return { kind: 'unusable', reason: 'Payload.OrderChangeNotification.AmazonOrderId is missing or malformed' };
  }
  return { kind: 'order', orderId, facts: summaryFacts(payload.Summary, payload.OrderChangeTrigger) };
}
