/**
 * How the conformance kit finds a webhook's signature without knowing the channel: a header is a
 * signature header when its lower-case name contains `signature` or `hmac`, or is `authorization`.
 * A connector whose channel signs webhooks must carry the signature in such a header, so the kit can
 * prove that a tampered, truncated or unsigned request is refused.
 */
export function isSignatureHeader(name: string): boolean {
  const lower = name.toLowerCase();
  return lower.includes('signature') || lower.includes('hmac') || lower === 'authorization';
}

export function signatureHeaderNames(headers: Readonly<Record<string, string | undefined>>): string[] {
  return Object.keys(headers).filter((name) => headers[name] !== undefined && isSignatureHeader(name));
}

/**
 * `value` with one letter or digit changed, chosen near the middle: the last characters of a base64
 * value may carry only padding bits, so changing them might not change the decoded signature.
 */
export function tamperSignature(value: string): string {
  const chars = [...value];
  const isAlnum = (c: string | undefined): boolean => c !== undefined && /[A-Za-z0-9]/.test(c);
  let at = Math.floor(chars.length / 2);
  while (at < chars.length && !isAlnum(chars[at])) at += 1;
  if (at >= chars.length) at = chars.findIndex((c) => isAlnum(c));
  if (at < 0) return `${value}x`;
  const c = chars[at] as string;
  chars[at] = /[0-9]/.test(c) ? (c === '0' ? '1' : '0') : c === 'a' ? 'b' : c === 'A' ? 'B' : /[a-z]/.test(c) ? 'a' : 'A';
  return chars.join('');
}
