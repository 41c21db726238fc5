/**
 * One catalogue of errors, and the errors a connector plugin throws. Each entry holds a stable code, the
 * HTTP status an answer carrying it has, and its message template (`%s` is filled in, in order, by the
 * place that raises it). The `code` of an error decides what the host does with it:
 * `SR_CONNECTOR_RETRYABLE` is retried with backoff, `SR_CONNECTOR_THROTTLED` pauses the channel,
 * `SR_CONNECTOR_REJECTED` goes to the dead-letter stream at once. The README lists every code; a test
 * keeps the two in step.
 *
 * This module is part of the public SDK (`core/sdk.ts` re-exports it). Errors only the host raises live
 * in `host-errors.ts`, reached through the internal entry `core/internal.ts`.
 */

/** One entry of the catalogue. */
export interface ErrorDefinition {
  /** Stable, never reused: clients and plugins branch on it. */
  readonly code: `SR_${string}`;
  /** The status of an HTTP answer carrying this code (errors that never reach HTTP on their own say 500). */
  readonly status: number;
  /** The message; each `%s` is replaced, in order, by the arguments given where the error is raised. */
  readonly message: string;
}

export const ErrorCatalogue = Object.freeze({
  // Configuration and the command line
  CONFIG_INVALID: { code: 'SR_CONFIG_INVALID', status: 500, message: '%s' },
  CONFIG_SECRET_MISSING: { code: 'SR_CONFIG_SECRET_MISSING', status: 500, message: '%s' },
  CONFIG_READ: { code: 'SR_CONFIG_READ', status: 500, message: 'config file %s %s' },
  USAGE: { code: 'SR_USAGE', status: 400, message: '%s' },
  // Plugins
  PLUGIN_NOT_FOUND: { code: 'SR_PLUGIN_NOT_FOUND', status: 500, message: 'channel "%s": %s' },
  PLUGIN_INVALID: { code: 'SR_PLUGIN_INVALID', status: 500, message: 'channel "%s": %s' },
  PLUGIN_CONTRACT: { code: 'SR_PLUGIN_CONTRACT', status: 500, message: 'channel "%s": %s' },
  PLUGIN_OPTIONS: { code: 'SR_PLUGIN_OPTIONS', status: 500, message: 'channel "%s": %s' },
  PLUGIN_CREATE: { code: 'SR_PLUGIN_CREATE', status: 500, message: 'channel "%s": %s' },
  PLUGIN_FAILED: { code: 'SR_PLUGIN_FAILED', status: 500, message: 'channel "%s": %s' },
  // Events and what connectors report
  EVENT_INVALID: { code: 'SR_EVENT_INVALID', status: 400, message: '%s' },
  CONNECTOR_RETRYABLE: { code: 'SR_CONNECTOR_RETRYABLE', status: 503, message: '%s' },
  CONNECTOR_THROTTLED: { code: 'SR_CONNECTOR_THROTTLED', status: 503, message: '%s' },
  CONNECTOR_REJECTED: { code: 'SR_CONNECTOR_REJECTED', status: 502, message: '%s' },
  PUSH_TIMEOUT: { code: 'SR_PUSH_TIMEOUT', status: 504, message: 'push timed out after %s ms' },
  PUSH_RESULT_INVALID: { code: 'SR_PUSH_RESULT_INVALID', status: 502, message: '%s' },
  // Webhooks (answers to a channel)
  WEBHOOK_SIGNATURE: { code: 'SR_WEBHOOK_SIGNATURE', status: 401, message: '%s' },
  WEBHOOK_PAYLOAD: { code: 'SR_WEBHOOK_PAYLOAD', status: 400, message: '%s' },
  WEBHOOK_CHANNEL_UNKNOWN: { code: 'SR_WEBHOOK_CHANNEL_UNKNOWN', status: 404, message: 'no channel "%s" accepts webhooks' },
  WEBHOOK_TIMEOUT: { code: 'SR_WEBHOOK_TIMEOUT', status: 503, message: 'the webhook was not handled within %s ms; deliver it again' },
  WEBHOOK_FAILED: { code: 'SR_WEBHOOK_FAILED', status: 503, message: 'the webhook could not be handled now; deliver it again' },
  // The hub's own state
  CHANNEL_FENCED: { code: 'SR_CHANNEL_FENCED', status: 500, message: 'channel "%s": state write refused: this process\'s lease (epoch %s) was taken over by another' },
  LEDGER_CONFLICT: { code: 'SR_LEDGER_CONFLICT', status: 503, message: 'ledger batch still conflicted after %s attempts; nothing was committed' },
  BUS_UNAVAILABLE: { code: 'SR_BUS_UNAVAILABLE', status: 503, message: '%s' },
  DATABASE_UNAVAILABLE: { code: 'SR_DATABASE_UNAVAILABLE', status: 503, message: 'database %s: %s' },
  MIGRATION_FAILED: { code: 'SR_MIGRATION_FAILED', status: 500, message: 'ledger migration "%s" failed%s' },
  CONNECTOR_STATE_INVALID: { code: 'SR_CONNECTOR_STATE_INVALID', status: 500, message: 'channel "%s": connector state key %s: %s' },
  // HTTP API answers
  UNAUTHORIZED: { code: 'SR_UNAUTHORIZED', status: 401, message: '%s' },
  FORBIDDEN: { code: 'SR_FORBIDDEN', status: 403, message: '%s' },
  INVALID_REQUEST: { code: 'SR_INVALID_REQUEST', status: 400, message: '%s' },
  BODY_TOO_LARGE: { code: 'SR_BODY_TOO_LARGE', status: 413, message: 'the request body is larger than %s bytes' },
  UNSUPPORTED_MEDIA_TYPE: { code: 'SR_UNSUPPORTED_MEDIA_TYPE', status: 415, message: 'the content type %s is not accepted here' },
  ROUTE_NOT_FOUND: { code: 'SR_ROUTE_NOT_FOUND', status: 404, message: 'no route %s %s' },
  CHANNEL_NOT_FOUND: { code: 'SR_CHANNEL_NOT_FOUND', status: 404, message: 'no channel "%s" in the config' },
  SKU_NOT_FOUND: { code: 'SR_SKU_NOT_FOUND', status: 404, message: 'neither the ledger nor channel "%s" knows SKU "%s"' },
  DEAD_LETTER_NOT_FOUND: { code: 'SR_DEAD_LETTER_NOT_FOUND', status: 404, message: 'no dead letter #%s' },
  DEAD_LETTER_NOT_REPLAYABLE: { code: 'SR_DEAD_LETTER_NOT_REPLAYABLE', status: 409, message: '%s' },
  INTERNAL: { code: 'SR_INTERNAL', status: 500, message: 'the hub could not answer this request; its log says why' },
} as const satisfies Record<string, ErrorDefinition>);

type Catalogue = typeof ErrorCatalogue;

/** The codes of the catalogue by name: `ErrorCodes.CONNECTOR_THROTTLED === 'SR_CONNECTOR_THROTTLED'`. */
export const ErrorCodes = Object.freeze(Object.fromEntries(Object.entries(ErrorCatalogue).map(([name, entry]) => [name, entry.code]))) as {
  readonly [Name in keyof Catalogue]: Catalogue[Name]['code'];
};

export type ErrorCode = Catalogue[keyof Catalogue]['code'];

const BY_CODE: ReadonlyMap<string, ErrorDefinition> = new Map(Object.values(ErrorCatalogue).map((entry) => [entry.code, entry]));

/** The catalogue entry of a code, or undefined for a code the catalogue does not hold. */
export function errorDefinition(code: string): ErrorDefinition | undefined {
  return BY_CODE.get(code);
}

/** The message of `code` with its `%s` filled in by `args` in order (a missing argument leaves `%s`). */
export function formatErrorMessage(code: ErrorCode, args: readonly (string | number)[]): string {
  let next = 0;
  return (BY_CODE.get(code)?.message ?? '%s').replace(/%s/g, (hole) => (next < args.length ? String(args[next++]) : hole));
}

export class StockrelayError extends Error {
  override name = 'StockrelayError';
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }

  /** The HTTP status of this error's catalogue entry (as Fastify's errors carry `statusCode`). */
  get statusCode(): number {
    return BY_CODE.get(this.code)?.status ?? 500;
  }
}

/** One problem found while validating user input, with the JSON path of the offending field. */
export interface Problem {
  path: string;
  message: string;
}

/** A transient failure: the host retries with exponential backoff and jitter. */
export class RetryableError extends StockrelayError {
  override name = 'RetryableError';
  /** Milliseconds the channel asked us to wait, when it said so. */
  readonly retryAfterMs: number | undefined;
  constructor(message: string, options?: { retryAfterMs?: number; cause?: unknown }) {
    super(ErrorCodes.CONNECTOR_RETRYABLE, message, options);
    this.retryAfterMs = options?.retryAfterMs;
  }
}

/** The channel throttled us (429, THROTTLED): the host pauses the whole channel for `retryAfterMs`. */
export class ThrottledError extends RetryableError {
  override name = 'ThrottledError';
  constructor(message: string, options?: { retryAfterMs?: number; cause?: unknown }) {
    super(message, options);
    (this as { code: ErrorCode }).code = ErrorCodes.CONNECTOR_THROTTLED;
  }
}

/** The channel refused the request for good (bad credentials, unknown id): not retried. */
export class RejectedError extends StockrelayError {
  override name = 'RejectedError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(ErrorCodes.CONNECTOR_REJECTED, message, options);
  }
}

/** A webhook whose signature is missing or wrong. The ingress answers 401 and changes nothing. */
export class WebhookSignatureError extends StockrelayError {
  override name = 'WebhookSignatureError';
  constructor(message: string) {
    super(ErrorCodes.WEBHOOK_SIGNATURE, message);
  }
}

/** A webhook that is signed correctly but whose body the connector cannot turn into events. */
export class WebhookPayloadError extends StockrelayError {
  override name = 'WebhookPayloadError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(ErrorCodes.WEBHOOK_PAYLOAD, message, options);
  }
}

/*
 * Errors are classified by their stable `code`, never by class identity: a plugin installed from npm
 * carries its own copy of this module, so its `ThrottledError` is another class than the host's, yet it
 * still says `code: 'SR_CONNECTOR_THROTTLED'`.
 */
const KNOWN_CODES: ReadonlySet<string> = new Set(Object.values(ErrorCodes));

function codeOf(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}

/** An error carrying one of the catalogue's codes, whichever copy of the SDK made it. */
export const isStockrelayError = (err: unknown): err is StockrelayError => err instanceof Error && KNOWN_CODES.has(codeOf(err) ?? '');
/** Retryable or throttled (a throttle is a kind of retryable failure). */
export const isRetryableError = (err: unknown): err is RetryableError =>
  err instanceof Error && (codeOf(err) === ErrorCodes.CONNECTOR_RETRYABLE || codeOf(err) === ErrorCodes.CONNECTOR_THROTTLED);
export const isThrottledError = (err: unknown): err is ThrottledError => err instanceof Error && codeOf(err) === ErrorCodes.CONNECTOR_THROTTLED;
export const isRejectedError = (err: unknown): err is RejectedError => err instanceof Error && codeOf(err) === ErrorCodes.CONNECTOR_REJECTED;
export const isWebhookSignatureError = (err: unknown): err is WebhookSignatureError => err instanceof Error && codeOf(err) === ErrorCodes.WEBHOOK_SIGNATURE;
export const isWebhookPayloadError = (err: unknown): err is WebhookPayloadError => err instanceof Error && codeOf(err) === ErrorCodes.WEBHOOK_PAYLOAD;

/** The `retryAfterMs` an error carries, when it is a finite, non-negative number (any SDK copy). */
export function retryAfterOf(err: unknown): number | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const value = (err as { retryAfterMs?: unknown }).retryAfterMs;
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : undefined;
}

/** Turns anything thrown into a message fit for a log line or a dead-letter reason. */
export function describeError(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
