import { createHash, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { request } from 'undici';
import type { SimulatorHandle, SimulatorOptions, WebhookDelivery } from '../../core/sdk.ts';
import { FixedWindowCounter } from '../_kit/rate-window.ts';
import { standardWebhookHeaders } from '../_kit/standard-webhooks.ts';
import { startSimServer, type SimRequest, type SimResponse } from '../_kit/sim-server.ts';
import {
  AUTH_HEADER,
  MAX_ITEMS,
  ORDER_STATUS,
  REQUESTS_LEFT_HEADER,
  REQUESTS_QUOTA_HEADER,
  RESET_MS_HEADER,
  WINDOW_MS_HEADER,
  type OrderWebhook,
  type V3Error,
} from './api.ts';
import type { BigCommerceOptions } from './options.ts';

export interface BigCommerceSimulatorOptions extends SimulatorOptions {
  storeHash?: string;
  accessToken?: string;
  /** The app's client secret, which BigCommerce signs webhooks with (Standard Webhooks, keyed by its bytes). */
  clientSecret?: string;
  /** Requests per window. Default 150 (Standard/Plus plans); `rateLimit` maps to `burst` per `burst / perSecond` s. */
  quota?: number;
  /** Window length in ms. Default 30,000. */
  windowMs?: number;
  /** Largest `items` array accepted. Default 2,000. */
  maxItems?: number;
}

export interface BigCommerceSimulator extends SimulatorHandle<BigCommerceOptions> {
  /**
   * Cancels an order as a merchant would: stock goes back and `store/order/statusUpdated` is sent (unless
   * `delivery.drop`: the status changes, the notification is lost).
   */
  cancelOrder(orderId: string, delivery?: WebhookDelivery): Promise<void>;
  /**
   * Refunds units of an order as a merchant would: each line's `quantity_refunded` grows and the status becomes
   * Partially Refunded, or Refunded once every unit is (stock then goes back, as for a cancellation); sends
   * `store/order/statusUpdated` unless `delivery.drop`.
   */
  refundOrder(orderId: string, lines: ReadonlyArray<{ sku: string; qty: number }>, delivery?: WebhookDelivery): Promise<void>;
  /** An order the store holds (stock taken, readable through the orders API) without sending its webhooks. */
  recordOrder(lines: ReadonlyArray<{ sku: string; qty: number }>): Promise<{ orderId: string }>;
  /** Scope and `webhook-id` of every webhook sent, in order. */
  sentWebhooks(): ReadonlyArray<{ scope: string; webhookId: string; orderId: number }>;
}

interface Variant {
  id: number;
  productId: number;
  sku: string;
  stock: number;
}

const STATUS_DOC = 'https://developer.bigcommerce.com/api-docs/getting-started/api-status-codes';
/**
 * A v3 error as BigCommerce's inventory OpenAPI documents it: `application/problem+json`, the refused items
 * named in `title` (`[Item with variant_id 106 is tracked by product, ...]`) and `errors` a free object.
 */
const v3Error = (status: number, title: string, errors: Record<string, string> = {}): SimResponse => ({
  status,
  headers: { 'content-type': 'application/problem+json' },
  body: { status, title, type: STATUS_DOC, errors } satisfies V3Error,
});

/** BigCommerce's own examples (test/fixtures/vendor/bigcommerce/SOURCE): webhooks and v2 orders are these, ids and lines filled in. */
const vendorFixture = (name: string): unknown => JSON.parse(readFileSync(new URL(`../../test/fixtures/vendor/bigcommerce/${name}`, import.meta.url), 'utf8'));
const ordersDocument = vendorFixture('orders.v2.trimmed.json') as {
  components: { responses: Record<string, { content: Record<string, { examples: Record<string, { value: unknown }> }> }> };
};
const ORDER_EXAMPLE = Object.values(ordersDocument.components.responses.order_Resp!.content['application/json']!.examples)[0]!.value as Record<string, unknown>;
const ORDER_PRODUCT_EXAMPLE = (ordersDocument.components.responses.orderProductsCollection_Resp!.content['application/json']!.examples.response!.value as Array<Record<string, unknown>>)[0]!;
const WEBHOOK_EXAMPLES: Record<string, Record<string, unknown>> = {
  'store/order/created': vendorFixture('webhook-store_order_created.json') as Record<string, unknown>,
  'store/order/updated': vendorFixture('webhook-store_order_updated.json') as Record<string, unknown>,
  'store/order/statusUpdated': vendorFixture('webhook-store_order_statusUpdated.json') as Record<string, unknown>,
};
const rfc2822 = (date: Date): string => date.toUTCString().replace('GMT', '+0000');

/**
 * A local BigCommerce store API: absolute inventory adjustments (all-or-nothing, 422 naming the refused items),
 * catalog variant reads, v2 orders and their products, the per-window request quota with its headers, and
 * id-only order webhooks signed with Standard Webhooks.
 */
/** Deliveries of one webhook before the simulator gives up on an endpoint that keeps failing. */
const DELIVERY_ATTEMPTS = 6;

export async function startBigCommerceSimulator(options: BigCommerceSimulatorOptions = {}): Promise<BigCommerceSimulator> {
  const storeHash = options.storeHash ?? 'simstore';
  const token = options.accessToken ?? 'bc-simulator-token';
  const clientSecret = options.clientSecret ?? 'bigcommerce-simulator-signing-key';
  // As BigCommerce's documentation verifies: the client secret, base64-encoded, is the Standard Webhooks key.
  const signingKey = Buffer.from(clientSecret, 'utf8').toString('base64');
  const signedHeaders = (rawBody: Buffer | string, webhookId = `msg_${randomUUID()}`): Record<string, string> => ({
    'content-type': 'application/json',
    ...standardWebhookHeaders(signingKey, webhookId, rawBody),
  });
  const quota = options.quota ?? (options.rateLimit ? options.rateLimit.burst : 150);
  const windowMs = options.windowMs ?? (options.rateLimit ? Math.ceil((options.rateLimit.burst / options.rateLimit.perSecond) * 1000) : 30_000);
  const maxItems = options.maxItems ?? MAX_ITEMS;
  const window = new FixedWindowCounter(quota, windowMs);
  const variants = new Map<number, Variant>();
  const bySku = new Map<string, Variant>();
  /** Orders as the v2 API answers them: BigCommerce's example order and order product, ids and lines filled in. */
  const orders = new Map<number, { order: Record<string, unknown> & { id: number; status_id: number }; products: Array<Record<string, unknown> & { variant_id: number; quantity: number }> }>();
  const sent: Array<{ scope: string; webhookId: string; orderId: number }> = [];
  let seq = 0;
  // Seeded from the clock so order ids stay unique across simulator runs against one ledger.
  let orderSeq = Math.floor(Date.now() / 100) % 1_000_000_000;
  let itemsWritten = 0;
  let webhookTarget: string | undefined;

  const ensureSku = (sku: string, stock = 0): Variant => {
    let variant = bySku.get(sku);
    if (!variant) {
      seq += 1;
      variant = { id: 500 + seq, productId: 100 + seq, sku, stock };
      variants.set(variant.id, variant);
      bySku.set(sku, variant);
    }
    return variant;
  };
  for (const [sku, stock] of Object.entries(options.skus ?? {})) ensureSku(sku, stock);

  const rateHeaders = (remaining: number, resetMs: number): Record<string, string> => ({
    [REQUESTS_LEFT_HEADER]: String(remaining),
    [REQUESTS_QUOTA_HEADER]: String(quota),
    [RESET_MS_HEADER]: String(resetMs),
    [WINDOW_MS_HEADER]: String(windowMs),
  });

  /** The item's identifier as BigCommerce names it in a message: `variant_id 106`. */
  const named = (item: Record<string, unknown>, key: string): string => `${key} ${String(item[key])}`;

  const adjustAbsolute = (req: SimRequest): SimResponse => {
    const body = req.json as { reason?: unknown; items?: unknown } | undefined;
    if (!body || !Array.isArray(body.items)) return v3Error(422, '[items is required]');
    if (body.items.length > maxItems) return v3Error(422, `[The request contains more than ${maxItems} items]`);
    const unknown = new Set(req.fault?.kind === 'item-unknown' ? req.fault.skus : []);
    const problems: string[] = [];
    const writes: Array<[Variant, number]> = [];
    for (const raw of body.items as unknown[]) {
      const item = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
      const ids = ['variant_id', 'product_id', 'sku'].filter((k) => item[k] !== undefined);
      // The document's schema: exactly one identifier, an integer location and quantity (oneOf of three shapes).
      if (ids.length !== 1) {
        problems.push('Exactly one of sku, variant_id or product_id is required for each item');
        continue;
      }
      const key = ids[0]!;
      if (!Number.isInteger(item.location_id)) {
        problems.push(`Item with ${named(item, key)} has no integer location_id`);
        continue;
      }
      if (item.location_id !== 1) {
        problems.push(`Location with id ${String(item.location_id)} does not exist`);
        continue;
      }
      if (!Number.isInteger(item.quantity) || (item.quantity as number) < 0) {
        problems.push(`Item with ${named(item, key)} has an invalid quantity`);
        continue;
      }
      const variant = key === 'variant_id' ? variants.get(Number(item.variant_id))
        : key === 'sku' ? bySku.get(String(item.sku))
        : [...variants.values()].find((v) => v.productId === Number(item.product_id));
      // The wording is ours: BigCommerce documents the shape of a refusal (its example) but not this message.
      if (!variant || unknown.has(variant.sku)) {
        problems.push(`Item with ${named(item, key)} does not exist`);
        continue;
      }
      writes.push([variant, item.quantity as number]);
    }
    // All or nothing: a refused item stops the whole adjustment.
    if (problems.length > 0) return v3Error(422, problems.map((p) => `[${p}]`).join(''));
    for (const [variant, quantity] of writes) variant.stock = quantity;
    itemsWritten += writes.length;
    return { status: 200, body: { transaction_id: randomUUID() }, wrote: true };
  };

  /** A v2 error: BigCommerce's v2 API answers errors as an array of `{ status, message }`. */
  const v2Error = (status: number, message: string): SimResponse => ({ status, body: [{ status, message }] });

  /**
   * `GET /v2/orders`: the filters the connector and a careful client use (ids, dates created and modified, status),
   * `sort` by one of the documented fields with `:asc`/`:desc`, `page` and `limit` (default 50, at most 250).
   * An empty page is the documented 200 with an empty array.
   */
  const listOrders = (req: SimRequest): SimResponse => {
    const q = req.query;
    const dateFilter = (name: string): number | undefined | SimResponse => {
      const raw = q.get(name);
      if (raw === null) return undefined;
      const ms = Date.parse(raw);
      return Number.isNaN(ms) ? v2Error(400, `The field '${name}' is invalid.`) : ms;
    };
    const bounds: Record<string, number | undefined> = {};
    for (const name of ['min_date_modified', 'max_date_modified', 'min_date_created', 'max_date_created']) {
      const value = dateFilter(name);
      if (typeof value === 'object') return value;
      bounds[name] = value;
    }
    const intParam = (name: string, fallback: number | undefined, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined | SimResponse => {
      const raw = q.get(name);
      if (raw === null) return fallback;
      const n = Number(raw);
      return /^\d+$/.test(raw) && n >= min && n <= max ? n : v2Error(400, `The field '${name}' is invalid.`);
    };
    const page = intParam('page', 1, 1);
    const limit = intParam('limit', 50, 1, 250);
    const statusId = intParam('status_id', undefined, 0);
    const minId = intParam('min_id', undefined, 0);
    const maxId = intParam('max_id', undefined, 0);
    for (const v of [page, limit, statusId, minId, maxId]) if (typeof v === 'object') return v;
    const [sortField = 'id', direction = 'asc'] = (q.get('sort') ?? 'id').split(':');
    if (!['id', 'customer_id', 'date_created', 'date_modified', 'status_id', 'channel_id', 'external_id'].includes(sortField) || !['asc', 'desc'].includes(direction)) {
      return v2Error(400, "The field 'sort' is invalid.");
    }
    const timeOf = (o: Record<string, unknown>, field: string): number => Date.parse(String(o[field]));
    const inRange = (value: number, min: number | undefined, max: number | undefined): boolean => (min === undefined || value >= min) && (max === undefined || value <= max);
    const found = [...orders.values()]
      .map((o) => o.order)
      .filter((o) => inRange(timeOf(o, 'date_modified'), bounds.min_date_modified, bounds.max_date_modified))
      .filter((o) => inRange(timeOf(o, 'date_created'), bounds.min_date_created, bounds.max_date_created))
      .filter((o) => inRange(o.id, minId as number | undefined, maxId as number | undefined))
      .filter((o) => statusId === undefined || o.status_id === statusId);
    const key = (o: Record<string, unknown>): number => (sortField.startsWith('date_') ? timeOf(o, sortField) : Number(o[sortField] ?? 0));
    found.sort((a, b) => (key(a) - key(b) || a.id - b.id) * (direction === 'desc' ? -1 : 1));
    const start = ((page as number) - 1) * (limit as number);
    return { status: 200, body: found.slice(start, start + (limit as number)) };
  };

  /** A catalog product as `GET /v3/catalog/products?include=variants` answers it: one product per simulated variant, tracked by variant. */
  const productOf = (v: Variant, withVariants: boolean): Record<string, unknown> => ({
    id: v.productId,
    name: `Product ${v.sku}`,
    type: 'physical',
    sku: v.sku,
    weight: 1,
    price: 10,
    inventory_level: v.stock,
    inventory_tracking: 'variant',
    base_variant_id: v.id,
    date_created: '2026-11-02T10:00:00+00:00',
    date_modified: '2026-11-02T10:00:00+00:00',
    ...(withVariants ? { variants: [{ id: v.id, product_id: v.productId, sku: v.sku, inventory_level: v.stock, price: 10, weight: 1, option_values: [] }] } : {}),
  });

  /** `GET /v3/catalog/products`: `include`, `page`, `limit` (at most 250, as documented), with v3 pagination. */
  const catalogProducts = (req: SimRequest): SimResponse => {
    const include = (req.query.get('include') ?? '').split(',').filter(Boolean);
    const page = Number(req.query.get('page') ?? 1);
    const limit = Number(req.query.get('limit') ?? 50);
    if (!Number.isInteger(page) || page < 1) return v3Error(422, 'The field page is invalid.');
    if (!Number.isInteger(limit) || limit < 1 || limit > 250) return v3Error(422, 'The field limit is invalid.');
    const all = [...variants.values()].sort((a, b) => a.productId - b.productId);
    const data = all.slice((page - 1) * limit, page * limit).map((v) => productOf(v, include.includes('variants')));
    const totalPages = Math.max(1, Math.ceil(all.length / limit));
    return { status: 200, body: { data, meta: { pagination: { total: all.length, count: data.length, per_page: limit, current_page: page, total_pages: totalPages, links: {} } } } };
  };

  const catalogVariants = (req: SimRequest): SimResponse => {
    const ids = (req.query.get('id:in') ?? '').split(',').filter(Boolean).map(Number);
    const skus = (req.query.get('sku:in') ?? '').split(',').filter(Boolean);
    const found = [...ids.map((id) => variants.get(id)), ...skus.map((s) => bySku.get(s))].filter((v): v is Variant => v !== undefined);
    const data = found.map((v) => ({ id: v.id, product_id: v.productId, sku: v.sku, inventory_level: v.stock }));
    return { status: 200, body: { data, meta: { pagination: { total: data.length, count: data.length, per_page: 250, current_page: 1, total_pages: 1 } } } };
  };

  const server = await startSimServer({
    name: 'BigCommerce',
    // An item the store does not hold is refused in the adjustment's 422; BigCommerce documents no per-item
    // "locked" answer for inventory adjustments, so `item-locked` is refused rather than faked.
    itemFaults: ['item-unknown'],
    serverErrorResponse: (status) => v3Error(status, 'Internal Server Error'),
    port: options.port,
    latency: options.latency,
    throttleResponse: (retryAfterMs) => ({ status: 429, headers: rateHeaders(0, retryAfterMs), body: { status: 429, title: 'Too many requests', type: STATUS_DOC } }),
    route(req): SimResponse {
      const prefix = `/stores/${storeHash}`;
      if (!req.path.startsWith(`${prefix}/`)) return v3Error(404, 'Store not found');
      if (req.headers[AUTH_HEADER] !== token) return v3Error(401, 'No valid credentials were found in this request');
      const slot = window.take();
      const answer = ((): SimResponse => {
        if (!slot.ok) return { status: 429, body: { status: 429, title: 'Too many requests', type: STATUS_DOC } };
        const rest = req.path.slice(prefix.length);
        if (req.method === 'PUT' && rest === '/v3/inventory/adjustments/absolute') return adjustAbsolute(req);
        if (req.method === 'GET' && rest === '/v3/catalog/variants') return catalogVariants(req);
        if (req.method === 'GET' && rest === '/v3/catalog/products') return catalogProducts(req);
        if (req.method === 'GET' && rest === '/v2/orders') return listOrders(req);
        const order = /^\/v2\/orders\/(\d+)(\/products)?$/.exec(rest);
        if (req.method === 'GET' && order) {
          const found = orders.get(Number(order[1]));
          if (!found) return { status: 404, body: [{ status: 404, message: 'The requested resource was not found.' }] };
          if (!order[2]) return { status: 200, body: found.order };
          const limit = Math.min(250, Number(req.query.get('limit') ?? 50));
          const page = Math.max(1, Number(req.query.get('page') ?? 1));
          const slice = found.products.slice((page - 1) * limit, page * limit);
          return slice.length > 0 ? { status: 200, body: slice } : { status: 204 };
        }
        return v3Error(404, 'The requested resource was not found');
      })();
      return { ...answer, headers: { ...answer.headers, ...rateHeaders(slot.remaining, slot.resetMs) } };
    },
  });

  const deliver = async (scope: string, orderId: number, webhookId: string, extra: Partial<OrderWebhook['data']> = {}): Promise<void> => {
    if (!webhookTarget) throw new Error('bigcommerce simulator: no webhook target set');
    const now = Math.floor(Date.now() / 1000);
    const example = WEBHOOK_EXAMPLES[scope]!;
    // BigCommerce's example payload for the scope, about this store and this order.
    const payload = {
      ...example,
      store_id: '1001',
      producer: `stores/${storeHash}`,
      created_at: now,
      data: { ...(example.data as Record<string, unknown>), id: orderId, ...extra },
      hash: createHash('sha1').update(`${scope}:${orderId}:${now}`).digest('hex'),
    };
    const body = JSON.stringify(payload);
    sent.push({ scope, webhookId, orderId });
    // BigCommerce retries a delivery that was not acknowledged, with backoff (compressed here); a retried
    // message keeps its webhook-id and is signed again with a fresh timestamp.
    for (let attempt = 1; ; attempt++) {
      const res = await request(webhookTarget, { method: 'POST', headers: signedHeaders(body, webhookId), body });
      await res.body.dump();
      if (res.statusCode < 300) return;
      if (attempt >= DELIVERY_ATTEMPTS) throw new Error(`bigcommerce simulator: webhook ${scope} answered ${res.statusCode} ${attempt} times`);
      await new Promise((resolve) => setTimeout(resolve, 250 * 2 ** attempt));
    }
  };

  /** Records an order as the v2 API will answer it: BigCommerce's example order and products, this order's ids and lines. */
  const record = (lines: ReadonlyArray<{ sku: string; qty: number }>): number => {
    orderSeq += 1;
    const id = orderSeq;
    const created = rfc2822(new Date());
    const products = lines.map((line, i) => {
      const variant = ensureSku(line.sku);
      variant.stock = Math.max(0, variant.stock - line.qty);
      return {
        ...ORDER_PRODUCT_EXAMPLE,
        id: id * 100 + i,
        order_id: id,
        product_id: variant.productId,
        variant_id: variant.id,
        sku: line.sku,
        quantity: line.qty,
        quantity_shipped: 0,
        quantity_refunded: 0,
        name: line.sku,
        name_customer: line.sku,
        name_merchant: line.sku,
      };
    });
    const itemsTotal = lines.reduce((sum, line) => sum + line.qty, 0);
    orders.set(id, {
      order: { ...ORDER_EXAMPLE, id, date_created: created, date_modified: created, status_id: ORDER_STATUS.awaitingFulfillment, status: 'Awaiting Fulfillment', items_total: itemsTotal, items_shipped: 0 },
      products,
    });
    return id;
  };

  return {
    url: server.url,
    connectorOptions(skus) {
      const mapping: BigCommerceOptions['skus'] = {};
      for (const sku of skus) mapping[sku] = { variantId: ensureSku(sku).id };
      return { baseUrl: server.url, storeHash, accessToken: token, locationId: 1, skus: mapping, clientSecret };
    },
    shown: (sku) => bySku.get(sku)?.stock,
    setShown(sku, quantity) {
      ensureSku(sku).stock = quantity;
    },
    stats: () => ({ ...server.counters, itemsWritten }),
    setFault: server.setFault,
    faults: server.faults,
    setWebhookTarget(url) {
      webhookTarget = url;
    },
    sentWebhooks: () => sent,
    // The signature headers are made for this body now; headers passed in never replace them.
    signWebhook: (rawBody, headers) => ({ ...headers, ...signedHeaders(rawBody) }),
    recordOrder: async (lines) => ({ orderId: String(record(lines)) }),
    async placeOrder(lines, delivery: WebhookDelivery = {}) {
      const id = record(lines);
      // Lost for good: the store holds the order (the orders API lists it), no webhook ever leaves.
      if (delivery.drop) return { orderId: String(id) };
      const createdHook = { scope: 'store/order/created', webhookId: `msg_${randomUUID()}` };
      const updatedHook = { scope: 'store/order/updated', webhookId: `msg_${randomUUID()}` };
      const sequence = delivery.outOfOrder ? [updatedHook, createdHook] : [createdHook];
      for (let i = 0; i < (delivery.times ?? 1); i++) for (const hook of sequence) await deliver(hook.scope, id, hook.webhookId);
      return { orderId: String(id) };
    },
    async cancelOrder(orderId, delivery: WebhookDelivery = {}) {
      const found = orders.get(Number(orderId));
      if (!found) throw new Error(`bigcommerce simulator: no order ${orderId}`);
      const previous = found.order.status_id;
      found.order = { ...found.order, status_id: ORDER_STATUS.cancelled, status: 'Cancelled', date_modified: rfc2822(new Date()) };
      for (const p of found.products) {
        const variant = variants.get(p.variant_id);
        if (variant) variant.stock += p.quantity;
      }
      if (delivery.drop) return;
      await deliver('store/order/statusUpdated', found.order.id, `msg_${randomUUID()}`, { status: { previous_status_id: previous, new_status_id: ORDER_STATUS.cancelled } });
    },
    async refundOrder(orderId, lines, delivery: WebhookDelivery = {}) {
      const found = orders.get(Number(orderId));
      if (!found) throw new Error(`bigcommerce simulator: no order ${orderId}`);
      for (const line of lines) {
        let left = line.qty;
        for (const p of found.products) {
          if (p.sku !== line.sku || left === 0) continue;
          const refunded = Number(p.quantity_refunded ?? 0);
          const take = Math.min(left, p.quantity - refunded);
          p.quantity_refunded = refunded + take;
          p.is_refunded = p.quantity_refunded === p.quantity;
          left -= take;
        }
        if (left > 0) throw new Error(`bigcommerce simulator: order ${orderId} has not ${line.qty} unrefunded units of ${line.sku}`);
      }
      const previous = found.order.status_id;
      const whole = found.products.every((p) => p.quantity_refunded === p.quantity);
      const [statusId, status] = whole ? [ORDER_STATUS.refunded, 'Refunded'] : [ORDER_STATUS.partiallyRefunded, 'Partially Refunded'];
      found.order = { ...found.order, status_id: statusId, status, date_modified: rfc2822(new Date()) };
      // A store gives the stock back when an order becomes Refunded (as when it is cancelled), not for a partial refund.
      if (whole) for (const p of found.products) {
        const variant = variants.get(p.variant_id);
        if (variant) variant.stock += p.quantity;
      }
      if (delivery.drop) return;
      await deliver('store/order/statusUpdated', found.order.id, `msg_${randomUUID()}`, { status: { previous_status_id: previous, new_status_id: statusId } });
    },
    close: server.close,
  };
}
