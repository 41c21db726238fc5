import { defineConnector, isRejectedError, isThrottledError, retryAfterOf, RejectedError, WebhookSignatureError, type PushResult, type StockUpdate } from '../../core/sdk.ts';
import { matchesAnySecret, secretList } from '../_kit/signatures.ts';
import { API_PREFIX, MAX_BATCH, productsBatchPath, SIGNATURE_HEADER, variationsBatchPath, type BatchResponse, type BatchUpdateItem, type WooError } from './api.ts';
import { listWooListings } from './listings.ts';
import { readWooOrderBody } from './order-body.ts';
import { listWooOrders, readRefunds } from './order-catch-up.ts';
import { createOrderMapping } from './order-mapping.ts';
import { wooCommerceOptionsSchema, type WooCommerceOptions } from './options.ts';
import { createStoreClient } from './store-client.ts';
import { wooWebhookSignature } from './webhook-signature.ts';

/** The unsigned ping WooCommerce sends when a webhook is created. */
const PING_BODY = /^webhook_id=\d+$/;

interface Target {
  update: StockUpdate;
  /** The id written in the batch: the product's, or the variation's. */
  id: number;
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
    const client = createStoreClient(options, context);
    const secrets = secretList(options.webhookSecret);
    const mapping = createOrderMapping(context.channelId, options.skus, options.restockRefunds ?? true, context.logger);

    const batch = async (path: string, targets: readonly Target[], signal: AbortSignal): Promise<PushResult[]> => {
      const update: BatchUpdateItem[] = targets.map((t) => ({ id: t.id, manage_stock: true, stock_quantity: t.update.quantity }));
      const res = await client.request('POST', path, signal, { update });
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
        const res = await client.request('GET', `${path}?include=${chunk.join(',')}&per_page=${MAX_BATCH}`, signal);
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

      async handleWebhook(request, signal) {
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
        // The body lists refunds by id and total only: their lines come from the refunds endpoint.
        const refunds = mapping.needsRefunds(order) ? await readRefunds(client, order.id, signal) : [];
        return { events: mapping.orderEvents(order, refunds) };
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

      listOrders: (cursor, signal) => listWooOrders(client, mapping, context.logger, cursor, signal),

      listListings: (cursor, signal) => listWooListings(client, context.logger, cursor, signal),

      close: () => client.close(),
    };
  },
  simulator: async (options) => (await import('./simulator.ts')).startWooCommerceSimulator(options),
});
