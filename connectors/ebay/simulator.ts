import { generateKeyPairSync, randomBytes, randomUUID, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { request } from 'undici';
import { type SimulatorHandle, type SimulatorOptions, TokenBucket, type WebhookDelivery } from '../../core/sdk.ts';
import { startSimServer, type SimRequest, type SimResponse } from '../_kit/sim-server.ts';
import {
  BULK_GET_PATH,
  BULK_UPDATE_PATH,
  DAILY_REVISIONS_PER_LISTING,
  ErrorIds,
  MAX_BULK_GET_REQUESTS,
  MAX_OFFERS_PER_PRICE_QUANTITY_CALL,
  MAX_SKUS_PER_PRICE_QUANTITY_CALL,
  INVENTORY_ITEMS_PATH,
  OFFERS_PATH,
  ORDER_PATH,
  ORDERS_PATH,
  PUBLIC_KEY_PATH,
  SIGNATURE_HEADER,
  TOKEN_PATH,
  type EbayError,
  type EbayNotification,
  type EbayOrder,
  type OrderConfirmationData,
  type PriceQuantityResponse,
} from './api.ts';
import { basicCredential } from './ebay-token.ts';
import { ebayPublicKeyText, signNotification } from './notification-signature.ts';
import type { EbayOptions } from './options.ts';

/*
 * The simulator answers from eBay's own artefacts: orders are the Fulfillment `Order` template (checked against
 * eBay's sell fulfillment OpenAPI by the contract tests) with ids and lines filled in, notifications the
 * ORDER_CONFIRMATION shape of eBay's notification contract, public keys one-line PEM as eBay's SDK test data shows.
 */
const FIXTURES = new URL('../../test/fixtures/vendor/ebay/', import.meta.url);
const readFixture = <T>(name: string): T => JSON.parse(readFileSync(new URL(name, FIXTURES), 'utf8')) as T;
const ORDER_TEMPLATE = readFixture<EbayOrder>('fulfillment-order.template.json');
const NOTIFICATION_TEMPLATE = readFixture<EbayNotification<OrderConfirmationData>>('order-confirmation.notification.json');
const clone = <T>(value: T): T => structuredClone(value);

export interface EbaySimulatorOptions extends SimulatorOptions {
  /** A user access token the API accepts from the start, as if issued when the simulator started. */
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
  /**
   * Marks an order cancelled, as when the buyer cancels: its `lastModifiedDate` moves on, so getOrders lists it
   * again, and the next notification for it reads as a cancellation. eBay sends no ORDER_CONFIRMATION for it.
   */
  cancelOrder(orderId: string): void;
  /**
   * Refunds one line of an order as eBay records it: a `lineItems[].refunds` entry (amount, date, ids; eBay's
   * Order carries no units or restock there) and a `paymentSummary.refunds` entry; `lastModifiedDate` moves on.
   */
  refundLine(orderId: string, sku: string): void;
  /** Token endpoint grants so far, by grant type. */
  grants(): { refresh_token: number; client_credentials: number };
  /** Ends the life of every access token issued so far, as if their 2 hours had passed. */
  expireTokens(): void;
  /** Requests answered 401 because their access token had expired. */
  expiredTokenAnswers(): number;
  /** The app credentials and refresh token the token endpoint accepts (for tests that build their own options). */
  credentials(): { clientId: string; clientSecret: string; refreshToken: string };
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
const INVALID_TOKEN = {
  errors: [{ ...err(ErrorIds.INVALID_TOKEN, 'Invalid access token', 'REQUEST', 'OAuth'), longMessage: 'Invalid access token. Check the value of the Authorization HTTP request header.' }],
};
/** Publish attempts per notification before the simulator gives up on an endpoint that keeps failing. */
const PUBLISH_ATTEMPTS = 5;
/** eBay's user and application tokens live 7,200 s. */
const DEFAULT_TOKEN_LIFETIME_MS = 7_200_000;

export async function startEbaySimulator(options: EbaySimulatorOptions = {}): Promise<EbaySimulator> {
  const revisionLimit = options.dailyRevisionLimit ?? DAILY_REVISIONS_PER_LISTING;
  const offersPerItem = options.offersPerItem ?? 1;
  const tokenLifetimeMs = options.tokenLifetimeMs ?? DEFAULT_TOKEN_LIFETIME_MS;
  const rate = options.rateLimit ?? { perSecond: 20, burst: 40 };
  const bucket = new TokenBucket(rate.perSecond, rate.burst);
  const fulfillmentBucket = new TokenBucket(rate.perSecond, rate.burst);
  const notificationBucket = new TokenBucket(rate.perSecond, rate.burst);

  const app = { clientId: `StockRel-sim-PRD-${randomBytes(4).toString('hex')}`, clientSecret: `PRD-${randomBytes(12).toString('hex')}` };
  const refreshToken = `v^1.1#i^1#r^1#p^3#I^3#f^0#t^${randomBytes(24).toString('base64url')}`;
  const basic = basicCredential(app);
  /** Issued access tokens: what they may call and until when. */
  const tokens = new Map<string, { kind: 'user' | 'app'; expiresAt: number }>();
  const grantCounts = { refresh_token: 0, client_credentials: 0 };
  let expiredAnswers = 0;
  if (options.accessToken) tokens.set(options.accessToken, { kind: 'user', expiresAt: Date.now() + tokenLifetimeMs });

  const items = new Map<string, Item>(); // by eBay SKU
  const byHub = new Map<string, Item>();
  const offers = new Map<string, { item: Item; offer: Offer }>();
  const revisionCount = new Map<string, { day: string; count: number }>();
  const failures = new Map<string, number>();
  const orders = new Map<string, EbayOrder>();
  const keys = new Map<string, { publicKey: KeyObject; privateKey: KeyObject }>();
  let currentKid = '';
  let itemsWritten = 0;
  let seq = Math.floor(Math.random() * 1_000_000) * 1000;
  let webhookTarget: string | undefined;

  const newKey = (): string => {
    const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const kid = randomUUID();
    keys.set(kid, { publicKey, privateKey });
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
    // The seller keeps one SKU across channels: the inventory item's SKU is the hub SKU, as onboarding expects.
    const item: Item = { hubSku, sku: hubSku, quantity, offers: [] };
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

  /** `POST /identity/v1/oauth2/token`: form-encoded grants under the app's Basic credential. */
  const tokenGrant = (req: SimRequest): SimResponse => {
    const oauthError = (status: number, error: string, description: string): SimResponse => ({ status, body: { error, error_description: description } });
    if (!/^application\/x-www-form-urlencoded/.test(req.headers['content-type'] ?? '')) return oauthError(400, 'invalid_request', 'request is missing a required parameter or is otherwise malformed');
    if (req.headers.authorization !== basic) return oauthError(401, 'invalid_client', 'client authentication failed');
    const form = new URLSearchParams(req.rawBody.toString('utf8'));
    const grantType = form.get('grant_type');
    let kind: 'user' | 'app';
    if (grantType === 'refresh_token') {
      if (form.get('refresh_token') !== refreshToken) return oauthError(400, 'invalid_grant', 'the provided authorization refresh token is invalid or was issued to another client');
      kind = 'user';
      grantCounts.refresh_token += 1;
    } else if (grantType === 'client_credentials') {
      if (!form.get('scope')) return oauthError(400, 'invalid_scope', 'the requested scope is invalid, unknown, malformed, or exceeds the scope granted to the client');
      kind = 'app';
      grantCounts.client_credentials += 1;
    } else {
      return oauthError(400, 'unsupported_grant_type', 'grant type in request is not supported by the authorization server');
    }
    const token = `v^1.1#i^1#p^1#I^3#r^${kind === 'user' ? 1 : 0}#f^0#t^${randomBytes(32).toString('base64url')}`;
    tokens.set(token, { kind, expiresAt: Date.now() + tokenLifetimeMs });
    // Keep the table small: forget tokens long expired.
    if (tokens.size > 10_000) for (const [t, v] of tokens) if (v.expiresAt < Date.now() - tokenLifetimeMs) tokens.delete(t);
    return { status: 200, body: { access_token: token, expires_in: Math.max(1, Math.ceil(tokenLifetimeMs / 1000)), token_type: kind === 'user' ? 'User Access Token' : 'Application Access Token' } };
  };

  /** The caller's token, judged as eBay does: unknown or expired tokens answer 401 with error 1001. */
  const authorize = (req: SimRequest, allowApp: boolean): SimResponse | undefined => {
    const header = req.headers.authorization ?? '';
    const token = header.startsWith('Bearer ') ? header.slice('Bearer '.length) : '';
    const issued = tokens.get(token);
    if (!issued || (issued.kind === 'app' && !allowApp)) return { status: 401, body: INVALID_TOKEN };
    if (issued.expiresAt <= Date.now()) {
      expiredAnswers += 1;
      return { status: 401, body: INVALID_TOKEN };
    }
    return undefined;
  };

  const requiresJson = (req: SimRequest): SimResponse | undefined =>
    /^application\/json/.test(req.headers['content-type'] ?? '') ? undefined : { status: 415, body: { errors: [err(2004, 'Unsupported Media Type. The Content-Type header must be application/json.', 'REQUEST', 'ACCESS')] } };

  const bulkUpdate = (req: SimRequest): SimResponse => {
    const requests = (req.json as { requests?: unknown } | undefined)?.requests;
    if (!Array.isArray(requests) || requests.length === 0) {
      return { status: 400, body: { errors: [err(ErrorIds.INVALID_VALUE, 'Invalid request. Invalid value for field requests.')] } };
    }
    // "Only one SKU (one product) can be updated per call."
    const skus = new Set(requests.map((r: { sku?: unknown }) => r?.sku));
    if (requests.length > MAX_SKUS_PER_PRICE_QUANTITY_CALL || skus.size > MAX_SKUS_PER_PRICE_QUANTITY_CALL) {
      return { status: 400, body: { errors: [err(ErrorIds.INVALID_VALUE, `Invalid request. Invalid value for field requests. Only ${MAX_SKUS_PER_PRICE_QUANTITY_CALL} SKU can be updated per call.`)] } };
    }
    const responses: PriceQuantityResponse[] = [];
    let wrote = false;
    const fault = req.fault;
    for (const raw of requests as Array<{ sku?: unknown; shipToLocationAvailability?: { quantity?: unknown }; offers?: Array<{ offerId?: unknown; availableQuantity?: unknown }> }>) {
      const sku = typeof raw.sku === 'string' ? raw.sku : '';
      const offerUpdates = Array.isArray(raw.offers) ? raw.offers : [];
      // "Up to 25 offers associated with an inventory item"; duplicate offer ids are refused.
      if (offerUpdates.length > MAX_OFFERS_PER_PRICE_QUANTITY_CALL || new Set(offerUpdates.map((o) => o?.offerId)).size !== offerUpdates.length) {
        return { status: 400, body: { errors: [err(ErrorIds.INVALID_VALUE, 'Invalid request. Invalid value for field offers.')] } };
      }
      const item = items.get(sku);
      if (!item || (fault?.kind === 'item-unknown' && fault.skus.includes(item.hubSku))) {
        responses.push({ statusCode: 400, sku, errors: [err(ErrorIds.SKU_NOT_FOUND, `SKU ${sku} is not available in the system`)] });
        continue;
      }
      if (fault?.kind === 'item-locked' && fault.skus.includes(item.hubSku)) {
        responses.push({ statusCode: 500, sku, errors: [err(ErrorIds.CONCURRENT_ACCESS, 'Concurrent access of Inventory or InventoryItemGroup. Please try again later', 'APPLICATION')] });
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
        responses.push({ statusCode: 400, sku, errors: [err(ErrorIds.INVALID_VALUE, 'Invalid request. Invalid value for field shipToLocationAvailability.quantity.')] });
        continue;
      }
      const offerAnswers: PriceQuantityResponse[] = [];
      const apply: Array<() => void> = [];
      for (const o of offerUpdates) {
        const offerId = typeof o.offerId === 'string' ? o.offerId : '';
        const found = offers.get(offerId);
        if (!found || found.item !== item) {
          offerAnswers.push({ statusCode: 400, sku, offerId, errors: [err(ErrorIds.OFFER_NOT_AVAILABLE, `This Offer is not available : ${offerId}.`)] });
          continue;
        }
        if (!Number.isInteger(o.availableQuantity) || (o.availableQuantity as number) < 0) {
          offerAnswers.push({ statusCode: 400, sku, offerId, errors: [err(ErrorIds.INVALID_VALUE, 'Invalid request. Invalid value for field availableQuantity.')] });
          continue;
        }
        if (!revise(found.offer.listingId)) {
          offerAnswers.push({
            statusCode: 400,
            sku,
            offerId,
            errors: [err(ErrorIds.USER, `Any User error. This listing has been revised the maximum ${revisionLimit} times today (revision limit reached).`, 'REQUEST')],
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

  const fulfillmentError = (errorId: number, message: string): SimResponse => ({ status: 400, body: { errors: [err(errorId, message, 'REQUEST', 'API_FULFILLMENT')] } });
  /** A whole number from `min` to `max`, or undefined when the text is not one. */
  const wholeNumber = (text: string | null, fallback: number, min: number, max: number): number | undefined => {
    if (text === null) return fallback;
    const n = Number(text);
    return /^\d+$/.test(text) && n >= min && n <= max ? n : undefined;
  };

  /**
   * getOrders as eBay's sell fulfillment contract describes it: `orderIds` (at most 50; then every other parameter
   * is ignored), or `filter` with `creationdate:[start..end]`, `lastmodifieddate:[start..end]` (creationdate wins
   * when both are given) and `orderfulfillmentstatus:{…}`, with `limit` (1 to 200, default 50) and `offset`; the
   * 400 answers carry the contract's error ids. eBay documents no order of results: newest first here.
   */
  const getOrders = (req: SimRequest): SimResponse => {
    const q = req.query;
    let found = [...orders.values()];
    const ids = q.get('orderIds');
    if (ids !== null) {
      const wanted = ids.split(',').filter(Boolean);
      if (wanted.length > 50) return fulfillmentError(30900, 'Exceeded maximum number of order IDs (the current limit is 50)');
      found = wanted.map((id) => orders.get(id)).filter((o): o is EbayOrder => o !== undefined);
    } else {
      const ranges: Record<string, [number, number | undefined]> = {};
      let fulfillment: string[] | undefined;
      for (const criterion of (q.get('filter') ?? '').split(',').filter(Boolean)) {
        const colon = criterion.indexOf(':');
        const name = criterion.slice(0, colon);
        const value = criterion.slice(colon + 1);
        if (name === 'creationdate' || name === 'lastmodifieddate') {
          const range = /^\[([^\]]*?)\.\.([^\]]*)\]$/.exec(value);
          if (!range || range[1] === '') return fulfillmentError(30820, 'Start date is missing');
          const start = Date.parse(range[1]!);
          const end = range[2] === '' ? undefined : Date.parse(range[2]!);
          if (Number.isNaN(start) || (end !== undefined && Number.isNaN(end))) return fulfillmentError(30810, 'Invalid date format');
          if (start > Date.now() || (end !== undefined && end > Date.now())) return fulfillmentError(30850, "Start and end dates can't be in the future");
          if (end !== undefined && start > end) return fulfillmentError(30840, 'Start date should be before end date');
          ranges[name] = [start, end];
        } else if (name === 'orderfulfillmentstatus') {
          const statuses = /^\{([A-Z_|]+)\}$/.exec(value)?.[1]?.split('|').sort().join('|');
          if (statuses !== 'IN_PROGRESS|NOT_STARTED' && statuses !== 'FULFILLED|IN_PROGRESS') return fulfillmentError(30800, `Invalid filter value ${value} for filter ${name}`);
          fulfillment = statuses.split('|');
        } else {
          return fulfillmentError(30700, `Invalid filter name: ${name}`);
        }
      }
      const [field, range] = ranges.creationdate ? ['creationDate', ranges.creationdate] : ranges.lastmodifieddate ? ['lastModifiedDate', ranges.lastmodifieddate] : [undefined, undefined];
      if (field && range) {
        found = found.filter((o) => {
          const at = Date.parse(String(o[field]));
          return at >= range[0] && (range[1] === undefined || at <= range[1]);
        });
      }
      if (fulfillment) found = found.filter((o) => fulfillment.includes(o.orderFulfillmentStatus));
    }
    const limit = wholeNumber(q.get('limit'), 50, 1, 200);
    if (limit === undefined) return fulfillmentError(31100, `Invalid limit: ${q.get('limit') ?? ''}`);
    const offset = wholeNumber(q.get('offset'), 0, 0, Number.MAX_SAFE_INTEGER);
    if (offset === undefined) return fulfillmentError(31000, `Invalid offset: ${q.get('offset') ?? ''}`);
    found.sort((a, b) => Date.parse(b.creationDate) - Date.parse(a.creationDate) || (a.orderId < b.orderId ? -1 : 1));
    const page = found.slice(offset, offset + limit);
    const href = (o: number): string => {
      const params = new URLSearchParams(q);
      params.set('limit', String(limit));
      params.set('offset', String(o));
      return `${server.url}${ORDERS_PATH}?${params.toString()}`;
    };
    return {
      status: 200,
      body: {
        href: href(offset),
        total: found.length,
        limit,
        offset,
        orders: page,
        ...(offset + limit < found.length ? { next: href(offset + limit) } : {}),
        ...(offset > 0 ? { prev: href(Math.max(0, offset - limit)) } : {}),
      },
    };
  };

  const inventoryError = (status: number, errorId: number, message: string): SimResponse => ({ status, body: { errors: [err(errorId, message)] } });

  /** getInventoryItems: `limit` 1 to 200 (default 25) and `offset`; 400 with 25706 for other pagination values. */
  const getInventoryItems = (req: SimRequest): SimResponse => {
    const limit = wholeNumber(req.query.get('limit'), 25, 1, 200);
    const offset = wholeNumber(req.query.get('offset'), 0, 0, Number.MAX_SAFE_INTEGER);
    if (limit === undefined || offset === undefined) return inventoryError(400, 25706, 'You have provided invalid pagination values. limit and offset must be whole numbers, limit from 1 to 200.');
    const all = [...items.values()];
    const page = all.slice(offset, offset + limit);
    const href = (o: number): string => `${server.url}${INVENTORY_ITEMS_PATH}?limit=${limit}&offset=${o}`;
    return {
      status: 200,
      body: {
        href: href(offset),
        total: all.length,
        size: page.length,
        limit,
        inventoryItems: page.map((item) => ({
          sku: item.sku,
          locale: 'en_US',
          condition: 'NEW',
          product: { title: `Item ${item.sku}` },
          availability: { shipToLocationAvailability: { quantity: item.quantity } },
        })),
        ...(offset + limit < all.length ? { next: href(offset + limit) } : {}),
      },
    };
  };

  /** getOffers for one SKU: every offer of it, published here; 404 when the SKU has none. */
  const getOffers = (req: SimRequest): SimResponse => {
    const sku = req.query.get('sku');
    if (!sku || sku.length > 50) return inventoryError(400, ErrorIds.INVALID_VALUE, 'Invalid value for sku.');
    const limit = wholeNumber(req.query.get('limit'), 100, 1, 200);
    const offset = wholeNumber(req.query.get('offset'), 0, 0, Number.MAX_SAFE_INTEGER);
    if (limit === undefined || offset === undefined) return inventoryError(400, 25706, 'You have provided invalid pagination values.');
    const item = items.get(sku);
    if (!item || item.offers.length === 0) return inventoryError(404, ErrorIds.OFFER_NOT_AVAILABLE, `This Offer is not available : ${sku}.`);
    const page = item.offers.slice(offset, offset + limit);
    return {
      status: 200,
      body: {
        href: `${server.url}${OFFERS_PATH}?sku=${encodeURIComponent(sku)}&limit=${limit}&offset=${offset}`,
        total: item.offers.length,
        size: page.length,
        limit,
        offers: page.map((offer) => ({
          offerId: offer.offerId,
          sku: item.sku,
          marketplaceId: 'EBAY_US',
          format: 'FIXED_PRICE',
          availableQuantity: offer.availableQuantity,
          status: 'PUBLISHED',
          listing: { listingId: offer.listingId, listingStatus: 'ACTIVE', soldQuantity: 0 },
        })),
      },
    };
  };

  const route = (req: SimRequest): SimResponse => {
    if (req.method === 'POST' && req.path === TOKEN_PATH) return tokenGrant(req);
    const isPublicKey = req.method === 'GET' && req.path.startsWith(PUBLIC_KEY_PATH);
    const denied = authorize(req, isPublicKey);
    if (denied) return denied;
    // Each eBay API has its own quota: the Inventory API's limit does not slow the Fulfillment API's
    // order reads or the Notification API's key lookups.
    const inventoryCall = req.path.startsWith('/sell/inventory/');
    const slot = (inventoryCall ? bucket : req.path.startsWith('/sell/fulfillment/') ? fulfillmentBucket : notificationBucket).take();
    if (!slot.ok) {
      return {
        status: 429,
        body: { errors: [err(ErrorIds.RATE_LIMITED, 'Too many requests. The request limit has been reached for the resource.', 'REQUEST', 'ACCESS')] },
      };
    }
    if (req.method === 'POST' && req.path === BULK_UPDATE_PATH) return requiresJson(req) ?? bulkUpdate(req);
    if (req.method === 'POST' && req.path === BULK_GET_PATH) {
      const unsupported = requiresJson(req);
      if (unsupported) return unsupported;
      const requests = (req.json as { requests?: Array<{ sku?: string }> } | undefined)?.requests;
      if (!Array.isArray(requests) || requests.length === 0 || requests.length > MAX_BULK_GET_REQUESTS) {
        return { status: 400, body: { errors: [err(ErrorIds.INVALID_VALUE, 'Invalid request. Invalid value for field requests.')] } };
      }
      return {
        status: 200,
        body: {
          responses: requests.map(({ sku = '' }) => {
            const item = items.get(sku);
            return item
              ? { statusCode: 200, sku, inventoryItem: { sku, availability: { shipToLocationAvailability: { quantity: item.quantity } } } }
              : { statusCode: 400, sku, errors: [err(ErrorIds.SKU_NOT_FOUND, `SKU ${sku} is not available in the system`)] };
          }),
        },
      };
    }
    if (req.method === 'GET' && req.path === ORDERS_PATH) return getOrders(req);
    if (req.method === 'GET' && req.path === INVENTORY_ITEMS_PATH) return getInventoryItems(req);
    if (req.method === 'GET' && req.path === OFFERS_PATH) return getOffers(req);
    if (req.method === 'GET' && req.path.startsWith(ORDER_PATH)) {
      const order = orders.get(decodeURIComponent(req.path.slice(ORDER_PATH.length)));
      return order ? { status: 200, body: order } : { status: 404, body: { errors: [err(32100, `Invalid order ID: ${req.path.slice(ORDER_PATH.length)}`, 'REQUEST', 'API_FULFILLMENT')] } };
    }
    if (isPublicKey) {
      const key = keys.get(decodeURIComponent(req.path.slice(PUBLIC_KEY_PATH.length)));
      return key
        ? { status: 200, body: { key: ebayPublicKeyText(key.publicKey), algorithm: 'ECDSA', digest: 'SHA1' } }
        : { status: 404, body: { errors: [err(ErrorIds.PUBLIC_KEY_NOT_FOUND, 'The specified key id is invalid.', 'REQUEST', 'API_NOTIFICATION')] } };
    }
    return { status: 404, body: { errors: [err(2002, 'Resource not found', 'REQUEST', 'ACCESS')] } };
  };

  const systemError = { errors: [err(ErrorIds.SYSTEM, 'A system error has occurred.', 'APPLICATION')] };
  const server = await startSimServer({
    name: 'ebay',
    port: options.port,
    latency: options.latency,
    route,
    itemFaults: ['item-locked', 'item-unknown'],
    isWrite: (req) => req.method === 'POST' && req.path === BULK_UPDATE_PATH,
    downResponse: { status: 503, body: systemError },
    serverErrorResponse: (status) => ({ status, body: systemError }),
    echoErrorResponse: (echoed) => ({
      status: 400,
      body: { errors: [{ ...err(ErrorIds.INVALID_VALUE, 'Invalid request.'), longMessage: `Invalid request: ${JSON.stringify(echoed)}` }] },
    }),
    throttleResponse: (retryAfter) => ({
      status: 429,
      headers: { 'retry-after': String(Math.max(1, Math.ceil(retryAfter / 1000))) },
      body: { errors: [err(ErrorIds.RATE_LIMITED, 'Too many requests. The request limit has been reached for the resource.', 'REQUEST', 'ACCESS')] },
    }),
  });

  const signedHeaders = (rawBody: Buffer | string): Record<string, string> => ({
    'content-type': 'application/json',
    [SIGNATURE_HEADER]: signNotification(rawBody, currentKid, keys.get(currentKid)!.privateKey),
  });

  /** eBay publishes a notification again when the endpoint does not acknowledge it, counting the attempts. */
  const deliver = async (notification: EbayNotification<OrderConfirmationData>): Promise<void> => {
    if (!webhookTarget) throw new Error('eBay simulator: no webhook target set');
    for (let attempt = notification.notification.publishAttemptCount; ; attempt++) {
      const body = JSON.stringify({ ...notification, notification: { ...notification.notification, publishAttemptCount: attempt } });
      const res = await request(webhookTarget, { method: 'POST', headers: signedHeaders(body), body });
      await res.body.dump();
      if (res.statusCode < 300) return;
      if (attempt >= PUBLISH_ATTEMPTS) throw new Error(`eBay simulator: notification answered ${res.statusCode} ${attempt} times`);
      await new Promise((resolve) => setTimeout(resolve, 250 * 2 ** attempt));
    }
  };

  /** One ORDER_CONFIRMATION, built from eBay's example: eBay sends one per line item, each naming the order. */
  const notificationFor = (order: EbayOrder, attempt: number): EbayNotification<OrderConfirmationData> => {
    const notification = clone(NOTIFICATION_TEMPLATE);
    notification.notification.notificationId = `${randomUUID()}_${randomUUID()}`;
    notification.notification.eventDate = order.creationDate;
    notification.notification.publishDate = new Date().toISOString();
    notification.notification.publishAttemptCount = attempt;
    notification.notification.data.order = {
      orderId: order.orderId,
      orderLineItems: order.lineItems.map((line) => ({ orderLineItemId: line.lineItemId, listingId: line.legacyItemId, quantity: line.quantity })),
    };
    return notification;
  };

  const shownFor = (item: Item): number => Math.min(item.quantity, ...item.offers.map((o) => o.availableQuantity));

  return {
    url: server.url,
    connectorOptions(skus) {
      const listings: EbayOptions['listings'] = {};
      for (const sku of skus) {
        const item = ensureItem(sku);
        listings[sku] = { sku: item.sku, offerIds: item.offers.map((o) => o.offerId) };
      }
      return { baseUrl: server.url, clientId: app.clientId, clientSecret: app.clientSecret, refreshToken, listings };
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
    stats: () => ({ ...server.counters, itemsWritten, expiredTokenAnswers: expiredAnswers, tokenGrants: grantCounts.refresh_token + grantCounts.client_credentials }),
    setFault: server.setFault,
    setWebhookTarget(url) {
      webhookTarget = url;
    },
    signWebhook: (rawBody) => signedHeaders(rawBody),
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
      if (!order) return;
      order.cancelStatus = { cancelState: 'CANCELED', cancelRequests: [] };
      order.lastModifiedDate = new Date().toISOString();
    },
    refundLine(orderId, sku) {
      const order = orders.get(orderId);
      const line = order?.lineItems.find((l) => l.sku === sku);
      if (!order || !line) throw new Error(`eBay simulator: order ${orderId} has no line for ${sku}`);
      const now = new Date().toISOString();
      const refundId = nextId(10);
      const amount = clone(line.total as { value: string; currency: string });
      line.refunds = [...((line.refunds as unknown[] | undefined) ?? []), { amount, refundDate: now, refundId, refundReferenceId: `R${refundId}` }];
      const summary = order.paymentSummary as { refunds?: unknown[] } | undefined;
      if (summary) summary.refunds = [...(summary.refunds ?? []), { amount, refundDate: now, refundId, refundReferenceId: `R${refundId}`, refundStatus: 'REFUNDED' }];
      order.lastModifiedDate = now;
    },
    grants: () => ({ ...grantCounts }),
    expireTokens() {
      const past = Date.now() - 1;
      for (const issued of tokens.values()) issued.expiresAt = Math.min(issued.expiresAt, past);
    },
    expiredTokenAnswers: () => expiredAnswers,
    credentials: () => ({ ...app, refreshToken }),
    async placeOrder(lines, delivery: WebhookDelivery = {}) {
      const orderId = `${nextId(2)}-${nextId(5)}-${nextId(5)}`;
      const now = new Date().toISOString();
      const order = clone(ORDER_TEMPLATE);
      const lineTemplate = order.lineItems[0]!;
      Object.assign(order, { orderId, creationDate: now, lastModifiedDate: now });
      order.cancelStatus = { cancelState: 'NONE_REQUESTED', cancelRequests: [] };
      order.lineItems = lines.map((line) => {
        const item = ensureItem(line.sku);
        item.quantity = Math.max(0, item.quantity - line.qty);
        for (const offer of item.offers) offer.availableQuantity = Math.max(0, offer.availableQuantity - line.qty);
        return { ...clone(lineTemplate), lineItemId: nextId(14), legacyItemId: item.offers[0]?.listingId ?? nextId(12), sku: item.sku, title: `Item ${item.sku}`, quantity: line.qty };
      });
      orders.set(orderId, order);
      // Lost for good: the order is on eBay (getOrder and getOrders list it), no notification is ever published.
      if (delivery.drop) return { orderId };
      // eBay sends one ORDER_CONFIRMATION per line item; out of order, a re-send can arrive before the first.
      let sequence = order.lineItems.map(() => notificationFor(order, 1));
      if (delivery.outOfOrder) sequence = [notificationFor(order, 2), ...sequence];
      for (let i = 0; i < (delivery.times ?? 1); i++) for (const notification of sequence) await deliver(notification);
      return { orderId };
    },
    close: server.close,
  };
}
