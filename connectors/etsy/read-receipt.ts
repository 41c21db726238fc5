import { WebhookPayloadError } from '../../core/sdk.ts';
import { RECEIPT_URL } from './api.ts';

/** What an order webhook points at: the receipt, ids kept as the digit strings Etsy wrote. */
export interface ReceiptRef {
  shopId: string;
  receiptId: string;
}

/** Event types that move stock: a paid order takes it, a cancelled one gives it back (Etsy writes both spellings). */
const ORDER_EVENTS = new Set(['ORDER_PAID', 'ORDER_CANCELED', 'ORDER_CANCELLED']);

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Reads a signed webhook body. Undefined for events that do not move stock; the receipt's ids otherwise.
 * Everything read is checked: a signed but malformed body is a {@link WebhookPayloadError} (400, Etsy
 * stops re-delivering), never a TypeError, and no field reaches a request path unless it is digits.
 */
export function readOrderWebhook(rawBody: Buffer): ReceiptRef | undefined {
  let payload: unknown;
  try {
    payload = JSON.parse(rawBody.toString('utf8'));
  } catch (err) {
    throw new WebhookPayloadError('body is not JSON', { cause: err });
  }
  if (!isRecord(payload)) throw new WebhookPayloadError('body is not a JSON object');
  if (typeof payload.event_type !== 'string') throw new WebhookPayloadError('event_type is missing or not a string');
  const type = payload.event_type.toUpperCase().replace(/\./g, '_');
  if (!ORDER_EVENTS.has(type)) return undefined;
  // Etsy sends the flat shape; its earlier documentation nested the fields under `data`.
  const url = typeof payload.resource_url === 'string' ? payload.resource_url : isRecord(payload.data) && typeof payload.data.resource_url === 'string' ? payload.data.resource_url : undefined;
  if (url === undefined) throw new WebhookPayloadError('resource_url is missing or not a string');
  const match = RECEIPT_URL.exec(url);
  if (!match) throw new WebhookPayloadError('resource_url is not the URL of a shop receipt (…/v3/application/shops/<digits>/receipts/<digits>)');
  return { shopId: match[1]!, receiptId: match[2]! };
}

/** One transaction's line, as read from the receipt. */
export interface ReceiptLine {
  listingId: number | undefined;
  sku: string | undefined;
  quantity: number;
}

export interface ReceiptContent {
  cancelled: boolean;
  /** Etsy has the buyer's payment (`is_paid`); an unpaid receipt takes no stock yet. */
  paid: boolean;
  /** Unix seconds of the receipt's last change (`updated_timestamp`), when given. */
  updatedSeconds: number | undefined;
  /** ISO 8601. */
  occurredAt: string;
  lines: ReceiptLine[];
}

/** Statuses that mean the stock came back (the document's ShopReceipt `status` enum, lower case). */
const STOCK_RETURNED = new Set(['canceled', 'fully refunded']);

/**
 * Reads a getShopReceipt answer. Etsy's own answer is trusted for meaning, not for shape: a field of the
 * wrong type is a {@link WebhookPayloadError} naming the field, never a TypeError.
 */
export function readReceipt(body: unknown, receiptId: string): ReceiptContent {
  const bad = (field: string, rule: string): never => {
    throw new WebhookPayloadError(`Etsy receipt ${receiptId}: ${field} ${rule}`);
  };
  if (!isRecord(body)) return bad('body', 'is not a JSON object');
  if (typeof body.status !== 'string') return bad('status', 'is missing or not a string');
  const seconds = body.created_timestamp ?? body.create_timestamp;
  if (typeof seconds !== 'number' || !Number.isSafeInteger(seconds) || seconds < 946_684_800 || seconds > 32_503_680_000) {
    return bad('created_timestamp', 'is not a Unix time in seconds');
  }
  if (!Array.isArray(body.transactions)) return bad('transactions', 'is not an array');
  const lines = body.transactions.map((t: unknown, i): ReceiptLine => {
    if (!isRecord(t)) return bad(`transactions[${i}]`, 'is not an object');
    if (typeof t.quantity !== 'number' || !Number.isSafeInteger(t.quantity) || t.quantity < 0) return bad(`transactions[${i}].quantity`, 'is not a whole number of units');
    if (t.listing_id !== undefined && t.listing_id !== null && (typeof t.listing_id !== 'number' || !Number.isSafeInteger(t.listing_id))) {
      return bad(`transactions[${i}].listing_id`, 'is not an integer');
    }
    if (t.sku !== undefined && t.sku !== null && typeof t.sku !== 'string') return bad(`transactions[${i}].sku`, 'is not a string');
    return { listingId: (t.listing_id as number | null | undefined) ?? undefined, sku: (t.sku as string | null | undefined) || undefined, quantity: t.quantity };
  });
  const updated = body.updated_timestamp ?? body.update_timestamp;
  return {
    cancelled: STOCK_RETURNED.has(body.status.toLowerCase()),
    paid: body.is_paid !== false,
    updatedSeconds: typeof updated === 'number' && Number.isSafeInteger(updated) ? updated : undefined,
    occurredAt: new Date(seconds * 1000).toISOString(),
    lines,
  };
}
