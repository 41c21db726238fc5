import { describeError, ErrorCodes, type ConnectorInstance, type PushResult, type StockUpdate } from '../../sdk.ts';

/** The class of an error thrown by a connector, read from its stable `code` so a second copy of the SDK still counts. */
export type ThrownKind = 'throttled' | 'retryable' | 'rejected' | 'other';

/** What one `push` call did: resolved with per-item results, or threw. */
export type PushOutcome =
  | { kind: 'results'; results: PushResult[]; ms: number }
  | { kind: 'threw'; error: unknown; thrown: ThrownKind; retryAfterMs: number | undefined; ms: number };

export function thrownKind(error: unknown): ThrownKind {
  const code = (error as { code?: unknown } | null)?.code;
  if (code === ErrorCodes.CONNECTOR_THROTTLED) return 'throttled';
  if (code === ErrorCodes.CONNECTOR_RETRYABLE) return 'retryable';
  if (code === ErrorCodes.CONNECTOR_REJECTED) return 'rejected';
  return 'other';
}

/** Calls `push` and records what happened, never throwing. */
export async function pushOutcome(instance: ConnectorInstance, updates: readonly StockUpdate[], signal: AbortSignal, lane: 'push' | 'bulk' = 'push'): Promise<PushOutcome> {
  const started = performance.now();
  try {
    const results = lane === 'bulk' && instance.pushBulk ? await instance.pushBulk(updates, signal) : await instance.push(updates, signal);
    return { kind: 'results', results, ms: performance.now() - started };
  } catch (error) {
    const after = (error as { retryAfterMs?: unknown } | null)?.retryAfterMs;
    return {
      kind: 'threw',
      error,
      thrown: thrownKind(error),
      retryAfterMs: typeof after === 'number' ? after : undefined,
      ms: performance.now() - started,
    };
  }
}

/**
 * Matches results to updates: one result per update, none for a SKU that was not pushed, none twice.
 * Returns the result per SKU and every mismatch found.
 */
export function matchResults(updates: readonly StockUpdate[], results: unknown): { bySku: Map<string, PushResult>; problems: string[] } {
  const bySku = new Map<string, PushResult>();
  const problems: string[] = [];
  if (!Array.isArray(results)) return { bySku, problems: [`push resolved ${describeValue(results)}, not an array of results`] };
  const pushed = new Set(updates.map((u) => u.sku));
  for (const result of results as PushResult[]) {
    const sku = (result as { sku?: unknown } | null)?.sku;
    if (typeof sku !== 'string') {
      problems.push(`a result has no sku: ${describeValue(result)}`);
      continue;
    }
    if (!pushed.has(sku)) problems.push(`result for "${sku}", which was not pushed`);
    else if (bySku.has(sku)) problems.push(`two results for "${sku}"`);
    else bySku.set(sku, result);
  }
  const missing = updates.filter((u) => !bySku.has(u.sku)).map((u) => u.sku);
  if (missing.length > 0) problems.push(`no result for ${missing.length} of ${updates.length} updates (${preview(missing)}): every item needs a result`);
  return { bySku, problems };
}

/** A short account of an outcome for a failure detail. */
export function describeOutcome(outcome: PushOutcome): string {
  if (outcome.kind === 'threw') {
    const name = (outcome.error as { name?: unknown } | null)?.name;
    return `threw ${typeof name === 'string' ? name : 'a value'} (${describeError(outcome.error)})`;
  }
  const counts = new Map<string, number>();
  for (const r of outcome.results) counts.set(String(r?.status), (counts.get(String(r?.status)) ?? 0) + 1);
  return `resolved ${outcome.results.length} results (${[...counts].map(([s, n]) => `${n} ${s}`).join(', ') || 'none'})`;
}

export function describeResult(result: PushResult | undefined): string {
  if (!result) return 'no result';
  if (result.status === 'ok') return 'ok';
  if (result.status === 'retry') return `retry (${result.reason})`;
  return `${result.status} (${result.reason})`;
}

export function preview(items: readonly string[], max = 5): string {
  return items.length <= max ? items.join(', ') : `${items.slice(0, max).join(', ')}, … ${items.length - max} more`;
}

function describeValue(value: unknown): string {
  try {
    return JSON.stringify(value)?.slice(0, 120) ?? String(value);
  } catch {
    return String(value);
  }
}

/** The batch size checks may use: the declared maximum when it is sane, else 1. */
export function batchLimit(maxBatchSize: unknown): number {
  return Number.isInteger(maxBatchSize) && (maxBatchSize as number) >= 1 ? (maxBatchSize as number) : 1;
}

/**
 * Pushes `updates` the way the dispatcher would: in calls of at most `maxBatchSize` items. Stops at
 * the first call that throws (the whole outcome is then that throw), else joins the results.
 */
export async function pushInBatches(instance: ConnectorInstance, updates: readonly StockUpdate[], maxBatchSize: unknown, signal: AbortSignal): Promise<PushOutcome> {
  const size = batchLimit(maxBatchSize);
  const started = performance.now();
  const results: PushResult[] = [];
  for (let at = 0; at < updates.length; at += size) {
    const outcome = await pushOutcome(instance, updates.slice(at, at + size), signal);
    if (outcome.kind === 'threw' || !Array.isArray(outcome.results)) return { ...outcome, ms: performance.now() - started };
    results.push(...outcome.results);
  }
  return { kind: 'results', results, ms: performance.now() - started };
}
