import type { ChannelLimits } from '../config/config-types.ts';
import type { EffectiveLimits } from '../dispatch/dispatch-types.ts';
import { defaultConcurrency } from '../dispatch/default-concurrency.ts';
import type { ConnectorCapabilities } from '../sdk.ts';

export { DEFAULT_CONCURRENCY } from '../dispatch/default-concurrency.ts';

/**
 * A channel's limits: the connector's declared capabilities with the config's overrides applied.
 * The batch size can only be lowered, since the channel's API refuses bigger batches whatever the config says.
 */
export function effectiveLimits(capabilities: ConnectorCapabilities, limits: ChannelLimits): EffectiveLimits {
  const perSecond = limits.perSecond ?? capabilities.rateLimit.perSecond;
  const result: EffectiveLimits = {
    maxBatchSize: Math.min(capabilities.maxBatchSize, limits.maxBatchSize ?? capabilities.maxBatchSize),
    perSecond,
    burst: limits.burst ?? capabilities.rateLimit.burst,
    // The connector knows its API's ceiling; without one, enough calls to use the rate (default-concurrency.ts).
    concurrency: limits.concurrency ?? capabilities.maxConcurrency ?? defaultConcurrency(perSecond),
    compareAndSet: capabilities.compareAndSet ?? false,
  };
  if (capabilities.dailyRevisionsPerSku !== undefined) result.dailyRevisionsPerSku = capabilities.dailyRevisionsPerSku;
  const bulk = capabilities.bulk;
  if (bulk && limits.bulk !== false) {
    result.bulk = Object.freeze({
      maxBatchSize: bulk.maxBatchSize,
      perSecond: bulk.rateLimit.perSecond,
      burst: bulk.rateLimit.burst,
      concurrency: bulk.maxConcurrency ?? 1,
      expectedDurationMs: bulk.expectedDurationMs,
      maxDurationMs: bulk.maxDurationMs,
    });
  }
  return Object.freeze(result);
}
