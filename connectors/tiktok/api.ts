/**
 * The parts of the TikTok Shop Partner API (version 202309) the TikTok channel speaks, shared by the connector and
 * its simulator.
 *
 * - `POST /product/202309/products/{product_id}/inventory/update` body {@link InventoryUpdateBody}: the SKUs of one
 *   product per call. SKUs refused one by one are listed in `data.errors[]` ({@link InventoryUpdateData}); the others
 *   were written. (Models: TikTok Shop's Node SDK, `Product202309UpdateInventory*`.)
 * - `POST /product/202309/inventory/search` body `{ sku_ids }` → {@link InventorySearchData}.
 * - `GET /order/202309/orders?ids=…` → {@link OrdersData}; `line_items` hold one entry per unit sold.
 * - `POST /order/202309/orders/search?page_size=&sort_field=update_time&sort_order=ASC[&page_token=]` body
 *   `{ update_time_ge }` → {@link OrderSearchData} (`orders`, `next_page_token`, `total_count`); `page_size` 1-100.
 *   (Models: the SDK's `Order202309GetOrderList*`.)
 * - `POST /product/202309/products/search?page_size=[&page_token=]` body `{ status? }` → {@link ProductSearchData}:
 *   products with their SKUs' `id`, `seller_sku` and `inventory[]`. (Models: `Product202309SearchProducts*`.)
 * - Every call carries query `app_key`, `timestamp` (unix seconds, within 5 minutes), `shop_cipher`, `sign`
 *   (see request-signature.ts) and headers `x-tts-access-token` and `Content-Type: application/json`, which the SDK
 *   marks required on every one of these operations, GET order detail included.
 * - Access tokens are renewed at `GET https://auth.tiktok-shops.com/api/v2/token/refresh` with query `app_key`,
 *   `app_secret`, `refresh_token`, `grant_type=refresh_token`; the answer's `data` is {@link TokenData}, whose
 *   `*_expire_in` are unix timestamps (seconds), not durations. An expired access token is answered code 105002.
 * - Every answer is `{ code, message, data, request_id }`; `code` 0 is success. Codes the channel uses:
 *   {@link Codes}.
 * - Webhooks: `POST <endpoint>` body {@link TiktokWebhook} (type 1 ORDER_STATUS_CHANGE carries only the order id),
 *   header `Authorization: hex(HMAC-SHA256(app_secret, app_key + raw body))`.
 */

export const API_VERSION = '202309';
export const inventoryUpdatePath = (productId: string): string => `/product/${API_VERSION}/products/${productId}/inventory/update`;
export const INVENTORY_SEARCH_PATH = `/product/${API_VERSION}/inventory/search`;
export const ORDERS_PATH = `/order/${API_VERSION}/orders`;
export const ORDERS_SEARCH_PATH = `/order/${API_VERSION}/orders/search`;
export const PRODUCTS_SEARCH_PATH = `/product/${API_VERSION}/products/search`;
/** Largest `page_size` of the order and product searches. */
export const MAX_SEARCH_PAGE_SIZE = 100;
export const ACCESS_TOKEN_HEADER = 'x-tts-access-token';
export const TOKEN_REFRESH_PATH = '/api/v2/token/refresh';
export const DEFAULT_AUTH_BASE_URL = 'https://auth.tiktok-shops.com';

/** Most SKUs the simulator accepts in one inventory update (TikTok's per-product SKU maximum). */
export const MAX_SKUS_PER_PRODUCT = 100;

export const Codes = {
  OK: 0,
  /** Too many requests (answered with HTTP 429). */
  RATE_LIMITED: 36009002,
  /** Internal error: transient. */
  INTERNAL: 36009003,
  /** Invalid parameter, including a bad `app_key` or a stale `timestamp`. */
  INVALID_PARAMETER: 36009004,
  /** Expired or invalid access token. */
  ACCESS_TOKEN_EXPIRED: 105002,
  /** Invalid `x-tts-access-token`. */
  ACCESS_TOKEN_INVALID: 36004004,
  /** The `sign` does not match. */
  INVALID_SIGNATURE: 106001,
  /**
   * The product or one of its SKUs does not exist in the shop. The product errors of the inventory update are
   * business codes in the 12052xxx family; TikTok publishes no list of them in its SDK, so this one (and
   * {@link Codes.SKU_LOCKED}) is the simulator's choice within it, and the connector reads any other per-SKU
   * code as a refusal of that SKU alone.
   */
  PRODUCT_NOT_FOUND: 12052048,
  /** The SKU is being edited or reviewed and cannot take a stock change now (the simulator's choice of code). */
  SKU_LOCKED: 12052230,
  /** The refresh token is invalid or expired (token endpoint). */
  REFRESH_TOKEN_INVALID: 36004013,
} as const;

export interface TiktokEnvelope<T = unknown> {
  code: number;
  message: string;
  data?: T;
  request_id: string;
}

/** `data` of the inventory update answer: the SKUs refused one by one. */
export interface InventoryUpdateData {
  errors?: Array<{
    code: number;
    message: string;
    detail?: { sku_id?: string; extra_errors?: Array<{ warehouse_id?: string; code?: number; message?: string }> };
  }>;
}

/** `data` of the token endpoint's answer. */
export interface TokenData {
  access_token: string;
  /** Unix seconds at which the access token expires. */
  access_token_expire_in: number;
  refresh_token: string;
  /** Unix seconds at which the refresh token expires. */
  refresh_token_expire_in: number;
  open_id?: string;
  seller_name?: string;
  seller_base_region?: string;
  user_type?: number;
}

export interface InventoryUpdateBody {
  skus: Array<{ id: string; inventory: Array<{ warehouse_id?: string; quantity: number }> }>;
}

export interface InventorySearchData {
  inventory: Array<{
    product_id: string;
    skus: Array<{ id: string; seller_sku: string; total_available_quantity: number; warehouse_inventory: Array<{ warehouse_id: string; available_quantity: number }> }>;
  }>;
}

export interface TiktokLineItem {
  id: string;
  product_id: string;
  sku_id: string;
  seller_sku: string;
  sku_name: string;
  /** The line's own status: `CANCELLED` for a line cancelled while the rest of the order goes on. */
  display_status: string;
  cancel_user?: string;
  cancel_reason?: string;
}

export interface TiktokOrder {
  id: string;
  status: 'UNPAID' | 'ON_HOLD' | 'AWAITING_SHIPMENT' | 'PARTIALLY_SHIPPING' | 'AWAITING_COLLECTION' | 'IN_TRANSIT' | 'DELIVERED' | 'COMPLETED' | 'CANCELLED';
  /** Unix seconds. */
  create_time: number;
  update_time: number;
  /** Unix seconds, once the order is cancelled. */
  cancel_time?: number;
  line_items: TiktokLineItem[];
}

/** `data` of the order search answer. */
export interface OrderSearchData {
  orders: unknown[];
  next_page_token?: string;
  total_count?: number;
}

/** `data` of the product search answer: the fields the channel reads. */
export interface ProductSearchData {
  products: Array<{
    id: string;
    title?: string;
    status?: string;
    skus?: Array<{ id: string; seller_sku?: string; inventory?: Array<{ warehouse_id?: string; quantity?: number }> }>;
  }>;
  next_page_token?: string;
  total_count?: number;
}

export interface OrdersData {
  orders: TiktokOrder[];
}

/** A webhook as TikTok sends it (shape of the SDK test sample; see test/fixtures/vendor/tiktok/SOURCE). */
export interface TiktokWebhook {
  /** 1 = ORDER_STATUS_CHANGE. */
  type: number;
  tts_notification_id?: string;
  shop_id: string;
  timestamp: number;
  data: { order_id: string; order_status: TiktokOrder['status']; is_on_hold_order?: boolean; update_time: number };
}

export const ORDER_STATUS_CHANGE = 1;
