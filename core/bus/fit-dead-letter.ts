import type { DeadLetter } from './dead-letter.ts';

/** Longest reason kept when a letter must shrink, in characters. */
const MAX_TRUNCATED_REASON = 4096;

/**
 * The JSON of `letter`, at most `maxBytes` bytes of UTF-8. A letter that fits is returned whole. One that
 * does not (a poison event close to the server's max payload, plus its reason) keeps every field but the
 * payload, with the reason cut to 4 KiB; the payload becomes `payloadHead` (as much of its text as fits)
 * and `payloadBytes`, and `payloadTruncated: true`. The original stays findable through the letter's
 * `stream`, `streamSequence`, `subject` and `msgId`.
 */
export function fitDeadLetter(letter: DeadLetter, maxBytes: number): string {
  const whole = JSON.stringify(letter);
  if (Buffer.byteLength(whole) <= maxBytes) return whole;
  const raw = letter.payload === undefined ? '' : typeof letter.payload === 'string' ? letter.payload : (JSON.stringify(letter.payload) ?? '');
  const { payload: _dropped, ...rest } = letter;
  const reason = letter.reason.length > MAX_TRUNCATED_REASON ? `${letter.reason.slice(0, MAX_TRUNCATED_REASON)}... (${letter.reason.length} characters)` : letter.reason;
  const shell: DeadLetter = { ...rest, reason, payloadTruncated: true, payloadBytes: Buffer.byteLength(raw), payloadHead: '' };
  const room = maxBytes - Buffer.byteLength(JSON.stringify(shell));
  if (room <= 0) return JSON.stringify({ ...shell, payloadHead: undefined });
  // Escaping can make a character up to 6 bytes ("\u0000"), so search the longest prefix whose JSON fits.
  let low = 0;
  let high = raw.length;
  while (low < high) {
    const mid = Math.ceil((low + high) / 2);
    if (Buffer.byteLength(JSON.stringify(raw.slice(0, mid))) - 2 <= room) low = mid;
    else high = mid - 1;
  }
  // Never end on half a surrogate pair: it would become a replacement character, or worse, invalid JSON text.
  const cut = low > 0 && /[\uD800-\uDBFF]/.test(raw[low - 1]!) ? low - 1 : low;
  return JSON.stringify({ ...shell, payloadHead: raw.slice(0, cut) });
}
