import {
  defineConnector,
  RejectedError,
  RetryableError,
  ThrottledError,
  WebhookPayloadError,
  WebhookSignatureError,
  type InventoryEvent,
  type PushResult,
  type StockUpdate,
} from '../../core/sdk.ts';
import { createHttpClient, headerValue, retryAfterMs } from '../_kit/http-client.ts';
import { hmacSha256, matchesAnySecret, secretList } from '../_kit/signatures.ts';
import { RESET_HEADER, SIGNATURE_HEADER, type SandboxOrderWebhook } from './api.ts';
import { sandboxOptionsSchema, type SandboxOptions } from './options.ts';

interface SandboxItemResult {
  sku: string;
  status: 'ok' | 'error';
  quantity?: number;
  code?: string;
  message?: string;
}

/** Per-item codes worth another try; anything else is a permanent refusal. */
const RETRYABLE_ITEM_CODES = new Set(['busy', 'locked', 'internal']);

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
        if (res.status === 429) {
          const precise = Number(headerValue(res.headers, RESET_HEADER));
          throw new ThrottledError('sandbox answered 429', { retryAfterMs: Number.isFinite(precise) ? precise : retryAfterMs(res.headers, 1000) });
        }
        if (res.status === 401 || res.status === 403) throw new RejectedError(`sandbox refused the credentials (${res.status})`);
        if (res.status === 413) throw new RejectedError(`sandbox refused the batch size (${updates.length})`);
        if (res.status >= 500) throw new RetryableError(`sandbox answered ${res.status}`);
        if (res.status !== 200) throw new RejectedError(`sandbox answered ${res.status}: ${JSON.stringify(res.body)}`);
        const results = (res.body as { results?: SandboxItemResult[] }).results ?? [];
        return results.map((item): PushResult => {
          if (item.status === 'ok') return { sku: item.sku, status: 'ok', quantity: item.quantity };
          const reason = `${item.code ?? 'error'}: ${item.message ?? ''}`.trim();
          return RETRYABLE_ITEM_CODES.has(item.code ?? '') ? { sku: item.sku, status: 'retry', reason } : { sku: item.sku, status: 'rejected', reason };
        });
      },

      async handleWebhook(request) {
        const given = request.headers[SIGNATURE_HEADER]?.replace(/^sha256=/, '');
        if (!matchesAnySecret(secrets, given, (secret) => hmacSha256(secret, request.rawBody, 'hex'))) {
          throw new WebhookSignatureError(`missing or wrong ${SIGNATURE_HEADER}`);
        }
        let payload: SandboxOrderWebhook;
        try {
          payload = JSON.parse(request.rawBody.toString('utf8')) as SandboxOrderWebhook;
        } catch (err) {
          throw new WebhookPayloadError('body is not JSON', { cause: err });
        }
        const order = (payload as Partial<SandboxOrderWebhook> | null)?.order;
        if (!order || typeof order.id !== 'string' || !Array.isArray(order.lines)) throw new WebhookPayloadError('order.id and order.lines are required');
        if (!order.lines.every((line) => typeof line?.sku === 'string' && typeof line.qty === 'number')) throw new WebhookPayloadError('every order line needs a string sku and a numeric qty');
        // created and updated both mean "this order exists": one event id per order collapses them.
        const type = payload.topic === 'order.cancelled' ? 'order.cancelled' : 'order.confirmed';
        const event: InventoryEvent = {
          id: `${context.channelId}:order:${order.id}:${type === 'order.cancelled' ? 'cancelled' : 'confirmed'}`,
          type,
          channel: context.channelId,
          occurredAt: order.createdAt,
          orderId: order.id,
          lines: order.lines.map((line) => ({ sku: line.sku, qty: line.qty })),
        };
        return { events: [event] };
      },

      async fetchQuantities(skus, signal) {
        const res = await http.request({ method: 'GET', path: `/v1/inventory?sku=${skus.map(encodeURIComponent).join(',')}`, headers: auth, signal });
        if (res.status !== 200) throw new RetryableError(`sandbox answered ${res.status}`);
        const items = (res.body as { items: Array<{ sku: string; quantity: number }> }).items;
        return new Map(items.map((item) => [item.sku, item.quantity]));
      },

      close: () => http.close(),
    };
  },
  simulator: async (options) => (await import('./simulator.ts')).startSandboxSimulator(options),
});
