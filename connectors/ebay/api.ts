/**
 * The parts of eBay's REST APIs the eBay channel speaks, shared by the connector and its simulator.
 *
 * - Sell Inventory `POST /sell/inventory/v1/bulk_update_price_quantity` body {@link BulkPriceQuantityRequest}
 *   (`Content-Type: application/json` required): the method text of eBay's sell inventory OpenAPI (1.18.0) says
 *   "Only one SKU (one product) can be updated per call" and "Up to 25 offers associated with an inventory item";
 *   the schema's "up to 25 inventory items" wording is older. One SKU per call with up to 25 of its offers is what
 *   the connector sends and the simulator accepts. Answers 200 (all ok) or 207 (mixed) with
 *   {@link BulkPriceQuantityResponse}, one response per offer (or per inventory item when no offer is named).
 *   A listing's quantity is the lower of the inventory item's ship-to-home quantity and the offer's
 *   `availableQuantity`, so both are written.
 * - Sell Inventory `POST /sell/inventory/v1/bulk_get_inventory_item` body `{ requests: [{ sku }] }` (at most 25).
 * - Sell Fulfillment `GET /sell/fulfillment/v1/order/{orderId}` → {@link EbayOrder}.
 * - Sell Fulfillment `GET /sell/fulfillment/v1/order` (getOrders): `filter=lastmodifieddate:[<ISO 8601>..]` (the
 *   brackets percent-encoded, as eBay's text asks), `limit` (1 to 200, default 50) and `offset` →
 *   {@link OrderSearchPagedCollection}; a bad filter, limit or offset answers 400 with errors 30700 to 31100.
 * - Sell Inventory `GET /sell/inventory/v1/inventory_item` (getInventoryItems, `limit` 1 to 200, default 25, and
 *   `offset`) and `GET /sell/inventory/v1/offer?sku=…` (getOffers: every offer of one SKU, each `PUBLISHED` or
 *   `UNPUBLISHED`, with its `availableQuantity` and, once published, `listing.listingId`).
 * - Notification `GET /commerce/notification/v1/public_key/{public_key_id}` → {@link EbayPublicKey} (an application
 *   token, client-credentials grant, scope `api_scope`); the key is one-line PEM text
 *   (`-----BEGIN PUBLIC KEY-----MFkw…-----END PUBLIC KEY-----`), as eBay's SDK test data shows; 404 error 195001 for an
 *   unknown key id.
 * - Auth: `Authorization: Bearer <access token>`; 401 with error 1001 otherwise. User tokens live about 2 h and are
 *   renewed at `POST /identity/v1/oauth2/token` (form body `grant_type=refresh_token&refresh_token=…&scope=…`,
 *   `Authorization: Basic base64(client_id:client_secret)`), answered `{ access_token, expires_in, token_type }`;
 *   eBay keeps the refresh token (18 months) and does not rotate it. A refused refresh token: 400 `invalid_grant`.
 * - Throttle: 429 with error 2001 when the app's call quota for the API is used up; eBay documents no Retry-After
 *   (the simulator sends one only under its `throttle` fault).
 * - Notifications: `POST <endpoint>` body {@link EbayNotification} (topic `ORDER_CONFIRMATION`, one per line item
 *   per eBay's AsyncAPI contract, carrying `data.order.orderId` and the order's line items by listing id, not SKU),
 *   header `X-EBAY-SIGNATURE: base64(JSON {@link EbaySignatureHeader})`,
 *   the signature being ECDSA (SHA1 digest, DER, base64) over the raw body with the key named by `kid`.
 * - Endpoint validation: `GET <endpoint>?challenge_code=…` answered with
 *   `{ challengeResponse: hex(sha256(challengeCode + verificationToken + endpoint)) }`.
 */

export const BULK_UPDATE_PATH = '/sell/inventory/v1/bulk_update_price_quantity';
export const BULK_GET_PATH = '/sell/inventory/v1/bulk_get_inventory_item';
export const ORDER_PATH = '/sell/fulfillment/v1/order/';
export const ORDERS_PATH = '/sell/fulfillment/v1/order';
export const INVENTORY_ITEMS_PATH = '/sell/inventory/v1/inventory_item';
export const OFFERS_PATH = '/sell/inventory/v1/offer';
export const PUBLIC_KEY_PATH = '/commerce/notification/v1/public_key/';
export const TOKEN_PATH = '/identity/v1/oauth2/token';
/** The scope of application tokens (client-credentials grant), enough for getPublicKey. */
export const APP_SCOPE = 'https://api.ebay.com/oauth/api_scope';
/** Scopes a user token needs for what this channel calls. */
export const USER_SCOPES = ['https://api.ebay.com/oauth/api_scope/sell.inventory', 'https://api.ebay.com/oauth/api_scope/sell.fulfillment'] as const;
export const SIGNATURE_HEADER = 'x-ebay-signature';

/** SKUs per bulkUpdatePriceQuantity call: "Only one SKU (one product) can be updated per call". */
export const MAX_SKUS_PER_PRICE_QUANTITY_CALL = 1;
/** Offers of that SKU per call: "Up to 25 offers associated with an inventory item". */
export const MAX_OFFERS_PER_PRICE_QUANTITY_CALL = 25;
/** Inventory items per bulkGetInventoryItem call ("Up to 25 inventory item records"). */
export const MAX_BULK_GET_REQUESTS = 25;
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
  /** "SKU {additionalInfo} is not available in the system". */
  SKU_NOT_FOUND: 25702,
  /** "Concurrent access of Inventory or InventoryItemGroup. Please try again later" (APPLICATION). */
  CONCURRENT_ACCESS: 25025,
  /** "Invalid value for {fieldName}": used for a request array above the maximum. */
  INVALID_VALUE: 25709,
  /** "This Offer is not available : {additionalInfo}." */
  OFFER_NOT_AVAILABLE: 25713,
  /** Notification API: "The specified key id is invalid." (404). */
  PUBLIC_KEY_NOT_FOUND: 195001,
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

/** The parts of the Fulfillment API's `Order` the channel reads (every field is optional in eBay's schema). */
export interface EbayOrder {
  orderId: string;
  legacyOrderId?: string;
  creationDate: string;
  lastModifiedDate?: string;
  orderFulfillmentStatus: 'NOT_STARTED' | 'IN_PROGRESS' | 'FULFILLED';
  orderPaymentStatus?: string;
  sellerId?: string;
  cancelStatus: { cancelState: 'NONE_REQUESTED' | 'IN_PROGRESS' | 'CANCELED'; cancelRequests: unknown[] };
  lineItems: Array<{ lineItemId: string; legacyItemId: string; sku?: string; title?: string; quantity: number; [key: string]: unknown }>;
  [key: string]: unknown;
}

/** getOrders' answer (`OrderSearchPagedCollection`). */
export interface OrderSearchPagedCollection {
  href?: string;
  limit?: number;
  offset?: number;
  next?: string;
  prev?: string;
  orders?: EbayOrder[];
  total?: number;
  warnings?: EbayError[];
}

/** getInventoryItems' answer (`InventoryItems`): the fields the channel reads. */
export interface InventoryItemsPage {
  href?: string;
  inventoryItems?: Array<{ sku: string; availability?: { shipToLocationAvailability?: { quantity?: number } }; product?: { title?: string } }>;
  limit?: number;
  next?: string;
  size?: number;
  total?: number;
}

/** getOffers' answer (`Offers`): the fields the channel reads. */
export interface OffersPage {
  offers?: Array<{ offerId: string; sku: string; status?: 'PUBLISHED' | 'UNPUBLISHED'; availableQuantity?: number; listing?: { listingId?: string } }>;
  total?: number;
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

export interface EbayNotification<Data = Record<string, unknown>> {
  metadata: { topic: string; schemaVersion: string | null; deprecated: boolean };
  notification: {
    notificationId: string;
    eventDate: string;
    publishDate: string;
    publishAttemptCount: number;
    data: Data;
  };
}

/** `notification.data` of an ORDER_CONFIRMATION notification. */
export interface OrderConfirmationData {
  user?: { userId: string; username: string };
  order: { orderId: string; orderLineItems?: Array<{ orderLineItemId: string; listingId: string; quantity: number }> };
}

/** The token endpoint's answer to a refresh-token or client-credentials grant. */
export interface EbayTokenResponse {
  access_token: string;
  /** Seconds. */
  expires_in: number;
  token_type: string;
}

/** The token endpoint's OAuth error answer. */
export interface EbayOAuthError {
  error: string;
  error_description?: string;
}
