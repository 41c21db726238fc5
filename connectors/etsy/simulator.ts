import { randomBytes, randomUUID } from 'node:crypto';
import { request } from 'undici';
import type { SimulatorHandle, SimulatorOptions, WebhookDelivery } from '../../core/sdk.ts';
import { FixedWindowCounter, ServerTokenBucket } from '../_kit/rate-window.ts';
import { startSimServer, type SimRequest, type SimResponse } from '../_kit/sim-server.ts';
import {
  API_PREFIX,
  MAX_OFFERING_QUANTITY,
  RateHeaders,
  receiptPath,
  type EtsyInventory,
  type EtsyProduct,
  type EtsyReceipt,
  type EtsyWebhookEvent,
} from './api.ts';
import type { EtsyOptions } from './options.ts';
import { signWebhook, WEBHOOK_ID, WEBHOOK_SIGNATURE, WEBHOOK_TIMESTAMP } from './webhook-signature.ts';

export interface EtsySimulatorOptions extends SimulatorOptions {
  keystring?: string;
  sharedSecret?: string;
  /** `<user id>.<token>`. */
  accessToken?: string;
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
  /** Marks a receipt cancelled, as when the seller cancels the order. */
  cancelReceipt(receiptId: number): void;
}

/** The custom variation property Etsy gives sellers' own variations. */
const VARIANT_PROPERTY = 513;

interface Listing {
  listingId: number;
  inventory: EtsyInventory;
}

const READ_ONLY_PRODUCT_FIELDS = ['product_id', 'is_deleted'];
const READ_ONLY_OFFERING_FIELDS = ['offering_id', 'is_deleted'];

export async function startEtsySimulator(options: EtsySimulatorOptions = {}): Promise<EtsySimulator> {
  const keystring = options.keystring ?? 'etsysimkeystring0001';
  const sharedSecret = options.sharedSecret ?? 'etsysimsecret';
  const accessToken = options.accessToken ?? '12345678.etsy-sim-access-token';
  const shopId = options.shopId ?? 41_000_001;
  const webhookSecret = options.webhookSecret ?? `whsec_${randomBytes(24).toString('base64')}`;
  const perListing = options.productsPerListing ?? 2;
  const rate = options.rateLimit ?? { perSecond: 10, burst: 10 };
  const dailyLimit = options.dailyLimit ?? 10_000;
  const second = new ServerTokenBucket(rate.perSecond, rate.burst);
  const day = new FixedWindowCounter(dailyLimit, 86_400_000);

  const listings = new Map<number, Listing>();
  const where = new Map<string, Listing>(); // hub SKU → listing
  const receipts = new Map<number, EtsyReceipt>();
  let nextId = 1_000_000_000 + Math.floor(Math.random() * 1_000_000) * 1000;
  const id = (): number => (nextId += 1);
  let itemsWritten = 0;
  let remainingToday = dailyLimit;
  let webhookTarget: string | undefined;
  let lastListing: Listing | undefined;

  const productSku = (hubSku: string): string => `E-${hubSku}`;
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
      listing = { listingId: id(), inventory: { products: [], price_on_property: [], quantity_on_property: [], sku_on_property: [] } };
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
      if (!Array.isArray(raw.property_values)) return `Missing Input Parameter: [products[${i}].property_values]`;
      if (variations && raw.property_values.length === 0) return "Property values can't be empty";
      for (const pv of raw.property_values as Array<Record<string, unknown>>) {
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
      products: Array<{ sku?: string; property_values: EtsyProduct['property_values']; offerings: Array<{ price: number; quantity: number; is_enabled: boolean }> }>;
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
        property_values: p.property_values.map((pv) => ({ ...pv, scale_name: null })),
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

  const route = (req: SimRequest): SimResponse => {
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
    if (req.headers.authorization !== `Bearer ${accessToken}`) return answer({ status: 401, body: { error: 'invalid_token', error_description: 'access token is invalid or expired' } });

    const inventoryMatch = new RegExp(`^${API_PREFIX}/listings/(\\d+)/inventory$`).exec(req.path);
    if (inventoryMatch) {
      const listing = listings.get(Number(inventoryMatch[1]));
      if (!listing) return answer({ status: 404, body: { error: `Listing ${inventoryMatch[1]} not found` } });
      if (req.method === 'GET') return answer({ status: 200, body: listing.inventory });
      if (req.method === 'PUT') return answer(putInventory(req, listing));
    }
    const receiptMatch = new RegExp(`^${API_PREFIX}/shops/(\\d+)/receipts/(\\d+)$`).exec(req.path);
    if (req.method === 'GET' && receiptMatch) {
      const receipt = Number(receiptMatch[1]) === shopId ? receipts.get(Number(receiptMatch[2])) : undefined;
      return answer(receipt ? { status: 200, body: receipt } : { status: 404, body: { error: `Could not find a Shop Receipt with receipt_id = ${receiptMatch[2]}` } });
    }
    return answer({ status: 404, body: { error: 'Resource not found' } });
  };

  const server = await startSimServer({
    port: options.port,
    latency: options.latency,
    route,
    downResponse: { status: 503, body: { error: 'Service Unavailable' } },
    throttleResponse: (retryAfterMs) => ({
      status: 429,
      headers: { ...rateHeaders(0), 'retry-after': String(Math.max(1, Math.ceil(retryAfterMs / 1000))) },
      body: { error: 'You have exceeded your per-second rate limit.' },
    }),
  });

  const deliver = async (messageId: string, event: EtsyWebhookEvent): Promise<void> => {
    if (!webhookTarget) throw new Error('Etsy simulator: no webhook target set');
    const body = JSON.stringify(event);
    const timestamp = String(Math.floor(Date.now() / 1000));
    const res = await request(webhookTarget, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        [WEBHOOK_ID]: messageId,
        [WEBHOOK_TIMESTAMP]: timestamp,
        [WEBHOOK_SIGNATURE]: `v1,${signWebhook(webhookSecret, messageId, timestamp, body)}`,
      },
      body,
    });
    await res.body.dump();
    if (res.statusCode >= 300) throw new Error(`Etsy simulator: webhook answered ${res.statusCode}`);
  };

  return {
    url: server.url,
    connectorOptions(skus) {
      const mapped: EtsyOptions['listings'] = {};
      for (const sku of skus) {
        ensure(sku);
        mapped[sku] = { listingId: where.get(sku)!.listingId, sku: productSku(sku) };
      }
      return { baseUrl: server.url, keystring, sharedSecret, accessToken, shopId, listings: mapped, webhookSecret, requestsPerSecond: rate.perSecond };
    },
    shown: (sku) => productOf(sku)?.offerings[0]?.quantity,
    setShown(sku, quantity) {
      for (const offering of ensure(sku, quantity).offerings) offering.quantity = quantity;
    },
    stats: () => ({ ...server.counters, itemsWritten }),
    setFault: server.setFault,
    setWebhookTarget(url) {
      webhookTarget = url;
    },
    inventory: (listingId) => listings.get(listingId)?.inventory,
    listingOf: (sku) => where.get(sku)?.listingId,
    cancelReceipt(receiptId) {
      const receipt = receipts.get(receiptId);
      if (receipt) receipt.status = 'Canceled';
    },
    async placeOrder(lines, delivery: WebhookDelivery = {}) {
      const now = Math.floor(Date.now() / 1000);
      const receipt: EtsyReceipt = {
        receipt_id: id(),
        shop_id: shopId,
        status: 'Paid',
        is_paid: true,
        created_timestamp: now,
        create_timestamp: now,
        transactions: lines.map((line) => {
          const product = ensure(line.sku);
          for (const offering of product.offerings) offering.quantity = Math.max(0, offering.quantity - line.qty);
          return { transaction_id: id(), listing_id: where.get(line.sku)!.listingId, product_id: product.product_id, sku: product.sku, quantity: line.qty, created_timestamp: now };
        }),
      };
      receipts.set(receipt.receipt_id, receipt);
      const event: EtsyWebhookEvent = {
        event_id: randomUUID(),
        event_type: 'ORDER_PAID',
        created_at: new Date(now * 1000).toISOString(),
        shop_id: shopId,
        resource_url: `${server.url}${receiptPath(shopId, receipt.receipt_id)}`,
      };
      const messageId = `msg_${randomUUID().replace(/-/g, '')}`;
      // ORDER_PAID is Etsy's only order event at checkout; out of order here means a retried delivery of the same
      // message overtaking the original.
      const sequence = delivery.outOfOrder ? 2 : 1;
      for (let i = 0; i < (delivery.times ?? 1); i++) for (let n = 0; n < sequence; n++) await deliver(messageId, event);
      return { orderId: String(receipt.receipt_id) };
    },
    close: server.close,
  };
}
