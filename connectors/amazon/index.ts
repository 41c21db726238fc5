import {
  defineConnector,
  describeError,
  RejectedError,
  RetryableError,
  type InventoryEvent,
  type PushResult,
  type StockUpdate,
} from '../../core/sdk.ts';
import { CallPacer } from '../_kit/call-pacer.ts';
import { createAccessTokenCache } from '../_kit/access-token-cache.ts';
import { createHttpClient, headerNumber, type HttpRequest, type HttpResponse } from '../_kit/http-client.ts';
import { throwForStatus } from '../_kit/http-status.ts';
import {
  CREATE_FEED_DOCUMENT_RATE,
  CREATE_FEED_RATE,
  DEFAULT_ENDPOINT,
  DEFAULT_TOKEN_URL,
  GET_FEED_DOCUMENT_RATE,
  GET_FEED_RATE,
  LISTINGS_FEED_MAX_MESSAGES,
  LISTINGS_FEED_SUBMISSIONS,
  LISTINGS_PATH,
  ORDERS_PATH,
  PATCH_RATE,
  RATE_LIMIT_HEADER,
  SEARCH_LISTINGS_RATE,
  SEARCH_ORDERS_RATE,
  type ListingsItemPatchRequest,
  type ListingsItemSubmissionResponse,
  type SpApiError,
} from './api.ts';
import { createFeedPush, type FeedOperation } from './feed-push.ts';
import { createListingSearch } from './list-listings.ts';
import { fulfillmentAvailabilityPatch } from './listings-feed.ts';
import { createOrderSearch } from './list-orders.ts';
import { createLwaTokenSource } from './lwa-token.ts';
import { amazonOrderEvents } from './order-events.ts';
import { readOrderChange, type OrderFacts } from './order-change.ts';
import { readOrdersApiOrder } from './orders-api-order.ts';
import { amazonOptionsSchema, type AmazonOptions } from './options.ts';
import { createSqsQueue, regionOfQueueUrl } from './sqs-queue.ts';
import type { AwsCredentials } from './aws-sigv4.ts';

const USER_AGENT = 'stockrelay/0.1 (Language=TypeScript)';
type Operation = 'patchListingsItem' | 'getListingsItem' | 'getOrder' | 'searchOrders' | 'searchListingsItems' | FeedOperation;
/** Documented default usage plans (requests per second), until a response's `x-amzn-RateLimit-Limit` says otherwise. */
const DEFAULT_RATES: Record<Operation, number> = {
  patchListingsItem: PATCH_RATE.perSecond,
  getListingsItem: 5,
  getOrder: 0.5,
  searchOrders: SEARCH_ORDERS_RATE.perSecond,
  searchListingsItems: SEARCH_LISTINGS_RATE.perSecond,
  createFeedDocument: CREATE_FEED_DOCUMENT_RATE.perSecond,
  createFeed: CREATE_FEED_RATE.perSecond,
  getFeed: GET_FEED_RATE.perSecond,
  getFeedDocument: GET_FEED_DOCUMENT_RATE.perSecond,
};
/** Calls paced one token under each documented burst (see `pacers`); reads that are rare use their burst. */
const PACER_BURST: Record<Operation, number> = {
  patchListingsItem: Math.max(1, PATCH_RATE.burst - 1),
  getListingsItem: 1,
  getOrder: 1,
  // Gated before the call by the catch-up's own bucket (list-orders.ts), which answers "throttled" instead of waiting.
  searchOrders: SEARCH_ORDERS_RATE.burst,
  searchListingsItems: Math.max(1, SEARCH_LISTINGS_RATE.burst - 1),
  createFeedDocument: CREATE_FEED_DOCUMENT_RATE.burst - 1,
  // Under the feed type's own limit (five per five minutes), which is tighter than createFeed's burst of 15.
  createFeed: LISTINGS_FEED_SUBMISSIONS.limit - 1,
  getFeed: GET_FEED_RATE.burst - 1,
  getFeedDocument: GET_FEED_DOCUMENT_RATE.burst - 1,
};
/** Longest channel text kept in an error: enough to say what went wrong, never a whole echoed request. */
const MAX_ERROR_TEXT = 300;
/** Messages whose unusable content was already reported at error level (they come back every visibility timeout). */
const MAX_REPORTED_MESSAGES = 1000;
/** Longest wait a run of 429s can grow to: beyond a minute, the usage plan itself is the problem. */
const MAX_THROTTLE_WAIT_MS = 60_000;
/** SQS hands out at most 10 messages per receive. */
const SQS_MAX_MESSAGES = 10;

const clip = (text: string): string => (text.length > MAX_ERROR_TEXT ? `${text.slice(0, MAX_ERROR_TEXT)}…` : text);

/** Amazon's `{ errors: [{ code, message, details }] }`, short; anything else is named by its type only (it may echo the request). */
const describeErrors = (body: unknown): string => {
  const errors = (body as { errors?: SpApiError[] } | undefined)?.errors;
  if (!Array.isArray(errors) || errors.length === 0) return body === undefined ? 'no body' : `unexpected ${typeof body === 'string' ? 'text' : 'JSON'} body`;
  // Amazon's own details are a short sentence; a long one is an echo of the request (headers, token) and is left out.
  const short = (value: unknown, max: number): string | undefined => (typeof value === 'string' && value.length <= max ? value : undefined);
  return clip(errors.map((e) => `${short(e?.code, 80) ?? 'error'}: ${short(e?.message, 200) ?? '(long message left out)'}${short(e?.details, 200) ? ` (${e.details})` : ''}`).join('; '));
};

/** SigV4 settings for the queue, or undefined when no AWS credentials were configured. */
function sqsSigning(options: AmazonOptions): { credentials: AwsCredentials; region: string } | undefined {
  if (!options.aws || !options.queueUrl) return undefined;
  const region = options.aws.region ?? regionOfQueueUrl(options.queueUrl);
  if (!region) throw new Error(`amazon: aws.region is required for queue URL ${options.queueUrl}`);
  return { credentials: options.aws, region };
}

export default defineConnector<AmazonOptions>({
  name: 'amazon',
  contractVersion: 1,
  optionsSchema: amazonOptionsSchema,
  capabilities: {
    maxBatchSize: 1,
    rateLimit: PATCH_RATE,
    quantityMode: 'absolute',
    // One SKU per call at 5/s: a few calls in flight hide the round trip without outrunning the bucket.
    maxConcurrency: 5,
    bulk: {
      // The JSON_LISTINGS_FEED schema's messages.maxItems (25,000 since Amazon's change of 2025-05-06). At most ~270 bytes
      // a PATCH message (40-character SKU), that stays under the 10 MiB Amazon asks a feed to keep below.
      maxBatchSize: LISTINGS_FEED_MAX_MESSAGES,
      // Two limits apply to a feed submission: createFeed's usage plan (0.0083/s, burst 15, feeds_2021-06-30.json) and the
      // feed type's own five feeds per five minutes per region (changelog of 2025-05-06). The tighter of each: one feed
      // every two minutes on average, five at most at once.
      rateLimit: { perSecond: CREATE_FEED_RATE.perSecond, burst: LISTINGS_FEED_SUBMISSIONS.limit },
      // Amazon processes one seller's feeds of a type in order and asks to wait for one to complete before sending the
      // next (Feeds API best practices): a second open feed would only queue behind the first.
      maxConcurrency: 1,
      // Amazon documents no processing time, only that feeds queue and cannot be prioritised. Five minutes is a first
      // estimate the hub replaces with what it measures; after an hour a feed is taken as stuck (feeds reported stuck
      // IN_PROGRESS for hours exist) and its SKUs go back to the per-SKU calls.
      expectedDurationMs: 5 * 60_000,
      maxDurationMs: 60 * 60_000,
    },
  },
  create(options, context) {
    const sp = createHttpClient(options.endpoint ?? DEFAULT_ENDPOINT, { connections: options.connections ?? 4 });
    const lwa = createLwaTokenSource(options.tokenUrl ?? DEFAULT_TOKEN_URL, options);
    const tokens = createAccessTokenCache(async (signal) => {
      const issued = await lwa.fetch(signal);
      // Masked before it is ever used: an API that echoes the request would otherwise put it in an error.
      context.registerSecret(issued.token);
      return issued;
    });
    for (const secret of [options.clientSecret, options.refreshToken, options.aws?.secretAccessKey, options.aws?.sessionToken]) {
      if (secret) context.registerSecret(secret);
    }
    const queue = options.queueUrl ? createSqsQueue(options.queueUrl, sqsSigning(options)) : undefined;
    const hubSkuBySellerSku = new Map(Object.entries(options.listings).map(([hubSku, listing]) => [listing.sellerSku, hubSku]));
    const listingPath = (sellerSku: string): string =>
      `${LISTINGS_PATH}/${encodeURIComponent(options.sellerId)}/${encodeURIComponent(sellerSku)}?marketplaceIds=${encodeURIComponent(options.marketplaceId)}`;
    // Per operation, the usage plan Amazon last reported: a 429 carries no Retry-After, so one token's refill time is the
    // first wait, doubled for every 429 in a row (capped) so a throttle that outlasts one token does not become a retry storm.
    const plans = new Map<Operation, { rate: number; throttledInARow: number }>(
      (Object.keys(DEFAULT_RATES) as Operation[]).map((op) => [op, { rate: DEFAULT_RATES[op], throttledInARow: 0 }]),
    );
    // Calls are paced per operation right before they leave, after any token fetch, one token under
    // Amazon's burst: a first burst delayed by connection set-up would otherwise land on the next call.
    const pacers = new Map<Operation, CallPacer>(
      (Object.keys(DEFAULT_RATES) as Operation[]).map((op) => [op, new CallPacer(DEFAULT_RATES[op], PACER_BURST[op])]),
    );
    // Receipt handles of messages whose events were returned; deleted when the host polls again.
    const handedOver: string[] = [];

    /** Sends an SP-API request with a current LWA token; a 403 is retried once with a fresh token (revoked or expired early). */
    const spRequest = async (operation: Operation, req: Omit<HttpRequest, 'headers'>): Promise<HttpResponse> => {
      const plan = plans.get(operation) as { rate: number; throttledInARow: number };
      for (let attempt = 0; ; attempt++) {
        const token = await tokens.get(req.signal);
        await pacers.get(operation)!.take(req.signal);
        const res = await sp.request({ ...req, headers: { 'x-amz-access-token': token, 'user-agent': USER_AGENT } });
        const refused = res.status === 403 || res.status === 401;
        if (refused && attempt === 0) {
          tokens.invalidate(token);
          continue;
        }
        const rate = headerNumber(res.headers, RATE_LIMIT_HEADER);
        if (rate !== undefined && rate > 0) plan.rate = rate;
        plan.throttledInARow = res.status === 429 ? plan.throttledInARow + 1 : 0;
        throwForStatus(res, {
          channel: 'amazon',
          what: operation,
          detail: (r) => describeErrors(r.body),
          // Amazon's 429 carries no Retry-After: our own backoff from the usage plan it last reported.
          throttleWaitMs: () => Math.min(MAX_THROTTLE_WAIT_MS, Math.ceil(1000 / plan.rate) * 2 ** Math.min(plan.throttledInARow - 1, 16)),
        });
        return res;
      }
    };

    const pushOne = async (update: StockUpdate, signal: AbortSignal): Promise<PushResult> => {
      const listing = options.listings[update.sku];
      if (!listing) return { sku: update.sku, status: 'not_listed', reason: `no Amazon listing mapped for hub SKU "${update.sku}"` };
      const body: ListingsItemPatchRequest = { productType: listing.productType, patches: [fulfillmentAvailabilityPatch(update.quantity)] };
      const res = await spRequest('patchListingsItem', { method: 'PATCH', path: listingPath(listing.sellerSku), body, signal });
      if (res.status !== 200) return { sku: update.sku, status: 'rejected', reason: `amazon answered ${res.status}: ${describeErrors(res.body)}` };
      const submission = res.body as Partial<ListingsItemSubmissionResponse> | undefined;
      if (submission?.status === 'ACCEPTED') return { sku: update.sku, status: 'ok', quantity: update.quantity };
      const issues = (Array.isArray(submission?.issues) ? submission.issues : []).filter((issue) => issue?.severity === 'ERROR');
      const reason = clip(issues.map((issue) => `${String(issue.code)}: ${String(issue.message)}`).join('; ')) || `submission ${String(submission?.status)}`;
      // The listing is gone from the marketplace: nothing to push until it is listed again.
      if (issues.length > 0 && issues.every((issue) => issue.code === 'NOT_FOUND')) return { sku: update.sku, status: 'not_listed', reason };
      return { sku: update.sku, status: 'rejected', reason };
    };

    /** The order as the Orders API (2026-01-01 `getOrder`, items included) tells it; throws when it cannot be read. */
    const fetchOrder = async (orderId: string, signal: AbortSignal): Promise<OrderFacts> => {
      const res = await spRequest('getOrder', { method: 'GET', path: `${ORDERS_PATH}/${encodeURIComponent(orderId)}?includedData=FULFILLMENT`, signal });
      if (res.status !== 200) throw new RetryableError(`amazon getOrder answered ${res.status}: ${describeErrors(res.body)}`);
      const facts = readOrdersApiOrder(res.body);
      if (!facts) throw new RetryableError('amazon getOrder answered an order without readable items');
      return facts;
    };

    const pushBulk = createFeedPush({
      sellerId: options.sellerId,
      marketplaceId: options.marketplaceId,
      listings: options.listings,
      request: (operation, req) => spRequest(operation, req),
      describe: describeErrors,
    });

    const orderEvents = (orderId: string, order: OrderFacts): InventoryEvent[] => amazonOrderEvents(context.channelId, orderId, order, hubSkuBySellerSku, context.logger);

    const listOrders = createOrderSearch({
      marketplaceId: options.marketplaceId,
      request: (req) => spRequest('searchOrders', req),
      events: orderEvents,
      describe: describeErrors,
    });
    const listListings = createListingSearch({
      sellerId: options.sellerId,
      marketplaceId: options.marketplaceId,
      request: (req) => spRequest('searchListingsItems', req),
      describe: describeErrors,
      logger: context.logger,
    });

    /** Ids of messages already reported as unusable, so one left in the queue is not reported at every redelivery. */
    const reported = new Set<string>();

    return {
      async push(updates, signal) {
        // Amazon patches one listing per call; the dispatcher honours maxBatchSize, this guards a host that does not.
        if (updates.length > 1) throw new RejectedError(`amazon takes one SKU per call, got ${updates.length}`);
        const [update] = updates;
        return update ? [await pushOne(update, signal)] : [];
      },

      pushBulk,

      async pollOrders(signal) {
        if (!queue) return [];
        // The host polling again means it has published what the last call returned: only now is deleting safe.
        // A crash before this point leaves the messages in the queue; they reappear and their event ids collapse.
        while (handedOver.length > 0) {
          try {
            await queue.delete(handedOver[0] as string, signal);
          } catch (err) {
            if (!(err instanceof RejectedError)) throw err;
            context.logger.warn('amazon notification could not be deleted; it may be read again', { reason: describeError(err) });
          }
          handedOver.shift();
        }
        const messages = await queue.receive(SQS_MAX_MESSAGES, options.visibilityTimeoutSeconds ?? 30, options.waitTimeSeconds ?? 0, signal);
        // Keyed by event id: the same order can arrive several times in one batch (Pending, then Unshipped, then
        // Canceled); each message adds what it knows and the ids collapse repeats.
        const events = new Map<string, InventoryEvent>();
        const fetched = new Map<string, OrderFacts>();
        let failure: unknown;
        for (const message of messages) {
          const reading = readOrderChange(typeof message.Body === 'string' ? message.Body : '');
          if (reading.kind === 'unusable') {
            // Never deleted: deleting would lose, without a trace, whatever order this was. Left in the queue it comes
            // back after its visibility timeout until the queue's redrive policy moves it to the queue's own
            // dead-letter queue (maxReceiveCount), where it can be read and replayed. Reported once per process.
            if (!reported.has(message.MessageId)) {
              if (reported.size >= MAX_REPORTED_MESSAGES) reported.clear();
              reported.add(message.MessageId);
              context.logger.error('amazon queue message cannot be read as an ORDER_CHANGE notification; left in the queue for its redrive policy', {
                messageId: message.MessageId,
                reason: reading.reason,
              });
            }
            continue;
          }
          try {
            let facts = reading.facts ?? fetched.get(reading.orderId);
            if (!facts) {
              facts = await fetchOrder(reading.orderId, signal);
              fetched.set(reading.orderId, facts);
            }
            for (const event of orderEvents(reading.orderId, facts)) if (!events.has(event.id)) events.set(event.id, event);
          } catch (err) {
            if (signal.aborted) throw err;
            // Left undeleted: SQS offers the message again after its visibility timeout.
            failure = err;
            break;
          }
          handedOver.push(message.ReceiptHandle);
        }
        if (failure !== undefined && events.size === 0) throw failure;
        return [...events.values()];
      },

      listOrders,
      listListings,

      async fetchQuantities(skus, signal) {
        const shown = new Map<string, number>();
        for (const sku of skus) {
          const listing = options.listings[sku];
          if (!listing) continue;
          const res = await spRequest('getListingsItem', { method: 'GET', path: `${listingPath(listing.sellerSku)}&includedData=fulfillmentAvailability`, signal });
          if (res.status === 404) continue;
          if (res.status !== 200) throw new RetryableError(`amazon getListingsItem answered ${res.status}: ${describeErrors(res.body)}`);
          const availability = (res.body as { fulfillmentAvailability?: Array<{ fulfillmentChannelCode: string; quantity?: number }> }).fulfillmentAvailability ?? [];
          const merchant = availability.find((entry) => entry.fulfillmentChannelCode === 'DEFAULT');
          if (merchant?.quantity !== undefined) shown.set(sku, merchant.quantity);
        }
        return shown;
      },

      async close() {
        await Promise.all([sp.close(), lwa.close(), queue?.close()]);
      },
    };
  },
  simulator: async (options) => (await import('./simulator.ts')).startAmazonSimulator(options),
});
