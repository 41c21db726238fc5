import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Ajv, type AnySchemaObject, type ValidateFunction } from 'ajv';
import { TokenBucket, type SimulatorFault } from '../../core/sdk.ts';
import type { SimRequest, SimResponse } from '../_kit/sim-server.ts';
import {
  FEED_STATUS_PAGE_LIMIT,
  FEEDS_PATH,
  INVENTORY_FEED_MAX_BYTES,
  INVENTORY_FEED_MAX_ITEMS,
  INVENTORY_FEED_TYPE,
  type WalmartError,
  type WalmartFeedStatus,
  type WalmartIngestionError,
  type WalmartInventoryFeed,
  type WalmartItemIngestion,
} from './api.ts';
import { walmartFeedStatusExample } from './vendor-examples.ts';

/**
 * The simulated Walmart bulk inventory feed: `POST /v3/feeds?feedType=inventory` (multipart/form-data, one `file`
 * part) and `GET /v3/feeds/{feedId}` with `includeDetails`, `offset`, `limit`.
 *
 * - Uploads are throttled by the feed bucket (Walmart's 10 per hour unless the simulator was given another rate),
 *   answered 429 as the rest of the simulator answers it; a file over 5 MB gets 413, a body that is not
 *   multipart/form-data 415, a missing `file` part or `feedType` 400.
 * - The file is checked against Walmart's InventoryFeed JSON Schema (spec 1.4, test/fixtures/vendor/walmart/
 *   inventory-feed): a file that is not JSON, fails the schema or holds more than 50,000 lines is accepted with a feed
 *   id and then reported `ERROR` as a whole with a feed-level DATA_ERROR, no line applied, as Walmart's feeds overview
 *   describes a failed feed.
 * - Each feed is processed `processingMs` after submission (RECEIVED, then INPROGRESS for the second half): every line
 *   is applied to the same items the per-SKU call writes. A SKU the seller has no item for, or one under the
 *   `item-unknown` fault at submission, gets DATA_ERROR with the per-SKU call's not-found code; a negative amount gets
 *   DATA_ERROR as the per-SKU call refuses it. These line error codes are the simulator's reading: Walmart documents
 *   none for them.
 * - Status calls are throttled by a bucket of their own at {@link SimulatedFeedsOptions.statusRate} (Walmart publishes
 *   no figure for them) and answered in the shape of the document's PROCESSED example (PartnerFeedResponse).
 * Only `feedType=inventory` is simulated; `MP_INVENTORY` (the multi-node spec 1.5 feed) is answered 400 here although
 * Walmart accepts it.
 */
export interface SimulatedFeedsOptions {
  /** Submission to processed, ms. Real inventory feeds take up to 30 minutes; tests use a few ms. */
  processingMs: number;
  /** The feed upload bucket. */
  rate: { perSecond: number; burst: number };
  /** The status call bucket (an assumption: Walmart publishes no rate for it). */
  statusRate: { perSecond: number; burst: number };
  /** The seller's item for a Walmart SKU, whose quantity a line sets; undefined when the seller has none. */
  item(walmartSku: string): { hubSku: string; quantity: number | undefined } | undefined;
  /** Called once per line applied. */
  wrote(): void;
  /** Walmart's error answer, as the rest of the simulator builds it. */
  error(status: number, error: WalmartError, headers?: Record<string, string>): SimResponse;
  /** Walmart's 429 for a spent bucket, as the rest of the simulator builds it. */
  throttled(bucket: TokenBucket, retryAfterMs: number): SimResponse;
}

/** One uploaded feed file as it arrived, for checking what a connector sent against Walmart's schema. */
export interface SubmittedFeed {
  feedId: string;
  /** Content-Type of the `file` part. */
  contentType: string;
  /** The file's text. */
  file: string;
}

export interface SimulatedFeeds {
  submit(req: SimRequest): Promise<SimResponse>;
  status(req: SimRequest, feedId: string): SimResponse;
  submitted(): readonly SubmittedFeed[];
  close(): void;
}

interface FeedState {
  feedId: string;
  submittedAt: number;
  /** Set once processed. */
  done?: { feedStatus: 'PROCESSED' | 'ERROR'; lines: WalmartItemIngestion[]; errors?: WalmartIngestionError[] };
  /** The lines as uploaded (empty for a file refused as a whole). */
  lines: Array<{ sku: string; amount: number }>;
  /** Why the file is refused as a whole, decided at upload and reported once processed. */
  refusal?: string;
  /** Hub SKUs under the `item-unknown` fault at upload. */
  unknown: ReadonlySet<string>;
}

const schemaFile = (name: string): AnySchemaObject =>
  JSON.parse(readFileSync(new URL(`../../test/fixtures/vendor/walmart/inventory-feed/${name}`, import.meta.url), 'utf8')) as AnySchemaObject;

let feedSchema: ValidateFunction | undefined;
/** Walmart's InventoryFeed.json (draft-06), its `$ref`s to InventoryHeader.json and Inventory.json resolved by name. */
function inventoryFeedSchema(): ValidateFunction {
  if (!feedSchema) {
    const ajv = new Ajv({ allErrors: true, strict: false });
    ajv.addMetaSchema(createRequire(import.meta.url)('ajv/dist/refs/json-schema-draft-06.json') as AnySchemaObject);
    ajv.addSchema(schemaFile('InventoryHeader.json'), 'InventoryHeader.json');
    ajv.addSchema(schemaFile('Inventory.json'), 'Inventory.json');
    feedSchema = ajv.compile(schemaFile('InventoryFeed.json'));
  }
  return feedSchema;
}

const feedIdOf = (): string => `${randomUUID().replace(/-/g, '').toUpperCase()}@AQMBAQA`;
const digits = (n: number): string => Array.from({ length: n }, (_, i) => String(i === 0 ? 1 + Math.floor(Math.random() * 9) : Math.floor(Math.random() * 10))).join('');

export function createSimulatedFeeds(options: SimulatedFeedsOptions): SimulatedFeeds {
  const uploads = new TokenBucket(options.rate.perSecond, options.rate.burst);
  const statuses = new TokenBucket(options.statusRate.perSecond, options.statusRate.burst);
  const feeds = new Map<string, FeedState>();
  const submitted: SubmittedFeed[] = [];
  const timers = new Set<NodeJS.Timeout>();

  const lineResult = (feed: FeedState, line: { sku: string; amount: number }, index: number): WalmartItemIngestion => {
    const item = options.item(line.sku);
    const base = { martId: 0, sku: line.sku, index };
    if (!item || feed.unknown.has(item.hubSku)) {
      return { ...base, ingestionStatus: 'DATA_ERROR', ingestionErrors: { ingestionError: [{ type: 'DATA_ERROR', code: 'CONTENT_NOT_FOUND.GMP_INVENTORY_API', description: `Item with sku ${line.sku} not found.` }] } };
    }
    if (line.amount < 0) {
      return { ...base, ingestionStatus: 'DATA_ERROR', ingestionErrors: { ingestionError: [{ type: 'DATA_ERROR', code: 'INVALID_REQUEST_CONTENT.GMP_INVENTORY_API', description: 'quantity amount must not be negative.' }] } };
    }
    item.quantity = line.amount;
    options.wrote();
    return { ...base, wpid: `0R${digits(10)}`, ingestionStatus: 'SUCCESS' };
  };

  const process = (feed: FeedState): void => {
    if (feed.refusal !== undefined) {
      feed.done = { feedStatus: 'ERROR', lines: [], errors: [{ type: 'DATA_ERROR', code: 'MALFORMED_REQUEST_CONTENT', description: feed.refusal }] };
      return;
    }
    feed.done = { feedStatus: 'PROCESSED', lines: feed.lines.map((line, index) => lineResult(feed, line, index)) };
  };

  /** Reads the upload's file and what Walmart would make of it: the lines, or why the whole file is refused. */
  const readFile = (text: string): { lines: FeedState['lines']; refusal?: string } => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      return { lines: [], refusal: 'The feed file is not valid JSON.' };
    }
    const validate = inventoryFeedSchema();
    if (!validate(parsed)) {
      const why = (validate.errors ?? []).slice(0, 3).map((e) => `${e.instancePath || '/'} ${e.message ?? ''}`).join('; ');
      return { lines: [], refusal: `The feed file does not match the InventoryFeed schema: ${why}` };
    }
    const lines = ((parsed as Partial<WalmartInventoryFeed>).Inventory ?? []).map((line) => ({ sku: line.sku, amount: line.quantity.amount }));
    if (lines.length > INVENTORY_FEED_MAX_ITEMS) return { lines: [], refusal: `The feed holds ${lines.length} items; at most ${INVENTORY_FEED_MAX_ITEMS} are allowed.` };
    return { lines };
  };

  const submit = async (req: SimRequest): Promise<SimResponse> => {
    const slot = uploads.take();
    if (!slot.ok) return options.throttled(uploads, slot.retryAfterMs);
    const contentType = String(req.headers['content-type'] ?? '');
    if (!/^multipart\/form-data\b/i.test(contentType)) {
      return options.error(415, { code: 'UNSUPPORTED_MEDIA_TYPE.GMP_GATEWAY_API', field: 'Content-Type', description: 'Unsupported media type', info: 'The feed file must be sent as multipart/form-data.', category: 'REQUEST' });
    }
    const feedType = req.query.get('feedType');
    if (!feedType) return options.error(400, { code: 'MISSING_REQUEST_PARAM.GMP_FEED_API', field: 'feedType', description: 'Missing request parameter', info: 'Query parameter feedType is required.', category: 'REQUEST' });
    if (feedType !== INVENTORY_FEED_TYPE) {
      return options.error(400, { code: 'INVALID_REQUEST_PARAM.GMP_FEED_API', field: 'feedType', description: 'Invalid request parameter', info: `feedType ${feedType} is not simulated; use feedType=inventory.`, category: 'REQUEST' });
    }
    let file: File | string | null;
    try {
      file = (await new Response(new Uint8Array(req.rawBody), { headers: { 'content-type': contentType } }).formData()).get('file');
    } catch {
      return options.error(400, { code: 'MALFORMED_REQUEST_CONTENT.GMP_FEED_API', field: 'file', description: 'Malformed request content', info: 'The multipart body could not be read.', category: 'REQUEST' });
    }
    if (file === null) return options.error(400, { code: 'MISSING_REQUEST_PARAM.GMP_FEED_API', field: 'file', description: 'Missing request parameter', info: 'The multipart part "file" is required.', category: 'REQUEST' });
    const text = typeof file === 'string' ? file : await file.text();
    if (Buffer.byteLength(text) > INVENTORY_FEED_MAX_BYTES) {
      return options.error(413, { code: 'PAYLOAD_TOO_LARGE.GMP_FEED_API', field: 'file', description: 'Payload Too Large', info: `The feed file exceeds ${INVENTORY_FEED_MAX_BYTES} bytes.`, category: 'REQUEST' });
    }
    const feedId = feedIdOf();
    const unknown = new Set(req.fault?.kind === 'item-unknown' ? (req.fault as Extract<SimulatorFault, { kind: 'item-unknown' }>).skus : []);
    const feed: FeedState = { feedId, submittedAt: Date.now(), unknown, ...readFile(text) };
    feeds.set(feedId, feed);
    submitted.push({ feedId, contentType: typeof file === 'string' ? 'text/plain' : file.type, file: text });
    const timer = setTimeout(() => {
      timers.delete(timer);
      process(feed);
    }, options.processingMs);
    timer.unref();
    timers.add(timer);
    return { status: 200, body: { feedId }, wrote: true };
  };

  const status = (req: SimRequest, feedId: string): SimResponse => {
    const slot = statuses.take();
    if (!slot.ok) return options.throttled(statuses, slot.retryAfterMs);
    const feed = feeds.get(feedId);
    if (!feed) return options.error(404, { code: 'CONTENT_NOT_FOUND.GMP_FEED_API', field: 'feedId', description: 'Requested content could not be found.', info: `No feed ${feedId}.`, category: 'APPLICATION' });
    const includeDetails = req.query.get('includeDetails') === 'true';
    const offset = Number(req.query.get('offset') ?? '0');
    const limit = Number(req.query.get('limit') ?? String(FEED_STATUS_PAGE_LIMIT));
    if (!Number.isInteger(offset) || offset < 0) return options.error(400, { code: 'INVALID_REQUEST_PARAM.GMP_FEED_API', field: 'offset', description: 'Invalid request parameter', info: 'offset must be a non-negative integer.', category: 'REQUEST' });
    if (!Number.isInteger(limit) || limit < 1 || limit > FEED_STATUS_PAGE_LIMIT) {
      return options.error(400, { code: 'INVALID_REQUEST_PARAM.GMP_FEED_API', field: 'limit', description: 'Invalid request parameter', info: `limit cannot be more than ${FEED_STATUS_PAGE_LIMIT}.`, category: 'REQUEST' });
    }
    const body = walmartFeedStatusExample() as WalmartFeedStatus & Record<string, unknown>;
    body.feedId = feed.feedId;
    body.feedSubmissionDate = feed.submittedAt;
    const done = feed.done;
    const lines: WalmartItemIngestion[] = done ? done.lines : feed.lines.map((line, index) => ({ martId: 0, sku: line.sku, index, ingestionStatus: 'INPROGRESS' }));
    body.feedStatus = done ? done.feedStatus : Date.now() - feed.submittedAt < options.processingMs / 2 ? 'RECEIVED' : 'INPROGRESS';
    body.itemsReceived = lines.length;
    body.itemsSucceeded = lines.filter((l) => l.ingestionStatus === 'SUCCESS').length;
    body.itemsFailed = lines.filter((l) => l.ingestionStatus !== 'SUCCESS' && l.ingestionStatus !== 'INPROGRESS').length;
    body.itemsProcessing = lines.filter((l) => l.ingestionStatus === 'INPROGRESS').length;
    if (done?.errors) body.ingestionErrors = { ingestionError: done.errors };
    if (includeDetails) {
      body.offset = offset;
      body.limit = limit;
      body.itemDetails = { itemIngestionStatus: lines.slice(offset, offset + limit) };
    } else {
      delete body.offset;
      delete body.limit;
      delete body.itemDetails;
    }
    return { status: 200, body };
  };

  return {
    submit,
    status,
    submitted: () => submitted,
    close() {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
    },
  };
}

/** `GET /v3/feeds/{feedId}`: the feed id of a status path (percent-decoded, as Walmart asks `@` to be sent as `%40`). */
export function feedIdOfPath(path: string): string | undefined {
  const match = new RegExp(`^${FEEDS_PATH}/([^/]+)$`).exec(path);
  if (!match?.[1]) return undefined;
  try {
    return decodeURIComponent(match[1]);
  } catch {
    return undefined;
  }
}
