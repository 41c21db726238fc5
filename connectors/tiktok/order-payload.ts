import { WebhookPayloadError } from '../../core/sdk.ts';

/*
 * Readers for TikTok's order webhook and Get Order Detail answer, guarding every field they touch: a signed but
 * malformed body becomes a WebhookPayloadError (400), never a TypeError (5xx, re-delivered for days). TikTok
 * order ids are 18-digit numbers written as strings; one sent as a JSON number (beyond 2^53, so inexact once
 * parsed) is read from the raw text instead.
 */

const ORDER_ID = /^\d{1,30}$/;
const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** The webhook's type and, for an order status change, its order id. */
export function readStatusChange(rawBody: Buffer): { type: unknown; orderId: string } {
  let body: unknown;
  try {
    body = JSON.parse(rawBody.toString('utf8'));
  } catch (err) {
    throw new WebhookPayloadError('body is not JSON', { cause: err });
  }
  if (!isObject(body)) throw new WebhookPayloadError('body is not a JSON object');
  if (!isObject(body.data)) return { type: body.type, orderId: '' };
  const raw = body.data.order_id;
  let orderId: string | undefined;
  if (typeof raw === 'string') orderId = raw;
  else if (typeof raw === 'number' && Number.isInteger(raw) && raw > 0) orderId = /"order_id"\s*:\s*(\d{1,30})/.exec(rawBody.toString('utf8'))?.[1];
  if (body.type === 1 && (orderId === undefined || !ORDER_ID.test(orderId))) throw new WebhookPayloadError('data.order_id is missing or not an order id');
  return { type: body.type, orderId: orderId ?? '' };
}

export interface OrderLineItem {
  /** The line item's id: one unit sold. */
  id?: string;
  skuId?: string;
  sellerSku?: string;
  /** `display_status`: `CANCELLED` for a unit cancelled on its own. */
  status?: string;
}

export interface OrderDetail {
  id: string;
  status: string;
  /** ISO 8601 from `create_time` (unix seconds). */
  createdAt: string;
  /** ISO 8601 of the cancellation (`cancel_time`, else `update_time`), when the order or a line is cancelled. */
  cancelledAt: string;
  /** `update_time`, unix seconds, when given. */
  updateTime: number | undefined;
  lineItems: OrderLineItem[];
}

const isTime = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value) && value >= 0 && value <= 1e11;

/** One order object of a Get Order Detail or Search Orders answer, every field it uses checked. */
export function readOrder(order: unknown): OrderDetail {
  if (!isObject(order) || typeof order.id !== 'string' || !ORDER_ID.test(order.id)) throw new WebhookPayloadError('TikTok order without a usable id');
  const created = order.create_time;
  if (!isTime(created)) throw new WebhookPayloadError(`TikTok order ${order.id} without a usable create_time`);
  if (!Array.isArray(order.line_items)) throw new WebhookPayloadError(`TikTok order ${order.id} without line_items`);
  const lineItems = order.line_items.map((item: unknown): OrderLineItem => {
    if (!isObject(item)) throw new WebhookPayloadError(`TikTok order ${order.id} with a malformed line item`);
    return {
      ...(typeof item.id === 'string' && item.id !== '' ? { id: item.id } : {}),
      ...(typeof item.sku_id === 'string' ? { skuId: item.sku_id } : {}),
      ...(typeof item.seller_sku === 'string' && item.seller_sku !== '' ? { sellerSku: item.seller_sku } : {}),
      ...(typeof item.display_status === 'string' ? { status: item.display_status } : {}),
    };
  });
  const updated = isTime(order.update_time) ? order.update_time : undefined;
  const cancelled = isTime(order.cancel_time) ? order.cancel_time : (updated ?? created);
  return {
    id: order.id,
    status: typeof order.status === 'string' ? order.status : '',
    createdAt: new Date(created * 1000).toISOString(),
    cancelledAt: new Date(cancelled * 1000).toISOString(),
    updateTime: updated,
    lineItems,
  };
}

/** The order `orderId` from a Get Order Detail answer (`Order202309GetOrderDetailResponse`), or undefined when absent. */
export function readOrderDetail(body: unknown, orderId: string): OrderDetail | undefined {
  const data = isObject(body) ? body.data : undefined;
  if (!isObject(data) || !Array.isArray(data.orders)) throw new WebhookPayloadError('TikTok order detail without data.orders');
  const order = data.orders.find((o: unknown) => isObject(o) && o.id === orderId);
  return order === undefined ? undefined : readOrder(order);
}
