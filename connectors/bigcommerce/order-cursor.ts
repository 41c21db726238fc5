import { RejectedError } from '../../core/sdk.ts';

/**
 * Where the order catch-up stands: orders modified at or after `since` (ms), from page `page` of the list sorted
 * by `date_modified:asc`. `within` is true while a pass goes on (the host calls again at once): the read then
 * starts exactly at `since`; a new pass starts {@link ORDER_OVERLAP_MS} earlier, so an order BigCommerce made
 * readable late, or stamped by a clock behind ours, is still found.
 */
export interface OrderCursor {
  since: number;
  page: number;
  within: boolean;
}

/** How far each new pass reaches back before the cursor. */
export const ORDER_OVERLAP_MS = 120_000;
/** Where the very first pass starts: this long before now. */
export const FIRST_PASS_LOOKBACK_MS = 300_000;

export function encodeOrderCursor(cursor: OrderCursor): string {
  return Buffer.from(JSON.stringify({ v: 1, s: cursor.since, p: cursor.page, w: cursor.within ? 1 : 0 }), 'utf8').toString('base64url');
}

export function decodeOrderCursor(text: string): OrderCursor {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    parsed = undefined;
  }
  const c = parsed as { v?: unknown; s?: unknown; p?: unknown; w?: unknown } | undefined;
  if (!c || c.v !== 1 || !Number.isSafeInteger(c.s) || !Number.isSafeInteger(c.p) || (c.p as number) < 1) {
    throw new RejectedError('bigcommerce: the order cursor was not written by this connector');
  }
  return { since: c.s as number, page: c.p as number, within: c.w === 1 };
}
