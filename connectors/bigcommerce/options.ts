import type { JsonSchema } from '../../core/sdk.ts';
import { STANDARD_WEBHOOK_SECRET_PATTERN } from '../_kit/standard-webhooks.ts';

/** How one hub SKU is identified in the store: exactly one of these. */
export interface BigCommerceSkuMapping {
  /** The variant id (every product has at least its base variant). */
  variantId?: number;
  /** For a product without variants. */
  productId?: number;
  /** The store's SKU, when it differs from the hub SKU. */
  sku?: string;
}

export interface BigCommerceOptions {
  /** API origin; the real one is https://api.bigcommerce.com. */
  baseUrl?: string;
  /** The store hash in `/stores/{store_hash}/`. */
  storeHash: string;
  /** API account access token, sent as `X-Auth-Token`. */
  accessToken: string;
  /** Inventory location the hub sets quantities at. Default 1 (the default location). */
  locationId?: number;
  /** Hub SKU → variant id, product id or store SKU (the host fills in `{}` when the config gives none). */
  skus: Record<string, BigCommerceSkuMapping>;
  /**
   * The app's client secret(s), two during a rotation: BigCommerce signs webhooks with Standard Webhooks,
   * keyed by the client secret's own bytes (its documentation base64-encodes the client secret and hands
   * that to the reference library).
   */
  clientSecret?: string | string[];
  /** Standard Webhooks secret(s) in their own form (base64, with or without `whsec_`); two during a rotation. */
  webhookSecret?: string | string[];
  /** Accepted distance between `webhook-timestamp` and our clock, in seconds. Default 300. */
  webhookToleranceSeconds?: number;
  /** `reason` recorded on every adjustment. */
  reason?: string;
  /** When `X-Rate-Limit-Requests-Left` falls to this or below, calls are spaced out until the window resets. Default 10. */
  lowQuotaThreshold?: number;
  /** Parallel keep-alive connections to the API. */
  connections?: number;
}

export const bigCommerceOptionsSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['storeHash', 'accessToken'],
  properties: {
    baseUrl: { type: 'string', format: 'uri', default: 'https://api.bigcommerce.com', description: 'API origin (change it only to point at a simulator).' },
    storeHash: { type: 'string', pattern: '^[a-z0-9]+$', description: 'The store hash in /stores/{store_hash}/.' },
    accessToken: { writeOnly: true, type: 'string', minLength: 1, description: 'API account access token with the store_inventory and store_v2_orders_read_only scopes, sent as X-Auth-Token.' },
    locationId: { type: 'integer', minimum: 1, default: 1, description: 'Inventory location whose quantities the hub sets.' },
    skus: {
      type: 'object',
      default: {},
      description: 'Hub SKU → exactly one of variantId, productId (products without variants) or sku (the store SKU). Empty while a channel is being onboarded (stockrelay import writes it).',
      additionalProperties: {
        type: 'object',
        additionalProperties: false,
        minProperties: 1,
        maxProperties: 1,
        properties: {
          variantId: { type: 'integer', minimum: 1 },
          productId: { type: 'integer', minimum: 1 },
          sku: { type: 'string', minLength: 1 },
        },
      },
    },
    clientSecret: {
      writeOnly: true,
      description: "The app's client secret, which BigCommerce signs webhooks with (Standard Webhooks keyed by the secret's bytes), or the two active ones during a rotation.",
      oneOf: [{ type: 'string', minLength: 1 }, { type: 'array', items: { type: 'string', minLength: 1 }, minItems: 1, maxItems: 2 }],
    },
    webhookSecret: {
      writeOnly: true,
      description: 'A Standard Webhooks signing secret in its own form (base64, with or without whsec_), or the two active secrets during a rotation.',
      oneOf: [
        { type: 'string', pattern: STANDARD_WEBHOOK_SECRET_PATTERN },
        { type: 'array', items: { type: 'string', pattern: STANDARD_WEBHOOK_SECRET_PATTERN }, minItems: 1, maxItems: 2 },
      ],
    },
    webhookToleranceSeconds: { type: 'integer', minimum: 1, maximum: 3600, default: 300, description: 'Replay window for webhook-timestamp, in seconds.' },
    reason: { type: 'string', minLength: 1, default: 'stockrelay sync', description: 'Reason recorded on every adjustment.' },
    lowQuotaThreshold: { type: 'integer', minimum: 0, default: 10, description: 'Requests left in the window at which calls start being spaced out until it resets (the quota is shared with other apps).' },
    connections: { type: 'integer', minimum: 1, maximum: 64, default: 4, description: 'Parallel keep-alive connections to the API.' },
  },
};
