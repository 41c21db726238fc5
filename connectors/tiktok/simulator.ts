import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { request } from 'undici';
import { type SimulatorHandle, type SimulatorOptions, TokenBucket, type WebhookDelivery } from '../../core/sdk.ts';
import { safeEqual } from '../_kit/signatures.ts';
import { startSimServer, type SimRequest, type SimResponse } from '../_kit/sim-server.ts';
import {
  ACCESS_TOKEN_HEADER,
  Codes,
  INVENTORY_SEARCH_PATH,
  MAX_SEARCH_PAGE_SIZE,
  MAX_SKUS_PER_PRODUCT,
  ORDER_STATUS_CHANGE,
  ORDERS_PATH,
  ORDERS_SEARCH_PATH,
  PRODUCTS_SEARCH_PATH,
  TOKEN_REFRESH_PATH,
  type InventorySearchData,
  type InventoryUpdateData,
  type TiktokOrder,
  type TiktokWebhook,
} from './api.ts';
import type { TiktokOptions } from './options.ts';
import { signRequest, signWebhook } from './request-signature.ts';

/*
 * Webhooks are built from the ORDER_STATUS_CHANGE sample of a published TikTok Shop SDK's tests, orders and
 * inventory answers within the models of TikTok Shop's Node SDK (the contract tests check them against those
 * models with extra fields refused); see test/fixtures/vendor/tiktok/SOURCE.
 */
const WEBHOOK_TEMPLATE = JSON.parse(readFileSync(new URL('../../test/fixtures/vendor/tiktok/order-status-change.webhook.json', import.meta.url), 'utf8')) as TiktokWebhook;
/** TikTok access tokens live 7 days (the SDK's description of `access_token_expire_in`). */
const DEFAULT_TOKEN_LIFETIME_MS = 7 * 24 * 3_600_000;

export interface TiktokSimulatorOptions extends SimulatorOptions {
  appKey?: string;
  appSecret?: string;
  accessToken?: string;
  shopCipher?: string;
  /** SKUs per product when the simulator creates products for hub SKUs. Default 2. */
  skusPerProduct?: number;
}

export interface TiktokSimulator extends SimulatorHandle<TiktokOptions> {
  /** Product id holding a hub SKU. */
  productOf(sku: string): string | undefined;
  /** Calls made to the inventory update endpoint. */
  inventoryUpdates(): number;
  /** Cancels an order, as when the buyer cancels before shipment. */
  cancelOrder(orderId: string): void;
  /**
   * Cancels `units` units of `sku` in an order while the rest goes on (their line items turn CANCELLED), as
   * TikTok does for a partial cancellation; the line item ids cancelled.
   */
  cancelUnits(orderId: string, sku: string, units: number): string[];
  /** The order as Get Order Detail answers it. */
  order(orderId: string): TiktokOrder | undefined;
  /** Sets a product's status (`ACTIVATE`, `SELLER_DEACTIVATED`, `DELETED`...). */
  setProductStatus(productId: string, status: string): void;
  /** Token refreshes answered so far. */
  grants(): number;
  /** Ends the life of every access token issued so far. */
  expireTokens(): void;
  /** Calls answered code 105002 because their access token had expired. */
  expiredTokenAnswers(): number;
}

interface Sku {
  hubSku: string;
  id: string;
  productId: string;
  sellerSku: string;
  quantity: number;
}

const WAREHOUSE_ID = '7068517275539719942';
/** TikTok rejects a request whose timestamp is more than 5 minutes off. */
const TIMESTAMP_TOLERANCE_SEC = 300;

export async function startTiktokSimulator(options: TiktokSimulatorOptions = {}): Promise<TiktokSimulator> {
  const appKey = options.appKey ?? '6abcsim01';
  const appSecret = options.appSecret ?? randomBytes(20).toString('hex');
  const refreshToken = `TTP_${randomBytes(24).toString('base64url')}`;
  const tokenLifetimeMs = options.tokenLifetimeMs ?? DEFAULT_TOKEN_LIFETIME_MS;
  /** Issued access tokens and when they expire. */
  const tokens = new Map<string, number>();
  if (options.accessToken) tokens.set(options.accessToken, Date.now() + tokenLifetimeMs);
  let grants = 0;
  let expiredAnswers = 0;
  const shopCipher = options.shopCipher ?? 'ROW_sim-shop-cipher';
  const perProduct = options.skusPerProduct ?? 2;
  const rate = options.rateLimit ?? { perSecond: 50, burst: 50 };
  const bucket = new TokenBucket(rate.perSecond, rate.burst);

  const byHub = new Map<string, Sku>();
  const byId = new Map<string, Sku>();
  const products = new Map<string, Sku[]>();
  /** Product status and creation time, as the product search reports them. */
  const productInfo = new Map<string, { status: string; createTime: number }>();
  const orders = new Map<string, TiktokOrder>();
  let counter = 1_729_000_000_000_000_000n + BigInt(Math.floor(Math.random() * 1e9)) * 1000n;
  const id = (): string => String((counter += 1n));
  let itemsWritten = 0;
  let updateCalls = 0;
  let webhookTarget: string | undefined;
  let lastProduct: string | undefined;

  const ensure = (hubSku: string, quantity = 0): Sku => {
    const existing = byHub.get(hubSku);
    if (existing) return existing;
    if (!lastProduct || (products.get(lastProduct)?.length ?? 0) >= perProduct) {
      lastProduct = id();
      products.set(lastProduct, []);
      productInfo.set(lastProduct, { status: 'ACTIVATE', createTime: Math.floor(Date.now() / 1000) });
    }
    const sku: Sku = { hubSku, id: id(), productId: lastProduct, sellerSku: hubSku, quantity };
    products.get(lastProduct)!.push(sku);
    byHub.set(hubSku, sku);
    byId.set(sku.id, sku);
    return sku;
  };
  for (const [sku, qty] of Object.entries(options.skus ?? {})) ensure(sku, qty);

  const envelope = (status: number, code: number, message: string, data: unknown = {}): SimResponse => ({
    status,
    body: { code, message, data, request_id: randomUUID().replace(/-/g, '').toUpperCase() },
  });

  /** Checks what every call must carry, in TikTok's order: app key, timestamp, sign, access token, shop. */
  const authenticate = (req: SimRequest): SimResponse | undefined => {
    const query = Object.fromEntries(req.query);
    if (query.app_key !== appKey) return envelope(400, Codes.INVALID_PARAMETER, 'Invalid credentials. Invalid `app_key` query parameter.');
    const timestamp = Number(query.timestamp);
    if (!Number.isInteger(timestamp) || Math.abs(Date.now() / 1000 - timestamp) > TIMESTAMP_TOLERANCE_SEC) {
      return envelope(400, Codes.INVALID_PARAMETER, 'Invalid timestamp. The value of the `timestamp` query parameter must not be earlier than 5 minutes before the current time.');
    }
    if (!query.sign) return envelope(400, Codes.INVALID_PARAMETER, 'Missing credentials. The request does not include a required signature in the query.');
    const expected = signRequest(appSecret, req.path, query, req.rawBody.toString('utf8'));
    if (!safeEqual(expected, query.sign)) return envelope(401, Codes.INVALID_SIGNATURE, 'Invalid signature. Please check your signature.');
    const token = req.headers[ACCESS_TOKEN_HEADER];
    const expiresAt = typeof token === 'string' ? tokens.get(token) : undefined;
    if (expiresAt === undefined) return envelope(401, Codes.ACCESS_TOKEN_INVALID, 'Invalid credentials. The `x-tts-access-token` header is invalid.');
    if (expiresAt <= Date.now()) {
      expiredAnswers += 1;
      return envelope(401, Codes.ACCESS_TOKEN_EXPIRED, 'Expired credentials. The access token has expired, please refresh it.');
    }
    // The SDK marks Content-Type required on every call of these APIs, GET order detail included.
    if (!/^application\/json/.test(req.headers['content-type'] ?? '')) return envelope(400, Codes.INVALID_PARAMETER, 'Invalid parameter. The `Content-Type` header must be application/json.');
    if (query.shop_cipher !== shopCipher) return envelope(400, Codes.INVALID_PARAMETER, 'Invalid identifier. The `shop_cipher` query parameter is invalid.');
    return undefined;
  };

  /** `GET /api/v2/token/refresh`: a new access token for the shop's refresh token. */
  const refresh = (req: SimRequest): SimResponse => {
    const query = Object.fromEntries(req.query);
    if (query.app_key !== appKey || query.app_secret !== appSecret) return envelope(200, Codes.INVALID_PARAMETER, 'Invalid credentials. The app_key or app_secret is invalid.');
    if (query.grant_type !== 'refresh_token') return envelope(200, Codes.INVALID_PARAMETER, 'Invalid parameter. grant_type must be refresh_token.');
    if (query.refresh_token !== refreshToken) return envelope(200, Codes.REFRESH_TOKEN_INVALID, 'Invalid refresh_token. The refresh token is invalid or has expired.');
    grants += 1;
    const accessToken = `ROW_${randomBytes(24).toString('base64url')}`;
    const expiresAt = Date.now() + tokenLifetimeMs;
    tokens.set(accessToken, expiresAt);
    if (tokens.size > 10_000) for (const [t, at] of tokens) if (at < Date.now() - tokenLifetimeMs) tokens.delete(t);
    return envelope(200, Codes.OK, 'success', {
      access_token: accessToken,
      // Unix seconds, rounded down so the token is never believed to live longer than it does.
      access_token_expire_in: Math.floor(expiresAt / 1000),
      refresh_token: refreshToken,
      refresh_token_expire_in: Math.floor(Date.now() / 1000) + 365 * 86_400,
      open_id: '7010736057180325637',
      seller_name: 'Sim Shop',
      seller_base_region: 'GB',
      user_type: 0,
    });
  };

  const updateInventory = (productId: string, body: unknown, fault: SimRequest['fault']): SimResponse => {
    updateCalls += 1;
    const skus = products.get(productId);
    if (!skus) return envelope(200, Codes.PRODUCT_NOT_FOUND, `Product ${productId} does not exist.`);
    const list = (body as { skus?: unknown } | undefined)?.skus;
    if (!Array.isArray(list) || list.length === 0) return envelope(400, Codes.INVALID_PARAMETER, 'Invalid parameter. `skus` is required.');
    if (list.length > MAX_SKUS_PER_PRODUCT) return envelope(400, Codes.INVALID_PARAMETER, `Invalid parameter. \`skus\` must not have more than ${MAX_SKUS_PER_PRODUCT} items.`);
    const writes: Array<[Sku, number]> = [];
    const errors: NonNullable<InventoryUpdateData['errors']> = [];
    const refuse = (skuId: string, code: number, message: string): void => {
      errors.push({ code, message, detail: { sku_id: skuId, extra_errors: [{ warehouse_id: WAREHOUSE_ID, code, message }] } });
    };
    for (const raw of list as Array<{ id?: unknown; inventory?: Array<{ warehouse_id?: unknown; quantity?: unknown }> }>) {
      const sku = typeof raw.id === 'string' ? byId.get(raw.id) : undefined;
      const entry = Array.isArray(raw.inventory) && raw.inventory.length === 1 ? raw.inventory[0] : undefined;
      if (!entry || !Number.isInteger(entry.quantity) || (entry.quantity as number) < 0 || (entry.quantity as number) > 99_999) {
        return envelope(400, Codes.INVALID_PARAMETER, 'Invalid parameter. `inventory.quantity` must be an integer between 0 and 99999.');
      }
      if (entry.warehouse_id !== undefined && entry.warehouse_id !== WAREHOUSE_ID) return envelope(400, Codes.INVALID_PARAMETER, `Invalid parameter. Unknown warehouse ${String(entry.warehouse_id)}.`);
      // SKUs TikTok cannot take are refused one by one in data.errors[]; the others are written.
      if (!sku || sku.productId !== productId || (fault?.kind === 'item-unknown' && fault.skus.includes(sku.hubSku))) {
        refuse(String(raw.id), Codes.PRODUCT_NOT_FOUND, `The SKU ${String(raw.id)} does not exist in product ${productId}.`);
        continue;
      }
      if (fault?.kind === 'item-locked' && fault.skus.includes(sku.hubSku)) {
        refuse(sku.id, Codes.SKU_LOCKED, 'The SKU is being edited and its inventory cannot be updated now. Please retry later.');
        continue;
      }
      writes.push([sku, entry.quantity as number]);
    }
    // TikTok validates the whole request's shape before changing anything.
    for (const [sku, quantity] of writes) sku.quantity = quantity;
    itemsWritten += writes.length;
    return { ...envelope(200, Codes.OK, 'Success', errors.length > 0 ? { errors } : {}), wrote: writes.length > 0 };
  };

  /** `page_size` as both searches require it: an integer 1-100; the refusal otherwise. */
  const pageSize = (query: URLSearchParams): number | SimResponse => {
    const raw = query.get('page_size');
    const size = raw !== null && /^\d{1,3}$/.test(raw) ? Number(raw) : NaN;
    if (!(size >= 1 && size <= MAX_SEARCH_PAGE_SIZE)) return envelope(400, Codes.INVALID_PARAMETER, 'Invalid parameter. `page_size` is required and must be between 1 and 100.');
    return size;
  };

  /**
   * Page tokens are opaque to the caller: here the offset reached and a digest of the search they continue, so a
   * token used with another search (or made up) is refused as TikTok refuses an invalid one.
   */
  const pageToken = (search: string, offset: number): string => Buffer.from(JSON.stringify({ o: offset, s: search })).toString('base64url');
  const tokenOffset = (search: string, token: string | null): number | undefined => {
    if (token === null || token === '') return 0;
    try {
      const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { o?: unknown; s?: unknown };
      return parsed.s === search && Number.isSafeInteger(parsed.o) ? (parsed.o as number) : undefined;
    } catch {
      return undefined;
    }
  };
  const badToken = (): SimResponse => envelope(400, Codes.INVALID_PARAMETER, 'Invalid parameter. The `page_token` is invalid.');

  /** Reads the body fields a search takes: numbers, strings and string arrays by name; the refusal for a wrong type. */
  const searchBody = (json: unknown, numbers: readonly string[], strings: readonly string[], lists: readonly string[]): Record<string, unknown> | SimResponse => {
    const body = (json ?? {}) as Record<string, unknown>;
    if (typeof body !== 'object' || Array.isArray(body)) return envelope(400, Codes.INVALID_PARAMETER, 'Invalid parameter. The request body must be a JSON object.');
    for (const name of numbers) if (body[name] !== undefined && !Number.isInteger(body[name])) return envelope(400, Codes.INVALID_PARAMETER, `Invalid parameter. \`${name}\` must be a unix timestamp.`);
    for (const name of strings) if (body[name] !== undefined && typeof body[name] !== 'string') return envelope(400, Codes.INVALID_PARAMETER, `Invalid parameter. \`${name}\` must be a string.`);
    for (const name of lists) {
      if (body[name] !== undefined && !(Array.isArray(body[name]) && (body[name] as unknown[]).every((v) => typeof v === 'string'))) {
        return envelope(400, Codes.INVALID_PARAMETER, `Invalid parameter. \`${name}\` must be a list of strings.`);
      }
    }
    return body;
  };
  const isRefusal = (value: unknown): value is SimResponse => typeof value === 'object' && value !== null && 'status' in value && 'body' in value;

  /** Search Orders: orders created or updated within the body's times, sorted as asked, one page. */
  const searchOrders = (req: SimRequest): SimResponse => {
    const size = pageSize(req.query);
    if (isRefusal(size)) return size;
    const sortField = req.query.get('sort_field') ?? 'create_time';
    const sortOrder = req.query.get('sort_order') ?? 'DESC';
    if (sortField !== 'create_time' && sortField !== 'update_time') return envelope(400, Codes.INVALID_PARAMETER, 'Invalid parameter. `sort_field` must be create_time or update_time.');
    if (sortOrder !== 'ASC' && sortOrder !== 'DESC') return envelope(400, Codes.INVALID_PARAMETER, 'Invalid parameter. `sort_order` must be ASC or DESC.');
    const body = searchBody(req.json, ['create_time_ge', 'create_time_lt', 'update_time_ge', 'update_time_lt'], ['order_status', 'buyer_user_id', 'shipping_type'], ['warehouse_ids']);
    if (isRefusal(body)) return body;
    const search = JSON.stringify([sortField, sortOrder, body]);
    const offset = tokenOffset(search, req.query.get('page_token'));
    if (offset === undefined) return badToken();
    const inRange = (value: number, ge: unknown, lt: unknown): boolean => (typeof ge !== 'number' || value >= ge) && (typeof lt !== 'number' || value < lt);
    const field = sortField === 'update_time' ? 'update_time' : 'create_time';
    const matching = [...orders.values()]
      .filter((o) => inRange(o.create_time, body.create_time_ge, body.create_time_lt) && inRange(o.update_time, body.update_time_ge, body.update_time_lt))
      .filter((o) => body.order_status === undefined || o.status === body.order_status)
      .sort((a, b) => (a[field] - b[field] || (a.id < b.id ? -1 : 1)) * (sortOrder === 'ASC' ? 1 : -1));
    const page = matching.slice(offset, offset + size);
    const rest = offset + page.length < matching.length;
    return envelope(200, Codes.OK, 'Success', { orders: page, next_page_token: rest ? pageToken(search, offset + page.length) : '', total_count: matching.length });
  };

  /** Search Products: the shop's products in the body's status (all when absent), oldest first, one page. */
  const searchProducts = (req: SimRequest): SimResponse => {
    const size = pageSize(req.query);
    if (isRefusal(size)) return size;
    const body = searchBody(req.json, ['create_time_ge', 'create_time_le', 'update_time_ge', 'update_time_le'], ['status'], ['seller_skus']);
    if (isRefusal(body)) return body;
    const statuses = ['ALL', 'DRAFT', 'PENDING', 'FAILED', 'ACTIVATE', 'SELLER_DEACTIVATED', 'PLATFORM_DEACTIVATED', 'FREEZE', 'DELETED'];
    if (body.status !== undefined && !statuses.includes(body.status as string)) return envelope(400, Codes.INVALID_PARAMETER, 'Invalid parameter. `status` is not a product status.');
    const search = JSON.stringify(body);
    const offset = tokenOffset(search, req.query.get('page_token'));
    if (offset === undefined) return badToken();
    const sellerSkus = body.seller_skus as string[] | undefined;
    const matching = [...products]
      .filter(([productId]) => body.status === undefined || body.status === 'ALL' || productInfo.get(productId)?.status === body.status)
      .filter(([, skus]) => sellerSkus === undefined || skus.some((s) => sellerSkus.includes(s.sellerSku)));
    const page = matching.slice(offset, offset + size).map(([productId, skus]) => {
      const info = productInfo.get(productId)!;
      return {
        id: productId,
        title: `Product ${skus.map((s) => s.sellerSku).join(' / ')}`,
        status: info.status,
        create_time: info.createTime,
        update_time: info.createTime,
        sales_regions: ['GB'],
        skus: skus.map((s) => ({
          id: s.id,
          seller_sku: s.sellerSku,
          price: { currency: 'GBP', sale_price: '12.50', tax_exclusive_price: '10.42' },
          inventory: [{ warehouse_id: WAREHOUSE_ID, quantity: s.quantity }],
        })),
      };
    });
    const rest = offset + page.length < matching.length;
    return envelope(200, Codes.OK, 'Success', { products: page, next_page_token: rest ? pageToken(search, offset + page.length) : '', total_count: matching.length });
  };

  const route = (req: SimRequest): SimResponse => {
    if (req.method === 'GET' && req.path === TOKEN_REFRESH_PATH) return refresh(req);
    const refused = authenticate(req);
    if (refused) return refused;
    const slot = bucket.take();
    if (!slot.ok) return envelope(429, Codes.RATE_LIMITED, 'Too many requests. Please retry later.');

    const update = /^\/product\/202309\/products\/([^/]+)\/inventory\/update$/.exec(req.path);
    if (req.method === 'POST' && update) return updateInventory(decodeURIComponent(update[1]!), req.json, req.fault);
    if (req.method === 'POST' && req.path === INVENTORY_SEARCH_PATH) {
      const ids = ((req.json as { sku_ids?: string[] } | undefined)?.sku_ids ?? []).filter((skuId) => byId.has(skuId));
      const grouped = new Map<string, Sku[]>();
      for (const skuId of ids) {
        const sku = byId.get(skuId)!;
        grouped.set(sku.productId, [...(grouped.get(sku.productId) ?? []), sku]);
      }
      const data: InventorySearchData = {
        inventory: [...grouped].map(([productId, skus]) => ({
          product_id: productId,
          skus: skus.map((s) => ({
            id: s.id,
            seller_sku: s.sellerSku,
            total_available_quantity: s.quantity,
            warehouse_inventory: [{ warehouse_id: WAREHOUSE_ID, available_quantity: s.quantity }],
          })),
        })),
      };
      return envelope(200, Codes.OK, 'Success', data);
    }
    if (req.method === 'POST' && req.path === ORDERS_SEARCH_PATH) return searchOrders(req);
    if (req.method === 'POST' && req.path === PRODUCTS_SEARCH_PATH) return searchProducts(req);
    if (req.method === 'GET' && req.path === ORDERS_PATH) {
      const ids = (req.query.get('ids') ?? '').split(',').filter(Boolean);
      if (ids.length === 0 || ids.length > 50) return envelope(400, Codes.INVALID_PARAMETER, 'Invalid parameter. `ids` must hold 1 to 50 order ids.');
      return envelope(200, Codes.OK, 'Success', { orders: ids.map((orderId) => orders.get(orderId)).filter(Boolean) });
    }
    return envelope(404, 36009009, 'Invalid path. The requested path does not exist.');
  };

  const server = await startSimServer({
    name: 'tiktok',
    port: options.port,
    latency: options.latency,
    route,
    itemFaults: ['item-locked', 'item-unknown'],
    isWrite: (req) => req.method === 'POST' && /\/inventory\/update$/.test(req.path),
    serverErrorResponse: (status) => envelope(status, Codes.INTERNAL, 'Internal error. Please retry later.'),
    echoErrorResponse: (echoed) => envelope(400, Codes.INVALID_PARAMETER, `Invalid parameter. Request: ${JSON.stringify(echoed)}`),
    downResponse: envelope(503, Codes.INTERNAL, 'Internal error. Please retry later.'),
    throttleResponse: (retryAfterMs) => ({
      ...envelope(429, Codes.RATE_LIMITED, 'Too many requests. Please retry later.'),
      headers: { 'retry-after': String(Math.max(1, Math.ceil(retryAfterMs / 1000))) },
    }),
  });

  const signedHeaders = (rawBody: Buffer | string): Record<string, string> => ({ 'content-type': 'application/json', authorization: signWebhook(appSecret, appKey, rawBody) });

  const deliver = async (payload: TiktokWebhook): Promise<void> => {
    if (!webhookTarget) throw new Error('TikTok simulator: no webhook target set');
    const body = JSON.stringify(payload);
    const res = await request(webhookTarget, { method: 'POST', headers: signedHeaders(body), body });
    await res.body.dump();
    if (res.statusCode >= 300) throw new Error(`TikTok simulator: webhook answered ${res.statusCode}`);
  };

  /** One ORDER_STATUS_CHANGE, the SDK sample with this order's id, status and times filled in. */
  const statusChange = (order: TiktokOrder, status: TiktokOrder['status']): TiktokWebhook => {
    const webhook = structuredClone(WEBHOOK_TEMPLATE);
    webhook.type = ORDER_STATUS_CHANGE;
    webhook.timestamp = Math.floor(Date.now() / 1000);
    webhook.data = { ...webhook.data, order_id: order.id, order_status: status, update_time: order.update_time };
    return webhook;
  };

  return {
    url: server.url,
    connectorOptions(hubSkus) {
      const skus: TiktokOptions['skus'] = {};
      for (const hubSku of hubSkus) {
        const sku = ensure(hubSku);
        skus[hubSku] = { productId: sku.productId, skuId: sku.id };
      }
      return { baseUrl: server.url, authBaseUrl: server.url, appKey, appSecret, refreshToken, shopCipher, skus, requestsPerSecond: rate.perSecond };
    },
    shown: (sku) => byHub.get(sku)?.quantity,
    setShown(sku, quantity) {
      ensure(sku, quantity).quantity = quantity;
    },
    stats: () => ({ ...server.counters, itemsWritten, tokenGrants: grants, expiredTokenAnswers: expiredAnswers }),
    setFault: server.setFault,
    setWebhookTarget(url) {
      webhookTarget = url;
    },
    signWebhook: (rawBody) => signedHeaders(rawBody),
    grants: () => grants,
    expiredTokenAnswers: () => expiredAnswers,
    expireTokens() {
      for (const [token, at] of tokens) tokens.set(token, Math.min(at, Date.now() - 1));
    },
    productOf: (sku) => byHub.get(sku)?.productId,
    inventoryUpdates: () => updateCalls,
    cancelOrder(orderId) {
      const order = orders.get(orderId);
      if (!order) return;
      const now = Math.floor(Date.now() / 1000);
      Object.assign(order, { status: 'CANCELLED', update_time: now, cancel_time: now });
      for (const item of order.line_items) Object.assign(item, { display_status: 'CANCELLED', cancel_user: 'BUYER', cancel_reason: 'No longer needed' });
    },
    cancelUnits(orderId, sku, units) {
      const order = orders.get(orderId);
      if (!order) return [];
      const items = order.line_items.filter((item) => item.sku_name === sku && item.display_status !== 'CANCELLED').slice(0, units);
      for (const item of items) Object.assign(item, { display_status: 'CANCELLED', cancel_user: 'SELLER', cancel_reason: 'Out of stock' });
      if (items.length > 0) order.update_time = Math.floor(Date.now() / 1000);
      return items.map((item) => item.id);
    },
    order: (orderId) => orders.get(orderId),
    setProductStatus(productId, status) {
      const info = productInfo.get(productId);
      if (info) info.status = status;
    },
    async placeOrder(lines, delivery: WebhookDelivery = {}) {
      const now = Math.floor(Date.now() / 1000);
      const order: TiktokOrder = { id: id().slice(-18), status: 'AWAITING_SHIPMENT', create_time: now, update_time: now, line_items: [] };
      for (const line of lines) {
        const sku = ensure(line.sku);
        sku.quantity = Math.max(0, sku.quantity - line.qty);
        // One line item per unit sold, as TikTok lists them.
        for (let unit = 0; unit < line.qty; unit++) {
          order.line_items.push({ id: id(), product_id: sku.productId, sku_id: sku.id, seller_sku: sku.sellerSku, sku_name: line.sku, display_status: 'AWAITING_SHIPMENT' });
        }
      }
      orders.set(order.id, order);
      // Lost for good: the order is searchable but no notification ever leaves.
      if (delivery.drop) return { orderId: order.id };
      // Checkout then payment: UNPAID → AWAITING_SHIPMENT. Normally the paid status is what arrives; out of order,
      // the paid status overtakes the earlier UNPAID notification.
      const sequence = delivery.outOfOrder ? [statusChange(order, 'AWAITING_SHIPMENT'), statusChange(order, 'UNPAID')] : [statusChange(order, 'AWAITING_SHIPMENT')];
      for (let i = 0; i < (delivery.times ?? 1); i++) for (const payload of sequence) await deliver(payload);
      return { orderId: order.id };
    },
    close: server.close,
  };
}
