import {
  defineConnector,
  RejectedError,
  RetryableError,
  WebhookPayloadError,
  WebhookSignatureError,
  type InventoryEvent,
  type OrderPage,
  type PushResult,
  type StockUpdate,
} from '../../core/sdk.ts';
import { createHttpClient, headerNumber } from '../_kit/http-client.ts';
import { throwForStatus } from '../_kit/http-status.ts';
import { orderEvent } from '../_kit/order-events.ts';
import { hmacSha256, matchesAnySecret, secretList } from '../_kit/signatures.ts';
import { MAX_LIST_LIMIT, RESET_HEADER, SIGNATURE_HEADER, type SandboxOrder, type SandboxOrderList, type SandboxOrderWebhook } from './api.ts';
import { parseOrderCursor, orderCursor } from './order-cursor.ts';
import { sandboxOptionsSchema, type SandboxOptions } from './options.ts';
import { listSandboxListings } from './listings.ts';

interface SandboxItemResult {
  sku: string;
  status: 'ok' | 'error';
  quantity?: number;
  code?: string;
  message?: string;
}

/** Per-item codes for an item being edited on the channel: tried again later, not an attempt spent. */
const BUSY_ITEM_CODES: ReadonlySet<string> = new Set(['busy', 'locked']);
/** Per-item codes worth another try as an attempt. */
const RETRYABLE_ITEM_CODES: ReadonlySet<string> = new Set(['internal']);
/** The channel has no listing for the SKU: nothing to push until it lists one. */
const NOT_LISTED_ITEM_CODES: ReadonlySet<string> = new Set(['unknown_sku']);

/**
 * The events the webhooks give for an order in this state: placed (confirmed), and cancelled too once it is.
 * Same ids as {@link handleWebhook}'s, so an order found by both counts once.
 */
function orderEvents(channelId: string, order: SandboxOrder): InventoryEvent[] {
  const facts = { orderId: order.id, occurredAt: order.createdAt, lines: order.lines };
  const confirmed = orderEvent(channelId, 'order.confirmed', facts);
  if (order.status !== 'cancelled') return [confirmed];
  return [confirmed, orderEvent(channelId, 'order.cancelled', { ...facts, occurredAt: order.updatedAt })];
}

export default defineConnector<SandboxOptions>({
  name: 'sandbox',
  contractVersion: 1,
  optionsSchema: sandboxOptionsSchema,
  capabilities: {
    maxBatchSize: 500,
    rateLimit: { perSecond: 10, burst: 10 },
    quantityMode: 'absolute',
    maxConcurrency: 4,
  },
  create(options, context) {
    const http = createHttpClient(options.baseUrl, { connections: options.connections ?? 8 });
    const auth = { authorization: `Bearer ${options.token}` };
    const secrets = secretList(options.webhookSecret);

    return {
      async push(updates: readonly StockUpdate[], signal: AbortSignal): Promise<PushResult[]> {
        const res = await http.request({
          method: 'PUT',
          path: '/v1/inventory',
          headers: auth,
          body: { items: updates.map((u) => ({ sku: u.sku, quantity: u.quantity })) },
          signal,
        });
        if (res.status === 413) throw new RejectedError(`sandbox refused the batch size (${updates.length})`);
        throwForStatus(res, {
          channel: 'sandbox',
          what: 'the inventory update',
          detail: (r) => JSON.stringify(r.body),
          // The reset header says to the millisecond what Retry-After rounds up to a second.
          throttleWaitMs: (r) => headerNumber(r.headers, RESET_HEADER),
          otherStatuses: 'refused',
        });
        const results = (res.body as { results?: SandboxItemResult[] }).results ?? [];
        return results.map((item): PushResult => {
          if (item.status === 'ok') return { sku: item.sku, status: 'ok', quantity: item.quantity };
          const reason = `${item.code ?? 'error'}: ${item.message ?? ''}`.trim();
          const code = item.code ?? '';
          if (BUSY_ITEM_CODES.has(code)) return { sku: item.sku, status: 'busy', reason };
          if (RETRYABLE_ITEM_CODES.has(code)) return { sku: item.sku, status: 'retry', reason };
          if (NOT_LISTED_ITEM_CODES.has(code)) return { sku: item.sku, status: 'not_listed', reason };
          return { sku: item.sku, status: 'rejected', reason };
        });
      },

      async handleWebhook(request) {
        const given = request.headers[SIGNATURE_HEADER]?.replace(/^sha256=/, '');
        if (!matchesAnySecret(secrets, given, (secret) => hmacSha256(secret, request.rawBody, 'hex'))) {
          throw new WebhookSignatureError(`missing or wrong ${SIGNATURE_HEADER}`);
        }
        let parsed: unknown;
        try {
          parsed = JSON.parse(request.rawBody.toString('utf8'));
        } catch (err) {
          throw new WebhookPayloadError('body is not JSON', { cause: err });
        }
        // Signed is not well-formed: every field is checked before it is read, so a bad body is a 400, never a crash.
        const payload = parsed as Partial<SandboxOrderWebhook> | null;
        const order = typeof payload === 'object' && payload !== null ? payload.order : undefined;
        if (typeof order !== 'object' || order === null || typeof order.id !== 'string' || !Array.isArray(order.lines)) {
          throw new WebhookPayloadError('order.id and order.lines are required');
        }
        if (typeof order.createdAt !== 'string') throw new WebhookPayloadError('order.createdAt must be a string');
        const badLine = order.lines.findIndex((line: unknown) => {
          const l = line as { sku?: unknown; qty?: unknown } | null;
          return typeof l !== 'object' || l === null || typeof l.sku !== 'string' || !Number.isInteger(l.qty) || (l.qty as number) < 1;
        });
        if (badLine >= 0) throw new WebhookPayloadError(`order.lines[${badLine}] needs a sku string and a positive integer qty`);
        // created and updated both mean "this order exists": one event id per order collapses them.
        const type = payload?.topic === 'order.cancelled' ? 'order.cancelled' : 'order.confirmed';
        const event = orderEvent(context.channelId, type, { orderId: order.id, occurredAt: order.createdAt, lines: order.lines });
        return { events: [event] };
      },

      async fetchQuantities(skus, signal) {
        const res = await http.request({ method: 'GET', path: `/v1/inventory?sku=${skus.map(encodeURIComponent).join(',')}`, headers: auth, signal });
        if (res.status !== 200) throw new RetryableError(`sandbox answered ${res.status}`);
        const items = (res.body as { items: Array<{ sku: string; quantity: number }> }).items;
        return new Map(items.map((item) => [item.sku, item.quantity]));
      },

      listListings: (cursor, signal) => listSandboxListings(http, auth, cursor, signal),
      async listOrders(cursor, signal): Promise<OrderPage> {
        const from = parseOrderCursor(cursor, Date.now());
        const query = new URLSearchParams({ updated_since: from.since, limit: String(MAX_LIST_LIMIT) });
        if (from.startingAfter) query.set('starting_after', from.startingAfter);
        const res = await http.request({ method: 'GET', path: `/v1/orders?${query}`, headers: auth, signal });
        throwForStatus(res, { channel: 'sandbox', what: 'the order list', detail: (r) => JSON.stringify(r.body), throttleWaitMs: (r) => headerNumber(r.headers, RESET_HEADER), otherStatuses: 'refused' });
        const list = res.body as Partial<SandboxOrderList> | null;
        if (!Array.isArray(list?.orders) || typeof list.has_more !== 'boolean') throw new RetryableError('sandbox: the order list has no orders array or has_more flag');
        const events: InventoryEvent[] = list.orders.flatMap((order) => orderEvents(context.channelId, order));
        return { events, cursor: orderCursor(from, list.orders.at(-1), list.has_more, Date.now()), more: list.has_more };
      },

      close: () => http.close(),
    };
  },
  simulator: async (options) => (await import('./simulator.ts')).startSandboxSimulator(options),
});
