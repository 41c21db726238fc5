import type { Problem } from '../../errors.ts';

/** Most SKUs one inventory query may ask for (HTTP batch form and NATS request-reply). */
export const MAX_QUERY_SKUS = 500;
/** Longest SKU accepted in a query; longer ones cannot exist in the ledger's channels anyway. */
export const MAX_SKU_LENGTH = 256;

export type SkuQueryResult = { ok: true; skus: string[] } | { ok: false; problems: Problem[] };

/**
 * Checks a list of SKUs as sent by a client: an array of 1..500 non-empty strings. `path` names the
 * field in problems (`/skus` for a JSON body, `sku` for a query string) so a client knows what to fix.
 */
export function parseSkuList(value: unknown, path: string): SkuQueryResult {
  if (!Array.isArray(value)) return { ok: false, problems: [{ path, message: 'must be an array of SKU strings' }] };
  if (value.length === 0) return { ok: false, problems: [{ path, message: 'must name at least one SKU' }] };
  if (value.length > MAX_QUERY_SKUS) return { ok: false, problems: [{ path, message: `must name at most ${MAX_QUERY_SKUS} SKUs (got ${value.length})` }] };
  const problems: Problem[] = [];
  value.forEach((sku: unknown, index) => {
    if (typeof sku !== 'string' || sku.length === 0) problems.push({ path: `${path}/${index}`, message: 'must be a non-empty string' });
    else if (sku.length > MAX_SKU_LENGTH) problems.push({ path: `${path}/${index}`, message: `must be at most ${MAX_SKU_LENGTH} characters` });
  });
  return problems.length > 0 ? { ok: false, problems: problems.slice(0, 20) } : { ok: true, skus: value as string[] };
}

/** The `{ skus: [...] }` body of a batch query (HTTP POST and NATS request). */
export function parseSkuQuery(body: unknown): SkuQueryResult {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return { ok: false, problems: [{ path: '', message: 'must be a JSON object { "skus": [...] }' }] };
  const extra = Object.keys(body).filter((key) => key !== 'skus');
  if (extra.length > 0) return { ok: false, problems: extra.map((key) => ({ path: `/${key}`, message: 'is not a known field (only "skus")' })) };
  return parseSkuList((body as { skus?: unknown }).skus, '/skus');
}

/** One message naming every problem, for `{ error, message }` answers. */
export function describeProblems(problems: readonly Problem[]): string {
  return problems.map((p) => `${p.path || '(body)'} ${p.message}`).join('; ');
}
