/** How long a retry waits: exponential growth, capped. */
export interface BackoffPolicy {
  /** Ceiling of the first retry's delay, ms. */
  baseMs: number;
  /** No retry waits longer than this, ms (unless the server asked for more). */
  maxMs: number;
}

/**
 * Delay before retry number `attempt` (1 for the first retry): exponential with full jitter,
 * uniformly drawn from [0, min(maxMs, baseMs * 2^(attempt-1))).
 *
 * Full jitter spreads the retries of many SKUs (and many hubs) that failed together, so a channel
 * coming back from an outage is not hit by one synchronized wave. A delay the server gave
 * (`Retry-After`, `afterMs`) is a floor: we never come back earlier than the channel asked.
 */
export function backoffDelay(attempt: number, policy: BackoffPolicy, serverDelayMs = 0, random: () => number = Math.random): number {
  const exponent = Math.max(0, Math.min(attempt - 1, 30));
  const ceiling = Math.min(policy.maxMs, policy.baseMs * 2 ** exponent);
  const jittered = Math.floor(random() * Math.max(0, ceiling));
  return Math.max(jittered, Math.max(0, serverDelayMs));
}

/**
 * Delay before trying again an item the channel called busy or locked, after `streak` such answers in a
 * row: exponential with equal jitter (never below half the ceiling), floored by the server's `afterMs`.
 * Busy answers spend no attempts, so this growth is what keeps a SKU locked for good from spinning.
 */
export function busyDelay(streak: number, policy: BackoffPolicy, serverDelayMs = 0, random: () => number = Math.random): number {
  const exponent = Math.max(0, Math.min(streak - 1, 30));
  const ceiling = Math.min(policy.maxMs, policy.baseMs * 2 ** exponent);
  return Math.max(Math.floor(ceiling / 2 + random() * (ceiling / 2)), Math.max(0, serverDelayMs));
}
