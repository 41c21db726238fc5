/**
 * Errors only the host raises: bad configuration, a plugin that cannot be loaded, an invalid event, the
 * hub's own push timeout. They are not part of the public SDK (a plugin never throws them); host code
 * reaches them through the internal entry `core/internal.ts`.
 */
import { ErrorCodes, formatErrorMessage, StockrelayError, type ErrorCode, type Problem } from './errors.ts';

/** A configuration file, or another input a user wrote, is invalid; `problems` names each field. */
export class ConfigError extends StockrelayError {
  override name = 'ConfigError';
  readonly problems: readonly Problem[];
  constructor(message: string, problems: readonly Problem[] = [], code: ErrorCode = ErrorCodes.CONFIG_INVALID, options?: { cause?: unknown }) {
    super(code, message, options);
    this.problems = problems;
  }
}

/**
 * A command line that cannot be run as given (a missing argument, a flag out of range): the CLI prints
 * the message, usually with the command's usage, and exits 1. Not a configuration problem: nothing in a
 * file needs fixing.
 */
export class UsageError extends StockrelayError {
  override name = 'UsageError';
  constructor(message: string) {
    super(ErrorCodes.USAGE, message);
  }
}

/**
 * A dead letter that cannot be replayed as it is (a push letter without a channel, or for a channel this
 * hub does not run): the HTTP API answers 409; the operator discards it or replays it elsewhere.
 */
export class ReplayRefusedError extends StockrelayError {
  override name = 'ReplayRefusedError';
  constructor(message: string) {
    super(ErrorCodes.DEAD_LETTER_NOT_REPLAYABLE, message);
  }
}

/** Codes an HTTP route raises on purpose; each answers with its catalogue status. */
export type HttpErrorCode =
  | typeof ErrorCodes.UNAUTHORIZED
  | typeof ErrorCodes.FORBIDDEN
  | typeof ErrorCodes.INVALID_REQUEST
  | typeof ErrorCodes.BODY_TOO_LARGE
  | typeof ErrorCodes.UNSUPPORTED_MEDIA_TYPE
  | typeof ErrorCodes.ROUTE_NOT_FOUND
  | typeof ErrorCodes.CHANNEL_NOT_FOUND
  | typeof ErrorCodes.SKU_NOT_FOUND
  | typeof ErrorCodes.DEAD_LETTER_NOT_FOUND
  | typeof ErrorCodes.DEAD_LETTER_NOT_REPLAYABLE
  | typeof ErrorCodes.WEBHOOK_SIGNATURE
  | typeof ErrorCodes.WEBHOOK_PAYLOAD
  | typeof ErrorCodes.WEBHOOK_CHANNEL_UNKNOWN
  | typeof ErrorCodes.WEBHOOK_TIMEOUT
  | typeof ErrorCodes.WEBHOOK_FAILED
  | typeof ErrorCodes.BUS_UNAVAILABLE
  | typeof ErrorCodes.INTERNAL;

/**
 * An answer of the HTTP API that is not a success: its message is the catalogue template of `code`
 * filled in with `args`; `problems` names each invalid field of a request. The hub's error handler
 * turns it into the one error body (see `core/http/error-body.ts`).
 */
export class HttpError extends StockrelayError {
  override name = 'HttpError';
  readonly problems: readonly Problem[] | undefined;
  constructor(code: HttpErrorCode, args: readonly (string | number)[] = [], options?: { problems?: readonly Problem[]; cause?: unknown }) {
    super(code, formatErrorMessage(code, args), options);
    this.problems = options?.problems;
  }
}

/** A connector plugin could not be loaded or started. Always names the channel. */
export class PluginError extends StockrelayError {
  override name = 'PluginError';
  readonly channelId: string;
  constructor(code: ErrorCode, channelId: string, message: string, options?: { cause?: unknown }) {
    // Always `channel "<id>": <message>` (the PLUGIN_* template), whatever code the plugin's own error had.
    super(code, `channel "${channelId}": ${message}`, options);
    this.channelId = channelId;
  }
}

/** An event failed its JSON Schema; `problems` names each offending field. */
export class EventValidationError extends StockrelayError {
  override name = 'EventValidationError';
  readonly problems: readonly Problem[];
  constructor(message: string, problems: readonly Problem[] = []) {
    super(ErrorCodes.EVENT_INVALID, message);
    this.problems = problems;
  }
}

/** The hub gave up waiting for a push call (`dispatch.pushTimeoutMs`): the host's own error, never a plugin's. */
export class PushTimeoutError extends StockrelayError {
  override name = 'PushTimeoutError';
  readonly timeoutMs: number;
  constructor(timeoutMs: number) {
    super(ErrorCodes.PUSH_TIMEOUT, formatErrorMessage(ErrorCodes.PUSH_TIMEOUT, [timeoutMs]));
    this.timeoutMs = timeoutMs;
  }
}

/** The hub's own push timeout, told apart by its code like every other error. */
export const isPushTimeoutError = (err: unknown): err is PushTimeoutError =>
  err instanceof Error && (err as { code?: unknown }).code === ErrorCodes.PUSH_TIMEOUT;
