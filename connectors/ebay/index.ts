import { createHash } from 'node:crypto';
import {
  defineConnector,
  RejectedError,
  RetryableError,
  WebhookPayloadError,
  WebhookSignatureError,
  type InventoryEvent,
  type PushResult,
  type StockUpdate,
  type WebhookOutcome,
  type WebhookRequest,
} from '../../core/sdk.ts';
import { createAccessTokenCache, type AccessTokenCache } from '../_kit/access-token-cache.ts';
import { createHttpClient, type HttpRequest, type HttpResponse } from '../_kit/http-client.ts';
import { throwForStatus } from '../_kit/http-status.ts';
import { createRefreshingAccessToken } from '../_kit/refreshing-access-token.ts';
import {
  APP_SCOPE,
  BULK_GET_PATH,
  BULK_UPDATE_PATH,
  DAILY_REVISIONS_PER_LISTING,
  ErrorIds,
  MAX_BULK_GET_REQUESTS,
  MAX_SKUS_PER_PRICE_QUANTITY_CALL,
  ORDER_PATH,
  PUBLIC_KEY_PATH,
  REVISION_LIMIT_MESSAGE,
  SIGNATURE_HEADER,
  USER_SCOPES,
  type BulkGetInventoryItemResponse,
  type BulkPriceQuantityRequest,
  type BulkPriceQuantityResponse,
  type EbayError,
  type EbayPublicKey,
  type PriceQuantityResponse,
} from './api.ts';
import { basicCredential, fetchEbayAppToken, refreshEbayUserToken } from './ebay-token.ts';
import { decodeSignatureHeader, verifyNotification } from './notification-signature.ts';
import { createListingReader } from './list-listings.ts';
import { createOrderLister } from './list-orders.ts';
import { readOrderConfirmation, readOrder, type OrderSummary } from './notification-payload.ts';
import { ebayOrderEvents } from './order-events.ts';
import { ebayOptionsSchema, type EbayOptions } from './options.ts';
import { PublicKeyCache } from './public-key-cache.ts';

/** Milliseconds until the next UTC midnight: when a listing's daily revision budget is back. */
function untilNextDay(now = Date.now()): number {
  const next = new Date(now);
  next.setUTCHours(24, 0, 0, 0);
  return next.getTime() - now;
}

/** Error text from eBay, kept short: ids and eBay's own messages, never anything we sent. */
function describe(errors: unknown, statusCode: number): string {
  if (!Array.isArray(errors) || errors.length === 0) return `statusCode ${statusCode}`;
  return (errors as Array<Partial<EbayError>>)
    .slice(0, 3)
    .map((e) => `${typeof e?.errorId === 'number' ? e.errorId : '?'}: ${String(e?.message ?? '').slice(0, 160)}`)
    .join('; ');
}

const errorIds = (entry: PriceQuantityResponse): Set<number> =>
  new Set((Array.isArray(entry.errors) ? entry.errors : []).map((e) => (typeof e?.errorId === 'number' ? e.errorId : -1)));

/** One per-offer (or per-item) answer judged on its own. */
function judge(hubSku: string, entry: PriceQuantityResponse, quantity: number): PushResult {
  const statusCode = typeof entry?.statusCode === 'number' ? entry.statusCode : 0;
  if (statusCode >= 200 && statusCode < 300) return { sku: hubSku, status: 'ok', quantity };
  const reason = describe(entry?.errors, statusCode);
  const ids = errorIds(entry);
  // No inventory item or offer of that id: the SKU is not listed there, which no retry changes.
  if (ids.has(ErrorIds.SKU_NOT_FOUND) || ids.has(ErrorIds.OFFER_NOT_AVAILABLE)) return { sku: hubSku, status: 'not_listed', reason };
  // Another write holds the inventory item: a moment later it is free, and it was no attempt of ours.
  if (ids.has(ErrorIds.CONCURRENT_ACCESS)) return { sku: hubSku, status: 'busy', reason };
  if (ids.has(ErrorIds.SYSTEM) || statusCode >= 500) return { sku: hubSku, status: 'retry', reason };
  // The daily revision block lifts at the next calendar day: a retry then, never a dead letter.
  const errors = Array.isArray(entry.errors) ? entry.errors : [];
  if (errors.some((e) => REVISION_LIMIT_MESSAGE.test(`${String(e?.message ?? '')} ${String(e?.longMessage ?? '')}`))) {
    return { sku: hubSku, status: 'retry', reason, afterMs: untilNextDay() };
  }
  return { sku: hubSku, status: 'rejected', reason };
}

/**
 * One SKU's answers (the item and each of its offers) as one result. A refusal or a transient failure of any
 * part wins; "not listed" only when nothing of the SKU is listed, since an ended offer beside live ones must not
 * stop the live ones from being kept true.
 */
function combine(results: PushResult[]): PushResult {
  return (
    results.find((r) => r.status === 'rejected') ??
    results.find((r) => r.status === 'retry') ??
    results.find((r) => r.status === 'busy') ??
    results.find((r) => r.status === 'ok') ??
    results[0]!
  );
}

/** eBay documents no Retry-After on its 429s; one is honoured when present, otherwise a second is assumed. */
const callStatus = (res: HttpResponse, what: string): void => throwForStatus(res, { channel: 'eBay', what });

/** An access token source that can (or cannot) be renewed. */
interface TokenSource extends AccessTokenCache {
  renewable: boolean;
}

export default defineConnector<EbayOptions>({
  name: 'ebay',
  contractVersion: 1,
  optionsSchema: ebayOptionsSchema,
  capabilities: {
    // bulkUpdatePriceQuantity: "Only one SKU (one product) can be updated per call" (with up to 25 of its offers).
    maxBatchSize: MAX_SKUS_PER_PRICE_QUANTITY_CALL,
    // The Inventory API's default quota is a daily call count, not a per-second rate; 5/s (burst 10) keeps a
    // busy day well inside it while leaving bursts fast.
    rateLimit: { perSecond: 5, burst: 10 },
    quantityMode: 'absolute',
    dailyRevisionsPerSku: DAILY_REVISIONS_PER_LISTING,
    maxConcurrency: 2,
  },
  create(options, context) {
    const http = createHttpClient(options.baseUrl, { connections: options.connections ?? 8 });
    const byEbaySku = new Map<string, string>();
    // Options validated by the host always hold `listings` (default {}); a channel being onboarded maps none yet.
    const listings: EbayOptions['listings'] = options.listings ?? {};
    for (const [hubSku, ref] of Object.entries(listings)) byEbaySku.set(ref.sku, hubSku);

    const basic = options.clientId && options.clientSecret ? basicCredential({ clientId: options.clientId, clientSecret: options.clientSecret }) : undefined;
    if (basic) {
      context.registerSecret(basic);
      context.registerSecret(basic.slice('Basic '.length));
    }
    let userTokens: TokenSource;
    if (basic && options.refreshToken) {
      const scopes = options.scopes ?? [...USER_SCOPES];
      userTokens = Object.assign(
        createRefreshingAccessToken({
          refresh: (refreshToken, signal) => refreshEbayUserToken(http, basic, refreshToken, scopes, signal),
          initialRefreshToken: options.refreshToken,
          state: context.state,
          stateKey: 'ebay.user-refresh-token',
          registerSecret: (value) => context.registerSecret(value),
        }),
        { renewable: true },
      );
    } else if (options.accessToken) {
      const fixed = options.accessToken;
      context.registerSecret(fixed);
      userTokens = { get: () => Promise.resolve(fixed), invalidate() {}, renewable: false };
    } else {
      throw new RejectedError('eBay options need accessToken, or clientId + clientSecret + refreshToken');
    }
    // getPublicKey takes an application token (client-credentials grant, scope api_scope) when the app's
    // credentials are configured; a user token carries that scope too, so it serves otherwise.
    const appTokens: TokenSource = basic
      ? Object.assign(
          createAccessTokenCache(async (signal) => {
            const issued = await fetchEbayAppToken(http, basic, APP_SCOPE, signal ?? AbortSignal.timeout(30_000));
            context.registerSecret(issued.token);
            return issued;
          }),
          { renewable: true },
        )
      : userTokens;

    /**
     * Sends one call with a current token. An expired or revoked token answers 401 (error 1001): a renewable
     * token is then invalidated (one refresh for every call that saw it) and the call sent once more.
     */
    const send = async (tokens: TokenSource, req: HttpRequest & { signal: AbortSignal }): Promise<HttpResponse> => {
      for (let attempt = 0; ; attempt++) {
        const token = await tokens.get(req.signal);
        const res = await http.request({ ...req, headers: { ...req.headers, authorization: `Bearer ${token}` } });
        if (res.status !== 401 || !tokens.renewable || attempt > 0) return res;
        tokens.invalidate(token);
      }
    };

    const keys = new PublicKeyCache(
      async (kid, signal) => {
        const res = await send(appTokens, { method: 'GET', path: PUBLIC_KEY_PATH + encodeURIComponent(kid), signal });
        if (res.status === 404 || res.status === 400) return undefined;
        callStatus(res, 'getPublicKey');
        if (res.status !== 200) throw new RetryableError(`eBay answered ${res.status} to getPublicKey`);
        const body = res.body as Partial<EbayPublicKey> | undefined;
        if (typeof body?.key !== 'string' || typeof body.algorithm !== 'string') throw new RetryableError('eBay answered getPublicKey without a key');
        return { key: body.key, algorithm: body.algorithm, digest: typeof body.digest === 'string' ? body.digest : '' };
      },
      { ttlMs: options.publicKeyTtlMs ?? 3_600_000, maxFetchesPerMinute: options.publicKeyFetchesPerMinute ?? 10 },
    );

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

    /** Verifies the signature, doing the free checks first: only a well-formed header about a JSON body costs a key lookup. */
    const verify = async (request: WebhookRequest, signal: AbortSignal): Promise<unknown> => {
      const header = decodeSignatureHeader(request.headers[SIGNATURE_HEADER]);
      if (!header) throw new WebhookSignatureError(`missing or malformed ${SIGNATURE_HEADER}`);
      let body: unknown;
      let parsed = false;
      try {
        body = JSON.parse(request.rawBody.toString('utf8'));
        parsed = typeof body === 'object' && body !== null && !Array.isArray(body);
      } catch {
        parsed = false;
      }
      if (!parsed) {
        // eBay only ever signs JSON objects. Judge such a body with a key already at hand (then a signed one is a
        // payload error, 400); never spend a lookup on it.
        const known = keys.peek(header.kid);
        if (known && verifyNotification(request.rawBody, header, known)) throw new WebhookPayloadError('signed notification body is not a JSON object');
        throw new WebhookSignatureError(`${SIGNATURE_HEADER} does not sign this body`);
      }
      const key = await keys.get(header.kid, signal);
      if (!key || !verifyNotification(request.rawBody, header, key)) throw new WebhookSignatureError(`wrong ${SIGNATURE_HEADER}`);
      return body;
    };

    /** A Fulfillment or Inventory API read with the seller's token, throttling and outages thrown. */
    const read = async (path: string, what: string, signal: AbortSignal): Promise<HttpResponse> => {
      const res = await send(userTokens, { method: 'GET', path, signal });
      callStatus(res, what);
      return res;
    };

    /** The events of one order read from the Fulfillment API: the notification path and the catch-up share this. */
    const eventsOf = (order: OrderSummary, eventDate?: string): InventoryEvent[] =>
      ebayOrderEvents(
        context.channelId,
        order,
        (ebaySku) => byEbaySku.get(ebaySku) ?? ebaySku,
        (line) => context.logger.debug('eBay order line without a SKU ignored', { orderId: order.orderId, legacyItemId: line.legacyItemId }),
        eventDate,
      );

    const fetchOrderEvents = async (orderId: string, eventDate: string | undefined, signal: AbortSignal): Promise<InventoryEvent[]> => {
      const res = await read(ORDER_PATH + encodeURIComponent(orderId), 'getOrder', signal);
      if (res.status === 404 || res.status === 400) throw new WebhookPayloadError(`eBay does not know order ${orderId}`);
      if (res.status !== 200) throw new RetryableError(`eBay answered ${res.status} to getOrder`);
      return eventsOf(readOrder(res.body), eventDate);
    };

    const listOrders = createOrderLister({ get: read, eventsOf: (order) => eventsOf(order) });
    const listListings = createListingReader({ get: read });

    return {
      async push(updates: readonly StockUpdate[], signal: AbortSignal): Promise<PushResult[]> {
        if (updates.length > MAX_SKUS_PER_PRICE_QUANTITY_CALL) {
          throw new RejectedError(`eBay updates one SKU per bulkUpdatePriceQuantity call, got ${updates.length}`);
        }
        const [update] = updates;
        if (!update) return [];
        const ref = listings[update.sku];
        if (!ref) return [{ sku: update.sku, status: 'not_listed', reason: `no eBay listing mapped for hub SKU ${update.sku}` }];
        const body: BulkPriceQuantityRequest = {
          requests: [
            {
              sku: ref.sku,
              shipToLocationAvailability: { quantity: update.quantity },
              ...(ref.offerIds.length > 0 ? { offers: ref.offerIds.map((offerId) => ({ offerId, availableQuantity: update.quantity })) } : {}),
            },
          ],
        };
        const res = await send(userTokens, { method: 'POST', path: BULK_UPDATE_PATH, headers: { 'content-type': 'application/json' }, body, signal });
        callStatus(res, 'bulkUpdatePriceQuantity');
        if (res.status !== 200 && res.status !== 207) {
          throw new RejectedError(`eBay refused the bulk update (${res.status}): ${describe((res.body as { errors?: unknown } | undefined)?.errors, res.status)}`);
        }
        const responses = (res.body as Partial<BulkPriceQuantityResponse> | undefined)?.responses;
        const answers = (Array.isArray(responses) ? responses : []).filter((entry) => entry?.sku === ref.sku);
        if (answers.length === 0) return [{ sku: update.sku, status: 'retry', reason: `eBay sent no result for SKU ${ref.sku}` }];
        const judged = answers.map((entry) => judge(update.sku, entry, update.quantity));
        const result = combine(judged);
        if (result.status === 'ok' && judged.some((r) => r.status === 'not_listed')) {
          context.logger.warn('eBay offer not available; the SKU stays pushed to its other offers', { sku: update.sku });
        }
        return [result];
      },

      async handleWebhook(request, signal) {
        if (request.query.challenge_code !== undefined && request.rawBody.length === 0) return answerChallenge(request);
        const body = await verify(request, signal);
        // Everything below reads the signed body only.
        const confirmation = readOrderConfirmation(body, request.rawBody);
        if (!confirmation) {
          context.logger.debug('eBay notification ignored', { topic: (body as { metadata?: { topic?: unknown } }).metadata?.topic });
          return { events: [] };
        }
        // The notification names the order and its listings, not SKUs: the lines come from the Fulfillment API.
        return { events: await fetchOrderEvents(confirmation.orderId, confirmation.eventDate, signal) };
      },

      listOrders,
      listListings,

      async fetchQuantities(skus, signal) {
        const shown = new Map<string, number>();
        const mapped = skus.filter((sku) => listings[sku]);
        for (let i = 0; i < mapped.length; i += MAX_BULK_GET_REQUESTS) {
          const chunk = mapped.slice(i, i + MAX_BULK_GET_REQUESTS);
          const res = await send(userTokens, {
            method: 'POST',
            path: BULK_GET_PATH,
            headers: { 'content-type': 'application/json' },
            body: { requests: chunk.map((sku) => ({ sku: listings[sku]!.sku })) },
            signal,
          });
          callStatus(res, 'bulkGetInventoryItem');
          if (res.status !== 200 && res.status !== 207) throw new RetryableError(`eBay answered ${res.status} to bulkGetInventoryItem`);
          const responses = (res.body as Partial<BulkGetInventoryItemResponse> | undefined)?.responses;
          for (const entry of Array.isArray(responses) ? responses : []) {
            const quantity = entry?.inventoryItem?.availability?.shipToLocationAvailability?.quantity;
            if (entry?.statusCode === 200 && typeof entry.sku === 'string' && Number.isInteger(quantity)) shown.set(byEbaySku.get(entry.sku) ?? entry.sku, quantity as number);
          }
        }
        return shown;
      },

      close: () => http.close(),
    };
  },
  simulator: async (options) => (await import('./simulator.ts')).startEbaySimulator(options),
});
