import type { ChannelLimits } from '../config/config-types.ts';
import type { EffectiveLimits } from '../dispatch/dispatch-types.ts';
import type { ConnectorCapabilities } from '../sdk.ts';

/** In-flight pushes per channel when neither the connector nor the config says. */
export const DEFAULT_CONCURRENCY = 4;

/**
 * A channel's limits: the connector's declared capabilities with the config's overrides applied.
 * The batch size can only be lowered, since the channel's API refuses bigger batches whatever the config says.
 */
export function effectiveLimits(capabilities: ConnectorCapabilities, limits: ChannelLimits): EffectiveLimits {
  const result: EffectiveLimits = {
    maxBatchSize: Math.min(capabilities.maxBatchSize, limits.maxBatchSize ?? capabilities.maxBatchSize),
    perSecond: limits.perSecond ?? capabilities.rateLimit.perSecond,
    burst: limits.burst ?? capabilities.rateLimit.burst,
    concurrency: limits.concurrency ?? capabilities.maxConcurrency ?? DEFAULT_CONCURRENCY,
    compareAndSet: capabilities.compareAndSet ?? false,
  };
  if (capabilities.dailyRevisionsPerSku !== undefined) result.dailyRevisionsPerSku = capabilities.dailyRevisionsPerSku;
  return Object.freeze(result);
}
