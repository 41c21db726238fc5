import type { ListingsFeed, ListingsFeedPatchMessage, ListingsFeedReportIssue, PatchOperation } from './api.ts';

/**
 * The one patch that sets a listing's merchant-fulfilled quantity, as `patchListingsItem` and the JSON_LISTINGS_FEED
 * both take it: the feed is the same Listings Items data format, so a quantity means the same on either lane.
 */
export function fulfillmentAvailabilityPatch(quantity: number): PatchOperation {
  return { op: 'replace', path: '/attributes/fulfillment_availability', value: [{ fulfillment_channel_code: 'DEFAULT', quantity }] };
}

/** One listing to set in a feed. */
export interface FeedEntry {
  sellerSku: string;
  productType: string;
  quantity: number;
}

/**
 * A JSON_LISTINGS_FEED of one PATCH message per entry; message ids are the entries' positions from 1, which is how the
 * processing report's issues are matched back to them.
 */
export function buildListingsFeed(sellerId: string, entries: readonly FeedEntry[], issueLocale = 'en_US'): ListingsFeed {
  const messages: ListingsFeedPatchMessage[] = entries.map((entry, index) => ({
    messageId: index + 1,
    sku: entry.sellerSku,
    operationType: 'PATCH',
    productType: entry.productType,
    patches: [fulfillmentAvailabilityPatch(entry.quantity)],
  }));
  return { header: { sellerId, version: '2.0', issueLocale }, messages };
}

/** A processing report read down to what decides each message's result. */
export interface ReportReading {
  /** ERROR issues without a message id: the document as a whole was refused (unparseable, a bad header). */
  documentErrors: ListingsFeedReportIssue[];
  /** ERROR issues per message id. A message without any was accepted. */
  messageErrors: Map<number, ListingsFeedReportIssue[]>;
}

/**
 * Reads a processing report (listings-feed-processing-report-schema-v2), or undefined when it is not one: only ERROR
 * issues count, as a WARNING or INFO does not stop a message from being applied.
 */
export function readProcessingReport(report: unknown): ReportReading | undefined {
  const issues = (report as { issues?: unknown } | null | undefined)?.issues;
  if (typeof report !== 'object' || report === null || !Array.isArray(issues)) return undefined;
  const reading: ReportReading = { documentErrors: [], messageErrors: new Map() };
  for (const raw of issues as unknown[]) {
    const issue = raw as Partial<ListingsFeedReportIssue> | null;
    if (issue?.severity !== 'ERROR') continue;
    const described: ListingsFeedReportIssue = { ...issue, severity: 'ERROR', message: typeof issue.message === 'string' ? issue.message : '(no message)' };
    if (typeof issue.messageId === 'number' && Number.isInteger(issue.messageId)) {
      const list = reading.messageErrors.get(issue.messageId) ?? [];
      list.push(described);
      reading.messageErrors.set(issue.messageId, list);
    } else {
      reading.documentErrors.push(described);
    }
  }
  return reading;
}

/** Issues as one short line: `code: message; code: message`. */
export const describeIssues = (issues: readonly ListingsFeedReportIssue[]): string =>
  issues.map((issue) => `${issue.code ?? 'issue'}: ${issue.message}`).join('; ');
