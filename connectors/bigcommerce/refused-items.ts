import type { AdjustmentItem } from './api.ts';

/** What a refused adjustment says about one of its items. */
export interface ItemRefusal {
  /** `not_listed` when BigCommerce says the item does not exist; `rejected` for anything else it refuses. */
  status: 'not_listed' | 'rejected';
  reason: string;
}

/** Longest piece of BigCommerce's error text kept in a reason. */
const MAX_TEXT = 200;

const UNKNOWN_ITEM = /not\s+found|does\s*n[o']t\s+exist|no\s+such|unknown|invalid\s+(?:variant|product|sku)/i;

/** The item identifier an adjustment item carries, as BigCommerce names it in its messages (`variant_id 106`). */
function keysOf(item: AdjustmentItem): string[] {
  if ('variant_id' in item) return [`variant_id ${item.variant_id}`];
  if ('product_id' in item) return [`product_id ${item.product_id}`];
  return [`sku ${item.sku}`];
}

/**
 * The items a 422 answer to an absolute adjustment names, by position in `items`. BigCommerce's
 * documented answer (its OpenAPI example) is `{ status, title: "[Item with variant_id 106 is tracked by
 * product, ...]", type, errors: {} }`: the item is named in `title` by its identifier, and `errors` is a
 * free object. Each bracketed or comma-separated message in `title`, and each value of `errors`, is read for
 * an identifier of an item that was sent. An answer naming none returns an empty map: the caller must find
 * the refused item another way (by splitting the batch), since resending the same batch cannot succeed.
 */
export function refusedItems(body: unknown, items: readonly AdjustmentItem[]): Map<number, ItemRefusal> {
  const found = new Map<number, ItemRefusal>();
  if (typeof body !== 'object' || body === null) return found;
  const { title, errors } = body as { title?: unknown; errors?: unknown };
  const messages: string[] = [];
  if (typeof title === 'string') messages.push(...title.replace(/^\s*\[|\]\s*$/g, '').split(/\]\s*,?\s*\[|\s*;\s*/));
  if (typeof errors === 'object' && errors !== null) {
    for (const [key, value] of Object.entries(errors as Record<string, unknown>)) if (typeof value === 'string') messages.push(`${key}: ${value}`);
  }
  const byKey = new Map<string, number[]>();
  items.forEach((item, i) => {
    for (const key of keysOf(item)) byKey.set(key, [...(byKey.get(key) ?? []), i]);
  });
  for (const message of messages) {
    const text = message.trim().slice(0, MAX_TEXT);
    for (const match of message.matchAll(/\b(variant_id|product_id|sku)\s*[:=]?\s*["']?([^\s"',\]]+)/g)) {
      for (const index of byKey.get(`${match[1]} ${match[2]}`) ?? []) {
        if (!found.has(index)) found.set(index, { status: UNKNOWN_ITEM.test(message) ? 'not_listed' : 'rejected', reason: `BigCommerce refused the item: ${text}` });
      }
    }
  }
  return found;
}
