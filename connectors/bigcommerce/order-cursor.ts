import { decodePositionCursor, encodePositionCursor } from '../_kit/position-cursor.ts';

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
  return encodePositionCursor({ since: cursor.since, position: cursor.page, within: cursor.within });
}

export function decodeOrderCursor(text: string): OrderCursor {
  const { since, position, within } = decodePositionCursor('bigcommerce', text, 1);
  return { since, page: position, within };
}
