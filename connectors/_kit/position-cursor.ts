import { RejectedError } from '../../core/sdk.ts';

/**
 * Where a missed-order catch-up stands in a list the channel pages by number or offset: orders changed at or
 * after `since` (epoch ms), from `position` (a page number or an offset, as the channel counts). `within` is
 * true while a pass goes on (the host calls again at once); a new pass reaches back before `since` by the
 * connector's overlap. Opaque to the host (base64url JSON).
 */
export interface PositionCursor {
  since: number;
  position: number;
  within: boolean;
}

export function encodePositionCursor(cursor: PositionCursor): string {
  return Buffer.from(JSON.stringify({ v: 1, s: cursor.since, p: cursor.position, w: cursor.within ? 1 : 0 }), 'utf8').toString('base64url');
}

/**
 * The cursor {@link encodePositionCursor} wrote, with a position of at least `lowest` (1 for page numbers, 0 for
 * offsets). Anything else is refused, naming the channel: a cursor another connector wrote is never guessed at.
 */
export function decodePositionCursor(channel: string, text: string, lowest: number): PositionCursor {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    parsed = undefined;
  }
  const c = parsed as { v?: unknown; s?: unknown; p?: unknown; w?: unknown } | undefined;
  if (!c || c.v !== 1 || !Number.isSafeInteger(c.s) || !Number.isSafeInteger(c.p) || (c.p as number) < lowest) {
    throw new RejectedError(`${channel}: the order cursor was not written by this connector`);
  }
  return { since: c.s as number, position: c.p as number, within: c.w === 1 };
}
