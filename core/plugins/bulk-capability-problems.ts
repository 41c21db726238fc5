/**
 * What is wrong with a connector's `capabilities.bulk`, one message per field, each naming it; empty when
 * it is absent or sound. Shared by the plugin loader and the conformance kit so both refuse the same things.
 */
export function bulkCapabilityProblems(bulk: unknown): string[] {
  if (bulk === undefined) return [];
  if (typeof bulk !== 'object' || bulk === null || Array.isArray(bulk)) {
    return ['capabilities.bulk must be an object { maxBatchSize, rateLimit, expectedDurationMs, maxDurationMs } when present'];
  }
  const b = bulk as Record<string, unknown>;
  const problems: string[] = [];
  if (!isPositiveInteger(b.maxBatchSize)) problems.push(`capabilities.bulk.maxBatchSize must be an integer ≥ 1, got ${String(b.maxBatchSize)}`);
  const rate = b.rateLimit as { perSecond?: unknown; burst?: unknown } | undefined;
  if (typeof rate?.perSecond !== 'number' || !Number.isFinite(rate.perSecond) || rate.perSecond <= 0) {
    problems.push(`capabilities.bulk.rateLimit.perSecond must be a number > 0, got ${String(rate?.perSecond)}`);
  }
  if (typeof rate?.burst !== 'number' || !Number.isFinite(rate.burst) || rate.burst < 1) {
    problems.push(`capabilities.bulk.rateLimit.burst must be a number ≥ 1, got ${String(rate?.burst)}`);
  }
  if (b.maxConcurrency !== undefined && !isPositiveInteger(b.maxConcurrency)) problems.push(`capabilities.bulk.maxConcurrency, when given, must be an integer ≥ 1, got ${String(b.maxConcurrency)}`);
  const expected = b.expectedDurationMs;
  const max = b.maxDurationMs;
  if (typeof expected !== 'number' || !Number.isFinite(expected) || expected <= 0) problems.push(`capabilities.bulk.expectedDurationMs must be a number > 0, got ${String(expected)}`);
  if (typeof max !== 'number' || !Number.isFinite(max) || max <= 0) problems.push(`capabilities.bulk.maxDurationMs must be a number > 0, got ${String(max)}`);
  else if (typeof expected === 'number' && expected > max) problems.push(`capabilities.bulk.maxDurationMs (${max}) must be at least expectedDurationMs (${expected})`);
  return problems;
}

function isPositiveInteger(value: unknown): boolean {
  return typeof value === 'number' && Number.isInteger(value) && value >= 1;
}
