import type { Logger } from '../../core/sdk.ts';

/** A catch-up cursor that starts from an instant: `since`, ISO 8601, plus whatever the connector pages by. */
export interface SinceCursor {
  v: 1;
  since: string;
}

export function encodeSinceCursor<C extends SinceCursor>(cursor: C): string {
  return Buffer.from(JSON.stringify(cursor)).toString('base64url');
}

/**
 * The cursor {@link encodeSinceCursor} wrote, or undefined (the first call ever, or a cursor it cannot read).
 * Only the connector writes its cursor; one it cannot read is logged and catch-up restarts from a little before
 * now rather than stop.
 */
export function decodeSinceCursor<C extends SinceCursor>(text: string | undefined, logger: Logger): C | undefined {
  if (text === undefined) return undefined;
  try {
    const cursor = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as Partial<C>;
    if (cursor.v === 1 && typeof cursor.since === 'string' && !Number.isNaN(Date.parse(cursor.since))) return cursor as C;
  } catch {
    // Falls through: an unreadable cursor is reported below.
  }
  logger.warn('order catch-up cursor unreadable; starting again from now', {});
  return undefined;
}

/** The later of two ISO instants. */
export const laterInstant = (a: string, b: string): string => (Date.parse(a) >= Date.parse(b) ? a : b);
