import { abortableDelay, isRetryableError, RejectedError, RetryableError, retryAfterOf, type PushResult, type StockUpdate } from '../../core/sdk.ts';
import type { HttpRequest, HttpResponse } from '../_kit/http-client.ts';
import {
  FEED_STATUS_PAGE_LIMIT,
  FEEDS_PATH,
  INVENTORY_FEED_MAX_BYTES,
  INVENTORY_FEED_TYPE,
  INVENTORY_FEED_VERSION,
  type WalmartFeedStatus,
  type WalmartIngestionError,
  type WalmartInventoryFeed,
  type WalmartItemIngestion,
} from './api.ts';
import { feedLineResults, type FeedLine } from './feed-line-results.ts';

/** An API call as the connector makes it (token, WM_* headers, pacing, status → error), with its own Content-Type when not JSON. */
export type WalmartRequest = (req: Omit<HttpRequest, 'headers'> & { contentType?: string }) => Promise<HttpResponse>;

export interface InventoryFeedDeps {
  request: WalmartRequest;
  describe: (body: unknown) => string;
  /** Hub SKU → Walmart SKU. */
  skus: Readonly<Record<string, string>>;
  shipNode?: string;
  /** Wait before each feed status call while the feed is not done. */
  pollMs: number;
  /**
   * How long after the upload the connector stops waiting for the feed to be processed (the lane's `maxDurationMs`),
   * in case the host does not abort first.
   */
  giveUpMs: number;
}

/** The feed file's parts: one `file` part, as the document's multipart/form-data body requires, encoded by the platform's FormData. */
async function multipartFile(text: string): Promise<{ body: string; contentType: string }> {
  const form = new FormData();
  form.set('file', new Blob([text], { type: 'application/json' }), 'inventory.json');
  const encoded = new Response(form);
  const contentType = encoded.headers.get('content-type');
  if (!contentType) throw new Error('walmart: the multipart encoder gave no Content-Type');
  return { body: await encoded.text(), contentType };
}

const feedErrors = (status: WalmartFeedStatus): WalmartIngestionError[] => status.ingestionErrors?.ingestionError ?? [];

/**
 * The bulk lane: the updates as one spec 1.4 inventory feed, then its status polled until Walmart has processed it,
 * and one result per update from the feed's line statuses.
 */
export function createInventoryFeed(deps: InventoryFeedDeps): (updates: readonly StockUpdate[], signal: AbortSignal) => Promise<PushResult[]> {
  const feedPath = `${FEEDS_PATH}?feedType=${INVENTORY_FEED_TYPE}${deps.shipNode ? `&shipNode=${encodeURIComponent(deps.shipNode)}` : ''}`;

  /**
   * A status call. A throttled or failed one (429, 5xx, a dropped connection) is waited out and made again until
   * `deadline` instead of failing the job: the feed is already with Walmart, and giving up on it would leave its lines
   * in doubt for a blip. A refusal of our credentials still ends the job.
   */
  const statusCall = async (path: string, feedId: string, deadline: number, signal: AbortSignal): Promise<HttpResponse> => {
    for (;;) {
      try {
        return await deps.request({ method: 'GET', path, signal });
      } catch (err) {
        if (!isRetryableError(err)) throw err;
        pastDeadline(feedId, deadline, err);
        await abortableDelay(Math.max(deps.pollMs, retryAfterOf(err) ?? 0), signal);
      }
    }
  };

  const pastDeadline = (feedId: string, deadline: number, cause?: unknown): void => {
    if (Date.now() < deadline) return;
    throw new RetryableError(`walmart had not processed inventory feed ${feedId} after ${Math.round(deps.giveUpMs / 1000)} s; its lines may still be applied`, { cause });
  };

  const readStatus = (res: HttpResponse, feedId: string): WalmartFeedStatus => {
    if (res.status !== 200 || typeof res.body !== 'object' || res.body === null) {
      throw new RetryableError(`walmart answered ${res.status} to the status of inventory feed ${feedId}: ${deps.describe(res.body)}`);
    }
    return res.body as WalmartFeedStatus;
  };

  /** Polls until the feed is PROCESSED or ERROR. Walmart may not know a feed id for a moment after issuing it: a 404 is polled again. */
  const awaitDone = async (feedId: string, deadline: number, signal: AbortSignal): Promise<WalmartFeedStatus> => {
    const path = `${FEEDS_PATH}/${encodeURIComponent(feedId)}?includeDetails=false`;
    for (;;) {
      pastDeadline(feedId, deadline);
      await abortableDelay(deps.pollMs, signal);
      const res = await statusCall(path, feedId, deadline, signal);
      if (res.status === 404) continue;
      const status = readStatus(res, feedId);
      if (status.feedStatus === 'PROCESSED' || status.feedStatus === 'ERROR') return status;
    }
  };

  /** Every line status of a processed feed, page by page (`offset`, `limit` at most 50). */
  const lineStatuses = async (feedId: string, received: number | undefined, deadline: number, signal: AbortSignal): Promise<WalmartItemIngestion[]> => {
    const lines: WalmartItemIngestion[] = [];
    for (let offset = 0; ; offset += FEED_STATUS_PAGE_LIMIT) {
      const res = await statusCall(`${FEEDS_PATH}/${encodeURIComponent(feedId)}?includeDetails=true&offset=${offset}&limit=${FEED_STATUS_PAGE_LIMIT}`, feedId, deadline, signal);
      const page = readStatus(res, feedId).itemDetails?.itemIngestionStatus ?? [];
      lines.push(...page);
      if (page.length < FEED_STATUS_PAGE_LIMIT || (received !== undefined && lines.length >= received)) return lines;
    }
  };

  return async (updates, signal) => {
    const results: PushResult[] = [];
    const lines: FeedLine[] = [];
    for (const update of updates) {
      const walmartSku = deps.skus[update.sku];
      if (walmartSku) lines.push({ hubSku: update.sku, walmartSku, quantity: update.quantity });
      else results.push({ sku: update.sku, status: 'not_listed', reason: `no Walmart SKU mapped for hub SKU "${update.sku}"` });
    }
    if (lines.length === 0) return results;

    const feed: WalmartInventoryFeed = {
      InventoryHeader: { version: INVENTORY_FEED_VERSION },
      Inventory: lines.map((line) => ({ sku: line.walmartSku, quantity: { unit: 'EACH', amount: line.quantity } })),
    };
    const text = JSON.stringify(feed);
    // bulk.maxBatchSize keeps every feed far below this; a host that sends more gets a refusal rather than Walmart's 413.
    if (Buffer.byteLength(text) > INVENTORY_FEED_MAX_BYTES) throw new RejectedError(`walmart inventory feed of ${lines.length} lines exceeds ${INVENTORY_FEED_MAX_BYTES} bytes`);
    const { body, contentType } = await multipartFile(text);
    const submitted = await deps.request({ method: 'POST', path: feedPath, body, contentType, signal });
    const feedId = (submitted.body as { feedId?: unknown } | undefined)?.feedId;
    if (submitted.status !== 200 || typeof feedId !== 'string' || feedId === '') {
      throw new RejectedError(`walmart refused the inventory feed (${submitted.status}): ${deps.describe(submitted.body)}`);
    }

    const deadline = Date.now() + deps.giveUpMs;
    const done = await awaitDone(feedId, deadline, signal);
    if (done.feedStatus === 'ERROR') {
      const errors = feedErrors(done);
      const detail = errors.map((e) => `${e.type} ${e.code}`).join('; ') || 'no error given';
      // A data error refuses our file as a whole (it would be refused again); anything else is Walmart's failure.
      if (errors.some((e) => e.type === 'DATA_ERROR')) throw new RejectedError(`walmart refused inventory feed ${feedId}: ${detail}`);
      throw new RetryableError(`walmart failed inventory feed ${feedId}: ${detail}`);
    }
    // The lines of a processed feed no longer change: reading them is given the same time again, not cut short.
    const reported = await lineStatuses(feedId, done.itemsReceived, Date.now() + deps.giveUpMs, signal);
    return [...results, ...feedLineResults(lines, reported)];
  };
}
