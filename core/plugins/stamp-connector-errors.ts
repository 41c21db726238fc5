import type { ConnectorInstance } from '../sdk.ts';
import { ErrorCodes, PluginError, isStockrelayError, retryAfterOf } from '../internal.ts';

/** An error that escaped a connector, marked with the channel it came from. */
export type StampedError = Error & { channelId: string };

/**
 * Marks `err` as coming from `channelId`: sets `err.channelId` and prefixes the message with
 * `channel "<id>": `. The error object itself is kept, so its class and `code` still decide what the
 * host does (retry, pause, dead-letter). Stamping twice changes nothing. A thrown non-error becomes a
 * {@link PluginError} (`SR_PLUGIN_FAILED`).
 */
export function stampError(err: unknown, channelId: string): StampedError {
  if (!(err instanceof Error)) {
    return new PluginError(ErrorCodes.PLUGIN_FAILED, channelId, `connector threw a non-error value: ${String(err)}`, { cause: err });
  }
  const prefix = `channel "${channelId}": `;
  try {
    if (!err.message.startsWith(prefix)) {
      const original = err.message;
      // defineProperty, not assignment: DOMException (AbortError) keeps `message` as a getter without a setter.
      Object.defineProperty(err, 'message', { value: prefix + original, writable: true, configurable: true, enumerable: false });
      if (typeof err.stack === 'string' && original !== '' && err.stack.includes(original)) {
        Object.defineProperty(err, 'stack', { value: err.stack.replace(original, prefix + original), writable: true, configurable: true, enumerable: false });
      }
    }
    Object.defineProperty(err, 'channelId', { value: channelId, writable: true, configurable: true, enumerable: true });
    return err as StampedError;
  } catch {
    return wrapFrozen(err, channelId);
  }
}

/**
 * A frozen error cannot be marked: it is wrapped, kept as the cause, and the wrapper carries its catalogue
 * `code` and `retryAfterMs`, so a frozen throttle still pauses the channel instead of burning attempts.
 */
function wrapFrozen(err: Error, channelId: string): StampedError {
  const wrapped = new PluginError(isStockrelayError(err) ? err.code : ErrorCodes.PLUGIN_FAILED, channelId, err.message, { cause: err });
  const retryAfterMs = retryAfterOf(err);
  if (retryAfterMs !== undefined) Object.defineProperty(wrapped, 'retryAfterMs', { value: retryAfterMs, enumerable: true });
  return wrapped;
}

/**
 * Wraps a connector instance so every error escaping one of its members is stamped with the channel id
 * ({@link stampError}). Optional members stay optional: the wrapper has exactly the members the instance has,
 * so the host can still feature-detect them.
 */
export function stampConnectorErrors(instance: ConnectorInstance, channelId: string): ConnectorInstance {
  const guard = async <T>(call: () => Promise<T>): Promise<T> => {
    try {
      return await call();
    } catch (err) {
      throw stampError(err, channelId);
    }
  };
  const wrapped: ConnectorInstance = {
    push: (updates, signal) => guard(() => instance.push(updates, signal)),
  };
  if (typeof instance.pushBulk === 'function') {
    const pushBulk = instance.pushBulk.bind(instance);
    wrapped.pushBulk = (updates, signal) => guard(() => pushBulk(updates, signal));
  }
  if (typeof instance.handleWebhook === 'function') {
    const handleWebhook = instance.handleWebhook.bind(instance);
    wrapped.handleWebhook = (request, signal) => guard(() => handleWebhook(request, signal));
  }
  if (typeof instance.pollOrders === 'function') {
    const pollOrders = instance.pollOrders.bind(instance);
    wrapped.pollOrders = (signal) => guard(() => pollOrders(signal));
  }
  if (typeof instance.fetchQuantities === 'function') {
    const fetchQuantities = instance.fetchQuantities.bind(instance);
    wrapped.fetchQuantities = (skus, signal) => guard(() => fetchQuantities(skus, signal));
  }
  if (typeof instance.listOrders === 'function') {
    const listOrders = instance.listOrders.bind(instance);
    wrapped.listOrders = (cursor, signal) => guard(() => listOrders(cursor, signal));
  }
  if (typeof instance.listListings === 'function') {
    const listListings = instance.listListings.bind(instance);
    wrapped.listListings = (cursor, signal) => guard(() => listListings(cursor, signal));
  }
  if (typeof instance.close === 'function') {
    const close = instance.close.bind(instance);
    wrapped.close = () => guard(() => close());
  }
  return Object.freeze(wrapped);
}
