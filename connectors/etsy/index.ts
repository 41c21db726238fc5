import {
  defineConnector,
  isThrottledError,
  RejectedError,
  RetryableError,
  WebhookPayloadError,
  WebhookSignatureError,
  type ChannelListing,
  type InventoryEvent,
  type PushResult,
  type StockUpdate,
} from '../../core/sdk.ts';
import { createHttpClient, headerNumber, type HttpRequest, type HttpResponse } from '../_kit/http-client.ts';
import { throwForStatus } from '../_kit/http-status.ts';
import { secretList } from '../_kit/signatures.ts';
import { createStandardWebhookVerifier } from '../_kit/standard-webhooks.ts';
import {
  inventoryPath,
  MAX_OFFERING_QUANTITY,
  MAX_PAGE_LIMIT,
  RateHeaders,
  receiptPath,
  receiptsPath,
  shopListingsPath,
  type EtsyInventory,
  type EtsyReceipts,
  type EtsyShopListings,
} from './api.ts';
import { createEtsyAccessToken } from './etsy-access-token.ts';
import { toInventoryUpdate } from './inventory-update.ts';
import { ListingQueue } from './listing-queue.ts';
import { etsyOptionsSchema, type EtsyOptions } from './options.ts';
import { decodeListingsCursor, decodeReceiptsCursor, encodeReceiptsCursor, LISTING_STATES } from './page-cursor.ts';
import { readOrderWebhook, readReceipt } from './read-receipt.ts';
import { receiptEvent } from './receipt-event.ts';

const MAX_BATCH = 5;
/** The orders poll re-reads this much before the latest change it saw, so a receipt changed in the same second is not missed. */
const ORDERS_OVERLAP_SEC = 120;
/** The first orders poll ever starts this long before now. */
const FIRST_POLL_LOOKBACK_SEC = 600;
/** Listings per onboarding page: each costs one inventory read, so a page stays a few seconds of Etsy's quota. */
const LISTINGS_PAGE = 25;
/** Longest piece of an Etsy error text kept in a reason: enough to act on, never a whole echoed request. */
const MAX_ERROR_TEXT = 160;

/** The `error` text of an Etsy answer (its ErrorSchema), short; never the raw body, which may echo the request. */
function errorText(res: HttpResponse): string {
  const body = res.body as { error?: unknown } | undefined;
  const text = typeof body?.error === 'string' ? body.error : `HTTP ${res.status}`;
  return text.length > MAX_ERROR_TEXT ? `${text.slice(0, MAX_ERROR_TEXT)}…` : text;
}

/** True for Etsy's answer to an access token that has run out (or was otherwise retired): refresh and try once more. */
function isTokenRefused(res: HttpResponse): boolean {
  return res.status === 401 && (res.body as { error?: unknown } | undefined)?.error === 'invalid_token';
}

/** Throws for the answers that concern the whole call: throttle, credentials, outage. */
function callStatus(res: HttpResponse, what: string): void {
  throwForStatus(res, {
    channel: 'Etsy',
    what,
    // A 429 says which limit was reached: the daily quota lasts until midnight, the per-second limit a moment.
    detail: (r, m) => (m === 'throttled' ? `${headerNumber(r.headers, RateHeaders.REMAINING_TODAY) === 0 ? 'daily quota' : 'per-second limit'} reached` : m === 'credentials' ? errorText(r) : undefined),
  });
}

export default defineConnector<EtsyOptions>({
  name: 'etsy',
  contractVersion: 1,
  optionsSchema: etsyOptionsSchema,
  capabilities: {
    // One push groups its SKUs by listing and costs one GET and one PUT per distinct listing: five listings at
    // most, ten calls, one second of Etsy's default quota.
    maxBatchSize: MAX_BATCH,
    // Etsy allows 10 requests/s; a push of one listing is two requests, so 5 pushes/s.
    rateLimit: { perSecond: 5, burst: 5 },
    quantityMode: 'absolute',
    maxConcurrency: 2,
  },
  create(options, context) {
    // A push costs two calls per listing, however it was batched: pace the calls themselves so Etsy's
    // per-second limit holds; a burst of half the limit leaves room for webhook order fetches.
    const perSecond = options.requestsPerSecond ?? 10;
    const http = createHttpClient(options.baseUrl, { connections: options.connections ?? 4, pace: { perSecond, burst: Math.max(1, Math.floor(perSecond / 2)) } });
    const apiKey = `${options.keystring}:${options.sharedSecret}`;
    context.registerSecret(apiKey);
    const tokens = createEtsyAccessToken(options, http, context);
    const verify = createStandardWebhookVerifier(secretList(options.webhookSecret), {
      toleranceSeconds: options.webhookToleranceSec ?? 300,
      field: 'options.webhookSecret',
    });
    const queue = new ListingQueue();
    // Onboarding creates a channel before any SKU is mapped.
    const mapped = options.listings ?? {};
    const productSku = (hubSku: string): string => mapped[hubSku]?.sku ?? hubSku;
    const byProduct = new Map<string, string>();
    for (const [hubSku, ref] of Object.entries(mapped)) byProduct.set(`${ref.listingId}:${ref.sku ?? hubSku}`, hubSku);
    /** The hub SKU of a receipt line: its mapped listing product, else the product SKU itself. */
    const resolveSku = (listingId: number | undefined, sku: string | undefined): string | undefined =>
      (listingId !== undefined && sku !== undefined ? byProduct.get(`${listingId}:${sku}`) : undefined) ?? sku;

    /** One call with the current access token; an expired token is refreshed once and the call repeated. */
    const call = async (req: Omit<HttpRequest, 'headers'>): Promise<HttpResponse> => {
      for (let attempt = 0; ; attempt++) {
        const token = await tokens.get(req.signal);
        const res = await http.request({ ...req, headers: { 'x-api-key': apiKey, authorization: `Bearer ${token}` } });
        if (!isTokenRefused(res) || attempt > 0 || !tokens.renewable) return res;
        tokens.invalidate(token);
      }
    };

    /** One GET + PUT for every update of one listing; resolves one result per update. */
    const pushListing = async (listingId: number, updates: StockUpdate[], signal: AbortSignal): Promise<PushResult[]> => {
      const path = inventoryPath(listingId);
      const read = await call({ method: 'GET', path, signal });
      callStatus(read, `getListingInventory ${listingId}`);
      if (read.status === 404) return updates.map((u) => ({ sku: u.sku, status: 'not_listed', reason: `Etsy has no listing ${listingId}: ${errorText(read)}` }));
      if (read.status !== 200) return updates.map((u) => ({ sku: u.sku, status: 'retry', reason: `Etsy answered ${read.status} reading listing ${listingId}` }));

      const inventory = toInventoryUpdate(read.body as EtsyInventory);
      const results: PushResult[] = [];
      const written: Array<{ update: StockUpdate; quantity: number }> = [];
      for (const update of updates) {
        const sku = productSku(update.sku);
        const product = inventory.products.find((p) => p.sku === sku);
        if (!product || product.offerings.length === 0) {
          results.push({ sku: update.sku, status: 'not_listed', reason: `Etsy listing ${listingId} has no product with SKU ${sku}` });
          continue;
        }
        // Etsy caps an offering at 999: show the cap and report it, rather than failing the whole listing.
        const quantity = Math.min(update.quantity, MAX_OFFERING_QUANTITY);
        for (const offering of product.offerings) offering.quantity = quantity;
        written.push({ update, quantity });
      }
      if (written.length === 0) return results;

      const write = await call({ method: 'PUT', path, body: inventory, signal });
      callStatus(write, `updateListingInventory ${listingId}`);
      if (write.status === 200) {
        for (const { update, quantity } of written) results.push({ sku: update.sku, status: 'ok', quantity });
      } else if (write.status === 404) {
        for (const { update } of written) results.push({ sku: update.sku, status: 'not_listed', reason: `Etsy has no listing ${listingId}: ${errorText(write)}` });
      } else if (write.status === 400) {
        const reason = `Etsy refused the inventory of listing ${listingId} (400): ${errorText(write)}`;
        for (const { update } of written) results.push({ sku: update.sku, status: 'rejected', reason });
      } else {
        for (const { update } of written) results.push({ sku: update.sku, status: 'retry', reason: `Etsy answered ${write.status} writing listing ${listingId}` });
      }
      return results;
    };

    return {
      async push(updates: readonly StockUpdate[], signal: AbortSignal): Promise<PushResult[]> {
        if (updates.length > MAX_BATCH) throw new RejectedError(`the Etsy connector takes at most ${MAX_BATCH} items per push, got ${updates.length}`);
        const results: PushResult[] = [];
        const byListing = new Map<number, StockUpdate[]>();
        for (const update of updates) {
          const ref = mapped[update.sku];
          if (!ref) {
            results.push({ sku: update.sku, status: 'not_listed', reason: `no Etsy listing is mapped to hub SKU ${update.sku}` });
            continue;
          }
          const group = byListing.get(ref.listingId) ?? [];
          group.push(update);
          byListing.set(ref.listingId, group);
        }
        // Listings one after another: each costs two calls, and the per-second limit is small.
        const pending = [...byListing];
        for (const [index, [listingId, group]] of pending.entries()) {
          try {
            results.push(...(await queue.run(String(listingId), () => pushListing(listingId, group, signal))));
          } catch (err) {
            // Throttled after some listings were written: keep what landed and retry only the rest later, so a
            // push larger than one second's quota still makes progress instead of starting over each time.
            if (!isThrottledError(err) || index === 0) throw err;
            for (const [, rest] of pending.slice(index)) {
              for (const u of rest) results.push({ sku: u.sku, status: 'retry', reason: err.message, afterMs: err.retryAfterMs });
            }
            break;
          }
        }
        return results;
      },

      async handleWebhook(request, signal) {
        const verdict = verify(request.headers, request.rawBody);
        if (!verdict.ok) throw new WebhookSignatureError(`Etsy webhook refused: ${verdict.reason}`);
        const ref = readOrderWebhook(request.rawBody);
        if (!ref) return { events: [] };
        // One endpoint may serve every shop that authorised the app: only this channel's shop moves its stock.
        if (ref.shopId !== String(options.shopId)) {
          context.logger.debug('Etsy webhook for another shop ignored', { shop: ref.shopId });
          return { events: [] };
        }
        // The event carries only the receipt URL: the lines come from the receipt.
        const res = await call({ method: 'GET', path: receiptPath(ref.shopId, ref.receiptId), signal });
        callStatus(res, `getShopReceipt ${ref.receiptId}`);
        if (res.status === 404) throw new WebhookPayloadError(`Etsy does not know receipt ${ref.receiptId} of shop ${ref.shopId}`);
        if (res.status !== 200) throw new RetryableError(`Etsy answered ${res.status} to getShopReceipt ${ref.receiptId}`);
        const event = receiptEvent(context.channelId, ref.receiptId, readReceipt(res.body, ref.receiptId), resolveSku);
        return { events: event ? [event] : [] };
      },

      async listOrders(cursor, signal) {
        const at = decodeReceiptsCursor(cursor, Math.floor(Date.now() / 1000) - FIRST_POLL_LOOKBACK_SEC);
        // Oldest change first, so the offset moves through receipts in the order they changed: one changed again
        // while the poll pages on moves to the end, where this pass or the next one (from its new time) reads it.
        const query = new URLSearchParams({
          min_last_modified: String(at.since),
          sort_on: 'updated',
          sort_order: 'asc',
          limit: String(MAX_PAGE_LIMIT),
          offset: String(at.offset),
        });
        const res = await call({ method: 'GET', path: `${receiptsPath(options.shopId)}?${query}`, signal });
        callStatus(res, 'getShopReceipts');
        if (res.status !== 200) throw new RetryableError(`Etsy answered ${res.status} to getShopReceipts: ${errorText(res)}`);
        const page = res.body as Partial<EtsyReceipts> | undefined;
        if (!Array.isArray(page?.results) || typeof page.count !== 'number') throw new RetryableError('Etsy answered getShopReceipts without count and results');
        const events: InventoryEvent[] = [];
        let high = at.high;
        for (const raw of page.results) {
          const receiptId = (raw as { receipt_id?: unknown } | null)?.receipt_id;
          if (typeof receiptId !== 'number' || !Number.isSafeInteger(receiptId)) {
            context.logger.warn('Etsy receipt without a receipt_id skipped');
            continue;
          }
          let receipt;
          try {
            receipt = readReceipt(raw, String(receiptId));
          } catch (err) {
            context.logger.warn('Etsy receipt skipped', { receipt: receiptId, reason: (err as Error).message });
            continue;
          }
          if (receipt.updatedSeconds !== undefined) high = Math.max(high, receipt.updatedSeconds);
          // Etsy notifies an order once it is paid: an unpaid receipt has no webhook, so it has no event here either.
          if (!receipt.paid && !receipt.cancelled) continue;
          const event = receiptEvent(context.channelId, String(receiptId), receipt, resolveSku);
          if (event) events.push(event);
        }
        const read = at.offset + page.results.length;
        const more = page.results.length >= MAX_PAGE_LIMIT && read < page.count;
        const next = more ? { ...at, offset: read, high } : { since: Math.max(at.since, high - ORDERS_OVERLAP_SEC), offset: 0, high };
        return { events, cursor: encodeReceiptsCursor(next), more };
      },

      async listListings(cursor, signal) {
        const at = decodeListingsCursor(cursor);
        const query = new URLSearchParams({ state: at.state, limit: String(LISTINGS_PAGE), offset: String(at.offset) });
        const res = await call({ method: 'GET', path: `${shopListingsPath(options.shopId)}?${query}`, signal });
        callStatus(res, 'getListingsByShop');
        if (res.status !== 200) throw new RetryableError(`Etsy answered ${res.status} to getListingsByShop: ${errorText(res)}`);
        const page = res.body as Partial<EtsyShopListings> | undefined;
        if (!Array.isArray(page?.results) || typeof page.count !== 'number') throw new RetryableError('Etsy answered getListingsByShop without count and results');
        const listings: ChannelListing[] = [];
        for (const listing of page.results) {
          if (!Number.isSafeInteger(listing?.listing_id)) continue;
          const inv = await call({ method: 'GET', path: inventoryPath(listing.listing_id), signal });
          callStatus(inv, `getListingInventory ${listing.listing_id}`);
          if (inv.status === 404) continue; // deleted since the list was read
          if (inv.status !== 200) throw new RetryableError(`Etsy answered ${inv.status} reading listing ${listing.listing_id}`);
          for (const product of (inv.body as EtsyInventory).products ?? []) {
            const offering = product.offerings?.find((o) => !o.is_deleted);
            // A product without a SKU cannot be mapped to a hub SKU.
            if (product.is_deleted || typeof product.sku !== 'string' || product.sku === '' || !offering) continue;
            listings.push({
              sku: product.sku,
              mapping: { listingId: listing.listing_id, sku: product.sku },
              quantity: offering.quantity,
              ...(typeof listing.title === 'string' ? { title: listing.title } : {}),
            });
          }
        }
        const read = at.offset + page.results.length;
        if (page.results.length >= LISTINGS_PAGE && read < page.count) return { listings, cursor: `${at.state}:${read}` };
        const nextState = LISTING_STATES[LISTING_STATES.indexOf(at.state) + 1];
        return nextState === undefined ? { listings } : { listings, cursor: `${nextState}:0` };
      },

      async fetchQuantities(skus, signal) {
        const shown = new Map<string, number>();
        const listings = new Map<number, string[]>();
        for (const sku of skus) {
          const ref = mapped[sku];
          if (!ref) continue;
          listings.set(ref.listingId, [...(listings.get(ref.listingId) ?? []), sku]);
        }
        for (const [listingId, hubSkus] of listings) {
          const res = await call({ method: 'GET', path: inventoryPath(listingId), signal });
          callStatus(res, `getListingInventory ${listingId}`);
          if (res.status !== 200) continue;
          const inventory = res.body as EtsyInventory;
          for (const hubSku of hubSkus) {
            const product = inventory.products.find((p) => p.sku === productSku(hubSku) && !p.is_deleted);
            const offering = product?.offerings.find((o) => !o.is_deleted);
            if (offering) shown.set(hubSku, offering.quantity);
          }
        }
        return shown;
      },

      close: () => http.close(),
    };
  },
  simulator: async (options) => (await import('./simulator.ts')).startEtsySimulator(options),
});
