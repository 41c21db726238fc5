import { CONTRACT_VERSION } from '../../../sdk.ts';
import type { CheckEnvironment } from '../check-environment.ts';
import { failIfAny } from '../check-outcome.ts';
import { bulkCapabilityProblems } from '../../../plugins/bulk-capability-problems.ts';

const isPositiveInteger = (value: unknown): value is number => Number.isInteger(value) && (value as number) >= 1;

/** The definition declares what the host checks before any plugin code runs, with values the dispatcher can use. */
export async function checkContract(env: CheckEnvironment): Promise<string> {
  const def = env.definition as unknown as Record<string, unknown>;
  const problems: string[] = [];
  if (def.contractVersion !== CONTRACT_VERSION) problems.push(`contractVersion is ${String(def.contractVersion)}, the host implements ${CONTRACT_VERSION}`);
  if (typeof def.name !== 'string' || def.name.trim() === '') problems.push('name must be a non-empty string');
  if (typeof def.create !== 'function') problems.push('create must be a function');
  if (typeof def.optionsSchema !== 'object' || def.optionsSchema === null) problems.push('optionsSchema must be a JSON Schema object');
  if (def.simulator !== undefined && typeof def.simulator !== 'function') problems.push('simulator, when present, must be a function');

  const caps = def.capabilities as Record<string, unknown> | undefined;
  if (typeof caps !== 'object' || caps === null) {
    problems.push('capabilities are missing');
  } else {
    if (!isPositiveInteger(caps.maxBatchSize)) problems.push(`capabilities.maxBatchSize must be an integer ≥ 1, got ${String(caps.maxBatchSize)}`);
    const rate = caps.rateLimit as { perSecond?: unknown; burst?: unknown } | undefined;
    if (typeof rate?.perSecond !== 'number' || !Number.isFinite(rate.perSecond) || rate.perSecond <= 0) {
      problems.push(`capabilities.rateLimit.perSecond must be a number > 0, got ${String(rate?.perSecond)}`);
    }
    if (typeof rate?.burst !== 'number' || !Number.isFinite(rate.burst) || rate.burst < 1) {
      problems.push(`capabilities.rateLimit.burst must be a number ≥ 1, got ${String(rate?.burst)}`);
    }
    if (caps.quantityMode !== 'absolute') problems.push(`capabilities.quantityMode must be 'absolute', got ${String(caps.quantityMode)}`);
    if (caps.maxConcurrency !== undefined && !isPositiveInteger(caps.maxConcurrency)) problems.push('capabilities.maxConcurrency, when given, must be an integer ≥ 1');
    if (caps.dailyRevisionsPerSku !== undefined && !isPositiveInteger(caps.dailyRevisionsPerSku)) {
      problems.push('capabilities.dailyRevisionsPerSku, when given, must be an integer ≥ 1');
    }
    if (caps.compareAndSet !== undefined && typeof caps.compareAndSet !== 'boolean') problems.push('capabilities.compareAndSet, when given, must be a boolean');
    problems.push(...bulkCapabilityProblems(caps.bulk));
  }
  failIfAny(problems);
  const c = caps as { maxBatchSize: number; rateLimit: { perSecond: number; burst: number } };
  return `contract v${CONTRACT_VERSION}, batches of ≤ ${c.maxBatchSize}, ${c.rateLimit.perSecond}/s burst ${c.rateLimit.burst}`;
}
