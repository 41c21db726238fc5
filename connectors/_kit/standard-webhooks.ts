import { createHmac } from 'node:crypto';
import { safeEqual } from './signatures.ts';

/**
 * The Standard Webhooks signature scheme (standardwebhooks.com): the signed content is
 * `<webhook-id>.<webhook-timestamp>.<raw body>`, the key is the base64 text after the `whsec_`
 * prefix of the secret, and `webhook-signature` carries one or more space-separated `v1,<base64>`
 * entries so a sender can sign with an old and a new secret during a rotation.
 */
export const STANDARD_WEBHOOK_HEADERS = { id: 'webhook-id', timestamp: 'webhook-timestamp', signature: 'webhook-signature' } as const;

/** Default replay window of the specification: five minutes either side of our clock. */
export const DEFAULT_TOLERANCE_SECONDS = 300;

function secretKey(secret: string): Buffer {
  return Buffer.from(secret.startsWith('whsec_') ? secret.slice('whsec_'.length) : secret, 'base64');
}

/** The `v1,<base64>` entry for one message under one secret. */
export function signStandardWebhook(secret: string, id: string, timestampSeconds: number, body: string | Buffer): string {
  const digest = createHmac('sha256', secretKey(secret)).update(`${id}.${timestampSeconds}.`).update(body).digest('base64');
  return `v1,${digest}`;
}

export type StandardWebhookVerdict = { ok: true } | { ok: false; reason: string };

/**
 * Checks the three headers against every active secret in constant time per comparison.
 * Fails on a missing header, a timestamp outside the tolerance (replays), or no matching `v1` entry.
 */
export function verifyStandardWebhook(
  secrets: readonly string[],
  headers: Readonly<Record<string, string | undefined>>,
  rawBody: Buffer,
  options: { toleranceSeconds?: number; nowSeconds?: number } = {},
): StandardWebhookVerdict {
  const id = headers[STANDARD_WEBHOOK_HEADERS.id];
  const timestamp = headers[STANDARD_WEBHOOK_HEADERS.timestamp];
  const signature = headers[STANDARD_WEBHOOK_HEADERS.signature];
  if (!id || !timestamp || !signature) return { ok: false, reason: 'missing webhook-id, webhook-timestamp or webhook-signature' };
  if (!/^\d+$/.test(timestamp)) return { ok: false, reason: 'webhook-timestamp is not a Unix time in seconds' };
  const now = options.nowSeconds ?? Math.floor(Date.now() / 1000);
  const tolerance = options.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  if (Math.abs(now - Number(timestamp)) > tolerance) return { ok: false, reason: `webhook-timestamp is more than ${tolerance} s away from now` };
  const given = signature.split(' ').filter((entry) => entry.startsWith('v1,'));
  if (given.length === 0) return { ok: false, reason: 'webhook-signature holds no v1 entry' };
  let matched = false;
  // Every pair is compared (no early exit) so timing does not tell which secret or entry matched.
  for (const secret of secrets) {
    const expected = signStandardWebhook(secret, id, Number(timestamp), rawBody);
    for (const entry of given) if (safeEqual(expected, entry)) matched = true;
  }
  return matched ? { ok: true } : { ok: false, reason: 'no webhook-signature entry matches an active secret' };
}
