/** Longest error text the read API shows. */
const MAX_SHORT_ERROR = 120;

/**
 * The gist of a push error for the read API: its first line, cut where a channel's response body starts
 * (`{`, `[`, `<`), at most 120 characters. A raw channel body can echo the request; read-scope callers
 * (agents, storefronts) get what went wrong, never what the channel said back. Admins read the full,
 * redacted text in `stockrelay why` and the dead letters.
 */
export function shortError(text: string): string {
  const firstLine = text.split(/\r?\n/, 1)[0] ?? '';
  const bodyAt = firstLine.search(/[{[<]/);
  const head = (bodyAt >= 0 ? firstLine.slice(0, bodyAt) : firstLine).replace(/[\s:;,=-]+$/, '');
  const short = head === '' ? 'the channel refused the update' : head;
  return short.length > MAX_SHORT_ERROR ? `${short.slice(0, MAX_SHORT_ERROR - 1)}…` : short;
}
