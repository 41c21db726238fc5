/**
 * Where the sandbox's order catch-up resumes. A listing cut into pages goes on exactly after the last
 * order read (`startingAfter`); a new listing starts `OVERLAP_MS` before the newest change read, so an
 * order whose change time lands a little in the past (clock skew, a slow commit) is still found.
 */
export const OVERLAP_MS = 60_000;

export interface OrderCursor {
  /** Lower bound of `updated_since`, ISO 8601. */
  since: string;
  /** The last order read, when the listing goes on from it. */
  startingAfter?: string;
}

interface StoredCursor {
  /** Newest change time read so far, epoch ms. */
  t: number;
  /** Last order read, when the listing it belongs to has more. */
  after?: string;
}

/** Where to read from for `cursor` (undefined: the first call ever, which starts a little before now). */
export function parseOrderCursor(cursor: string | undefined, now: number): OrderCursor & { t: number } {
  if (cursor === undefined) return { t: now - OVERLAP_MS, since: new Date(now - OVERLAP_MS).toISOString() };
  let stored: Partial<StoredCursor> | null = null;
  try {
    stored = JSON.parse(cursor) as Partial<StoredCursor> | null;
  } catch {
    stored = null;
  }
  // A cursor this connector cannot read starts over from now: the overlap still covers the last minute.
  if (typeof stored?.t !== 'number' || !Number.isFinite(stored.t)) return parseOrderCursor(undefined, now);
  if (typeof stored.after === 'string') return { t: stored.t, since: new Date(stored.t).toISOString(), startingAfter: stored.after };
  return { t: stored.t, since: new Date(stored.t - OVERLAP_MS).toISOString() };
}

/**
 * The cursor after a page: it goes on after `last` while the listing has more; once it has none, it holds
 * the newest change time read (never older than one overlap before now, so the window stays small).
 */
export function orderCursor(from: { t: number }, last: { id: string; updatedAt: string } | undefined, more: boolean, now: number): string {
  const lastAt = last ? Date.parse(last.updatedAt) : NaN;
  const t = Math.max(from.t, Number.isFinite(lastAt) ? lastAt : from.t);
  if (more && last) return JSON.stringify({ t: lastAt, after: last.id } satisfies StoredCursor);
  return JSON.stringify({ t: Math.max(t, now - OVERLAP_MS) } satisfies StoredCursor);
}
