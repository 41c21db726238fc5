import type { PushResult, StockUpdate } from '../sdk.ts';

/** What a push call answered, checked against the batch it was for. */
export interface CheckedResults {
  /** One well-formed result per SKU of the batch that has one. */
  bySku: Map<string, PushResult>;
  /**
   * SKUs of the batch without a usable result, each with why (a duplicate, an unknown status, a
   * missing reason...). The dispatcher treats them as a failed attempt: a plugin that answers badly
   * ends in a dead letter, never in an endless retry at the channel's rate.
   */
  invalid: Map<string, string>;
  /** Problems that belong to no SKU of the batch (a null entry, a result for a SKU not sent). */
  stray: string[];
}

const STATUSES = new Set(['ok', 'retry', 'busy', 'stale', 'not_listed', 'rejected']);
/** Longest reason kept from a plugin: reasons go to logs, dead letters and the read API. */
export const MAX_REASON_LENGTH = 1_000;

/**
 * Checks a connector's push answer against the contract (core/sdk.ts `PushResult`): an array of
 * objects, one per update, each with a known status, a non-empty `reason` where the status needs one,
 * and well-typed optional numbers. Never throws: whatever a plugin resolves with, every SKU of the
 * batch ends up either with a usable result or with a reason it has none.
 */
export function checkPushResults(answer: unknown, updates: readonly StockUpdate[]): CheckedResults {
  const wanted = new Set(updates.map((u) => u.sku));
  const bySku = new Map<string, PushResult>();
  const invalid = new Map<string, string>();
  const stray: string[] = [];
  if (!Array.isArray(answer)) {
    const problem = `push resolved with ${describeValue(answer)} instead of an array of results`;
    for (const sku of wanted) invalid.set(sku, problem);
    return { bySku, invalid, stray };
  }
  const seen = new Set<string>();
  answer.forEach((entry: unknown, index) => {
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
      stray.push(`result ${index} is ${describeValue(entry)}, not an object`);
      return;
    }
    const sku = (entry as { sku?: unknown }).sku;
    if (typeof sku !== 'string' || !wanted.has(sku)) {
      stray.push(typeof sku === 'string' ? `result ${index} is for SKU "${clip(sku, 200)}", which was not in the push` : `result ${index} has no string "sku"`);
      return;
    }
    if (seen.has(sku)) {
      // Two answers for one SKU: neither can be trusted to be the channel's last word.
      bySku.delete(sku);
      invalid.set(sku, `more than one result for SKU "${sku}"`);
      return;
    }
    seen.add(sku);
    const problem = resultProblem(entry as Record<string, unknown>);
    if (problem) invalid.set(sku, `result ${index} for SKU "${sku}": ${problem}`);
    else bySku.set(sku, normalised(entry as Record<string, unknown>, sku));
  });
  for (const sku of wanted) {
    if (bySku.has(sku) || invalid.has(sku)) continue;
    invalid.set(sku, stray.length > 0 ? `no usable result for this SKU (${stray[0]})` : 'the channel returned no result for this item');
  }
  return { bySku, invalid, stray };
}

function resultProblem(entry: Record<string, unknown>): string | undefined {
  const status = entry.status;
  if (typeof status !== 'string' || !STATUSES.has(status)) return `unknown status ${describeValue(status)}`;
  if (status !== 'ok' && (typeof entry.reason !== 'string' || entry.reason.trim() === '')) return `status "${status}" without a reason`;
  if (status === 'ok' && entry.quantity !== undefined && !isCount(entry.quantity)) return `"quantity" must be a non-negative integer (got ${describeValue(entry.quantity)})`;
  if ((status === 'retry' || status === 'busy') && entry.afterMs !== undefined && !isDelay(entry.afterMs)) {
    return `"afterMs" must be a finite number >= 0 (got ${describeValue(entry.afterMs)})`;
  }
  if (status === 'stale' && entry.shown !== undefined && !isCount(entry.shown)) return `"shown" must be a non-negative integer (got ${describeValue(entry.shown)})`;
  return undefined;
}

/** A fresh result holding only the contract's fields, reason clipped: nothing else of the plugin's object travels on. */
function normalised(entry: Record<string, unknown>, sku: string): PushResult {
  const reason = typeof entry.reason === 'string' ? clip(entry.reason, MAX_REASON_LENGTH) : '';
  switch (entry.status) {
    case 'ok':
      return entry.quantity === undefined ? { sku, status: 'ok' } : { sku, status: 'ok', quantity: entry.quantity as number };
    case 'retry':
    case 'busy':
      return entry.afterMs === undefined ? { sku, status: entry.status, reason } : { sku, status: entry.status, reason, afterMs: entry.afterMs as number };
    case 'stale':
      return entry.shown === undefined ? { sku, status: 'stale', reason } : { sku, status: 'stale', reason, shown: entry.shown as number };
    case 'not_listed':
      return { sku, status: 'not_listed', reason };
    default:
      return { sku, status: 'rejected', reason };
  }
}

const isCount = (value: unknown): boolean => Number.isSafeInteger(value) && (value as number) >= 0;
const isDelay = (value: unknown): boolean => typeof value === 'number' && Number.isFinite(value) && value >= 0;

function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}…`;
}

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return JSON.stringify(clip(value, 40));
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return typeof value === 'undefined' ? 'undefined' : `a${typeof value === 'object' ? 'n' : ''} ${typeof value}`;
}
