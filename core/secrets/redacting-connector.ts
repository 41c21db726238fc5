import type { ConnectorInstance, PushResult } from '../sdk.ts';
import type { SecretRegistry } from './secret-registry.ts';

/**
 * A connector instance whose every error and per-item reason leaves with the known secrets masked.
 * Channel errors often echo the request (headers, credentials): masked here, at the plugin boundary,
 * nothing downstream (logs, dead letters, `lastError`, API answers) ever holds them. Optional members
 * stay optional, so the host still feature-detects them.
 */
export function redactingConnector(instance: ConnectorInstance, secrets: SecretRegistry): ConnectorInstance {
  const guard = async <T>(work: () => Promise<T>): Promise<T> => {
    try {
      return await work();
    } catch (err) {
      scrubError(err, secrets);
      throw err;
    }
  };
  const wrapped: ConnectorInstance = {
    push: (updates, signal) => guard(async () => redactResults(await instance.push(updates, signal), secrets)),
  };
  if (instance.pushBulk) wrapped.pushBulk = (updates, signal) => guard(async () => redactResults(await instance.pushBulk!(updates, signal), secrets));
  if (instance.handleWebhook) wrapped.handleWebhook = (request, signal) => guard(() => instance.handleWebhook!(request, signal));
  if (instance.pollOrders) wrapped.pollOrders = (signal) => guard(() => instance.pollOrders!(signal));
  if (instance.fetchQuantities) wrapped.fetchQuantities = (skus, signal) => guard(() => instance.fetchQuantities!(skus, signal));
  if (instance.listOrders) wrapped.listOrders = (cursor, signal) => guard(() => instance.listOrders!(cursor, signal));
  if (instance.listListings) wrapped.listListings = (cursor, signal) => guard(() => instance.listListings!(cursor, signal));
  if (instance.close) wrapped.close = () => guard(() => instance.close!());
  return wrapped;
}

function redactResults(results: PushResult[], secrets: SecretRegistry): PushResult[] {
  if (!Array.isArray(results)) return results;
  return results.map((result) => {
    if (typeof result !== 'object' || result === null || !('reason' in result) || typeof result.reason !== 'string') return result;
    return { ...result, reason: secrets.redact(result.reason) };
  });
}

/** Masks secrets in an error's message and stack, and its causes', in place (as far as they allow). */
export function scrubError(err: unknown, secrets: SecretRegistry, depth = 0): void {
  if (typeof err !== 'object' || err === null || depth > 8) return;
  const target = err as { message?: unknown; stack?: unknown; cause?: unknown };
  try {
    if (typeof target.message === 'string') target.message = secrets.redact(target.message);
    if (typeof target.stack === 'string') target.stack = secrets.redact(target.stack);
  } catch {
    // a frozen error keeps its text; the logger still masks it on the way out
  }
  scrubError(target.cause, secrets, depth + 1);
}
