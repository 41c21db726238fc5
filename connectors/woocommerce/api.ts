/**
 * The slice of the WooCommerce REST API (v3) and its webhooks that the connector speaks and the simulator answers.
 *
 * - `POST /wp-json/wc/v3/products/batch` and `POST /wp-json/wc/v3/products/{id}/variations/batch`, body
 *   `{ update: [{ id, manage_stock: true, stock_quantity }] }`; the answer lists, in request order, either the
 *   updated object or `{ id, error: { code, message, data: { status } } }` for an item that failed.
 * - More than 100 objects in one batch: 413 `{ code: "woocommerce_rest_request_entity_too_large",
 *   message: "Unable to accept more than 100 items for this request.", data: { status: 413 } }`.
 * - Auth: HTTP Basic with consumer key/secret over HTTPS, or `consumer_key`/`consumer_secret` query parameters.
 *   Wrong key or secret: 401 `woocommerce_rest_authentication_error`; none: 401 `woocommerce_rest_cannot_batch`.
 * - Core has no rate limit; hosts in front of WordPress answer 429 or 503 with `Retry-After`.
 * - Webhooks: the full order as body, `X-WC-Webhook-Signature: base64(HMAC-SHA256(secret, body))`, plus
 *   `X-WC-Webhook-Topic` (`order.created`, `order.updated`...), `-Resource`, `-Event`, `-ID`, `-Delivery-ID`,
 *   `-Source`. On creation WooCommerce sends an unsigned ping whose form body is `webhook_id=<id>`.
 */

export const API_PREFIX = '/wp-json/wc/v3';
export const MAX_BATCH = 100;

export const SIGNATURE_HEADER = 'x-wc-webhook-signature';
export const TOPIC_HEADER = 'x-wc-webhook-topic';
export const RESOURCE_HEADER = 'x-wc-webhook-resource';
export const EVENT_HEADER = 'x-wc-webhook-event';
export const WEBHOOK_ID_HEADER = 'x-wc-webhook-id';
export const DELIVERY_ID_HEADER = 'x-wc-webhook-delivery-id';
export const SOURCE_HEADER = 'x-wc-webhook-source';

export const productsBatchPath = (): string => `${API_PREFIX}/products/batch`;
export const variationsBatchPath = (productId: number): string => `${API_PREFIX}/products/${productId}/variations/batch`;

export interface WooError {
  code: string;
  message: string;
  data?: { status?: number; [key: string]: unknown };
}

export interface BatchUpdateItem {
  id: number;
  manage_stock: true;
  stock_quantity: number;
}

/** One entry of a batch answer: the updated object, or the error for that id. */
export type BatchResultItem = { id: number; stock_quantity?: number | null; error?: undefined } | { id: number; error: WooError };

export interface BatchResponse {
  update?: BatchResultItem[];
}

/** The parts of a WooCommerce order (webhook body) the hub reads. */
export interface WooOrder {
  id: number;
  number?: string;
  status: string;
  /** `YYYY-MM-DDTHH:mm:ss` in UTC, without a zone suffix. */
  date_created_gmt: string;
  date_modified_gmt?: string;
  line_items: Array<{ id?: number; name?: string; product_id: number; variation_id: number; quantity: number; sku: string }>;
}

/** Order statuses whose stock WooCommerce has taken (it reduces stock on payment or on-hold). */
export const STOCK_TAKEN_STATUSES = new Set(['processing', 'completed', 'on-hold']);
/** Order statuses that give the stock back. */
export const STOCK_RETURNED_STATUSES = new Set(['cancelled', 'refunded', 'failed']);

/** WooCommerce GMT dates carry no zone suffix; read them as UTC. */
export function gmtToIso(value: string): string {
  return new Date(/[zZ]|[+-]\d\d:?\d\d$/.test(value) ? value : `${value}Z`).toISOString();
}
