import { hmacSha256 } from '../_kit/signatures.ts';

// WordPress's wp_specialchars_decode() with ENT_QUOTES: these entities (zero padding on the numeric ones
// allowed) become their characters, in one pass, so "&amp;lt;" becomes "&lt;", not "<".
const ENTITIES: Readonly<Record<string, string>> = {
  '&#039;': "'",
  '&#x27;': "'",
  '&quot;': '"',
  '&#034;': '"',
  '&#x22;': '"',
  '&lt;': '<',
  '&#060;': '<',
  '&gt;': '>',
  '&#062;': '>',
  '&amp;': '&',
  '&#038;': '&',
  '&#x26;': '&',
};
const ENTITY = /&(?:#0*39|#x0*27|quot|#0*34|#x0*22|lt|#0*60|gt|#0*62|amp|#0*38|#x0*26);/gi;

function canonical(entity: string): string {
  const lower = entity.toLowerCase();
  if (!lower.startsWith('&#')) return entity;
  const hex = lower.startsWith('&#x');
  const digits = lower.slice(hex ? 3 : 2, -1).replace(/^0+/, '');
  return hex ? `&#x${digits};` : `&#${digits.padStart(3, '0')};`;
}

/** wp_specialchars_decode($text, ENT_QUOTES): the named entities are case-sensitive, as in WordPress. */
export function wpSpecialcharsDecode(text: string): string {
  if (!text.includes('&')) return text;
  return text.replace(ENTITY, (entity) => ENTITIES[canonical(entity)] ?? entity);
}

/**
 * X-WC-Webhook-Signature as WooCommerce computes it (WC_Webhook::generate_signature): base64 of the
 * HMAC-SHA256 of the raw body, keyed with the webhook secret after wp_specialchars_decode(…, ENT_QUOTES).
 * WordPress can store a secret with HTML entities (&amp; for &); the key is the decoded text.
 */
export function wooWebhookSignature(secret: string, rawBody: Buffer | string): string {
  return hmacSha256(wpSpecialcharsDecode(secret), rawBody, 'base64');
}
