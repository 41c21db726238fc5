import { randomUUID } from 'node:crypto';
import { request } from 'undici';
import { type SimulatorHandle, type SimulatorOptions, TokenBucket, type WebhookDelivery } from '../../core/sdk.ts';
import { hmacSha256 } from '../_kit/signatures.ts';
import { startSimServer, type SimResponse } from '../_kit/sim-server.ts';
import { RESET_HEADER, SIGNATURE_HEADER, type SandboxOrderWebhook } from './api.ts';
import type { SandboxOptions } from './options.ts';
import { LISTINGS_PATH, listingsRoute } from './listings.ts';

export interface SandboxSimulatorOptions extends SimulatorOptions {
  /** Bearer token the API accepts. */
  token?: string;
  /** Secret used to sign order webhooks. */
  webhookSecret?: string;
  /** Largest `items` array accepted. Default 500. */
  maxBatchSize?: number;
  /** Accept writes only for SKUs listed in `skus` (others get a per-item `unknown_sku` error). Default false. */
  strictListing?: boolean;
}

export interface SandboxSimulator extends SimulatorHandle<SandboxOptions> {
  /** Per-SKU write log: `[time, quantity]` pairs, for tests that check ordering. */
  writes(sku: string): ReadonlyArray<readonly [number, number]>;
}

export async function startSandboxSimulator(options: SandboxSimulatorOptions = {}): Promise<SandboxSimulator> {
  const token = options.token ?? 'sandbox-token';
  const webhookSecret = options.webhookSecret ?? 'sandbox-webhook-secret';
  const maxBatch = options.maxBatchSize ?? 500;
  const rate = options.rateLimit ?? { perSecond: 10, burst: 10 };
  const bucket = new TokenBucket(rate.perSecond, rate.burst);
  const shown = new Map<string, number>(Object.entries(options.skus ?? {}));
  const writeLog = new Map<string, Array<[number, number]>>();
  const orders = new Map<string, SandboxOrderWebhook['order']>();
  let itemsWritten = 0;
  let webhookTarget: string | undefined;
  let orderSeq = 0;

  const server = await startSimServer({
    name: 'sandbox',
    port: options.port,
    latency: options.latency,
    itemFaults: ['item-locked', 'item-unknown'],
    route(req): SimResponse {
      if (req.headers.authorization !== `Bearer ${token}`) return { status: 401, body: { error: 'unauthorized' } };
      const slot = bucket.take();
      if (!slot.ok) {
        return {
          status: 429,
          headers: { 'retry-after': String(Math.ceil(slot.retryAfterMs / 1000)), [RESET_HEADER]: String(slot.retryAfterMs) },
          body: { error: 'rate_limited' },
        };
      }
      if (req.method === 'PUT' && req.path === '/v1/inventory') {
        const items = (req.json as { items?: unknown } | undefined)?.items;
        if (!Array.isArray(items)) return { status: 400, body: { error: 'invalid_request', message: 'items must be an array' } };
        if (items.length > maxBatch) return { status: 413, body: { error: 'batch_too_large', max: maxBatch } };
        const now = Date.now();
        const unknownNow = req.fault?.kind === 'item-unknown' ? new Set(req.fault.skus) : undefined;
        const lockedNow = req.fault?.kind === 'item-locked' ? new Set(req.fault.skus) : undefined;
        const results = items.map((item: { sku?: unknown; quantity?: unknown }) => {
          const sku = typeof item.sku === 'string' ? item.sku : '';
          if (!sku || !Number.isInteger(item.quantity) || (item.quantity as number) < 0) {
            return { sku, status: 'error', code: 'invalid_item', message: 'sku and a non-negative integer quantity are required' };
          }
          if ((options.strictListing && !shown.has(sku)) || unknownNow?.has(sku)) return { sku, status: 'error', code: 'unknown_sku', message: `no listing for ${sku}` };
          if (lockedNow?.has(sku)) return { sku, status: 'error', code: 'locked', message: `${sku} is being edited; try again shortly` };
          const quantity = item.quantity as number;
          shown.set(sku, quantity);
          const log = writeLog.get(sku) ?? [];
          log.push([now, quantity]);
          writeLog.set(sku, log);
          itemsWritten += 1;
          return { sku, status: 'ok', quantity };
        });
        return { status: 200, body: { results }, wrote: true };
      }
      if (req.method === 'GET' && req.path === '/v1/inventory') {
        const skus = (req.query.get('sku') ?? '').split(',').filter(Boolean);
        return { status: 200, body: { items: skus.filter((s) => shown.has(s)).map((sku) => ({ sku, quantity: shown.get(sku) })) } };
      }
      if (req.method === 'GET' && req.path === LISTINGS_PATH) return listingsRoute(req, shown);
      const orderMatch = /^\/v1\/orders\/([^/]+)$/.exec(req.path);
      if (req.method === 'GET' && orderMatch) {
        const order = orders.get(decodeURIComponent(orderMatch[1] ?? ''));
        return order ? { status: 200, body: order } : { status: 404, body: { error: 'not_found' } };
      }
      return { status: 404, body: { error: 'not_found' } };
    },
  });

  /** The headers the sandbox sends with a webhook body: the signature covers the raw body only. */
  const signWebhook = (rawBody: Buffer | string, extra: Readonly<Record<string, string>> = {}): Record<string, string> => ({
    'content-type': 'application/json',
    'x-sandbox-delivery': randomUUID(),
    ...extra,
    [SIGNATURE_HEADER]: `sha256=${hmacSha256(webhookSecret, rawBody, 'hex')}`,
  });

  const deliver = async (payload: SandboxOrderWebhook): Promise<void> => {
    if (!webhookTarget) throw new Error('sandbox simulator: no webhook target set');
    const body = JSON.stringify(payload);
    const res = await request(webhookTarget, { method: 'POST', headers: signWebhook(body), body });
    await res.body.dump();
    if (res.statusCode >= 300) throw new Error(`sandbox simulator: webhook answered ${res.statusCode}`);
  };

  return {
    url: server.url,
    connectorOptions: () => ({ baseUrl: server.url, token, webhookSecret }),
    shown: (sku) => shown.get(sku),
    setShown: (sku, quantity) => void shown.set(sku, quantity),
    writes: (sku) => writeLog.get(sku) ?? [],
    stats: () => ({ ...server.counters, itemsWritten }),
    setFault: server.setFault,
    faults: server.faults,
    signWebhook: (rawBody, headers) => signWebhook(rawBody, headers),
    setWebhookTarget(url) {
      webhookTarget = url;
    },
    async placeOrder(lines, delivery: WebhookDelivery = {}) {
      orderSeq += 1;
      const order = { id: `SBX-${process.pid}-${Date.now().toString(36)}-${orderSeq}`, lines: lines.map((l) => ({ ...l })), createdAt: new Date().toISOString() };
      for (const line of lines) shown.set(line.sku, Math.max(0, (shown.get(line.sku) ?? 0) - line.qty));
      orders.set(order.id, order);
      const created: SandboxOrderWebhook = { topic: 'order.created', order };
      const updated: SandboxOrderWebhook = { topic: 'order.updated', order };
      const sequence = delivery.outOfOrder ? [updated, created] : [created];
      for (let i = 0; i < (delivery.times ?? 1); i++) for (const payload of sequence) await deliver(payload);
      return { orderId: order.id };
    },
    close: server.close,
  };
}
