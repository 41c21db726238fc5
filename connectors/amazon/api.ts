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
 * - One SKU per call. The `JSON_LISTINGS_FEED` (up to 25,000 messages, minutes to process) is not used.
 *
 * `getListingsItem` (5/s, burst 10): `GET` the same path with `includedData=fulfillmentAvailability`
 * → `{ sku, fulfillmentAvailability: [{ fulfillmentChannelCode: "DEFAULT", quantity }] }`; 404 when the listing does not exist.
 *
 * Orders v0 (`getOrder`, `getOrderItems`: 0.5/s, burst 30 each):
 * - `GET /orders/v0/orders/{orderId}` → `{ payload: { AmazonOrderId, PurchaseDate, OrderStatus, ... } }`.
 * - `GET /orders/v0/orders/{orderId}/orderItems` → `{ payload: { AmazonOrderId, OrderItems: [{ SellerSKU, QuantityOrdered, ... }], NextToken? } }`.
 *
 * Notifications: `ORDER_CHANGE` is delivered to an Amazon SQS queue (or EventBridge), never over HTTP.
 * The message body is the notification JSON {@link OrderChangeNotification}; it carries the order id, not its lines.
 * SQS is spoken with its JSON protocol: `POST /` on the queue's endpoint, `content-type: application/x-amz-json-1.0`,
 * `x-amz-target: AmazonSQS.ReceiveMessage | AmazonSQS.DeleteMessage`, body with `QueueUrl`. Unlike SP-API, SQS still
 * requires every request to be signed with AWS Signature Version 4 (service `sqs`) by credentials the queue policy allows.
 */

export const LISTINGS_PATH = '/listings/2021-08-01/items';
export const ORDERS_PATH = '/orders/v0/orders';
export const RATE_LIMIT_HEADER = 'x-amzn-ratelimit-limit';
export const SQS_CONTENT_TYPE = 'application/x-amz-json-1.0';
export const SQS_TARGET_RECEIVE = 'AmazonSQS.ReceiveMessage';
export const SQS_TARGET_DELETE = 'AmazonSQS.DeleteMessage';

/** The production hosts; options override them to point at a simulator. */
export const DEFAULT_ENDPOINT = 'https://sellingpartnerapi-na.amazon.com';
export const DEFAULT_TOKEN_URL = 'https://api.amazon.com/auth/o2/token';

/** `patchListingsItem` usage plan. */
export const PATCH_RATE = { perSecond: 5, burst: 5 };

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
}

export interface ListingsItemSubmissionResponse {
  sku: string;
  status: 'ACCEPTED' | 'INVALID' | 'VALID';
  submissionId: string;
  issues?: ListingsIssue[];
}

export interface OrderItem {
  SellerSKU?: string;
  ASIN?: string;
  OrderItemId: string;
  QuantityOrdered: number;
}

export interface SpOrder {
  AmazonOrderId: string;
  PurchaseDate: string;
  OrderStatus: 'Pending' | 'Unshipped' | 'PartiallyShipped' | 'Shipped' | 'Canceled' | 'Unfulfillable' | 'InvoiceUnconfirmed' | 'PendingAvailability';
  LastUpdateDate?: string;
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
      OrderChangeType: 'OrderStatusChange' | 'BuyerRequestedChange';
      OrderChangeTrigger?: { TimeOfOrderChange: string; ChangeReason: string };
      /**
       * Since the ORDER_CHANGE notification replaced ORDER_STATUS_CHANGE its order-level summary carries the
       * items (seller SKU and quantity), so an order can be read without calling the Orders API.
       */
      Summary?: { MarketplaceId: string; OrderStatus: SpOrder['OrderStatus']; PurchaseDate: string; OrderItems?: OrderItem[] };
    };
  };
  NotificationMetadata: { ApplicationId: string; SubscriptionId: string; PublishTime: string; NotificationId: string };
}

export interface SqsMessage {
  MessageId: string;
  ReceiptHandle: string;
  MD5OfBody: string;
  Body: string;
}
