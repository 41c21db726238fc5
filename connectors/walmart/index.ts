import { randomUUID } from 'node:crypto';
import {
  defineConnector,
  RejectedError,
  RetryableError,
  WebhookSignatureError,
  type PushResult,
  type StockUpdate,
} from '../../core/sdk.ts';
import { createAccessTokenCache } from '../_kit/access-token-cache.ts';
import { createHttpClient, headerNumber, type HttpResponse } from '../_kit/http-client.ts';
import { throwForStatus } from '../_kit/http-status.ts';
import { hmacSha256, matchesAnySecret, secretList } from '../_kit/signatures.ts';
import {
  DEFAULT_BASE_URL,
  DEFAULT_SERVICE_NAME,
  DEFAULT_WEBHOOK_HEADER,
  FEEDS_PATH,
  INVENTORY_FEED_PROCESSING_MS,
  INVENTORY_FEED_RATE,
  INVENTORY_PATH,
  INVENTORY_RATE,
  ORDERS_PATH,
  REPLENISH_HEADER,
  type WalmartInventory,
} from './api.ts';
import { describeErrors } from './describe-errors.ts';
import { createInventoryFeed, type WalmartRequest } from './inventory-feed.ts';
import { createItemList } from './list-listings.ts';
import { createOrderList } from './list-orders.ts';
import { poConfirmed, poLineCancellations, type PoEventScope } from './po-events.ts';
import { readPoNotification, readWalmartOrder } from './po-notification.ts';
import { walmartOptionsSchema, type WalmartOptions } from './options.ts';
import { basicAuthorization, fetchWalmartToken } from './walmart-token.ts';

/** How long until the bucket has a token again, when Walmart sent its replenish time (else Retry-After applies). */
function replenishDelayMs(headers: HttpResponse['headers']): number | undefined {
  const replenish = headerNumber(headers, REPLENISH_HEADER);
  if (replenish === undefined || !(replenish > 0)) return undefined;
  // The documentation gives a time, not its unit: epoch milliseconds and epoch seconds are both plausible.
  const at = replenish > 1e12 ? replenish : replenish > 1e9 ? replenish * 1000 : Number.NaN;
  return Number.isFinite(at) ? Math.max(0, Math.ceil(at - Date.now())) : undefined;
}

/**
 * Pause between feed status calls. Walmart documents no calling interval for inventory feeds (its feeds overview gives
 * 15 minutes, 1 hour, 2 hours for item feeds) and no rate for the status call; inventory feeds take up to 30 minutes,
 * so once a minute adds at most a minute to the lane's delay for at most 60 status calls per feed.
 */
const DEFAULT_FEED_POLL_MS = 60_000;

/**
 * Walmart's documented processing time per inventory feed is 30 minutes; it is the only figure published, so it is the
 * lane's first estimate, and twice it the point where the hub and the connector stop waiting (a margin of ours, not
 * Walmart's).
 */
const BULK_MAX_DURATION_MS = 2 * INVENTORY_FEED_PROCESSING_MS;

export default defineConnector<WalmartOptions>({
  name: 'walmart',
  contractVersion: 1,
  optionsSchema: walmartOptionsSchema,
  capabilities: {
    maxBatchSize: 1,
    rateLimit: INVENTORY_RATE,
    quantityMode: 'absolute',
    maxConcurrency: 4,
    bulk: {
      // A line of the feed file is at most ~370 bytes (a 50-character SKU, each character escaped as \uXXXX in the
      // worst case, and a 16-digit amount): 10,000 lines stay under 3.7 MB, inside the documented 5 MB per file and
      // far inside the 50,000 lines Seller Center allows. Walmart documents no line count for the API itself.
      maxBatchSize: 10_000,
      // Walmart's documented 10 inventory feeds per hour, replenished gradually (api.ts).
      rateLimit: INVENTORY_FEED_RATE,
      // Up to 30 minutes each at 10 an hour: five open feeds can use the whole hourly allowance. Walmart documents no
      // limit on open feeds.
      maxConcurrency: 5,
      expectedDurationMs: INVENTORY_FEED_PROCESSING_MS,
      maxDurationMs: BULK_MAX_DURATION_MS,
    },
  },
  create(options, context) {
    // Every call is paced as it leaves, after any token fetch, one token under Walmart's burst: a delayed
    // burst would otherwise land on top of the next call and draw a 429.
    const http = createHttpClient(options.baseUrl ?? DEFAULT_BASE_URL, { connections: options.connections ?? 4, pace: { perSecond: INVENTORY_RATE.perSecond, burst: Math.max(1, INVENTORY_RATE.burst - 1) } });
    const serviceName = options.serviceName ?? DEFAULT_SERVICE_NAME;
    const basic = basicAuthorization(options.clientId, options.clientSecret);
    // The Basic credential is derived from the configured secret: masked as a whole and as its base64 part.
    context.registerSecret(basic);
    context.registerSecret(basic.slice('Basic '.length));
    const tokens = createAccessTokenCache(async (signal) => {
      const issued = await fetchWalmartToken(http, { ...options, serviceName }, signal);
      context.registerSecret(issued.token);
      return issued;
    });
    const secrets = secretList(options.webhookSecret);
    const signatureHeader = (options.webhookAuthHeaderName ?? DEFAULT_WEBHOOK_HEADER).toLowerCase();
    const hubSkuByWalmartSku = new Map(Object.entries(options.skus).map(([hubSku, walmartSku]) => [walmartSku, hubSku]));

    const inventoryPath = (walmartSku: string): string =>
      `${INVENTORY_PATH}?sku=${encodeURIComponent(walmartSku)}${options.shipNode ? `&shipNode=${encodeURIComponent(options.shipNode)}` : ''}`;

    /**
     * One API call with a current token; a 401 (token revoked or expired early) is retried once with a fresh one.
     * `contentType` replaces JSON for the feed upload's multipart body.
     */
    const apiRequest: WalmartRequest = async ({ contentType, ...req }) => {
      for (let attempt = 0; ; attempt++) {
        const token = await tokens.get(req.signal);
        const headers: Record<string, string> = {
          'wm_sec.access_token': token,
          'wm_qos.correlation_id': randomUUID(),
          'wm_svc.name': serviceName,
          authorization: basic,
          accept: 'application/json',
          // Walmart's specs mark Content-Type required on every call, GETs included.
          'content-type': contentType ?? 'application/json',
        };
        if (options.channelType) headers['wm_consumer.channel.type'] = options.channelType;
        const res = await http.request({ ...req, headers });
        if (res.status === 401 && attempt === 0) {
          tokens.invalidate(token);
          continue;
        }
        throwForStatus(res, {
          channel: 'walmart',
          what: `${req.method} ${req.path.split('?')[0]}`,
          detail: (r) => describeErrors(r.body),
          throttleWaitMs: (r) => replenishDelayMs(r.headers),
          // Without any hint, one token's refill: of the feed bucket for a feed upload, of the call bucket otherwise.
          defaultThrottleWaitMs: Math.ceil(1000 / (req.path.startsWith(`${FEEDS_PATH}?`) ? INVENTORY_FEED_RATE.perSecond : INVENTORY_RATE.perSecond)),
        });
        return res;
      }
    };

    const pushOne = async (update: StockUpdate, signal: AbortSignal): Promise<PushResult> => {
      const walmartSku = options.skus[update.sku];
      if (!walmartSku) return { sku: update.sku, status: 'not_listed', reason: `no Walmart SKU mapped for hub SKU "${update.sku}"` };
      const body: WalmartInventory = { sku: walmartSku, quantity: { unit: 'EACH', amount: update.quantity } };
      const res = await apiRequest({ method: 'PUT', path: inventoryPath(walmartSku), body, signal });
      // Walmart's 404 for the item: it has no such SKU (never listed, or retired): nothing to push until it is listed.
      if (res.status === 404) return { sku: update.sku, status: 'not_listed', reason: `walmart answered 404: ${describeErrors(res.body)}` };
      if (res.status !== 200) return { sku: update.sku, status: 'rejected', reason: `walmart answered ${res.status}: ${describeErrors(res.body)}` };
      const amount = (res.body as Partial<WalmartInventory> | undefined)?.quantity?.amount;
      return { sku: update.sku, status: 'ok', quantity: typeof amount === 'number' ? amount : update.quantity };
    };

    const scope: PoEventScope = { channelId: context.channelId, hubSkuByWalmartSku, logger: context.logger };

    const fetchOrder = async (purchaseOrderId: string, signal: AbortSignal): Promise<NonNullable<ReturnType<typeof readWalmartOrder>>> => {
      const res = await apiRequest({ method: 'GET', path: `${ORDERS_PATH}/${encodeURIComponent(purchaseOrderId)}`, signal });
      if (res.status !== 200) throw new RetryableError(`walmart GET order ${purchaseOrderId} answered ${res.status}: ${describeErrors(res.body)}`);
      const order = readWalmartOrder(res.body);
      if (!order) throw new RetryableError(`walmart GET order ${purchaseOrderId} answered an order without readable lines`);
      return order;
    };

    const listOrders = createOrderList({ request: apiRequest, scope, describe: describeErrors });
    const listListings = createItemList({ request: apiRequest, describe: describeErrors, shipNode: options.shipNode });
    const pushBulk = createInventoryFeed({
      request: apiRequest,
      describe: describeErrors,
      skus: options.skus,
      shipNode: options.shipNode,
      pollMs: options.feedPollMs ?? DEFAULT_FEED_POLL_MS,
      giveUpMs: BULK_MAX_DURATION_MS,
    });

    return {
      async push(updates, signal) {
        // Walmart's synchronous inventory update takes one SKU; the dispatcher honours maxBatchSize, this guards a host that does not.
        if (updates.length > 1) throw new RejectedError(`walmart takes one SKU per call, got ${updates.length}`);
        const [update] = updates;
        return update ? [await pushOne(update, signal)] : [];
      },

      async handleWebhook(request, signal) {
        const raw = request.headers[signatureHeader]?.trim();
        // A scheme word before the digest ("HMAC <digest>") is tolerated; the digest is what gets compared.
        const given = raw?.split(/\s+/).pop();
        const signed =
          matchesAnySecret(secrets, given, (secret) => hmacSha256(secret, request.rawBody, 'hex')) ||
          matchesAnySecret(secrets, given, (secret) => hmacSha256(secret, request.rawBody, 'base64'));
        if (!signed) throw new WebhookSignatureError(`missing or wrong HMAC-SHA256 in ${signatureHeader}`);

        const notification = readPoNotification(request.rawBody);
        if (!notification) return { events: [] };
        const { eventType, purchaseOrderId } = notification;
        const eventTime = notification.eventTime ?? new Date().toISOString();
        if (notification.lines.length > 0) {
          if (eventType === 'PO_CREATED') return { events: poConfirmed(scope, purchaseOrderId, notification.orderDate ?? eventTime, notification.lines) };
          // A notification of cancelled lines names each line's status; one without statuses cancels all it lists.
          const lines = notification.lines.some((line) => line.status !== undefined) ? notification.lines.filter((line) => /^cancel/i.test(line.status ?? '')) : notification.lines;
          return { events: poLineCancellations(scope, purchaseOrderId, eventTime, lines) };
        }
        // No lines in the notification: the order as the orders API tells it now.
        const order = await fetchOrder(purchaseOrderId, signal);
        if (eventType === 'PO_CREATED') return { events: poConfirmed(scope, purchaseOrderId, order.orderDate ?? notification.orderDate ?? eventTime, order.lines) };
        const cancelled = order.lines.filter((line) => line.cancelledQty > 0).map((line) => ({ ...line, qty: line.cancelledQty }));
        return { events: poLineCancellations(scope, purchaseOrderId, eventTime, cancelled) };
      },

      pushBulk,
      listOrders,
      listListings,

      async fetchQuantities(skus, signal) {
        const shown = new Map<string, number>();
        for (const sku of skus) {
          const walmartSku = options.skus[sku];
          if (!walmartSku) continue;
          const res = await apiRequest({ method: 'GET', path: inventoryPath(walmartSku), signal });
          if (res.status === 404) continue;
          if (res.status !== 200) throw new RetryableError(`walmart GET inventory answered ${res.status}: ${describeErrors(res.body)}`);
          const amount = (res.body as Partial<WalmartInventory>).quantity?.amount;
          if (typeof amount === 'number') shown.set(sku, amount);
        }
        return shown;
      },

      close: () => http.close(),
    };
  },
  simulator: async (options) => (await import('./simulator.ts')).startWalmartSimulator(options),
});
