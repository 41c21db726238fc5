/**
 * The sandbox channel's HTTP API: a generic inventory API shaped like most marketplaces'.
 *
 * - `PUT  /v1/inventory`  body `{ items: [{ sku, quantity }] }` → `{ results: [{ sku, status: "ok", quantity } | { sku, status: "error", code, message }] }`;
 *   per-item codes: `unknown_sku` (no listing), `locked` / `busy` (being edited, try later), `internal`, `invalid_item`.
 * - `GET  /v1/inventory?sku=a,b` → `{ items: [{ sku, quantity }] }`
 * - `GET  /v1/orders/{id}` → `{ id, lines: [{ sku, qty }], createdAt }`
 * - Auth: `Authorization: Bearer <token>`; 401 `{ error: "unauthorized" }` otherwise.
 * - Batch maximum: 413 `{ error: "batch_too_large", max }`.
 * - Rate limit: token bucket; 429 with `Retry-After` (seconds) and `X-RateLimit-Reset-Ms`.
 * - Order webhooks: `POST <target>` body {@link SandboxOrderWebhook}, header
 *   `X-Sandbox-Signature: sha256=<hex HMAC-SHA256 of the raw body>`, `X-Sandbox-Delivery: <uuid>`.
 */
export interface SandboxOrderWebhook {
  topic: 'order.created' | 'order.updated' | 'order.cancelled';
  order: { id: string; lines: Array<{ sku: string; qty: number }>; createdAt: string };
}

export const SIGNATURE_HEADER = 'x-sandbox-signature';
export const RESET_HEADER = 'x-ratelimit-reset-ms';
