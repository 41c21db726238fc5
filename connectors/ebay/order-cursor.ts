import { decodePositionCursor, encodePositionCursor } from '../_kit/position-cursor.ts';

/**
 * Where the eBay order catch-up stands: orders with `lastModifiedDate` at or after `since` (ms), from `offset` in
 * the result set. `within` is true while a pass goes on: its filter keeps exactly `since`, so offsets stay
 * meaningful; a new pass reaches {@link ORDER_OVERLAP_MS} further back, so an order stamped by a clock behind
 * ours, or readable late, is still found.
 */
export interface OrderCursor {
  since: number;
  offset: number;
  within: boolean;
}

/** How far each new pass reaches back before the cursor. */
export const ORDER_OVERLAP_MS = 120_000;
/** Where the very first pass starts: this long before now. */
export const FIRST_PASS_LOOKBACK_MS = 300_000;

export function encodeOrderCursor(cursor: OrderCursor): string {
  return encodePositionCursor({ since: cursor.since, position: cursor.offset, within: cursor.within });
}

export function decodeOrderCursor(text: string): OrderCursor {
  const { since, position, within } = decodePositionCursor('eBay', text, 0);
  return { since, offset: position, within };
}
