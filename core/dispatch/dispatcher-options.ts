import { ConfigError } from '../internal.ts';
import type { Logger } from '../sdk.ts';
import type { Clock } from './clock.ts';
import type { DispatcherOptions } from './dispatch-types.ts';
import type { LastUnitsView } from './last-units.ts';
import type { SalesRate } from './sales-rate.ts';

export interface ChannelDispatcherOptions extends DispatcherOptions {
  /** Where store outages and connector surprises are reported (the channel is bound to every record). Default: warnings and errors to stderr. */
  logger?: Logger;
  /** Source of jitter, [0, 1). Default `Math.random`. */
  random?: () => number;
  /** Time and timers: pacing, backoff, deadlines and the reconcile pass. Default: the system clock. */
  clock?: Clock;
  /**
   * The SKUs' sales rates, shared by every dispatcher of a process and fed by its owner with each commit
   * (see {@link recordSales}) on the same clock. Default: one of the dispatcher's own, fed from `notify`.
   */
  sales?: SalesRate;
  /** Which channel alone offers a SKU's last units, shared by every dispatcher of a hub. Default: none. */
  lastUnits?: LastUnitsView;
}

/**
 * Checks the numbers a dispatcher runs on, all at once, and returns a frozen copy. The hub's config
 * schema and plugin loader check them first; this guards code that builds a dispatcher directly (the
 * bench, tests, an embedding), where a zero batch size or rate would spin or stall the channel silently.
 */
export function checkedDispatcherOptions(options: ChannelDispatcherOptions): Readonly<ChannelDispatcherOptions> {
  const { limits } = options;
  const problems: string[] = [];
  if (!Number.isInteger(limits.maxBatchSize) || limits.maxBatchSize < 1) problems.push(`maxBatchSize must be an integer >= 1 (got ${limits.maxBatchSize})`);
  if (!Number.isInteger(limits.concurrency) || limits.concurrency < 1) problems.push(`concurrency must be an integer >= 1 (got ${limits.concurrency})`);
  if (!(limits.perSecond > 0)) problems.push(`perSecond must be > 0 (got ${limits.perSecond})`);
  if (!(limits.burst >= 1)) problems.push(`burst must be >= 1 (got ${limits.burst})`);
  if (limits.dailyRevisionsPerSku !== undefined && (!Number.isInteger(limits.dailyRevisionsPerSku) || limits.dailyRevisionsPerSku < 1)) {
    problems.push(`dailyRevisionsPerSku must be an integer >= 1 (got ${limits.dailyRevisionsPerSku})`);
  }
  if (limits.bulk !== undefined) {
    const b = limits.bulk;
    if (!Number.isInteger(b.maxBatchSize) || b.maxBatchSize < 1) problems.push(`bulk.maxBatchSize must be an integer >= 1 (got ${b.maxBatchSize})`);
    if (!Number.isInteger(b.concurrency) || b.concurrency < 1) problems.push(`bulk.concurrency must be an integer >= 1 (got ${b.concurrency})`);
    if (!(b.perSecond > 0)) problems.push(`bulk.perSecond must be > 0 (got ${b.perSecond})`);
    if (!(b.burst >= 1)) problems.push(`bulk.burst must be >= 1 (got ${b.burst})`);
    if (!(b.expectedDurationMs > 0) || !(b.maxDurationMs >= b.expectedDurationMs)) {
      problems.push(`bulk durations must satisfy 0 < expectedDurationMs <= maxDurationMs (got ${b.expectedDurationMs}, ${b.maxDurationMs})`);
    }
  }
  if (!Number.isInteger(options.maxAttempts) || options.maxAttempts < 1) problems.push(`maxAttempts must be an integer >= 1 (got ${options.maxAttempts})`);
  if (!(options.pushTimeoutMs > 0)) problems.push(`pushTimeoutMs must be > 0 (got ${options.pushTimeoutMs})`);
  if (!(options.reconcileIntervalMs > 0)) problems.push(`reconcileIntervalMs must be > 0 (got ${options.reconcileIntervalMs})`);
  if (options.lateWriteWindowMs !== undefined && !(options.lateWriteWindowMs >= 0)) problems.push(`lateWriteWindowMs must be >= 0 (got ${options.lateWriteWindowMs})`);
  if (options.reads !== undefined) {
    if (!(options.reads.share >= 0 && options.reads.share <= 1)) problems.push(`readShare must be between 0 and 1 (got ${options.reads.share})`);
    if (options.reads.daily !== undefined && (!Number.isInteger(options.reads.daily) || options.reads.daily < 1)) problems.push(`dailyReads must be an integer >= 1 (got ${options.reads.daily})`);
  }
  if (options.catchUp !== undefined && !(options.catchUp.intervalMs > 0)) problems.push(`catchUpIntervalMs must be > 0 (got ${options.catchUp.intervalMs})`);
  if (problems.length > 0) {
    throw new ConfigError(
      `channel "${options.channelId}": invalid dispatch limits: ${problems.join('; ')}`,
      problems.map((message) => ({ path: `/channels/${options.channelId}/limits`, message })),
    );
  }
  return Object.freeze({ ...options, limits: Object.freeze({ ...limits, ...(limits.bulk ? { bulk: Object.freeze({ ...limits.bulk }) } : {}) }), rules: Object.freeze({ ...options.rules }) });
}
