/**
 * The parts of Etsy Open API v3 the Etsy channel speaks, shared by the connector and its simulator.
 *
 * - `GET /v3/application/listings/{listing_id}/inventory` → {@link EtsyInventory} (read shape: ids, `is_deleted`,
 *   prices as money objects).
 * - `PUT /v3/application/listings/{listing_id}/inventory` body {@link EtsyInventoryUpdate}: REPLACES the whole
 *   inventory of the listing, so one SKU's quantity is changed by reading the inventory, editing that product's
 *   offering and writing every product back. The write shape differs from the read shape: `product_id`,
 *   `offering_id`, `is_deleted` and `scale_name` must be left out and `price` is a decimal number.
 *   Etsy reissues product and offering ids on every write.
 * - `GET /v3/application/shops/{shop_id}/receipts/{receipt_id}` → {@link EtsyReceipt}.
 * - Auth: `x-api-key: <keystring>:<shared secret>` on every call (403 otherwise) and
 *   `Authorization: Bearer <user id>.<access token>` where a scope is needed (401 otherwise).
 * - Rate limit: per second (default 10) and per day (default 10,000) per app; every answer carries
 *   `x-limit-per-second`, `x-remaining-this-second`, `x-limit-per-day`, `x-remaining-today`; a 429 carries `retry-after`.
 * - Webhooks (`ORDER_PAID`): body {@link EtsyWebhookEvent} carrying the receipt URL, signed Standard-Webhooks style:
 *   `webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">`.
 */

export const API_PREFIX = '/v3/application';
export const inventoryPath = (listingId: string | number): string => `${API_PREFIX}/listings/${listingId}/inventory`;
export const receiptPath = (shopId: string | number, receiptId: string | number): string => `${API_PREFIX}/shops/${shopId}/receipts/${receiptId}`;

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
}

export interface EtsyInventoryUpdate {
  products: Array<{
    sku: string;
    property_values: Array<Omit<EtsyPropertyValue, 'scale_name'>>;
    offerings: Array<{ price: number; quantity: number; is_enabled: boolean }>;
  }>;
  price_on_property: number[];
  quantity_on_property: number[];
  sku_on_property: number[];
}

export interface EtsyTransaction {
  transaction_id: number;
  listing_id: number;
  product_id: number;
  sku: string;
  quantity: number;
  created_timestamp: number;
}

export interface EtsyReceipt {
  receipt_id: number;
  shop_id: number;
  status: 'Paid' | 'Completed' | 'Open' | 'Payment Processing' | 'Canceled' | 'Fully Refunded' | 'Partially Refunded';
  is_paid: boolean;
  /** Unix seconds. */
  created_timestamp: number;
  create_timestamp: number;
  transactions: EtsyTransaction[];
}

export interface EtsyWebhookEvent {
  event_id: string;
  event_type: string;
  created_at: string;
  shop_id: number;
  /** API URL of the resource the event is about (the receipt for order events). */
  resource_url: string;
  /** Some deliveries nest the fields under `data`; both are read. */
  data?: { resource_url?: string; receipt_id?: number; shop_id?: number };
}
