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
} from '../../core/sdk.ts';
import { createHttpClient, headerValue, retryAfterMs, type HttpResponse } from '../_kit/http-client.ts';
import { secretList } from '../_kit/signatures.ts';
import {
  inventoryPath,
  MAX_OFFERING_QUANTITY,
  RateHeaders,
  receiptPath,
  type EtsyInventory,
  type EtsyReceipt,
  type EtsyWebhookEvent,
} from './api.ts';
import { toInventoryUpdate } from './inventory-update.ts';
import { ListingQueue } from './listing-queue.ts';
import { etsyOptionsSchema, type EtsyOptions } from './options.ts';
import { verifyWebhook, WEBHOOK_ID, WEBHOOK_SIGNATURE, WEBHOOK_TIMESTAMP } from './webhook-signature.ts';

const MAX_BATCH = 5;

function errorText(res: HttpResponse): string {
  const body = res.body as { error?: string } | string | undefined;
  return typeof body === 'string' ? body : (body?.error ?? JSON.stringify(body));
}

/** Throws for the answers that concern the whole call: throttle, credentials, outage. */
function throwForStatus(res: HttpResponse, what: string): void {
  if (res.status === 429) {
    const today = Number(headerValue(res.headers, RateHeaders.REMAINING_TODAY));
    const kind = today === 0 ? 'daily quota' : 'per-second limit';
    throw new ThrottledError(`Etsy ${kind} reached on ${what}`, { retryAfterMs: retryAfterMs(res.headers, 1000) });
  }
  if (res.status === 401 || res.status === 403) throw new RejectedError(`Etsy refused the credentials on ${what} (${res.status}): ${errorText(res)}`);
  if (res.status >= 500) throw new RetryableError(`Etsy answered ${res.status} on ${what}`);
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
    const headers = { 'x-api-key': `${options.keystring}:${options.sharedSecret}`, authorization: `Bearer ${options.accessToken}` };
    const secrets = secretList(options.webhookSecret);
    const queue = new ListingQueue();
    const productSku = (hubSku: string): string => options.listings[hubSku]?.sku ?? hubSku;
    const byProduct = new Map<string, string>();
    for (const [hubSku, ref] of Object.entries(options.listings)) byProduct.set(`${ref.listingId}:${ref.sku ?? hubSku}`, hubSku);

    /** One GET + PUT for every update of one listing; resolves one result per update. */
    const pushListing = async (listingId: number, updates: StockUpdate[], signal: AbortSignal): Promise<PushResult[]> => {
      const path = inventoryPath(listingId);
      const read = await http.request({ method: 'GET', path, headers, signal });
      throwForStatus(read, `getListingInventory ${listingId}`);
      if (read.status === 404) return updates.map((u) => ({ sku: u.sku, status: 'rejected', reason: `Etsy listing ${listingId} not found` }));
      if (read.status !== 200) return updates.map((u) => ({ sku: u.sku, status: 'retry', reason: `Etsy answered ${read.status} reading listing ${listingId}` }));

      const inventory = toInventoryUpdate(read.body as EtsyInventory);
      const results: PushResult[] = [];
      const written: Array<{ update: StockUpdate; quantity: number }> = [];
      for (const update of updates) {
        const sku = productSku(update.sku);
        const product = inventory.products.find((p) => p.sku === sku);
        if (!product || product.offerings.length === 0) {
          results.push({ sku: update.sku, status: 'rejected', reason: `listing ${listingId} has no product with SKU ${sku}` });
          continue;
        }
        // Etsy caps an offering at 999: show the cap and report it, rather than failing the whole listing.
        const quantity = Math.min(update.quantity, MAX_OFFERING_QUANTITY);
        for (const offering of product.offerings) offering.quantity = quantity;
        written.push({ update, quantity });
      }
      if (written.length === 0) return results;

      const write = await http.request({ method: 'PUT', path, headers, body: inventory, signal });
      throwForStatus(write, `updateListingInventory ${listingId}`);
      if (write.status === 200) {
        for (const { update, quantity } of written) results.push({ sku: update.sku, status: 'ok', quantity });
      } else if (write.status === 404 || write.status === 400 || write.status === 409) {
        const reason = `Etsy refused the inventory of listing ${listingId} (${write.status}): ${errorText(write)}`;
        for (const { update } of written) results.push({ sku: update.sku, status: 'rejected', reason });
      } else {
        for (const { update } of written) results.push({ sku: update.sku, status: 'retry', reason: `Etsy answered ${write.status} writing listing ${listingId}` });
      }
      return results;
    };

    const fetchReceipt = async (shopId: number | string, receiptId: number | string, signal: AbortSignal): Promise<EtsyReceipt> => {
      const res = await http.request({ method: 'GET', path: receiptPath(shopId, receiptId), headers, signal });
      throwForStatus(res, `getShopReceipt ${receiptId}`);
      if (res.status === 404) throw new WebhookPayloadError(`Etsy does not know receipt ${receiptId} of shop ${shopId}`);
      if (res.status !== 200) throw new RetryableError(`Etsy answered ${res.status} to getShopReceipt ${receiptId}`);
      return res.body as EtsyReceipt;
    };

    return {
      async push(updates: readonly StockUpdate[], signal: AbortSignal): Promise<PushResult[]> {
        if (updates.length > MAX_BATCH) throw new RejectedError(`the Etsy connector takes at most ${MAX_BATCH} items per push, got ${updates.length}`);
        const results: PushResult[] = [];
        const byListing = new Map<number, StockUpdate[]>();
        for (const update of updates) {
          const ref = options.listings[update.sku];
          if (!ref) {
            results.push({ sku: update.sku, status: 'rejected', reason: `no Etsy listing mapped for hub SKU ${update.sku}` });
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
            if (!(err instanceof ThrottledError) || index === 0) throw err;
            for (const [, rest] of pending.slice(index)) {
              for (const u of rest) results.push({ sku: u.sku, status: 'retry', reason: err.message, afterMs: err.retryAfterMs });
            }
            break;
          }
        }
        return results;
      },

      async handleWebhook(request, signal) {
        const ok = verifyWebhook(
          secrets,
          { id: request.headers[WEBHOOK_ID], timestamp: request.headers[WEBHOOK_TIMESTAMP], signature: request.headers[WEBHOOK_SIGNATURE] },
          request.rawBody,
          options.webhookToleranceSec ?? 300,
        );
        if (!ok) throw new WebhookSignatureError(`missing, stale or wrong ${WEBHOOK_SIGNATURE}`);

        let payload: EtsyWebhookEvent;
        try {
          payload = JSON.parse(request.rawBody.toString('utf8')) as EtsyWebhookEvent;
        } catch (err) {
          throw new WebhookPayloadError('body is not JSON', { cause: err });
        }
        const type = String(payload.event_type ?? '').toUpperCase();
        if (!type.startsWith('ORDER')) {
          context.logger.debug('Etsy webhook ignored', { type });
          return { events: [] };
        }
        const url = payload.resource_url ?? payload.data?.resource_url;
        const match = url ? /\/shops\/(\d+)\/receipts\/(\d+)/.exec(url) : null;
        const receiptId = match?.[2] ?? payload.data?.receipt_id;
        const shopId = match?.[1] ?? payload.shop_id ?? options.shopId;
        if (receiptId === undefined) throw new WebhookPayloadError('resource_url with a receipt id is required');

        // The event carries only the receipt URL: the lines come from the receipt.
        const receipt = await fetchReceipt(shopId, receiptId, signal);
        const quantities = new Map<string, number>();
        for (const t of receipt.transactions ?? []) {
          const sku = byProduct.get(`${t.listing_id}:${t.sku}`) ?? t.sku;
          quantities.set(sku, (quantities.get(sku) ?? 0) + t.quantity);
        }
        const cancelled = receipt.status?.toLowerCase() === 'canceled' || type.includes('CANCEL');
        const event: InventoryEvent = {
          id: `${context.channelId}:order:${receipt.receipt_id}:${cancelled ? 'cancelled' : 'confirmed'}`,
          type: cancelled ? 'order.cancelled' : 'order.confirmed',
          channel: context.channelId,
          occurredAt: new Date(receipt.created_timestamp * 1000).toISOString(),
          orderId: String(receipt.receipt_id),
          lines: [...quantities].map(([sku, qty]) => ({ sku, qty })),
        };
        return { events: [event] };
      },

      async fetchQuantities(skus, signal) {
        const shown = new Map<string, number>();
        const listings = new Map<number, string[]>();
        for (const sku of skus) {
          const ref = options.listings[sku];
          if (!ref) continue;
          listings.set(ref.listingId, [...(listings.get(ref.listingId) ?? []), sku]);
        }
        for (const [listingId, hubSkus] of listings) {
          const res = await http.request({ method: 'GET', path: inventoryPath(listingId), headers, signal });
          throwForStatus(res, `getListingInventory ${listingId}`);
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
