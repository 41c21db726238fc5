import { RejectedError } from '../../core/sdk.ts';

/**
 * Where the orders poll stands: receipts changed at or after `since` (unix seconds) are being read, `offset` of
 * them are done, and `high` is the latest change seen so far. Opaque to the host: base64url JSON.
 */
export interface ReceiptsCursor {
  since: number;
  offset: number;
  high: number;
}

const isCount = (value: unknown): value is number => typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;

export function encodeReceiptsCursor(cursor: ReceiptsCursor): string {
  return Buffer.from(JSON.stringify({ v: 1, ...cursor })).toString('base64url');
}

/** The cursor the host stored, or a fresh one starting at `start` when there is none. */
export function decodeReceiptsCursor(cursor: string | undefined, start: number): ReceiptsCursor {
  if (cursor === undefined) return { since: start, offset: 0, high: start };
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    value = undefined;
  }
  const c = value as Partial<ReceiptsCursor> & { v?: unknown };
  if (typeof value !== 'object' || value === null || c.v !== 1 || !isCount(c.since) || !isCount(c.offset) || !isCount(c.high)) {
    throw new RejectedError('Etsy orders cursor is not one this connector wrote');
  }
  return { since: c.since, offset: c.offset, high: c.high };
}

/** The listing states onboarding reads, in order: a sold-out listing still needs its mapping. */
export const LISTING_STATES = ['active', 'sold_out'] as const;

/** Where the listings read stands: a state of {@link LISTING_STATES} and an offset in it, as `state:offset`. */
export function decodeListingsCursor(cursor: string | undefined): { state: (typeof LISTING_STATES)[number]; offset: number } {
  if (cursor === undefined) return { state: LISTING_STATES[0], offset: 0 };
  const match = /^([a-z_]+):(\d{1,9})$/.exec(cursor);
  const state = LISTING_STATES.find((s) => s === match?.[1]);
  if (!match || state === undefined) throw new RejectedError('Etsy listings cursor is not one this connector wrote');
  return { state, offset: Number(match[2]) };
}
