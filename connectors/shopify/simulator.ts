import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import {
  executeSync,
  getArgumentValues,
  getDirectiveValues,
  getOperationAST,
  getVariableValues,
  GraphQLError,
  Kind,
  parse,
  validate,
  type DocumentNode,
  type FieldNode,
  type GraphQLSchema,
  type OperationDefinitionNode,
} from 'graphql';
import { request } from 'undici';
import { type SimulatorHandle, type SimulatorOptions, TokenBucket, type WebhookDelivery } from '../../core/sdk.ts';
import { hmacSha256 } from '../_kit/signatures.ts';
import { startSimServer, type EchoedRequest, type SimRequest, type SimResponse } from '../_kit/sim-server.ts';
import { adminSchema, isChangeFromVersion } from './admin-schema.ts';
import type { RestockType } from './refund-body.ts';
import { actualCost, requestedCost } from './simulated-query-cost.ts';
import { connection, orderNode, orderSearch, orderSortKey, type PageArgs, type SearchWarning, type SimOrder } from './simulated-orders.ts';
import {
  DEFAULT_API_VERSION,
  EVENT_ID_HEADER,
  gidTail,
  HMAC_HEADER,
  MAX_QUANTITIES,
  SET_QUANTITIES_FIELD,
  TOKEN_HEADER,
  TOPIC_HEADER,
  toGid,
  WEBHOOK_ID_HEADER,
  type QueryCost,
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
  /**
   * The shop cancels an order (with restock, as the admin's default): what its lines still hold goes back to
   * the shown quantities, the order is updated, and `orders/cancelled` is sent (unless `drop`).
   */
  cancelOrder(orderId: string, delivery?: WebhookDelivery): Promise<void>;
  /**
   * The shop refunds units of an order's lines, each with Shopify's restock type: `cancel` and `return` put
   * the units back in the shown quantity, `no_restock` does not. The order is updated and `refunds/create` is
   * sent (unless `drop`). Resolves to the refund id.
   */
  refundOrder(orderId: string, lines: ReadonlyArray<{ sku: string; qty: number; restockType: RestockType }>, delivery?: WebhookDelivery): Promise<{ refundId: string }>;
}

/** Shopify's single-query maximum of requested cost points. */
const MAX_QUERY_COST = 1000;
/** Root fields whose cost is calculated from the document (the two inventory operations keep their fixed costs). */
const READ_FIELDS = new Set(['orders', 'order', 'productVariants']);

const UNAUTHORIZED = { errors: '[API] Invalid API key or access token (unrecognized login or wrong password)' };
const LOCATION_ID = 70000000001;

/** Shopify's published Order example: every order webhook the simulator sends is this order with its ids, dates and lines filled in. */
const ORDER_EXAMPLE = JSON.parse(readFileSync(new URL('../../test/fixtures/vendor/shopify/order-create.json', import.meta.url), 'utf8')) as Record<string, unknown> & {
  line_items: Array<Record<string, unknown>>;
};

/** Shopify's published Refund example: the body of every refunds/create webhook, its ids and lines filled in. */
const REFUND_EXAMPLE = JSON.parse(readFileSync(new URL('../../test/fixtures/vendor/shopify/refund-create.json', import.meta.url), 'utf8')) as Record<string, unknown> & {
  refund_line_items: Array<Record<string, unknown>>;
};

type Json = Record<string, unknown>;

/** A top-level GraphQL error answer (HTTP 200, no data), as Shopify sends for documents it cannot run. */
const graphqlErrors = (errors: ReadonlyArray<{ message: string; locations?: unknown; path?: unknown; extensions?: Json }>): SimResponse => ({ status: 200, body: { errors } });

const fromGraphqlError = (code: string) => (e: GraphQLError) => ({
  message: e.message,
  ...(e.locations ? { locations: e.locations } : {}),
  ...(e.path ? { path: e.path } : {}),
  // A refusal a resolver raised keeps its own code; anything else thrown while running is an internal error.
  extensions: { code: typeof e.extensions?.code === 'string' ? e.extensions.code : code },
});

/** The operation a request body asks for, parsed; undefined when it is not one the schema can even parse. */
function operationOf(body: unknown): { document: DocumentNode; operation: OperationDefinitionNode } | undefined {
  const { query, operationName } = (body ?? {}) as { query?: unknown; operationName?: unknown };
  if (typeof query !== 'string') return undefined;
  try {
    const document = parse(query);
    const operation = getOperationAST(document, typeof operationName === 'string' ? operationName : undefined);
    return operation ? { document, operation } : undefined;
  } catch {
    return undefined;
  }
}

const rootFields = (operation: OperationDefinitionNode): FieldNode[] => operation.selectionSet.selections.filter((s): s is FieldNode => s.kind === Kind.FIELD);

/**
 * A local Shopify GraphQL Admin API for the two operations the connector sends. Every document is parsed and
 * validated with `graphql` against Shopify's published schema of the slice (test/fixtures/vendor/shopify, the
 * 2026-04 changes applied for 2026-04 and later), variables are coerced against their declared types, and the
 * operation is executed, so a field, argument, variable or directive Shopify does not know is refused as Shopify
 * refuses it, and the answer holds exactly the fields selected.
 *
 * Cost model (documented approximation): the mutation costs `mutationCost` points (10, the base cost of a
 * mutation; the selected payload adds nothing measurable), the levels query 1 point per requested node + 1.
 * Requested and actual costs are equal, so no refund happens.
 *
 * Per-item fault: `item-unknown` answers the SKUs' quantities with the userError INVALID_INVENTORY_ITEM, as
 * for an inventory item that does not exist. Shopify has no per-item "locked" answer for this mutation, so
 * `item-locked` is not implemented (setFault refuses it).
 */
export async function startShopifySimulator(options: ShopifySimulatorOptions = {}): Promise<ShopifySimulator> {
  const token = options.accessToken ?? 'shpat_simulator';
  const webhookSecret = options.webhookSecret ?? 'shopify-app-secret';
  const mutationCost = options.mutationCost ?? 10;
  const maxQuantities = options.maxQuantities ?? MAX_QUANTITIES;
  const shopDomain = options.shopDomain ?? 'stockrelay-sim.myshopify.com';
  const bucketShape = options.costBucket
    ?? (options.rateLimit ? { restoreRate: options.rateLimit.perSecond * mutationCost, maximumAvailable: options.rateLimit.burst * mutationCost } : { restoreRate: 100, maximumAvailable: 2000 });
  const bucket = new TokenBucket(bucketShape.restoreRate, bucketShape.maximumAvailable);
  const locationGid = toGid('Location', LOCATION_ID);

  // Hub SKU ↔ inventory item id ↔ variant id; quantities are kept per inventory item as Shopify does.
  const itemBySku = new Map<string, number>();
  const skuByItem = new Map<number, string>();
  const variantBySku = new Map<string, number>();
  const skuByVariant = new Map<number, string>();
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
  const orders = new Map<number, SimOrder>();
  let refundSeq = 0;

  const ensureSku = (sku: string, quantity = 0): number => {
    let item = itemBySku.get(sku);
    if (item === undefined) {
      idSeq += 1;
      item = 40000000000 + idSeq;
      itemBySku.set(sku, item);
      skuByItem.set(item, sku);
      variantBySku.set(sku, 45000000000 + idSeq);
      skuByVariant.set(45000000000 + idSeq, sku);
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

  /** inventorySetQuantities on coerced input: all or nothing, as Shopify applies it. */
  const setQuantities = (input: Json, version: string, unknownSkus: ReadonlySet<string>): { payload: Json; wrote: boolean } => {
    const quantities = input.quantities as Array<Json>;
    const userErrors: UserError[] = [];
    if (input.name !== 'available' && input.name !== 'on_hand') userErrors.push({ code: 'INVALID_NAME', field: ['input', 'name'], message: "The quantity name must be either 'available' or 'on_hand'." });
    if (typeof input.reason !== 'string' || input.reason.length === 0) userErrors.push({ code: 'INVALID_REASON', field: ['input', 'reason'], message: 'The specified reason is invalid.' });
    const casRequired = isChangeFromVersion(version);
    const writes: Array<[number, number]> = [];
    const seen = new Set<number>();
    quantities.forEach((q, i) => {
      const field = (name: string): string[] => ['input', 'quantities', String(i), name];
      const item = Number(gidTail(String(q.inventoryItemId)));
      const sku = skuByItem.get(item);
      if (!available.has(item) || (sku !== undefined && unknownSkus.has(sku))) {
        return void userErrors.push({ code: 'INVALID_INVENTORY_ITEM', field: field('inventoryItemId'), message: 'The specified inventory item could not be found.' });
      }
      if (q.locationId !== locationGid && gidTail(String(q.locationId)) !== String(LOCATION_ID)) return void userErrors.push({ code: 'INVALID_LOCATION', field: field('locationId'), message: 'The specified location could not be found.' });
      const quantity = q.quantity as number;
      if (quantity < 0) return void userErrors.push({ code: 'INVALID_QUANTITY_NEGATIVE', field: field('quantity'), message: "The quantity can't be negative." });
      if (quantity > 1_000_000_000) return void userErrors.push({ code: 'INVALID_QUANTITY_TOO_HIGH', field: field('quantity'), message: "The total quantity can't be higher than 1,000,000,000." });
      if (seen.has(item)) return void userErrors.push({ code: 'NO_DUPLICATE_INVENTORY_ITEM_ID_GROUP_ID_PAIR', field: field('inventoryItemId'), message: 'The combination of inventoryItemId and locationId must be unique.' });
      seen.add(item);
      if (casRequired) {
        // From 2026-04 the key must be present; null opts this quantity out of the check.
        if (!('changeFromQuantity' in q)) return void userErrors.push({ code: 'COMPARE_QUANTITY_REQUIRED', field: field('changeFromQuantity'), message: 'changeFromQuantity must be given (null to skip the check).' });
        if (q.changeFromQuantity !== null && q.changeFromQuantity !== available.get(item)) {
          staleRefusals += 1;
          return void userErrors.push({ code: 'CHANGE_FROM_QUANTITY_STALE', field: field('changeFromQuantity'), message: 'The changeFromQuantity value does not match persisted value.' });
        }
      } else if (input.ignoreCompareQuantity !== true) {
        if (q.compareQuantity === undefined || q.compareQuantity === null) return void userErrors.push({ code: 'COMPARE_QUANTITY_REQUIRED', field: field('compareQuantity'), message: 'The compareQuantity argument must be given to each quantity or ignored using ignoreCompareQuantity.' });
        if (q.compareQuantity !== available.get(item)) {
          staleRefusals += 1;
          return void userErrors.push({ code: 'COMPARE_QUANTITY_STALE', field: field('compareQuantity'), message: 'The compareQuantity value does not match persisted value.' });
        }
      }
      writes.push([item, quantity]);
    });
    if (userErrors.length > 0) return { payload: { inventoryAdjustmentGroup: null, userErrors }, wrote: false };
    for (const [item, quantity] of writes) available.set(item, quantity);
    itemsWritten += writes.length;
    groupSeq += 1;
    return {
      payload: { inventoryAdjustmentGroup: { id: `gid://shopify/InventoryAdjustmentGroup/${groupSeq}`, reason: input.reason, referenceDocumentUri: input.referenceDocumentUri ?? null }, userErrors: [] },
      wrote: true,
    };
  };

  /** An InventoryItem node as graphql's default resolvers read it (functions receive the field's arguments). */
  const inventoryItemNode = (item: number): Json => ({
    __typename: 'InventoryItem',
    id: toGid('InventoryItem', item),
    inventoryLevel: ({ locationId }: { locationId: string }) =>
      locationId === locationGid || gidTail(locationId) === String(LOCATION_ID)
        ? {
            __typename: 'InventoryLevel',
            id: `gid://shopify/InventoryLevel/${item}?inventory_item_id=${item}`,
            quantities: ({ names }: { names: string[] }) => names.filter((n) => n === 'available').map((name) => ({ name, quantity: available.get(item) ?? 0 })),
          }
        : null,
  });

  /** A ProductVariant node: one per hub SKU, titled by its SKU, its product holding just it. */
  const variantNode = (variantId: number): Json | null => {
    const sku = skuByVariant.get(variantId);
    if (sku === undefined) return null;
    const item = itemBySku.get(sku)!;
    return {
      __typename: 'ProductVariant',
      id: toGid('ProductVariant', variantId),
      sku,
      title: 'Default Title',
      product: { __typename: 'Product', id: toGid('Product', variantId - 45000000000 + 8000000000), title: sku },
      inventoryItem: inventoryItemNode(item),
    };
  };

  /** Parses, validates, coerces and runs one GraphQL request against the version's schema. */
  const graphql = (req: SimRequest, version: string): SimResponse => {
    const body = req.json as { query?: unknown; variables?: unknown; operationName?: unknown } | undefined;
    if (typeof body?.query !== 'string') return { status: 400, body: { errors: { query: 'Required parameter missing or invalid' } } };
    const schema: GraphQLSchema = adminSchema(version);
    let document: DocumentNode;
    try {
      document = parse(body.query);
    } catch (err) {
      return graphqlErrors([fromGraphqlError('PARSE_ERROR')(err as GraphQLError)]);
    }
    const invalid = validate(schema, document);
    if (invalid.length > 0) return graphqlErrors(invalid.map(fromGraphqlError('GRAPHQL_VALIDATION_FAILED')));
    const operationName = typeof body.operationName === 'string' ? body.operationName : undefined;
    const operation = getOperationAST(document, operationName);
    if (!operation) return graphqlErrors([{ message: 'An operation name is required', extensions: { code: 'BAD_REQUEST' } }]);
    const variables = body.variables === undefined || body.variables === null ? {} : body.variables;
    if (typeof variables !== 'object' || Array.isArray(variables)) return graphqlErrors([{ message: 'Variables must be an object', extensions: { code: 'BAD_REQUEST' } }]);
    const coerced = getVariableValues(schema, operation.variableDefinitions ?? [], variables as Json);
    if (coerced.errors) return graphqlErrors(coerced.errors.map(fromGraphqlError('INVALID_VARIABLE')));

    // Cost and input-size limits are decided before anything runs, from the root fields' arguments.
    const root = operation.operation === 'mutation' ? schema.getMutationType() : schema.getQueryType();
    let requested = 0;
    let reads = false;
    for (const node of rootFields(operation)) {
      const definition = root?.getFields()[node.name.value];
      if (!definition) continue;
      const args = getArgumentValues(definition, node, coerced.coerced);
      if (node.name.value === SET_QUANTITIES_FIELD) {
        const quantities = (args.input as { quantities: unknown[] }).quantities;
        if (quantities.length > maxQuantities) {
          return graphqlErrors([{
            message: `The input array size of ${quantities.length} is greater than the maximum allowed of ${maxQuantities}.`,
            locations: [{ line: node.loc?.startToken.line ?? 1, column: node.loc?.startToken.column ?? 1 }],
            path: [SET_QUANTITIES_FIELD, 'input', 'quantities'],
            extensions: { code: 'MAX_INPUT_SIZE_EXCEEDED' },
          }]);
        }
        if (isChangeFromVersion(version)) {
          // From 2026-04 inventory mutations must carry an idempotency key (the shape of this refusal is our reading).
          const idempotent = schema.getDirective('idempotent');
          const key = idempotent ? getDirectiveValues(idempotent, node, coerced.coerced)?.key : undefined;
          if (typeof key !== 'string' || key.trim().length === 0) {
            return graphqlErrors([{ message: `${SET_QUANTITIES_FIELD} requires the @idempotent directive with a non-empty key.`, extensions: { code: 'BAD_REQUEST' } }]);
          }
        }
        requested += mutationCost;
      } else if (node.name.value === 'nodes') {
        const ids = args.ids as unknown[];
        if (ids.length > maxQuantities) {
          return graphqlErrors([{ message: `The input array size of ${ids.length} is greater than the maximum allowed of ${maxQuantities}.`, extensions: { code: 'MAX_INPUT_SIZE_EXCEEDED' } }]);
        }
        requested += 1 + ids.length;
      } else if (READ_FIELDS.has(node.name.value)) {
        reads = true;
        requested += requestedCost(schema, { kind: Kind.SELECTION_SET, selections: [node] }, root!, coerced.coerced);
      }
    }
    requested = Math.max(1, requested);
    if (requested > MAX_QUERY_COST) {
      return graphqlErrors([{
        message: `Query cost is ${requested}, which exceeds the single query max cost limit (${MAX_QUERY_COST}).`,
        extensions: { code: 'MAX_COST_EXCEEDED', cost: requested, maxCost: MAX_QUERY_COST },
      }]);
    }
    const slot = bucket.take(requested);
    if (!slot.ok) return throttled(requested, cost(requested, null).throttleStatus);

    const fault = req.fault;
    const unknownSkus = new Set(fault?.kind === 'item-unknown' ? fault.skus : []);
    let wrote = false;
    const rootValue: Json = {
      [SET_QUANTITIES_FIELD]: ({ input }: { input: Json }) => {
        const outcome = setQuantities(input, version, unknownSkus);
        wrote ||= outcome.wrote;
        return outcome.payload;
      },
      nodes: ({ ids }: { ids: string[] }) => ids.map((id) => {
        const item = Number(gidTail(id));
        return available.has(item) ? inventoryItemNode(item) : null;
      }),
      orders: (args: PageArgs & { query?: string | null; sortKey?: string }) => {
        const search = orderSearch(args.query ?? undefined);
        if (search.warnings.length > 0) searches.push({ path: ['orders'], query: args.query, warnings: search.warnings });
        return connection([...orders.values()].filter(search.matches), args, orderSortKey(args.sortKey), (o) => orderNode(o, variantNode));
      },
      order: ({ id }: { id: string }) => {
        const order = /^gid:\/\/shopify\/Order\/[0-9]+$/.test(id) ? orders.get(Number(gidTail(id))) : undefined;
        return order ? orderNode(order, variantNode) : null;
      },
      productVariants: (args: PageArgs & { sortKey?: string }) => {
        // Sorted by id whatever the sort key: the simulator's variants are created in SKU order of first use.
        return connection([...variantBySku.values()], args, (v) => [v], variantNode);
      },
    };
    const searches: Array<{ path: string[]; query: unknown; warnings: SearchWarning[] }> = [];
    const result = executeSync({ schema, document, rootValue, variableValues: variables as Json, operationName });
    // Reads are charged what they returned: the difference from the requested cost goes back into the bucket.
    const actual = reads ? Math.min(requested, Math.max(1, actualCost(result.data))) : requested;
    if (actual < requested) {
      const now = performance.now();
      bucket.restore(bucket.available(now) + requested - actual, now);
    }
    return {
      status: 200,
      wrote,
      body: {
        ...(result.errors ? { errors: result.errors.map(fromGraphqlError('INTERNAL_SERVER_ERROR')) } : {}),
        data: result.data ?? null,
        extensions: { cost: cost(requested, actual), ...(searches.length > 0 ? { search: searches } : {}) },
      },
    };
  };

  const server = await startSimServer({
    name: 'shopify',
    port: options.port,
    latency: options.latency,
    itemFaults: ['item-unknown'],
    // Everything goes through POST /graphql.json: only mutations change state.
    isWrite: (req) => operationOf(req.json)?.operation.operation === 'mutation',
    throttleResponse(retryAfterMs) {
      // Report an empty bucket whose refill takes exactly retryAfterMs for the request's cost.
      const requested = Math.max(1, Math.ceil((bucketShape.restoreRate * retryAfterMs) / 1000));
      return throttled(requested, { maximumAvailable: bucketShape.maximumAvailable, currentlyAvailable: 0, restoreRate: bucketShape.restoreRate });
    },
    downResponse: { status: 503, body: { errors: 'Service Unavailable' } },
    serverErrorResponse: (status) => ({ status, body: { errors: [{ message: 'Internal error. Looks like something went wrong on our end.', extensions: { code: 'INTERNAL_SERVER_ERROR' } }] } }),
    echoErrorResponse: (echoed: EchoedRequest) => ({ status: 400, body: { errors: [{ message: `Bad request: ${echoed.method} ${echoed.path}`, extensions: { code: 'BAD_REQUEST', request: echoed } }] } }),
    route(req: SimRequest): SimResponse {
      const match = /^\/admin\/api\/([^/]+)\/graphql\.json$/.exec(req.path);
      if (!match || req.method !== 'POST') return { status: 404, body: { errors: 'Not Found' } };
      if (req.headers[TOKEN_HEADER] !== token) return { status: 401, body: UNAUTHORIZED };
      return graphql(req, match[1] ?? DEFAULT_API_VERSION);
    },
  });

  const webhookHeaders = (rawBody: Buffer | string, topic: string, webhookId: string): Record<string, string> => ({
    'content-type': 'application/json',
    [TOPIC_HEADER]: topic,
    [HMAC_HEADER]: hmacSha256(webhookSecret, rawBody, 'base64'),
    [WEBHOOK_ID_HEADER]: webhookId,
    [EVENT_ID_HEADER]: randomUUID(),
    'x-shopify-shop-domain': shopDomain,
    'x-shopify-api-version': DEFAULT_API_VERSION,
    'x-shopify-triggered-at': new Date().toISOString(),
  });

  const deliver = async (topic: string, body: string, orderId: number, webhookId: string): Promise<void> => {
    if (!webhookTarget) throw new Error('shopify simulator: no webhook target set');
    sent.push({ topic, webhookId, orderId });
    const res = await request(webhookTarget, { method: 'POST', headers: webhookHeaders(body, topic, webhookId), body });
    await res.body.dump();
    if (res.statusCode >= 300) throw new Error(`shopify simulator: webhook ${topic} answered ${res.statusCode}`);
  };

  /** Shopify's example refund with this refund's ids, date and lines: the body of refunds/create, and an entry of the order's `refunds`. */
  const refundBody = (order: SimOrder, refund: SimOrder['refunds'][number]): Json => {
    const template = REFUND_EXAMPLE.refund_line_items[0]!;
    return {
      ...structuredClone(REFUND_EXAMPLE),
      id: refund.id,
      admin_graphql_api_id: toGid('Refund', refund.id),
      order_id: order.id,
      created_at: refund.createdAt,
      processed_at: refund.createdAt,
      restock: refund.lines.some((l) => l.restockType !== 'no_restock'),
      transactions: [],
      refund_line_items: refund.lines.map((l, i) => {
        const line = order.lines.find((candidate) => candidate.id === l.lineId)!;
        const item = structuredClone(template.line_item) as Json;
        return {
          ...structuredClone(template),
          id: refund.id * 10 + i,
          line_item_id: line.id,
          location_id: LOCATION_ID,
          quantity: l.qty,
          restock_type: l.restockType,
          line_item: { ...item, id: line.id, admin_graphql_api_id: toGid('LineItem', line.id), variant_id: line.variantId, sku: line.sku, name: line.sku, title: line.sku, variant_title: null, quantity: line.qty },
        };
      }),
    };
  };

  /** Shopify's example order with this order's ids, dates, state and lines: the body of every order webhook sent. */
  const orderBody = (order: SimOrder): Json => {
    const template = ORDER_EXAMPLE.line_items[0]!;
    return {
      ...structuredClone(ORDER_EXAMPLE),
      id: order.id,
      admin_graphql_api_id: toGid('Order', order.id),
      name: order.name,
      number: order.number,
      order_number: 1000 + order.number,
      created_at: order.createdAt,
      updated_at: order.updatedAt,
      processed_at: order.createdAt,
      cancelled_at: order.cancelledAt,
      cancel_reason: order.cancelledAt ? 'customer' : null,
      fulfillments: [],
      refunds: order.refunds.map((refund) => refundBody(order, refund)),
      line_items: order.lines.map((line, i) => ({
        ...structuredClone(template),
        id: line.id,
        admin_graphql_api_id: toGid('LineItem', line.id),
        sku: line.sku,
        name: line.sku,
        title: line.sku,
        variant_title: null,
        quantity: line.qty,
        current_quantity: line.qty,
        fulfillable_quantity: line.qty,
        variant_id: line.variantId,
        product_id: 8000000000 + i,
      })),
    };
  };

  const orderOf = (orderId: string): SimOrder => {
    const order = orders.get(Number(orderId));
    if (!order) throw new Error(`shopify simulator: no order ${orderId}`);
    return order;
  };

  /** A later time than the order's last update, so every change moves `updated_at` forward. */
  const touch = (order: SimOrder): string => {
    const at = new Date(Math.max(Date.now(), Date.parse(order.updatedAt) + 1)).toISOString();
    order.updatedAt = at;
    return at;
  };

  const restock = (sku: string, qty: number): void => {
    const item = ensureSku(sku);
    available.set(item, (available.get(item) ?? 0) + qty);
  };

  /** Sends one webhook as Shopify would (repeats keep the X-Shopify-Webhook-Id), unless the delivery is dropped. */
  const emit = async (topics: string[], body: string, orderId: number, delivery: WebhookDelivery): Promise<void> => {
    if (delivery.drop) return;
    const hooks = topics.map((topic) => ({ topic, webhookId: randomUUID() }));
    const sequence = delivery.outOfOrder ? [...hooks].reverse() : hooks.slice(0, 1);
    for (let i = 0; i < (delivery.times ?? 1); i++) for (const hook of sequence) await deliver(hook.topic, body, orderId, hook.webhookId);
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
    faults: server.faults,
    setWebhookTarget(url) {
      webhookTarget = url;
    },
    signWebhook(rawBody, headers = {}) {
      const given = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
      return { ...webhookHeaders(rawBody, given[TOPIC_HEADER] ?? 'orders/create', given[WEBHOOK_ID_HEADER] ?? randomUUID()), ...given, [HMAC_HEADER]: hmacSha256(webhookSecret, rawBody, 'base64') };
    },
    sentWebhooks: () => sent,
    async placeOrder(lines, delivery: WebhookDelivery = {}) {
      orderSeq += 1;
      const id = 5000000000 + orderSeq;
      const at = new Date().toISOString();
      const order: SimOrder = {
        id,
        name: `#${1000 + (orderSeq % 1_000_000)}`,
        number: orderSeq % 1_000_000,
        createdAt: at,
        updatedAt: at,
        cancelledAt: null,
        refunds: [],
        lines: lines.map((line, i) => {
          const item = ensureSku(line.sku);
          available.set(item, Math.max(0, (available.get(item) ?? 0) - line.qty));
          return { id: 1300000000 + orderSeq * 100 + i, sku: line.sku, variantId: variantBySku.get(line.sku) ?? null, qty: line.qty };
        }),
      };
      orders.set(id, order);
      await emit(['orders/create', 'orders/updated'], JSON.stringify(orderBody(order)), id, delivery);
      return { orderId: String(id) };
    },
    async cancelOrder(orderId, delivery: WebhookDelivery = {}) {
      const order = orderOf(orderId);
      if (order.cancelledAt) return;
      order.cancelledAt = touch(order);
      for (const line of order.lines) {
        const refunded = order.refunds.flatMap((r) => r.lines).filter((l) => l.lineId === line.id && l.restockType !== 'no_restock').reduce((sum, l) => sum + l.qty, 0);
        restock(line.sku, Math.max(0, line.qty - refunded));
      }
      await emit(['orders/cancelled', 'orders/updated'], JSON.stringify(orderBody(order)), order.id, delivery);
    },
    async refundOrder(orderId, lines, delivery: WebhookDelivery = {}) {
      const order = orderOf(orderId);
      refundSeq += 1;
      const refund: SimOrder['refunds'][number] = {
        id: 900000000 + (orderSeq % 1_000_000) * 100 + refundSeq,
        createdAt: touch(order),
        lines: lines.map((l) => {
          const line = order.lines.find((candidate) => candidate.sku === l.sku);
          if (!line) throw new Error(`shopify simulator: order ${orderId} has no line for ${l.sku}`);
          if (l.restockType !== 'no_restock') restock(l.sku, l.qty);
          return { lineId: line.id, qty: l.qty, restockType: l.restockType };
        }),
      };
      order.refunds.push(refund);
      await emit(['refunds/create'], JSON.stringify(refundBody(order, refund)), order.id, delivery);
      return { refundId: String(refund.id) };
    },
    close: server.close,
  };
}
