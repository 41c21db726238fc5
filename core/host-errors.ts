/**
 * Errors only the host raises: bad configuration, a plugin that cannot be loaded, an invalid event, the
 * hub's own push timeout. They are not part of the public SDK (a plugin never throws them); host code
 * reaches them through the internal entry `core/internal.ts`.
 */
import { ErrorCodes, StockrelayError, type ErrorCode, type Problem } from './errors.ts';

/** A configuration file, or another input a user wrote, is invalid; `problems` names each field. */
export class ConfigError extends StockrelayError {
  override name = 'ConfigError';
  readonly problems: readonly Problem[];
  constructor(message: string, problems: readonly Problem[] = [], code: ErrorCode = ErrorCodes.CONFIG_INVALID, options?: { cause?: unknown }) {
    super(code, message, options);
    this.problems = problems;
  }
}

/** A connector plugin could not be loaded or started. Always names the channel. */
export class PluginError extends StockrelayError {
  override name = 'PluginError';
  readonly channelId: string;
  constructor(code: ErrorCode, channelId: string, message: string, options?: { cause?: unknown }) {
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
    super(ErrorCodes.PUSH_TIMEOUT, `push timed out after ${timeoutMs} ms`);
    this.timeoutMs = timeoutMs;
  }
}

/** The hub's own push timeout, told apart by its code like every other error. */
export const isPushTimeoutError = (err: unknown): err is PushTimeoutError =>
  err instanceof Error && (err as { code?: unknown }).code === ErrorCodes.PUSH_TIMEOUT;
