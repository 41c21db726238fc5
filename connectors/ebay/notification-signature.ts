import { createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import type { EbayPublicKey, EbaySignatureHeader } from './api.ts';

/** Maps eBay's digest names (`SHA1`, `SHA256`) to node:crypto's. */
function digestName(digest: string | undefined): string | undefined {
  if (!digest) return undefined;
  const normalized = digest.replace(/-/g, '').toLowerCase();
  return normalized === 'sha1' || normalized === 'sha256' ? normalized : undefined;
}

/** Decodes the `X-EBAY-SIGNATURE` header; `undefined` when it is not base64 JSON with the four fields. */
export function decodeSignatureHeader(value: string | undefined): EbaySignatureHeader | undefined {
  if (!value) return undefined;
  try {
    const parsed = JSON.parse(Buffer.from(value, 'base64').toString('utf8')) as Partial<EbaySignatureHeader>;
    if (typeof parsed.kid !== 'string' || typeof parsed.signature !== 'string' || !parsed.kid || !parsed.signature) return undefined;
    return { alg: String(parsed.alg ?? ''), kid: parsed.kid, signature: parsed.signature, digest: String(parsed.digest ?? '') };
  } catch {
    return undefined;
  }
}

/**
 * True when `header.signature` is a valid ECDSA signature of `rawBody` under `key`.
 * The digest named by the key wins over the one in the header, so a sender cannot downgrade it.
 */
export function verifyNotification(rawBody: Buffer, header: EbaySignatureHeader, key: EbayPublicKey): boolean {
  if (!/^ecdsa$/i.test(key.algorithm) || !/^ecdsa$/i.test(header.alg)) return false;
  const digest = digestName(key.digest) ?? digestName(header.digest);
  if (!digest) return false;
  let publicKey: KeyObject;
  try {
    publicKey = createPublicKey(key.key);
  } catch {
    return false;
  }
  try {
    return verify(digest, rawBody, publicKey, Buffer.from(header.signature, 'base64'));
  } catch {
    return false;
  }
}

/** Signs a notification body the way eBay does and returns the `X-EBAY-SIGNATURE` header value. */
export function signNotification(rawBody: Buffer | string, kid: string, privateKey: KeyObject, digest: 'SHA1' | 'SHA256' = 'SHA1'): string {
  const signature = sign(digest.toLowerCase(), typeof rawBody === 'string' ? Buffer.from(rawBody) : rawBody, privateKey).toString('base64');
  const header: EbaySignatureHeader = { alg: 'ecdsa', kid, signature, digest };
  return Buffer.from(JSON.stringify(header)).toString('base64');
}
