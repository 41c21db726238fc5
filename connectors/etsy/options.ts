import type { JsonSchema } from '../../core/sdk.ts';
import { STANDARD_WEBHOOK_SECRET_PATTERN } from '../_kit/standard-webhooks.ts';

/** Where one hub SKU lives on Etsy: the listing and the product (variation) inside its inventory. */
export interface EtsyListingRef {
  /** The listing whose inventory holds the product. */
  listingId: number;
  /** The product's `sku` inside the listing inventory; defaults to the hub SKU. */
  sku?: string;
}

export interface EtsyOptions {
  /** Base URL of Etsy Open API v3 (without `/v3`). */
  baseUrl: string;
  /** App API keystring. */
  keystring: string;
  /** App shared secret; sent with the keystring as `x-api-key: <keystring>:<shared secret>`. */
  sharedSecret: string;
  /**
   * OAuth access token as Etsy issues it: `<numeric user id>.<token>`. Needs `listings_w`, `listings_r`,
   * `transactions_r`. It lives one hour: give `refreshToken` too (or alone) so the connector renews it.
   */
  accessToken?: string;
  /** OAuth refresh token (`<numeric user id>.<token>`, 90 days); Etsy issues a new one at every refresh, which the connector keeps. */
  refreshToken?: string;
  /** The seller's shop id (receipts are read under it). */
  shopId: number;
  /** Hub SKU → listing and product; empty or absent before onboarding (`stockrelay import`) maps them. */
  listings?: Record<string, EtsyListingRef>;
  /** Webhook signing secret (Standard Webhooks: base64, with or without `whsec_`), or two during a rotation. */
  webhookSecret?: string | string[];
  /** Largest accepted distance between `webhook-timestamp` and now, in seconds. */
  webhookToleranceSec?: number;
  /** Parallel keep-alive connections to the API. */
  connections?: number;
  /** Etsy's per-second request limit for this app (10 by default; raised on request). */
  requestsPerSecond?: number;
}

export const etsyOptionsSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['baseUrl', 'keystring', 'sharedSecret', 'shopId'],
  anyOf: [{ required: ['accessToken'] }, { required: ['refreshToken'] }],
  properties: {
    baseUrl: { type: 'string', format: 'uri', default: 'https://api.etsy.com', description: 'Base URL of Etsy Open API (https://api.etsy.com or a simulator); paths start with /v3/application.' },
    keystring: { type: 'string', minLength: 1, description: 'App API keystring (client id).' },
    sharedSecret: { writeOnly: true, type: 'string', minLength: 1, description: 'App shared secret; Etsy requires `x-api-key: <keystring>:<shared secret>`.' },
    accessToken: { writeOnly: true, type: 'string', pattern: '^\\d+\\..+$', description: 'OAuth access token `<user id>.<token>`, sent as `Authorization: Bearer <token>`; lives one hour.' },
    refreshToken: {
      writeOnly: true,
      type: 'string',
      pattern: '^\\d+\\..+$',
      description: 'OAuth refresh token `<user id>.<token>`; with it the connector renews the access token before it expires and keeps the refresh token Etsy rotates.',
    },
    shopId: { type: 'integer', minimum: 1, description: 'Shop id the receipts belong to.' },
    listings: {
      type: 'object',
      description:
        'Hub SKU → { listingId, sku: product SKU inside the listing (defaults to the hub SKU) }, as `stockrelay import` writes it. A hub SKU missing here is not listed on this channel.',
      additionalProperties: {
        type: 'object',
        additionalProperties: false,
        required: ['listingId'],
        properties: {
          listingId: { type: 'integer', minimum: 1, description: 'Etsy listing id.' },
          sku: { type: 'string', minLength: 1, description: 'Product SKU within the listing inventory.' },
        },
      },
    },
    webhookSecret: {
      writeOnly: true,
      description: 'Webhook signing secret (base64, with or without `whsec_`, as Etsy shows it), or the list of active secrets during rotation.',
      oneOf: [
        { type: 'string', pattern: STANDARD_WEBHOOK_SECRET_PATTERN },
        { type: 'array', items: { type: 'string', pattern: STANDARD_WEBHOOK_SECRET_PATTERN }, minItems: 1, maxItems: 2 },
      ],
    },
    webhookToleranceSec: { type: 'integer', minimum: 1, default: 300, description: 'Accepted clock distance of `webhook-timestamp`, in seconds (replay guard).' },
    connections: { type: 'integer', minimum: 1, maximum: 64, default: 4, description: 'Parallel keep-alive connections to the API.' },
    requestsPerSecond: { type: 'number', exclusiveMinimum: 0, default: 10, description: "The app's per-second request limit; every call is paced under it." },
  },
};
