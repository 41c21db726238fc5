import {
  defineConnector,
  RejectedError,
  RetryableError,
  ThrottledError,
  WebhookPayloadError,
  WebhookSignatureError,
  type InventoryEvent,
  type PushResult,
  type StockUpdate,
} from '../../core/sdk.ts';
import { createHttpClient, retryAfterMs, type HttpResponse } from '../_kit/http-client.ts';
import { matchesAnySecret, secretList } from '../_kit/signatures.ts';
import {
  ACCESS_TOKEN_HEADER,
  Codes,
  INVENTORY_SEARCH_PATH,
  inventoryUpdatePath,
  ORDER_STATUS_CHANGE,
  ORDERS_PATH,
  type InventorySearchData,
  type InventoryUpdateBody,
  type OrdersData,
  type TiktokEnvelope,
  type TiktokWebhook,
} from './api.ts';
import { tiktokOptionsSchema, type TiktokOptions } from './options.ts';
import { signRequest, signWebhook } from './request-signature.ts';

const MAX_BATCH = 100;
const CREDENTIAL_CODES = new Set<number>([Codes.ACCESS_TOKEN_EXPIRED, Codes.ACCESS_TOKEN_INVALID, Codes.INVALID_SIGNATURE]);

type Verdict = { kind: 'ok' } | { kind: 'retry' | 'rejected'; reason: string };

/** Judges one answer: throws for what concerns every call (throttle, credentials), returns the rest. */
function judge(res: HttpResponse, what: string): Verdict {
  const envelope = res.body as Partial<TiktokEnvelope> | undefined;
  const code = typeof envelope?.code === 'number' ? envelope.code : undefined;
  const reason = `TikTok ${what}: ${code ?? res.status} ${envelope?.message ?? ''}`.trim();
  if (res.status === 429 || code === Codes.RATE_LIMITED) throw new ThrottledError(reason, { retryAfterMs: retryAfterMs(res.headers, 1000) });
  if (res.status === 401 || res.status === 403 || (code !== undefined && CREDENTIAL_CODES.has(code))) throw new RejectedError(reason);
  if (res.status >= 500 || code === Codes.INTERNAL) return { kind: 'retry', reason };
  if (res.status === 200 && code === Codes.OK) return { kind: 'ok' };
  return { kind: 'rejected', reason };
}

export default defineConnector<TiktokOptions>({
  name: 'tiktok',
  contractVersion: 1,
  optionsSchema: tiktokOptionsSchema,
  capabilities: {
    // One push carries up to 100 SKUs and makes one call per distinct product.
    maxBatchSize: MAX_BATCH,
    // TikTok publishes no default rate for these endpoints; 10/s keeps clear of its per-app limiter.
    rateLimit: { perSecond: 10, burst: 10 },
    quantityMode: 'absolute',
    maxConcurrency: 4,
  },
  create(options, context) {
    // A push makes one call per product, however it was batched: pace the calls so the app's limit holds.
    const perSecond = options.requestsPerSecond ?? 50;
    const http = createHttpClient(options.baseUrl, { connections: options.connections ?? 8, pace: { perSecond, burst: Math.max(1, Math.floor(perSecond / 2)) } });
    const secrets = secretList(options.appSecret);
    const signingSecret = secrets[0]!;
    const byTiktokSku = new Map<string, string>();
    for (const [hubSku, ref] of Object.entries(options.skus)) byTiktokSku.set(ref.skuId, hubSku);

    /** Sends one signed call: common query parameters, `sign` over the exact body text, access token header. */
    const call = (method: 'GET' | 'POST', path: string, extra: Record<string, string>, body: unknown, signal: AbortSignal): Promise<HttpResponse> => {
      const query: Record<string, string> = { ...extra, app_key: options.appKey, shop_cipher: options.shopCipher, timestamp: String(Math.floor(Date.now() / 1000)) };
      const text = body === undefined ? '' : JSON.stringify(body);
      query.sign = signRequest(signingSecret, path, query, text);
      const search = new URLSearchParams(query).toString();
      return http.request({ method, path: `${path}?${search}`, headers: { [ACCESS_TOKEN_HEADER]: options.accessToken }, body: body === undefined ? undefined : text, signal });
    };

    return {
      async push(updates: readonly StockUpdate[], signal: AbortSignal): Promise<PushResult[]> {
        if (updates.length > MAX_BATCH) throw new RejectedError(`the TikTok connector takes at most ${MAX_BATCH} items per push, got ${updates.length}`);
        const results: PushResult[] = [];
        const byProduct = new Map<string, StockUpdate[]>();
        for (const update of updates) {
          const ref = options.skus[update.sku];
          if (!ref) {
            results.push({ sku: update.sku, status: 'rejected', reason: `no TikTok SKU mapped for hub SKU ${update.sku}` });
            continue;
          }
          byProduct.set(ref.productId, [...(byProduct.get(ref.productId) ?? []), update]);
        }
        // Products one after another: a throttle answer then stops the push before it spends more calls.
        const pending = [...byProduct];
        for (const [index, [productId, group]] of pending.entries()) {
          const body: InventoryUpdateBody = {
            skus: group.map((u) => {
              const ref = options.skus[u.sku]!;
              return { id: ref.skuId, inventory: [ref.warehouseId ? { warehouse_id: ref.warehouseId, quantity: u.quantity } : { quantity: u.quantity }] };
            }),
          };
          let verdict: Verdict;
          try {
            verdict = judge(await call('POST', inventoryUpdatePath(productId), {}, body, signal), `inventory update of product ${productId}`);
          } catch (err) {
            // Throttled after some products were written: keep what landed and retry only the rest later, so a
            // push spanning many products still makes progress instead of starting over each time.
            if (!(err instanceof ThrottledError) || index === 0) throw err;
            for (const [, rest] of pending.slice(index)) {
              for (const u of rest) results.push({ sku: u.sku, status: 'retry', reason: err.message, afterMs: err.retryAfterMs });
            }
            break;
          }
          for (const u of group) results.push(verdict.kind === 'ok' ? { sku: u.sku, status: 'ok', quantity: u.quantity } : { sku: u.sku, status: verdict.kind, reason: verdict.reason });
        }
        return results;
      },

      async handleWebhook(request, signal) {
        const given = request.headers.authorization;
        if (!matchesAnySecret(secrets, given, (secret) => signWebhook(secret, options.appKey, request.rawBody))) {
          throw new WebhookSignatureError('missing or wrong Authorization signature');
        }
        let payload: TiktokWebhook;
        try {
          payload = JSON.parse(request.rawBody.toString('utf8')) as TiktokWebhook;
        } catch (err) {
          throw new WebhookPayloadError('body is not JSON', { cause: err });
        }
        if (payload.type !== ORDER_STATUS_CHANGE) {
          context.logger.debug('TikTok webhook ignored', { type: payload.type });
          return { events: [] };
        }
        const orderId = payload.data?.order_id;
        if (typeof orderId !== 'string' || !orderId) throw new WebhookPayloadError('data.order_id is required');

        // The webhook carries only the id and status: the lines come from Get Order Detail.
        const res = await call('GET', ORDERS_PATH, { ids: orderId }, undefined, signal);
        const verdict = judge(res, `order detail ${orderId}`);
        if (verdict.kind === 'retry') throw new RetryableError(verdict.reason);
        if (verdict.kind === 'rejected') throw new WebhookPayloadError(verdict.reason);
        const order = (res.body as TiktokEnvelope<OrdersData>).data?.orders?.find((o) => o.id === orderId);
        if (!order) throw new WebhookPayloadError(`TikTok does not know order ${orderId}`);

        // TikTok lists one line item per unit sold: count them per SKU.
        const quantities = new Map<string, number>();
        for (const item of order.line_items ?? []) {
          const sku = byTiktokSku.get(item.sku_id) ?? item.seller_sku;
          quantities.set(sku, (quantities.get(sku) ?? 0) + 1);
        }
        const cancelled = order.status === 'CANCELLED';
        const event: InventoryEvent = {
          id: `${context.channelId}:order:${order.id}:${cancelled ? 'cancelled' : 'confirmed'}`,
          type: cancelled ? 'order.cancelled' : 'order.confirmed',
          channel: context.channelId,
          occurredAt: new Date(order.create_time * 1000).toISOString(),
          orderId: order.id,
          lines: [...quantities].map(([sku, qty]) => ({ sku, qty })),
        };
        return { events: [event] };
      },

      async fetchQuantities(skus, signal) {
        const mapped = skus.filter((sku) => options.skus[sku]);
        const shown = new Map<string, number>();
        if (mapped.length === 0) return shown;
        const res = await call('POST', INVENTORY_SEARCH_PATH, {}, { sku_ids: mapped.map((sku) => options.skus[sku]!.skuId) }, signal);
        const verdict = judge(res, 'inventory search');
        if (verdict.kind !== 'ok') throw new RetryableError(verdict.reason);
        for (const product of (res.body as TiktokEnvelope<InventorySearchData>).data?.inventory ?? []) {
          for (const sku of product.skus) {
            const hubSku = byTiktokSku.get(sku.id);
            if (!hubSku) continue;
            const warehouse = options.skus[hubSku]?.warehouseId;
            const quantity = warehouse ? sku.warehouse_inventory.find((w) => w.warehouse_id === warehouse)?.available_quantity : sku.total_available_quantity;
            if (quantity !== undefined) shown.set(hubSku, quantity);
          }
        }
        return shown;
      },

      close: () => http.close(),
    };
  },
  simulator: async (options) => (await import('./simulator.ts')).startTiktokSimulator(options),
});
