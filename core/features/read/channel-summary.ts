import type { HubContext } from '../hub-context.ts';

/** How one channel is keeping up right now (`GET /v1/channels`, the dashboard). Times are ISO 8601. */
export interface ChannelSummary {
  channel: string;
  connector: string;
  /** SKUs waiting for a push (not in flight). */
  pending: number;
  /** Push calls on their way. */
  inFlight: number;
  /** SKUs dead-lettered and parked until a newer change or the reconcile pass. */
  deadLettered: number;
  /** Until when the channel is paused by a throttle, or null. */
  throttledUntil: string | null;
  /** occurredAt of the oldest change not yet confirmed, or null when nothing is behind. */
  oldestPendingAt: string | null;
  /** Push items confirmed / attempted since the hub started (1 before the first attempt). */
  successRatio: number;
  /** Throttle answers since the hub started. */
  throttles: number;
  /** Sync-lag percentiles over the last minute of confirmations, ms; null without samples. */
  lag: { p50: number | null; p99: number | null; samples: number };
}

/** Every enabled channel's summary, in config order; answered from memory (no I/O). */
export async function channelSummaries(ctx: Pick<HubContext, 'channels' | 'metrics'>): Promise<ChannelSummary[]> {
  const throttles = new Map<string, number>();
  for (const value of (await ctx.metrics.throttles.get()).values) throttles.set(String(value.labels.channel), value.value);
  const now = Date.now();
  return ctx.channels.list().map((channel) => {
    const snapshot = channel.snapshot();
    const window = ctx.metrics.recentLag.get(channel.id);
    return {
      channel: channel.id,
      connector: channel.connector,
      pending: snapshot.pending,
      inFlight: snapshot.inFlight,
      deadLettered: snapshot.deadLettered,
      throttledUntil: snapshot.throttledUntil > 0 ? new Date(snapshot.throttledUntil).toISOString() : null,
      oldestPendingAt: snapshot.oldestPendingAt !== null ? new Date(snapshot.oldestPendingAt).toISOString() : null,
      successRatio: ctx.metrics.successRatio(channel.id),
      throttles: throttles.get(channel.id) ?? 0,
      lag: { p50: window?.quantile(0.5, now) ?? null, p99: window?.quantile(0.99, now) ?? null, samples: window?.count(now) ?? 0 },
    };
  });
}
