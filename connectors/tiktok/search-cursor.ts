import { RejectedError } from '../../core/sdk.ts';

/**
 * Where the orders poll stands: orders updated at or after `since` (unix seconds) are being read; `token` is
 * TikTok's `next_page_token` for that same search, absent on its first page; `high` is the latest `update_time`
 * seen. Opaque to the host: base64url JSON.
 */
export interface OrdersCursor {
  since: number;
  token?: string;
  high: number;
}

const isTime = (value: unknown): value is number => typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;

export function encodeOrdersCursor(cursor: OrdersCursor): string {
  return Buffer.from(JSON.stringify({ v: 1, ...cursor })).toString('base64url');
}

/** The cursor the host stored, or a fresh one starting at `start` when there is none. */
export function decodeOrdersCursor(cursor: string | undefined, start: number): OrdersCursor {
  if (cursor === undefined) return { since: start, high: start };
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    value = undefined;
  }
  const c = (value ?? {}) as Partial<OrdersCursor> & { v?: unknown };
  if (typeof value !== 'object' || c.v !== 1 || !isTime(c.since) || !isTime(c.high) || (c.token !== undefined && typeof c.token !== 'string')) {
    throw new RejectedError('TikTok orders cursor is not one this connector wrote');
  }
  return { since: c.since, high: c.high, ...(c.token ? { token: c.token } : {}) };
}
