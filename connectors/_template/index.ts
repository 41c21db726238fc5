import {
  defineConnector,
  RejectedError,
  RetryableError,
  WebhookPayloadError,
  WebhookSignatureError,
  type PushResult,
  type StockUpdate,
} from 'stockrelay';
import { AUTH_HEADER, BUSY_ITEM_CODES, MAX_BATCH, NOT_LISTED_ITEM_CODES, RETRYABLE_ITEM_CODES, SIGNATURE_HEADER, type AcmeOrderWebhook, type AcmeStockResult, type AcmeStockUpdate } from './api.ts';
import { createHttpClient, hmacSha256, matchesAnySecret, orderEvent, secretList, throwForStatus } from 'stockrelay/kit';
import { acmeOptionsSchema, type AcmeOptions } from './options.ts';

export default defineConnector<AcmeOptions>({
  name: 'acme',
  contractVersion: 1,
  optionsSchema: acmeOptionsSchema,
  capabilities: {
    maxBatchSize: MAX_BATCH,
    rateLimit: { perSecond: 5, burst: 10 },
    quantityMode: 'absolute',
  },
  create(options, context) {
    const http = createHttpClient(options.baseUrl);
    const auth = { [AUTH_HEADER]: options.apiKey };
    const secrets = secretList(options.webhookSecret);
    const skuOfListing = new Map(Object.entries(options.listings).map(([sku, listingId]) => [listingId, sku]));

    return {
      async push(updates: readonly StockUpdate[], signal: AbortSignal): Promise<PushResult[]> {
        if (updates.length > MAX_BATCH) throw new RejectedError(`acme takes at most ${MAX_BATCH} updates per call, got ${updates.length}`);
        // SKUs without a listing never reach the API: each is `not_listed` (the host stops pushing it until the
        // mapping changes, and says why), the rest still go out.
        const results: PushResult[] = [];
        const sent: AcmeStockUpdate[] = [];
        for (const update of updates) {
          const listingId = options.listings[update.sku];
          if (listingId === undefined) results.push({ sku: update.sku, status: 'not_listed', reason: `no acme listing mapped for "${update.sku}"` });
          else sent.push({ listingId, available: update.quantity });
        }
        if (sent.length === 0) return results;

        // The signal goes to the request so an abort (hub shutdown, dispatcher timeout) ends the call at once.
        const res = await http.request({ method: 'POST', path: '/api/v2/stock/batch', headers: auth, body: { updates: sent }, signal });
        // 429 throttles (honouring Retry-After), 401/403 and any other refusal reject, 5xx retries.
        throwForStatus(res, { channel: 'acme', what: 'the stock batch', detail: (r) => JSON.stringify(r.body), otherStatuses: 'refused' });

        const answered = new Map(((res.body as { results?: AcmeStockResult[] }).results ?? []).map((r) => [r.listingId, r]));
        for (const item of sent) {
          const sku = skuOfListing.get(item.listingId) ?? item.listingId;
          const answer = answered.get(item.listingId);
          // Every update needs a result: an item the channel did not mention is tried again.
          if (!answer) results.push({ sku, status: 'retry', reason: 'acme returned no result for this listing' });
          else if (answer.ok) results.push({ sku, status: 'ok', quantity: answer.available });
          else {
            const { code } = answer.error;
            const reason = `${code}: ${answer.error.message}`;
            if (BUSY_ITEM_CODES.has(code)) results.push({ sku, status: 'busy', reason });
            else if (RETRYABLE_ITEM_CODES.has(code)) results.push({ sku, status: 'retry', reason });
            else if (NOT_LISTED_ITEM_CODES.has(code)) results.push({ sku, status: 'not_listed', reason });
            else results.push({ sku, status: 'rejected', reason });
          }
        }
        return results;
      },

      async handleWebhook(request) {
        // The signature is checked over the untouched body before anything in it is trusted.
        const given = request.headers[SIGNATURE_HEADER];
        if (!matchesAnySecret(secrets, given, (secret) => hmacSha256(secret, request.rawBody, 'base64'))) {
          throw new WebhookSignatureError(`missing or wrong ${SIGNATURE_HEADER}`);
        }
        let parsed: unknown;
        try {
          parsed = JSON.parse(request.rawBody.toString('utf8'));
        } catch (err) {
          throw new WebhookPayloadError('body is not JSON', { cause: err });
        }
        // A correct signature does not make a well-formed body: check every field before reading it, so a bad
        // body is refused with WebhookPayloadError (400) instead of crashing into a TypeError (503, re-delivered).
        if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new WebhookPayloadError('the body must be a JSON object');
        const payload = parsed as AcmeOrderWebhook;
        if (typeof payload.orderId !== 'string' || typeof payload.placedAt !== 'string' || !Array.isArray(payload.lines)) {
          throw new WebhookPayloadError('orderId, placedAt and lines are required');
        }
        const badLine = payload.lines.findIndex((line: unknown) => {
          const l = line as { listingId?: unknown; quantity?: unknown } | null;
          return typeof l !== 'object' || l === null || typeof l.listingId !== 'string' || !Number.isInteger(l.quantity) || (l.quantity as number) < 1;
        });
        if (badLine >= 0) throw new WebhookPayloadError(`lines[${badLine}] needs a listingId string and a positive integer quantity`);
        // Lines for listings the seller did not map are not the hub's stock.
        const lines = payload.lines.flatMap((line) => {
          const sku = skuOfListing.get(line.listingId);
          return sku === undefined ? [] : [{ sku, qty: line.quantity }];
        });
        if (lines.length === 0) return { events: [] };
        // placed and updated both mean "this order exists": one id per order collapses repeats and reordering.
        const cancelled = payload.event === 'order.cancelled';
        const event = orderEvent(context.channelId, cancelled ? 'order.cancelled' : 'order.confirmed', { orderId: payload.orderId, occurredAt: payload.placedAt, lines });
        return { events: [event] };
      },

      async fetchQuantities(skus, signal) {
        const mapped = skus.filter((sku) => options.listings[sku] !== undefined);
        if (mapped.length === 0) return new Map();
        const query = mapped.map((sku) => encodeURIComponent(options.listings[sku] as string)).join(',');
        const res = await http.request({ method: 'GET', path: `/api/v2/stock?listing=${query}`, headers: auth, signal });
        if (res.status !== 200) throw new RetryableError(`acme answered ${res.status}`);
        const stock = (res.body as { stock: Array<{ listingId: string; available: number }> }).stock;
        return new Map(stock.flatMap((s) => (skuOfListing.has(s.listingId) ? [[skuOfListing.get(s.listingId) as string, s.available] as const] : [])));
      },

      close: () => http.close(),
    };
  },
  // Imported lazily so a hub that only runs the connector never loads simulator code.
  simulator: async (options) => (await import('./simulator.ts')).startAcmeSimulator(options),
});
