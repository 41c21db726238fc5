import { WebhookPayloadError } from '../../core/sdk.ts';

/** What Shopify says happened to the stock of a refunded line (`refund_line_items[].restock_type`). */
export type RestockType = 'no_restock' | 'cancel' | 'return' | 'legacy_restock';

const RESTOCK_TYPES: ReadonlySet<string> = new Set<RestockType>(['no_restock', 'cancel', 'return', 'legacy_restock']);

/** One refunded line as the hub needs it. */
export interface RefundBodyLine {
  sku: string | null;
  /** Digits of the refunded line item's variant id, or null when it has none. */
  variantId: string | null;
  quantity: number;
  restockType: RestockType;
}

/** What a signed refunds/create body says, read from the body alone. */
export interface RefundBody {
  /** Exact refund id (digits), from `admin_graphql_api_id`. */
  id: string;
  /** The refunded order's id (digits). */
  orderId: string;
  /** ISO 8601 instant of `created_at`. */
  createdAt: string;
  lines: RefundBodyLine[];
}

const REFUND_GID = /^gid:\/\/shopify\/Refund\/([0-9]{1,30})$/;
const DIGITS = /^[0-9]{1,30}$/;

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json => value !== null && typeof value === 'object' && !Array.isArray(value);

function digits(value: unknown, field: string): string {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value > 0) return String(value);
  if (typeof value === 'string' && DIGITS.test(value)) return value;
  throw new WebhookPayloadError(`refund ${field} is not an id`);
}

function line(value: unknown, index: number): RefundBodyLine {
  const at = `refund_line_items[${index}]`;
  if (!isObject(value)) throw new WebhookPayloadError(`${at} is not an object`);
  const { quantity, restock_type: restockType, line_item: item } = value;
  if (typeof quantity !== 'number' || !Number.isSafeInteger(quantity) || quantity <= 0) throw new WebhookPayloadError(`${at}.quantity is not a positive integer`);
  if (typeof restockType !== 'string' || !RESTOCK_TYPES.has(restockType)) {
    throw new WebhookPayloadError(`${at}.restock_type is not one of ${[...RESTOCK_TYPES].join(', ')}`);
  }
  if (!isObject(item)) throw new WebhookPayloadError(`${at}.line_item is not an object`);
  const sku = item.sku;
  if (sku !== null && sku !== undefined && typeof sku !== 'string') throw new WebhookPayloadError(`${at}.line_item.sku is not a string`);
  const variant = item.variant_id;
  return {
    sku: typeof sku === 'string' && sku.length > 0 ? sku : null,
    variantId: variant === null || variant === undefined ? null : digits(variant, `${at}.line_item.variant_id`),
    quantity,
    restockType: restockType as RestockType,
  };
}

/**
 * Reads a Shopify refund body (refunds/create), recognised like an order by its signed
 * `admin_graphql_api_id` (`gid://shopify/Refund/<id>`), whatever the unsigned topic header says.
 * Returns undefined for a body that is not a refund; throws {@link WebhookPayloadError} for a refund whose
 * fields the hub needs are missing or malformed, or a body that is not a JSON object.
 */
export function readRefundBody(raw: Buffer): RefundBody | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw.toString('utf8'));
  } catch (err) {
    throw new WebhookPayloadError('body is not JSON', { cause: err });
  }
  if (!isObject(parsed)) throw new WebhookPayloadError('body is not a JSON object');
  const gid = typeof parsed.admin_graphql_api_id === 'string' ? REFUND_GID.exec(parsed.admin_graphql_api_id) : null;
  if (!gid) return undefined;
  if (!Array.isArray(parsed.refund_line_items)) throw new WebhookPayloadError('refund refund_line_items is not an array');
  const createdAt = typeof parsed.created_at === 'string' ? new Date(parsed.created_at) : undefined;
  if (createdAt === undefined || Number.isNaN(createdAt.getTime())) throw new WebhookPayloadError('refund created_at is not a valid date-time');
  return {
    id: gid[1]!,
    orderId: digits(parsed.order_id, 'order_id'),
    createdAt: createdAt.toISOString(),
    lines: parsed.refund_line_items.map(line),
  };
}
