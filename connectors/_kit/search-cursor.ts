import { RejectedError } from '../../core/sdk.ts';

/**
 * Where a missed-order catch-up resumes: the time its next search starts from, and, while the channel is paging
 * through one search, the channel's token for the next page. Opaque to the host (base64url JSON).
 */
export interface SearchCursor {
  /** ISO 8601: orders changed at or after this time are searched. */
  after: string;
  /** The channel's token (or cursor text) for the next page of the search that started at `after`. */
  page?: string;
}

export function encodeSearchCursor(cursor: SearchCursor): string {
  return Buffer.from(JSON.stringify(cursor)).toString('base64url');
}

/**
 * The cursor `encodeSearchCursor` made, or, for `undefined` (the first call ever), a search from `firstLookbackMs`
 * before now. Anything else is refused, naming the channel: a cursor from another connector must not be guessed at.
 */
export function decodeSearchCursor(channel: string, cursor: string | undefined, firstLookbackMs: number, now = Date.now()): SearchCursor {
  if (cursor === undefined) return { after: new Date(now - firstLookbackMs).toISOString() };
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    parsed = undefined;
  }
  const value = parsed as Partial<SearchCursor> | undefined;
  if (typeof value?.after !== 'string' || !Number.isFinite(Date.parse(value.after)) || (value.page !== undefined && typeof value.page !== 'string')) {
    throw new RejectedError(`${channel}: the order cursor is not one this connector wrote`);
  }
  return value.page === undefined ? { after: value.after } : { after: value.after, page: value.page };
}

/**
 * The start of the next search once a search has been read to its end at `until`: `overlapMs` earlier, so an order
 * the channel indexes late is still found, and never before the search just read.
 */
export function nextSearchStart(after: string, until: number, overlapMs: number): string {
  return new Date(Math.max(Date.parse(after), until - overlapMs)).toISOString();
}
