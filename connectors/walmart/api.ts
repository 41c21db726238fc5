/**
 * The parts of the Walmart Marketplace API (US) this connector speaks, as documented.
 *
 * Auth: `POST /v3/token`, `Authorization: Basic base64(clientId:clientSecret)`, form body `grant_type=client_credentials`,
 * `Accept: application/json` → `{ access_token, token_type: "Bearer", expires_in: 900 }` (15-minute tokens).
 * Every API call carries `WM_SEC.ACCESS_TOKEN`, `WM_QOS.CORRELATION_ID` (a fresh id per request), `WM_SVC.NAME`,
 * `Accept: application/json` and, as the documented samples do, the same Basic `Authorization` header.
 * A missing, invalid or expired token → 401; a token without the needed scope → 403.
 *
 * Inventory: `PUT /v3/inventory?sku=<sku>[&shipNode=<id>]` body {@link WalmartInventory}
 * `{ sku, quantity: { unit: "EACH", amount } }` → 200 with the same shape. One SKU per call;
 * `GET /v3/inventory?sku=<sku>` reads it back.
 *
 * Bulk inventory feed (the bulk lane): `POST /v3/feeds?feedType=inventory[&shipNode=<id>]`, multipart/form-data with
 * one `file` part holding the spec 1.4 JSON feed {@link WalmartInventoryFeed} `{ InventoryHeader: { version: "1.4" },
 * Inventory: [{ sku, quantity: { unit: "EACH", amount } }] }` → 200 `{ feedId }`. Walmart processes it later:
 * `GET /v3/feeds/{feedId}` → {@link WalmartFeedStatus} with `feedStatus` RECEIVED, INPROGRESS, PROCESSED (every line
 * in an end state) or ERROR (the feed as a whole failed, no line applied, the reason in the feed's `ingestionErrors`);
 * with `includeDetails=true&offset=&limit=` (at most 50 a page) each line's `ingestionStatus` (SUCCESS, DATA_ERROR,
 * SYSTEM_ERROR, TIMEOUT_ERROR, INPROGRESS) and `ingestionErrors`. The feed limits are Walmart's throttling page's
 * (see {@link INVENTORY_FEED_RATE}); the `MP_INVENTORY` multi-node feed (spec 1.5) is not used.
 *
 * Errors: `{ errors: [{ code, field, description, info, severity, category, causes }] }` (see {@link WalmartError}).
 *
 * Rate limits: per API and per seller, token-bucket style; a throttled call answers 429 (`REQUEST_THRESHOLD_VIOLATED`)
 * and responses carry `x-current-token-count` and `x-next-replenish-time` (the time the next token is back).
 * The inventory update's own numbers were not found in the public documentation; {@link INVENTORY_RATE} is an assumption.
 *
 * Orders: `GET /v3/orders/{purchaseOrderId}` → `{ order: { purchaseOrderId, orderDate, orderLines: { orderLine: [
 * { lineNumber, item: { sku }, orderLineQuantity: { unitOfMeasurement, amount } }] } } }`.
 *
 * `GET /v3/orders?lastModifiedStartDate=<ISO>&limit=<1..200>` (all orders; default `createdStartDate` is seven days
 * back, `shipNodeType` SellerFulfilled, `limit` 100) → `{ list: { meta: { totalCount, limit, nextCursor }, elements: {
 * order: [...] } } }`; `nextCursor` is the query string of the next page (`?limit=…&hasMoreElements=true&soIndex=…`),
 * sent as is. Each line's `orderLineStatuses.orderLineStatus[]` splits its quantity by status (`Created`,
 * `Acknowledged`, `Shipped`, `Delivered`, `Cancelled`, `Refund`). A refund carries charges only (no restock
 * information), and the returns API (`GET /v3/returns`) none either, so neither is read as a return.
 *
 * Items: `GET /v3/items?nextCursor=*&limit=<..50>&lifecycleStatus=ACTIVE` → `{ ItemResponse: [{ sku, productName,
 * lifecycleStatus, publishedStatus, ... }], totalItems, nextCursor }`; the next page passes the answer's `nextCursor`.
 *
 * Webhooks (event notifications): `PO_CREATED` posts {@link PoEventNotification} to the subscription's `eventUrl`;
 * its `orderLines` carry `sku` and `quantity.measurementValue`, so no fetch is needed (the connector still fetches the
 * order when a notification arrives without lines). `PO_LINE_AUTOCANCELLED` has the same shape for cancelled lines.
 * Authentication of a delivery is chosen per subscription (`authMethod`): BASIC_AUTH, HMAC or OAUTH. With HMAC
 * Walmart sends, in the header named by the subscription's `authHeaderName`, the HMAC-SHA256 of the complete body
 * keyed with the subscription's `clientSecret`. The digest's encoding is not documented; hex and base64 are accepted.
 */

export const TOKEN_PATH = '/v3/token';
export const INVENTORY_PATH = '/v3/inventory';
export const ORDERS_PATH = '/v3/orders';
export const ITEMS_PATH = '/v3/items';
/** Orders per `GET /v3/orders` page asked for (Walmart allows up to 200), and items per `GET /v3/items` page (up to 50). */
export const ORDERS_PAGE_LIMIT = 100;
export const ORDERS_PAGE_MAX = 200;
export const ITEMS_PAGE_LIMIT = 50;
/**
 * Assumed rate of the order and item reads: Walmart publishes per-API limits only on its rate-limiting page, not in
 * the OpenAPI documents; the simulator throttles them with this bucket and the documented 429 shape.
 */
export const READ_RATE = { perSecond: 5, burst: 10 };
export const DEFAULT_BASE_URL = 'https://marketplace.walmartapis.com';
export const DEFAULT_SERVICE_NAME = 'Walmart Marketplace';
/** The header the HMAC digest travels in unless the subscription named another (`authHeaderName`). */
export const DEFAULT_WEBHOOK_HEADER = 'authorization';

export const TOKEN_COUNT_HEADER = 'x-current-token-count';
export const REPLENISH_HEADER = 'x-next-replenish-time';

/** Assumed single-item inventory update rate: the public documentation gives no figure for this call. */
export const INVENTORY_RATE = { perSecond: 5, burst: 10 };

export const FEEDS_PATH = '/v3/feeds';
/** The spec 1.4 single-node inventory feed: its `feedType` and the `InventoryHeader.version` it carries. */
export const INVENTORY_FEED_TYPE = 'inventory';
export const INVENTORY_FEED_VERSION = '1.4';
/**
 * Walmart's rate for the inventory feed: 10 per hour (developer.walmart.com/us-marketplace/docs/throttling, "ASYNC API
 * throttling limits", Inventory, POST Bulk Inventory Update). The page says hourly allotments come back gradually
 * ("if 20 calls are available every hour, one call will be available every 3 minutes"): a bucket of 10 that refills one
 * every 6 minutes.
 */
export const INVENTORY_FEED_RATE = { perSecond: 10 / 3600, burst: 10 };
/**
 * Max file size per inventory feed: 5 MB (same row), read as 5,000,000 bytes, the smaller reading. A larger file is
 * refused with 413 Payload Too Large (developer.walmart.com/us-marketplace/docs/rate-limiting).
 */
export const INVENTORY_FEED_MAX_BYTES = 5_000_000;
/** Lines per inventory feed: 50,000 (Seller Center's feed limits table, marketplacelearn.walmart.com, Inventory Feed). */
export const INVENTORY_FEED_MAX_ITEMS = 50_000;
/** Processing time per inventory feed: 30 minutes (the throttling page's row, and Seller Center's table). */
export const INVENTORY_FEED_PROCESSING_MS = 30 * 60_000;
/** Lines per `GET /v3/feeds/{feedId}` page: the `limit` parameter "cannot be more than 50". */
export const FEED_STATUS_PAGE_LIMIT = 50;

export interface WalmartTokenResponse {
  access_token: string;
  token_type: string;
  expires_in: number;
}

export interface WalmartError {
  code: string;
  field?: string;
  description?: string;
  info?: string;
  severity?: 'ERROR' | 'WARN' | 'INFO';
  category?: 'APPLICATION' | 'DATA' | 'SYSTEM' | 'REQUEST';
  causes?: unknown[];
}

export interface WalmartInventory {
  sku: string;
  quantity: { unit: 'EACH'; amount: number };
}

export interface PoEventLine {
  lineNumber: string;
  sku: string;
  productName?: string;
  quantity: { unitOfMeasure: string; measurementValue: string };
  status?: string;
  statusDate?: string;
}

export interface PoEventNotification {
  source: { eventType: 'PO_CREATED' | 'PO_LINE_AUTOCANCELLED' | string; eventTime: string; eventId: string };
  payload: {
    partnerId?: string;
    purchaseOrderId: string;
    customerOrderId?: string;
    orderDate?: string | number;
    orderLines?: PoEventLine[];
  };
}

/** `GET /v3/orders` answer (PurchaseOrderTypeV3). */
export interface WalmartOrderList {
  list: {
    meta: { totalCount?: number; limit?: number; nextCursor?: string };
    elements: { order: unknown[] };
  };
}

/** `GET /v3/items` answer (ItemResponses, the parts read here). */
export interface WalmartItemList {
  ItemResponse: Array<{ sku: string; productName?: string; lifecycleStatus?: string; publishedStatus?: string }>;
  totalItems?: number;
  nextCursor?: string;
}

export interface WalmartOrder {
  purchaseOrderId: string;
  customerOrderId: string;
  /** Epoch milliseconds. */
  orderDate: number;
  orderLines: {
    orderLine: Array<{
      lineNumber: string;
      item: { productName?: string; sku: string };
      orderLineQuantity: { unitOfMeasurement: string; amount: string };
    }>;
  };
}

/** The spec 1.4 inventory feed file (Walmart's InventoryFeed.json schema). */
export interface WalmartInventoryFeed {
  InventoryHeader: { version: string };
  Inventory: WalmartInventory[];
}

export type WalmartIngestionStatus = 'INPROGRESS' | 'SUCCESS' | 'DATA_ERROR' | 'SYSTEM_ERROR' | 'TIMEOUT_ERROR';

/** One ingestion error (IngestionError), of a line or of the feed as a whole. */
export interface WalmartIngestionError {
  type: 'DATA_ERROR' | 'SYSTEM_ERROR' | 'TIMEOUT_ERROR';
  code: string;
  description?: string;
}

/** One line of a feed as `GET /v3/feeds/{feedId}?includeDetails=true` reports it (PartnerItemIngestionStatus). */
export interface WalmartItemIngestion {
  martId?: number;
  sku?: string;
  wpid?: string;
  /** The line's position in the feed file, from 0. */
  index?: number;
  ingestionStatus: WalmartIngestionStatus;
  ingestionErrors?: { ingestionError?: WalmartIngestionError[] };
}

/** `GET /v3/feeds/{feedId}` answer (PartnerFeedResponse). */
export interface WalmartFeedStatus {
  feedId?: string;
  feedStatus?: 'RECEIVED' | 'INPROGRESS' | 'PROCESSED' | 'ERROR';
  ingestionErrors?: { ingestionError?: WalmartIngestionError[] };
  itemsReceived?: number;
  itemsSucceeded?: number;
  itemsFailed?: number;
  itemsProcessing?: number;
  offset?: number;
  limit?: number;
  itemDetails?: { itemIngestionStatus?: WalmartItemIngestion[] };
}
