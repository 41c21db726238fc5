import { abortableDelay, isRetryableError, RejectedError, RetryableError, retryAfterOf, type PushResult, type StockUpdate } from '../../core/sdk.ts';
import type { HttpRequest, HttpResponse } from '../_kit/http-client.ts';
import {
  FEED_DOCUMENTS_PATH,
  FEED_MAX_BYTES,
  FEEDS_PATH,
  LISTINGS_FEED_CONTENT_TYPE,
  LISTINGS_FEED_MAX_MESSAGES,
  LISTINGS_FEED_TYPE,
  type CreateFeedDocumentResponse,
  type CreateFeedSpecification,
  type Feed,
  type FeedDocument,
} from './api.ts';
import { downloadFeedDocument, uploadFeedDocument } from './feed-document-transfer.ts';
import { buildListingsFeed, describeIssues, readProcessingReport, type ReportReading } from './listings-feed.ts';
import type { AmazonListing } from './options.ts';

export type FeedOperation = 'createFeedDocument' | 'createFeed' | 'getFeed' | 'getFeedDocument';

export interface FeedPushDeps {
  sellerId: string;
  marketplaceId: string;
  listings: Readonly<Record<string, AmazonListing>>;
  /** An SP-API call with the connector's token, pacing and whole-call error mapping (throws on 401/403/429/5xx). */
  request(operation: FeedOperation, req: Omit<HttpRequest, 'headers'>): Promise<HttpResponse>;
  /** Amazon's error body, short and without echoes. */
  describe(body: unknown): string;
  /** Waits before the n-th `getFeed` (0-based); rejects when `signal` aborts. */
  pollDelay?(attempt: number, signal: AbortSignal): Promise<void>;
}

/** First wait before asking about a feed, then doubled up to the cap: a feed takes minutes, and getFeed allows 2/s. */
const FIRST_POLL_MS = 250;
const MAX_POLL_MS = 30_000;
const TERMINAL: ReadonlySet<Feed['processingStatus']> = new Set(['DONE', 'CANCELLED', 'FATAL']);

export const defaultPollDelay = (attempt: number, signal: AbortSignal): Promise<void> => abortableDelay(Math.min(MAX_POLL_MS, FIRST_POLL_MS * 2 ** Math.min(attempt, 16)), signal);


/**
 * The bulk lane: the updates as one JSON_LISTINGS_FEED, through the documented sequence createFeedDocument → PUT the
 * document to its presigned URL → createFeed → getFeed until DONE, CANCELLED or FATAL → getFeedDocument → the processing
 * report, read into one result per update.
 *
 * What a result means: DONE tells that Amazon accepted a message (its issues say which it refused), not that the
 * listing already shows it, exactly as `patchListingsItem`'s ACCEPTED; both are counted `ok`. A PATCH for a seller SKU
 * Amazon has no listing for is accepted without an issue (Amazon documents no error for it), so an unlisted SKU
 * is only known as such here when the hub has no mapping for it.
 */
export function createFeedPush(deps: FeedPushDeps): (updates: readonly StockUpdate[], signal: AbortSignal) => Promise<PushResult[]> {
  const pollDelay = deps.pollDelay ?? defaultPollDelay;

  const expectStatus = (res: HttpResponse, operation: FeedOperation, statuses: readonly number[]): void => {
    // Whatever throwForStatus left (400, 404, 413, 415): our request itself is wrong, and sending it again cannot help.
    if (!statuses.includes(res.status)) throw new RejectedError(`amazon refused ${operation} (${res.status}): ${deps.describe(res.body)}`);
  };

  /**
   * Once createFeed answered, Amazon processes the feed whatever happens here: a throttled or failed read of it is
   * waited out (as long as the signal allows), never thrown, or the hub would send the same SKUs in a second feed.
   */
  const untilRead = async <T>(signal: AbortSignal, read: () => Promise<T>): Promise<T> => {
    for (let attempt = 0; ; attempt++) {
      try {
        return await read();
      } catch (err) {
        if (signal.aborted || !isRetryableError(err)) throw err;
        await abortableDelay(retryAfterOf(err) ?? 0, signal);
        await pollDelay(attempt, signal);
      }
    }
  };

  const readReport = async (feed: Feed, signal: AbortSignal): Promise<ReportReading | undefined> => {
    if (!feed.resultFeedDocumentId) return undefined;
    const res = await deps.request('getFeedDocument', { method: 'GET', path: `${FEED_DOCUMENTS_PATH}/${encodeURIComponent(feed.resultFeedDocumentId)}`, signal });
    expectStatus(res, 'getFeedDocument', [200]);
    const document = res.body as Partial<FeedDocument>;
    if (typeof document?.url !== 'string') throw new RetryableError('amazon getFeedDocument answered without a url');
    const text = await downloadFeedDocument(document.url, document.compressionAlgorithm, signal);
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    return readProcessingReport(parsed);
  };

  return async (updates, signal) => {
    // The dispatcher honours bulk.maxBatchSize; this guards a host that does not (Amazon would refuse the whole document).
    if (updates.length > LISTINGS_FEED_MAX_MESSAGES) throw new RejectedError(`amazon takes at most ${LISTINGS_FEED_MAX_MESSAGES} SKUs per listings feed, got ${updates.length}`);
    const results: PushResult[] = [];
    const sent: Array<{ update: StockUpdate; messageId: number }> = [];
    const entries = [];
    for (const update of updates) {
      const listing = deps.listings[update.sku];
      if (!listing) {
        results.push({ sku: update.sku, status: 'not_listed', reason: `no Amazon listing mapped for hub SKU "${update.sku}"` });
        continue;
      }
      entries.push({ sellerSku: listing.sellerSku, productType: listing.productType, quantity: update.quantity });
      sent.push({ update, messageId: entries.length });
    }
    if (entries.length === 0) return results;

    const body = JSON.stringify(buildListingsFeed(deps.sellerId, entries));
    // 25,000 PATCH messages of a 40-character SKU stay near 7 MB; only very long product types could pass the 10 MiB Amazon asks for.
    if (Buffer.byteLength(body) > FEED_MAX_BYTES) throw new RejectedError(`amazon feed of ${entries.length} messages is larger than the 10 MiB Amazon accepts; send fewer at once`);

    const created = await deps.request('createFeedDocument', { method: 'POST', path: FEED_DOCUMENTS_PATH, body: { contentType: LISTINGS_FEED_CONTENT_TYPE }, signal });
    expectStatus(created, 'createFeedDocument', [201]);
    const document = created.body as Partial<CreateFeedDocumentResponse>;
    if (typeof document?.url !== 'string' || typeof document.feedDocumentId !== 'string') throw new RetryableError('amazon createFeedDocument answered without a feedDocumentId and url');
    await uploadFeedDocument(document.url, body, LISTINGS_FEED_CONTENT_TYPE, signal);

    const specification: CreateFeedSpecification = { feedType: LISTINGS_FEED_TYPE, marketplaceIds: [deps.marketplaceId], inputFeedDocumentId: document.feedDocumentId };
    const submitted = await deps.request('createFeed', { method: 'POST', path: FEEDS_PATH, body: specification, signal });
    expectStatus(submitted, 'createFeed', [202]);
    const feedId = (submitted.body as { feedId?: unknown } | undefined)?.feedId;
    if (typeof feedId !== 'string') throw new RetryableError('amazon createFeed answered without a feedId');

    let feed: Feed | undefined;
    for (let attempt = 0; !feed || !TERMINAL.has(feed.processingStatus); attempt++) {
      await pollDelay(attempt, signal);
      feed = await untilRead(signal, async () => {
        const res = await deps.request('getFeed', { method: 'GET', path: `${FEEDS_PATH}/${encodeURIComponent(feedId)}`, signal });
        expectStatus(res, 'getFeed', [200]);
        return res.body as Feed;
      });
    }

    const reason = (status: string): string => `amazon feed ${feedId} ended ${status}`;
    if (feed.processingStatus === 'CANCELLED') {
      for (const { update } of sent) results.push({ sku: update.sku, status: 'retry', reason: reason('CANCELLED') });
      return results;
    }
    const finished = feed;
    // A fresh getFeedDocument each time: the report's URL lives 5 minutes.
    const report = await untilRead(signal, () => readReport(finished, signal));
    if (!report) {
      // DONE always comes with a report; FATAL may not. Without one nothing is known of any message: all again.
      for (const { update } of sent) results.push({ sku: update.sku, status: 'retry', reason: `${reason(feed.processingStatus)} without a readable processing report` });
      return results;
    }
    if (report.documentErrors.length > 0) {
      // The document itself was refused (it could not be parsed, its header is wrong): the same document would be refused again.
      const why = `${reason(feed.processingStatus)}: ${describeIssues(report.documentErrors)}`.slice(0, 300);
      for (const { update } of sent) results.push({ sku: update.sku, status: 'rejected', reason: why });
      return results;
    }
    for (const { update, messageId } of sent) {
      const errors = report.messageErrors.get(messageId);
      if (errors) results.push({ sku: update.sku, status: 'rejected', reason: describeIssues(errors).slice(0, 300) });
      // A FATAL feed may have applied any part of itself or none: an absolute quantity is safe to send again.
      else if (feed.processingStatus === 'FATAL') results.push({ sku: update.sku, status: 'retry', reason: reason('FATAL') });
      else results.push({ sku: update.sku, status: 'ok', quantity: update.quantity });
    }
    return results;
  };
}
