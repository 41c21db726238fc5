import { createHmac, timingSafeEqual } from 'node:crypto';

/** HMAC-SHA256 of `payload` with `secret`, in the given encoding. */
export function hmacSha256(secret: string | Buffer, payload: string | Buffer, encoding: 'base64' | 'hex'): string {
  return createHmac('sha256', secret).update(payload).digest(encoding);
}

/** Constant-time comparison of two strings; false (not a throw) when lengths differ. */
export function safeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  if (left.length !== right.length) return false;
  return timingSafeEqual(left, right);
}

/**
 * True when `given` equals the expected signature under any of the active secrets,
 * so a seller can rotate a secret without dropping webhooks signed with the old one.
 */
export function matchesAnySecret(secrets: readonly string[], given: string | undefined, sign: (secret: string) => string): boolean {
  if (!given) return false;
  let matched = false;
  // Check every secret (no early exit) so timing does not reveal which one matched.
  for (const secret of secrets) if (safeEqual(sign(secret), given)) matched = true;
  return matched;
}

/** Options accept one secret or a list of active secrets during rotation. */
export function secretList(value: string | readonly string[] | undefined): string[] {
  if (value === undefined) return [];
  return typeof value === 'string' ? [value] : [...value];
}
