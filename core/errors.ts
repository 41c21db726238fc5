/**
 * One catalogue of error codes, and the errors a connector plugin throws. The `code` of an error decides
 * what the host does with it: `SR_CONNECTOR_RETRYABLE` is retried with backoff, `SR_CONNECTOR_THROTTLED`
 * pauses the channel, `SR_CONNECTOR_REJECTED` goes to the dead-letter stream at once.
 *
 * This module is part of the public SDK (`core/sdk.ts` re-exports it). Errors only the host raises live
 * in `host-errors.ts`, reached through the internal entry `core/internal.ts`.
 */
export const ErrorCodes = {
  CONFIG_INVALID: 'SR_CONFIG_INVALID',
  CONFIG_SECRET_MISSING: 'SR_CONFIG_SECRET_MISSING',
  CONFIG_READ: 'SR_CONFIG_READ',
  PLUGIN_NOT_FOUND: 'SR_PLUGIN_NOT_FOUND',
  PLUGIN_INVALID: 'SR_PLUGIN_INVALID',
  PLUGIN_CONTRACT: 'SR_PLUGIN_CONTRACT',
  PLUGIN_OPTIONS: 'SR_PLUGIN_OPTIONS',
  PLUGIN_CREATE: 'SR_PLUGIN_CREATE',
  PLUGIN_FAILED: 'SR_PLUGIN_FAILED',
  EVENT_INVALID: 'SR_EVENT_INVALID',
  CONNECTOR_RETRYABLE: 'SR_CONNECTOR_RETRYABLE',
  CONNECTOR_THROTTLED: 'SR_CONNECTOR_THROTTLED',
  CONNECTOR_REJECTED: 'SR_CONNECTOR_REJECTED',
  WEBHOOK_SIGNATURE: 'SR_WEBHOOK_SIGNATURE',
  WEBHOOK_PAYLOAD: 'SR_WEBHOOK_PAYLOAD',
  PUSH_TIMEOUT: 'SR_PUSH_TIMEOUT',
  PUSH_RESULT_INVALID: 'SR_PUSH_RESULT_INVALID',
  CHANNEL_FENCED: 'SR_CHANNEL_FENCED',
  LEDGER_CONFLICT: 'SR_LEDGER_CONFLICT',
  BUS_UNAVAILABLE: 'SR_BUS_UNAVAILABLE',
  DATABASE_UNAVAILABLE: 'SR_DATABASE_UNAVAILABLE',
  MIGRATION_FAILED: 'SR_MIGRATION_FAILED',
  CONNECTOR_STATE_INVALID: 'SR_CONNECTOR_STATE_INVALID',
} as const;

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

export class StockrelayError extends Error {
  override name = 'StockrelayError';
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
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
