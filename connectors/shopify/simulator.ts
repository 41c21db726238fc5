import { randomUUID } from 'node:crypto';
import { request } from 'undici';
import type { SimulatorHandle, SimulatorOptions, WebhookDelivery } from '../../core/sdk.ts';
import { ServerTokenBucket } from '../_kit/rate-window.ts';
import { hmacSha256 } from '../_kit/signatures.ts';
import { startSimServer, type SimRequest, type SimResponse } from '../_kit/sim-server.ts';
import {
  DEFAULT_API_VERSION,
  EVENT_ID_HEADER,
  gidTail,
  HMAC_HEADER,
  LEVELS_FIELD,
  MAX_QUANTITIES,
  SET_QUANTITIES_FIELD,
  TOKEN_HEADER,
  TOPIC_HEADER,
  toGid,
  WEBHOOK_ID_HEADER,
  type QueryCost,
  type SetQuantityInput,
  type ShopifyOrder,
  type UserError,
} from './api.ts';
import type { ShopifyOptions } from './options.ts';

export interface ShopifySimulatorOptions extends SimulatorOptions {
  /** Token the API accepts in X-Shopify-Access-Token. */
  accessToken?: string;
  /** App secret that signs webhooks. */
  webhookSecret?: string;
  /**
   * The cost bucket. Defaults to the Standard plan's documented 100 points/s restored; the 2,000 points held
   * are our assumption (the docs no longer state the size; the earlier 1,000 at 50/s also held 20 s of restore).
   * `rateLimit` (in calls) is honoured too: it becomes `perSecond × mutationCost` points/s and `burst × mutationCost` points.
   */
  costBucket?: { restoreRate: number; maximumAvailable: number };
  /** Points one inventorySetQuantities call costs. Default 10, Shopify's base cost of a mutation. */
  mutationCost?: number;
  /** Largest `quantities` array accepted. Default 250. */
  maxQuantities?: number;
  /** Sent as X-Shopify-Shop-Domain on webhooks. */
  shopDomain?: string;
}

export interface ShopifySimulator extends SimulatorHandle<ShopifyOptions> {
  /** The `X-Shopify-Webhook-Id` of every webhook sent, in order, for duplicate checks. */
  sentWebhooks(): ReadonlyArray<{ topic: string; webhookId: string; orderId: number }>;
}

const UNAUTHORIZED = { errors: '[API] Invalid API key or access token (unrecognized login or wrong password)' };
const LOCATION_ID = 70000000001;

/**
 * A local Shopify GraphQL Admin API for the two operations the connector sends. It does not parse GraphQL:
 * it recognises the operation by its root field (`inventorySetQuantities` or `nodes`) and reads every
 * argument from `variables`, which is how the connector sends them.
 *
 * Cost model (documented approximation): the mutation costs `mutationCost` points (10, the base cost of a
 * mutation; the selected payload adds nothing measurable), the levels query 1 point per requested node + 1.
 * Requested and actual costs are equal, so no refund happens.
 */
export async function startShopifySimulator(options: ShopifySimulatorOptions = {}): Promise<ShopifySimulator> {
  const token = options.accessToken ?? 'shpat_simulator';
  const webhookSecret = options.webhookSecret ?? 'shopify-app-secret';
  const mutationCost = options.mutationCost ?? 10;
  const maxQuantities = options.maxQuantities ?? MAX_QUANTITIES;
  const shopDomain = options.shopDomain ?? 'stockrelay-sim.myshopify.com';
  const bucketShape = options.costBucket
    ?? (options.rateLimit ? { restoreRate: options.rateLimit.perSecond * mutationCost, maximumAvailable: options.rateLimit.burst * mutationCost } : { restoreRate: 100, maximumAvailable: 2000 });
  const bucket = new ServerTokenBucket(bucketShape.restoreRate, bucketShape.maximumAvailable);
  const locationGid = toGid('Location', LOCATION_ID);

  // Hub SKU ↔ inventory item id ↔ variant id; quantities are kept per inventory item as Shopify does.
  const itemBySku = new Map<string, number>();
  const skuByItem = new Map<number, string>();
  const variantBySku = new Map<string, number>();
  const available = new Map<number, number>();
  let idSeq = 0;
  let itemsWritten = 0;
  /** Writes refused because their changeFromQuantity no longer matched. */
  let staleRefusals = 0;
  let costThrottled = 0;
  // Seeded from the clock so order ids stay unique across simulator runs against one ledger,
  // as real order ids are: a reused id would be taken for a re-delivery and skipped.
  let orderSeq = Math.floor(Date.now() / 100) % 1_000_000_000;
  let groupSeq = 0;
  let webhookTarget: string | undefined;
  const sent: Array<{ topic: string; webhookId: string; orderId: number }> = [];

  const ensureSku = (sku: string, quantity = 0): number => {
    let item = itemBySku.get(sku);
    if (item === undefined) {
      idSeq += 1;
      item = 40000000000 + idSeq;
      itemBySku.set(sku, item);
      skuByItem.set(item, sku);
      variantBySku.set(sku, 45000000000 + idSeq);
      available.set(item, quantity);
    }
    return item;
  };
  for (const [sku, quantity] of Object.entries(options.skus ?? {})) ensureSku(sku, quantity);

  const cost = (requested: number, actual: number | null): QueryCost => ({
    requestedQueryCost: requested,
    actualQueryCost: actual,
    throttleStatus: { maximumAvailable: bucketShape.maximumAvailable, currentlyAvailable: Math.floor(bucket.available()), restoreRate: bucketShape.restoreRate },
  });

  const throttled = (requested: number, status: QueryCost['throttleStatus']): SimResponse => {
    costThrottled += 1;
    return {
      status: 200,
      body: {
        errors: [{ message: 'Throttled', extensions: { code: 'THROTTLED', documentation: 'https://shopify.dev/api/usage/rate-limits' } }],
        extensions: { cost: { requestedQueryCost: requested, actualQueryCost: null, throttleStatus: status } },
      },
    };
  };

  const setQuantities = (variables: Record<string, unknown>, version: string): SimResponse => {
    const input = variables.input as { name?: unknown; reason?: unknown; quantities?: unknown } | undefined;
    const quantities = input?.quantities;
    if (!input || !Array.isArray(quantities)) {
      return { status: 200, body: { errors: [{ message: 'Variable $input of type InventorySetQuantitiesInput! was provided invalid value', extensions: { code: 'INVALID_VARIABLE' } }] } };
    }
    if (quantities.length > maxQuantities) {
      return {
        status: 200,
        body: {
          errors: [{
            message: `The input array size of ${quantities.length} is greater than the maximum allowed of ${maxQuantities}.`,
            locations: [{ line: 2, column: 3 }],
            path: [SET_QUANTITIES_FIELD, 'input', 'quantities'],
            extensions: { code: 'MAX_INPUT_SIZE_EXCEEDED' },
          }],
        },
      };
    }
    const slot = bucket.take(mutationCost);
    if (!slot.ok) return throttled(mutationCost, cost(mutationCost, null).throttleStatus);
    const userErrors: UserError[] = [];
    if (input.name !== 'available' && input.name !== 'on_hand') userErrors.push({ code: 'INVALID_NAME', field: ['input', 'name'], message: "The quantity name must be either 'available' or 'on_hand'." });
    if (typeof input.reason !== 'string' || input.reason.length === 0) userErrors.push({ code: 'INVALID_REASON', field: ['input', 'reason'], message: 'The specified reason is invalid.' });
    const casRequired = version === 'unstable' || version >= '2026-04';
    const writes: Array<[number, number]> = [];
    const seen = new Set<number>();
    (quantities as Array<Partial<SetQuantityInput>>).forEach((q, i) => {
      const field = (name: string): string[] => ['input', 'quantities', String(i), name];
      const item = Number(gidTail(q.inventoryItemId ?? ''));
      if (!available.has(item)) return void userErrors.push({ code: 'INVALID_INVENTORY_ITEM', field: field('inventoryItemId'), message: 'The specified inventory item could not be found.' });
      if (q.locationId !== locationGid && gidTail(q.locationId ?? '') !== String(LOCATION_ID)) return void userErrors.push({ code: 'INVALID_LOCATION', field: field('locationId'), message: 'The specified location could not be found.' });
      if (!Number.isInteger(q.quantity)) return void userErrors.push({ code: 'INVALID_QUANTITY_TOO_LOW', field: field('quantity'), message: 'The quantity must be an integer.' });
      if ((q.quantity as number) < 0) return void userErrors.push({ code: 'INVALID_QUANTITY_NEGATIVE', field: field('quantity'), message: "The quantity can't be negative." });
      if ((q.quantity as number) > 1_000_000_000) return void userErrors.push({ code: 'INVALID_QUANTITY_TOO_HIGH', field: field('quantity'), message: "The total quantity can't be higher than 1,000,000,000." });
      if (seen.has(item)) return void userErrors.push({ code: 'NO_DUPLICATE_INVENTORY_ITEM_ID_GROUP_ID_PAIR', field: field('inventoryItemId'), message: 'The combination of inventoryItemId and locationId must be unique.' });
      seen.add(item);
      if (!('changeFromQuantity' in q)) {
        if (casRequired) return void userErrors.push({ code: 'COMPARE_QUANTITY_REQUIRED', field: field('changeFromQuantity'), message: 'changeFromQuantity must be given (null to skip the check).' });
      } else if (q.changeFromQuantity !== null && q.changeFromQuantity !== available.get(item)) {
        staleRefusals += 1;
        return void userErrors.push({ code: 'CHANGE_FROM_QUANTITY_STALE', field: field('changeFromQuantity'), message: 'The changeFromQuantity value does not match persisted value.' });
      }
      writes.push([item, q.quantity as number]);
    });
    // All or nothing: with any userError Shopify applies none of the quantities.
    if (userErrors.length > 0) {
      return { status: 200, body: { data: { [SET_QUANTITIES_FIELD]: { inventoryAdjustmentGroup: null, userErrors } }, extensions: { cost: cost(mutationCost, mutationCost) } } };
    }
    for (const [item, quantity] of writes) available.set(item, quantity);
    itemsWritten += writes.length;
    groupSeq += 1;
    return {
      status: 200,
      wrote: true,
      body: {
        data: { [SET_QUANTITIES_FIELD]: { inventoryAdjustmentGroup: { id: `gid://shopify/InventoryAdjustmentGroup/${groupSeq}` }, userErrors: [] } },
        extensions: { cost: cost(mutationCost, mutationCost) },
      },
    };
  };

  const levels = (variables: Record<string, unknown>): SimResponse => {
    const ids = Array.isArray(variables.ids) ? (variables.ids as unknown[]) : [];
    if (ids.length > maxQuantities) {
      return { status: 200, body: { errors: [{ message: `The input array size of ${ids.length} is greater than the maximum allowed of ${maxQuantities}.`, extensions: { code: 'MAX_INPUT_SIZE_EXCEEDED' } }] } };
    }
    const requested = 1 + ids.length;
    const slot = bucket.take(requested);
    if (!slot.ok) return throttled(requested, cost(requested, null).throttleStatus);
    const atLocation = variables.locationId === locationGid || gidTail(String(variables.locationId ?? '')) === String(LOCATION_ID);
    const nodes = ids.map((id) => {
      const item = Number(gidTail(String(id)));
      if (!available.has(item)) return null;
      return { id: toGid('InventoryItem', item), inventoryLevel: atLocation ? { quantities: [{ name: 'available', quantity: available.get(item) }] } : null };
    });
    return { status: 200, body: { data: { nodes }, extensions: { cost: cost(requested, requested) } } };
  };

  const server = await startSimServer({
    port: options.port,
    latency: options.latency,
    throttleResponse(retryAfterMs) {
      // Report an empty bucket whose refill takes exactly retryAfterMs for the request's cost.
      const requested = Math.max(1, Math.ceil((bucketShape.restoreRate * retryAfterMs) / 1000));
      return throttled(requested, { maximumAvailable: bucketShape.maximumAvailable, currentlyAvailable: 0, restoreRate: bucketShape.restoreRate });
    },
    route(req: SimRequest): SimResponse {
      const match = /^\/admin\/api\/([^/]+)\/graphql\.json$/.exec(req.path);
      if (!match || req.method !== 'POST') return { status: 404, body: { errors: 'Not Found' } };
      if (req.headers[TOKEN_HEADER] !== token) return { status: 401, body: UNAUTHORIZED };
      const body = req.json as { query?: unknown; variables?: unknown } | undefined;
      const query = typeof body?.query === 'string' ? body.query : '';
      const variables = (body?.variables ?? {}) as Record<string, unknown>;
      if (new RegExp(`\\b${SET_QUANTITIES_FIELD}\\s*\\(`).test(query)) return setQuantities(variables, match[1] ?? DEFAULT_API_VERSION);
      if (new RegExp(`\\b${LEVELS_FIELD}\\s*\\(`).test(query)) return levels(variables);
      return { status: 200, body: { errors: [{ message: 'This simulator answers inventorySetQuantities and nodes only', extensions: { code: 'UNSUPPORTED' } }] } };
    },
  });

  const deliver = async (topic: string, order: ShopifyOrder, webhookId: string): Promise<void> => {
    if (!webhookTarget) throw new Error('shopify simulator: no webhook target set');
    const body = JSON.stringify(order);
    sent.push({ topic, webhookId, orderId: order.id });
    const res = await request(webhookTarget, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        [TOPIC_HEADER]: topic,
        [HMAC_HEADER]: hmacSha256(webhookSecret, body, 'base64'),
        [WEBHOOK_ID_HEADER]: webhookId,
        [EVENT_ID_HEADER]: randomUUID(),
        'x-shopify-shop-domain': shopDomain,
        'x-shopify-api-version': DEFAULT_API_VERSION,
        'x-shopify-triggered-at': new Date().toISOString(),
      },
      body,
    });
    await res.body.dump();
    if (res.statusCode >= 300) throw new Error(`shopify simulator: webhook ${topic} answered ${res.statusCode}`);
  };

  return {
    url: server.url,
    connectorOptions(skus) {
      const mapping: ShopifyOptions['skus'] = {};
      for (const sku of skus) {
        const item = ensureSku(sku);
        mapping[sku] = { inventoryItemId: toGid('InventoryItem', item), variantId: String(variantBySku.get(sku)) };
      }
      return { baseUrl: server.url, apiVersion: DEFAULT_API_VERSION, accessToken: token, locationId: toGid('Location', LOCATION_ID), skus: mapping, webhookSecret };
    },
    shown(sku) {
      const item = itemBySku.get(sku);
      return item === undefined ? undefined : available.get(item);
    },
    setShown(sku, quantity) {
      available.set(ensureSku(sku), quantity);
    },
    stats: () => ({ ...server.counters, throttled: server.counters.throttled + costThrottled, itemsWritten, staleRefusals }),
    setFault: server.setFault,
    setWebhookTarget(url) {
      webhookTarget = url;
    },
    sentWebhooks: () => sent,
    async placeOrder(lines, delivery: WebhookDelivery = {}) {
      orderSeq += 1;
      const id = 5000000000 + orderSeq;
      const createdAt = new Date().toISOString();
      const order: ShopifyOrder = {
        id,
        admin_graphql_api_id: toGid('Order', id),
        name: `#${1000 + orderSeq}`,
        created_at: createdAt,
        updated_at: createdAt,
        cancelled_at: null,
        line_items: lines.map((line, i) => {
          const item = ensureSku(line.sku);
          available.set(item, Math.max(0, (available.get(item) ?? 0) - line.qty));
          return { id: 1300000000 + orderSeq * 100 + i, sku: line.sku, quantity: line.qty, variant_id: variantBySku.get(line.sku) ?? null, product_id: 8000000000 + i, title: line.sku };
        }),
      };
      const created = { topic: 'orders/create', webhookId: randomUUID() };
      const updated = { topic: 'orders/updated', webhookId: randomUUID() };
      const sequence = delivery.outOfOrder ? [updated, created] : [created];
      // A repeated delivery is Shopify retrying the same webhook: same X-Shopify-Webhook-Id.
      for (let i = 0; i < (delivery.times ?? 1); i++) for (const hook of sequence) await deliver(hook.topic, order, hook.webhookId);
      return { orderId: String(id) };
    },
    close: server.close,
  };
}
