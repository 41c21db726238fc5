import { WebhookPayloadError } from '../../core/sdk.ts';

/*
 * Readers for what eBay sends and answers around an order, guarding every field they touch: a signed but
 * malformed notification (or an order answer missing what we need) becomes a WebhookPayloadError, answered
 * 400, never a TypeError that would answer 5xx and make eBay re-deliver it for days.
 */

/** eBay order ids: `12-34567-89012` today, digit strings before 2019. */
const ORDER_ID = /^[A-Za-z0-9][A-Za-z0-9-]{0,63}$/;
const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const isoDate = (value: unknown): string | undefined => {
  if (typeof value !== 'string' || value.length > 40) return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : new Date(ms).toISOString();
};

/**
 * The order id and event date of an ORDER_CONFIRMATION notification; `undefined` for any other topic. Reads
 * `notification.data.order.orderId`, the shape eBay's ORDER_CONFIRMATION contract delivers. An id sent as a JSON
 * number (never seen from eBay, but then exact beyond 2^53 only in the raw text) is read from the raw body.
 */
export function readOrderConfirmation(body: unknown, rawBody: Buffer): { orderId: string; eventDate?: string } | undefined {
  if (!isObject(body) || !isObject(body.metadata) || typeof body.metadata.topic !== 'string') {
    throw new WebhookPayloadError('notification without metadata.topic');
  }
  if (body.metadata.topic !== 'ORDER_CONFIRMATION') return undefined;
  const notification = body.notification;
  if (!isObject(notification) || !isObject(notification.data)) throw new WebhookPayloadError('ORDER_CONFIRMATION without notification.data');
  const order = notification.data.order;
  if (!isObject(order)) throw new WebhookPayloadError('ORDER_CONFIRMATION without notification.data.order');
  let orderId: string | undefined;
  if (typeof order.orderId === 'string') orderId = order.orderId;
  else if (typeof order.orderId === 'number' && Number.isInteger(order.orderId) && order.orderId > 0) {
    orderId = /"order"\s*:\s*\{[^{}]*?"orderId"\s*:\s*(\d{1,40})/.exec(rawBody.toString('utf8'))?.[1];
  }
  if (orderId === undefined || !ORDER_ID.test(orderId)) throw new WebhookPayloadError('ORDER_CONFIRMATION with a missing or malformed data.order.orderId');
  const eventDate = isoDate(notification.eventDate);
  return eventDate ? { orderId, eventDate } : { orderId };
}

export interface OrderLine {
  /** The seller's SKU; absent for listings not managed by SKU. */
  sku?: string;
  quantity: number;
  legacyItemId?: string;
}

export interface OrderSummary {
  orderId: string;
  /** ISO 8601, when eBay gave a readable one. */
  creationDate?: string;
  /** ISO 8601, when eBay gave a readable one. */
  lastModifiedDate?: string;
  cancelState?: string;
  lines: OrderLine[];
}

/** The parts of a Fulfillment API `getOrder` answer (the `Order` schema) that make inventory events. */
export function readOrder(body: unknown): OrderSummary {
  if (!isObject(body) || typeof body.orderId !== 'string' || !ORDER_ID.test(body.orderId)) throw new WebhookPayloadError('eBay getOrder answer without a usable orderId');
  if (!Array.isArray(body.lineItems)) throw new WebhookPayloadError('eBay getOrder answer without lineItems');
  const lines: OrderLine[] = [];
  for (const item of body.lineItems) {
    if (!isObject(item)) throw new WebhookPayloadError('eBay getOrder answer with a malformed line item');
    const quantity = item.quantity;
    if (typeof quantity !== 'number' || !Number.isInteger(quantity) || quantity < 1 || quantity > 2_147_483_647) {
      throw new WebhookPayloadError('eBay getOrder line item without a positive integer quantity');
    }
    const sku = typeof item.sku === 'string' && item.sku.length > 0 && item.sku.length <= 50 ? item.sku : undefined;
    const legacyItemId = typeof item.legacyItemId === 'string' ? item.legacyItemId : undefined;
    lines.push({ quantity, ...(sku !== undefined ? { sku } : {}), ...(legacyItemId !== undefined ? { legacyItemId } : {}) });
  }
  const cancelState = isObject(body.cancelStatus) && typeof body.cancelStatus.cancelState === 'string' ? body.cancelStatus.cancelState : undefined;
  const creationDate = isoDate(body.creationDate);
  const lastModifiedDate = isoDate(body.lastModifiedDate);
  return {
    orderId: body.orderId,
    lines,
    ...(creationDate ? { creationDate } : {}),
    ...(lastModifiedDate ? { lastModifiedDate } : {}),
    ...(cancelState ? { cancelState } : {}),
  };
}
