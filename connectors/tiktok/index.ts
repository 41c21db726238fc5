import {
  defineConnector,
  isRetryableError,
  isThrottledError,
  RejectedError,
  RetryableError,
  WebhookPayloadError,
  WebhookSignatureError,
  type ChannelListing,
  type InventoryEvent,
  type PushResult,
  type StockUpdate,
} from '../../core/sdk.ts';
import type { AccessTokenCache } from '../_kit/access-token-cache.ts';
import { createHttpClient, type HttpResponse } from '../_kit/http-client.ts';
import { statusError } from '../_kit/http-status.ts';
import { createRefreshingAccessToken } from '../_kit/refreshing-access-token.ts';
import { matchesAnySecret, secretList } from '../_kit/signatures.ts';
import {
  ACCESS_TOKEN_HEADER,
  Codes,
  DEFAULT_AUTH_BASE_URL,
  INVENTORY_SEARCH_PATH,
  inventoryUpdatePath,
  MAX_SEARCH_PAGE_SIZE,
  ORDER_STATUS_CHANGE,
  ORDERS_PATH,
  ORDERS_SEARCH_PATH,
  PRODUCTS_SEARCH_PATH,
  type InventorySearchData,
  type InventoryUpdateBody,
  type InventoryUpdateData,
  type OrderSearchData,
  type ProductSearchData,
  type TiktokEnvelope,
} from './api.ts';
import { tiktokOrderEvents, type LineItemSkuResolver } from './order-events.ts';
import { tiktokOptionsSchema, type TiktokOptions } from './options.ts';
import { readOrder, readOrderDetail, readStatusChange } from './order-payload.ts';
import { signRequest, signWebhook } from './request-signature.ts';
import { decodeOrdersCursor, encodeOrdersCursor } from './search-cursor.ts';
import { refreshTiktokToken } from './tiktok-token.ts';

const MAX_BATCH = 100;
/** The orders poll re-reads this much before the latest update it saw, so an order updated in the same second is not missed. */
const ORDERS_OVERLAP_SEC = 120;
/** The first orders poll ever starts this long before now. */
const FIRST_POLL_LOOKBACK_SEC = 600;
/** Products per onboarding page (the search's largest page). */
const PRODUCTS_PAGE = MAX_SEARCH_PAGE_SIZE;
/** Orders per poll page. */
const ORDERS_PAGE = 50;
/** Answers meaning "this access token is no longer good": renew it once and send again. */
const TOKEN_CODES = new Set<number>([Codes.ACCESS_TOKEN_EXPIRED, Codes.ACCESS_TOKEN_INVALID]);
const CREDENTIAL_CODES = new Set<number>([Codes.ACCESS_TOKEN_EXPIRED, Codes.ACCESS_TOKEN_INVALID, Codes.INVALID_SIGNATURE]);

type Verdict = { kind: 'ok' } | { kind: 'retry' | 'rejected' | 'not_listed'; reason: string };

const codeOf = (res: HttpResponse): number | undefined => {
  const code = (res.body as Partial<TiktokEnvelope> | undefined)?.code;
  return typeof code === 'number' ? code : undefined;
};

/** Judges one answer: throws for what concerns every call (throttle, credentials), returns the rest. */
function judge(res: HttpResponse, what: string, scrub: (text: string) => string): Verdict {
  const envelope = res.body as Partial<TiktokEnvelope> | undefined;
  const code = codeOf(res);
  // TikTok's message, short, and without any credential of ours should it quote the request back.
  const reason = `TikTok ${what}: ${code ?? res.status} ${scrub(String(envelope?.message ?? '')).slice(0, 160)}`.trim();
  const failure = statusError(res, {
    channel: 'TikTok',
    what,
    detail: () => `${code ?? res.status} ${scrub(String(envelope?.message ?? '')).slice(0, 160)}`.trim(),
    // TikTok answers some of these inside its envelope, whatever the HTTP status.
    means: () => (code === Codes.RATE_LIMITED ? 'throttled' : code !== undefined && CREDENTIAL_CODES.has(code) ? 'credentials' : code === Codes.INTERNAL ? 'unavailable' : undefined),
  });
  // A throttle or refused credentials concern every call; an outage only this one, retried per item.
  if (failure) {
    if (isThrottledError(failure) || !isRetryableError(failure)) throw failure;
    return { kind: 'retry', reason };
  }
  if (res.status === 200 && code === Codes.OK) return { kind: 'ok' };
  if (code === Codes.PRODUCT_NOT_FOUND) return { kind: 'not_listed', reason };
  return { kind: 'rejected', reason };
}

/** One SKU refused inside an otherwise answered inventory update, judged by TikTok's code for it. */
function perSkuResult(sku: string, code: unknown, message: unknown, scrub: (text: string) => string): PushResult {
  const reason = `TikTok refused SKU: ${typeof code === 'number' ? code : '?'} ${scrub(String(message ?? '')).slice(0, 160)}`.trim();
  if (code === Codes.PRODUCT_NOT_FOUND) return { sku, status: 'not_listed', reason };
  if (code === Codes.SKU_LOCKED) return { sku, status: 'busy', reason };
  if (code === Codes.INTERNAL) return { sku, status: 'retry', reason };
  return { sku, status: 'rejected', reason };
}

interface TokenSource extends AccessTokenCache {
  renewable: boolean;
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
    // Onboarding creates a channel before any SKU is mapped.
    const mapped = options.skus ?? {};
    const byTiktokSku = new Map<string, string>();
    for (const [hubSku, ref] of Object.entries(mapped)) byTiktokSku.set(ref.skuId, hubSku);
    const resolveSku: LineItemSkuResolver = (item) => (item.skuId !== undefined ? byTiktokSku.get(item.skuId) : undefined) ?? item.sellerSku;
    /** Every credential this channel holds, so no error text it writes can carry one. */
    const credentials = new Set<string>(secrets);
    const registerSecret = (value: string): void => {
      credentials.add(value);
      context.registerSecret(value);
    };
    const scrub = (text: string): string => {
      let out = text;
      for (const value of credentials) if (value.length >= 6 && out.includes(value)) out = out.split(value).join('[redacted]');
      return out;
    };

    let tokens: TokenSource;
    let authHttp: ReturnType<typeof createHttpClient> | undefined;
    if (options.refreshToken) {
      const auth = createHttpClient(options.authBaseUrl ?? DEFAULT_AUTH_BASE_URL, { connections: 2 });
      authHttp = auth;
      tokens = Object.assign(
        createRefreshingAccessToken({
          refresh: (refreshToken, signal) => refreshTiktokToken(auth, { appKey: options.appKey, appSecret: signingSecret }, refreshToken, signal),
          initialRefreshToken: options.refreshToken,
          state: context.state,
          stateKey: 'tiktok.refresh-token',
          registerSecret,
        }),
        { renewable: true },
      );
    } else if (options.accessToken) {
      const fixed = options.accessToken;
      registerSecret(fixed);
      tokens = { get: () => Promise.resolve(fixed), invalidate() {}, renewable: false };
    } else {
      throw new RejectedError('TikTok options need accessToken or refreshToken');
    }

    /**
     * Sends one signed call: common query parameters, `sign` over the exact body text, the access token and the
     * Content-Type TikTok requires on every call (GET included). An expired token (code 105002) is renewed once,
     * and the call signed anew and sent again.
     */
    const call = async (method: 'GET' | 'POST', path: string, extra: Record<string, string>, body: unknown, signal: AbortSignal): Promise<HttpResponse> => {
      for (let attempt = 0; ; attempt++) {
        const token = await tokens.get(signal);
        const query: Record<string, string> = { ...extra, app_key: options.appKey, shop_cipher: options.shopCipher, timestamp: String(Math.floor(Date.now() / 1000)) };
        const text = body === undefined ? '' : JSON.stringify(body);
        query.sign = signRequest(signingSecret, path, query, text);
        const search = new URLSearchParams(query).toString();
        const res = await http.request({
          method,
          path: `${path}?${search}`,
          headers: { [ACCESS_TOKEN_HEADER]: token, 'content-type': 'application/json' },
          body: body === undefined ? undefined : text,
          signal,
        });
        const code = codeOf(res);
        if (!tokens.renewable || attempt > 0 || code === undefined || !TOKEN_CODES.has(code)) return res;
        tokens.invalidate(token);
      }
    };

    /** Results for one product's SKUs from its inventory update answer, honouring `data.errors[]` per SKU. */
    const resultsFor = (group: StockUpdate[], res: HttpResponse, productId: string): PushResult[] => {
      const verdict = judge(res, `inventory update of product ${productId}`, scrub);
      const data = (res.body as Partial<TiktokEnvelope<InventoryUpdateData>> | undefined)?.data;
      const errors = Array.isArray(data?.errors) ? data.errors : [];
      const refused = new Map<string, PushResult>();
      for (const entry of errors) {
        const skuId = entry?.detail?.sku_id;
        const hubSku = typeof skuId === 'string' ? group.find((u) => mapped[u.sku]!.skuId === skuId)?.sku : undefined;
        if (hubSku !== undefined) refused.set(hubSku, perSkuResult(hubSku, entry.code, entry.message, scrub));
      }
      return group.map((u): PushResult => {
        const own = refused.get(u.sku);
        if (own) return own;
        if (verdict.kind === 'ok') return { sku: u.sku, status: 'ok', quantity: u.quantity };
        // The call failed as a whole, or named other SKUs only: nothing says this one landed.
        if (refused.size > 0) return { sku: u.sku, status: 'retry', reason: verdict.reason };
        return { sku: u.sku, status: verdict.kind, reason: verdict.reason };
      });
    };

    return {
      async push(updates: readonly StockUpdate[], signal: AbortSignal): Promise<PushResult[]> {
        if (updates.length > MAX_BATCH) throw new RejectedError(`the TikTok connector takes at most ${MAX_BATCH} items per push, got ${updates.length}`);
        const results: PushResult[] = [];
        const byProduct = new Map<string, StockUpdate[]>();
        for (const update of updates) {
          const ref = mapped[update.sku];
          if (!ref) {
            results.push({ sku: update.sku, status: 'not_listed', reason: `no TikTok SKU mapped for hub SKU ${update.sku}` });
            continue;
          }
          byProduct.set(ref.productId, [...(byProduct.get(ref.productId) ?? []), update]);
        }
        // Products one after another: a throttle answer then stops the push before it spends more calls.
        const pending = [...byProduct];
        for (const [index, [productId, group]] of pending.entries()) {
          const body: InventoryUpdateBody = {
            skus: group.map((u) => {
              const ref = mapped[u.sku]!;
              return { id: ref.skuId, inventory: [ref.warehouseId ? { warehouse_id: ref.warehouseId, quantity: u.quantity } : { quantity: u.quantity }] };
            }),
          };
          try {
            results.push(...resultsFor(group, await call('POST', inventoryUpdatePath(encodeURIComponent(productId)), {}, body, signal), productId));
          } catch (err) {
            // Throttled after some products were written: keep what landed and retry only the rest later, so a
            // push spanning many products still makes progress instead of starting over each time.
            if (!isThrottledError(err) || index === 0) throw err;
            for (const [, rest] of pending.slice(index)) {
              for (const u of rest) results.push({ sku: u.sku, status: 'retry', reason: err.message, afterMs: err.retryAfterMs });
            }
            break;
          }
        }
        return results;
      },

      async handleWebhook(request, signal) {
        const given = request.headers.authorization;
        if (!matchesAnySecret(secrets, given, (secret) => signWebhook(secret, options.appKey, request.rawBody))) {
          throw new WebhookSignatureError('missing or wrong Authorization signature');
        }
        // Everything below reads the signed body only.
        const change = readStatusChange(request.rawBody);
        if (change.type !== ORDER_STATUS_CHANGE) {
          context.logger.debug('TikTok webhook ignored', { type: change.type });
          return { events: [] };
        }
        // The webhook carries only the id and status: the lines come from Get Order Detail.
        const res = await call('GET', ORDERS_PATH, { ids: change.orderId }, undefined, signal);
        const verdict = judge(res, 'order detail', scrub);
        if (verdict.kind === 'retry') throw new RetryableError(verdict.reason);
        if (verdict.kind !== 'ok') throw new WebhookPayloadError(verdict.reason);
        const order = readOrderDetail(res.body, change.orderId);
        if (!order) throw new WebhookPayloadError(`TikTok does not know order ${change.orderId}`);
        return { events: tiktokOrderEvents(context.channelId, order, resolveSku) };
      },

      async listOrders(cursor, signal) {
        const at = decodeOrdersCursor(cursor, Math.floor(Date.now() / 1000) - FIRST_POLL_LOOKBACK_SEC);
        // Oldest update first: an order updated again while the poll pages on moves to the end, where this search
        // or the next one (from its new time) reads it.
        const query: Record<string, string> = { page_size: String(ORDERS_PAGE), sort_field: 'update_time', sort_order: 'ASC', ...(at.token ? { page_token: at.token } : {}) };
        const res = await call('POST', ORDERS_SEARCH_PATH, query, { update_time_ge: at.since }, signal);
        const verdict = judge(res, 'order search', scrub);
        // A page token TikTok no longer takes (a pass resumed long after): start the same pass again from its first
        // page rather than asking with that token forever. Orders already read are found again under the same ids.
        if (verdict.kind !== 'ok' && at.token !== undefined && codeOf(res) === Codes.INVALID_PARAMETER) {
          context.logger.warn('TikTok refused the orders page token; the pass starts again', { reason: verdict.reason });
          return { events: [], cursor: encodeOrdersCursor({ since: at.since, high: at.high }), more: true };
        }
        if (verdict.kind !== 'ok') throw new RetryableError(verdict.reason);
        const data = (res.body as Partial<TiktokEnvelope<Partial<OrderSearchData>>>).data;
        const orders = Array.isArray(data?.orders) ? data.orders : [];
        const events: InventoryEvent[] = [];
        let high = at.high;
        for (const raw of orders) {
          let order;
          try {
            order = readOrder(raw);
          } catch (err) {
            context.logger.warn('TikTok order skipped', { reason: (err as Error).message });
            continue;
          }
          if (order.updateTime !== undefined) high = Math.max(high, order.updateTime);
          events.push(...tiktokOrderEvents(context.channelId, order, resolveSku));
        }
        const token = typeof data?.next_page_token === 'string' && data.next_page_token !== '' && orders.length > 0 ? data.next_page_token : undefined;
        const next = token ? { since: at.since, token, high } : { since: Math.max(at.since, high - ORDERS_OVERLAP_SEC), high };
        return { events, cursor: encodeOrdersCursor(next), more: token !== undefined };
      },

      async listListings(cursor, signal) {
        const query: Record<string, string> = { page_size: String(PRODUCTS_PAGE), ...(cursor ? { page_token: cursor } : {}) };
        // Live products only: drafts and deleted products show nothing to buyers.
        const res = await call('POST', PRODUCTS_SEARCH_PATH, query, { status: 'ACTIVATE' }, signal);
        const verdict = judge(res, 'product search', scrub);
        if (verdict.kind !== 'ok') throw new RetryableError(verdict.reason);
        const data = (res.body as Partial<TiktokEnvelope<Partial<ProductSearchData>>>).data;
        const products = Array.isArray(data?.products) ? data.products : [];
        const listings: ChannelListing[] = [];
        for (const product of products) {
          if (typeof product?.id !== 'string') continue;
          for (const sku of Array.isArray(product.skus) ? product.skus : []) {
            // A SKU without a seller SKU cannot be matched to a hub SKU.
            if (typeof sku?.id !== 'string' || typeof sku.seller_sku !== 'string' || sku.seller_sku === '') continue;
            const stock = (Array.isArray(sku.inventory) ? sku.inventory : []).filter((w) => Number.isInteger(w?.quantity));
            // One warehouse: the connector writes the default one. Several: the mapping names the first, whose quantity it shows.
            const warehouse = stock.length > 1 && typeof stock[0]!.warehouse_id === 'string' ? stock[0]!.warehouse_id : undefined;
            listings.push({
              sku: sku.seller_sku,
              mapping: { productId: product.id, skuId: sku.id, ...(warehouse !== undefined ? { warehouseId: warehouse } : {}) },
              quantity: warehouse !== undefined ? stock[0]!.quantity! : stock.reduce((sum, w) => sum + w.quantity!, 0),
              ...(typeof product.title === 'string' ? { title: product.title } : {}),
            });
          }
        }
        const next = typeof data?.next_page_token === 'string' && data.next_page_token !== '' && products.length > 0 ? data.next_page_token : undefined;
        return next === undefined ? { listings } : { listings, cursor: next };
      },

      async fetchQuantities(skus, signal) {
        const known = skus.filter((sku) => mapped[sku]);
        const shown = new Map<string, number>();
        if (known.length === 0) return shown;
        const res = await call('POST', INVENTORY_SEARCH_PATH, {}, { sku_ids: known.map((sku) => mapped[sku]!.skuId) }, signal);
        const verdict = judge(res, 'inventory search', scrub);
        if (verdict.kind !== 'ok') throw new RetryableError(verdict.reason);
        const inventory = (res.body as Partial<TiktokEnvelope<InventorySearchData>>).data?.inventory;
        for (const product of Array.isArray(inventory) ? inventory : []) {
          for (const sku of Array.isArray(product?.skus) ? product.skus : []) {
            const hubSku = byTiktokSku.get(sku?.id);
            if (!hubSku) continue;
            const warehouse = mapped[hubSku]?.warehouseId;
            const quantity = warehouse
              ? (Array.isArray(sku.warehouse_inventory) ? sku.warehouse_inventory : []).find((w) => w?.warehouse_id === warehouse)?.available_quantity
              : sku.total_available_quantity;
            if (Number.isInteger(quantity)) shown.set(hubSku, quantity as number);
          }
        }
        return shown;
      },

      close: async () => {
        await Promise.all([http.close(), authHttp?.close()]);
      },
    };
  },
  simulator: async (options) => (await import('./simulator.ts')).startTiktokSimulator(options),
});
