import { randomBytes, randomUUID } from 'node:crypto';
import { type SimulatorHandle, type SimulatorOptions, TokenBucket, type WebhookDelivery } from '../../core/sdk.ts';
import { startSimServer, type SimExchange, type SimRequest, type SimResponse } from '../_kit/sim-server.ts';
import {
  LISTINGS_PATH,
  ORDERS_PATH,
  PATCH_RATE,
  SEARCH_LISTINGS_PAGE_MAX,
  SEARCH_LISTINGS_RATE,
  SEARCH_ORDERS_PAGE_MAX,
  SEARCH_ORDERS_RATE,
  type FulfillmentAvailabilityAttribute,
  type FulfillmentStatus,
  type ListingsIssue,
  type NotificationOrderStatus,
  type OrderChangeNotification,
} from './api.ts';
import type { AmazonListing, AmazonOptions } from './options.ts';
import { SimulatedFeedStorage } from './simulated-feed-storage.ts';
import { createSimulatedFeeds, type FeedOperationName } from './simulated-feeds.ts';
import { SimulatedSqsQueue } from './simulated-sqs-queue.ts';
import { searchListings, searchOrders, type SearchableListing, type SearchableOrder } from './simulated-search.ts';
import { getOrderExample, orderChangeExample } from './vendor-examples.ts';

/**
 * A local SP-API + LWA + SQS for one seller and one marketplace, on one port:
 * - `POST /auth/o2/token` issues `Atza|` access tokens for the configured client and refresh token (LWA error shapes);
 * - listings PATCH/GET, `searchListingsItems`, and Orders 2026-01-01 `getOrder` and `searchOrders` check `x-amz-access-token` (403 `Unauthorized` when missing,
 *   revoked or expired) and each operation's usage plan (429 `QuotaExceeded`, no Retry-After; `x-amzn-RateLimit-Limit`
 *   on success); `rateLimit` overrides the PATCH plan only;
 * - `searchOrders` and `searchListingsItems` check their parameters as the models define them (see simulated-search.ts);
 *   every order placed is listed there, also one whose notification was dropped (`WebhookDelivery.drop`);
 * - the Feeds API 2021-06-30 for JSON_LISTINGS_FEED ({@link createSimulatedFeeds}), its documents behind presigned URLs
 *   on a storage host of their own ({@link SimulatedFeedStorage}); a processed feed's quantities go to the same listings;
 * - `POST /` with `x-amz-target` is the ORDER_CHANGE queue ({@link SimulatedSqsQueue}), SigV4-checked.
 * ORDER_CHANGE notifications and `getOrder` answers are Amazon's own examples (see vendor-examples.ts) with the
 * order's ids, items and status filled in. Amazon applies an ACCEPTED patch asynchronously; here it is applied at
 * once. A patch for a seller SKU the seller does not list (or one the `item-unknown` fault names), or with another
 * product type, answers INVALID with issue codes of the simulator's own (`NOT_FOUND`, `PRODUCT_TYPE_MISMATCH`):
 * Amazon's exact codes for those cases are not documented. SP-API documents no per-item "locked" answer for
 * `patchListingsItem`, so the `item-locked` fault is refused rather than invented.
 */
export interface AmazonSimulatorOptions extends SimulatorOptions {
  clientId?: string;
  clientSecret?: string;
  refreshToken?: string;
  sellerId?: string;
  marketplaceId?: string;
  /** Product type every simulated listing has. Default `PRODUCT`. */
  productType?: string;
  /** Lifetime of issued access tokens in seconds (`tokenLifetimeMs` wins when both are set). Default 3600 s, as LWA. */
  tokenTtlSeconds?: number;
  /** AWS credentials the notification queue accepts SigV4 signatures from. */
  aws?: { accessKeyId: string; secretAccessKey: string };
  /** The queue's default visibility timeout, and the one `connectorOptions` asks for. Default 30 s. */
  visibilityTimeoutSeconds?: number;
  /** Overrides the `searchOrders` usage plan (0.0056/s, burst 20), for tests that page a lot. */
  searchOrdersRate?: { perSecond: number; burst: number };
  /**
   * How long a listings feed takes from createFeed to DONE, ms. Default 20: real feeds queue and take minutes (Amazon
   * documents no figure), which no test wants to wait.
   */
  feedProcessingMs?: number;
  /** Processing reports are served gzip-compressed (`compressionAlgorithm: GZIP`). Default true. */
  gzipFeedReports?: boolean;
  /** Overrides Feeds API usage plans (the model's by default), for tests. */
  feedRates?: Partial<Record<FeedOperationName, { perSecond: number; burst: number }>>;
  /** Overrides the JSON_LISTINGS_FEED's own limit of five feeds per five minutes, for tests. */
  feedSubmissions?: { limit: number; windowMs: number };
}

export interface AmazonSimulator extends SimulatorHandle<AmazonOptions> {
  /** The seller SKU the simulated listing of a hub SKU has. */
  sellerSku(hubSku: string): string | undefined;
  /** Messages in the notification queue: visible now, and received but not yet deleted. */
  queueDepth(): { visible: number; inFlight: number };
  /** Puts any message body on the notification queue, as another subscription sharing the queue would. */
  sendQueueMessage(body: string): void;
  /** Revokes every access token issued so far, as when a seller re-authorises: the next SP-API call gets 403. */
  revokeAccessTokens(): void;
  /**
   * Cancels an order: its quantities go back to the listings and an `ORDER_CHANGE` notification is queued, unless
   * `delivery.drop` (the cancellation is recorded and listed by `searchOrders`, its notification lost).
   */
  cancelOrder(orderId: string, delivery?: Pick<WebhookDelivery, 'drop'>): void;
  /** The ORDER_CHANGE notifications queued so far, as sent (newest last). */
  notificationsSent(): readonly OrderChangeNotification[];
  /** Feed documents uploaded to the presigned URLs, as text, oldest first. */
  feedUploads(): readonly string[];
  /** The SP-API requests received so far and what was answered, oldest first (LWA and SQS calls are not kept). */
  apiExchanges(): readonly SpApiExchange[];
}

/** One API call as the simulator saw it, for checking requests and answers against the vendor's models. */
export type SpApiExchange = SimExchange;

interface Listing extends SearchableListing {
  hubSku: string;
  quantity: number | undefined;
}

interface StoredOrder extends SearchableOrder {
  status: NotificationOrderStatus;
  items: Array<{ orderItemId: string; sellerSku: string; quantity: number }>;
}

/** The Orders 2026-01-01 fulfillment status of a notification's order status. */
const FULFILLMENT_STATUS: Record<NotificationOrderStatus, FulfillmentStatus> = {
  Pending: 'PENDING',
  Unshipped: 'UNSHIPPED',
  PartiallyShipped: 'PARTIALLY_SHIPPED',
  Shipped: 'SHIPPED',
  Canceled: 'CANCELLED',
  Unfulfillable: 'UNFULFILLABLE',
  InvoiceUnconfirmed: 'PENDING',
  PendingAvailability: 'PENDING_AVAILABILITY',
};
const INCLUDED_DATA = new Set(['BUYER', 'RECIPIENT', 'PROCEEDS', 'EXPENSE', 'PROMOTION', 'CANCELLATION', 'FULFILLMENT', 'PACKAGES', 'TAX', 'PAYMENT', 'FULFILLMENT_ORDERS']);

type Bucket = TokenBucket;

const spError = (status: number, code: string, message: string, details = ''): SimResponse => ({
  status,
  headers: { 'x-amzn-requestid': randomUUID() },
  body: { errors: [{ code, message, details }] },
});

const digits = (n: number): string => Array.from({ length: n }, () => Math.floor(Math.random() * 10)).join('');

export async function startAmazonSimulator(options: AmazonSimulatorOptions = {}): Promise<AmazonSimulator> {
  const clientId = options.clientId ?? 'amzn1.application-oa2-client.stockrelay';
  const clientSecret = options.clientSecret ?? 'amzn1.oa2-cs.v1.simulated-secret';
  const refreshToken = options.refreshToken ?? 'Atzr|simulated-refresh-token';
  const sellerId = options.sellerId ?? 'A2SIMULATEDSELLER';
  const marketplaceId = options.marketplaceId ?? 'ATVPDKIKX0DER';
  const productType = options.productType ?? 'PRODUCT';
  const tokenLifetimeMs = options.tokenLifetimeMs ?? (options.tokenTtlSeconds ?? 3600) * 1000;
  const visibility = options.visibilityTimeoutSeconds ?? 30;
  const aws = options.aws ?? { accessKeyId: 'AKIASIMULATEDQUEUE01', secretAccessKey: randomBytes(30).toString('base64') };
  const queueRegion = 'us-east-1';
  const patchRate = options.rateLimit ?? PATCH_RATE;
  const searchOrdersRate = options.searchOrdersRate ?? SEARCH_ORDERS_RATE;
  const buckets: Record<'patch' | 'getListing' | 'getOrder' | 'searchOrders' | 'searchListings', Bucket> = {
    patch: new TokenBucket(patchRate.perSecond, patchRate.burst),
    getListing: new TokenBucket(5, 10),
    getOrder: new TokenBucket(0.5, 30),
    searchOrders: new TokenBucket(searchOrdersRate.perSecond, searchOrdersRate.burst),
    searchListings: new TokenBucket(SEARCH_LISTINGS_RATE.perSecond, SEARCH_LISTINGS_RATE.burst),
  };
  const rateHeader: Record<keyof typeof buckets, string> = {
    patch: patchRate.perSecond.toFixed(1),
    getListing: '5.0',
    getOrder: '0.5',
    searchOrders: String(searchOrdersRate.perSecond),
    searchListings: SEARCH_LISTINGS_RATE.perSecond.toFixed(1),
  };
  const sent: OrderChangeNotification[] = [];
  const startedAt = new Date().toISOString();
  const exchanges: SpApiExchange[] = [];

  const accessTokens = new Map<string, number>();
  const listings = new Map<string, Listing>();
  const sellerSkuByHub = new Map<string, string>();
  const orders = new Map<string, StoredOrder>();
  let itemsWritten = 0;
  let tokensIssued = 0;
  /** getOrder calls: orders read through the Orders API rather than from notifications. */
  let ordersApiCalls = 0;

  const ensureListing = (hubSku: string): string => {
    let sellerSku = sellerSkuByHub.get(hubSku);
    if (sellerSku === undefined) {
      // The seller uses its own SKUs on Amazon too, as `stockrelay import` expects; tests use SKUs with a slash to
      // make every caller prove it URL-encodes the SKU path segment.
      sellerSku = hubSku;
      sellerSkuByHub.set(hubSku, sellerSku);
      listings.set(sellerSku, { sku: sellerSku, hubSku, productType, itemName: `Simulated listing ${hubSku}`, quantity: undefined, createdDate: startedAt, lastUpdatedDate: startedAt });
    }
    return sellerSku;
  };
  for (const [sku, quantity] of Object.entries(options.skus ?? {})) {
    const listing = listings.get(ensureListing(sku)) as Listing;
    listing.quantity = quantity;
  }

  let queue: SimulatedSqsQueue | undefined;
  const feedStorage = await new SimulatedFeedStorage().start();
  const feeds = createSimulatedFeeds({
    sellerId,
    marketplaceId,
    storage: feedStorage,
    processingMs: options.feedProcessingMs ?? 20,
    gzipReports: options.gzipFeedReports ?? true,
    rates: options.feedRates,
    submissions: options.feedSubmissions,
    setQuantity(sellerSku, quantity) {
      const listing = listings.get(sellerSku);
      if (!listing) return false;
      listing.quantity = quantity;
      listing.lastUpdatedDate = new Date().toISOString();
      itemsWritten += 1;
      return true;
    },
    hubSkuOf: (sellerSku) => listings.get(sellerSku)?.hubSku,
    error: spError,
  });

  const issueToken = (req: SimRequest): SimResponse => {
    const form = new URLSearchParams(req.rawBody.toString('utf8'));
    if (form.get('grant_type') !== 'refresh_token') {
      return { status: 400, body: { error: 'unsupported_grant_type', error_description: 'The authorization grant type is not supported by the authorization server' } };
    }
    if (form.get('client_id') !== clientId || form.get('client_secret') !== clientSecret) {
      return { status: 401, body: { error: 'invalid_client', error_description: 'Client authentication failed' } };
    }
    if (form.get('refresh_token') !== refreshToken) {
      return { status: 400, body: { error: 'invalid_grant', error_description: 'The request has an invalid grant parameter : refresh_token' } };
    }
    const token = `Atza|${randomBytes(24).toString('base64url')}`;
    accessTokens.set(token, Date.now() + tokenLifetimeMs);
    tokensIssued += 1;
    return { status: 200, body: { access_token: token, refresh_token: refreshToken, token_type: 'bearer', expires_in: Math.max(1, Math.round(tokenLifetimeMs / 1000)) } };
  };

  const checkToken = (req: SimRequest): SimResponse | undefined => {
    const token = req.headers['x-amz-access-token'];
    const expiresAt = typeof token === 'string' ? accessTokens.get(token) : undefined;
    if (expiresAt === undefined) return spError(403, 'Unauthorized', 'Access to requested resource is denied.', 'The access token you provided is revoked, malformed or invalid.');
    if (expiresAt <= Date.now()) return spError(403, 'Unauthorized', 'Access to requested resource is denied.', 'The access token you provided has expired.');
    return undefined;
  };

  const take = (bucket: keyof typeof buckets): SimResponse | undefined => {
    if (buckets[bucket].take().ok) return undefined;
    // Amazon documents no Retry-After on 429.
    return spError(429, 'QuotaExceeded', 'You exceeded your quota for the requested resource.');
  };
  const ok = (bucket: keyof typeof buckets, body: unknown, wrote = false): SimResponse => ({
    status: 200,
    headers: { 'x-amzn-ratelimit-limit': rateHeader[bucket], 'x-amzn-requestid': randomUUID() },
    body,
    wrote,
  });

  const patchListing = (req: SimRequest, pathSellerId: string, sellerSku: string): SimResponse => {
    if (pathSellerId !== sellerId) return spError(403, 'Unauthorized', 'Access to requested resource is denied.', '');
    if (!(req.query.get('marketplaceIds') ?? '').split(',').includes(marketplaceId)) {
      return spError(400, 'InvalidInput', 'Request has missing or invalid parameters and cannot be parsed.', 'marketplaceIds');
    }
    const body = req.json as { productType?: unknown; patches?: unknown } | undefined;
    if (typeof body?.productType !== 'string' || body.productType.length === 0 || !Array.isArray(body.patches) || body.patches.length === 0) {
      return spError(400, 'InvalidInput', 'Request has missing or invalid parameters and cannot be parsed.', 'productType and patches are required');
    }
    const submissionId = randomBytes(16).toString('hex');
    const invalid = (issues: ListingsIssue[]): SimResponse => ok('patch', { sku: sellerSku, status: 'INVALID', submissionId, issues });
    const listing = listings.get(sellerSku);
    const unknown = req.fault?.kind === 'item-unknown' && listing !== undefined && req.fault.skus.includes(listing.hubSku);
    if (!listing || unknown) {
      return invalid([{ code: 'NOT_FOUND', message: `SKU '${sellerSku}' does not exist in marketplace ${marketplaceId}.`, severity: 'ERROR', attributeNames: [], categories: [] }]);
    }
    if (body.productType !== listing.productType) {
      return invalid([{ code: 'PRODUCT_TYPE_MISMATCH', message: `The product type '${body.productType}' does not match the listing's product type '${listing.productType}'.`, severity: 'ERROR', attributeNames: [], categories: [] }]);
    }
    let quantity: number | undefined;
    for (const patch of body.patches as Array<{ op?: unknown; path?: unknown; value?: unknown }>) {
      if (!['add', 'replace', 'merge', 'delete'].includes(String(patch.op)) || typeof patch.path !== 'string') {
        return spError(400, 'InvalidInput', 'Request has missing or invalid parameters and cannot be parsed.', 'patch op and path are required');
      }
      if (patch.path !== '/attributes/fulfillment_availability' || patch.op === 'delete') continue;
      const entries = Array.isArray(patch.value) ? (patch.value as Partial<FulfillmentAvailabilityAttribute>[]) : [];
      const merchant = entries.find((entry) => entry.fulfillment_channel_code === 'DEFAULT');
      if (!merchant || !Number.isInteger(merchant.quantity) || (merchant.quantity as number) < 0) {
        return invalid([{ code: '90220', message: "'fulfillment_availability' requires a non-negative integer 'quantity' for fulfillment_channel_code DEFAULT.", severity: 'ERROR', attributeNames: ['fulfillment_availability'], categories: ['INVALID_ATTRIBUTE'] }]);
      }
      quantity = merchant.quantity as number;
    }
    if (quantity !== undefined) {
      listing.quantity = quantity;
      listing.lastUpdatedDate = new Date().toISOString();
      itemsWritten += 1;
    }
    return ok('patch', { sku: sellerSku, status: 'ACCEPTED', submissionId, issues: [] }, true);
  };

  const getListing = (req: SimRequest, pathSellerId: string, sellerSku: string): SimResponse => {
    if (pathSellerId !== sellerId) return spError(403, 'Unauthorized', 'Access to requested resource is denied.', '');
    const listing = listings.get(sellerSku);
    if (!listing) return spError(404, 'NOT_FOUND', `SKU '${sellerSku}' not found in marketplace ${marketplaceId}`);
    const included = (req.query.get('includedData') ?? 'summaries').split(',');
    const body: Record<string, unknown> = { sku: sellerSku };
    if (included.includes('summaries')) {
      body.summaries = [{ marketplaceId, productType: listing.productType, status: ['BUYABLE'], createdDate: startedAt, lastUpdatedDate: new Date().toISOString() }];
    }
    if (included.includes('fulfillmentAvailability')) {
      body.fulfillmentAvailability = listing.quantity === undefined ? [] : [{ fulfillmentChannelCode: 'DEFAULT', quantity: listing.quantity }];
    }
    return ok('getListing', body);
  };

  /** Amazon's example order with this order's ids, items and status; datasets only when asked. */
  const orderBody = (stored: StoredOrder, included: readonly string[]): Record<string, unknown> => {
    const { order } = getOrderExample();
    const [itemTemplate] = order.orderItems;
    const body: Record<string, unknown> = {
      orderId: stored.orderId,
      createdTime: stored.createdTime,
      lastUpdatedTime: stored.lastUpdatedTime,
      programs: [],
      salesChannel: { ...order.salesChannel, marketplaceId, marketplaceName: 'Amazon.com' },
      orderItems: stored.items.map((item) => ({
        orderItemId: item.orderItemId,
        quantityOrdered: item.quantity,
        product: { ...itemTemplate?.product, asin: `B0${digits(8)}`, sellerSku: item.sellerSku, serialNumbers: [] },
        ...(included.includes('FULFILLMENT') ? { fulfillment: { quantityFulfilled: 0, quantityUnfulfilled: item.quantity } } : {}),
      })),
    };
    if (included.includes('FULFILLMENT')) {
      body.fulfillment = { ...order.fulfillment, fulfillmentStatus: FULFILLMENT_STATUS[stored.status], fulfilledBy: 'MERCHANT' };
    }
    return body;
  };

  /** Orders 2026-01-01 `getOrder`. */
  const getOrder = (req: SimRequest, orderId: string): SimResponse => {
    const included = (req.query.get('includedData') ?? '').split(',').filter((value) => value.length > 0);
    const unknown = included.find((value) => !INCLUDED_DATA.has(value));
    if (unknown) return spError(400, 'InvalidInput', 'Request has missing or invalid parameters and cannot be parsed.', `includedData ${unknown}`);
    const stored = orders.get(orderId);
    if (!stored) return spError(404, 'NotFound', 'The requested order was not found.');
    return ok('getOrder', { order: orderBody(stored, included) });
  };

  const orderSearch = searchOrders<StoredOrder>({
    marketplaceId,
    pageMax: SEARCH_ORDERS_PAGE_MAX,
    fulfillmentStatus: (order) => FULFILLMENT_STATUS[order.status],
    body: orderBody,
  });
  const listingSearch = searchListings<Listing>({
    marketplaceId,
    pageMax: SEARCH_LISTINGS_PAGE_MAX,
    item: (listing, included) => {
      const item: Record<string, unknown> = { sku: listing.sku };
      if (included.includes('summaries')) {
        item.summaries = [{ marketplaceId, productType: listing.productType, itemName: listing.itemName, status: ['BUYABLE'], createdDate: listing.createdDate, lastUpdatedDate: listing.lastUpdatedDate }];
      }
      if (included.includes('fulfillmentAvailability')) {
        item.fulfillmentAvailability = listing.quantity === undefined ? [] : [{ fulfillmentChannelCode: 'DEFAULT', quantity: listing.quantity }];
      }
      return item;
    },
  });

  const server = await startSimServer({
    name: 'amazon',
    port: options.port,
    latency: options.latency,
    // SP-API documents no per-item "locked" answer for patchListingsItem: only item-unknown is simulated.
    itemFaults: ['item-unknown'],
    downResponse: spError(503, 'ServiceUnavailable', 'Service is temporarily unavailable.'),
    serverErrorResponse: (status) => spError(status, 'InternalFailure', 'We encountered an internal error. Please try again.'),
    echoErrorResponse: (echoed) => spError(400, 'InvalidInput', 'Request has missing or invalid parameters and cannot be parsed.', JSON.stringify(echoed)),
    throttleResponse: () => spError(429, 'QuotaExceeded', 'You exceeded your quota for the requested resource.'),
    async route(req): Promise<SimResponse> {
      if (req.method === 'POST' && req.path === '/auth/o2/token') return issueToken(req);
      if (req.method === 'POST' && req.path === '/' && req.headers['x-amz-target'] !== undefined) return (queue as SimulatedSqsQueue).handle(req);

      const answer = await spApi(req);
      if (exchanges.length >= 1000) exchanges.shift();
      exchanges.push({ method: req.method, path: req.path, query: Object.fromEntries(req.query), headers: { ...req.headers }, body: req.json, status: answer.status, response: answer.body });
      return answer;
    },
  });

  async function spApi(req: SimRequest): Promise<SimResponse> {
    const denied = checkToken(req);
    if (denied) return denied;
    const feedAnswer = feeds.handle(req);
    if (feedAnswer) return feedAnswer;

    if (req.path.startsWith(`${LISTINGS_PATH}/`)) {
      const segments = req.path.slice(LISTINGS_PATH.length + 1).split('/');
      if (segments.length === 1 && req.method === 'GET') {
        if (decodeURIComponent(segments[0] ?? '') !== sellerId) return spError(403, 'Unauthorized', 'Access to requested resource is denied.', '');
        const refused = take('searchListings');
        if (refused) return refused;
        const answer = listingSearch(req.query, [...listings.values()]);
        return answer.ok ? ok('searchListings', answer.body) : spError(400, 'InvalidInput', 'Request has missing or invalid parameters and cannot be parsed.', answer.details);
      }
      if (segments.length !== 2) return spError(404, 'NotFound', 'Resource not found.');
      const [pathSellerId, sellerSku] = segments.map((segment) => decodeURIComponent(segment)) as [string, string];
      if (req.method === 'PATCH') return take('patch') ?? patchListing(req, pathSellerId, sellerSku);
      if (req.method === 'GET') return take('getListing') ?? getListing(req, pathSellerId, sellerSku);
    }
    if (req.method === 'GET' && req.path === ORDERS_PATH) {
      const refused = take('searchOrders');
      if (refused) return refused;
      const answer = orderSearch(req.query, [...orders.values()]);
      return answer.ok ? ok('searchOrders', answer.body) : spError(400, 'InvalidInput', 'Request has missing or invalid parameters and cannot be parsed.', answer.details);
    }
    const orderMatch = new RegExp(`^${ORDERS_PATH}/([^/]+)$`).exec(req.path);
    if (req.method === 'GET' && orderMatch) {
      ordersApiCalls += 1;
      return take('getOrder') ?? getOrder(req, decodeURIComponent(orderMatch[1] ?? ''));
    }
    return spError(404, 'NotFound', 'Resource not found.');
  }
  const queueUrl = `${server.url}/123456789012/sp-api-order-change`;
  queue = new SimulatedSqsQueue(queueUrl, visibility, aws, queueRegion);

  /** Queues an ORDER_CHANGE notification: Amazon's schema example with this order's ids, status and items. */
  const notify = (stored: StoredOrder, status: NotificationOrderStatus): void => {
    const now = new Date().toISOString();
    const notification = orderChangeExample();
    const change = notification.Payload.OrderChangeNotification;
    const [itemTemplate] = change.Summary.OrderItems;
    notification.EventTime = now;
    change.SellerId = sellerId;
    change.AmazonOrderId = stored.orderId;
    change.OrderChangeType = 'OrderStatusChange';
    change.OrderChangeTrigger = { TimeOfOrderChange: now, ChangeReason: 'Order status changed' };
    const unshipped = stored.items.reduce((sum, item) => sum + item.quantity, 0);
    change.Summary = {
      ...change.Summary,
      MarketplaceId: marketplaceId,
      OrderStatus: status,
      PurchaseDate: stored.createdTime,
      FulfillmentType: 'MFN',
      OrderType: 'StandardOrder',
      NumberOfItemsShipped: 0,
      NumberOfItemsUnshipped: status === 'Canceled' ? 0 : unshipped,
      OrderItems: stored.items.map((item) => ({
        ...itemTemplate,
        OrderItemId: item.orderItemId,
        SellerSKU: item.sellerSku,
        SupplySourceId: null,
        OrderItemStatus: 'Unshipped',
        Quantity: item.quantity,
        QuantityShipped: 0,
        IsBuyerRequestedCancel: false,
      })),
    } as OrderChangeNotification['Payload']['OrderChangeNotification']['Summary'];
    notification.NotificationMetadata = { ApplicationId: clientId, SubscriptionId: 'sim-subscription', PublishTime: now, NotificationId: randomUUID() };
    sent.push(notification);
    (queue as SimulatedSqsQueue).send(JSON.stringify(notification));
  };

  const connectorListings = (skus: readonly string[]): Record<string, AmazonListing> => {
    const out: Record<string, AmazonListing> = {};
    for (const sku of skus) {
      const sellerSku = ensureListing(sku);
      out[sku] = { sellerSku, productType: (listings.get(sellerSku) as Listing).productType };
    }
    return out;
  };

  return {
    url: server.url,
    connectorOptions: (skus) => ({
      endpoint: server.url,
      tokenUrl: `${server.url}/auth/o2/token`,
      clientId,
      clientSecret,
      refreshToken,
      sellerId,
      marketplaceId,
      listings: connectorListings(skus),
      queueUrl,
      aws: { ...aws, region: queueRegion },
      visibilityTimeoutSeconds: visibility,
      waitTimeSeconds: 0,
    }),
    shown: (sku) => {
      const sellerSku = sellerSkuByHub.get(sku);
      return sellerSku === undefined ? undefined : listings.get(sellerSku)?.quantity;
    },
    setShown(sku, quantity) {
      const listing = listings.get(ensureListing(sku)) as Listing;
      listing.quantity = quantity;
      listing.lastUpdatedDate = new Date().toISOString();
    },
    sellerSku: (sku) => sellerSkuByHub.get(sku),
    stats: () => ({ ...server.counters, ...feeds.counters(), itemsWritten, tokensIssued, ordersApiCalls, messagesReceived: queue?.received ?? 0, messagesDeleted: queue?.deleted ?? 0 }),
    setFault: server.setFault,
    notificationsSent: () => sent,
    apiExchanges: () => exchanges,
    feedUploads: () => feedStorage.uploads,
    queueDepth: () => (queue as SimulatedSqsQueue).depth(),
    sendQueueMessage: (body) => void (queue as SimulatedSqsQueue).send(body),
    revokeAccessTokens: () => accessTokens.clear(),
    async placeOrder(lines, delivery: WebhookDelivery = {}) {
      const orderId = `${digits(3)}-${digits(7)}-${digits(7)}`;
      const now = new Date().toISOString();
      const items = lines.map((line, index) => {
        const sellerSku = ensureListing(line.sku);
        const listing = listings.get(sellerSku) as Listing;
        listing.quantity = Math.max(0, (listing.quantity ?? 0) - line.qty);
        return { orderItemId: `${digits(13)}${index}`, sellerSku, quantity: line.qty };
      });
      const stored: StoredOrder = { orderId, createdTime: now, lastUpdatedTime: now, status: 'Unshipped', items };
      orders.set(orderId, stored);
      // Amazon reports a new order as Pending, then Unshipped once payment clears: two notifications per order.
      const sequence: NotificationOrderStatus[] = delivery.outOfOrder ? ['Unshipped', 'Pending'] : ['Pending'];
      // A dropped delivery: the order exists (searchOrders and getOrder know it), its notifications never reach the queue.
      if (!delivery.drop) for (let i = 0; i < (delivery.times ?? 1); i++) for (const status of sequence) notify(stored, status);
      return { orderId };
    },
    cancelOrder(orderId, delivery = {}) {
      const stored = orders.get(orderId);
      if (!stored) throw new Error(`amazon simulator: no order ${orderId}`);
      if (stored.status === 'Canceled') return;
      for (const item of stored.items) {
        const listing = listings.get(item.sellerSku);
        if (listing) listing.quantity = (listing.quantity ?? 0) + item.quantity;
      }
      stored.status = 'Canceled';
      stored.lastUpdatedTime = new Date().toISOString();
      if (!delivery.drop) notify(stored, 'Canceled');
    },
    async close() {
      feeds.close();
      await Promise.all([server.close(), feedStorage.close()]);
    },
  };
}
