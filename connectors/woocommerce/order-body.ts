import { WebhookPayloadError } from '../../core/sdk.ts';
import { gmtToIso } from './api.ts';

/** One line of an order as the hub needs it. */
export interface WooOrderLine {
  productId: number;
  /** 0 for a simple product. */
  variationId: number;
  quantity: number;
  sku: string | null;
  name?: string;
}

/** What a signed WooCommerce order body says, read from the body alone. */
export interface WooOrderBody {
  /** Exact order id (digits), read from the raw JSON so ids above 2^53 are not rounded. */
  id: string;
  number?: string;
  status: string;
  /** ISO 8601 instants. */
  createdAt: string;
  modifiedAt?: string;
  lines: WooOrderLine[];
  /** Ids of the order's refunds (the body lists them as id, reason and total only, never their lines). */
  refundIds: string[];
}

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json => value !== null && typeof value === 'object' && !Array.isArray(value);

/**
 * The text of the number under `key` in the top-level object of `raw` (JSON), or undefined. A small scanner,
 * because JSON.parse rounds integers above 2^53 and an order id must stay exact.
 */
export function topLevelNumberText(raw: string, key: string): string | undefined {
  let depth = 0;
  let i = 0;
  let expectKey = false;
  while (i < raw.length) {
    const c = raw[i]!;
    if (c === '"') {
      let j = i + 1;
      while (j < raw.length && raw[j] !== '"') j += raw[j] === '\\' ? 2 : 1;
      const text = raw.slice(i + 1, j);
      i = j + 1;
      if (depth === 1 && expectKey) {
        expectKey = false;
        while (i < raw.length && /\s/.test(raw[i]!)) i += 1;
        if (raw[i] !== ':') return undefined;
        i += 1;
        while (i < raw.length && /\s/.test(raw[i]!)) i += 1;
        if (text === key) {
          const number = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(raw.slice(i, i + 400));
          return number ? number[0] : undefined;
        }
      }
      continue;
    }
    if (c === '{' || c === '[') {
      depth += 1;
      if (c === '{' && depth === 1) expectKey = true;
    } else if (c === '}' || c === ']') depth -= 1;
    else if (c === ',' && depth === 1) expectKey = true;
    i += 1;
  }
  return undefined;
}

function instant(value: unknown, field: string): string {
  if (typeof value !== 'string') throw new WebhookPayloadError(`order ${field} is not a date-time string`);
  try {
    return gmtToIso(value);
  } catch {
    throw new WebhookPayloadError(`order ${field} is not a valid date-time`);
  }
}

const nonNegativeId = (value: unknown): value is number => typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;

function line(value: unknown, index: number): WooOrderLine {
  if (!isObject(value)) throw new WebhookPayloadError(`line_items[${index}] is not an object`);
  const { product_id: productId, variation_id: variationId = 0, quantity, sku, name } = value;
  if (!nonNegativeId(productId)) throw new WebhookPayloadError(`line_items[${index}].product_id is not an id`);
  if (!nonNegativeId(variationId)) throw new WebhookPayloadError(`line_items[${index}].variation_id is not an id`);
  if (typeof quantity !== 'number' || !Number.isSafeInteger(quantity) || quantity <= 0) throw new WebhookPayloadError(`line_items[${index}].quantity is not a positive integer`);
  if (sku !== null && sku !== undefined && typeof sku !== 'string') throw new WebhookPayloadError(`line_items[${index}].sku is not a string`);
  return { productId, variationId, quantity, sku: typeof sku === 'string' && sku.length > 0 ? sku : null, ...(typeof name === 'string' ? { name } : {}) };
}

/**
 * Reads a WooCommerce webhook body and says whether it is an order, from the signed body alone (the
 * X-WC-Webhook-Topic and -Resource headers are not signed). An order is the REST Order resource: an object
 * with a `status` and `line_items`; products, coupons, customers, a deleted order's `{ id }` and custom action
 * payloads are not.
 *
 * Returns undefined for a well-formed body that is not an order; throws {@link WebhookPayloadError} for a body
 * that is not JSON, or is an order whose fields the hub needs are missing or malformed.
 */
export function readWooOrderBody(raw: Buffer): WooOrderBody | undefined {
  const text = raw.toString('utf8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new WebhookPayloadError('body is not JSON', { cause: err });
  }
  if (!isObject(parsed)) throw new WebhookPayloadError('body is not a JSON object');
  if (!Array.isArray(parsed.line_items) || typeof parsed.status !== 'string') return undefined;
  const idText = topLevelNumberText(text, 'id');
  // The scanner reads the first "id", JSON.parse keeps the last: both must name the same order.
  if (typeof parsed.id !== 'number' || idText === undefined || !/^[1-9][0-9]{0,29}$/.test(idText) || Number(idText) !== parsed.id) {
    throw new WebhookPayloadError('order id is not a positive integer');
  }
  const { number } = parsed;
  if (number !== undefined && number !== null && typeof number !== 'string') throw new WebhookPayloadError('order number is not a string');
  return {
    id: idText,
    ...(typeof number === 'string' ? { number } : {}),
    status: parsed.status,
    createdAt: instant(parsed.date_created_gmt, 'date_created_gmt'),
    ...(parsed.date_modified_gmt === undefined || parsed.date_modified_gmt === null ? {} : { modifiedAt: instant(parsed.date_modified_gmt, 'date_modified_gmt') }),
    lines: parsed.line_items.map(line),
    refundIds: refundIds(parsed.refunds),
  };
}

function refundIds(value: unknown): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new WebhookPayloadError('order refunds is not an array');
  return value.map((refund, index) => {
    const id = isObject(refund) ? refund.id : undefined;
    if (typeof id !== 'number' || !Number.isSafeInteger(id) || id <= 0) throw new WebhookPayloadError(`refunds[${index}].id is not an id`);
    return String(id);
  });
}
