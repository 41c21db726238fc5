/**
 * The parts of Etsy Open API v3 the Etsy channel speaks, shared by the connector and its simulator. Checked
 * against Etsy's published OpenAPI document (test/fixtures/vendor/etsy/openapi-3.0.0.trimmed.json).
 *
 * - `GET /v3/application/listings/{listing_id}/inventory` → {@link EtsyInventory} (read shape: ids, `is_deleted`,
 *   prices as money objects).
 * - `PUT /v3/application/listings/{listing_id}/inventory` body {@link EtsyInventoryUpdate}: REPLACES the whole
 *   inventory of the listing, so one SKU's quantity is changed by reading the inventory, editing that product's
 *   offering and writing every product back. The write shape differs from the read shape: `product_id`,
 *   `offering_id`, `is_deleted` and `scale_name` must be left out and `price` is a decimal number.
 *   Etsy reissues product and offering ids on every write.
 * - `GET /v3/application/shops/{shop_id}/receipts/{receipt_id}` → {@link EtsyReceipt} (`status` in lower case:
 *   `paid`, `canceled`, ...; `transactions[]` with `listing_id`, `sku`, `quantity`).
 * - Auth: `x-api-key: <keystring>:<shared secret>` on every call (403 otherwise) and
 *   `Authorization: Bearer <user id>.<access token>` where a scope is needed. Access tokens live one hour; an
 *   expired one is answered 401 `{"error":"invalid_token","error_description":"access token is expired"}`.
 *   `POST /v3/public/oauth/token` (form: `grant_type=refresh_token`, `client_id`, `refresh_token`) answers
 *   `{ access_token, token_type: "Bearer", expires_in: 3600, refresh_token }` with a NEW refresh token each time;
 *   a refused one answers 400 `{"error":"invalid_grant", ...}`.
 * - `GET /v3/application/shops/{shop_id}/receipts?min_last_modified=&sort_on=updated&sort_order=asc&limit=&offset=`
 *   (getShopReceipts) → {@link EtsyReceipts}: `{ count, results }`, `limit` 1-100, `offset` from 0.
 * - `GET /v3/application/shops/{shop_id}/listings?state=active&limit=&offset=` (getListingsByShop) →
 *   `{ count, results: ShopListing[] }`; each listing's SKUs and quantities come from its inventory.
 * - Errors: `{ "error": "<text>" }` (the document's ErrorSchema).
 * - Rate limit: per second (default 10) and per day (default 10,000) per app; every answer carries
 *   `x-limit-per-second`, `x-remaining-this-second`, `x-limit-per-day`, `x-remaining-today`; a 429 carries `retry-after`.
 * - Webhooks (`order.paid`): a flat body `{ event_type, resource_url, shop_id }` where `resource_url` is the
 *   receipt's API URL, signed the Standard Webhooks way (`webhook-id`, `webhook-timestamp`, `webhook-signature`).
 */

export const API_PREFIX = '/v3/application';
// Every id is encoded: ids read from a webhook never reach the request line as anything but one path segment.
export const inventoryPath = (listingId: string | number): string => `${API_PREFIX}/listings/${encodeURIComponent(String(listingId))}/inventory`;
export const receiptPath = (shopId: string | number, receiptId: string | number): string =>
  `${API_PREFIX}/shops/${encodeURIComponent(String(shopId))}/receipts/${encodeURIComponent(String(receiptId))}`;
export const receiptsPath = (shopId: string | number): string => `${API_PREFIX}/shops/${encodeURIComponent(String(shopId))}/receipts`;
export const shopListingsPath = (shopId: string | number): string => `${API_PREFIX}/shops/${encodeURIComponent(String(shopId))}/listings`;
/** Most results getShopReceipts and getListingsByShop return per call (their `limit` maximum). */
export const MAX_PAGE_LIMIT = 100;
export const TOKEN_PATH = '/v3/public/oauth/token';

/** A receipt URL as Etsy puts it in `resource_url`; any host, ids as digits only. */
export const RECEIPT_URL = /^https?:\/\/[^/?#]+\/v3\/application\/shops\/(\d{1,20})\/receipts\/(\d{1,20})\/?(?:[?#].*)?$/;

/** Largest offering quantity Etsy accepts. */
export const MAX_OFFERING_QUANTITY = 999;

export const RateHeaders = {
  LIMIT_PER_SECOND: 'x-limit-per-second',
  REMAINING_THIS_SECOND: 'x-remaining-this-second',
  LIMIT_PER_DAY: 'x-limit-per-day',
  REMAINING_TODAY: 'x-remaining-today',
} as const;

export interface EtsyMoney {
  amount: number;
  divisor: number;
  currency_code: string;
}

export interface EtsyPropertyValue {
  property_id: number;
  property_name: string | null;
  scale_id: number | null;
  scale_name?: string | null;
  value_ids: number[];
  values: string[];
}

export interface EtsyOffering {
  offering_id: number;
  quantity: number;
  is_enabled: boolean;
  is_deleted: boolean;
  price: EtsyMoney;
  /** The offering's processing profile, on listings that have them (newer than the 2023 document). */
  readiness_state_id?: number | null;
}

export interface EtsyProduct {
  product_id: number;
  sku: string;
  is_deleted: boolean;
  offerings: EtsyOffering[];
  property_values: EtsyPropertyValue[];
}

export interface EtsyInventory {
  products: EtsyProduct[];
  price_on_property: number[];
  quantity_on_property: number[];
  sku_on_property: number[];
  readiness_state_on_property?: number[];
}

export interface EtsyInventoryUpdate {
  products: Array<{
    sku: string;
    property_values: Array<Omit<EtsyPropertyValue, 'scale_name'>>;
    offerings: Array<{ price: number; quantity: number; is_enabled: boolean; readiness_state_id?: number }>;
  }>;
  price_on_property: number[];
  quantity_on_property: number[];
  sku_on_property: number[];
  readiness_state_on_property?: number[];
}

export interface EtsyTransaction {
  transaction_id: number;
  listing_id: number | null;
  product_id: number | null;
  sku: string | null;
  quantity: number;
  created_timestamp: number;
}

/** Receipt `status` values of the document's ShopReceipt schema. */
export type EtsyReceiptStatus = 'paid' | 'completed' | 'open' | 'payment processing' | 'canceled' | 'fully refunded' | 'partially refunded';

export interface EtsyReceipt {
  receipt_id: number;
  status: EtsyReceiptStatus;
  is_paid: boolean;
  /** Unix seconds. */
  created_timestamp: number;
  create_timestamp: number;
  transactions: EtsyTransaction[];
}

/** getShopReceipts' answer (the document's ShopReceipts). */
export interface EtsyReceipts {
  count: number;
  results: unknown[];
}

/** The fields of a ShopListing the channel reads. */
export interface EtsyShopListing {
  listing_id: number;
  title: string;
  state: string;
}

/** getListingsByShop's answer (the document's ShopListingsWithAssociations). */
export interface EtsyShopListings {
  count: number;
  results: EtsyShopListing[];
}

/** An Etsy webhook body: the flat shape Etsy sends (`data.resource_url` of the older documentation is read too). */
export interface EtsyWebhookEvent {
  event_type: string;
  resource_url?: string;
  shop_id?: number | string;
  data?: { resource_url?: string };
}

export interface EtsyTokenResponse {
  access_token: string;
  token_type: string;
  expires_in: number;
  refresh_token?: string;
}
