/**
 * A channel's class in bench reports: how many requests a second it takes and how many SKUs each may
 * carry, e.g. `2/s × 250` (a feed-style API) or `5/s × 1` (one SKU per call). Channels of one class
 * meet the same physics, so their figures are read together.
 */
export function channelClass(limits: { perSecond: number; maxBatchSize: number }): string {
  return `${formatRate(limits.perSecond)}/s × ${limits.maxBatchSize}`;
}

const formatRate = (perSecond: number): string => (Number.isInteger(perSecond) ? String(perSecond) : perSecond.toFixed(2).replace(/0+$/, ''));
