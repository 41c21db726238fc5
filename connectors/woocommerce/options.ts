import type { JsonSchema } from '../../core/sdk.ts';

/** Where one hub SKU lives in the store: a simple product, or a variation of a variable product. */
export interface WooCommerceSkuMapping {
  /** The product id; for a variation, its parent's. */
  productId: number;
  /** Set for a variation: stock is then written through the parent's variations batch. */
  variationId?: number;
}

export interface WooCommerceOptions {
  /** The store's site URL, e.g. `https://shop.example.com`. */
  baseUrl: string;
  /** REST API consumer key (`ck_...`). */
  consumerKey: string;
  /** REST API consumer secret (`cs_...`). */
  consumerSecret: string;
  /** `basic` (HTTP Basic, HTTPS only) or `query` (consumer_key/consumer_secret parameters, for hosts that strip Authorization). */
  authMode?: 'basic' | 'query';
  /** Hub SKU → product (and variation) id. */
  skus: Record<string, WooCommerceSkuMapping>;
  /** Webhook secret(s); two during a rotation. */
  webhookSecret?: string | string[];
  /** Parallel keep-alive connections to the store. */
  connections?: number;
  /**
   * Whether this store puts refunded line items back into stock (WooCommerce's default: "Restock refunded
   * items" ticked, `api_restock` true). A refund object does not say, so the seller does. Default true.
   */
  restockRefunds?: boolean;
}

export const wooCommerceOptionsSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['baseUrl', 'consumerKey', 'consumerSecret', 'skus'],
  properties: {
    baseUrl: { type: 'string', format: 'uri', description: 'Site URL of the store (the REST API lives under /wp-json/wc/v3), or a simulator URL.' },
    consumerKey: { type: 'string', minLength: 1, description: 'REST API consumer key (ck_...) with read/write permission.' },
    consumerSecret: { writeOnly: true, type: 'string', minLength: 1, description: 'REST API consumer secret (cs_...).' },
    authMode: {
      type: 'string',
      enum: ['basic', 'query'],
      default: 'basic',
      description: 'basic: HTTP Basic auth (requires HTTPS). query: consumer_key/consumer_secret as query parameters, for servers that drop the Authorization header.',
    },
    skus: {
      type: 'object',
      description: 'Hub SKU → WooCommerce product id, plus the variation id for variations.',
      additionalProperties: {
        type: 'object',
        additionalProperties: false,
        required: ['productId'],
        properties: {
          productId: { type: 'integer', minimum: 1, description: 'Product id (the parent product for a variation).' },
          variationId: { type: 'integer', minimum: 1, description: 'Variation id, when the SKU is a variation.' },
        },
      },
    },
    webhookSecret: {
      writeOnly: true,
      description: 'Secret set on the order webhooks (X-WC-Webhook-Signature), or the two active secrets during a rotation.',
      oneOf: [{ type: 'string', minLength: 1 }, { type: 'array', items: { type: 'string', minLength: 1 }, minItems: 1, maxItems: 2 }],
    },
    connections: { type: 'integer', minimum: 1, maximum: 64, default: 4, description: 'Parallel keep-alive connections to the store.' },
    restockRefunds: {
      type: 'boolean',
      default: true,
      description: 'Whether refunded line items go back into stock, as WooCommerce does by default ("Restock refunded items", api_restock). Refunds are read as returns: restocked units when true, none when false.',
    },
  },
};
