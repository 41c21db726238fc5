import { createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import type { EbayPublicKey, EbaySignatureHeader } from './api.ts';

/** Maps eBay's digest names (`SHA1`, `SHA256`) to node:crypto's. */
function digestName(digest: string | undefined): string | undefined {
  if (!digest) return undefined;
  const normalized = digest.replace(/-/g, '').toLowerCase();
  return normalized === 'sha1' || normalized === 'sha256' ? normalized : undefined;
}

/*
 * Bounds for the header's parts. eBay's key ids are UUIDs and its signatures DER-encoded ECDSA (about 96
 * base64 characters for P-256); the bounds leave room for other curves while keeping anything absurd from
 * reaching the key lookup, which costs an outbound call.
 */
const MAX_HEADER_LENGTH = 2048;
const KID = /^[A-Za-z0-9._:-]{1,128}$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const MAX_SIGNATURE_LENGTH = 256;

/**
 * Decodes the `X-EBAY-SIGNATURE` header: base64 of JSON `{ alg, kid, signature, digest }`. Checks every part
 * before anything costs a call: `undefined` unless the header is base64 JSON naming ECDSA, a key id of a sane
 * shape, a base64 signature of plausible length and a known digest (or none, when the key will name it).
 */
export function decodeSignatureHeader(value: string | undefined): EbaySignatureHeader | undefined {
  if (!value || value.length > MAX_HEADER_LENGTH || !BASE64.test(value)) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(value, 'base64').toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return undefined;
  const { alg, kid, signature, digest } = parsed as Record<string, unknown>;
  if (typeof alg !== 'string' || !/^ecdsa$/i.test(alg)) return undefined;
  if (typeof kid !== 'string' || !KID.test(kid)) return undefined;
  if (typeof signature !== 'string' || signature.length < 16 || signature.length > MAX_SIGNATURE_LENGTH || !BASE64.test(signature)) return undefined;
  if (digest !== undefined && (typeof digest !== 'string' || !digestName(digest))) return undefined;
  return { alg, kid, signature, digest: typeof digest === 'string' ? digest : '' };
}

/**
 * The public key from eBay's getPublicKey answer. eBay sends PEM text on ONE line
 * (`-----BEGIN PUBLIC KEY-----MFkw…-----END PUBLIC KEY-----`), which OpenSSL's PEM reader refuses; the base64
 * between the markers is the DER SubjectPublicKeyInfo, read directly so line breaks never matter.
 */
export function publicKeyFromEbay(text: string): KeyObject | undefined {
  const match = /-----BEGIN PUBLIC KEY-----([\s\S]*?)-----END PUBLIC KEY-----/.exec(text);
  const base64 = (match ? match[1]! : text).replace(/\s+/g, '');
  if (!base64 || !BASE64.test(base64)) return undefined;
  try {
    return createPublicKey({ key: Buffer.from(base64, 'base64'), format: 'der', type: 'spki' });
  } catch {
    return undefined;
  }
}

/**
 * True when `header.signature` is a valid ECDSA signature of `rawBody` under `key`.
 * The digest named by the key wins over the one in the header, so a sender cannot downgrade it.
 */
export function verifyNotification(rawBody: Buffer, header: EbaySignatureHeader, key: EbayPublicKey): boolean {
  if (typeof key.algorithm !== 'string' || !/^ecdsa$/i.test(key.algorithm) || !/^ecdsa$/i.test(header.alg)) return false;
  const digest = digestName(key.digest) ?? digestName(header.digest);
  if (!digest || typeof key.key !== 'string') return false;
  const publicKey = publicKeyFromEbay(key.key);
  if (!publicKey) return false;
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

/** A public key as eBay's getPublicKey serves it: SPKI DER in base64 between the PEM markers, on one line. */
export function ebayPublicKeyText(publicKey: KeyObject): string {
  const der = publicKey.export({ type: 'spki', format: 'der' });
  return `-----BEGIN PUBLIC KEY-----${der.toString('base64')}-----END PUBLIC KEY-----`;
}
