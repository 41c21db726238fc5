import {
  abortableDelay as sleep,
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
import { createHttpClient, headerNumber, headerValue, type HttpResponse } from '../_kit/http-client.ts';
import { throwForStatus } from '../_kit/http-status.ts';
import { secretList } from '../_kit/signatures.ts';
import { createStandardWebhookVerifier } from '../_kit/standard-webhooks.ts';
import {
  absoluteAdjustmentPath,
  AUTH_HEADER,
  DEFAULT_BASE_URL,
  MAX_ITEMS,
  ORDER_STATUS,
  orderPath,
  orderProductsPath,
  REQUESTS_LEFT_HEADER,
  RESET_MS_HEADER,
  type AbsoluteAdjustment,
  type AdjustmentItem,
  type V3Error,
} from './api.ts';
import { bigCommerceOptionsSchema, type BigCommerceOptions, type BigCommerceSkuMapping } from './options.ts';
import { createListingReader } from './list-listings.ts';
import { createOrderLister } from './list-orders.ts';
import { bigCommerceOrderEvents } from './order-events.ts';
import { exactOrderId, readOrder, readOrderProducts, type OrderContent, type OrderLine } from './read-order.ts';
import { refusedItems, type ItemRefusal } from './refused-items.ts';

const ORDER_SCOPES = new Set(['store/order/created', 'store/order/updated', 'store/order/statusUpdated']);
const PRODUCTS_PAGE = 250;

interface Target {
  update: StockUpdate;
  item: AdjustmentItem;
}

/** What the last response said about the store's shared request quota. */
interface QuotaState {
  left: number;
  resetAt: number;
}

function identifier(mapping: BigCommerceSkuMapping, hubSku: string): { variant_id: number } | { product_id: number } | { sku: string } {
  if (mapping.variantId !== undefined) return { variant_id: mapping.variantId };
  if (mapping.productId !== undefined) return { product_id: mapping.productId };
  return { sku: mapping.sku ?? hubSku };
}

/** Most adjustment calls one push spends finding the items BigCommerce refuses; the rest is retried later. */
const MAX_CALLS_PER_PUSH = 12;

export default defineConnector<BigCommerceOptions>({
  name: 'bigcommerce',
  contractVersion: 1,
  optionsSchema: bigCommerceOptionsSchema,
  capabilities: {
    maxBatchSize: MAX_ITEMS,
    // Standard/Plus stores get 150 requests per 30 s window. A bucket of 5 refilled at 4.8/s lets
    // through at most 5 + 4.8 × 30 = 149 requests in any 30 s, so it can never exceed the quota;
    // other apps share that quota, which the connector watches through X-Rate-Limit-Requests-Left.
    rateLimit: { perSecond: 4.8, burst: 5 },
    quantityMode: 'absolute',
    maxConcurrency: 2,
  },
  create(options, context) {
    const http = createHttpClient(options.baseUrl ?? DEFAULT_BASE_URL, { connections: options.connections ?? 4 });
    const headers = { [AUTH_HEADER]: options.accessToken };
    context.registerSecret(options.accessToken);
    const locationId = options.locationId ?? 1;
    // Options validated by the host always hold `skus` (default {}); a channel being onboarded maps none yet.
    const skuMap: BigCommerceOptions['skus'] = options.skus ?? {};
    // BigCommerce keys its signatures with the client secret's bytes, given to Standard Webhooks base64-encoded.
    const clientKeys = secretList(options.clientSecret).map((secret) => Buffer.from(secret, 'utf8').toString('base64'));
    for (const key of clientKeys) context.registerSecret(key);
    const verifyClientSigned = createStandardWebhookVerifier(clientKeys, { toleranceSeconds: options.webhookToleranceSeconds, field: 'options.clientSecret' });
    const verifyWebhookSecret = createStandardWebhookVerifier(secretList(options.webhookSecret), { toleranceSeconds: options.webhookToleranceSeconds, field: 'options.webhookSecret' });
    const hasClientSecret = clientKeys.length > 0;
    const hasWebhookSecret = secretList(options.webhookSecret).length > 0;
    const lowWater = options.lowQuotaThreshold ?? 10;
    const reason = options.reason ?? 'stockrelay sync';
    let quota: QuotaState | undefined;

    // Order lines carry variant_id, product_id and sku: map each back to the hub SKU it was mapped from.
    const byVariant = new Map<number, string>();
    const byProduct = new Map<number, string>();
    const byStoreSku = new Map<string, string>();
    for (const [sku, m] of Object.entries(skuMap)) {
      if (m.variantId !== undefined) byVariant.set(m.variantId, sku);
      else if (m.productId !== undefined) byProduct.set(m.productId, sku);
      else byStoreSku.set(m.sku ?? sku, sku);
    }

    const remember = (res: HttpResponse): void => {
      const left = Number(headerValue(res.headers, REQUESTS_LEFT_HEADER));
      const resetMs = Number(headerValue(res.headers, RESET_MS_HEADER));
      if (Number.isFinite(left) && Number.isFinite(resetMs)) quota = { left, resetAt: Date.now() + resetMs };
    };

    /** Spends the store's remaining quota evenly over what is left of the window, and skips a call sure to get 429. */
    const pace = async (signal: AbortSignal): Promise<void> => {
      if (!quota) return;
      const untilReset = quota.resetAt - Date.now();
      if (untilReset <= 0 || quota.left > lowWater) return;
      if (quota.left <= 0) throw new ThrottledError('bigcommerce request quota used up for this window', { retryAfterMs: untilReset });
      const gap = Math.ceil(untilReset / (quota.left + 1));
      quota = { ...quota, left: quota.left - 1 };
      await sleep(gap, signal);
    };

    const judge = (res: HttpResponse, what: string): void => {
      remember(res);
      // The window's reset time, to the millisecond, is what a 429 asks us to wait.
      throwForStatus(res, { channel: 'bigcommerce', what, throttleWaitMs: (r) => headerNumber(r.headers, RESET_MS_HEADER) });
    };

    const get = async <T>(path: string, signal: AbortSignal): Promise<HttpResponse & { body: T }> => {
      await pace(signal);
      // BigCommerce's OpenAPI marks Accept required on every call and Content-Type on some GETs too
      // (List Order Products): both are sent on every read.
      const res = await http.request({ method: 'GET', path, headers: { ...headers, accept: 'application/json', 'content-type': 'application/json' }, signal });
      judge(res, `GET ${path}`);
      return res as HttpResponse & { body: T };
    };

    /** Every product line of an order (`GET /v2/orders/{id}/products`, paged). */
    const fetchProducts = async (orderId: string, signal: AbortSignal): Promise<OrderLine[]> => {
      const products: OrderLine[] = [];
      for (let page = 1; ; page += 1) {
        const res = await get<unknown>(`${orderProductsPath(options.storeHash, orderId)}?limit=${PRODUCTS_PAGE}&page=${page}`, signal);
        if (res.status === 204) break;
        if (res.status !== 200) throw new RetryableError(`bigcommerce answered ${res.status} for the products of order ${orderId}`);
        const lines = readOrderProducts(res.body, orderId);
        products.push(...lines);
        if (lines.length < PRODUCTS_PAGE) break;
      }
      return products;
    };

    /** The hub SKU an order line was sold under: by variant, product or store SKU mapping, else the store SKU itself. */
    const hubSkuOf = (line: OrderLine): string | undefined => {
      const sku =
        (line.variantId !== undefined ? byVariant.get(line.variantId) : undefined) ??
        (line.productId !== undefined ? byProduct.get(line.productId) : undefined) ??
        (line.sku !== undefined ? (byStoreSku.get(line.sku) ?? line.sku) : undefined);
      if (!sku) context.logger.debug('order line without SKU ignored', { name: line.name });
      return sku;
    };

    /** The events of one order read from the orders API: the webhook path and the catch-up share this. */
    const orderEventsOf = async (orderId: string, order: OrderContent, signal: AbortSignal): Promise<InventoryEvent[]> => {
      // An incomplete order (abandoned checkout) took nothing: its lines are not worth a call.
      if (order.statusId === ORDER_STATUS.incomplete) return [];
      return bigCommerceOrderEvents(context.channelId, orderId, order, await fetchProducts(orderId, signal), hubSkuOf);
    };

    const listOrders = createOrderLister({ storeHash: options.storeHash, get, orderEventsOf });
    const listListings = createListingReader({ storeHash: options.storeHash, get });

    /** One absolute adjustment: undefined when applied, else what the refusal says about its items. */
    const adjust = async (targets: readonly Target[], signal: AbortSignal): Promise<{ refused: Map<number, ItemRefusal>; title: string } | undefined> => {
      await pace(signal);
      const path = absoluteAdjustmentPath(options.storeHash);
      const body: AbsoluteAdjustment = { reason, items: targets.map((t) => t.item) };
      const res = await http.request({ method: 'PUT', path, headers: { ...headers, accept: 'application/json' }, body, signal });
      judge(res, 'the absolute adjustment');
      if (res.status >= 200 && res.status < 300) return undefined;
      const title = (res.body as V3Error | undefined)?.title;
      const summary = `bigcommerce answered ${res.status} to the absolute adjustment${typeof title === 'string' ? `: ${title.slice(0, 200)}` : ''}`;
      if (res.status !== 422 && res.status !== 400) throw new RetryableError(summary);
      return { refused: refusedItems(res.body, body.items), title: summary };
    };

    /**
     * Sends `targets` until every item is settled or the call budget is spent. The adjustment is all or
     * nothing: items the answer names are taken out and the rest sent again; an answer naming no item
     * (BigCommerce's error text is free) is narrowed down by sending each half on its own.
     */
    const settle = async (targets: Target[], budget: { calls: number }, results: PushResult[], signal: AbortSignal): Promise<void> => {
      let pending = targets;
      while (pending.length > 0) {
        if (budget.calls <= 0) {
          for (const t of pending) results.push({ sku: t.update.sku, status: 'retry', reason: 'adjustment refused because of other items in it' });
          return;
        }
        budget.calls -= 1;
        const answer = await adjust(pending, signal);
        if (!answer) {
          for (const t of pending) results.push({ sku: t.update.sku, status: 'ok', quantity: t.update.quantity });
          return;
        }
        if (answer.refused.size === 0) {
          if (pending.length === 1) {
            results.push({ sku: pending[0]!.update.sku, status: 'rejected', reason: answer.title });
            return;
          }
          const half = Math.ceil(pending.length / 2);
          await settle(pending.slice(0, half), budget, results, signal);
          await settle(pending.slice(half), budget, results, signal);
          return;
        }
        const rest: Target[] = [];
        pending.forEach((t, i) => {
          const refusal = answer.refused.get(i);
          if (refusal) results.push({ sku: t.update.sku, status: refusal.status, reason: refusal.reason });
          else rest.push(t);
        });
        pending = rest;
      }
    };

    return {
      async push(updates, signal): Promise<PushResult[]> {
        if (updates.length > MAX_ITEMS) throw new RejectedError(`bigcommerce takes at most ${MAX_ITEMS} items per adjustment, got ${updates.length}`);
        const results: PushResult[] = [];
        const pending: Target[] = [];
        for (const update of updates) {
          const mapping = skuMap[update.sku];
          if (!mapping) results.push({ sku: update.sku, status: 'not_listed', reason: `no BigCommerce item is mapped to SKU ${update.sku}` });
          else pending.push({ update, item: { location_id: locationId, ...identifier(mapping, update.sku), quantity: update.quantity } });
        }
        await settle(pending, { calls: MAX_CALLS_PER_PUSH }, results, signal);
        return results;
      },

      async handleWebhook(request, signal) {
        // Both verifiers run when both are configured, so timing does not tell which key matched.
        const verdicts = [
          ...(hasClientSecret ? [verifyClientSigned(request.headers, request.rawBody)] : []),
          ...(hasWebhookSecret || !hasClientSecret ? [verifyWebhookSecret(request.headers, request.rawBody)] : []),
        ];
        if (!verdicts.some((v) => v.ok)) {
          const reason = verdicts.map((v) => (v.ok ? '' : v.reason)).find(Boolean) ?? 'no signature';
          throw new WebhookSignatureError(`BigCommerce webhook refused: ${reason}`);
        }
        const text = request.rawBody.toString('utf8');
        let payload: unknown;
        try {
          payload = JSON.parse(text);
        } catch (err) {
          throw new WebhookPayloadError('body is not JSON', { cause: err });
        }
        if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) throw new WebhookPayloadError('body is not a JSON object');
        const { scope, data } = payload as { scope?: unknown; data?: unknown };
        if (typeof scope !== 'string') throw new WebhookPayloadError('scope is missing or not a string');
        if (!ORDER_SCOPES.has(scope)) return { events: [] };
        const { type, id } = (typeof data === 'object' && data !== null ? data : {}) as { type?: unknown; id?: unknown };
        const orderId = type === 'order' ? exactOrderId(text, id) : undefined;
        if (orderId === undefined) throw new WebhookPayloadError('data.type "order" and a numeric data.id are required');
        // The webhook holds only the id: the lines come from the orders API.
        const orderRes = await get<unknown>(orderPath(options.storeHash, orderId), signal);
        if (orderRes.status === 404) {
          // A fresh order can be briefly invisible to the API. This used to answer 503 so that BigCommerce would
          // deliver again, but BigCommerce's first retry comes a minute later and a destination answering under 90 %
          // 2xx in a two-minute window is blocklisted for three minutes (every order of the store then waits). The
          // order catch-up (listOrders) re-reads every order modified since its cursor, reaching two minutes back
          // on each pass, so the order is found there once readable, under the same event id: 200 is safe, and
          // the webhook is acknowledged.
          context.logger.info('bigcommerce order not readable yet; left to the order catch-up', { orderId });
          return { events: [] };
        }
        if (orderRes.status !== 200) throw new RetryableError(`bigcommerce answered ${orderRes.status} for order ${orderId}`);
        return { events: await orderEventsOf(orderId, readOrder(orderRes.body, orderId), signal) };
      },

      listOrders,
      listListings,

      async fetchQuantities(skus, signal) {
        // Catalog variants report inventory_level (the total over locations); products mapped by
        // product id are not read here.
        const shown = new Map<string, number>();
        const byId = skus.filter((s) => skuMap[s]?.variantId !== undefined);
        const byStore = skus.filter((s) => skuMap[s] && skuMap[s]!.variantId === undefined && skuMap[s]!.productId === undefined);
        const read = async (query: string): Promise<Array<{ id: number; sku: string; inventory_level: number }>> => {
          const res = await get<{ data?: Array<{ id: number; sku: string; inventory_level: number }> }>(`/stores/${options.storeHash}/v3/catalog/variants?${query}&limit=250`, signal);
          if (res.status !== 200) throw new RetryableError(`bigcommerce answered ${res.status} to the catalog variants read`);
          return res.body.data ?? [];
        };
        for (let start = 0; start < byId.length; start += 250) {
          const chunk = byId.slice(start, start + 250);
          const found = new Map((await read(`id:in=${chunk.map((s) => skuMap[s]!.variantId).join(',')}`)).map((v) => [v.id, v.inventory_level]));
          for (const sku of chunk) if (found.has(skuMap[sku]!.variantId!)) shown.set(sku, found.get(skuMap[sku]!.variantId!)!);
        }
        for (let start = 0; start < byStore.length; start += 250) {
          const chunk = byStore.slice(start, start + 250);
          const found = new Map((await read(`sku:in=${chunk.map((s) => encodeURIComponent(skuMap[s]!.sku ?? s)).join(',')}`)).map((v) => [v.sku, v.inventory_level]));
          for (const sku of chunk) {
            const level = found.get(skuMap[sku]!.sku ?? sku);
            if (level !== undefined) shown.set(sku, level);
          }
        }
        return shown;
      },

      close: () => http.close(),
    };
  },
  simulator: async (options) => (await import('./simulator.ts')).startBigCommerceSimulator(options),
});
