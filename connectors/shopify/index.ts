import { randomUUID } from 'node:crypto';
import { defineConnector, RejectedError, RetryableError, WebhookSignatureError, type PushResult, type StockUpdate } from '../../core/sdk.ts';
import { createHttpClient, type HttpClient } from '../_kit/http-client.ts';
import { hmacSha256, matchesAnySecret, secretList } from '../_kit/signatures.ts';
import { createAdminClient } from './admin-client.ts';
import {
  DEFAULT_API_VERSION,
  HMAC_HEADER,
  LEVELS_QUERY,
  MAX_QUANTITIES,
  SET_QUANTITIES_MUTATION,
  toGid,
  type LevelsData,
  type SetQuantitiesData,
  type SetQuantitiesVariables,
  type UserError,
} from './api.ts';
import { listShopifyListings } from './listings.ts';
import { readOrderBody } from './order-body.ts';
import { listShopifyOrders } from './order-catch-up.ts';
import { createOrderMapping } from './order-mapping.ts';
import { readRefundBody } from './refund-body.ts';
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
    const http: HttpClient = createHttpClient(options.baseUrl, { connections: options.connections ?? 4 });
    const client = createAdminClient(http, apiVersion, options.accessToken);
    const graphql = client.graphql;
    const locationId = toGid('Location', options.locationId);
    const secrets = secretList(options.webhookSecret);
    const reason = options.reason ?? 'correction';
    const mapping = createOrderMapping(context.channelId, options.skus, context.logger);

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
        if (order) return { events: mapping.orderEvents(order) };
        const refund = readRefundBody(request.rawBody);
        return { events: refund ? mapping.refundEvents(refund) : [] };
      },

      fetchQuantities: (skus, signal) => readLevels(skus, signal),

      listOrders: (cursor, signal) => listShopifyOrders(client, mapping, context.logger, cursor, signal),

      listListings: (cursor, signal) => listShopifyListings(client, locationId, context.logger, cursor, signal),

      close: () => http.close(),
    };
  },
  simulator: async (options) => (await import('./simulator.ts')).startShopifySimulator(options),
});
