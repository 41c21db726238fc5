import { randomUUID } from 'node:crypto';
import { request } from 'undici';
import { type SimulatorHandle, type SimulatorOptions, TokenBucket, type WebhookDelivery } from '../../core/sdk.ts';
import { hmacSha256 } from '../_kit/signatures.ts';
import { startSimServer, type SimResponse } from '../_kit/sim-server.ts';
import { MAX_LIST_LIMIT, RESET_HEADER, SIGNATURE_HEADER, type SandboxOrder, type SandboxOrderList, type SandboxOrderWebhook } from './api.ts';
import type { SandboxOptions } from './options.ts';
import { LISTINGS_PATH, listingsRoute } from './listings.ts';

/** Most items a list call returns when it names no `limit`. */
const DEFAULT_LIST_LIMIT = 50;

function listLimit(query: URLSearchParams): number | null {
  const limit = Number(query.get('limit') ?? DEFAULT_LIST_LIMIT);
  return Number.isInteger(limit) && limit >= 1 && limit <= MAX_LIST_LIMIT ? limit : null;
}

function byUpdate(a: SandboxOrder, b: SandboxOrder): number {
  const t = Date.parse(a.updatedAt) - Date.parse(b.updatedAt);
  if (t !== 0) return t;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

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
  placeOrder: NonNullable<SimulatorHandle<SandboxOptions>['placeOrder']>;
  setWebhookTarget: NonNullable<SimulatorHandle<SandboxOptions>['setWebhookTarget']>;
  signWebhook: NonNullable<SimulatorHandle<SandboxOptions>['signWebhook']>;
  /** Every order list asked for, in order: `updated_since` and `starting_after` as sent. */
  orderQueries(): ReadonlyArray<{ updatedSince: string; startingAfter?: string }>;
}

export async function startSandboxSimulator(options: SandboxSimulatorOptions = {}): Promise<SandboxSimulator> {
  const token = options.token ?? 'sandbox-token';
  const webhookSecret = options.webhookSecret ?? 'sandbox-webhook-secret';
  const maxBatch = options.maxBatchSize ?? 500;
  const rate = options.rateLimit ?? { perSecond: 10, burst: 10 };
  const bucket = new TokenBucket(rate.perSecond, rate.burst);
  const shown = new Map<string, number>(Object.entries(options.skus ?? {}));
  const writeLog = new Map<string, Array<[number, number]>>();
  const orders = new Map<string, SandboxOrder>();
  let itemsWritten = 0;
  let webhookTarget: string | undefined;
  let orderSeq = 0;
  const orderQueries: Array<{ updatedSince: string; startingAfter?: string }> = [];

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
      if (req.method === 'GET' && req.path === '/v1/orders') return listOrders(req.query);
      const orderMatch = /^\/v1\/orders\/([^/]+)$/.exec(req.path);
      if (req.method === 'GET' && orderMatch) {
        const order = orders.get(decodeURIComponent(orderMatch[1] ?? ''));
        return order ? { status: 200, body: order } : { status: 404, body: { error: 'not_found' } };
      }
      return { status: 404, body: { error: 'not_found' } };
    },
  });

  /** Orders changed at or after `updated_since`, by (updatedAt, id), a page after `starting_after`. */
  function listOrders(query: URLSearchParams): SimResponse {
    const since = Date.parse(query.get('updated_since') ?? '');
    if (!Number.isFinite(since)) return { status: 400, body: { error: 'invalid_request', message: 'updated_since must be an ISO 8601 time' } };
    const limit = listLimit(query);
    if (limit === null) return { status: 400, body: { error: 'invalid_request', message: `limit must be an integer from 1 to ${MAX_LIST_LIMIT}` } };
    orderQueries.push({ updatedSince: query.get('updated_since')!, ...(query.get('starting_after') !== null ? { startingAfter: query.get('starting_after')! } : {}) });
    const sorted = [...orders.values()].filter((o) => Date.parse(o.updatedAt) >= since).sort(byUpdate);
    let start = 0;
    const after = query.get('starting_after');
    if (after !== null) {
      const last = orders.get(after);
      if (!last) return { status: 400, body: { error: 'invalid_request', message: `starting_after names no order: ${after}` } };
      start = sorted.findIndex((o) => byUpdate(o, last) > 0);
      if (start < 0) start = sorted.length;
    }
    const page = sorted.slice(start, start + limit);
    const body: SandboxOrderList = { orders: page, has_more: start + limit < sorted.length };
    return { status: 200, body };
  }

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
    orderQueries: () => orderQueries,
    stats: () => ({ ...server.counters, itemsWritten }),
    setFault: server.setFault,
    faults: server.faults,
    signWebhook: (rawBody, headers) => signWebhook(rawBody, headers),
    setWebhookTarget(url) {
      webhookTarget = url;
    },
    async placeOrder(lines, delivery: WebhookDelivery = {}) {
      orderSeq += 1;
      const at = new Date().toISOString();
      const order: SandboxOrder = { id: `SBX-${process.pid}-${Date.now().toString(36)}-${String(orderSeq).padStart(6, '0')}`, lines: lines.map((l) => ({ ...l })), createdAt: at, updatedAt: at, status: 'open' };
      for (const line of lines) shown.set(line.sku, Math.max(0, (shown.get(line.sku) ?? 0) - line.qty));
      orders.set(order.id, order);
      const created: SandboxOrderWebhook = { topic: 'order.created', order };
      const updated: SandboxOrderWebhook = { topic: 'order.updated', order };
      // A dropped notification is lost for good: the order exists, only the orders API shows it.
      if (delivery.drop) return { orderId: order.id };
      const sequence = delivery.outOfOrder ? [updated, created] : [created];
      for (let i = 0; i < (delivery.times ?? 1); i++) for (const payload of sequence) await deliver(payload);
      return { orderId: order.id };
    },
    close: server.close,
  };
}
