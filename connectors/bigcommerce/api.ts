/**
 * The slice of the BigCommerce REST API and webhooks that the connector speaks and the simulator answers.
 *
 * - `PUT /stores/{store_hash}/v3/inventory/adjustments/absolute`, header `X-Auth-Token`, body
 *   `{ reason, items: [{ location_id, variant_id | product_id | sku, quantity }] }` (one identifier per item),
 *   at most 2,000 items; success answers `{ transaction_id }`. A refused item fails the whole request with 422,
 *   `application/problem+json` `{ status, title, type, errors }`: per the OpenAPI example the item is named in
 *   `title` by its identifier (`[Item with variant_id 106 is tracked by product, ...]`) and `errors` is a free
 *   object; nothing is applied. Required headers: `Accept`, `Content-Type` (and `X-Auth-Token`).
 * - Rate limit: a quota per store per window (150 or 450 requests per 30 s by plan), shared by every app on
 *   the store; each response carries `X-Rate-Limit-Requests-Left`, `X-Rate-Limit-Requests-Quota`,
 *   `X-Rate-Limit-Time-Reset-Ms` and `X-Rate-Limit-Time-Window-Ms`; past the quota: 429.
 * - Orders: `GET /stores/{store_hash}/v2/orders/{id}` (`date_created` in RFC 2822, `status_id`) and
 *   `GET /stores/{store_hash}/v2/orders/{id}/products` (`sku`, `quantity`, `product_id`, `variant_id`; paged by `limit`/`page`;
 *   the OpenAPI document marks `Content-Type` required on it, `Accept` on both).
 * - Order list: `GET /stores/{store_hash}/v2/orders` with `min_date_modified` (RFC 2822 or ISO 8601), `sort`
 *   (`date_modified:asc`), `page` and `limit` (default 50): a JSON array of orders as `GET /v2/orders/{id}` answers
 *   them. The document lists 200 only; an empty page may also come as 204, as the products list does.
 * - Catalog: `GET /stores/{store_hash}/v3/catalog/products?include=variants` with `page`/`limit` (at most 250):
 *   `{ data: [product], meta: { pagination } }`; a product's `inventory_tracking` (`none`, `product`, `variant`) says
 *   whether its stock is kept on the product or on each variant (an adjustment by the other id is refused, as the
 *   inventory document's 422 example "tracked by product" shows).
 * - Webhooks (`store/order/created`, `store/order/updated`, `store/order/statusUpdated`) carry only
 *   `{ scope, store_id, data: { type: "order", id }, hash, created_at, producer }`, signed with Standard Webhooks
 *   (`webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64>`) keyed by the app's client secret: the
 *   documentation verifies with the reference library given the client secret base64-encoded.
 */

export const DEFAULT_BASE_URL = 'https://api.bigcommerce.com';
export const MAX_ITEMS = 2000;

export const AUTH_HEADER = 'x-auth-token';
export const REQUESTS_LEFT_HEADER = 'x-rate-limit-requests-left';
export const REQUESTS_QUOTA_HEADER = 'x-rate-limit-requests-quota';
export const RESET_MS_HEADER = 'x-rate-limit-time-reset-ms';
export const WINDOW_MS_HEADER = 'x-rate-limit-time-window-ms';

export const absoluteAdjustmentPath = (storeHash: string): string => `/stores/${storeHash}/v3/inventory/adjustments/absolute`;
export const orderPath = (storeHash: string, id: number | string): string => `/stores/${storeHash}/v2/orders/${id}`;
export const ordersPath = (storeHash: string): string => `/stores/${storeHash}/v2/orders`;
export const catalogProductsPath = (storeHash: string): string => `/stores/${storeHash}/v3/catalog/products`;
export const orderProductsPath = (storeHash: string, id: number | string): string => `/stores/${storeHash}/v2/orders/${id}/products`;

export type ItemIdentifier = { variant_id: number } | { product_id: number } | { sku: string };

export type AdjustmentItem = ItemIdentifier & { location_id: number; quantity: number };

export interface AbsoluteAdjustment {
  reason?: string;
  items: AdjustmentItem[];
}

/** BigCommerce v3 error body. */
export interface V3Error {
  status: number;
  title: string;
  type?: string;
  errors?: Record<string, string>;
}

export interface OrderWebhook {
  scope: string;
  store_id: string | number;
  data: { type: string; id: number | string; status?: { previous_status_id: number; new_status_id: number } };
  hash?: string;
  created_at: number;
  producer: string;
}

export interface V2Order {
  id: number;
  /** RFC 2822, e.g. `Fri, 27 Nov 2026 13:00:00 +0000`. */
  date_created: string;
  date_modified?: string;
  status_id: number;
  status?: string;
}

/** A catalog product as `GET /v3/catalog/products?include=variants` answers it (the fields the channel reads). */
export interface CatalogProduct {
  id: number;
  name: string;
  sku: string;
  inventory_level: number;
  inventory_tracking: 'none' | 'product' | 'variant';
  variants?: Array<{ id: number; product_id: number; sku: string; inventory_level: number }>;
}

export interface V2OrderProduct {
  id: number;
  order_id: number;
  product_id: number;
  variant_id: number;
  sku: string;
  quantity: number;
  name?: string;
}

/** Order status ids (v2 `status_id`), as the orders document's status table lists them. */
export const ORDER_STATUS = { incomplete: 0, pending: 1, refunded: 4, cancelled: 5, declined: 6, awaitingFulfillment: 11, partiallyRefunded: 14 } as const;
/** Statuses that give the stock back. */
export const STOCK_RETURNED_STATUSES: ReadonlySet<number> = new Set([ORDER_STATUS.refunded, ORDER_STATUS.cancelled, ORDER_STATUS.declined]);
