import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { request } from 'undici';
import { type SimulatorHandle, type SimulatorOptions, TokenBucket, type WebhookDelivery } from '../../core/sdk.ts';
import { startSimServer, type EchoedRequest, type SimRequest, type SimResponse } from '../_kit/sim-server.ts';
import {
  API_PREFIX,
  DELIVERY_ID_HEADER,
  EVENT_HEADER,
  MAX_BATCH,
  RESOURCE_HEADER,
  SIGNATURE_HEADER,
  SOURCE_HEADER,
  TOPIC_HEADER,
  WEBHOOK_ID_HEADER,
  type WooError,
} from './api.ts';
import type { WooCommerceOptions } from './options.ts';
import { wooWebhookSignature } from './webhook-signature.ts';

export interface WooCommerceSimulatorOptions extends SimulatorOptions {
  /** Consumer key the API accepts. */
  consumerKey?: string;
  /** Consumer secret the API accepts. */
  consumerSecret?: string;
  /** Secret order webhooks are signed with. */
  webhookSecret?: string;
  /** Largest batch accepted. Default 100. */
  maxBatchSize?: number;
  /** Hub SKUs sold as variations: parent product name → the hub SKUs of its variations. */
  variations?: Record<string, string[]>;
}

export interface WooCommerceSimulator extends SimulatorHandle<WooCommerceOptions> {
  /** Sends the unsigned ping WooCommerce sends when a webhook is created; resolves to the HTTP status. */
  sendPing(webhookId: number): Promise<number>;
  /** Topics of the order webhooks sent, in order. */
  sentWebhooks(): ReadonlyArray<{ topic: string; orderId: number }>;
  /**
   * The store cancels an order: WooCommerce puts what its lines took back into stock, and `order.updated` is
   * sent (unless `drop`).
   */
  cancelOrder(orderId: string, delivery?: WebhookDelivery): Promise<void>;
  /**
   * The store refunds units of an order's lines (one refund object), restocking them unless `restock` is
   * false (the "Restock refunded items" box, `api_restock`). A refund of every unit marks the order
   * `refunded`. The order is updated and `order.updated` sent (unless `drop`); its body lists the refund by
   * id, reason and total only. Resolves to the refund id.
   */
  refundOrder(orderId: string, lines: ReadonlyArray<{ sku: string; qty: number }>, options?: { restock?: boolean; delivery?: WebhookDelivery }): Promise<{ refundId: string }>;
}

/** The list parameters the REST reference documents as enums or ranges, with what it accepts. */
const LIST_ENUMS: Readonly<Record<string, readonly string[]>> = {
  order: ['asc', 'desc'],
  context: ['view', 'edit'],
};

interface Post {
  id: number;
  sku: string;
  /** 0 for a product, the parent id for a variation. */
  parentId: number;
  stock: number;
}

const wooError = (status: number, code: string, message: string): SimResponse => ({ status, body: { code, message, data: { status } } satisfies WooError });

/** WooCommerce's published REST examples: every product, variation and order the simulator answers with is one of these, its ids, SKU, stock and lines filled in. */
const example = (name: string): Record<string, unknown> => JSON.parse(readFileSync(new URL(`../../test/fixtures/vendor/woocommerce/${name}`, import.meta.url), 'utf8')) as Record<string, unknown>;
const PRODUCT_EXAMPLE = example('product-example.json');
const VARIATION_EXAMPLE = example('product-variation-example.json');
const ORDER_EXAMPLE = example('order-example.json') as Record<string, unknown> & { line_items: Array<Record<string, unknown>> };
/** The reference's "List all refunds" example; its second refund (with a line) is the template of every refund. */
const REFUND_EXAMPLE = (JSON.parse(readFileSync(new URL('../../test/fixtures/vendor/woocommerce/refunds-list-example.json', import.meta.url), 'utf8')) as Array<Record<string, unknown> & { line_items: Array<Record<string, unknown>> }>)[1]!;
const ORDER_STATUSES = ['any', 'pending', 'processing', 'on-hold', 'completed', 'cancelled', 'refunded', 'failed', 'trash'];

/** 400 rest_invalid_param for one parameter, as WordPress answers a value outside the route's schema. */
const invalidParam = (name: string, why: string): SimResponse => ({
  status: 400,
  body: { code: 'rest_invalid_param', message: `Invalid parameter(s): ${name}`, data: { status: 400, params: { [name]: why }, details: {} } },
});

/**
 * The collection answer WordPress gives: one page of `items` (`page`, `per_page` 1-100, default 10) with the
 * X-WP-Total and X-WP-TotalPages headers; a page past the last is empty.
 */
function paged(req: SimRequest, items: readonly unknown[], orderbys: readonly string[]): SimResponse | { error: SimResponse } {
  const pageText = req.query.get('page') ?? '1';
  const perPageText = req.query.get('per_page') ?? '10';
  const page = Number(pageText);
  const perPage = Number(perPageText);
  if (!Number.isInteger(page) || page < 1) return { error: invalidParam('page', 'page must be greater than or equal to 1') };
  if (!Number.isInteger(perPage) || perPage < 1 || perPage > 100) return { error: invalidParam('per_page', 'per_page must be between 1 (inclusive) and 100 (inclusive)') };
  const orderby = req.query.get('orderby');
  if (orderby !== null && !orderbys.includes(orderby)) return { error: invalidParam('orderby', `orderby is not one of ${orderbys.join(', ')}.`) };
  for (const [name, allowed] of Object.entries(LIST_ENUMS)) {
    const value = req.query.get(name);
    if (value !== null && !allowed.includes(value)) return { error: invalidParam(name, `${name} is not one of ${allowed.join(', ')}.`) };
  }
  const totalPages = Math.ceil(items.length / perPage);
  return {
    status: 200,
    headers: { 'x-wp-total': String(items.length), 'x-wp-totalpages': String(totalPages) },
    body: items.slice((page - 1) * perPage, page * perPage),
  };
}

/** A date parameter as WordPress reads it (ISO 8601; GMT when dates_are_gmt is true or the value has a zone); NaN when unreadable. */
function dateParam(value: string | null): number | undefined {
  if (value === null) return undefined;
  return Date.parse(/[zZ]|[+-]\d\d:?\d\d$/.test(value) ? value : `${value}Z`);
}

/**
 * A local WooCommerce REST API (products and variations batch, product and variation reads, orders) with the
 * real auth and error shapes. It accepts Basic auth over plain HTTP, which WordPress refuses outside HTTPS,
 * because it listens on loopback only. WooCommerce core has no rate limit: one is enforced (429 + Retry-After,
 * as a host in front of WordPress would) only when `rateLimit` is given.
 */
export async function startWooCommerceSimulator(options: WooCommerceSimulatorOptions = {}): Promise<WooCommerceSimulator> {
  const consumerKey = options.consumerKey ?? 'ck_simulator';
  const consumerSecret = options.consumerSecret ?? 'cs_simulator';
  const webhookSecret = options.webhookSecret ?? 'woocommerce-webhook-secret';
  const maxBatch = options.maxBatchSize ?? MAX_BATCH;
  const bucket = options.rateLimit ? new TokenBucket(options.rateLimit.perSecond, options.rateLimit.burst) : undefined;
  const posts = new Map<number, Post>();
  const postBySku = new Map<string, Post>();
  const orders = new Map<number, Record<string, unknown>>();
  /** Each order's refund objects, oldest first. */
  const refunds = new Map<number, Array<Record<string, unknown>>>();
  let refundSeq = 0;
  const sent: Array<{ topic: string; orderId: number }> = [];
  let nextId = 100;
  let itemsWritten = 0;
  let webhookTarget: string | undefined;

  const addPost = (sku: string, parentId: number, stock: number): Post => {
    nextId += 1;
    const post = { id: nextId, sku, parentId, stock };
    posts.set(post.id, post);
    postBySku.set(sku, post);
    return post;
  };
  const ensureSku = (sku: string, stock = 0): Post => postBySku.get(sku) ?? addPost(sku, 0, stock);
  const variationSkus = new Set<string>();
  for (const [parentName, children] of Object.entries(options.variations ?? {})) {
    const parent = addPost(parentName, 0, 0);
    for (const child of children) {
      addPost(child, parent.id, options.skus?.[child] ?? 0);
      variationSkus.add(child);
    }
  }
  for (const [sku, stock] of Object.entries(options.skus ?? {})) if (!variationSkus.has(sku)) ensureSku(sku, stock);

  const authenticate = (req: SimRequest): SimResponse | undefined => {
    let key = req.query.get('consumer_key') ?? undefined;
    let secret = req.query.get('consumer_secret') ?? undefined;
    const header = req.headers.authorization;
    if (header?.startsWith('Basic ')) {
      const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      key = decoded.slice(0, colon);
      secret = decoded.slice(colon + 1);
    }
    if (key === undefined) return undefined;
    if (key !== consumerKey) return wooError(401, 'woocommerce_rest_authentication_error', 'Consumer key is invalid.');
    if (secret !== consumerSecret) return wooError(401, 'woocommerce_rest_authentication_error', 'Consumer secret is invalid.');
    return { status: 200 };
  };

  const variationView = (post: Post): Record<string, unknown> => {
    const variations = [...posts.values()].filter((p) => p.parentId === post.id).map((p) => p.id);
    return { name: post.sku, slug: post.sku.toLowerCase(), type: variations.length > 0 ? 'variable' : 'simple', variations };
  };

  const view = (post: Post): Record<string, unknown> => ({
    ...structuredClone(post.parentId ? VARIATION_EXAMPLE : PRODUCT_EXAMPLE),
    id: post.id,
    ...(post.parentId ? {} : variationView(post)),
    sku: post.sku,
    manage_stock: true,
    stock_quantity: post.stock,
    stock_status: post.stock > 0 ? 'instock' : 'outofstock',
    _links: {},
  });

  const batch = (req: SimRequest, parentId: number): SimResponse => {
    const body = (req.json ?? {}) as { create?: unknown[]; update?: unknown[]; delete?: unknown[] };
    const total = (body.create?.length ?? 0) + (body.update?.length ?? 0) + (body.delete?.length ?? 0);
    if (total > maxBatch) return wooError(413, 'woocommerce_rest_request_entity_too_large', `Unable to accept more than ${maxBatch} items for this request.`);
    if (parentId && posts.get(parentId)?.parentId !== 0) return wooError(404, 'woocommerce_rest_product_invalid_id', 'Invalid ID.');
    const type = parentId ? 'product_variation' : 'product';
    let wrote = false;
    const update = (body.update ?? []).map((raw) => {
      const item = raw as { id?: unknown; stock_quantity?: unknown; manage_stock?: unknown };
      const id = Number(item.id);
      const post = posts.get(id);
      const unknown = req.fault?.kind === 'item-unknown' && post !== undefined && req.fault.skus.includes(post.sku);
      if (!post || post.parentId !== parentId || unknown) return { id: Number.isFinite(id) ? id : 0, error: { code: `woocommerce_rest_${type}_invalid_id`, message: 'Invalid ID.', data: { status: 400 } } };
      if (item.stock_quantity !== undefined && (typeof item.stock_quantity !== 'number' || !Number.isInteger(item.stock_quantity))) {
        return { id, error: { code: 'rest_invalid_param', message: 'Invalid parameter(s): stock_quantity', data: { status: 400 } } };
      }
      if (typeof item.stock_quantity === 'number') {
        post.stock = item.stock_quantity;
        itemsWritten += 1;
        wrote = true;
      }
      return view(post);
    });
    return { status: 200, body: { create: [], update, delete: [] }, wrote };
  };

  const list = (req: SimRequest, parentId: number): SimResponse => {
    const include = (req.query.get('include') ?? '').split(',').filter(Boolean).map(Number);
    const all = [...posts.values()].filter((p) => p.parentId === parentId);
    const found = include.length > 0 ? include.map((id) => posts.get(id)).filter((p): p is Post => p !== undefined && p.parentId === parentId) : all;
    // Posts carry no dates here: date order is creation order, which is id order.
    const sorted = req.query.get('orderby') === 'include' ? found : [...found].sort((a, b) => (req.query.get('order') === 'asc' ? a.id - b.id : b.id - a.id));
    const answer = paged(req, sorted.map(view), parentId ? ['date', 'id', 'include', 'title', 'slug'] : ['date', 'id', 'include', 'title', 'slug', 'price', 'popularity', 'rating']);
    return 'error' in answer ? answer.error : answer;
  };

  /** GET /orders: `modified_after`/`modified_before`/`after`/`before` (GMT with dates_are_gmt), `status`, sorted and paged. */
  const listOrders = (req: SimRequest): SimResponse => {
    const bounds: Array<[string, string, 1 | -1]> = [['modified_after', 'date_modified_gmt', 1], ['modified_before', 'date_modified_gmt', -1], ['after', 'date_created_gmt', 1], ['before', 'date_created_gmt', -1]];
    const tests: Array<(order: Record<string, unknown>) => boolean> = [];
    for (const [name, field, direction] of bounds) {
      const at = dateParam(req.query.get(name));
      if (at === undefined) continue;
      if (Number.isNaN(at)) return invalidParam(name, `Invalid date.`);
      tests.push((order) => direction * (Date.parse(`${String(order[field])}Z`) - at) > 0);
    }
    const statuses = (req.query.get('status') ?? 'any').split(',');
    const wrong = statuses.find((status) => !ORDER_STATUSES.includes(status));
    if (wrong !== undefined) return invalidParam('status', `status[0] is not one of ${ORDER_STATUSES.join(', ')}.`);
    if (!statuses.includes('any')) tests.push((order) => statuses.includes(String(order.status)));
    const orderby = req.query.get('orderby') ?? 'date';
    const found = [...orders.values()].filter((order) => tests.every((t) => t(order)));
    const created = (order: Record<string, unknown>): number => Date.parse(`${String(order.date_created_gmt)}Z`);
    const ascending = (a: Record<string, unknown>, b: Record<string, unknown>): number =>
      (orderby === 'id' ? 0 : created(a) - created(b)) || (a.id as number) - (b.id as number);
    const sorted = found.sort((a, b) => (req.query.get('order') === 'asc' ? ascending(a, b) : ascending(b, a)));
    const answer = paged(req, sorted.map((order) => structuredClone(order)), ['date', 'id', 'include', 'title', 'slug']);
    return 'error' in answer ? answer.error : answer;
  };

  const server = await startSimServer({
    name: 'woocommerce',
    port: options.port,
    latency: options.latency,
    // A deleted or trashed product answers per item in the batch, as the unknown-id error below.
    itemFaults: ['item-unknown'],
    serverErrorResponse: (status) => ({ status, body: { code: 'internal_server_error', message: 'There has been a critical error on this website.', data: { status } } }),
    echoErrorResponse: (echoed: EchoedRequest) => ({ status: 400, body: { code: 'rest_invalid_request', message: 'The request could not be processed.', data: { status: 400, request: echoed } } }),
    downResponse: { status: 503, headers: { 'retry-after': '5' }, body: '<html><body><h1>503 Service Unavailable</h1></body></html>' },
    route(req): SimResponse {
      if (!req.path.startsWith(API_PREFIX)) return { status: 404, body: { code: 'rest_no_route', message: 'No route was found matching the URL and request method.', data: { status: 404 } } };
      const auth = authenticate(req);
      if (auth && auth.status !== 200) return auth;
      if (bucket) {
        const slot = bucket.take();
        if (!slot.ok) return { status: 429, headers: { 'retry-after': String(Math.max(1, Math.ceil(slot.retryAfterMs / 1000))) }, body: '<html><body><h1>429 Too Many Requests</h1></body></html>' };
      }
      const rest = req.path.slice(API_PREFIX.length);
      const variations = /^\/products\/(\d+)\/variations(\/batch)?$/.exec(rest);
      if (req.method === 'POST' && rest === '/products/batch') return auth ? batch(req, 0) : wooError(401, 'woocommerce_rest_cannot_batch', 'Sorry, you are not allowed to batch manipulate this resource.');
      if (req.method === 'POST' && variations?.[2]) return auth ? batch(req, Number(variations[1])) : wooError(401, 'woocommerce_rest_cannot_batch', 'Sorry, you are not allowed to batch manipulate this resource.');
      if (!auth) return wooError(401, 'woocommerce_rest_cannot_view', 'Sorry, you cannot list resources.');
      if (req.method === 'GET' && rest === '/products') return list(req, 0);
      if (req.method === 'GET' && variations && !variations[2]) return list(req, Number(variations[1]));
      if (req.method === 'GET' && rest === '/orders') return listOrders(req);
      const refundsMatch = /^\/orders\/(\d+)\/refunds$/.exec(rest);
      if (req.method === 'GET' && refundsMatch) {
        const order = orders.get(Number(refundsMatch[1]));
        if (!order) return wooError(404, 'woocommerce_rest_shop_order_invalid_id', 'Invalid ID.');
        const list = [...(refunds.get(order.id as number) ?? [])].reverse();
        const answer = paged(req, list.map((refund) => structuredClone(refund)), ['date', 'id', 'include', 'title', 'slug']);
        return 'error' in answer ? answer.error : answer;
      }
      const orderMatch = /^\/orders\/(\d+)$/.exec(rest);
      if (req.method === 'GET' && orderMatch) {
        const order = orders.get(Number(orderMatch[1]));
        return order ? { status: 200, body: order } : wooError(404, 'woocommerce_rest_shop_order_invalid_id', 'Invalid ID.');
      }
      return { status: 404, body: { code: 'rest_no_route', message: 'No route was found matching the URL and request method.', data: { status: 404 } } };
    },
  });

  const post = async (headers: Record<string, string>, body: string): Promise<number> => {
    if (!webhookTarget) throw new Error('woocommerce simulator: no webhook target set');
    const res = await request(webhookTarget, { method: 'POST', headers, body });
    await res.body.dump();
    return res.statusCode;
  };

  /** The headers WooCommerce sends with a delivery (WC_Webhook::deliver), signed as WC_Webhook::generate_signature signs. */
  const webhookHeaders = (rawBody: Buffer | string, topic: string): Record<string, string> => ({
    'content-type': 'application/json',
    'user-agent': 'WooCommerce/9.4.0 Hookshot (WordPress/6.7)',
    [SOURCE_HEADER]: `${server.url}/`,
    [TOPIC_HEADER]: topic,
    [RESOURCE_HEADER]: topic.split('.')[0] ?? '',
    [EVENT_HEADER]: topic.split('.')[1] ?? '',
    [SIGNATURE_HEADER]: wooWebhookSignature(webhookSecret, rawBody),
    [WEBHOOK_ID_HEADER]: topic === 'order.created' ? '1' : '2',
    [DELIVERY_ID_HEADER]: randomUUID().replace(/-/g, ''),
  });

  const deliver = async (topic: 'order.created' | 'order.updated', order: Record<string, unknown>): Promise<void> => {
    const body = JSON.stringify(order);
    sent.push({ topic, orderId: order.id as number });
    const status = await post(webhookHeaders(body, topic), body);
    if (status >= 300) throw new Error(`woocommerce simulator: webhook ${topic} answered ${status}`);
  };

  const gmtNow = (): string => new Date().toISOString().slice(0, 19);

  /** Units of each order line refunded, and restocked by refunds, by line id. */
  const refunded = new Map<number, number>();
  const restocked = new Map<number, Map<number, number>>();
  const restockedOf = (orderId: number): Map<number, number> => restocked.get(orderId) ?? restocked.set(orderId, new Map()).get(orderId)!;

  const orderOf = (orderId: string): Record<string, unknown> => {
    const order = orders.get(Number(orderId));
    if (!order) throw new Error(`woocommerce simulator: no order ${orderId}`);
    return order;
  };

  /** Moves date_modified forward (WooCommerce stores it to the second, so at least one second later). */
  const touch = (order: Record<string, unknown>): string => {
    const at = new Date(Math.max(Date.now(), Date.parse(`${String(order.date_modified_gmt)}Z`) + 1000)).toISOString().slice(0, 19);
    order.date_modified = at;
    order.date_modified_gmt = at;
    return at;
  };

  const updated = async (order: Record<string, unknown>, delivery: WebhookDelivery): Promise<void> => {
    if (delivery.drop) return;
    for (let i = 0; i < (delivery.times ?? 1); i++) await deliver('order.updated', order);
  };

  return {
    url: server.url,
    connectorOptions(skus) {
      const mapping: WooCommerceOptions['skus'] = {};
      for (const sku of skus) {
        const p = ensureSku(sku);
        mapping[sku] = p.parentId ? { productId: p.parentId, variationId: p.id } : { productId: p.id };
      }
      return { baseUrl: server.url, consumerKey, consumerSecret, authMode: 'basic', skus: mapping, webhookSecret };
    },
    shown: (sku) => postBySku.get(sku)?.stock,
    setShown(sku, quantity) {
      ensureSku(sku).stock = quantity;
    },
    stats: () => ({ ...server.counters, itemsWritten }),
    setFault: server.setFault,
    faults: server.faults,
    setWebhookTarget(url) {
      webhookTarget = url;
    },
    signWebhook(rawBody, headers = {}) {
      const given = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
      return { ...webhookHeaders(rawBody, given[TOPIC_HEADER] ?? 'order.updated'), ...given, [SIGNATURE_HEADER]: wooWebhookSignature(webhookSecret, rawBody) };
    },
    sentWebhooks: () => sent,
    sendPing: (webhookId) => post({ 'content-type': 'application/x-www-form-urlencoded', 'user-agent': 'WooCommerce/9.4.0 Hookshot (WordPress/6.7)' }, `webhook_id=${webhookId}`),
    async placeOrder(lines, delivery: WebhookDelivery = {}) {
      // Order ids follow the clock so they stay unique across simulator runs against one ledger.
      nextId = Math.max(nextId + 1, Math.floor(Date.now() / 100) % 1_000_000_000);
      const id = nextId;
      const created = gmtNow();
      const template = ORDER_EXAMPLE.line_items[ORDER_EXAMPLE.line_items.length - 1]!;
      const order: Record<string, unknown> = {
        ...structuredClone(ORDER_EXAMPLE),
        id,
        number: String(id),
        order_key: `wc_order_${randomUUID().replace(/-/g, '').slice(0, 13)}`,
        status: 'processing',
        date_created: created,
        date_created_gmt: created,
        date_modified: created,
        date_modified_gmt: created,
        date_paid: created,
        date_paid_gmt: created,
        date_completed: null,
        date_completed_gmt: null,
        refunds: [],
        line_items: lines.map((line, i) => {
          const p = ensureSku(line.sku);
          p.stock = Math.max(0, p.stock - line.qty);
          return { ...structuredClone(template), id: id * 100 + i + 1, name: line.sku, product_id: p.parentId || p.id, variation_id: p.parentId ? p.id : 0, quantity: line.qty, sku: line.sku, meta_data: [] };
        }),
        _links: {},
      };
      orders.set(id, order);
      if (delivery.drop) return { orderId: String(id) };
      const sequence: Array<'order.created' | 'order.updated'> = delivery.outOfOrder ? ['order.updated', 'order.created'] : ['order.created'];
      for (let i = 0; i < (delivery.times ?? 1); i++) for (const topic of sequence) await deliver(topic, order);
      return { orderId: String(id) };
    },
    async cancelOrder(orderId, delivery: WebhookDelivery = {}) {
      const order = orderOf(orderId);
      if (order.status === 'cancelled') return;
      // wc_maybe_increase_stock_levels: what the order took, less what refunds already restocked, goes back.
      for (const line of order.line_items as Array<{ id: number; sku: string; quantity: number }>) {
        ensureSku(line.sku).stock += Math.max(0, line.quantity - (restockedOf(order.id as number).get(line.id) ?? 0));
      }
      order.status = 'cancelled';
      touch(order);
      await updated(order, delivery);
    },
    async refundOrder(orderId, lines, options: { restock?: boolean; delivery?: WebhookDelivery } = {}) {
      const order = orderOf(orderId);
      const restock = options.restock ?? true;
      refundSeq += 1;
      const refundId = (order.id as number) * 100 + 50 + refundSeq;
      const at = touch(order);
      const orderLines = order.line_items as Array<Record<string, unknown> & { id: number; sku: string; quantity: number; product_id: number; variation_id: number }>;
      const template = REFUND_EXAMPLE.line_items[0]!;
      const refundLines = lines.map((l, i) => {
        const line = orderLines.find((candidate) => candidate.sku === l.sku);
        if (!line) throw new Error(`woocommerce simulator: order ${orderId} has no line for ${l.sku}`);
        if (restock) {
          ensureSku(l.sku).stock += l.qty;
          const done = restockedOf(order.id as number);
          done.set(line.id, (done.get(line.id) ?? 0) + l.qty);
        }
        refunded.set(line.id, (refunded.get(line.id) ?? 0) + l.qty);
        return { ...structuredClone(template), id: refundId * 10 + i, name: line.sku, product_id: line.product_id, variation_id: line.variation_id, quantity: -l.qty, sku: line.sku, meta_data: [{ id: refundId * 10 + i, key: '_refunded_item_id', value: String(line.id) }] };
      });
      const refund = { ...structuredClone(REFUND_EXAMPLE), id: refundId, date_created: at, date_created_gmt: at, amount: '0.00', reason: '', line_items: refundLines, _links: {} };
      refunds.set(order.id as number, [...(refunds.get(order.id as number) ?? []), refund]);
      order.refunds = [...(order.refunds as unknown[]), { id: refundId, reason: '', total: '-0.00' }];
      // WooCommerce marks an order refunded once every unit is.
      if (orderLines.every((line) => (refunded.get(line.id) ?? 0) >= line.quantity)) order.status = 'refunded';
      await updated(order, options.delivery ?? {});
      return { refundId: String(refundId) };
    },
    close: server.close,
  };
}
