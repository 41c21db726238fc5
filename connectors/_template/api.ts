/**
 * The Acme channel's HTTP API, as far as a stock connector needs it. (Acme is fictional: this folder is
 * the template plugin authors copy. Replace this page with what your channel's documentation says.)
 *
 * - Auth: header `X-Acme-Key: <apiKey>`; 401 `{ error: "unauthorized" }` otherwise.
 * - `POST /api/v2/stock/batch` body `{ updates: [{ listingId, available }] }` (at most {@link MAX_BATCH} updates)
 *   → 200 `{ results: [{ listingId, ok: true, available } | { listingId, ok: false, error: { code, message } }] }`;
 *   400 `{ error: "too_many_updates", max }` for a larger batch. Per-item error codes: `unknown_listing`
 *   (no such listing), `listing_locked` (being edited, try later), `invalid_quantity`, `internal`.
 * - `GET /api/v2/stock?listing=a,b` → `{ stock: [{ listingId, available }] }`.
 * - Rate limit: token bucket; 429 with `Retry-After` (seconds).
 * - Outage: 503.
 * - Order webhooks: `POST <target>` body {@link AcmeOrderWebhook}, header
 *   `X-Acme-Hmac-Sha256: <base64 HMAC-SHA256 of the raw body>`.
 * - Listings: Acme knows listings by its own id; a seller maps each hub SKU to a listing id.
 */
export interface AcmeOrderWebhook {
  event: 'order.placed' | 'order.updated' | 'order.cancelled';
  orderId: string;
  placedAt: string;
  lines: Array<{ listingId: string; quantity: number }>;
}

export interface AcmeStockUpdate {
  listingId: string;
  available: number;
}

export type AcmeStockResult =
  | { listingId: string; ok: true; available: number }
  | { listingId: string; ok: false; error: { code: string; message: string } };

export const MAX_BATCH = 100;
export const AUTH_HEADER = 'x-acme-key';
/** Named so the conformance kit finds it: signature headers contain `signature` or `hmac`, or are `authorization`. */
export const SIGNATURE_HEADER = 'x-acme-hmac-sha256';
/** Per-item error codes for a listing being edited: tried again later without spending an attempt (`busy`). */
export const BUSY_ITEM_CODES: ReadonlySet<string> = new Set(['listing_locked']);
/** Per-item error codes worth another try (`retry`). */
export const RETRYABLE_ITEM_CODES: ReadonlySet<string> = new Set(['internal']);
/** Per-item error codes saying the listing does not exist (ended, deleted): `not_listed`, not pushed again. */
export const NOT_LISTED_ITEM_CODES: ReadonlySet<string> = new Set(['unknown_listing']);
