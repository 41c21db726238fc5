import { WebhookPayloadError } from '../../core/sdk.ts';

/** One line of an order as the hub needs it. */
export interface OrderBodyLine {
  sku: string | null;
  /** Digits of the variant id, or null when the line has no variant (custom item, gift card). */
  variantId: string | null;
  quantity: number;
  title?: string;
}

/** What a signed order body says, read from the body alone. */
export interface OrderBody {
  /** Exact order id (digits), from `admin_graphql_api_id`. */
  id: string;
  name?: string;
  /** ISO 8601 instant of `created_at`. */
  createdAt: string;
  /** ISO 8601 instant of `cancelled_at`, when the order is cancelled. */
  cancelledAt?: string;
  /** ISO 8601 instant of `updated_at`, when present. */
  updatedAt?: string;
  lines: OrderBodyLine[];
}

const ORDER_GID = /^gid:\/\/shopify\/Order\/([0-9]{1,30})$/;
const DIGITS = /^[0-9]{1,30}$/;

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json => value !== null && typeof value === 'object' && !Array.isArray(value);

function instant(value: unknown, field: string): string {
  if (typeof value !== 'string') throw new WebhookPayloadError(`order ${field} is not a date-time string`);
  const at = new Date(value);
  if (Number.isNaN(at.getTime())) throw new WebhookPayloadError(`order ${field} is not a valid date-time`);
  return at.toISOString();
}

function optionalInstant(value: unknown, field: string): string | undefined {
  return value === null || value === undefined ? undefined : instant(value, field);
}

/** A numeric id (as Shopify sends variant ids) or its digits as a string; null when absent. */
function idDigits(value: unknown, field: string): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'number' && Number.isSafeInteger(value) && value > 0) return String(value);
  if (typeof value === 'string' && DIGITS.test(value)) return value;
  throw new WebhookPayloadError(`${field} is not an id`);
}

function line(value: unknown, index: number): OrderBodyLine {
  if (!isObject(value)) throw new WebhookPayloadError(`line_items[${index}] is not an object`);
  const { sku, quantity, title } = value;
  if (sku !== null && sku !== undefined && typeof sku !== 'string') throw new WebhookPayloadError(`line_items[${index}].sku is not a string`);
  if (typeof quantity !== 'number' || !Number.isSafeInteger(quantity) || quantity <= 0) throw new WebhookPayloadError(`line_items[${index}].quantity is not a positive integer`);
  return {
    sku: typeof sku === 'string' && sku.length > 0 ? sku : null,
    variantId: idDigits(value.variant_id, `line_items[${index}].variant_id`),
    quantity,
    ...(typeof title === 'string' ? { title } : {}),
  };
}

/**
 * Reads a Shopify webhook body and says whether it is an order, from the signed body alone: Shopify signs the
 * body, not the `X-Shopify-Topic` header, so a captured delivery replayed under another topic must mean what its
 * body means. An order body carries `admin_graphql_api_id: "gid://shopify/Order/<id>"` (refunds, fulfillments,
 * draft orders, order edits carry their own type or none), and the gid also gives the id exactly where the
 * numeric `id` is above 2^53 and JSON.parse would round it.
 *
 * Returns undefined for a well-formed body that is not an order; throws {@link WebhookPayloadError} for a body
 * that is not JSON, or is an order whose fields the hub needs are missing or malformed.
 */
export function readOrderBody(raw: Buffer): OrderBody | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw.toString('utf8'));
  } catch (err) {
    throw new WebhookPayloadError('body is not JSON', { cause: err });
  }
  if (!isObject(parsed)) throw new WebhookPayloadError('body is not a JSON object');
  const gid = typeof parsed.admin_graphql_api_id === 'string' ? ORDER_GID.exec(parsed.admin_graphql_api_id) : null;
  if (!gid) return undefined;
  const id = gid[1]!;
  // The numeric id must name the same order (compared as JSON.parse rounded both); a string id must match exactly.
  const given = parsed.id;
  const sameOrder = typeof given === 'number' ? Number(id) === given : typeof given === 'string' ? given === id : false;
  if (!sameOrder) throw new WebhookPayloadError('order id does not match admin_graphql_api_id');
  if (!Array.isArray(parsed.line_items)) throw new WebhookPayloadError('order line_items is not an array');
  const name = parsed.name;
  if (name !== undefined && name !== null && typeof name !== 'string') throw new WebhookPayloadError('order name is not a string');
  return {
    id,
    ...(typeof name === 'string' ? { name } : {}),
    createdAt: instant(parsed.created_at, 'created_at'),
    ...optionalField('cancelledAt', optionalInstant(parsed.cancelled_at, 'cancelled_at')),
    ...optionalField('updatedAt', optionalInstant(parsed.updated_at, 'updated_at')),
    lines: parsed.line_items.map(line),
  };
}

function optionalField<K extends string>(key: K, value: string | undefined): Partial<Record<K, string>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, string>);
}
