/**
 * The sandbox channel's HTTP API: a generic inventory API shaped like most marketplaces'.
 *
 * - `PUT  /v1/inventory`  body `{ items: [{ sku, quantity }] }` → `{ results: [{ sku, status: "ok", quantity } | { sku, status: "error", code, message }] }`;
 *   per-item codes: `unknown_sku` (no listing), `locked` / `busy` (being edited, try later), `internal`, `invalid_item`.
 * - `GET  /v1/inventory?sku=a,b` → `{ items: [{ sku, quantity }] }`
 * - `GET  /v1/orders/{id}` → {@link SandboxOrder}
 * - `GET  /v1/orders?updated_since=<ISO time>&starting_after=<order id>&limit=<1..100>` → {@link SandboxOrderList}:
 *   orders whose `updatedAt` is at or after `updated_since`, ordered by (`updatedAt`, `id`); `starting_after`
 *   (the last order of the previous page) continues a listing. 400 `{ error: "invalid_request", message }`
 *   for a missing or unreadable `updated_since`, a `limit` out of range, or an unknown `starting_after`.
 * - Auth: `Authorization: Bearer <token>`; 401 `{ error: "unauthorized" }` otherwise.
 * - Batch maximum: 413 `{ error: "batch_too_large", max }`.
 * - Rate limit: token bucket; 429 with `Retry-After` (seconds) and `X-RateLimit-Reset-Ms`.
 * - Order webhooks: `POST <target>` body {@link SandboxOrderWebhook}, header
 *   `X-Sandbox-Signature: sha256=<hex HMAC-SHA256 of the raw body>`, `X-Sandbox-Delivery: <uuid>`.
 */
export interface SandboxOrder {
  id: string;
  lines: Array<{ sku: string; qty: number }>;
  createdAt: string;
  /** Last change of the order (placed, cancelled), ISO 8601. */
  updatedAt: string;
  status: 'open' | 'cancelled';
}

export interface SandboxOrderWebhook {
  topic: 'order.created' | 'order.updated' | 'order.cancelled';
  order: SandboxOrder;
}

export interface SandboxOrderList {
  orders: SandboxOrder[];
  /** True when more orders follow the last one of this page. */
  has_more: boolean;
}

/** Most orders one list call returns. */
export const MAX_LIST_LIMIT = 100;

export const SIGNATURE_HEADER = 'x-sandbox-signature';
export const RESET_HEADER = 'x-ratelimit-reset-ms';
