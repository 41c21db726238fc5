import { randomBytes, randomUUID } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { TokenBucket, type SimulatorFault } from '../../core/sdk.ts';
import { FixedWindowCounter } from '../_kit/rate-window.ts';
import type { SimRequest, SimResponse } from '../_kit/sim-server.ts';
import {
  CREATE_FEED_DOCUMENT_RATE,
  CREATE_FEED_RATE,
  FEED_DOCUMENTS_PATH,
  FEEDS_PATH,
  GET_FEED_DOCUMENT_RATE,
  GET_FEED_RATE,
  LISTINGS_FEED_SUBMISSIONS,
  LISTINGS_FEED_TYPE,
  type Feed,
  type FulfillmentAvailabilityAttribute,
  type ListingsFeedProcessingReport,
  type ListingsFeedReportIssue,
} from './api.ts';
import type { SimulatedFeedStorage } from './simulated-feed-storage.ts';
import { listingsFeedSchema } from './vendor-examples.ts';

export type FeedOperationName = 'createFeedDocument' | 'createFeed' | 'getFeed' | 'getFeedDocument';
type Rate = { perSecond: number; burst: number };

export interface SimulatedFeedsOptions {
  sellerId: string;
  marketplaceId: string;
  storage: SimulatedFeedStorage;
  /**
   * How long a feed takes from createFeed to DONE, ms. Real feeds queue and take minutes (Amazon documents no figure);
   * tests want a few milliseconds.
   */
  processingMs: number;
  /** Processing reports are stored gzip-compressed (`compressionAlgorithm: GZIP`), as Amazon serves them. */
  gzipReports: boolean;
  /** Usage plans per operation, the model's unless overridden. */
  rates?: Partial<Record<FeedOperationName, Rate>>;
  /** The JSON_LISTINGS_FEED's own limit (five per five minutes), unless overridden. */
  submissions?: { limit: number; windowMs: number };
  /** The store the per-SKU API writes: sets a listing's quantity; false when the seller has no listing of that SKU. */
  setQuantity(sellerSku: string, quantity: number): boolean;
  /** The hub SKU of a seller SKU, for the `item-unknown` fault. */
  hubSkuOf(sellerSku: string): string | undefined;
  /** SP-API's error envelope with a request id. */
  error(status: number, code: string, message: string, details?: string): SimResponse;
}

export interface SimulatedFeeds {
  /** Answers a Feeds API request (the token is already checked), or undefined when the path is not the Feeds API's. */
  handle(req: SimRequest): SimResponse | undefined;
  counters(): Record<string, number>;
  close(): void;
}

/** Code and text of Amazon's processing reports for a document that is not a listings feed (see test/fixtures/vendor/amazon/SOURCE). */
const UNPARSEABLE = { code: '4002001', message: "Item 'Feed' cannot be parsed." };
/** ...for a message that fails the message schema. */
const MESSAGE_INVALID = { code: '4002008', message: 'The provided message did not meet the schema validation requirements for a feed message.' };
/** ...for a message whose values the listing cannot take (a fulfillment_availability without a channel code). */
const BAD_REQUEST = { code: 'BAD_REQUEST', message: 'Invalid parameters provided.' };
const QUANTITY_PATH = '/attributes/fulfillment_availability';

interface StoredFeed extends Feed {
  inputFeedDocumentId: string;
  /** The fault in effect when the feed was created: an `item-unknown` one applies to its messages. */
  fault: SimulatorFault | null;
}

/**
 * The Feeds API 2021-06-30 for JSON_LISTINGS_FEED: createFeedDocument, createFeed, getFeed and getFeedDocument, each
 * with its usage plan (429 QuotaExceeded, as the rest of SP-API here), and createFeed also under the feed type's five
 * per five minutes. A feed is IN_QUEUE, then IN_PROGRESS, then after `processingMs` processed against Amazon's feed
 * schema:
 * - a document that is not JSON, or whose header or message list fails the schema: FATAL, with a report holding one
 *   ERROR issue without messageId (4002001) and all counts 0 (the reports Amazon's users published show that report,
 *   not the status beside it; the connector reads the report the same way under DONE);
 * - a message that fails the schema: an ERROR issue with its messageId (4002008), the message not applied;
 * - a fulfillment_availability entry without a channel code, or a DEFAULT one without a whole quantity ≥ 0: BAD_REQUEST
 *   for that message (as Amazon answered a channel code left out);
 * - any other message is accepted: its quantity goes to the same listings the per-SKU API writes. A PATCH for a SKU the
 *   seller has no listing for is accepted without an issue and changes nothing here (Amazon accepts it too, and
 *   would create an incomplete offer the simulator does not model), and so is one the `item-unknown` fault names.
 * Operation types other than PATCH and PARTIAL_UPDATE are accepted without effect. The report is stored, gzip-compressed
 * unless told otherwise, and served through getFeedDocument's presigned URL.
 */
export function createSimulatedFeeds(options: SimulatedFeedsOptions): SimulatedFeeds {
  const rate = (op: FeedOperationName, fallback: Rate): Rate => options.rates?.[op] ?? fallback;
  const plans: Record<FeedOperationName, Rate> = {
    createFeedDocument: rate('createFeedDocument', CREATE_FEED_DOCUMENT_RATE),
    createFeed: rate('createFeed', CREATE_FEED_RATE),
    getFeed: rate('getFeed', GET_FEED_RATE),
    getFeedDocument: rate('getFeedDocument', GET_FEED_DOCUMENT_RATE),
  };
  const buckets = Object.fromEntries(Object.entries(plans).map(([op, plan]) => [op, new TokenBucket(plan.perSecond, plan.burst)])) as Record<FeedOperationName, TokenBucket>;
  const submissions = options.submissions ?? LISTINGS_FEED_SUBMISSIONS;
  const submissionWindow = new FixedWindowCounter(submissions.limit, submissions.windowMs);
  const validateFeed: ValidateFunction = new Ajv({ allErrors: true, strict: false }).compile(listingsFeedSchema());
  const feeds = new Map<string, StoredFeed>();
  const reports = new Set<string>();
  const timers = new Set<NodeJS.Timeout>();
  const counts = { feedsCreated: 0, feedsProcessed: 0, feedMessagesAccepted: 0, feedMessagesInvalid: 0, getFeedCalls: 0 };

  const quotaExceeded = (): SimResponse => options.error(429, 'QuotaExceeded', 'You exceeded your quota for the requested resource.');
  const invalidInput = (details: string): SimResponse => options.error(400, 'InvalidInput', 'Request has missing or invalid parameters and cannot be parsed.', details);
  const ok = (op: FeedOperationName, status: number, body: unknown, wrote = false): SimResponse => ({
    status,
    headers: { 'x-amzn-ratelimit-limit': String(plans[op].perSecond), 'x-amzn-requestid': randomUUID() },
    body,
    wrote,
  });
  const later = (ms: number, run: () => void): void => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      run();
    }, ms);
    timer.unref();
    timers.add(timer);
  };

  const createFeedDocument = (req: SimRequest): SimResponse => {
    const contentType = (req.json as { contentType?: unknown } | undefined)?.contentType;
    if (typeof contentType !== 'string' || contentType.length === 0) return invalidInput('contentType is required');
    const feedDocumentId = `amzn1.tortuga.4.na.${randomUUID()}.${randomBytes(7).toString('hex').toUpperCase()}`;
    const url = options.storage.createUpload(feedDocumentId, contentType);
    return ok('createFeedDocument', 201, { feedDocumentId, url });
  };

  const createFeed = (req: SimRequest): SimResponse => {
    const body = req.json as { feedType?: unknown; marketplaceIds?: unknown; inputFeedDocumentId?: unknown; feedOptions?: unknown } | undefined;
    if (typeof body?.feedType !== 'string' || typeof body.inputFeedDocumentId !== 'string' || !Array.isArray(body.marketplaceIds)) {
      return invalidInput('feedType, marketplaceIds and inputFeedDocumentId are required');
    }
    const marketplaceIds = body.marketplaceIds as unknown[];
    if (marketplaceIds.length < 1 || marketplaceIds.length > 25 || !marketplaceIds.every((id) => typeof id === 'string')) return invalidInput('marketplaceIds');
    if (!marketplaceIds.includes(options.marketplaceId)) return invalidInput(`marketplaceIds: the seller does not sell in ${String(marketplaceIds[0])}`);
    // The simulator speaks the listings feed only (Amazon no longer takes the legacy XML and flat file listings feeds).
    if (body.feedType !== LISTINGS_FEED_TYPE) return invalidInput(`feedType ${body.feedType.slice(0, 40)} is not simulated`);
    if (!options.storage.has(body.inputFeedDocumentId)) return invalidInput('inputFeedDocumentId');
    if (!submissionWindow.take().ok) return quotaExceeded();
    const feedId = String(Math.floor(1e10 + Math.random() * 9e10));
    const feed: StoredFeed = {
      feedId,
      feedType: body.feedType,
      marketplaceIds: marketplaceIds as string[],
      createdTime: new Date().toISOString(),
      processingStatus: 'IN_QUEUE',
      inputFeedDocumentId: body.inputFeedDocumentId,
      fault: req.fault,
    };
    feeds.set(feedId, feed);
    counts.feedsCreated += 1;
    later(options.processingMs / 2, () => {
      feed.processingStatus = 'IN_PROGRESS';
      feed.processingStartTime = new Date().toISOString();
    });
    later(options.processingMs, () => processFeed(feed));
    return ok('createFeed', 202, { feedId }, true);
  };

  const processFeed = (feed: StoredFeed): void => {
    const { report, fatal } = buildReport(feed);
    const resultFeedDocumentId = `amzn1.tortuga.4.na.${randomUUID()}.${randomBytes(7).toString('hex').toUpperCase()}`;
    const json = Buffer.from(JSON.stringify(report), 'utf8');
    options.storage.put(resultFeedDocumentId, options.gzipReports ? gzipSync(json) : json);
    if (options.gzipReports) reports.add(resultFeedDocumentId);
    feed.processingStartTime ??= new Date().toISOString();
    feed.processingEndTime = new Date().toISOString();
    feed.resultFeedDocumentId = resultFeedDocumentId;
    feed.processingStatus = fatal ? 'FATAL' : 'DONE';
    counts.feedsProcessed += 1;
  };

  /** The processing report, and whether the document as a whole could not be read (the feed ends FATAL). */
  const buildReport = (feed: StoredFeed): { report: ListingsFeedProcessingReport; fatal: boolean } => {
    // Amazon's reports of an unreadable document show an empty sellerId: it never got as far as the header.
    const refused = (sellerId: string): { report: ListingsFeedProcessingReport; fatal: boolean } => ({
      fatal: true,
      report: {
        header: { sellerId, version: '2.0', feedId: feed.feedId },
        issues: [{ code: UNPARSEABLE.code, severity: 'ERROR', message: UNPARSEABLE.message }],
        summary: { errors: 1, warnings: 0, messagesProcessed: 0, messagesAccepted: 0, messagesInvalid: 0 },
      },
    });
    let document: unknown;
    try {
      document = JSON.parse((options.storage.content(feed.inputFeedDocumentId) ?? Buffer.alloc(0)).toString('utf8'));
    } catch {
      return refused('');
    }
    const valid = validateFeed(document);
    const invalidMessages = new Set<number>();
    for (const error of (valid ? [] : validateFeed.errors ?? []) as ErrorObject[]) {
      const index = /^\/messages\/(\d+)(\/|$)/.exec(error.instancePath)?.[1];
      if (index === undefined) return refused('');
      invalidMessages.add(Number(index));
    }
    const { header, messages } = document as { header: { sellerId: string }; messages: Array<Record<string, unknown>> };
    const issues: ListingsFeedReportIssue[] = [];
    const issue = (message: Record<string, unknown>, what: { code: string; message: string }, attributeName?: string): void => {
      issues.push({
        ...(Number.isInteger(message.messageId) && (message.messageId as number) >= 1 ? { messageId: message.messageId as number } : {}),
        ...(typeof message.sku === 'string' && message.sku.length > 0 ? { sku: message.sku } : {}),
        code: what.code,
        severity: 'ERROR',
        message: what.message,
        ...(attributeName ? { attributeName } : {}),
      });
    };
    let accepted = 0;
    messages.forEach((message, index) => {
      if (invalidMessages.has(index)) return issue(message, MESSAGE_INVALID);
      const quantity = quantityOf(message);
      if (quantity === 'invalid') return issue(message, BAD_REQUEST, 'fulfillment_availability');
      accepted += 1;
      if (quantity === undefined) return;
      const sellerSku = message.sku as string;
      const hubSku = options.hubSkuOf(sellerSku);
      const unknown = feed.fault?.kind === 'item-unknown' && hubSku !== undefined && feed.fault.skus.includes(hubSku);
      if (!unknown) options.setQuantity(sellerSku, quantity);
    });
    const invalid = messages.length - accepted;
    counts.feedMessagesAccepted += accepted;
    counts.feedMessagesInvalid += invalid;
    return {
      fatal: false,
      report: {
        header: { sellerId: header.sellerId, version: '2.0', feedId: feed.feedId },
        issues,
        summary: { errors: issues.length, warnings: 0, messagesProcessed: messages.length, messagesAccepted: accepted, messagesInvalid: invalid },
      },
    };
  };

  const handle = (req: SimRequest): SimResponse | undefined => {
    const take = (op: FeedOperationName): SimResponse | undefined => (buckets[op].take().ok ? undefined : quotaExceeded());
    if (req.path === FEED_DOCUMENTS_PATH && req.method === 'POST') return take('createFeedDocument') ?? createFeedDocument(req);
    if (req.path === FEEDS_PATH && req.method === 'POST') return take('createFeed') ?? createFeed(req);
    const feedMatch = new RegExp(`^${FEEDS_PATH}/([^/]+)$`).exec(req.path);
    if (feedMatch && req.method === 'GET') {
      counts.getFeedCalls += 1;
      const refused = take('getFeed');
      if (refused) return refused;
      const feed = feeds.get(decodeURIComponent(feedMatch[1] ?? ''));
      if (!feed) return options.error(404, 'NotFound', 'The resource specified does not exist.');
      const { inputFeedDocumentId: _input, fault: _fault, ...shown } = feed;
      return ok('getFeed', 200, shown);
    }
    const documentMatch = new RegExp(`^${FEED_DOCUMENTS_PATH}/([^/]+)$`).exec(req.path);
    if (documentMatch && req.method === 'GET') {
      const refused = take('getFeedDocument');
      if (refused) return refused;
      const feedDocumentId = decodeURIComponent(documentMatch[1] ?? '');
      const url = options.storage.downloadUrl(feedDocumentId);
      if (!url) return options.error(404, 'NotFound', 'The resource specified does not exist.');
      return ok('getFeedDocument', 200, { feedDocumentId, url, ...(reports.has(feedDocumentId) ? { compressionAlgorithm: 'GZIP' } : {}) });
    }
    return req.path.startsWith('/feeds/') ? options.error(404, 'NotFound', 'Resource not found.') : undefined;
  };

  return {
    handle,
    counters: () => ({ ...counts }),
    close() {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
    },
  };
}

/**
 * The merchant quantity a PATCH or PARTIAL_UPDATE message sets, undefined when it sets none, or `invalid` when its
 * fulfillment_availability cannot be taken (an entry without a channel code, a DEFAULT one without a whole quantity ≥ 0).
 */
function quantityOf(message: Record<string, unknown>): number | undefined | 'invalid' {
  let values: unknown;
  if (message.operationType === 'PATCH') {
    const patch = (message.patches as Array<{ op: string; path: string; value?: unknown }>).filter((p) => p.path === QUANTITY_PATH && p.op !== 'delete').pop();
    if (!patch) return undefined;
    values = patch.value;
  } else if (message.operationType === 'PARTIAL_UPDATE') {
    values = (message.attributes as Record<string, unknown>).fulfillment_availability;
    if (values === undefined) return undefined;
  } else {
    return undefined;
  }
  if (!Array.isArray(values)) return 'invalid';
  const entries = values as Partial<FulfillmentAvailabilityAttribute>[];
  if (entries.some((entry) => typeof entry.fulfillment_channel_code !== 'string')) return 'invalid';
  // Entries of Amazon's own channels (AMAZON_NA...) are FBA stock: not the merchant quantity.
  const merchant = entries.find((entry) => entry.fulfillment_channel_code === 'DEFAULT');
  if (!merchant) return undefined;
  if (!Number.isInteger(merchant.quantity) || (merchant.quantity as number) < 0) return 'invalid';
  return merchant.quantity as number;
}
