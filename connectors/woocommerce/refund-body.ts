import { WebhookPayloadError } from '../../core/sdk.ts';
import { gmtToIso } from './api.ts';
import type { WooOrderLine } from './order-body.ts';

/** One refund of an order as the hub needs it (GET /orders/<id>/refunds). */
export interface WooRefund {
  id: string;
  /** ISO 8601 instant of `date_created_gmt`. */
  createdAt: string;
  /** The refunded lines; WooCommerce lists their quantities as negative numbers, read here as units refunded. */
  lines: WooOrderLine[];
}

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json => value !== null && typeof value === 'object' && !Array.isArray(value);
const id = (value: unknown): value is number => typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;

/**
 * Reads one Order refund object (the REST reference's "Order refund properties"): refund line items carry the
 * product and variation ids and a negative `quantity`. A line with quantity 0 (an amount-only refund of a line)
 * refunds no units and is left out. Throws {@link WebhookPayloadError} for a refund whose fields are malformed.
 */
export function readWooRefund(value: unknown, index: number): WooRefund {
  const at = `refunds[${index}]`;
  if (!isObject(value)) throw new WebhookPayloadError(`${at} is not an object`);
  if (!id(value.id) || value.id === 0) throw new WebhookPayloadError(`${at}.id is not an id`);
  let createdAt: string;
  try {
    if (typeof value.date_created_gmt !== 'string') throw new TypeError('not a string');
    createdAt = gmtToIso(value.date_created_gmt);
  } catch {
    throw new WebhookPayloadError(`${at}.date_created_gmt is not a date-time`);
  }
  const items = value.line_items ?? [];
  if (!Array.isArray(items)) throw new WebhookPayloadError(`${at}.line_items is not an array`);
  const lines: WooOrderLine[] = [];
  items.forEach((item, i) => {
    const where = `${at}.line_items[${i}]`;
    if (!isObject(item)) throw new WebhookPayloadError(`${where} is not an object`);
    const { product_id: productId, variation_id: variationId = 0, quantity, sku, name } = item;
    if (!id(productId)) throw new WebhookPayloadError(`${where}.product_id is not an id`);
    if (!id(variationId)) throw new WebhookPayloadError(`${where}.variation_id is not an id`);
    if (typeof quantity !== 'number' || !Number.isSafeInteger(quantity)) throw new WebhookPayloadError(`${where}.quantity is not an integer`);
    if (sku !== null && sku !== undefined && typeof sku !== 'string') throw new WebhookPayloadError(`${where}.sku is not a string`);
    if (quantity === 0) return;
    lines.push({ productId, variationId, quantity: Math.abs(quantity), sku: typeof sku === 'string' && sku.length > 0 ? sku : null, ...(typeof name === 'string' ? { name } : {}) });
  });
  return { id: String(value.id), createdAt, lines };
}
