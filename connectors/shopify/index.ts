import { randomUUID } from 'node:crypto';
import {
  defineConnector,
  RejectedError,
  RetryableError,
  ThrottledError,
  WebhookSignatureError,
  type InventoryEvent,
  type OrderLine,
  type PushResult,
  type StockUpdate,
} from '../../core/sdk.ts';
import { createHttpClient, type HttpClient, type HttpResponse } from '../_kit/http-client.ts';
import { throwForStatus } from '../_kit/http-status.ts';
import { orderEvent, orderEventId } from '../_kit/order-events.ts';
import { hmacSha256, matchesAnySecret, secretList } from '../_kit/signatures.ts';
import {
  DEFAULT_API_VERSION,
  gidTail,
  graphqlPath,
  HMAC_HEADER,
  LEVELS_QUERY,
  MAX_QUANTITIES,
  SET_QUANTITIES_MUTATION,
  TOKEN_HEADER,
  toGid,
  type GraphqlResponse,
  type LevelsData,
  type QueryCost,
  type SetQuantitiesData,
  type SetQuantitiesVariables,
  type UserError,
} from './api.ts';
import { readOrderBody } from './order-body.ts';
import { readRefundBody, type RefundBody } from './refund-body.ts';
import { shopifyOptionsSchema, type ShopifyOptions } from './options.ts';

/** userError codes meaning "the quantity moved under us": the hub re-pushes from its current value. */
const STALE_CODES = new Set(['CHANGE_FROM_QUANTITY_STALE', 'COMPARE_QUANTITY_STALE']);
/** userError codes meaning "no such inventory item here": the SKU is not listed on this channel until its mapping changes. */
const NOT_LISTED_CODES = new Set(['INVALID_INVENTORY_ITEM', 'ITEM_NOT_STOCKED_AT_LOCATION']);
/** userError codes worth another try later. */
const RETRY_CODES = new Set(['IDEMPOTENCY_CONCURRENT_REQUEST', 'IDEMPOTENCY_PREVIOUS_ATTEMPT_FAILED']);

interface Target {
  update: StockUpdate;
  inventoryItemId: string;
}

/** How long the bucket needs to hold `requested` points again, from the throttle status Shopify reported. */
function restoreWaitMs(cost: QueryCost | undefined): number {
  if (!cost) return 1000;
  const { currentlyAvailable, restoreRate } = cost.throttleStatus;
  if (!(restoreRate > 0)) return 1000;
  return Math.max(50, Math.ceil(((cost.requestedQueryCost - currentlyAvailable) / restoreRate) * 1000));
}

/**
 * What Shopify said, for error text: the messages of its `errors` (a string or a list), cut short, never the
 * raw body, which can echo the request and its token back.
 */
function brief(body: unknown): string {
  const errors = (body as { errors?: unknown } | null | undefined)?.errors;
  const text = typeof errors === 'string'
    ? errors
    : Array.isArray(errors)
      ? errors.map((e) => (typeof (e as { message?: unknown })?.message === 'string' ? (e as { message: string }).message : '')).filter(Boolean).join('; ')
      : typeof body === 'string' ? body : '';
  return text.length > 200 ? `${text.slice(0, 200)}…` : text || 'no error message';
}

/** Turns transport-level answers into the SDK's error classes; returns the parsed GraphQL body on 200. */
function graphqlBody<Data>(res: HttpResponse, what: string): GraphqlResponse<Data> {
  throwForStatus(res, {
    channel: 'shopify',
    what,
    detail: (r, m) => (m === 'refused' ? brief(r.body) : undefined),
    // A 429 with the cost bucket's state says exactly when the points are back; else Retry-After.
    throttleWaitMs: (r) => {
      const cost = (r.body as GraphqlResponse<Data> | undefined)?.extensions?.cost;
      return cost ? restoreWaitMs(cost) : undefined;
    },
    otherStatuses: 'refused',
  });
  const body = res.body as GraphqlResponse<Data>;
  const errors = typeof body.errors === 'string' ? [{ message: body.errors }] : (body.errors ?? []);
  if (errors.some((e) => e.extensions?.code === 'THROTTLED')) {
    throw new ThrottledError(`shopify throttled ${what} (cost bucket)`, { retryAfterMs: restoreWaitMs(body.extensions?.cost) });
  }
  if (errors.some((e) => e.extensions?.code === 'INTERNAL_SERVER_ERROR')) throw new RetryableError(`shopify failed ${what}: ${errors[0]?.message ?? ''}`);
  if (errors.length > 0) throw new RejectedError(`shopify refused ${what}: ${brief(errors.map((e) => `${e.extensions?.code ?? 'ERROR'} ${e.message}`).join('; '))}`);
  return body;
}

/** The quantity index a userError points at (`["input", "quantities", "3", ...]`), if any. */
function quantityIndex(error: UserError): number | undefined {
  const field = error.field ?? [];
  const at = field.indexOf('quantities');
  const index = at >= 0 ? Number(field[at + 1]) : NaN;
  return Number.isInteger(index) ? index : undefined;
}

export default defineConnector<ShopifyOptions>({
  name: 'shopify',
  contractVersion: 1,
  optionsSchema: shopifyOptionsSchema,
  capabilities: {
    maxBatchSize: MAX_QUANTITIES,
    // One inventorySetQuantities call costs about 10 points whatever its size; the Standard plan
    // restores 100 points/s, so 10 calls/s holds forever and a burst of 50 uses a quarter of the bucket.
    rateLimit: { perSecond: 10, burst: 50 },
    quantityMode: 'absolute',
    compareAndSet: true,
    maxConcurrency: 4,
  },
  create(options, context) {
    const apiVersion = options.apiVersion ?? DEFAULT_API_VERSION;
    const path = graphqlPath(apiVersion);
    const http: HttpClient = createHttpClient(options.baseUrl, { connections: options.connections ?? 4 });
    const headers = { [TOKEN_HEADER]: options.accessToken };
    const locationId = toGid('Location', options.locationId);
    const secrets = secretList(options.webhookSecret);
    const reason = options.reason ?? 'correction';
    // Order lines carry variant_id: map it back to the hub SKU when the seller told us the variant.
    const skuByVariant = new Map<string, string>();
    for (const [sku, mapping] of Object.entries(options.skus)) if (mapping.variantId) skuByVariant.set(gidTail(mapping.variantId), sku);

    /**
     * A refund's lines by what Shopify did with the stock: `cancel` (never fulfilled) is a line-level
     * cancellation, so it counts against an oversold part first; `return` and `legacy_restock` went back into
     * stock; `no_restock` did not. One event per kind, keyed by the refund id, so a redelivery counts once.
     */
    const refundEvents = (refund: RefundBody): InventoryEvent[] => {
      const cancelled = new Map<string, number>();
      const returned = new Map<string, { qty: number; restock: number }>();
      for (const line of refund.lines) {
        const sku = (line.variantId !== null ? skuByVariant.get(line.variantId) : undefined) ?? line.sku ?? undefined;
        if (!sku) {
          context.logger.debug('refund line without SKU ignored', { orderId: refund.orderId, refundId: refund.id });
          continue;
        }
        if (line.restockType === 'cancel') {
          cancelled.set(sku, (cancelled.get(sku) ?? 0) + line.quantity);
          continue;
        }
        const entry = returned.get(sku) ?? { qty: 0, restock: 0 };
        entry.qty += line.quantity;
        if (line.restockType !== 'no_restock') entry.restock += line.quantity;
        returned.set(sku, entry);
      }
      const facts = { orderId: refund.orderId, occurredAt: refund.createdAt };
      const events: InventoryEvent[] = [];
      if (cancelled.size > 0) {
        const lines = [...cancelled].map(([sku, qty]) => ({ sku, qty }));
        events.push(orderEvent(context.channelId, 'order.cancelled', { ...facts, lines, part: `refund-${refund.id}` }));
      }
      if (returned.size > 0) {
        events.push({
          id: orderEventId(context.channelId, refund.orderId, 'order.returned', refund.id),
          type: 'order.returned',
          channel: context.channelId,
          ...facts,
          lines: [...returned].map(([sku, r]) => ({ sku, qty: r.qty, restock: r.restock })),
        });
      }
      return events;
    };

    // The bucket belongs to this app and shop alone, so the last throttleStatus, refilled at restoreRate
    // since, says whether the next call fits; one that cannot is not sent (it would only come back THROTTLED).
    let bucket: { available: number; maximum: number; restoreRate: number; at: number } | undefined;
    const remember = (cost: QueryCost | undefined): void => {
      if (!cost) return;
      const { currentlyAvailable, maximumAvailable, restoreRate } = cost.throttleStatus;
      bucket = { available: currentlyAvailable, maximum: maximumAvailable, restoreRate, at: Date.now() };
    };
    const ensureRoom = (needed: number, what: string): void => {
      if (!bucket || !(bucket.restoreRate > 0)) return;
      const available = Math.min(bucket.maximum, bucket.available + ((Date.now() - bucket.at) / 1000) * bucket.restoreRate);
      if (available >= needed) return;
      throw new ThrottledError(`shopify cost bucket holds ${Math.floor(available)} of the ${needed} points ${what} needs`, {
        retryAfterMs: Math.max(50, Math.ceil(((needed - available) / bucket.restoreRate) * 1000)),
      });
    };
    const lastCost = new Map<string, number>();

    const graphql = async <Data>(query: string, variables: unknown, what: string, signal: AbortSignal): Promise<GraphqlResponse<Data>> => {
      ensureRoom(lastCost.get(what) ?? 1, what);
      const res = await http.request({ method: 'POST', path, headers, body: { query, variables }, signal });
      const cost = (res.body as GraphqlResponse<Data> | undefined)?.extensions?.cost;
      remember(cost);
      if (cost && cost.actualQueryCost !== null) lastCost.set(what, cost.requestedQueryCost);
      return graphqlBody<Data>(res, what);
    };

    const readLevels = async (skus: readonly string[], signal: AbortSignal): Promise<Map<string, number>> => {
      const found = new Map<string, number>();
      const mapped = skus.filter((sku) => options.skus[sku]);
      for (let start = 0; start < mapped.length; start += MAX_QUANTITIES) {
        const chunk = mapped.slice(start, start + MAX_QUANTITIES);
        const ids = chunk.map((sku) => toGid('InventoryItem', options.skus[sku]!.inventoryItemId));
        const body = await graphql<LevelsData>(LEVELS_QUERY, { ids, locationId }, 'the inventory level query', signal);
        const nodes = body.data?.nodes ?? [];
        chunk.forEach((sku, i) => {
          const available = nodes[i]?.inventoryLevel?.quantities.find((q) => q.name === 'available');
          if (available) found.set(sku, available.quantity);
        });
      }
      return found;
    };

    const setQuantities = async (targets: readonly Target[], signal: AbortSignal): Promise<UserError[]> => {
      const variables: SetQuantitiesVariables = {
        // A fresh key per call: compare-and-swap, not the key, is what keeps a retried call from overwriting newer state.
        idempotencyKey: randomUUID(),
        input: {
          name: 'available',
          reason,
          quantities: targets.map((t) => ({
            inventoryItemId: t.inventoryItemId,
            locationId,
            quantity: t.update.quantity,
            // null opts out of the check when the hub has no confirmed base yet.
            changeFromQuantity: t.update.previousQuantity ?? null,
          })),
        },
      };
      const body = await graphql<SetQuantitiesData>(SET_QUANTITIES_MUTATION, variables, 'inventorySetQuantities', signal);
      const payload = body.data?.inventorySetQuantities;
      if (!payload) throw new RetryableError('shopify returned no inventorySetQuantities payload');
      return payload.userErrors;
    };

    return {
      async push(updates, signal): Promise<PushResult[]> {
        if (updates.length > MAX_QUANTITIES) throw new RejectedError(`shopify takes at most ${MAX_QUANTITIES} quantities per call, got ${updates.length}`);
        const results: PushResult[] = [];
        let pending: Target[] = [];
        for (const update of updates) {
          const mapping = options.skus[update.sku];
          // Not on this channel until the seller maps it: not pushed again, and no dead letter for it.
          if (!mapping) results.push({ sku: update.sku, status: 'not_listed', reason: `no Shopify inventory item is mapped to SKU ${update.sku}` });
          else pending.push({ update, inventoryItemId: toGid('InventoryItem', mapping.inventoryItemId) });
        }
        const stale: Array<{ sku: string; reason: string }> = [];
        // The mutation is all-or-nothing: one refused quantity stops the whole call. The others are sent
        // again once without the refused ones; should that fail too they come back as retries.
        for (let round = 0; pending.length > 0; round += 1) {
          const userErrors = await setQuantities(pending, signal);
          if (userErrors.length === 0) {
            for (const t of pending) results.push({ sku: t.update.sku, status: 'ok', quantity: t.update.quantity });
            break;
          }
          const refused = new Map<number, UserError>();
          for (const error of userErrors) {
            const index = quantityIndex(error);
            // An error on the input as a whole (name, reason) is our bug or the shop's settings: nothing will pass.
            if (index === undefined || index >= pending.length) throw new RejectedError(`shopify refused inventorySetQuantities: ${error.code ?? 'ERROR'} ${error.message}`);
            if (!refused.has(index)) refused.set(index, error);
          }
          const rest: Target[] = [];
          pending.forEach((t, i) => {
            const error = refused.get(i);
            if (!error) return rest.push(t);
            const why = `${error.code ?? 'ERROR'}: ${error.message}`;
            if (STALE_CODES.has(error.code ?? '')) stale.push({ sku: t.update.sku, reason: why });
            else if (NOT_LISTED_CODES.has(error.code ?? '')) results.push({ sku: t.update.sku, status: 'not_listed', reason: why });
            else if (RETRY_CODES.has(error.code ?? '')) results.push({ sku: t.update.sku, status: 'retry', reason: why });
            else results.push({ sku: t.update.sku, status: 'rejected', reason: why });
          });
          if (round >= 1) {
            for (const t of rest) results.push({ sku: t.update.sku, status: 'retry', reason: 'batch refused because of other quantities in it' });
            break;
          }
          pending = rest;
        }
        if (stale.length > 0) {
          // Tell the hub what the shop shows now so its next compare-and-swap base is right.
          const shown = await readLevels(stale.map((s) => s.sku), signal).catch((err: unknown) => {
            context.logger.warn('could not read the current quantities after a stale write', { error: String(err) });
            return new Map<string, number>();
          });
          for (const s of stale) results.push({ sku: s.sku, status: 'stale', reason: s.reason, shown: shown.get(s.sku) });
        }
        return results;
      },

      async handleWebhook(request) {
        const given = request.headers[HMAC_HEADER];
        if (!matchesAnySecret(secrets, given, (secret) => hmacSha256(secret, request.rawBody, 'base64'))) {
          throw new WebhookSignatureError(`missing or wrong ${HMAC_HEADER}`);
        }
        // X-Shopify-Topic is not signed: what happened is read from the signed body only, whatever the topic says.
        const order = readOrderBody(request.rawBody);
        if (!order) {
          const refund = readRefundBody(request.rawBody);
          return { events: refund ? refundEvents(refund) : [] };
        }
        const totals = new Map<string, number>();
        for (const line of order.lines) {
          const sku = (line.variantId !== null ? skuByVariant.get(line.variantId) : undefined) ?? line.sku ?? undefined;
          if (!sku) {
            context.logger.debug('order line without SKU ignored', { orderId: order.id, title: line.title });
            continue;
          }
          totals.set(sku, (totals.get(sku) ?? 0) + line.quantity);
        }
        if (totals.size === 0) return { events: [] };
        const lines: OrderLine[] = [...totals].map(([sku, qty]) => ({ sku, qty }));
        const confirmed = orderEvent(context.channelId, 'order.confirmed', { orderId: order.id, occurredAt: order.createdAt, reference: order.name, lines });
        if (!order.cancelledAt) return { events: [confirmed] };
        // A cancellation implies the order existed: both events go out (ids collapse repeats), so a
        // cancellation that overtakes its orders/create still nets to zero in the ledger.
        const cancelled = orderEvent(context.channelId, 'order.cancelled', { orderId: order.id, occurredAt: order.cancelledAt, reference: order.name, lines });
        return { events: [confirmed, cancelled] };
      },

      fetchQuantities: (skus, signal) => readLevels(skus, signal),

      close: () => http.close(),
    };
  },
  simulator: async (options) => (await import('./simulator.ts')).startShopifySimulator(options),
});
