import { request } from 'undici';
import type { SimulatorHandle, SimulatorOptions, WebhookDelivery } from 'stockrelay';
import { AUTH_HEADER, MAX_BATCH, SIGNATURE_HEADER, type AcmeOrderWebhook, type AcmeStockResult } from './api.ts';
import { hmacSha256, startSimServer, TokenBucket, type SimResponse } from 'stockrelay/kit';
import type { AcmeOptions } from './options.ts';

export interface AcmeSimulatorOptions extends SimulatorOptions {
  /** API key the simulator accepts. */
  apiKey?: string;
  /** Secret that signs order webhooks. */
  webhookSecret?: string;
}

/**
 * A local Acme API that behaves like the documented one (auth, batch maximum, 429 with Retry-After,
 * per-item errors for unknown listings, signed order webhooks), so the connector can be tested,
 * benchmarked and demonstrated without an Acme account.
 */
export async function startAcmeSimulator(options: AcmeSimulatorOptions = {}): Promise<SimulatorHandle<AcmeOptions>> {
  const apiKey = options.apiKey ?? 'acme-key';
  const webhookSecret = options.webhookSecret ?? 'acme-webhook-secret';
  const rate = options.rateLimit ?? { perSecond: 5, burst: 10 };
  const bucket = new TokenBucket(rate.perSecond, rate.burst);
  /** Acme's own state: listing id → hub SKU and what it shows. */
  const listings = new Map<string, { sku: string; available: number }>();
  const listingOfSku = new Map<string, string>();
  let itemsWritten = 0;
  let orderSeq = 0;
  let webhookTarget: string | undefined;

  const list = (sku: string, available: number): string => {
    const existing = listingOfSku.get(sku);
    if (existing) return existing;
    const listingId = `L${String(listingOfSku.size + 1).padStart(6, '0')}`;
    listings.set(listingId, { sku, available });
    listingOfSku.set(sku, listingId);
    return listingId;
  };
  for (const [sku, available] of Object.entries(options.skus ?? {})) list(sku, available);

  const server = await startSimServer({
    name: 'acme',
    port: options.port,
    latency: options.latency,
    // The per-item faults are answered below in Acme's own per-item shape; the kit does the rest.
    itemFaults: ['item-locked', 'item-unknown'],
    route(req): SimResponse {
      if (req.headers[AUTH_HEADER] !== apiKey) return { status: 401, body: { error: 'unauthorized' } };
      const slot = bucket.take();
      if (!slot.ok) return { status: 429, headers: { 'retry-after': String(Math.ceil(slot.retryAfterMs / 1000)) }, body: { error: 'rate_limited' } };
      if (req.method === 'POST' && req.path === '/api/v2/stock/batch') {
        const updates = (req.json as { updates?: unknown } | undefined)?.updates;
        if (!Array.isArray(updates)) return { status: 400, body: { error: 'invalid_request' } };
        if (updates.length > MAX_BATCH) return { status: 400, body: { error: 'too_many_updates', max: MAX_BATCH } };
        const unknownNow = req.fault?.kind === 'item-unknown' ? new Set(req.fault.skus) : undefined;
        const lockedNow = req.fault?.kind === 'item-locked' ? new Set(req.fault.skus) : undefined;
        const results = updates.map((u: { listingId?: unknown; available?: unknown }): AcmeStockResult => {
          const listingId = typeof u.listingId === 'string' ? u.listingId : '';
          const listing = listings.get(listingId);
          if (!listing || unknownNow?.has(listing.sku)) return { listingId, ok: false, error: { code: 'unknown_listing', message: `no listing ${listingId}` } };
          if (lockedNow?.has(listing.sku)) return { listingId, ok: false, error: { code: 'listing_locked', message: `listing ${listingId} is being edited` } };
          if (!Number.isInteger(u.available) || (u.available as number) < 0) {
            return { listingId, ok: false, error: { code: 'invalid_quantity', message: 'available must be a non-negative integer' } };
          }
          listing.available = u.available as number;
          itemsWritten += 1;
          return { listingId, ok: true, available: listing.available };
        });
        return { status: 200, body: { results }, wrote: true };
      }
      if (req.method === 'GET' && req.path === '/api/v2/stock') {
        const ids = (req.query.get('listing') ?? '').split(',').filter((id) => listings.has(id));
        return { status: 200, body: { stock: ids.map((listingId) => ({ listingId, available: listings.get(listingId)?.available })) } };
      }
      return { status: 404, body: { error: 'not_found' } };
    },
  });

  /** The headers Acme sends with a webhook body: the HMAC covers the raw body only. */
  const signWebhook = (rawBody: Buffer | string, extra: Readonly<Record<string, string>> = {}): Record<string, string> => ({
    'content-type': 'application/json',
    ...extra,
    [SIGNATURE_HEADER]: hmacSha256(webhookSecret, rawBody, 'base64'),
  });

  const deliver = async (payload: AcmeOrderWebhook): Promise<void> => {
    if (!webhookTarget) throw new Error('acme simulator: no webhook target set');
    const body = JSON.stringify(payload);
    const res = await request(webhookTarget, { method: 'POST', headers: signWebhook(body), body });
    await res.body.dump();
    if (res.statusCode >= 300) throw new Error(`acme simulator: webhook answered ${res.statusCode}`);
  };

  return {
    url: server.url,
    connectorOptions: (skus) => ({
      baseUrl: server.url,
      apiKey,
      webhookSecret,
      listings: Object.fromEntries(skus.map((sku) => [sku, list(sku, 0)])),
    }),
    shown: (sku) => {
      const listingId = listingOfSku.get(sku);
      return listingId === undefined ? undefined : listings.get(listingId)?.available;
    },
    setShown: (sku, quantity) => {
      const listing = listings.get(list(sku, quantity));
      if (listing) listing.available = quantity;
    },
    stats: () => ({ ...server.counters, itemsWritten }),
    setFault: server.setFault,
    faults: server.faults,
    signWebhook: (rawBody, headers) => signWebhook(rawBody, headers),
    setWebhookTarget(url) {
      webhookTarget = url;
    },
    async placeOrder(lines, delivery: WebhookDelivery = {}) {
      orderSeq += 1;
      const orderId = `ACME-${process.pid}-${Date.now().toString(36)}-${orderSeq}`;
      const orderLines = lines.map((line) => {
        const listingId = list(line.sku, 0);
        const listing = listings.get(listingId);
        if (listing) listing.available = Math.max(0, listing.available - line.qty);
        return { listingId, quantity: line.qty };
      });
      const placed: AcmeOrderWebhook = { event: 'order.placed', orderId, placedAt: new Date().toISOString(), lines: orderLines };
      const sequence = delivery.outOfOrder ? [{ ...placed, event: 'order.updated' as const }, placed] : [placed];
      for (let i = 0; i < (delivery.times ?? 1); i++) for (const payload of sequence) await deliver(payload);
      return { orderId };
    },
    close: server.close,
  };
}
