/**
 * Samples request latencies from a log-normal distribution fitted to a median and a 99th percentile,
 * the usual shape of API response times (a tight body and a long tail).
 */
export interface LatencyProfile {
  p50: number;
  p99: number;
}

const Z99 = 2.3263478740408408;

export function createLatencySampler(profile: LatencyProfile | undefined): () => number {
  if (!profile || profile.p50 <= 0) return () => 0;
  const mu = Math.log(profile.p50);
  const sigma = profile.p99 > profile.p50 ? Math.log(profile.p99 / profile.p50) / Z99 : 0;
  return () => {
    // Box-Muller: one standard normal draw.
    const u = 1 - Math.random();
    const v = Math.random();
    const z = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    return Math.exp(mu + sigma * z);
  };
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
