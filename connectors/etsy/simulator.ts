import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { request } from 'undici';
import { type SimulatorHandle, type SimulatorOptions, TokenBucket, type WebhookDelivery } from '../../core/sdk.ts';
import { FixedWindowCounter } from '../_kit/rate-window.ts';
import { startSimServer, type SimRequest, type SimResponse } from '../_kit/sim-server.ts';
import { standardWebhookHeaders } from '../_kit/standard-webhooks.ts';
import { API_PREFIX, MAX_OFFERING_QUANTITY, MAX_PAGE_LIMIT, RateHeaders, receiptPath, TOKEN_PATH, type EtsyInventory, type EtsyProduct } from './api.ts';
import type { EtsyOptions } from './options.ts';

/**
 * Etsy's own example of an order webhook (test/fixtures/vendor/etsy/SOURCE): every delivery is this body
 * with the receipt's URL and shop filled in.
 */
const ORDER_PAID_EXAMPLE = JSON.parse(readFileSync(new URL('../../test/fixtures/vendor/etsy/webhook-order-paid.json', import.meta.url), 'utf8')) as Record<string, unknown>;

/** Access tokens live one hour on Etsy. */
const TOKEN_LIFETIME_MS = 3_600_000;

export interface EtsySimulatorOptions extends SimulatorOptions {
  keystring?: string;
  sharedSecret?: string;
  /** `<user id>.<token>`: the first access token; the simulator issues the next ones through its token endpoint. */
  accessToken?: string;
  /** `<user id>.<token>`: the first refresh token. Etsy issues a new one at every refresh and retires the one presented. */
  refreshToken?: string;
  shopId?: number;
  /** Secret the simulator signs webhooks with. */
  webhookSecret?: string;
  /** Requests per day per app. Default 10,000. */
  dailyLimit?: number;
  /** Products (variations) per listing when the simulator creates listings for hub SKUs. Default 2. */
  productsPerListing?: number;
}

export interface EtsySimulator extends SimulatorHandle<EtsyOptions> {
  /** The inventory of a listing as Etsy stores it (read shape). */
  inventory(listingId: number): EtsyInventory | undefined;
  /** Listing id holding a hub SKU. */
  listingOf(sku: string): number | undefined;
  /** Marks a receipt cancelled, as when the seller cancels the order (getShopReceipts then lists it as changed). */
  cancelReceipt(receiptId: number): void;
  /**
   * Refunds a receipt as the seller does in Etsy's back office: a ShopRefund joins `refunds` and the status becomes
   * `fully refunded` or `partially refunded`. Etsy's receipt says which amount, never which units or whether they
   * went back into stock.
   */
  refundReceipt(receiptId: number, full: boolean): void;
  /** Sets a listing's state (`active`, `sold_out`, `inactive`...), as the seller or Etsy does. */
  setListingState(listingId: number, state: string): void;
  /** The shop the simulated seller runs. */
  shopId: number;
  /** An order Etsy holds (stock taken, receipt readable) without sending its webhook. */
  recordOrder(lines: ReadonlyArray<{ sku: string; qty: number }>): Promise<{ orderId: string }>;
  /** The receipt as getShopReceipt answers it. */
  receipt(receiptId: number): Record<string, unknown> | undefined;
  /** Refresh-token grants answered so far. */
  refreshes(): number;
}

/** The custom variation property Etsy gives sellers' own variations. */
const VARIANT_PROPERTY = 513;

interface Listing {
  listingId: number;
  inventory: EtsyInventory;
  state: string;
  createdSeconds: number;
}

/** A receipt as getShopReceipt answers it: the fields of the document's ShopReceipt schema. */
type Receipt = Record<string, unknown> & { receipt_id: number; status: string; transactions: Array<Record<string, unknown>> };

const money = (amount: number): { amount: number; divisor: number; currency_code: string } => ({ amount, divisor: 100, currency_code: 'USD' });

const READ_ONLY_PRODUCT_FIELDS = ['product_id', 'is_deleted'];
const READ_ONLY_OFFERING_FIELDS = ['offering_id', 'is_deleted'];

export async function startEtsySimulator(options: EtsySimulatorOptions = {}): Promise<EtsySimulator> {
  const keystring = options.keystring ?? 'etsysimkeystring0001';
  const sharedSecret = options.sharedSecret ?? 'etsysimsecret';
  const userId = '12345678';
  const tokenLifetimeMs = options.tokenLifetimeMs ?? TOKEN_LIFETIME_MS;
  /** Access tokens issued, with the time each expires; refresh tokens still valid. */
  const accessTokens = new Map<string, number>([[options.accessToken ?? `${userId}.etsy-sim-access-token`, Date.now() + tokenLifetimeMs]]);
  const firstAccessToken = [...accessTokens.keys()][0]!;
  const refreshTokens = new Set<string>([options.refreshToken ?? `${userId}.etsy-sim-refresh-token`]);
  const firstRefreshToken = [...refreshTokens][0]!;
  let refreshCount = 0;
  const shopId = options.shopId ?? 41_000_001;
  const webhookSecret = options.webhookSecret ?? `whsec_${randomBytes(24).toString('base64')}`;
  const perListing = options.productsPerListing ?? 2;
  const rate = options.rateLimit ?? { perSecond: 10, burst: 10 };
  const dailyLimit = options.dailyLimit ?? 10_000;
  const second = new TokenBucket(rate.perSecond, rate.burst);
  const day = new FixedWindowCounter(dailyLimit, 86_400_000);

  const listings = new Map<number, Listing>();
  const where = new Map<string, Listing>(); // hub SKU → listing
  const receipts = new Map<number, Receipt>();

  let nextId = 1_000_000_000 + Math.floor(Math.random() * 1_000_000) * 1000;
  const id = (): number => (nextId += 1);
  let itemsWritten = 0;
  let remainingToday = dailyLimit;
  let webhookTarget: string | undefined;
  let lastListing: Listing | undefined;

  // Sellers give a product the same SKU on every channel; the hub SKU is that SKU here, so onboarding matches it.
  const productSku = (hubSku: string): string => hubSku;
  const productOf = (hubSku: string): EtsyProduct | undefined => where.get(hubSku)?.inventory.products.find((p) => p.sku === productSku(hubSku));

  /** Variations need property values once a listing holds more than one product. */
  const normalizeVariations = (listing: Listing): void => {
    const inv = listing.inventory;
    if (inv.products.length < 2) return;
    for (const product of inv.products) {
      if (product.property_values.length === 0) {
        product.property_values = [{ property_id: VARIANT_PROPERTY, property_name: 'Variant', scale_id: null, scale_name: null, value_ids: [id()], values: [product.sku] }];
      }
    }
    inv.quantity_on_property = [VARIANT_PROPERTY];
    inv.sku_on_property = [VARIANT_PROPERTY];
  };

  const ensure = (hubSku: string, quantity = 0): EtsyProduct => {
    const existing = productOf(hubSku);
    if (existing) return existing;
    let listing = lastListing;
    if (!listing || listing.inventory.products.length >= perListing) {
      listing = {
        listingId: id(),
        inventory: { products: [], price_on_property: [], quantity_on_property: [], sku_on_property: [] },
        state: 'active',
        createdSeconds: Math.floor(Date.now() / 1000),
      };
      listings.set(listing.listingId, listing);
      lastListing = listing;
    }
    const product: EtsyProduct = {
      product_id: id(),
      sku: productSku(hubSku),
      is_deleted: false,
      offerings: [{ offering_id: id(), quantity, is_enabled: true, is_deleted: false, price: { amount: 1250, divisor: 100, currency_code: 'USD' } }],
      property_values: [],
    };
    listing.inventory.products.push(product);
    where.set(hubSku, listing);
    normalizeVariations(listing);
    return product;
  };
  for (const [sku, qty] of Object.entries(options.skus ?? {})) ensure(sku, qty);

  const rateHeaders = (remainingSecond: number): Record<string, string> => ({
    [RateHeaders.LIMIT_PER_SECOND]: String(rate.perSecond),
    [RateHeaders.REMAINING_THIS_SECOND]: String(Math.max(0, Math.floor(remainingSecond))),
    [RateHeaders.LIMIT_PER_DAY]: String(dailyLimit),
    [RateHeaders.REMAINING_TODAY]: String(remainingToday),
  });

  const bad = (error: string): SimResponse => ({ status: 400, body: { error } });

  /**
   * A query parameter as getShopReceipts / getListingsByShop declare it: an integer within bounds, or one of an
   * enum; the error text when the value is not acceptable.
   */
  const intParam = (query: URLSearchParams, name: string, min: number, max: number, fallback: number | undefined): number | string | undefined => {
    const raw = query.get(name);
    if (raw === null) return fallback;
    if (!/^\d+$/.test(raw)) return `Expected type 'integer' for parameter '${name}'`;
    const value = Number(raw);
    if (value < min || value > max) return `Parameter '${name}' must be between ${min} and ${max}`;
    return value;
  };
  const enumParam = (query: URLSearchParams, name: string, allowed: readonly string[], fallback: string): string | { error: string } => {
    const raw = query.get(name) ?? fallback;
    return allowed.includes(raw) ? raw : { error: `Parameter '${name}' must be one of ${allowed.join(', ')}` };
  };
  const SORT_ORDERS = ['asc', 'ascending', 'desc', 'descending', 'up', 'down'];
  const ascending = (order: string): boolean => order === 'asc' || order === 'ascending' || order === 'up';

  /** getShopReceipts: the shop's receipts, filtered by creation and change times, sorted, one `limit`/`offset` page. */
  const listReceipts = (query: URLSearchParams): SimResponse => {
    const limit = intParam(query, 'limit', 1, MAX_PAGE_LIMIT, 25);
    const offset = intParam(query, 'offset', 0, Number.MAX_SAFE_INTEGER, 0);
    const bounds: Record<string, number | undefined> = {};
    for (const name of ['min_created', 'max_created', 'min_last_modified', 'max_last_modified']) {
      const value = intParam(query, name, 946_684_800, Number.MAX_SAFE_INTEGER, undefined);
      if (typeof value === 'string') return bad(value);
      bounds[name] = value;
    }
    if (typeof limit !== 'number') return bad(limit ?? 'limit');
    if (typeof offset !== 'number') return bad(offset ?? 'offset');
    const sortOn = enumParam(query, 'sort_on', ['created', 'updated', 'receipt_id'], 'created');
    const sortOrder = enumParam(query, 'sort_order', SORT_ORDERS, 'desc');
    if (typeof sortOn !== 'string') return bad(sortOn.error);
    if (typeof sortOrder !== 'string') return bad(sortOrder.error);
    const flags: Record<string, boolean | undefined> = {};
    for (const name of ['was_paid', 'was_shipped', 'was_delivered', 'was_canceled']) {
      const raw = query.get(name);
      if (raw !== null && raw !== 'true' && raw !== 'false') return bad(`Expected type 'boolean' for parameter '${name}'`);
      flags[name] = raw === null ? undefined : raw === 'true';
    }
    const within = (value: number, min: number | undefined, max: number | undefined): boolean => (min === undefined || value >= min) && (max === undefined || value <= max);
    const key = (r: Receipt): number => (sortOn === 'updated' ? (r.updated_timestamp as number) : sortOn === 'receipt_id' ? r.receipt_id : (r.created_timestamp as number));
    const matching = [...receipts.values()]
      .filter((r) => within(r.created_timestamp as number, bounds.min_created, bounds.max_created))
      .filter((r) => within(r.updated_timestamp as number, bounds.min_last_modified, bounds.max_last_modified))
      .filter((r) => flags.was_paid === undefined || r.is_paid === flags.was_paid)
      .filter((r) => flags.was_shipped === undefined || r.is_shipped === flags.was_shipped)
      .filter((r) => flags.was_delivered === undefined || !flags.was_delivered)
      .filter((r) => flags.was_canceled === undefined || (r.status === 'canceled') === flags.was_canceled)
      .sort((a, b) => (key(a) - key(b) || a.receipt_id - b.receipt_id) * (ascending(sortOrder) ? 1 : -1));
    return { status: 200, body: { count: matching.length, results: matching.slice(offset, offset + limit) } };
  };

  /** getListingsByShop: the shop's listings in one state, newest first, one `limit`/`offset` page. */
  const listListings = (query: URLSearchParams): SimResponse => {
    const limit = intParam(query, 'limit', 1, MAX_PAGE_LIMIT, 25);
    const offset = intParam(query, 'offset', 0, Number.MAX_SAFE_INTEGER, 0);
    if (typeof limit !== 'number') return bad(limit ?? 'limit');
    if (typeof offset !== 'number') return bad(offset ?? 'offset');
    const state = enumParam(query, 'state', ['active', 'inactive', 'sold_out', 'draft', 'expired'], 'active');
    if (typeof state !== 'string') return bad(state.error);
    const matching = [...listings.values()].filter((l) => l.state === state).sort((a, b) => b.createdSeconds - a.createdSeconds || b.listingId - a.listingId);
    return { status: 200, body: { count: matching.length, results: matching.slice(offset, offset + limit).map(shopListing) } };
  };

  /** A listing as the document's ShopListing schema has it. */
  const shopListing = (listing: Listing): Record<string, unknown> => {
    const quantity = listing.inventory.products.reduce((sum, p) => sum + (p.offerings[0]?.quantity ?? 0), 0);
    return {
      listing_id: listing.listingId,
      user_id: Number(userId),
      shop_id: shopId,
      title: `Listing ${listing.listingId}: ${listing.inventory.products.map((p) => p.sku).join(', ')}`,
      description: 'A simulated listing.',
      state: listing.state,
      creation_timestamp: listing.createdSeconds,
      created_timestamp: listing.createdSeconds,
      ending_timestamp: listing.createdSeconds + 120 * 86_400,
      original_creation_timestamp: listing.createdSeconds,
      last_modified_timestamp: listing.createdSeconds,
      updated_timestamp: listing.createdSeconds,
      state_timestamp: listing.createdSeconds,
      quantity,
      shop_section_id: null,
      featured_rank: -1,
      url: `https://www.etsy.com/listing/${listing.listingId}/simulated`,
      num_favorers: 0,
      non_taxable: false,
      is_taxable: true,
      is_customizable: false,
      is_personalizable: false,
      personalization_is_required: false,
      personalization_char_count_max: null,
      personalization_instructions: null,
      listing_type: 'physical',
      tags: [],
      materials: [],
      shipping_profile_id: null,
      return_policy_id: null,
      processing_min: null,
      processing_max: null,
      who_made: 'i_did',
      when_made: 'made_to_order',
      is_supply: false,
      item_weight: null,
      item_weight_unit: 'oz',
      item_length: null,
      item_width: null,
      item_height: null,
      item_dimensions_unit: 'in',
      is_private: false,
      style: [],
      file_data: '',
      has_variations: listing.inventory.products.length > 1,
      should_auto_renew: false,
      language: 'en-US',
      price: money(1250),
      taxonomy_id: null,
    };
  };

  /** Validates a PUT body against the write shape; the error text when it is not acceptable. */
  const validate = (body: unknown, listing: Listing): string | undefined => {
    const b = body as Record<string, unknown> | undefined;
    if (!b || !Array.isArray(b.products) || b.products.length === 0) return 'Missing Input Parameter: [products]';
    for (const field of ['price_on_property', 'quantity_on_property', 'sku_on_property']) {
      if (b[field] !== undefined && !Array.isArray(b[field])) return `Expected type 'array' for parameter '${field}'`;
    }
    const variations = ((b.quantity_on_property as unknown[] | undefined) ?? listing.inventory.quantity_on_property).length > 0 || (b.products as unknown[]).length > 1;
    for (const [i, raw] of (b.products as Array<Record<string, unknown>>).entries()) {
      for (const field of READ_ONLY_PRODUCT_FIELDS) if (field in raw) return `Unexpected input parameter '${field}' in products[${i}]`;
      if (typeof raw.sku !== 'string' && raw.sku !== undefined) return `Expected type 'string' for products[${i}].sku`;
      if (raw.property_values !== undefined && !Array.isArray(raw.property_values)) return `Expected type 'array' for products[${i}].property_values`;
      const propertyValues = (raw.property_values ?? []) as Array<Record<string, unknown>>;
      if (variations && propertyValues.length === 0) return "Property values can't be empty";
      for (const pv of propertyValues) {
        if ('scale_name' in pv) return `Unexpected input parameter 'scale_name' in products[${i}].property_values`;
        if (!Number.isInteger(pv.property_id) || !Array.isArray(pv.values)) return `Invalid property value in products[${i}]`;
      }
      if (!Array.isArray(raw.offerings) || raw.offerings.length === 0) return `Missing Input Parameter: [products[${i}].offerings]`;
      for (const offering of raw.offerings as Array<Record<string, unknown>>) {
        for (const field of READ_ONLY_OFFERING_FIELDS) if (field in offering) return `Unexpected input parameter '${field}' in products[${i}].offerings`;
        if (typeof offering.price !== 'number' || !(offering.price >= 0.2)) return `Expected type 'float' (at least 0.20) for products[${i}].offerings.price`;
        if (!Number.isInteger(offering.quantity) || (offering.quantity as number) < 0 || (offering.quantity as number) > MAX_OFFERING_QUANTITY) {
          return `Quantity must be an integer between 0 and ${MAX_OFFERING_QUANTITY} in products[${i}]`;
        }
        if (typeof offering.is_enabled !== 'boolean') return `Missing Input Parameter: [products[${i}].offerings.is_enabled]`;
      }
    }
    return undefined;
  };

  const putInventory = (req: SimRequest, listing: Listing): SimResponse => {
    const problem = validate(req.json, listing);
    if (problem) return bad(problem);
    const body = req.json as {
      products: Array<{ sku?: string; property_values?: EtsyProduct['property_values']; offerings: Array<{ price: number; quantity: number; is_enabled: boolean }> }>;
      price_on_property?: number[];
      quantity_on_property?: number[];
      sku_on_property?: number[];
    };
    const before = new Map(listing.inventory.products.map((p) => [p.sku, p.offerings[0]?.quantity]));
    // Etsy reissues product and offering ids on every write; products left out are deleted.
    listing.inventory = {
      products: body.products.map((p) => ({
        product_id: id(),
        sku: p.sku ?? '',
        is_deleted: false,
        property_values: (p.property_values ?? []).map((pv) => ({ ...pv, scale_name: null })),
        offerings: p.offerings.map((o) => ({
          offering_id: id(),
          quantity: o.quantity,
          is_enabled: o.is_enabled,
          is_deleted: false,
          price: { amount: Math.round(o.price * 100), divisor: 100, currency_code: 'USD' },
        })),
      })),
      price_on_property: body.price_on_property ?? [],
      quantity_on_property: body.quantity_on_property ?? [],
      sku_on_property: body.sku_on_property ?? [],
    };
    for (const product of listing.inventory.products) if (before.get(product.sku) !== product.offerings[0]?.quantity) itemsWritten += 1;
    return { status: 200, body: listing.inventory, wrote: true };
  };

  /** `POST /v3/public/oauth/token` with `grant_type=refresh_token`: a new access token and a new refresh token. */
  const refreshGrant = (req: SimRequest): SimResponse => {
    if (!/^application\/x-www-form-urlencoded/.test(String(req.headers['content-type'] ?? ''))) return { status: 400, body: { error: 'invalid_request', error_description: 'body must be application/x-www-form-urlencoded' } };
    const form = new URLSearchParams(req.rawBody.toString('utf8'));
    if (form.get('grant_type') !== 'refresh_token') return { status: 400, body: { error: 'unsupported_grant_type', error_description: 'grant_type must be refresh_token' } };
    if (form.get('client_id') !== keystring) return { status: 400, body: { error: 'invalid_client', error_description: 'client_id is invalid' } };
    const presented = form.get('refresh_token') ?? '';
    if (!refreshTokens.has(presented)) return { status: 400, body: { error: 'invalid_grant', error_description: 'refresh_token is revoked' } };
    refreshTokens.delete(presented);
    const issued = { access: `${userId}.${randomBytes(24).toString('base64url')}`, refresh: `${userId}.${randomBytes(24).toString('base64url')}` };
    accessTokens.set(issued.access, Date.now() + tokenLifetimeMs);
    refreshTokens.add(issued.refresh);
    refreshCount += 1;
    return { status: 200, body: { access_token: issued.access, token_type: 'Bearer', expires_in: Math.max(1, Math.round(tokenLifetimeMs / 1000)), refresh_token: issued.refresh } };
  };

  const route = (req: SimRequest): SimResponse => {
    // The token endpoint authenticates the app by `client_id` in the form, not by x-api-key.
    if (req.method === 'POST' && req.path === TOKEN_PATH) return refreshGrant(req);
    if (req.headers['x-api-key'] !== `${keystring}:${sharedSecret}`) {
      return { status: 403, body: { error: "Invalid API key: x-api-key must be '<keystring>:<shared secret>' of an active app." } };
    }
    const slot = second.take();
    if (!slot.ok) {
      return { status: 429, headers: { ...rateHeaders(0), 'retry-after': String(Math.max(1, Math.ceil(slot.retryAfterMs / 1000))) }, body: { error: 'You have exceeded your per-second rate limit.' } };
    }
    const daily = day.take();
    remainingToday = daily.remaining;
    if (!daily.ok) {
      return { status: 429, headers: { ...rateHeaders(slot.remaining), 'retry-after': String(Math.ceil(daily.resetMs / 1000)) }, body: { error: 'You have exceeded your daily rate limit.' } };
    }
    const answer = (response: SimResponse): SimResponse => ({ ...response, headers: { ...rateHeaders(slot.remaining), ...response.headers } });
    const bearer = /^Bearer (\S+)$/.exec(String(req.headers.authorization ?? ''))?.[1];
    const expiresAt = bearer === undefined ? undefined : accessTokens.get(bearer);
    if (expiresAt === undefined) return answer({ status: 401, body: { error: 'invalid_token', error_description: 'access token is invalid' } });
    if (expiresAt <= Date.now()) return answer({ status: 401, body: { error: 'invalid_token', error_description: 'access token is expired' } });

    const inventoryMatch = new RegExp(`^${API_PREFIX}/listings/(\\d+)/inventory$`).exec(req.path);
    if (inventoryMatch) {
      const listing = listings.get(Number(inventoryMatch[1]));
      if (!listing) return answer({ status: 404, body: { error: `Listing ${inventoryMatch[1]} not found` } });
      if (req.method === 'GET') {
        // An `item-unknown` fault: the product is gone from its listing, as when the seller deleted that variation.
        const hidden = new Set(req.fault?.kind === 'item-unknown' ? req.fault.skus : []);
        const products = listing.inventory.products.filter((p) => ![...hidden].some((sku) => productSku(sku) === p.sku));
        return answer({ status: 200, body: { ...listing.inventory, products } });
      }
      if (req.method === 'PUT') return answer(putInventory(req, listing));
    }
    const shopMatch = new RegExp(`^${API_PREFIX}/shops/(\\d+)/(receipts|listings)$`).exec(req.path);
    if (req.method === 'GET' && shopMatch) {
      // The token belongs to this shop's owner: another shop's receipts and inactive listings are not theirs to read.
      if (Number(shopMatch[1]) !== shopId) return answer({ status: 403, body: { error: 'The user does not own this shop' } });
      return answer(shopMatch[2] === 'receipts' ? listReceipts(req.query) : listListings(req.query));
    }
    const receiptMatch = new RegExp(`^${API_PREFIX}/shops/(\\d+)/receipts/(\\d+)$`).exec(req.path);
    if (req.method === 'GET' && receiptMatch) {
      const receipt = Number(receiptMatch[1]) === shopId ? receipts.get(Number(receiptMatch[2])) : undefined;
      return answer(receipt ? { status: 200, body: receipt } : { status: 404, body: { error: `Could not find a Shop Receipt with receipt_id = ${receiptMatch[2]}` } });
    }
    return answer({ status: 404, body: { error: 'Resource not found' } });
  };

  const server = await startSimServer({
    name: 'Etsy',
    // A product gone from its listing is Etsy's per-item "unknown"; Etsy documents no per-item "locked"
    // answer for listing inventory, so `item-locked` is refused rather than faked.
    itemFaults: ['item-unknown'],
    port: options.port,
    latency: options.latency,
    route,
    downResponse: { status: 503, body: { error: 'Service Unavailable' } },
    // Etsy's answer to a failing call, as quoted in its tracker (etsy/open-api #549).
    serverErrorResponse: (status) => ({ status, body: { error: 'Server Error' } }),
    throttleResponse: (retryAfterMs) => ({
      status: 429,
      headers: { ...rateHeaders(0), 'retry-after': String(Math.max(1, Math.ceil(retryAfterMs / 1000))) },
      body: { error: 'You have exceeded your per-second rate limit.' },
    }),
  });

  /** The headers Etsy sends with a webhook body: Standard Webhooks, signed with the endpoint's secret. */
  const signedHeaders = (rawBody: Buffer | string, messageId = `msg_${randomUUID().replace(/-/g, '')}`): Record<string, string> => ({
    'content-type': 'application/json',
    ...standardWebhookHeaders(webhookSecret, messageId, rawBody),
  });

  const deliver = async (messageId: string, body: string): Promise<void> => {
    if (!webhookTarget) throw new Error('Etsy simulator: no webhook target set');
    const res = await request(webhookTarget, { method: 'POST', headers: signedHeaders(body, messageId), body });
    await res.body.dump();
    if (res.statusCode >= 300) throw new Error(`Etsy simulator: webhook answered ${res.statusCode}`);
  };

  /** Records an order as Etsy holds it: the stock comes off the listing and a receipt with the document's fields exists. */
  const record = (lines: ReadonlyArray<{ sku: string; qty: number }>): number => {
    const now = Math.floor(Date.now() / 1000);
    const receiptId = id();
    const transactions = lines.map((line) => {
      const product = ensure(line.sku);
      for (const offering of product.offerings) offering.quantity = Math.max(0, offering.quantity - line.qty);
      return {
        transaction_id: id(),
        title: `Item ${product.sku}`,
        description: null,
        seller_user_id: Number(userId),
        buyer_user_id: 87_654_321,
        create_timestamp: now,
        created_timestamp: now,
        paid_timestamp: now,
        shipped_timestamp: null,
        quantity: line.qty,
        listing_image_id: null,
        receipt_id: receiptId,
        is_digital: false,
        file_data: '',
        listing_id: where.get(line.sku)!.listingId,
        transaction_type: 'listing',
        product_id: product.product_id,
        sku: product.sku,
        price: money(1250),
        shipping_cost: money(0),
        variations: [],
        product_data: [],
        shipping_profile_id: null,
        min_processing_days: null,
        max_processing_days: null,
        shipping_method: null,
        shipping_upgrade: null,
        expected_ship_date: null,
        buyer_coupon: 0,
        shop_coupon: 0,
      };
    });
    const total = money(1250 * lines.reduce((sum, line) => sum + line.qty, 0));
    const receipt: Receipt = {
      receipt_id: receiptId,
      receipt_type: 0,
      seller_user_id: Number(userId),
      seller_email: null,
      buyer_user_id: 87_654_321,
      buyer_email: null,
      name: 'Simulated Buyer',
      first_line: '1 Main St',
      second_line: null,
      city: 'Brooklyn',
      state: 'NY',
      zip: '11201',
      status: 'paid',
      formatted_address: '1 Main St, Brooklyn, NY 11201',
      country_iso: 'US',
      payment_method: 'cc',
      payment_email: '',
      message_from_seller: null,
      message_from_buyer: null,
      message_from_payment: null,
      is_paid: true,
      is_shipped: false,
      create_timestamp: now,
      created_timestamp: now,
      update_timestamp: now,
      updated_timestamp: now,
      is_gift: false,
      gift_message: '',
      grandtotal: total,
      subtotal: total,
      total_price: total,
      total_shipping_cost: money(0),
      total_tax_cost: money(0),
      total_vat_cost: money(0),
      discount_amt: money(0),
      gift_wrap_price: money(0),
      shipments: [],
      transactions,
      refunds: [],
    };
    receipts.set(receiptId, receipt);
    return receiptId;
  };

  return {
    url: server.url,
    connectorOptions(skus) {
      const mapped: EtsyOptions['listings'] = {};
      for (const sku of skus) {
        ensure(sku);
        mapped[sku] = { listingId: where.get(sku)!.listingId, sku: productSku(sku) };
      }
      return {
        baseUrl: server.url,
        keystring,
        sharedSecret,
        accessToken: firstAccessToken,
        refreshToken: firstRefreshToken,
        shopId,
        listings: mapped,
        webhookSecret,
        requestsPerSecond: rate.perSecond,
      };
    },
    shown: (sku) => productOf(sku)?.offerings[0]?.quantity,
    setShown(sku, quantity) {
      for (const offering of ensure(sku, quantity).offerings) offering.quantity = quantity;
    },
    stats: () => ({ ...server.counters, itemsWritten, refreshes: refreshCount }),
    setFault: server.setFault,
    faults: server.faults,
    setWebhookTarget(url) {
      webhookTarget = url;
    },
    // The signature headers are made for this body now; headers passed in never replace them.
    signWebhook: (rawBody, headers) => ({ ...headers, ...signedHeaders(rawBody) }),
    inventory: (listingId) => listings.get(listingId)?.inventory,
    listingOf: (sku) => where.get(sku)?.listingId,
    receipt: (receiptId) => receipts.get(receiptId),
    refreshes: () => refreshCount,
    cancelReceipt(receiptId) {
      const receipt = receipts.get(receiptId);
      if (!receipt) return;
      const now = Math.floor(Date.now() / 1000);
      Object.assign(receipt, { status: 'canceled', update_timestamp: now, updated_timestamp: now });
    },
    refundReceipt(receiptId, full) {
      const receipt = receipts.get(receiptId);
      if (!receipt) return;
      const now = Math.floor(Date.now() / 1000);
      const total = receipt.grandtotal as ReturnType<typeof money>;
      const refund = { amount: full ? total : money(Math.max(1, Math.floor(total.amount / 2))), created_timestamp: now, reason: 'Buyer request', note_from_issuer: null, status: 'Completed' };
      (receipt.refunds as unknown[]).push(refund);
      Object.assign(receipt, { status: full ? 'fully refunded' : 'partially refunded', update_timestamp: now, updated_timestamp: now });
    },
    setListingState(listingId, state) {
      const listing = listings.get(listingId);
      if (listing) listing.state = state;
    },
    shopId,
    recordOrder: async (lines) => ({ orderId: String(record(lines)) }),
    async placeOrder(lines, delivery: WebhookDelivery = {}) {
      const receiptId = record(lines);
      // Lost for good: Etsy holds the receipt (getShopReceipts lists it) but no webhook ever leaves.
      if (delivery.drop) return { orderId: String(receiptId) };
      // Etsy's example body, pointing at this receipt the way Etsy does (its public API host, not ours).
      const body = JSON.stringify({
        ...ORDER_PAID_EXAMPLE,
        resource_url: `https://openapi.etsy.com${receiptPath(shopId, receiptId)}`,
        shop_id: shopId,
      });
      const messageId = `msg_${randomUUID().replace(/-/g, '')}`;
      // ORDER_PAID is Etsy's only order event at checkout; out of order here means a retried delivery of the same
      // message overtaking the original.
      const sequence = delivery.outOfOrder ? 2 : 1;
      for (let i = 0; i < (delivery.times ?? 1); i++) for (let n = 0; n < sequence; n++) await deliver(messageId, body);
      return { orderId: String(receiptId) };
    },
    close: server.close,
  };
}

