import { generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto';
import { request } from 'undici';
import type { SimulatorHandle, SimulatorOptions, WebhookDelivery } from '../../core/sdk.ts';
import { ServerTokenBucket } from '../_kit/rate-window.ts';
import { startSimServer, type SimRequest, type SimResponse } from '../_kit/sim-server.ts';
import {
  BULK_GET_PATH,
  BULK_UPDATE_PATH,
  DAILY_REVISIONS_PER_LISTING,
  ErrorIds,
  MAX_BULK_REQUESTS,
  ORDER_PATH,
  PUBLIC_KEY_PATH,
  SIGNATURE_HEADER,
  type EbayError,
  type EbayNotification,
  type EbayOrder,
  type PriceQuantityResponse,
} from './api.ts';
import { signNotification } from './notification-signature.ts';
import type { EbayOptions } from './options.ts';

export interface EbaySimulatorOptions extends SimulatorOptions {
  /** Access token the API accepts. */
  accessToken?: string;
  /** Revisions per listing per day before eBay blocks the listing. Default 250. */
  dailyRevisionLimit?: number;
  /** Offers created per inventory item (one per marketplace). Default 1. */
  offersPerItem?: number;
}

export interface EbaySimulator extends SimulatorHandle<EbayOptions> {
  /** Replaces the notification signing key with a new one under a new kid (the old key stays retrievable). */
  rotateSigningKey(): string;
  /** The kid notifications are signed with now. */
  signingKid(): string;
  /** Revisions counted today for the listing behind a hub SKU. */
  revisions(sku: string): number;
  /** Makes the next bulk update answer a per-item system error (25001) for this hub SKU, `times` times. */
  failItem(sku: string, times?: number): void;
  /** Marks an order cancelled, as when the buyer cancels; the next notification for it reads as a cancellation. */
  cancelOrder(orderId: string): void;
}

interface Offer {
  offerId: string;
  listingId: string;
  availableQuantity: number;
}

interface Item {
  hubSku: string;
  sku: string;
  quantity: number;
  offers: Offer[];
}

const err = (errorId: number, message: string, category: EbayError['category'] = 'REQUEST', domain = 'API_INVENTORY'): EbayError => ({ errorId, domain, category, message });
/** Publish attempts per notification before the simulator gives up on an endpoint that keeps failing. */
const PUBLISH_ATTEMPTS = 5;

export async function startEbaySimulator(options: EbaySimulatorOptions = {}): Promise<EbaySimulator> {
  const token = options.accessToken ?? 'v^1.1#i^1#ebay-sim-user-token';
  const revisionLimit = options.dailyRevisionLimit ?? DAILY_REVISIONS_PER_LISTING;
  const offersPerItem = options.offersPerItem ?? 1;
  const rate = options.rateLimit ?? { perSecond: 20, burst: 40 };
  const bucket = new ServerTokenBucket(rate.perSecond, rate.burst);
  const fulfillmentBucket = new ServerTokenBucket(rate.perSecond, rate.burst);
  const notificationBucket = new ServerTokenBucket(rate.perSecond, rate.burst);

  const items = new Map<string, Item>(); // by eBay SKU
  const byHub = new Map<string, Item>();
  const offers = new Map<string, { item: Item; offer: Offer }>();
  const revisionCount = new Map<string, { day: string; count: number }>();
  const failures = new Map<string, number>();
  const orders = new Map<string, EbayOrder>();
  const keys = new Map<string, { publicPem: string; privateKey: KeyObject }>();
  let currentKid = '';
  let itemsWritten = 0;
  let seq = Math.floor(Math.random() * 1_000_000) * 1000;
  let webhookTarget: string | undefined;

  const newKey = (): string => {
    const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const kid = randomUUID();
    keys.set(kid, { publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(), privateKey });
    currentKid = kid;
    return kid;
  };
  newKey();

  /** A fresh numeric id of exactly `digits` digits (eBay's offer, listing and order ids are digit strings). */
  const nextId = (digits: number): string => {
    seq += 1;
    return String(10 ** (digits - 1) + (seq % (9 * 10 ** (digits - 1))));
  };

  const ensureItem = (hubSku: string, quantity = 0): Item => {
    const existing = byHub.get(hubSku);
    if (existing) return existing;
    const item: Item = { hubSku, sku: `EB-${hubSku}`, quantity, offers: [] };
    for (let i = 0; i < offersPerItem; i++) {
      const offer: Offer = { offerId: nextId(10), listingId: nextId(12), availableQuantity: quantity };
      item.offers.push(offer);
      offers.set(offer.offerId, { item, offer });
    }
    items.set(item.sku, item);
    byHub.set(hubSku, item);
    return item;
  };
  for (const [sku, qty] of Object.entries(options.skus ?? {})) ensureItem(sku, qty);

  const today = (): string => new Date().toISOString().slice(0, 10);
  /** Counts one revision of a listing; false when the listing already used today's budget. */
  const revise = (listingId: string): boolean => {
    const day = today();
    const entry = revisionCount.get(listingId);
    const current = entry && entry.day === day ? entry.count : 0;
    if (current >= revisionLimit) return false;
    revisionCount.set(listingId, { day, count: current + 1 });
    return true;
  };

  const bulkUpdate = (req: SimRequest): SimResponse => {
    const requests = (req.json as { requests?: unknown } | undefined)?.requests;
    if (!Array.isArray(requests) || requests.length === 0) {
      return { status: 400, body: { errors: [err(ErrorIds.INVALID_VALUE, 'Invalid value for requests.')] } };
    }
    if (requests.length > MAX_BULK_REQUESTS) {
      return { status: 400, body: { errors: [err(ErrorIds.INVALID_VALUE, `Invalid value for requests. The number of requests must not exceed ${MAX_BULK_REQUESTS}.`)] } };
    }
    const responses: PriceQuantityResponse[] = [];
    let wrote = false;
    for (const raw of requests as Array<{ sku?: unknown; shipToLocationAvailability?: { quantity?: unknown }; offers?: Array<{ offerId?: unknown; availableQuantity?: unknown }> }>) {
      const sku = typeof raw.sku === 'string' ? raw.sku : '';
      const item = items.get(sku);
      if (!item) {
        responses.push({ statusCode: 404, sku, errors: [err(ErrorIds.SKU_NOT_FOUND, `SKU ${sku} is not available in the system.`)] });
        continue;
      }
      const pending = failures.get(item.hubSku) ?? 0;
      if (pending > 0) {
        failures.set(item.hubSku, pending - 1);
        responses.push({ statusCode: 500, sku, errors: [err(ErrorIds.SYSTEM, 'A system error has occurred.', 'APPLICATION')] });
        continue;
      }
      const itemQuantity = raw.shipToLocationAvailability?.quantity;
      if (itemQuantity !== undefined && (!Number.isInteger(itemQuantity) || (itemQuantity as number) < 0)) {
        responses.push({ statusCode: 400, sku, errors: [err(ErrorIds.INVALID_VALUE, 'Invalid value for shipToLocationAvailability.quantity.')] });
        continue;
      }
      const offerUpdates = Array.isArray(raw.offers) ? raw.offers : [];
      const offerAnswers: PriceQuantityResponse[] = [];
      const apply: Array<() => void> = [];
      for (const o of offerUpdates) {
        const offerId = typeof o.offerId === 'string' ? o.offerId : '';
        const found = offers.get(offerId);
        if (!found || found.item !== item) {
          offerAnswers.push({ statusCode: 404, sku, offerId, errors: [err(ErrorIds.OFFER_NOT_AVAILABLE, `This Offer is not available : ${offerId}.`)] });
          continue;
        }
        if (!Number.isInteger(o.availableQuantity) || (o.availableQuantity as number) < 0) {
          offerAnswers.push({ statusCode: 400, sku, offerId, errors: [err(ErrorIds.INVALID_VALUE, 'Invalid value for availableQuantity.')] });
          continue;
        }
        if (!revise(found.offer.listingId)) {
          offerAnswers.push({
            statusCode: 400,
            sku,
            offerId,
            errors: [err(ErrorIds.USER, `A user error has occurred. This listing has been revised the maximum ${revisionLimit} times today (revision limit reached).`, 'BUSINESS')],
          });
          continue;
        }
        const quantity = o.availableQuantity as number;
        apply.push(() => void (found.offer.availableQuantity = quantity));
        offerAnswers.push({ statusCode: 200, sku, offerId });
      }
      for (const run of apply) run();
      if (itemQuantity !== undefined && offerAnswers.every((a) => a.statusCode === 200)) item.quantity = itemQuantity as number;
      if (offerAnswers.length === 0) offerAnswers.push({ statusCode: 200, sku });
      if (offerAnswers.some((a) => a.statusCode === 200)) {
        wrote = true;
        itemsWritten += 1;
      }
      responses.push(...offerAnswers);
    }
    const allOk = responses.every((r) => r.statusCode === 200);
    return { status: allOk ? 200 : 207, body: { responses }, wrote };
  };

  const route = (req: SimRequest): SimResponse => {
    if (req.headers.authorization !== `Bearer ${token}`) {
      return {
        status: 401,
        body: { errors: [{ ...err(ErrorIds.INVALID_TOKEN, 'Invalid access token', 'REQUEST', 'OAuth'), longMessage: 'Invalid access token. Check the value of the Authorization HTTP request header.' }] },
      };
    }
    // Each eBay API has its own quota: the Inventory API's limit does not slow the Fulfillment API's
    // order reads or the Notification API's key lookups.
    const inventoryCall = req.path === BULK_UPDATE_PATH || req.path === BULK_GET_PATH;
    const slot = (inventoryCall ? bucket : req.path.startsWith(ORDER_PATH) ? fulfillmentBucket : notificationBucket).take();
    if (!slot.ok) {
      return {
        status: 429,
        body: { errors: [err(ErrorIds.RATE_LIMITED, 'Too many requests. The request limit has been reached for the resource.', 'REQUEST', 'ACCESS')] },
      };
    }
    if (req.method === 'POST' && req.path === BULK_UPDATE_PATH) return bulkUpdate(req);
    if (req.method === 'POST' && req.path === BULK_GET_PATH) {
      const requests = ((req.json as { requests?: Array<{ sku?: string }> } | undefined)?.requests ?? []).slice(0, MAX_BULK_REQUESTS);
      return {
        status: 200,
        body: {
          responses: requests.map(({ sku = '' }) => {
            const item = items.get(sku);
            return item
              ? { statusCode: 200, sku, inventoryItem: { sku, availability: { shipToLocationAvailability: { quantity: item.quantity } } } }
              : { statusCode: 404, sku, errors: [err(ErrorIds.SKU_NOT_FOUND, `SKU ${sku} is not available in the system.`)] };
          }),
        },
      };
    }
    if (req.method === 'GET' && req.path.startsWith(ORDER_PATH)) {
      const order = orders.get(decodeURIComponent(req.path.slice(ORDER_PATH.length)));
      return order ? { status: 200, body: order } : { status: 404, body: { errors: [err(32100, 'Invalid order ID', 'REQUEST', 'API_FULFILLMENT')] } };
    }
    if (req.method === 'GET' && req.path.startsWith(PUBLIC_KEY_PATH)) {
      const key = keys.get(decodeURIComponent(req.path.slice(PUBLIC_KEY_PATH.length)));
      return key
        ? { status: 200, body: { algorithm: 'ECDSA', digest: 'SHA1', key: key.publicPem } }
        : { status: 404, body: { errors: [err(195002, 'The public key was not found.', 'REQUEST', 'API_NOTIFICATION')] } };
    }
    return { status: 404, body: { errors: [err(2002, 'Resource not found', 'REQUEST', 'ACCESS')] } };
  };

  const server = await startSimServer({
    port: options.port,
    latency: options.latency,
    route,
    downResponse: { status: 503, body: { errors: [err(ErrorIds.SYSTEM, 'A system error has occurred.', 'APPLICATION')] } },
    throttleResponse: (retryAfter) => ({
      status: 429,
      headers: { 'retry-after': String(Math.max(1, Math.ceil(retryAfter / 1000))) },
      body: { errors: [err(ErrorIds.RATE_LIMITED, 'Too many requests. The request limit has been reached for the resource.', 'REQUEST', 'ACCESS')] },
    }),
  });

  /** eBay publishes a notification again when the endpoint does not acknowledge it, counting the attempts. */
  const deliver = async (notification: EbayNotification): Promise<void> => {
    if (!webhookTarget) throw new Error('eBay simulator: no webhook target set');
    for (let attempt = notification.notification.publishAttemptCount; ; attempt++) {
      const body = JSON.stringify({ ...notification, notification: { ...notification.notification, publishAttemptCount: attempt } });
      const key = keys.get(currentKid)!;
      const res = await request(webhookTarget, {
        method: 'POST',
        headers: { 'content-type': 'application/json', [SIGNATURE_HEADER]: signNotification(body, currentKid, key.privateKey) },
        body,
      });
      await res.body.dump();
      if (res.statusCode < 300) return;
      if (attempt >= PUBLISH_ATTEMPTS) throw new Error(`eBay simulator: notification answered ${res.statusCode} ${attempt} times`);
      await new Promise((resolve) => setTimeout(resolve, 250 * 2 ** attempt));
    }
  };

  const notificationFor = (order: EbayOrder, line: EbayOrder['lineItems'][number], attempt: number): EbayNotification => ({
    metadata: { topic: 'ORDER_CONFIRMATION', schemaVersion: '1.0', deprecated: false },
    notification: {
      notificationId: randomUUID(),
      eventDate: order.creationDate,
      publishDate: new Date().toISOString(),
      publishAttemptCount: attempt,
      data: { orderId: order.orderId, legacyItemId: line.legacyItemId },
    },
  });

  const shownFor = (item: Item): number => Math.min(item.quantity, ...item.offers.map((o) => o.availableQuantity));

  return {
    url: server.url,
    connectorOptions(skus) {
      const listings: EbayOptions['listings'] = {};
      for (const sku of skus) {
        const item = ensureItem(sku);
        listings[sku] = { sku: item.sku, offerIds: item.offers.map((o) => o.offerId) };
      }
      return { baseUrl: server.url, accessToken: token, listings };
    },
    shown: (sku) => {
      const item = byHub.get(sku);
      return item ? shownFor(item) : undefined;
    },
    setShown(sku, quantity) {
      const item = ensureItem(sku, quantity);
      item.quantity = quantity;
      for (const offer of item.offers) offer.availableQuantity = quantity;
    },
    stats: () => ({ ...server.counters, itemsWritten }),
    setFault: server.setFault,
    setWebhookTarget(url) {
      webhookTarget = url;
    },
    rotateSigningKey: newKey,
    signingKid: () => currentKid,
    revisions(sku) {
      const listingId = byHub.get(sku)?.offers[0]?.listingId;
      const entry = listingId ? revisionCount.get(listingId) : undefined;
      return entry && entry.day === today() ? entry.count : 0;
    },
    failItem(sku, times = 1) {
      failures.set(sku, times);
    },
    cancelOrder(orderId) {
      const order = orders.get(orderId);
      if (order) order.cancelStatus = { cancelState: 'CANCELED' };
    },
    async placeOrder(lines, delivery: WebhookDelivery = {}) {
      const orderId = `${nextId(2)}-${nextId(5)}-${nextId(5)}`;
      const order: EbayOrder = {
        orderId,
        creationDate: new Date().toISOString(),
        orderFulfillmentStatus: 'NOT_STARTED',
        cancelStatus: { cancelState: 'NONE_REQUESTED' },
        lineItems: lines.map((line) => {
          const item = ensureItem(line.sku);
          item.quantity = Math.max(0, item.quantity - line.qty);
          for (const offer of item.offers) offer.availableQuantity = Math.max(0, offer.availableQuantity - line.qty);
          return { lineItemId: nextId(11), sku: item.sku, quantity: line.qty, legacyItemId: item.offers[0]?.listingId ?? '' };
        }),
      };
      orders.set(orderId, order);
      // eBay sends one ORDER_CONFIRMATION per line item; out of order, the later ones (or a re-send) come first.
      let sequence = order.lineItems.map((line) => notificationFor(order, line, 1));
      if (delivery.outOfOrder) {
        sequence = sequence.length > 1 ? [...sequence].reverse() : [notificationFor(order, order.lineItems[0]!, 2), ...sequence];
      }
      for (let i = 0; i < (delivery.times ?? 1); i++) for (const notification of sequence) await deliver(notification);
      return { orderId };
    },
    close: server.close,
  };
}
