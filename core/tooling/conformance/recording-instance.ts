import type { ConnectorInstance } from '../../sdk.ts';

/** One error that escaped a connector member during a conformance run. */
export interface ThrownRecord {
  member: (typeof MEMBERS)[number];
  error: unknown;
  /** The call's signal had aborted when it threw: any error is then acceptable. */
  aborted: boolean;
}

const MEMBERS = ['push', 'handleWebhook', 'pollOrders', 'fetchQuantities', 'listOrders', 'listListings'] as const;

/**
 * Wraps `instance` so every error escaping one of its calls is appended to `sink` (and rethrown
 * unchanged). The wrapper has exactly the members the instance has; anything that is not an instance
 * with a push function is returned as is, for the create check to judge.
 */
export function recordThrown(instance: ConnectorInstance, sink: ThrownRecord[]): ConnectorInstance {
  if (typeof instance !== 'object' || instance === null || typeof instance.push !== 'function') return instance;
  const wrapped: Record<string, unknown> = { ...instance };
  for (const member of MEMBERS) {
    const original = instance[member];
    if (typeof original !== 'function') continue;
    const bound = (original as (...args: unknown[]) => Promise<unknown>).bind(instance);
    wrapped[member] = async (...args: unknown[]): Promise<unknown> => {
      try {
        return await bound(...args);
      } catch (error) {
        const signal = args.find((arg): arg is AbortSignal => arg instanceof AbortSignal);
        sink.push({ member, error, aborted: signal?.aborted ?? false });
        throw error;
      }
    };
  }
  return wrapped as unknown as ConnectorInstance;
}
