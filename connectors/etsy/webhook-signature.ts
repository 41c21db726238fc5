import { createHmac } from 'node:crypto';
import { safeEqual } from '../_kit/signatures.ts';

/**
 * Etsy signs webhooks the Standard Webhooks way: HMAC-SHA256 over `<webhook-id>.<webhook-timestamp>.<raw body>`,
 * base64, sent as space-separated `v1,<signature>` entries in `webhook-signature`.
 */
export const WEBHOOK_ID = 'webhook-id';
export const WEBHOOK_TIMESTAMP = 'webhook-timestamp';
export const WEBHOOK_SIGNATURE = 'webhook-signature';

/** A `whsec_` secret is base64 key material; any other string is used as its UTF-8 bytes. */
function keyOf(secret: string): Buffer {
  return secret.startsWith('whsec_') ? Buffer.from(secret.slice('whsec_'.length), 'base64') : Buffer.from(secret, 'utf8');
}

export function signWebhook(secret: string, id: string, timestamp: string, rawBody: Buffer | string): string {
  const mac = createHmac('sha256', keyOf(secret));
  mac.update(`${id}.${timestamp}.`);
  mac.update(rawBody);
  return mac.digest('base64');
}

/**
 * True when any `v1` entry of `signatureHeader` matches under any active secret and the timestamp is within
 * `toleranceSec` of now (Standard Webhooks' replay guard). Every pair is compared so timing reveals nothing.
 */
export function verifyWebhook(
  secrets: readonly string[],
  headers: { id: string | undefined; timestamp: string | undefined; signature: string | undefined },
  rawBody: Buffer,
  toleranceSec: number,
  nowSec = Math.floor(Date.now() / 1000),
): boolean {
  const { id, timestamp, signature } = headers;
  if (!id || !timestamp || !signature || !/^\d+$/.test(timestamp)) return false;
  if (Math.abs(nowSec - Number(timestamp)) > toleranceSec) return false;
  const given = signature
    .split(' ')
    .map((entry) => entry.split(','))
    .filter((parts): parts is [string, string] => parts.length === 2 && parts[0] === 'v1')
    .map(([, value]) => value);
  let matched = false;
  for (const secret of secrets) {
    const expected = signWebhook(secret, id, timestamp, rawBody);
    for (const value of given) if (safeEqual(expected, value)) matched = true;
  }
  return matched;
}
