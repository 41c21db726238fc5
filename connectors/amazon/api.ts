/**
 * The parts of Amazon's Selling Partner API (and of Amazon SQS) this connector speaks, as documented.
 *
 * Auth (Login with Amazon):
 * - `POST https://api.amazon.com/auth/o2/token`, form body `grant_type=refresh_token&refresh_token&client_id&client_secret`
 *   → `{ access_token, refresh_token, token_type: "bearer", expires_in: 3600 }`; a bad grant → 400 `{ error: "invalid_grant", error_description }`,
 *   bad client → 401 `{ error: "invalid_client", error_description }`.
 * - Every SP-API call carries `x-amz-access-token: <access_token>`. Since 2 October 2023 SP-API no longer requires
 *   AWS IAM or Signature Version 4 (a signature sent anyway is disregarded), so SP-API calls are not signed.
 * - Missing, malformed or expired token → 403 `{ errors: [{ code: "Unauthorized", message, details }] }`.
 *
 * Listings Items 2021-08-01, `patchListingsItem` (usage plan 5 requests/s, burst 5):
 * - `PATCH /listings/2021-08-01/items/{sellerId}/{sku}?marketplaceIds=<id>` (sku URL-encoded),
 *   body {@link ListingsItemPatchRequest}: `productType` and `patches` are both required.
 *   Optional query parameters `issueLocale` (language of issue messages) and `includedData` / `mode`
 *   change only what comes back or whether the patch is merely validated; they are not sent.
 * - 200 {@link ListingsItemSubmissionResponse}: `status: "ACCEPTED"` (the change is taken, applied asynchronously)
 *   or `"INVALID"` with `issues[]` of severity `ERROR`.
 * - 400 / 403 / 413 / 415 / 429 / 500 / 503 → `{ errors: [{ code, message, details }] }`.
 * - 429 carries no documented `Retry-After`; successful answers carry `x-amzn-RateLimit-Limit: <requests per second>`.
 * - One SKU per call; many SKUs at once go through the `JSON_LISTINGS_FEED` below.
 *
 * `getListingsItem` (5/s, burst 10): `GET` the same path with `includedData=fulfillmentAvailability`
 * → `{ sku, fulfillmentAvailability: [{ fulfillmentChannelCode: "DEFAULT", quantity }] }`; 404 when the listing does not exist.
 *
 * Orders 2026-01-01 `getOrder` (0.5/s, burst 30; successor of the deprecated Orders v0 `getOrder`/`getOrderItems`):
 * - `GET /orders/2026-01-01/orders/{orderId}?includedData=FULFILLMENT` → {@link GetOrderResponse} `{ order: { orderId,
 *   createdTime, lastUpdatedTime, salesChannel, orderItems: [{ orderItemId, quantityOrdered, product: { sellerSku } }],
 *   fulfillment: { fulfillmentStatus, fulfilledBy } } }`: the items come with the order, no second call.
 * - 400 / 403 / 404 / 413 / 415 / 429 / 500 / 503 → `{ errors: [{ code, message, details }] }`.
 *
 * Orders 2026-01-01 `searchOrders` (0.0056/s, burst 20: one call every three minutes once the burst is spent):
 * - `GET /orders/2026-01-01/orders?lastUpdatedAfter=<ISO>&marketplaceIds=<id>&fulfilledBy=MERCHANT&maxResultsPerPage=100
 *   &includedData=FULFILLMENT` → {@link SearchOrdersResponse} `{ orders: Order[], pagination?: { nextToken }, lastUpdatedBefore? }`.
 *   Exactly one of `createdAfter` / `lastUpdatedAfter` is required; array parameters are comma-separated.
 * - The next page: the same parameters plus `paginationToken=<nextToken>` (only `maxResultsPerPage` and `includedData`
 *   may change); no `pagination` on the last page; a token expires after 24 hours.
 *
 * Listings Items 2021-08-01 `searchListingsItems` (5/s, burst 5):
 * - `GET /listings/2021-08-01/items/{sellerId}?marketplaceIds=<id>&includedData=summaries,fulfillmentAvailability
 *   &pageSize=20&sortBy=sku&sortOrder=ASC[&pageToken=<nextToken>]` → {@link ItemSearchResults}
 *   `{ numberOfResults, items: [{ sku, summaries[{ productType, itemName }], fulfillmentAvailability[] }], pagination? }`.
 *   At most 1000 SKUs can be paged through.
 *
 * Feeds 2021-06-30, the bulk lane (`JSON_LISTINGS_FEED`; models/feeds-api-model/feeds_2021-06-30.json and
 * schemas/feeds/listings-feed-*-v2.json):
 * - `createFeedDocument` (0.5/s, burst 15): `POST /feeds/2021-06-30/documents` `{ contentType }` → 201 `{ feedDocumentId, url }`;
 *   the presigned `url` takes the document by `PUT` with the same `Content-Type`, and expires after 5 minutes.
 * - `createFeed` (0.0083/s, burst 15): `POST /feeds/2021-06-30/feeds` `{ feedType, marketplaceIds, inputFeedDocumentId }` → 202 `{ feedId }`.
 *   The `JSON_LISTINGS_FEED` type has a limit of its own on top: five feeds per five minutes per region (changelog of 2025-05-06).
 * - `getFeed` (2/s, burst 15): `GET /feeds/2021-06-30/feeds/{feedId}` → `{ feedId, feedType, processingStatus, resultFeedDocumentId? }`,
 *   `processingStatus` one of IN_QUEUE, IN_PROGRESS, DONE, CANCELLED, FATAL.
 * - `getFeedDocument` (0.0222/s, burst 10): `GET /feeds/2021-06-30/documents/{feedDocumentId}` → `{ feedDocumentId, url, compressionAlgorithm? }`;
 *   `url` (5 minutes) serves the processing report, gzip-compressed when `compressionAlgorithm` is `GZIP`.
 * - The feed: `{ header: { sellerId, version: "2.0", issueLocale }, messages: [{ messageId, sku, operationType: "PATCH", productType,
 *   patches }] }`, 1 to 25,000 messages. The report: `{ header, issues: [{ messageId?, sku?, code?, severity, message }], summary }`;
 *   an issue without `messageId` concerns the document as a whole.
 *
 * Notifications: `ORDER_CHANGE` is delivered to an Amazon SQS queue (or EventBridge), never over HTTP.
 * The message body is the notification JSON {@link OrderChangeNotification} (schemas/notifications/OrderChangeNotification.json
 * of amzn/selling-partner-api-models): its required `Summary` carries the order's status, fulfillment type and
 * `OrderItems[]` with `SellerSKU` and `Quantity`, so an order is read without calling the Orders API.
 * SQS is spoken with its JSON protocol: `POST /` on the queue's endpoint, `content-type: application/x-amz-json-1.0`,
 * `x-amz-target: AmazonSQS.ReceiveMessage | AmazonSQS.DeleteMessage`, body with `QueueUrl`. Unlike SP-API, SQS still
 * requires every request to be signed with AWS Signature Version 4 (service `sqs`) by credentials the queue policy allows.
 */

export const LISTINGS_PATH = '/listings/2021-08-01/items';
export const ORDERS_PATH = '/orders/2026-01-01/orders';
/** `searchListingsItems` is `GET` on the seller's listings collection. */
export const listingsSearchPath = (sellerId: string): string => `${LISTINGS_PATH}/${encodeURIComponent(sellerId)}`;
export const FEEDS_PATH = '/feeds/2021-06-30/feeds';
export const FEED_DOCUMENTS_PATH = '/feeds/2021-06-30/documents';
export const LISTINGS_FEED_TYPE = 'JSON_LISTINGS_FEED';
/** The content type a JSON listings feed document is created and uploaded with. */
export const LISTINGS_FEED_CONTENT_TYPE = 'application/json; charset=UTF-8';
export const RATE_LIMIT_HEADER = 'x-amzn-ratelimit-limit';
export const SQS_CONTENT_TYPE = 'application/x-amz-json-1.0';
export const SQS_TARGET_RECEIVE = 'AmazonSQS.ReceiveMessage';
export const SQS_TARGET_DELETE = 'AmazonSQS.DeleteMessage';

/** The production hosts; options override them to point at a simulator. */
export const DEFAULT_ENDPOINT = 'https://sellingpartnerapi-na.amazon.com';
export const DEFAULT_TOKEN_URL = 'https://api.amazon.com/auth/o2/token';

/** `patchListingsItem` usage plan. */
export const PATCH_RATE = { perSecond: 5, burst: 5 };
/** `searchOrders` usage plan. */
export const SEARCH_ORDERS_RATE = { perSecond: 0.0056, burst: 20 };
/** `searchListingsItems` usage plan. */
export const SEARCH_LISTINGS_RATE = { perSecond: 5, burst: 5 };
/** Feeds 2021-06-30 usage plans, as the model's operation descriptions state them. */
export const CREATE_FEED_DOCUMENT_RATE = { perSecond: 0.5, burst: 15 };
export const CREATE_FEED_RATE = { perSecond: 0.0083, burst: 15 };
export const GET_FEED_RATE = { perSecond: 2, burst: 15 };
export const GET_FEED_DOCUMENT_RATE = { perSecond: 0.0222, burst: 10 };
/** The JSON_LISTINGS_FEED type's own limit: five feed submissions per five minutes per region. */
export const LISTINGS_FEED_SUBMISSIONS = { limit: 5, windowMs: 5 * 60_000 };
/** Most messages one JSON_LISTINGS_FEED holds (the schema's `messages.maxItems`, 25,000 since 2025-05-06). */
export const LISTINGS_FEED_MAX_MESSAGES = 25_000;
/** Amazon's recommended ceiling for one feed document: 10 MiB. */
export const FEED_MAX_BYTES = 10 * 1024 * 1024;
/** Most orders one `searchOrders` page holds, and most listings one `searchListingsItems` page holds. */
export const SEARCH_ORDERS_PAGE_MAX = 100;
export const SEARCH_LISTINGS_PAGE_MAX = 20;

export interface LwaTokenResponse {
  access_token: string;
  refresh_token?: string;
  token_type: string;
  expires_in: number;
}

export interface SpApiError {
  code: string;
  message: string;
  details?: string;
}

export interface PatchOperation {
  op: 'add' | 'replace' | 'merge' | 'delete';
  path: string;
  value?: unknown[];
}

export interface ListingsItemPatchRequest {
  productType: string;
  patches: PatchOperation[];
}

export interface FulfillmentAvailabilityAttribute {
  fulfillment_channel_code: string;
  quantity: number;
  marketplace_id?: string;
}

export interface ListingsIssue {
  code: string;
  message: string;
  severity: 'ERROR' | 'WARNING' | 'INFO';
  attributeNames?: string[];
  categories: string[];
}

export interface ListingsItemSubmissionResponse {
  sku: string;
  status: 'ACCEPTED' | 'INVALID' | 'VALID';
  submissionId: string;
  issues?: ListingsIssue[];
}

/** One item of the notification's summary (`Summary.OrderItems[]`); `SellerSKU`, `Quantity` and two more are required. */
export interface NotificationOrderItem {
  OrderItemId: string;
  SellerSKU: string;
  SupplySourceId: string | null;
  OrderItemStatus?: 'Unshipped' | 'Shipped';
  Quantity: number;
  QuantityShipped?: number;
  IsBuyerRequestedCancel?: boolean;
}

export type NotificationOrderStatus = 'Pending' | 'Unshipped' | 'PartiallyShipped' | 'Shipped' | 'Canceled' | 'Unfulfillable' | 'InvoiceUnconfirmed' | 'PendingAvailability';

/** The order-level summary of an ORDER_CHANGE notification (required, as its `OrderItems`). */
export interface OrderChangeSummary {
  MarketplaceId: string;
  OrderStatus: NotificationOrderStatus;
  /** ISO-8601, or null when Amazon has none. */
  PurchaseDate: string | null;
  DestinationPostalCode: string | null;
  /** `MFN`: the seller ships from its own stock (the stock this hub keeps); `AFN`: Amazon ships from FBA stock. */
  FulfillmentType: 'AFN' | 'MFN';
  OrderType: string;
  OrderItems: NotificationOrderItem[];
}

/** The SP-API notification as it sits in the SQS message body. */
export interface OrderChangeNotification {
  NotificationVersion: string;
  NotificationType: 'ORDER_CHANGE';
  PayloadVersion: string;
  EventTime: string;
  Payload: {
    OrderChangeNotification: {
      NotificationLevel: 'OrderLevel' | 'OrderItemLevel';
      SellerId: string;
      AmazonOrderId: string;
      OrderChangeType: 'BuyerRequestedChange' | 'DeliveryTipChange' | 'OrderStatusChange';
      OrderChangeTrigger: { TimeOfOrderChange: string | null; ChangeReason: string };
      Summary: OrderChangeSummary;
    };
  };
  NotificationMetadata: { ApplicationId: string; SubscriptionId: string; PublishTime: string; NotificationId: string };
}

export type FulfillmentStatus = 'PENDING_AVAILABILITY' | 'PENDING' | 'UNSHIPPED' | 'PARTIALLY_SHIPPED' | 'SHIPPED' | 'CANCELLED' | 'UNFULFILLABLE';

/** Orders 2026-01-01 `OrderItem` (the parts read here). */
export interface SpOrderItem {
  orderItemId: string;
  quantityOrdered: number;
  product: { asin?: string; title?: string; sellerSku?: string };
}

/** Orders 2026-01-01 `Order` (the parts read here). */
export interface SpOrder {
  orderId: string;
  createdTime: string;
  lastUpdatedTime: string;
  salesChannel: { channelName: string; marketplaceId?: string; marketplaceName?: string };
  fulfillment?: { fulfillmentStatus: FulfillmentStatus; fulfilledBy?: string };
  orderItems: SpOrderItem[];
}

export interface GetOrderResponse {
  order: SpOrder;
}

export interface SearchOrdersResponse {
  orders: SpOrder[];
  pagination?: { nextToken?: string };
  lastUpdatedBefore?: string;
  createdBefore?: string;
}

/** Listings Items 2021-08-01 `Item` (the parts `searchListingsItems` answers with here). */
export interface ListingsItem {
  sku: string;
  summaries?: Array<{ marketplaceId: string; productType: string; itemName?: string; asin?: string; status: string[]; createdDate: string; lastUpdatedDate: string }>;
  fulfillmentAvailability?: Array<{ fulfillmentChannelCode: string; quantity?: number }>;
}

export interface ItemSearchResults {
  numberOfResults: number;
  items: ListingsItem[];
  pagination?: { nextToken?: string; previousToken?: string };
}

export interface SqsMessage {
  MessageId: string;
  ReceiptHandle: string;
  MD5OfBody: string;
  Body: string;
}

export type FeedProcessingStatus = 'IN_QUEUE' | 'IN_PROGRESS' | 'DONE' | 'CANCELLED' | 'FATAL';

export interface CreateFeedDocumentResponse {
  feedDocumentId: string;
  url: string;
}

export interface CreateFeedSpecification {
  feedType: string;
  marketplaceIds: string[];
  inputFeedDocumentId: string;
}

/** Feeds 2021-06-30 `Feed`. */
export interface Feed {
  feedId: string;
  feedType: string;
  marketplaceIds?: string[];
  createdTime: string;
  processingStatus: FeedProcessingStatus;
  processingStartTime?: string;
  processingEndTime?: string;
  resultFeedDocumentId?: string;
}

/** Feeds 2021-06-30 `FeedDocument`. */
export interface FeedDocument {
  feedDocumentId: string;
  url: string;
  compressionAlgorithm?: 'GZIP';
}

/** One message of a JSON_LISTINGS_FEED, the PATCH kind this connector sends. */
export interface ListingsFeedPatchMessage {
  messageId: number;
  sku: string;
  operationType: 'PATCH';
  productType: string;
  patches: PatchOperation[];
}

export interface ListingsFeed {
  header: { sellerId: string; version: '2.0'; issueLocale?: string };
  messages: ListingsFeedPatchMessage[];
}

/** One issue of a listings feed processing report; without `messageId` it concerns the whole document. */
export interface ListingsFeedReportIssue {
  messageId?: number;
  sku?: string;
  code?: string;
  severity: 'ERROR' | 'WARNING' | 'INFO';
  message: string;
  attributeName?: string;
}

export interface ListingsFeedProcessingReport {
  header: { sellerId: string; version: '2.0'; feedId: string };
  issues: ListingsFeedReportIssue[];
  summary: { errors: number; warnings: number; messagesProcessed: number; messagesAccepted: number; messagesInvalid: number };
}
