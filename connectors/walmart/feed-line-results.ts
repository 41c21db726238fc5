import type { PushResult } from '../../core/sdk.ts';
import type { WalmartIngestionError, WalmartItemIngestion } from './api.ts';

/** One line of a submitted inventory feed: the hub SKU, the Walmart SKU it went out as, and its quantity. */
export interface FeedLine {
  hubSku: string;
  walmartSku: string;
  quantity: number;
}

/**
 * The code Walmart gives a SKU it has no item for: the per-SKU call answers it with 404. Walmart documents no
 * feed-specific code for this case; a line carrying this one is read as "not listed", any other data error as a
 * refusal of the line.
 */
const NOT_FOUND_CODE = /CONTENT_NOT_FOUND/i;

const describeLine = (errors: readonly WalmartIngestionError[] | undefined): string =>
  (errors ?? [])
    .slice(0, 3)
    .map((e) => `${e.code}${e.description ? `: ${e.description.slice(0, 200)}` : ''}`)
    .join('; ') || 'no error given';

/**
 * One result per line, from the line statuses a processed feed reported: SUCCESS → ok; a data error naming a SKU
 * Walmart does not have → not_listed; any other DATA_ERROR → rejected (Walmart refused the value itself);
 * SYSTEM_ERROR and TIMEOUT_ERROR → retry (Walmart failed, not the line). A line the report does not cover, or still
 * INPROGRESS although the feed is PROCESSED, is retried: its quantity may or may not have landed.
 */
export function feedLineResults(lines: readonly FeedLine[], reported: readonly WalmartItemIngestion[]): PushResult[] {
  const bySku = new Map<string, WalmartItemIngestion>();
  const byIndex = new Map<number, WalmartItemIngestion>();
  for (const item of reported) {
    if (typeof item.sku === 'string') bySku.set(item.sku, item);
    if (typeof item.index === 'number') byIndex.set(item.index, item);
  }
  return lines.map((line, index): PushResult => {
    const item = bySku.get(line.walmartSku) ?? byIndex.get(index);
    const sku = line.hubSku;
    if (!item) return { sku, status: 'retry', reason: 'walmart reported no status for this line of the inventory feed' };
    const errors = item.ingestionErrors?.ingestionError;
    switch (item.ingestionStatus) {
      case 'SUCCESS':
        return { sku, status: 'ok', quantity: line.quantity };
      case 'DATA_ERROR':
        if (errors?.some((e) => NOT_FOUND_CODE.test(e.code))) return { sku, status: 'not_listed', reason: `walmart has no item for SKU ${line.walmartSku}: ${describeLine(errors)}` };
        return { sku, status: 'rejected', reason: `walmart refused the inventory feed line (DATA_ERROR): ${describeLine(errors)}` };
      case 'SYSTEM_ERROR':
      case 'TIMEOUT_ERROR':
        return { sku, status: 'retry', reason: `walmart failed the inventory feed line (${item.ingestionStatus}): ${describeLine(errors)}` };
      default:
        return { sku, status: 'retry', reason: `walmart left the inventory feed line ${String(item.ingestionStatus)}` };
    }
  });
}
