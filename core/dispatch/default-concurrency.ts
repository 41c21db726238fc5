/** Push calls in flight per channel at least, when neither the connector nor the config says. */
export const DEFAULT_CONCURRENCY = 4;

/**
 * Most push calls in flight by default, however fast the channel's declared rate: a channel that
 * declares no useful limit (a self-hosted shop, an API metered by the day) is still served by a finite
 * pool of workers, and 32 calls at once are about 400 calls/s at 80 ms, far past any channel we know.
 */
export const MAX_DEFAULT_CONCURRENCY = 32;

/**
 * How long one call is allowed to take when sizing the default: the simulated channels answer in
 * p99 300 ms and real ones now and then in about a second.
 */
const SIZED_FOR_CALL_MS = 1_000;

/**
 * In-flight pushes for a channel whose connector and config name no concurrency: enough calls at once
 * to use the whole declared rate (`perSecond`) while each call takes up to a second, at least
 * {@link DEFAULT_CONCURRENCY}, at most {@link MAX_DEFAULT_CONCURRENCY}. A fixed 4 held a channel with
 * a high or no rate limit to about 50 calls/s at 80 ms latency, whatever it could take; the token
 * bucket still paces every call, so more calls in flight never means more calls than the rate allows.
 */
export function defaultConcurrency(perSecond: number): number {
  if (!(perSecond > 0)) return DEFAULT_CONCURRENCY;
  const wanted = Number.isFinite(perSecond) ? Math.ceil((perSecond * SIZED_FOR_CALL_MS) / 1_000) : MAX_DEFAULT_CONCURRENCY;
  return Math.min(MAX_DEFAULT_CONCURRENCY, Math.max(DEFAULT_CONCURRENCY, wanted));
}
