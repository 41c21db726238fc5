import {
  defineConnector,
  isRejectedError,
  isThrottledError,
  retryAfterOf,
  RejectedError,
  WebhookSignatureError,
  type OrderLine,
  type PushResult,
  type StockUpdate,
} from '../../core/sdk.ts';
import { createHttpClient, type HttpResponse } from '../_kit/http-client.ts';
import { throwForStatus } from '../_kit/http-status.ts';
import { orderEvent } from '../_kit/order-events.ts';
import { matchesAnySecret, secretList } from '../_kit/signatures.ts';
import {
  API_PREFIX,
  MAX_BATCH,
  productsBatchPath,
  SIGNATURE_HEADER,
  STOCK_RETURNED_STATUSES,
  STOCK_TAKEN_STATUSES,
  variationsBatchPath,
  type BatchResponse,
  type BatchUpdateItem,
  type WooError,
} from './api.ts';
import { readWooOrderBody } from './order-body.ts';
import { wooCommerceOptionsSchema, type WooCommerceOptions } from './options.ts';
import { wooWebhookSignature } from './webhook-signature.ts';

/** The unsigned ping WooCommerce sends when a webhook is created. */
const PING_BODY = /^webhook_id=\d+$/;

interface Target {
  update: StockUpdate;
  /** The id written in the batch: the product's, or the variation's. */
  id: number;
}

/**
 * What WooCommerce said, for error text: its error `code` and `message`, cut short, never the raw body, which
 * can echo the request and its credentials back.
 */
function brief(body: unknown): string {
  const error = body as Partial<WooError> | null | undefined;
  const text = typeof error?.code === 'string' || typeof error?.message === 'string'
    ? [error?.code, error?.message].filter((part) => typeof part === 'string').join(': ')
    : typeof body === 'string' ? body.replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ').trim() : '';
  return text.length > 200 ? `${text.slice(0, 200)}…` : text || 'no error message';
}

/** Every item of one batch call gets the same outcome when the call itself fails. */
function callFailure(err: unknown, targets: readonly Target[]): PushResult[] {
  if (isRejectedError(err)) return targets.map((t) => ({ sku: t.update.sku, status: 'rejected', reason: err.message }));
  const afterMs = retryAfterOf(err);
  return targets.map((t) => ({ sku: t.update.sku, status: 'retry', reason: err instanceof Error ? err.message : String(err), afterMs }));
}

function itemOutcome(target: Target, error: WooError | undefined, quantity: number | null | undefined): PushResult {
  if (!error) return { sku: target.update.sku, status: 'ok', quantity: typeof quantity === 'number' ? quantity : target.update.quantity };
  const reason = `${error.code}: ${error.message}`;
  // woocommerce_rest_product_invalid_id / woocommerce_rest_product_variation_invalid_id: no such product here.
  if (/^woocommerce_rest_product(_variation)?_invalid_id$/.test(error.code)) return { sku: target.update.sku, status: 'not_listed', reason };
  // Per-item 5xx means WordPress failed saving this one; anything 4xx (invalid id...) will fail again.
  return (error.data?.status ?? 400) >= 500 ? { sku: target.update.sku, status: 'retry', reason } : { sku: target.update.sku, status: 'rejected', reason };
}

export default defineConnector<WooCommerceOptions>({
  name: 'woocommerce',
  contractVersion: 1,
  optionsSchema: wooCommerceOptionsSchema,
  capabilities: {
    maxBatchSize: MAX_BATCH,
    // Core WooCommerce has no rate limit; a batch of 100 saves 100 posts and takes seconds on
    // shared hosting, so a gentle pace protects the seller's own site. Hosts that do limit answer 429/503.
    rateLimit: { perSecond: 2, burst: 4 },
    quantityMode: 'absolute',
    maxConcurrency: 2,
  },
  create(options, context) {
    const http = createHttpClient(options.baseUrl, { connections: options.connections ?? 4, timeoutMs: 30_000 });
    const secrets = secretList(options.webhookSecret);
    const authMode = options.authMode ?? 'basic';
    const basic = Buffer.from(`${options.consumerKey}:${options.consumerSecret}`).toString('base64');
    // Derived from the configured key and secret, so the host cannot know to mask it unless told.
    context.registerSecret(basic);
    for (const part of [options.consumerKey, options.consumerSecret]) if (encodeURIComponent(part) !== part) context.registerSecret(encodeURIComponent(part));
    const headers: Record<string, string> = authMode === 'basic' ? { authorization: `Basic ${basic}` } : {};
    const withAuth = (path: string): string => {
      if (authMode !== 'query') return path;
      const sep = path.includes('?') ? '&' : '?';
      return `${path}${sep}consumer_key=${encodeURIComponent(options.consumerKey)}&consumer_secret=${encodeURIComponent(options.consumerSecret)}`;
    };
    const base = new URL(options.baseUrl);
    if (authMode === 'basic' && base.protocol !== 'https:' && !['127.0.0.1', 'localhost', '[::1]'].includes(base.hostname)) {
      context.logger.warn('WooCommerce accepts Basic auth over HTTPS only; this base URL is not HTTPS', { baseUrl: options.baseUrl });
    }
    // Order lines carry product_id and variation_id: map them back to hub SKUs.
    const skuById = new Map<string, string>();
    for (const [sku, m] of Object.entries(options.skus)) skuById.set(`${m.productId}:${m.variationId ?? 0}`, sku);

    const judge = (res: HttpResponse, what: string): void => {
      if (res.status === 413) throw new RejectedError(`woocommerce refused the batch size: ${(res.body as WooError | undefined)?.message ?? ''}`);
      throwForStatus(res, {
        channel: 'woocommerce',
        what,
        // Credentials refused: WordPress's error code only (its message may quote the request); else a brief text.
        detail: (r, m) => (m === 'credentials' ? (r.body as WooError | undefined)?.code : m === 'refused' ? brief(r.body) : undefined),
        otherStatuses: 'refused',
      });
    };

    const batch = async (path: string, targets: readonly Target[], signal: AbortSignal): Promise<PushResult[]> => {
      const update: BatchUpdateItem[] = targets.map((t) => ({ id: t.id, manage_stock: true, stock_quantity: t.update.quantity }));
      const res = await http.request({ method: 'POST', path: withAuth(path), headers, body: { update }, signal });
      judge(res, `POST ${path}`);
      const answered = (res.body as BatchResponse | undefined)?.update ?? [];
      return targets.map((target, i) => {
        // Answers come in request order; match by id as well in case a proxy or plugin reorders them.
        const item = answered[i]?.id === target.id ? answered[i] : answered.find((a) => a.id === target.id);
        if (!item) return { sku: target.update.sku, status: 'retry', reason: `woocommerce returned no result for id ${target.id}` };
        return itemOutcome(target, item.error, item.error ? undefined : item.stock_quantity);
      });
    };

    const readStock = async (path: string, ids: readonly number[], signal: AbortSignal): Promise<Map<number, number>> => {
      const found = new Map<number, number>();
      for (let start = 0; start < ids.length; start += MAX_BATCH) {
        const chunk = ids.slice(start, start + MAX_BATCH);
        const res = await http.request({ method: 'GET', path: withAuth(`${path}?include=${chunk.join(',')}&per_page=${MAX_BATCH}`), headers, signal });
        judge(res, `GET ${path}`);
        for (const item of (res.body as Array<{ id: number; stock_quantity: number | null }>) ?? []) {
          if (typeof item.stock_quantity === 'number') found.set(item.id, item.stock_quantity);
        }
      }
      return found;
    };

    return {
      async push(updates, signal): Promise<PushResult[]> {
        if (updates.length > MAX_BATCH) throw new RejectedError(`woocommerce takes at most ${MAX_BATCH} objects per batch, got ${updates.length}`);
        const results: PushResult[] = [];
        // Simple products share one batch; variations go through their parent's variations batch.
        const groups = new Map<string, Target[]>();
        for (const update of updates) {
          const m = options.skus[update.sku];
          if (!m) {
            // Not on this channel until the seller maps it: not pushed again, and no dead letter for it.
            results.push({ sku: update.sku, status: 'not_listed', reason: `no WooCommerce product is mapped to SKU ${update.sku}` });
            continue;
          }
          const path = m.variationId ? variationsBatchPath(m.productId) : productsBatchPath();
          const group = groups.get(path) ?? [];
          group.push({ update, id: m.variationId ?? m.productId });
          groups.set(path, group);
        }
        if (groups.size === 0) return results;
        if (groups.size === 1) {
          // One call (the usual case): its throttle or outage pauses the channel as a whole.
          const [path, targets] = [...groups][0]!;
          return results.concat(await batch(path, targets, signal));
        }
        const settled = await Promise.allSettled([...groups].map(([path, targets]) => batch(path, targets, signal)));
        const groupList = [...groups.values()];
        if (settled.every((s) => s.status === 'rejected')) {
          const first = (settled[0] as PromiseRejectedResult).reason as unknown;
          if (isThrottledError(first) || isRejectedError(first) || signal.aborted) throw first;
        }
        settled.forEach((s, i) => results.push(...(s.status === 'fulfilled' ? s.value : callFailure(s.reason, groupList[i]!))));
        return results;
      },

      async handleWebhook(request) {
        const given = request.headers[SIGNATURE_HEADER];
        if (!given && PING_BODY.test(request.rawBody.toString('utf8'))) {
          // The ping on webhook creation is the only unsigned request accepted; it carries no order.
          return { events: [], response: { status: 200, body: { ok: true } } };
        }
        if (!matchesAnySecret(secrets, given, (secret) => wooWebhookSignature(secret, request.rawBody))) {
          throw new WebhookSignatureError(`missing or wrong ${SIGNATURE_HEADER}`);
        }
        // The topic and resource headers are not signed: what happened is read from the signed body only.
        const order = readWooOrderBody(request.rawBody);
        if (!order) return { events: [] };
        // pending / checkout-draft orders have not taken stock yet; their later order.updated will.
        const taken = STOCK_TAKEN_STATUSES.has(order.status);
        const returned = STOCK_RETURNED_STATUSES.has(order.status);
        if (!taken && !returned) return { events: [] };
        const totals = new Map<string, number>();
        for (const line of order.lines) {
          const sku = skuById.get(`${line.productId}:${line.variationId}`) ?? line.sku ?? undefined;
          if (!sku) {
            context.logger.debug('order line without SKU ignored', { orderId: order.id, name: line.name });
            continue;
          }
          totals.set(sku, (totals.get(sku) ?? 0) + line.quantity);
        }
        if (totals.size === 0) return { events: [] };
        const lines: OrderLine[] = [...totals].map(([sku, qty]) => ({ sku, qty }));
        const confirmed = orderEvent(context.channelId, 'order.confirmed', { orderId: order.id, occurredAt: order.createdAt, reference: order.number, lines });
        if (taken) return { events: [confirmed] };
        // A cancelled/refunded/failed order: both events (ids collapse repeats) so the ledger nets to zero
        // whether or not the confirmation was seen first.
        const cancelled = orderEvent(context.channelId, 'order.cancelled', { orderId: order.id, occurredAt: order.modifiedAt ?? order.createdAt, reference: order.number, lines });
        return { events: [confirmed, cancelled] };
      },

      async fetchQuantities(skus, signal) {
        const shown = new Map<string, number>();
        const simple: Array<[string, number]> = [];
        const byParent = new Map<number, Array<[string, number]>>();
        for (const sku of skus) {
          const m = options.skus[sku];
          if (!m) continue;
          if (m.variationId) byParent.set(m.productId, [...(byParent.get(m.productId) ?? []), [sku, m.variationId]]);
          else simple.push([sku, m.productId]);
        }
        if (simple.length > 0) {
          const stock = await readStock(`${API_PREFIX}/products`, simple.map(([, id]) => id), signal);
          for (const [sku, id] of simple) if (stock.has(id)) shown.set(sku, stock.get(id)!);
        }
        for (const [parent, children] of byParent) {
          const stock = await readStock(`${API_PREFIX}/products/${parent}/variations`, children.map(([, id]) => id), signal);
          for (const [sku, id] of children) if (stock.has(id)) shown.set(sku, stock.get(id)!);
        }
        return shown;
      },

      close: () => http.close(),
    };
  },
  simulator: async (options) => (await import('./simulator.ts')).startWooCommerceSimulator(options),
});
