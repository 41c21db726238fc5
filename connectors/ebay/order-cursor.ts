import { RejectedError } from '../../core/sdk.ts';

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
  return Buffer.from(JSON.stringify({ v: 1, s: cursor.since, o: cursor.offset, w: cursor.within ? 1 : 0 }), 'utf8').toString('base64url');
}

export function decodeOrderCursor(text: string): OrderCursor {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    parsed = undefined;
  }
  const c = parsed as { v?: unknown; s?: unknown; o?: unknown; w?: unknown } | undefined;
  if (!c || c.v !== 1 || !Number.isSafeInteger(c.s) || !Number.isSafeInteger(c.o) || (c.o as number) < 0) {
    throw new RejectedError('eBay: the order cursor was not written by this connector');
  }
  return { since: c.s as number, offset: c.o as number, within: c.w === 1 };
}
