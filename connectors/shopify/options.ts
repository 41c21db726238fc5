import type { JsonSchema } from '../../core/sdk.ts';

/** Where one hub SKU lives in the shop. */
export interface ShopifySkuMapping {
  /** The variant's inventory item: numeric id or `gid://shopify/InventoryItem/<id>`. */
  inventoryItemId: string;
  /** The variant id, so order lines (which carry `variant_id`) map back to this hub SKU. */
  variantId?: string;
}

export interface ShopifyOptions {
  /** The shop's admin origin, `https://<shop>.myshopify.com`. */
  baseUrl: string;
  /** Admin API version in the URL, `2026-04` or later. */
  apiVersion?: string;
  /** Admin API access token sent as `X-Shopify-Access-Token`. */
  accessToken: string;
  /** The location whose `available` quantity the hub sets: numeric id or gid. */
  locationId: string;
  /** Hub SKU → inventory item. */
  skus: Record<string, ShopifySkuMapping>;
  /** App secret(s) that sign webhooks; two during a rotation. */
  webhookSecret?: string | string[];
  /** `reason` recorded on every adjustment. */
  reason?: string;
  /** Parallel keep-alive connections to the API. */
  connections?: number;
}

const idPattern = '^(gid://shopify/[A-Za-z]+/)?[0-9]+$';

export const shopifyOptionsSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['baseUrl', 'accessToken', 'locationId', 'skus'],
  properties: {
    baseUrl: { type: 'string', format: 'uri', description: 'Admin origin of the shop, e.g. https://my-shop.myshopify.com (or a simulator URL).' },
    apiVersion: {
      type: 'string',
      // The mutation sends changeFromQuantity and @idempotent, which API versions before 2026-04 refuse.
      pattern: '^(unstable|2026-(0[4-9]|1[0-2])|20(2[7-9]|[3-9][0-9])-(0[1-9]|1[0-2]))$',
      default: '2026-04',
      description: 'GraphQL Admin API version, 2026-04 or later (YYYY-MM or unstable): the connector sets quantities with changeFromQuantity and @idempotent, which earlier versions refuse.',
    },
    accessToken: { writeOnly: true, type: 'string', minLength: 1, description: 'Admin API access token with write_inventory scope, sent as X-Shopify-Access-Token.' },
    locationId: { type: 'string', pattern: idPattern, description: 'Location whose "available" quantity is set: numeric id or gid://shopify/Location/<id>.' },
    skus: {
      type: 'object',
      description: 'Hub SKU → the variant\'s inventory item (and optionally the variant id, to map order lines back).',
      additionalProperties: {
        type: 'object',
        additionalProperties: false,
        required: ['inventoryItemId'],
        properties: {
          inventoryItemId: { type: 'string', pattern: idPattern, description: 'Numeric id or gid://shopify/InventoryItem/<id>.' },
          variantId: { type: 'string', pattern: idPattern, description: 'Numeric id or gid://shopify/ProductVariant/<id>.' },
        },
      },
    },
    webhookSecret: {
      writeOnly: true,
      description: 'App client secret that signs webhooks (X-Shopify-Hmac-Sha256), or the two active secrets during a rotation.',
      oneOf: [{ type: 'string', minLength: 1 }, { type: 'array', items: { type: 'string', minLength: 1 }, minItems: 1, maxItems: 2 }],
    },
    reason: {
      type: 'string',
      enum: ['correction', 'cycle_count_available', 'damaged', 'movement_created', 'movement_updated', 'movement_received', 'movement_canceled', 'other', 'promotion', 'quality_control', 'received', 'reservation_created', 'reservation_deleted', 'reservation_updated', 'restock', 'safety_stock', 'shrinkage'],
      default: 'correction',
      description: 'Adjustment reason recorded by Shopify.',
    },
    connections: { type: 'integer', minimum: 1, maximum: 64, default: 4, description: 'Parallel keep-alive connections to the API.' },
  },
};
