/**
 * The public SDK: everything a connector plugin may import from stockrelay.
 * Connectors import this entry only, never the hub's internals.
 */
import type { InventoryEvent } from './events/event-types.ts';

export * from './errors.ts';
export { abortableDelay, untilAborted } from './until-aborted.ts';
export { TokenBucket, type BucketClock, type BucketTake } from './token-bucket.ts';
export type * from './events/event-types.ts';

/** The contract version this host implements. A plugin declaring another major is refused. */
export const CONTRACT_VERSION = 1;

/** A JSON Schema object (draft 2020-12 / draft-07 subset understood by ajv). */
export type JsonSchema = Record<string, unknown>;

export interface ConnectorCapabilities {
  /** Most items one `push` call may carry. The dispatcher never sends more. */
  maxBatchSize: number;
  /** The channel's documented request rate: `perSecond` refill, `burst` bucket size. */
  rateLimit: { perSecond: number; burst: number };
  /** `absolute`: the channel takes the quantity to show. (Delta channels are not supported yet.) */
  quantityMode: 'absolute';
  /** The channel can reject a write whose `previousQuantity` no longer matches (Shopify `changeFromQuantity`). */
  compareAndSet?: boolean;
  /** Most pushes the channel accepts per SKU per day (eBay: 250 revisions per listing). */
  dailyRevisionsPerSku?: number;
  /** Most in-flight `push` calls the dispatcher keeps open to this channel. Default: one per call/s of `rateLimit`, at least 4, at most 32. */
  maxConcurrency?: number;
  /**
   * The channel's bulk lane (Amazon's listings feed, Walmart's inventory feed), when the vendor documents
   * one and the connector implements {@link ConnectorInstance.pushBulk}.
   */
  bulk?: BulkCapabilities;
}

/**
 * A bulk lane: jobs of many SKUs that the channel applies later, at its own pace. The hub sends through it
 * only changes that can wait, and keeps the per-SKU calls for the urgent ones.
 */
export interface BulkCapabilities {
  /** Most items one `pushBulk` call may carry. */
  maxBatchSize: number;
  /** The channel's documented rate for submitting jobs (a feed creation): `perSecond` refill, `burst` bucket size. */
  rateLimit: { perSecond: number; burst: number };
  /** Most jobs the hub keeps open at once. Default 1. */
  maxConcurrency?: number;
  /**
   * How long a job usually takes from submission to its per-item results, ms: the hub's first estimate of
   * the lane's delay until it has measured some. A SKU goes in bulk only when it can wait that long.
   */
  expectedDurationMs: number;
  /**
   * How long the hub waits for one job before it gives up on it, ms. A job given up on may still be applied
   * by the channel: its SKUs are then treated as having a write that may land late.
   */
  maxDurationMs: number;
}

/** One quantity to show on the channel for one hub SKU. */
export interface StockUpdate {
  sku: string;
  /** The quantity the channel should show (the channel's rules already applied). */
  quantity: number;
  /** What the hub last saw confirmed on this channel, when known: the compare-and-set base. */
  previousQuantity?: number;
  /** The ledger version this quantity reflects. */
  version: number;
}

/**
 * Per-item outcome of a push, in any order, exactly one per update.
 * - `ok`: the channel now shows `quantity` (the update's quantity unless the channel says otherwise).
 * - `retry`: transient; retried with backoff, not before `afterMs` when given. Counts as an attempt.
 * - `busy`: the item is locked or busy on the channel side (another write, a listing being edited):
 *   tried again after `afterMs` (or a short backoff) without spending one of its attempts.
 * - `stale`: compare-and-set refused; `shown` is what the channel shows now, when it said. Re-pushed at once.
 * - `not_listed`: the channel has no listing for this SKU (no mapping, listing ended or deleted). Not a
 *   failure of the push: the SKU is not pushed to this channel again until its mapping or listing changes,
 *   is never dead-lettered for it, and `stockrelay why` says so.
 * - `rejected`: the channel refused this item for good (invalid value, policy...): dead-lettered.
 */
export type PushResult =
  | { sku: string; status: 'ok'; quantity?: number }
  | { sku: string; status: 'retry'; reason: string; afterMs?: number }
  | { sku: string; status: 'busy'; reason: string; afterMs?: number }
  | { sku: string; status: 'stale'; reason: string; shown?: number }
  | { sku: string; status: 'not_listed'; reason: string }
  | { sku: string; status: 'rejected'; reason: string };

/** A webhook request as it reached the ingress: the raw body is untouched so signatures can be checked. */
export interface WebhookRequest {
  rawBody: Buffer;
  /** Header names in lower case. */
  headers: Readonly<Record<string, string | undefined>>;
  /** Path after `/webhooks/<channel>`, usually empty. */
  path: string;
  query: Readonly<Record<string, string | undefined>>;
}

export interface WebhookOutcome {
  /** Inventory events to publish; ids derive from the channel's order id so re-deliveries collapse. */
  events: InventoryEvent[];
  /** Optional response body (some channels expect an echo or a challenge answer). */
  response?: { status?: number; body?: unknown; headers?: Record<string, string> };
}

export interface Logger {
  debug(msg: string, data?: Record<string, unknown>): void;
  info(msg: string, data?: Record<string, unknown>): void;
  warn(msg: string, data?: Record<string, unknown>): void;
  error(msg: string, data?: Record<string, unknown>): void;
}

/**
 * Small durable key-value state of one channel's connector, kept by the host across restarts and
 * hub takeovers (rotated OAuth refresh tokens, a daily quota's usage). Keys and values are strings;
 * a value is at most 64 KiB. Reads and writes may fail while the database is unavailable: a connector
 * treats a failed read as "nothing stored" only when it can start over without it.
 */
export interface ConnectorStateStore {
  /** The value stored under `key` for this channel, or undefined. */
  get(key: string): Promise<string | undefined>;
  /** Stores `value` under `key` for this channel; resolves once it is durable. */
  set(key: string, value: string): Promise<void>;
  /** Removes `key`; resolves once it is gone (no error when it was never set). */
  delete(key: string): Promise<void>;
}

/** What the host hands a connector when it creates it. */
export interface ConnectorContext {
  /** The channel id from config, e.g. `shopify-main`. */
  channelId: string;
  logger: Logger;
  /** Aborted when the hub shuts down. */
  signal: AbortSignal;
  /** Durable state of this channel's connector (see {@link ConnectorStateStore}). */
  state: ConnectorStateStore;
  /**
   * Marks a value the connector obtained or derived at run time (an access token, a rotated refresh
   * token, a Basic credential built from configured secrets) as secret: from then on the host masks
   * it in every log line, dead letter, error text, API answer and CLI output. Secrets given in the
   * channel's options are masked without this call.
   */
  registerSecret(value: string): void;
}

export interface ConnectorInstance {
  /**
   * Called by the channel's dispatcher with at most `maxBatchSize` updates, never two for one SKU,
   * and never while another push for any of these SKUs is in flight on this channel.
   * Must resolve one result per update, or throw: a thrown {@link ThrottledError} pauses the channel,
   * a {@link RetryableError} (or any other error) retries every item, a {@link RejectedError} rejects every item.
   * Must stop work and reject when `signal` aborts.
   */
  push(updates: readonly StockUpdate[], signal: AbortSignal): Promise<PushResult[]>;
  /**
   * Optional, with `capabilities.bulk`. Submits the updates as one bulk job (a feed) and resolves once the
   * channel has processed it, with one result per update exactly as {@link push} does; a job the channel
   * refused as a whole throws as `push` does (a {@link ThrottledError} pauses the bulk lane only). Gets at
   * most `bulk.maxBatchSize` updates, never a move to zero, never a SKU with a write in flight, and while
   * the job is open no other write of its SKUs is sent. Must stop waiting and reject when `signal` aborts.
   */
  pushBulk?(updates: readonly StockUpdate[], signal: AbortSignal): Promise<PushResult[]>;
  /**
   * Optional. Called by the ingress for `POST /webhooks/<channel>` before any parsing: must check the
   * signature over `rawBody` in constant time and throw {@link WebhookSignatureError} when it is wrong or missing,
   * then return the events the request carries (fetching the order from the channel when the webhook holds only an id).
   */
  handleWebhook?(request: WebhookRequest, signal: AbortSignal): Promise<WebhookOutcome>;
  /**
   * Optional. Polled by the host for channels that deliver orders through a queue rather than HTTP
   * (Amazon). Returns new order events since the last call; ids must be stable so re-reads collapse.
   */
  pollOrders?(signal: AbortSignal): Promise<InventoryEvent[]>;
  /** Optional. What the channel shows now for these SKUs, for reconciliation and tests. */
  fetchQuantities?(skus: readonly string[], signal: AbortSignal): Promise<Map<string, number>>;
  /**
   * Optional. Missed-order catch-up: one page of the orders the channel created or changed since
   * `cursor` (undefined on the first call ever: start from a little before now), read from the channel's
   * orders API. Events must carry exactly the ids the channel's webhooks (or `pollOrders`) give for the
   * same order and state, so an order found twice counts once. The connector reads a little before the
   * cursor's time (its overlap) so nothing falls between two polls. The host stores `cursor` durably
   * only after every event of the page is published, and calls again at once while `more` is true.
   */
  listOrders?(cursor: string | undefined, signal: AbortSignal): Promise<OrderPage>;
  /**
   * Optional. Onboarding: one page of the channel's listings (its SKUs, the channel's ids for them and
   * what it shows), for `stockrelay import`. `cursor` undefined: the first page. Works with options that
   * map no SKU yet.
   */
  listListings?(cursor: string | undefined, signal: AbortSignal): Promise<ListingPage>;
  /** Optional. Called once at shutdown; release sockets and timers. */
  close?(): Promise<void>;
}

/** One page of orders from {@link ConnectorInstance.listOrders}. */
export interface OrderPage {
  /** Order events for the page's orders (confirmed, cancelled, returned), ids as the webhooks give them. */
  events: InventoryEvent[];
  /** Where the next call resumes; opaque to the host, stored once `events` are published. */
  cursor: string;
  /** True when another page is waiting now. */
  more: boolean;
}

/** One listing on the channel, as {@link ConnectorInstance.listListings} reads it. */
export interface ChannelListing {
  /** The seller's SKU as the channel holds it (the hub SKU it maps to, when they match). */
  sku: string;
  /** What goes under `options.skus[sku]` for this channel: the channel's own ids for the listing. */
  mapping: Record<string, unknown>;
  /** What the channel shows now. */
  quantity: number;
  /** The listing's title, for the import report. */
  title?: string;
}

/** One page of listings from {@link ConnectorInstance.listListings}. */
export interface ListingPage {
  listings: ChannelListing[];
  /** The next page's cursor; absent on the last page. */
  cursor?: string;
}

export interface ConnectorDefinition<Options = Record<string, unknown>> {
  /** Stable connector name, e.g. `shopify`. */
  name: string;
  /** The SDK contract version the plugin was written against: {@link CONTRACT_VERSION}. */
  contractVersion: number;
  /** JSON Schema for the channel's `options`; checked by the host before `create` runs. */
  optionsSchema: JsonSchema;
  capabilities: ConnectorCapabilities;
  /** Called once per channel at hub start with options already validated and secrets resolved. */
  create(options: Options, context: ConnectorContext): ConnectorInstance | Promise<ConnectorInstance>;
  /**
   * Optional. Starts a local simulator of this channel's API, used by tests, the demo and `stockrelay bench`.
   * Returns the base URL and the options a channel needs to talk to it.
   */
  simulator?: SimulatorFactory<Options>;
}

export interface SimulatorHandle<Options = Record<string, unknown>> {
  /** Base URL the simulator listens on. */
  url: string;
  /** Connector options that point a channel at this simulator with valid credentials for `skus`. */
  connectorOptions(skus: readonly string[]): Options;
  /** What the simulated channel shows now for a hub SKU (undefined when unknown). */
  shown(sku: string): number | undefined;
  /** Sets what the simulated channel shows for a hub SKU, as if the channel changed it itself. */
  setShown(sku: string, quantity: number): void;
  /** Counters the simulator keeps: at least `requests`, `throttled` (429/THROTTLED answers) and `itemsWritten`. */
  stats(): Record<string, number>;
  /**
   * Makes the simulated API misbehave until cleared with `null`. Throws, naming the kind, for a fault
   * kind this simulator does not implement (and for parameters out of range): no test can then believe
   * it injected a fault that never happened.
   */
  setFault(fault: SimulatorFault | null): void;
  /**
   * Optional: every fault kind `setFault` accepts (the kit's server lists them as `faults`). Tools read it
   * to report what a simulator cannot do as skipped; without it they try `setFault` and read the refusal.
   */
  faults?: readonly SimulatorFault['kind'][];
  /**
   * Optional, for channels that emit order webhooks: where the simulator delivers them
   * (the hub's `/webhooks/<channel>` URL), signed the way the channel signs them.
   */
  setWebhookTarget?(url: string): void;
  /**
   * Optional, for channels that sign webhooks: the headers the real channel would send with `rawBody`,
   * signed with the secret `connectorOptions` configures. Lets tests and the conformance kit send any
   * body (fuzzed, malformed, another topic) exactly as the channel would sign it.
   */
  signWebhook?(rawBody: Buffer, headers?: Readonly<Record<string, string>>): Record<string, string>;
  /**
   * Optional: a shopper buys on this channel. The simulator lowers what it shows, records the order,
   * and emits it the way the real channel does (webhook, id-only webhook, or queue for `pollOrders`).
   */
  placeOrder?(lines: ReadonlyArray<{ sku: string; qty: number }>, delivery?: WebhookDelivery): Promise<{ orderId: string }>;
  close(): Promise<void>;
}

export type SimulatorFault =
  /** Every request fails with 503 (or the channel's outage shape). */
  | { kind: 'down' }
  /** Every request is throttled (429 / THROTTLED) and told to retry after `retryAfterMs`. */
  | { kind: 'throttle'; retryAfterMs: number }
  /** Writes are applied, then the connection is dropped before the response is sent. */
  | { kind: 'drop-after-write' }
  /** Every request fails with a 5xx server error (500 unless `status` says otherwise). */
  | { kind: 'server-error'; status?: number }
  /** Requests are never answered (the connection stays open until the client gives up). */
  | { kind: 'hang' }
  /**
   * Writes are held `ms` before the channel applies them (and answers): a write the client gave up on
   * still lands later, as a slow real API does.
   */
  | { kind: 'hold-writes'; ms: number }
  /** Requests fail with an error body that echoes the request (headers included), as some APIs do. */
  | { kind: 'echo-errors' }
  /** Writes for these SKUs are refused per item as locked or busy (the channel's own per-item answer). */
  | { kind: 'item-locked'; skus: readonly string[] }
  /** Writes for these SKUs are refused per item as unknown on the channel (no such listing, offer or variant). */
  | { kind: 'item-unknown'; skus: readonly string[] };

export interface WebhookDelivery {
  /** Deliver the same webhook this many times (default 1). */
  times?: number;
  /** Deliver the order's later webhook (e.g. `orders/updated`) before the first. */
  outOfOrder?: boolean;
  /**
   * The order is recorded on the channel (its orders API lists it) but its notification is lost for
   * good: no webhook is sent and nothing reaches the queue `pollOrders` reads.
   */
  drop?: boolean;
}

export interface SimulatorOptions {
  /** Port to listen on; 0 picks a free one. */
  port?: number;
  /** Added latency per request, in ms: `p50` median and `p99`; 0 for none. */
  latency?: { p50: number; p99: number };
  /** Override the channel's rate limit, for tests. */
  rateLimit?: { perSecond: number; burst: number };
  /** Hub SKUs the simulated channel lists, with their starting quantity. */
  skus?: Record<string, number>;
  /**
   * Lifetime of the access tokens the simulator issues, ms, for channels with OAuth tokens. Default: the
   * real channel's lifetime. Short lifetimes make tests exercise token refresh.
   */
  tokenLifetimeMs?: number;
}

export type SimulatorFactory<Options = Record<string, unknown>> = (options: SimulatorOptions) => Promise<SimulatorHandle<Options>>;

/**
 * Makes a connector plugin. The object is returned as is (frozen): the host checks `contractVersion`,
 * validates options against `optionsSchema`, then calls `create`.
 */
export function defineConnector<Options = Record<string, unknown>>(definition: ConnectorDefinition<Options>): ConnectorDefinition<Options> {
  return Object.freeze({ ...definition });
}
