import { createHash } from 'node:crypto';
import {
  defineConnector,
  RejectedError,
  RetryableError,
  ThrottledError,
  WebhookPayloadError,
  WebhookSignatureError,
  type InventoryEvent,
  type PushResult,
  type StockUpdate,
  type WebhookOutcome,
  type WebhookRequest,
} from '../../core/sdk.ts';
import { createHttpClient, retryAfterMs, type HttpResponse } from '../_kit/http-client.ts';
import {
  BULK_GET_PATH,
  BULK_UPDATE_PATH,
  DAILY_REVISIONS_PER_LISTING,
  ErrorIds,
  MAX_BULK_REQUESTS,
  ORDER_PATH,
  PUBLIC_KEY_PATH,
  REVISION_LIMIT_MESSAGE,
  SIGNATURE_HEADER,
  type BulkGetInventoryItemResponse,
  type BulkPriceQuantityRequest,
  type BulkPriceQuantityResponse,
  type EbayError,
  type EbayNotification,
  type EbayOrder,
  type EbayPublicKey,
  type PriceQuantityResponse,
} from './api.ts';
import { decodeSignatureHeader, verifyNotification } from './notification-signature.ts';
import { ebayOptionsSchema, type EbayOptions } from './options.ts';
import { PublicKeyCache } from './public-key-cache.ts';

/** Milliseconds until the next UTC midnight: when a listing's daily revision budget is back. */
function untilNextDay(now = Date.now()): number {
  const next = new Date(now);
  next.setUTCHours(24, 0, 0, 0);
  return next.getTime() - now;
}

function describe(errors: readonly EbayError[] | undefined, statusCode: number): string {
  if (!errors || errors.length === 0) return `statusCode ${statusCode}`;
  return errors.map((e) => `${e.errorId}: ${e.longMessage ?? e.message}`).join('; ');
}

/** One per-offer (or per-item) answer judged on its own. */
function judge(hubSku: string, entry: PriceQuantityResponse, quantity: number): PushResult {
  if (entry.statusCode >= 200 && entry.statusCode < 300) return { sku: hubSku, status: 'ok', quantity };
  const reason = describe(entry.errors, entry.statusCode);
  const ids = new Set((entry.errors ?? []).map((e) => e.errorId));
  if (ids.has(ErrorIds.SYSTEM) || entry.statusCode >= 500) return { sku: hubSku, status: 'retry', reason };
  // The daily revision block lifts at the next calendar day: a retry then, never a dead letter.
  if ((entry.errors ?? []).some((e) => REVISION_LIMIT_MESSAGE.test(`${e.message} ${e.longMessage ?? ''}`))) {
    return { sku: hubSku, status: 'retry', reason, afterMs: untilNextDay() };
  }
  return { sku: hubSku, status: 'rejected', reason };
}

/** The worst of several answers for one hub SKU: rejected over retry over ok. */
function worst(results: PushResult[]): PushResult {
  return results.find((r) => r.status === 'rejected') ?? results.find((r) => r.status === 'retry') ?? results[0]!;
}

function throwForStatus(res: HttpResponse, what: string): void {
  // eBay documents no Retry-After on its 429s; one is honoured when present, otherwise a second is assumed.
  if (res.status === 429) throw new ThrottledError(`eBay throttled ${what} (429)`, { retryAfterMs: retryAfterMs(res.headers, 1000) });
  if (res.status === 401 || res.status === 403) throw new RejectedError(`eBay refused the access token for ${what} (${res.status})`);
  if (res.status >= 500) throw new RetryableError(`eBay answered ${res.status} to ${what}`);
}

export default defineConnector<EbayOptions>({
  name: 'ebay',
  contractVersion: 1,
  optionsSchema: ebayOptionsSchema,
  capabilities: {
    maxBatchSize: MAX_BULK_REQUESTS,
    // The Inventory API's default quota is a daily call count, not a per-second rate; 5/s (burst 10) keeps a
    // busy day well inside it while leaving bursts fast.
    rateLimit: { perSecond: 5, burst: 10 },
    quantityMode: 'absolute',
    dailyRevisionsPerSku: DAILY_REVISIONS_PER_LISTING,
    maxConcurrency: 2,
  },
  create(options, context) {
    const http = createHttpClient(options.baseUrl, { connections: options.connections ?? 8 });
    const auth = { authorization: `Bearer ${options.accessToken}` };
    const byEbaySku = new Map<string, string>();
    for (const [hubSku, ref] of Object.entries(options.listings)) byEbaySku.set(ref.sku, hubSku);
    const toHubSku = (ebaySku: string): string => byEbaySku.get(ebaySku) ?? ebaySku;

    const keys = new PublicKeyCache(async (kid, signal) => {
      const res = await http.request({ method: 'GET', path: PUBLIC_KEY_PATH + encodeURIComponent(kid), headers: auth, signal });
      if (res.status === 404 || res.status === 400) return undefined;
      throwForStatus(res, 'getPublicKey');
      if (res.status !== 200) throw new RetryableError(`eBay answered ${res.status} to getPublicKey`);
      return res.body as EbayPublicKey;
    }, options.publicKeyTtlMs ?? 3_600_000);

    const fetchOrder = async (orderId: string, signal: AbortSignal): Promise<EbayOrder> => {
      const res = await http.request({ method: 'GET', path: ORDER_PATH + encodeURIComponent(orderId), headers: auth, signal });
      throwForStatus(res, `getOrder ${orderId}`);
      if (res.status === 404) throw new WebhookPayloadError(`eBay does not know order ${orderId}`);
      if (res.status !== 200) throw new RetryableError(`eBay answered ${res.status} to getOrder ${orderId}`);
      return res.body as EbayOrder;
    };

    const answerChallenge = (request: WebhookRequest): WebhookOutcome => {
      if (!options.verificationToken || !options.endpointUrl) {
        throw new WebhookPayloadError('eBay endpoint challenge received but verificationToken/endpointUrl are not configured');
      }
      const challengeResponse = createHash('sha256')
        .update(request.query.challenge_code ?? '')
        .update(options.verificationToken)
        .update(options.endpointUrl)
        .digest('hex');
      return { events: [], response: { status: 200, body: { challengeResponse }, headers: { 'content-type': 'application/json' } } };
    };

    return {
      async push(updates: readonly StockUpdate[], signal: AbortSignal): Promise<PushResult[]> {
        if (updates.length > MAX_BULK_REQUESTS) throw new RejectedError(`eBay takes at most ${MAX_BULK_REQUESTS} items per call, got ${updates.length}`);
        const results: PushResult[] = [];
        const sent: Array<{ update: StockUpdate; ebaySku: string }> = [];
        const body: BulkPriceQuantityRequest = { requests: [] };
        for (const update of updates) {
          const ref = options.listings[update.sku];
          if (!ref) {
            results.push({ sku: update.sku, status: 'rejected', reason: `no eBay listing mapped for hub SKU ${update.sku}` });
            continue;
          }
          sent.push({ update, ebaySku: ref.sku });
          body.requests.push({
            sku: ref.sku,
            shipToLocationAvailability: { quantity: update.quantity },
            offers: ref.offerIds.map((offerId) => ({ offerId, availableQuantity: update.quantity })),
          });
        }
        if (sent.length === 0) return results;

        const res = await http.request({ method: 'POST', path: BULK_UPDATE_PATH, headers: auth, body, signal });
        throwForStatus(res, 'bulkUpdatePriceQuantity');
        if (res.status !== 200 && res.status !== 207) {
          const errors = (res.body as { errors?: EbayError[] } | undefined)?.errors;
          throw new RejectedError(`eBay refused the bulk update (${res.status}): ${describe(errors, res.status)}`);
        }
        const responses = (res.body as BulkPriceQuantityResponse | undefined)?.responses ?? [];
        const byEbaySkuAnswer = new Map<string, PriceQuantityResponse[]>();
        for (const entry of responses) {
          if (!entry.sku) continue;
          const list = byEbaySkuAnswer.get(entry.sku) ?? [];
          list.push(entry);
          byEbaySkuAnswer.set(entry.sku, list);
        }
        for (const { update, ebaySku } of sent) {
          const answers = byEbaySkuAnswer.get(ebaySku);
          if (!answers || answers.length === 0) {
            results.push({ sku: update.sku, status: 'retry', reason: `eBay sent no result for SKU ${ebaySku}` });
            continue;
          }
          results.push(worst(answers.map((entry) => judge(update.sku, entry, update.quantity))));
        }
        return results;
      },

      async handleWebhook(request, signal) {
        if (request.query.challenge_code !== undefined && request.rawBody.length === 0) return answerChallenge(request);

        const header = decodeSignatureHeader(request.headers[SIGNATURE_HEADER]);
        if (!header) throw new WebhookSignatureError(`missing or malformed ${SIGNATURE_HEADER}`);
        const key = await keys.get(header.kid, signal);
        if (!key || !verifyNotification(request.rawBody, header, key)) throw new WebhookSignatureError(`wrong ${SIGNATURE_HEADER} (kid ${header.kid})`);

        let payload: EbayNotification;
        try {
          payload = JSON.parse(request.rawBody.toString('utf8')) as EbayNotification;
        } catch (err) {
          throw new WebhookPayloadError('body is not JSON', { cause: err });
        }
        const topic = payload.metadata?.topic;
        if (topic !== 'ORDER_CONFIRMATION') {
          context.logger.debug('eBay notification ignored', { topic });
          return { events: [] };
        }
        const orderId = payload.notification?.data?.orderId;
        if (typeof orderId !== 'string' || !orderId) throw new WebhookPayloadError('notification.data.orderId is required');

        // The notification carries only the id: the lines come from the Fulfillment API.
        const order = await fetchOrder(orderId, signal);
        const quantities = new Map<string, number>();
        for (const item of order.lineItems ?? []) {
          const sku = toHubSku(item.sku);
          quantities.set(sku, (quantities.get(sku) ?? 0) + item.quantity);
        }
        const cancelled = order.cancelStatus?.cancelState === 'CANCELED';
        const event: InventoryEvent = {
          id: `${context.channelId}:order:${order.orderId}:${cancelled ? 'cancelled' : 'confirmed'}`,
          type: cancelled ? 'order.cancelled' : 'order.confirmed',
          channel: context.channelId,
          occurredAt: order.creationDate,
          orderId: order.orderId,
          lines: [...quantities].map(([sku, qty]) => ({ sku, qty })),
        };
        return { events: [event] };
      },

      async fetchQuantities(skus, signal) {
        const shown = new Map<string, number>();
        const mapped = skus.filter((sku) => options.listings[sku]);
        for (let i = 0; i < mapped.length; i += MAX_BULK_REQUESTS) {
          const chunk = mapped.slice(i, i + MAX_BULK_REQUESTS);
          const res = await http.request({
            method: 'POST',
            path: BULK_GET_PATH,
            headers: auth,
            body: { requests: chunk.map((sku) => ({ sku: options.listings[sku]!.sku })) },
            signal,
          });
          throwForStatus(res, 'bulkGetInventoryItem');
          if (res.status !== 200 && res.status !== 207) throw new RetryableError(`eBay answered ${res.status} to bulkGetInventoryItem`);
          for (const entry of (res.body as BulkGetInventoryItemResponse).responses ?? []) {
            const quantity = entry.inventoryItem?.availability?.shipToLocationAvailability?.quantity;
            if (entry.statusCode === 200 && typeof quantity === 'number') shown.set(toHubSku(entry.sku), quantity);
          }
        }
        return shown;
      },

      close: () => http.close(),
    };
  },
  simulator: async (options) => (await import('./simulator.ts')).startEbaySimulator(options),
});
