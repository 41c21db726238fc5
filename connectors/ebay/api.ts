/**
 * The parts of eBay's REST APIs the eBay channel speaks, shared by the connector and its simulator.
 *
 * - Sell Inventory `POST /sell/inventory/v1/bulk_update_price_quantity` body {@link BulkPriceQuantityRequest}:
 *   at most 25 requests per call; answers 200 (all items ok) or 207 (mixed) with {@link BulkPriceQuantityResponse},
 *   one response per offer (or per inventory item when no offer is named).
 *   A listing's quantity is the lower of the inventory item's ship-to-home quantity and the offer's
 *   `availableQuantity`, so both are written.
 * - Sell Inventory `POST /sell/inventory/v1/bulk_get_inventory_item` body `{ requests: [{ sku }] }` (at most 25).
 * - Sell Fulfillment `GET /sell/fulfillment/v1/order/{orderId}` → {@link EbayOrder}.
 * - Notification `GET /commerce/notification/v1/public_key/{public_key_id}` → {@link EbayPublicKey}.
 * - Auth: `Authorization: Bearer <access token>`; 401 with error 1001 otherwise.
 * - Throttle: 429 with error 2001 when the app's call quota for the API is used up; eBay documents no Retry-After
 *   (the simulator sends one only under its `throttle` fault).
 * - Notifications: `POST <endpoint>` body {@link EbayNotification} (topic `ORDER_CONFIRMATION`, one per line item,
 *   carrying only the order id), header `X-EBAY-SIGNATURE: base64(JSON {@link EbaySignatureHeader})`,
 *   the signature being ECDSA (SHA1 digest, DER, base64) over the raw body with the key named by `kid`.
 * - Endpoint validation: `GET <endpoint>?challenge_code=…` answered with
 *   `{ challengeResponse: hex(sha256(challengeCode + verificationToken + endpoint)) }`.
 */

export const BULK_UPDATE_PATH = '/sell/inventory/v1/bulk_update_price_quantity';
export const BULK_GET_PATH = '/sell/inventory/v1/bulk_get_inventory_item';
export const ORDER_PATH = '/sell/fulfillment/v1/order/';
export const PUBLIC_KEY_PATH = '/commerce/notification/v1/public_key/';
export const SIGNATURE_HEADER = 'x-ebay-signature';

/**
 * Requests per bulk call. The reference is ambiguous ("up to 25 inventory items" in the guide, "up to 25 offers"
 * in the method page); 25 inventory items is the reading the connector and simulator use.
 */
export const MAX_BULK_REQUESTS = 25;
/** eBay's documented cap: each listing can be revised 250 times per calendar day. */
export const DAILY_REVISIONS_PER_LISTING = 250;

/** Inventory API error ids. */
export const ErrorIds = {
  /** "A system error has occurred": transient. */
  SYSTEM: 25001,
  /**
   * "A user error has occurred. {additionalInfo}": the Inventory API's generic wrapper for listing-level refusals.
   * The reference publishes no dedicated id for the 250-revisions-per-day block, so it arrives as this id with a
   * message naming the revision limit; the connector recognises it by that message.
   */
  USER: 25002,
  /** The SKU has no inventory item. */
  SKU_NOT_FOUND: 25702,
  /** "Invalid value for {fieldName}": used for a request array above the maximum. */
  INVALID_VALUE: 25709,
  /** The offer does not exist or is not published. */
  OFFER_NOT_AVAILABLE: 25713,
  /** OAuth: invalid access token. */
  INVALID_TOKEN: 1001,
  /** Rate limiter: call quota reached. */
  RATE_LIMITED: 2001,
} as const;

export const REVISION_LIMIT_MESSAGE = /revis(ed|ion)[^.]*(limit|maximum|250)/i;

export interface EbayError {
  errorId: number;
  domain: string;
  category: 'APPLICATION' | 'BUSINESS' | 'REQUEST';
  message: string;
  longMessage?: string;
}

export interface BulkPriceQuantityRequest {
  requests: Array<{
    sku: string;
    shipToLocationAvailability?: { quantity: number };
    offers?: Array<{ offerId: string; availableQuantity?: number }>;
  }>;
}

export interface PriceQuantityResponse {
  statusCode: number;
  sku?: string;
  offerId?: string;
  errors?: EbayError[];
  warnings?: EbayError[];
}

export interface BulkPriceQuantityResponse {
  responses: PriceQuantityResponse[];
}

export interface BulkGetInventoryItemResponse {
  responses: Array<{
    statusCode: number;
    sku: string;
    inventoryItem?: { sku: string; availability?: { shipToLocationAvailability?: { quantity?: number } } };
    errors?: EbayError[];
  }>;
}

export interface EbayOrder {
  orderId: string;
  creationDate: string;
  orderFulfillmentStatus: string;
  cancelStatus: { cancelState: 'NONE_REQUESTED' | 'IN_PROGRESS' | 'CANCELED' };
  lineItems: Array<{ lineItemId: string; sku: string; quantity: number; legacyItemId: string }>;
}

export interface EbayPublicKey {
  algorithm: string;
  digest: string;
  /** PEM-encoded public key. */
  key: string;
}

export interface EbaySignatureHeader {
  alg: string;
  kid: string;
  /** Base64 DER ECDSA signature over the raw body. */
  signature: string;
  digest: string;
}

export interface EbayNotification {
  metadata: { topic: string; schemaVersion: string; deprecated: boolean };
  notification: {
    notificationId: string;
    eventDate: string;
    publishDate: string;
    publishAttemptCount: number;
    data: { orderId: string; legacyItemId?: string; [key: string]: unknown };
  };
}
