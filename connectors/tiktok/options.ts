import type { JsonSchema } from '../../core/sdk.ts';

/** Where one hub SKU lives on TikTok Shop. */
export interface TiktokSkuRef {
  productId: string;
  skuId: string;
  /** Warehouse whose stock is set; omitted for single-warehouse shops. */
  warehouseId?: string;
}

export interface TiktokOptions {
  /** Base URL of the TikTok Shop Partner API. */
  baseUrl: string;
  appKey: string;
  /**
   * App secret: signs requests and verifies webhooks. During a rotation give `[new, old]`: requests are signed
   * with the first, webhooks signed with either are accepted.
   */
  appSecret: string | string[];
  /**
   * A fixed seller access token, sent as `x-tts-access-token`. TikTok access tokens expire: give `refreshToken`
   * so the channel renews them (a fixed token is then not used).
   */
  accessToken?: string;
  /** The shop's refresh token, from the authorization; access tokens are renewed with it before they expire. */
  refreshToken?: string;
  /** Base URL of TikTok Shop's token endpoint. */
  authBaseUrl?: string;
  /** The shop's cipher, sent as `shop_cipher`. */
  shopCipher: string;
  /** Hub SKU → product, SKU id and optional warehouse; empty or absent before onboarding (`stockrelay import`) maps them. */
  skus?: Record<string, TiktokSkuRef>;
  /** Parallel keep-alive connections to the API. */
  connections?: number;
  /** Calls per second the app may make; every call is paced under it (a push makes one per product). */
  requestsPerSecond?: number;
}

export const tiktokOptionsSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['baseUrl', 'appKey', 'appSecret', 'shopCipher'],
  anyOf: [{ required: ['accessToken'] }, { required: ['refreshToken'] }],
  properties: {
    baseUrl: { type: 'string', format: 'uri', default: 'https://open-api.tiktokglobalshop.com', description: 'Base URL of the TikTok Shop Partner API (or a simulator).' },
    appKey: { type: 'string', minLength: 1, description: 'App key, sent as the `app_key` query parameter and prefixed to webhook bodies when they are signed.' },
    appSecret: {
      writeOnly: true,
      description: 'App secret, or [new, old] during a rotation: the first signs requests, either verifies webhooks.',
      oneOf: [{ type: 'string', minLength: 1 }, { type: 'array', items: { type: 'string', minLength: 1 }, minItems: 1, maxItems: 2 }],
    },
    accessToken: { writeOnly: true, type: 'string', minLength: 1, description: 'A fixed seller access token (expires); prefer refreshToken.' },
    refreshToken: { writeOnly: true, type: 'string', minLength: 1, description: "The shop's refresh token; access tokens are renewed with it before they expire." },
    authBaseUrl: { type: 'string', format: 'uri', default: 'https://auth.tiktok-shops.com', description: "Base URL of TikTok Shop's token endpoint (or a simulator)." },
    shopCipher: { type: 'string', minLength: 1, description: 'The shop cipher from Get Authorized Shops, sent as `shop_cipher`.' },
    skus: {
      type: 'object',
      description: 'Hub SKU → { productId, skuId, warehouseId? }, as `stockrelay import` writes it. A hub SKU missing here is not listed on this channel.',
      additionalProperties: {
        type: 'object',
        additionalProperties: false,
        required: ['productId', 'skuId'],
        properties: {
          productId: { type: 'string', minLength: 1, description: 'TikTok product id.' },
          skuId: { type: 'string', minLength: 1, description: 'TikTok SKU id within the product.' },
          warehouseId: { type: 'string', minLength: 1, description: 'Warehouse to set the quantity in; omit for the default warehouse.' },
        },
      },
    },
    connections: { type: 'integer', minimum: 1, maximum: 64, default: 8, description: 'Parallel keep-alive connections to the API.' },
    requestsPerSecond: { type: 'number', exclusiveMinimum: 0, default: 50, description: 'Calls per second the app may make; a push makes one call per product, each paced under this.' },
  },
};
