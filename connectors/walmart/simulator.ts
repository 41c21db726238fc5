import { randomBytes, randomUUID } from 'node:crypto';
import { request } from 'undici';
import { type SimulatorHandle, type SimulatorOptions, TokenBucket, type WebhookDelivery } from '../../core/sdk.ts';
import { hmacSha256 } from '../_kit/signatures.ts';
import { startSimServer, type SimExchange, type SimRequest, type SimResponse } from '../_kit/sim-server.ts';
import {
  FEEDS_PATH,
  INVENTORY_FEED_RATE,
  INVENTORY_PATH,
  INVENTORY_RATE,
  ITEMS_PATH,
  ORDERS_PATH,
  READ_RATE,
  REPLENISH_HEADER,
  TOKEN_COUNT_HEADER,
  TOKEN_PATH,
  type PoEventLine,
  type PoEventNotification,
  type WalmartError,
  type WalmartOrder,
} from './api.ts';
import type { WalmartOptions } from './options.ts';
import { createSimulatedFeeds, feedIdOfPath, type SubmittedFeed } from './simulated-feeds.ts';
import { listItems, listOrders, type ListAnswer, type ListedOrder } from './simulated-lists.ts';
import { walmartItemExample, walmartListedOrderExample, walmartOrderExample } from './vendor-examples.ts';
import { basicAuthorization } from './walmart-token.ts';

/**
 * A local Walmart Marketplace API for one seller:
 * - `POST /v3/token` (Basic client credentials) issues 15-minute tokens; every call needs the headers Walmart's specs
 *   mark required (`WM_QOS.CORRELATION_ID`, `WM_SVC.NAME`, `Content-Type`, and `Accept` beyond the token call: 400
 *   `INVALID_REQUEST_HEADER`) and a live `WM_SEC.ACCESS_TOKEN` (401 `UNAUTHORIZED.GMP_GATEWAY_API`);
 * - `PUT`/`GET /v3/inventory?sku=` one item per call (an array body is refused, 400), token bucket with
 *   `x-current-token-count` / `x-next-replenish-time` (epoch ms) on every answer, 429 `REQUEST_THRESHOLD_VIOLATED`
 *   with `Retry-After`; unknown SKU → 404 `CONTENT_NOT_FOUND.GMP_INVENTORY_API`;
 * - `POST /v3/feeds?feedType=inventory` and `GET /v3/feeds/{feedId}`: the bulk inventory feed (simulated-feeds.ts),
 *   processed `feedProcessingMs` after upload into the same items the per-SKU call writes, uploads throttled at
 *   Walmart's 10 per hour ({@link INVENTORY_FEED_RATE}) unless `feedRateLimit` says otherwise;
 * - `GET /v3/orders/{purchaseOrderId}`: the `ORDER` example of Walmart's orders spec with this PO's ids and lines;
 * - `GET /v3/orders` and `GET /v3/items` with their documented filters and cursors (simulated-lists.ts), throttled by
 *   an assumed read bucket ({@link READ_RATE}); every PO placed is listed, also one whose notification was dropped;
 * - `PO_CREATED` / `PO_LINE_AUTOCANCELLED` deliveries signed as an HMAC subscription signs them (digest of the body
 *   keyed with the subscription secret, in the `authHeaderName` header).
 * Error codes follow the documented `{ errors: [{ code, field, description, info, severity, category }] }` shape; the
 * exact code strings for each case are the simulator's best reading, not a documented list. Per item, `item-unknown`
 * answers the inventory update with the 404 of an unknown SKU; Walmart documents no per-item "locked" answer, so
 * `item-locked` is not offered.
 */
export interface WalmartSimulatorOptions extends SimulatorOptions {
  clientId?: string;
  clientSecret?: string;
  /** HMAC `clientSecret` of the simulated PO_CREATED subscription. */
  webhookSecret?: string;
  /** The subscription's `authHeaderName`. Default `Authorization`. */
  webhookAuthHeaderName?: string;
  /** Encoding of the delivered HMAC digest. Default hex. */
  webhookDigestEncoding?: 'hex' | 'base64';
  /** `full` (documented PO_CREATED with orderLines) or `id-only` (no orderLines: the connector must fetch). Default `full`. */
  webhookLines?: 'full' | 'id-only';
  /** Lifetime of issued access tokens. Default 900 s, as Walmart. */
  tokenTtlSeconds?: number;
  /**
   * Upload of an inventory feed to its lines applied, ms. Default 50, for tests: Walmart documents up to 30 minutes
   * per inventory feed.
   */
  feedProcessingMs?: number;
  /** The feed upload bucket. Default Walmart's 10 per hour, refilled gradually. */
  feedRateLimit?: { perSecond: number; burst: number };
}

export interface WalmartSimulator extends SimulatorHandle<WalmartOptions> {
  /** The Walmart SKU the simulated item of a hub SKU has. */
  walmartSku(hubSku: string): string | undefined;
  /** Revokes every access token issued so far: the next API call gets 401. */
  revokeAccessTokens(): void;
  /**
   * Walmart auto-cancels one line of a PO: its quantity (or `qty` units of it) goes back and `PO_LINE_AUTOCANCELLED`
   * is delivered, unless `drop` (the cancellation shows in the orders API, its notification is lost).
   */
  autoCancelLine(purchaseOrderId: string, lineNumber: string, options?: { qty?: number; drop?: boolean }): Promise<void>;
  /** The API requests received so far and what was answered, oldest first. */
  apiExchanges(): readonly WalmartExchange[];
  /** The inventory feed files uploaded so far, oldest first, as they arrived. */
  inventoryFeeds(): readonly SubmittedFeed[];
}

/** One API call as the simulator saw it, for checking requests and answers against the vendor's models. */
export type WalmartExchange = SimExchange;

interface Item {
  hubSku: string;
  quantity: number | undefined;
}

/** What the simulator keeps of a PO beyond Walmart's own shape: when it last changed, and each line's cancelled units. */
interface OrderState {
  lastModified: number;
  cancelled: Map<string, { qty: number; at: number }>;
}

const wmError = (status: number, error: WalmartError, headers: Record<string, string> = {}): SimResponse => ({
  status,
  headers,
  body: { errors: [{ severity: 'ERROR', category: 'DATA', causes: [], ...error }] },
});

const unauthorized = (): SimResponse =>
  wmError(401, { code: 'UNAUTHORIZED.GMP_GATEWAY_API', field: 'UNAUTHORIZED', description: 'Unauthorized', info: 'Unauthorized token or invalid client id.' });

const digits = (n: number): string => Array.from({ length: n }, (_, i) => (i === 0 ? 1 + Math.floor(Math.random() * 9) : Math.floor(Math.random() * 10))).join('');

export async function startWalmartSimulator(options: WalmartSimulatorOptions = {}): Promise<WalmartSimulator> {
  const clientId = options.clientId ?? 'simulated-client-id';
  const clientSecret = options.clientSecret ?? 'simulated-client-secret';
  const webhookSecret = options.webhookSecret ?? 'simulated-webhook-secret';
  const webhookHeader = options.webhookAuthHeaderName ?? 'Authorization';
  const digestEncoding = options.webhookDigestEncoding ?? 'hex';
  const tokenLifetimeMs = options.tokenLifetimeMs ?? (options.tokenTtlSeconds ?? 900) * 1000;
  const exchanges: WalmartExchange[] = [];
  const rate = options.rateLimit ?? INVENTORY_RATE;
  const inventoryBucket = new TokenBucket(rate.perSecond, rate.burst);
  const basic = basicAuthorization(clientId, clientSecret);

  const accessTokens = new Map<string, number>();
  const items = new Map<string, Item>();
  const walmartSkuByHub = new Map<string, string>();
  const orders = new Map<string, WalmartOrder>();
  const orderStates = new Map<string, OrderState>();
  const readBucket = new TokenBucket(READ_RATE.perSecond, READ_RATE.burst);
  let itemsWritten = 0;
  let tokensIssued = 0;
  let webhooksDelivered = 0;
  let webhookTarget: string | undefined;

  const ensureItem = (hubSku: string): string => {
    let walmartSku = walmartSkuByHub.get(hubSku);
    if (walmartSku === undefined) {
      // The seller uses its own SKUs on Walmart too, as `stockrelay import` expects.
      walmartSku = hubSku;
      walmartSkuByHub.set(hubSku, walmartSku);
      items.set(walmartSku, { hubSku, quantity: undefined });
    }
    return walmartSku;
  };
  for (const [sku, quantity] of Object.entries(options.skus ?? {})) (items.get(ensureItem(sku)) as Item).quantity = quantity;

  /**
   * The headers Walmart's specs mark required (components.parameters of the inventory, orders and auth documents),
   * checked before anything else; the token call takes no access token and no Accept requirement.
   */
  const checkHeaders = (req: SimRequest): SimResponse | undefined => {
    const required = req.path === TOKEN_PATH ? ['wm_qos.correlation_id', 'wm_svc.name', 'content-type'] : ['wm_qos.correlation_id', 'wm_svc.name', 'accept', 'content-type'];
    const missing = required.filter((name) => !req.headers[name]);
    if (missing.length === 0) return undefined;
    return wmError(400, { code: 'INVALID_REQUEST_HEADER.GMP_GATEWAY_API', field: missing[0]?.toUpperCase(), description: 'Invalid request header', info: `Missing required header: ${missing.join(', ')}` });
  };

  const issueToken = (req: SimRequest): SimResponse => {
    if (req.headers.authorization !== basic) return unauthorized();
    if (new URLSearchParams(req.rawBody.toString('utf8')).get('grant_type') !== 'client_credentials') {
      return wmError(400, { code: 'INVALID_REQUEST_CONTENT.GMP_GATEWAY_API', field: 'grant_type', description: 'Invalid grant type', info: 'grant_type must be client_credentials' });
    }
    const token = `eyJraWQiOi${randomBytes(32).toString('base64url')}`;
    accessTokens.set(token, Date.now() + tokenLifetimeMs);
    tokensIssued += 1;
    return { status: 200, body: { access_token: token, token_type: 'Bearer', expires_in: Math.max(1, Math.round(tokenLifetimeMs / 1000)) } };
  };

  const checkToken = (req: SimRequest): SimResponse | undefined => {
    const token = req.headers['wm_sec.access_token'];
    const expiresAt = typeof token === 'string' ? accessTokens.get(token) : undefined;
    return expiresAt === undefined || expiresAt <= Date.now() ? unauthorized() : undefined;
  };

  /** The bucket's state in Walmart's headers: tokens left, and when the next one is back (epoch ms). */
  const bucketHeaders = (): Record<string, string> => {
    const now = performance.now();
    const available = inventoryBucket.available(now);
    const nextAt = Date.now() + (inventoryBucket.nextTokenAt(now) - now);
    return { [TOKEN_COUNT_HEADER]: String(Math.floor(available)), [REPLENISH_HEADER]: String(nextAt) };
  };

  const inventory = (req: SimRequest): SimResponse => {
    const slot = inventoryBucket.take();
    if (!slot.ok) {
      return wmError(
        429,
        { code: 'REQUEST_THRESHOLD_VIOLATED.GMP_GATEWAY_API', field: 'REQUEST_THRESHOLD_VIOLATED', description: 'Error', info: 'This request exceeds the allowed throttle limit.' },
        { ...bucketHeaders(), 'retry-after': String(Math.max(1, Math.ceil(slot.retryAfterMs / 1000))) },
      );
    }
    const headers = bucketHeaders();
    const sku = req.query.get('sku');
    if (!sku) return wmError(400, { code: 'INVALID_REQUEST_PARAM.GMP_INVENTORY_API', field: 'sku', description: 'sku is required', info: 'Query parameter sku is missing.' }, headers);
    const item = items.get(sku);
    if (req.method === 'GET') {
      if (!item || item.quantity === undefined) return wmError(404, { code: 'CONTENT_NOT_FOUND.GMP_INVENTORY_API', field: 'sku', description: 'Requested content could not be found.', info: `No inventory for sku ${sku}.` }, headers);
      return { status: 200, headers, body: { sku, quantity: { unit: 'EACH', amount: item.quantity } } };
    }
    const body = req.json as { sku?: unknown; quantity?: { unit?: unknown; amount?: unknown } } | unknown[] | undefined;
    if (Array.isArray(body)) {
      // The single-item call takes one object; several SKUs belong in the MP_INVENTORY bulk feed.
      return wmError(400, { code: 'INVALID_REQUEST_CONTENT.GMP_INVENTORY_API', field: 'inventory', description: 'Invalid request content', info: 'Only one item may be updated per request; use the MP_INVENTORY feed for bulk updates.' }, headers);
    }
    if (body?.sku !== sku) return wmError(400, { code: 'INVALID_REQUEST_CONTENT.GMP_INVENTORY_API', field: 'sku', description: 'Invalid request content', info: 'Body sku must match the sku query parameter.' }, headers);
    const amount = body.quantity?.amount;
    if (body.quantity?.unit !== 'EACH' || !Number.isInteger(amount) || (amount as number) < 0) {
      return wmError(400, { code: 'INVALID_REQUEST_CONTENT.GMP_INVENTORY_API', field: 'quantity', description: 'Invalid request content', info: 'quantity must be { unit: "EACH", amount: non-negative integer }.' }, headers);
    }
    const unknown = req.fault?.kind === 'item-unknown' && item !== undefined && req.fault.skus.includes(item.hubSku);
    if (!item || unknown) return wmError(404, { code: 'CONTENT_NOT_FOUND.GMP_INVENTORY_API', field: 'sku', description: 'Requested content could not be found.', info: `Item with sku ${sku} not found.` }, headers);
    item.quantity = amount as number;
    itemsWritten += 1;
    return { status: 200, headers, body: { sku, quantity: { unit: 'EACH', amount } }, wrote: true };
  };

  /** Walmart's 429 for a spent bucket, with the bucket's token headers and Retry-After. */
  const throttledBy = (bucket: TokenBucket, retryAfterMs: number): SimResponse => {
    const now = performance.now();
    return wmError(
      429,
      { code: 'REQUEST_THRESHOLD_VIOLATED.GMP_GATEWAY_API', field: 'REQUEST_THRESHOLD_VIOLATED', description: 'Error', info: 'This request exceeds the allowed throttle limit.' },
      {
        [TOKEN_COUNT_HEADER]: String(Math.floor(bucket.available(now))),
        [REPLENISH_HEADER]: String(Date.now() + (bucket.nextTokenAt(now) - now)),
        'retry-after': String(Math.max(1, Math.ceil(retryAfterMs / 1000))),
      },
    );
  };

  const feeds = createSimulatedFeeds({
    processingMs: options.feedProcessingMs ?? 50,
    rate: options.feedRateLimit ?? INVENTORY_FEED_RATE,
    statusRate: READ_RATE,
    item: (walmartSku) => items.get(walmartSku),
    wrote: () => {
      itemsWritten += 1;
    },
    error: wmError,
    throttled: throttledBy,
  });

  const systemError = { code: 'INTERNAL_SERVER_ERROR.GMP_GATEWAY_API', field: 'INTERNAL_SERVER_ERROR', description: 'Internal Server Error', info: 'The server encountered an error.', category: 'SYSTEM' as const };
  const server = await startSimServer({
    name: 'walmart',
    port: options.port,
    latency: options.latency,
    itemFaults: ['item-unknown'],
    serverErrorResponse: (status) => wmError(status, systemError),
    echoErrorResponse: (echoed) => wmError(400, { code: 'INVALID_REQUEST_CONTENT.GMP_GATEWAY_API', field: 'request', description: 'Invalid request content', info: JSON.stringify(echoed), category: 'REQUEST' }),
    downResponse: wmError(503, { code: 'SERVICE_UNAVAILABLE.GMP_GATEWAY_API', field: 'SERVICE_UNAVAILABLE', description: 'Service Unavailable', info: 'The service is temporarily unavailable.', category: 'SYSTEM' }),
    throttleResponse: (retryAfterMs) =>
      wmError(
        429,
        { code: 'REQUEST_THRESHOLD_VIOLATED.GMP_GATEWAY_API', field: 'REQUEST_THRESHOLD_VIOLATED', description: 'Error', info: 'This request exceeds the allowed throttle limit.' },
        { 'retry-after': String(Math.max(1, Math.ceil(retryAfterMs / 1000))), [TOKEN_COUNT_HEADER]: '0', [REPLENISH_HEADER]: String(Date.now() + retryAfterMs) },
      ),
    async route(req): Promise<SimResponse> {
      const answer = await api(req);
      if (exchanges.length >= 1000) exchanges.shift();
      exchanges.push({ method: req.method, path: req.path, query: Object.fromEntries(req.query), headers: { ...req.headers }, body: req.json, status: answer.status, response: answer.body });
      return answer;
    },
  });

  function api(req: SimRequest): SimResponse | Promise<SimResponse> {
    const badHeaders = checkHeaders(req);
    if (badHeaders) return badHeaders;
    if (req.method === 'POST' && req.path === TOKEN_PATH) return issueToken(req);
    const denied = checkToken(req);
    if (denied) return denied;
    if (req.path === INVENTORY_PATH && (req.method === 'PUT' || req.method === 'GET')) return inventory(req);
    if (req.path === FEEDS_PATH && req.method === 'POST') return feeds.submit(req);
    const feedId = req.method === 'GET' ? feedIdOfPath(req.path) : undefined;
    if (feedId !== undefined) return feeds.status(req, feedId);
    if (req.method === 'GET' && (req.path === ORDERS_PATH || req.path === ITEMS_PATH)) {
      const slot = readBucket.take();
      if (!slot.ok) {
        return wmError(
          429,
          { code: 'REQUEST_THRESHOLD_VIOLATED.GMP_GATEWAY_API', field: 'REQUEST_THRESHOLD_VIOLATED', description: 'Error', info: 'This request exceeds the allowed throttle limit.' },
          { 'retry-after': String(Math.max(1, Math.ceil(slot.retryAfterMs / 1000))), [TOKEN_COUNT_HEADER]: '0', [REPLENISH_HEADER]: String(Date.now() + slot.retryAfterMs) },
        );
      }
      const answer: ListAnswer = req.path === ORDERS_PATH ? orderList(req.query, listedOrders()) : itemList(req.query, [...items.entries()].map(([sku, item]) => ({ sku, productName: `Item ${item.hubSku}` })));
      if (!answer.ok) return wmError(400, { code: req.path === ORDERS_PATH ? 'INVALID_REQUEST_PARAM.GMP_ORDER_API' : 'INVALID_REQUEST_PARAM.GMP_ITEM_API', field: answer.field, description: 'Invalid request parameter', info: answer.info, category: 'REQUEST' });
      return { status: 200, body: answer.body };
    }
    const orderMatch = new RegExp(`^${ORDERS_PATH}/([^/]+)$`).exec(req.path);
    if (req.method === 'GET' && orderMatch) {
      const order = orders.get(decodeURIComponent(orderMatch[1] ?? ''));
      if (!order) return wmError(404, { code: 'CONTENT_NOT_FOUND.GMP_ORDER_API', field: 'purchaseOrderId', description: 'Requested content could not be found.', info: 'Order not found.' });
      return { status: 200, body: { order: orderAnswer(order) } };
    }
    return wmError(404, { code: 'NOT_FOUND.GMP_GATEWAY_API', field: 'path', description: 'Not Found', info: `No resource at ${req.method} ${req.path}` });
  }

  /** Walmart's `ORDER` example with this PO's ids, date and lines (each line shaped as the example's first). */
  function orderAnswer(order: WalmartOrder): Record<string, unknown> {
    const answer = walmartOrderExample();
    const template = ((answer.orderLines as { orderLine: Array<Record<string, unknown>> }).orderLine[0] ?? {}) as Record<string, unknown>;
    answer.purchaseOrderId = order.purchaseOrderId;
    answer.customerOrderId = order.customerOrderId;
    answer.orderDate = order.orderDate;
    answer.orderLines = {
      orderLine: orderLines(order, template),
    };
    return answer;
  }

  /** The PO's lines in the examples' shape, each line's quantity split by status (`Created`, `Cancelled`). */
  function orderLines(order: WalmartOrder, template: Record<string, unknown>): Array<Record<string, unknown>> {
    const state = orderStates.get(order.purchaseOrderId);
    return order.orderLines.orderLine.map((line) => {
      const ordered = Number(line.orderLineQuantity.amount);
      const cancelled = state?.cancelled.get(line.lineNumber);
      const statuses = [
        ...(ordered - (cancelled?.qty ?? 0) > 0 ? [{ status: 'Created', statusQuantity: { unitOfMeasurement: 'EACH', amount: String(ordered - (cancelled?.qty ?? 0)) } }] : []),
        ...(cancelled ? [{ status: 'Cancelled', statusQuantity: { unitOfMeasurement: 'EACH', amount: String(cancelled.qty) } }] : []),
      ];
      return {
        ...template,
        lineNumber: line.lineNumber,
        item: { productName: line.item.productName, sku: line.item.sku },
        orderLineQuantity: { unitOfMeasurement: 'EACH', amount: line.orderLineQuantity.amount },
        statusDate: cancelled?.at ?? order.orderDate,
        orderLineStatuses: { orderLineStatus: statuses },
      };
    });
  }

  const orderList = listOrders<ListedOrder & { order: WalmartOrder }>({
    sellerId: '8',
    body: (listed: { order: WalmartOrder }) => {
      // The first order of Walmart's list example, with this PO's ids, date and lines.
      const answer = walmartListedOrderExample();
      const template = ((answer.orderLines as { orderLine: Array<Record<string, unknown>> }).orderLine[0] ?? {}) as Record<string, unknown>;
      answer.purchaseOrderId = listed.order.purchaseOrderId;
      answer.customerOrderId = listed.order.customerOrderId;
      answer.orderDate = listed.order.orderDate;
      answer.orderType = 'REGULAR';
      delete answer.originalCustomerOrderID;
      answer.orderLines = { orderLine: orderLines(listed.order, template) };
      return answer;
    },
  });
  const listedOrders = () =>
    [...orders.values()].map((order) => {
      const state = orderStates.get(order.purchaseOrderId);
      const lineStatuses = orderLines(order, {}).flatMap((line) => (line.orderLineStatuses as { orderLineStatus: Array<{ status: string }> }).orderLineStatus.map((s) => s.status));
      return {
        order,
        purchaseOrderId: order.purchaseOrderId,
        customerOrderId: order.customerOrderId,
        orderDate: order.orderDate,
        lastModified: state?.lastModified ?? order.orderDate,
        lineSkus: order.orderLines.orderLine.map((line) => line.item.sku),
        lineStatuses,
      };
    });
  const itemList = listItems({
    body: (item: { sku: string; productName: string }) => ({
      ...walmartItemExample(),
      sku: item.sku,
      wpid: `0R${item.sku.length}${digits(9)}`.slice(0, 12),
      productName: item.productName,
      publishedStatus: 'PUBLISHED',
      lifecycleStatus: 'ACTIVE',
      unpublishedReasons: undefined,
    }),
  });

  const deliver = async (notification: PoEventNotification): Promise<void> => {
    if (!webhookTarget) throw new Error('walmart simulator: no webhook target set');
    const body = JSON.stringify(notification);
    const res = await request(webhookTarget, {
      method: 'POST',
      headers: { 'content-type': 'application/json', [webhookHeader]: hmacSha256(webhookSecret, body, digestEncoding) },
      body,
    });
    await res.body.dump();
    webhooksDelivered += 1;
    if (res.statusCode >= 300) throw new Error(`walmart simulator: webhook answered ${res.statusCode}`);
  };

  const eventLines = (order: WalmartOrder, status: string, only?: string): PoEventLine[] =>
    order.orderLines.orderLine
      .filter((line) => only === undefined || line.lineNumber === only)
      .map((line) => ({
        lineNumber: line.lineNumber,
        sku: line.item.sku,
        productName: line.item.productName,
        quantity: { unitOfMeasure: 'EACH', measurementValue: line.orderLineQuantity.amount },
        status,
        statusDate: new Date().toISOString(),
      }));

  const notification = (eventType: PoEventNotification['source']['eventType'], order: WalmartOrder, lines: PoEventLine[], eventTime: Date): PoEventNotification => ({
    source: { eventType, eventTime: eventTime.toISOString(), eventId: randomUUID() },
    payload: {
      partnerId: '10000000001',
      purchaseOrderId: order.purchaseOrderId,
      customerOrderId: order.customerOrderId,
      orderDate: new Date(order.orderDate).toISOString(),
      ...(options.webhookLines === 'id-only' && eventType === 'PO_CREATED' ? {} : { orderLines: lines }),
    },
  });

  return {
    url: server.url,
    connectorOptions: (skus) => {
      const mapping: Record<string, string> = {};
      for (const sku of skus) mapping[sku] = ensureItem(sku);
      // Feed status is polled at the pace the simulator processes feeds, not the minute real feeds call for.
      const feedPollMs = Math.max(10, Math.ceil((options.feedProcessingMs ?? 50) / 2));
      return { baseUrl: server.url, clientId, clientSecret, skus: mapping, webhookSecret, webhookAuthHeaderName: webhookHeader, feedPollMs };
    },
    shown: (sku) => {
      const walmartSku = walmartSkuByHub.get(sku);
      return walmartSku === undefined ? undefined : items.get(walmartSku)?.quantity;
    },
    setShown(sku, quantity) {
      (items.get(ensureItem(sku)) as Item).quantity = quantity;
    },
    walmartSku: (sku) => walmartSkuByHub.get(sku),
    stats: () => ({ ...server.counters, itemsWritten, tokensIssued, webhooksDelivered }),
    setFault: server.setFault,
    apiExchanges: () => exchanges,
    inventoryFeeds: () => feeds.submitted(),
    signWebhook(rawBody, headers = {}) {
      // As an HMAC subscription delivers: JSON, and the digest of the exact body in the subscription's header.
      return { 'content-type': 'application/json', ...headers, [webhookHeader.toLowerCase()]: hmacSha256(webhookSecret, rawBody, digestEncoding) };
    },
    setWebhookTarget(url) {
      webhookTarget = url;
    },
    revokeAccessTokens: () => accessTokens.clear(),
    async placeOrder(lines, delivery: WebhookDelivery = {}) {
      const created = new Date();
      const order: WalmartOrder = {
        purchaseOrderId: digits(13),
        customerOrderId: digits(15),
        orderDate: created.getTime(),
        orderLines: {
          orderLine: lines.map((line, index) => {
            const walmartSku = ensureItem(line.sku);
            const item = items.get(walmartSku) as Item;
            item.quantity = Math.max(0, (item.quantity ?? 0) - line.qty);
            return { lineNumber: String(index + 1), item: { productName: `Item ${line.sku}`, sku: walmartSku }, orderLineQuantity: { unitOfMeasurement: 'EACH', amount: String(line.qty) } };
          }),
        },
      };
      orders.set(order.purchaseOrderId, order);
      orderStates.set(order.purchaseOrderId, { lastModified: created.getTime(), cancelled: new Map() });
      // A dropped delivery: the PO exists (the orders API lists it), its notification is never sent.
      if (delivery.drop) return { orderId: order.purchaseOrderId };
      const first = notification('PO_CREATED', order, eventLines(order, 'Created'), created);
      // Walmart sends one PO_CREATED per PO; the later copy (its own eventId and eventTime, as a second subscription or a
      // redelivery produces) is what overtakes the original when delivery is out of order.
      const later = notification('PO_CREATED', order, eventLines(order, 'Created'), new Date(created.getTime() + 1000));
      const sequence = delivery.outOfOrder ? [later, first] : [first];
      for (let i = 0; i < (delivery.times ?? 1); i++) for (const payload of sequence) await deliver(payload);
      return { orderId: order.purchaseOrderId };
    },
    async autoCancelLine(purchaseOrderId, lineNumber, cancel = {}) {
      const order = orders.get(purchaseOrderId);
      const line = order?.orderLines.orderLine.find((l) => l.lineNumber === lineNumber);
      const state = orderStates.get(purchaseOrderId);
      if (!order || !line || !state) throw new Error(`walmart simulator: no line ${lineNumber} on PO ${purchaseOrderId}`);
      const ordered = Number(line.orderLineQuantity.amount);
      const qty = cancel.qty ?? ordered;
      if (!Number.isInteger(qty) || qty < 1 || qty > ordered) throw new Error(`walmart simulator: cannot cancel ${qty} of line ${lineNumber} (${ordered} ordered)`);
      const now = new Date();
      if (!state.cancelled.has(lineNumber)) {
        state.cancelled.set(lineNumber, { qty, at: now.getTime() });
        state.lastModified = now.getTime();
        const item = items.get(line.item.sku);
        if (item) item.quantity = (item.quantity ?? 0) + qty;
      }
      if (cancel.drop) return;
      const lines = eventLines(order, 'Cancelled', lineNumber).map((l) => ({ ...l, quantity: { ...l.quantity, measurementValue: String(state.cancelled.get(lineNumber)?.qty ?? qty) } }));
      await deliver(notification('PO_LINE_AUTOCANCELLED', order, lines, now));
    },
    async close() {
      feeds.close();
      await server.close();
    },
  };
}
