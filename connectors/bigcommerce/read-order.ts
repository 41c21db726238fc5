import { WebhookPayloadError } from '../../core/sdk.ts';

/** An order as the v2 API answers it, checked field by field. */
export interface OrderContent {
  statusId: number;
  /** ISO 8601. */
  createdAt: string;
  /** ISO 8601; the creation time when the order was never modified. */
  modifiedAt: string;
}

export interface OrderLine {
  productId: number | undefined;
  variantId: number | undefined;
  sku: string | undefined;
  name: string | undefined;
  quantity: number;
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** RFC 2822 dates from the v2 API (`Tue, 05 Mar 2019 21:40:11 +0000`) into ISO 8601. */
function isoOf(value: unknown, field: string, orderId: string): string {
  const time = typeof value === 'string' ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(time)) throw new WebhookPayloadError(`BigCommerce order ${orderId}: ${field} is not a date`);
  return new Date(time).toISOString();
}

/** Reads `GET /v2/orders/{id}`; a field of the wrong type is a WebhookPayloadError naming it, never a TypeError. */
export function readOrder(body: unknown, orderId: string): OrderContent {
  if (!isRecord(body)) throw new WebhookPayloadError(`BigCommerce order ${orderId}: the answer is not an object`);
  if (!Number.isSafeInteger(body.status_id)) throw new WebhookPayloadError(`BigCommerce order ${orderId}: status_id is not an integer`);
  const createdAt = isoOf(body.date_created, 'date_created', orderId);
  const modifiedAt = body.date_modified === undefined || body.date_modified === null || body.date_modified === '' ? createdAt : isoOf(body.date_modified, 'date_modified', orderId);
  return { statusId: body.status_id as number, createdAt, modifiedAt };
}

/** Reads one page of `GET /v2/orders/{id}/products`. */
export function readOrderProducts(body: unknown, orderId: string): OrderLine[] {
  if (!Array.isArray(body)) throw new WebhookPayloadError(`BigCommerce order ${orderId}: the products answer is not an array`);
  return body.map((line: unknown, i): OrderLine => {
    const bad = (field: string, rule: string): never => {
      throw new WebhookPayloadError(`BigCommerce order ${orderId}: products[${i}].${field} ${rule}`);
    };
    if (!isRecord(line)) return bad('', 'is not an object');
    if (!Number.isSafeInteger(line.quantity) || (line.quantity as number) < 0) return bad('quantity', 'is not a whole number of units');
    const optionalId = (field: 'product_id' | 'variant_id'): number | undefined => {
      const value = line[field];
      if (value === undefined || value === null) return undefined;
      return Number.isSafeInteger(value) ? (value as number) : bad(field, 'is not an integer');
    };
    if (line.sku !== undefined && line.sku !== null && typeof line.sku !== 'string') return bad('sku', 'is not a string');
    return {
      productId: optionalId('product_id'),
      variantId: optionalId('variant_id'),
      sku: typeof line.sku === 'string' && line.sku !== '' ? line.sku : undefined,
      name: typeof line.name === 'string' ? line.name : undefined,
      quantity: line.quantity as number,
    };
  });
}

/**
 * The order id of a webhook body, exactly as written: `data.id` is a JSON number, and one above 2^53 would
 * lose digits through JSON.parse, so the digits are taken from the raw text when the parsed value is not a
 * safe integer. Undefined when the body has no usable id.
 */
const MAX_ORDER_ID = 2n ** 63n - 1n;

export function exactOrderId(rawBody: string, parsed: unknown): string | undefined {
  // BigCommerce numbers orders from 1: an id of 0 names no order that could ever appear (a 404 for a real
  // id is the order not being readable yet, and is delivered again; this one never would be).
  if (typeof parsed === 'string') return /^[1-9]\d{0,18}$/.test(parsed) && BigInt(parsed) <= MAX_ORDER_ID ? parsed : undefined;
  if (typeof parsed !== 'number' || !Number.isInteger(parsed) || parsed < 1) return undefined;
  if (Number.isSafeInteger(parsed)) return String(parsed);
  const candidates = new Set<string>();
  // Order ids are 64-bit integers: a longer number names no order that could ever appear.
  for (const match of rawBody.matchAll(/"id"\s*:\s*(\d{16,19})(?![\d.eE])/g)) {
    if (Number(match[1]) === parsed && BigInt(match[1]!) <= MAX_ORDER_ID) candidates.add(match[1]!);
  }
  // Two different long ids that read as the same number: which one is the order cannot be told.
  return candidates.size === 1 ? [...candidates][0] : undefined;
}
