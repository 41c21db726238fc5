import { hmacSha256 } from '../_kit/signatures.ts';

/** Query parameters never part of the signed string. */
const UNSIGNED = new Set(['sign', 'access_token']);

/**
 * TikTok Shop's request `sign`: hex HMAC-SHA256, keyed with the app secret, of
 * `app_secret + path + (sorted key+value of every query parameter but sign and access_token) + body + app_secret`.
 * The body is the exact JSON text sent (empty for GET and multipart).
 */
export function signRequest(appSecret: string, path: string, query: Readonly<Record<string, string>>, body: string): string {
  const params = Object.keys(query)
    .filter((key) => !UNSIGNED.has(key))
    .sort()
    .map((key) => `${key}${query[key]}`)
    .join('');
  return hmacSha256(appSecret, `${appSecret}${path}${params}${body}${appSecret}`, 'hex');
}

/** TikTok's webhook `Authorization` value: hex HMAC-SHA256, keyed with the app secret, of `app_key + raw body`. */
export function signWebhook(appSecret: string, appKey: string, rawBody: Buffer | string): string {
  return hmacSha256(appSecret, Buffer.concat([Buffer.from(appKey), typeof rawBody === 'string' ? Buffer.from(rawBody) : rawBody]), 'hex');
}
