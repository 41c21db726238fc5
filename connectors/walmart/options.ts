import type { JsonSchema } from '../../core/sdk.ts';

export interface WalmartOptions {
  /** Marketplace API base URL; default `https://marketplace.walmartapis.com`. */
  baseUrl?: string;
  /** Client id of the seller's API key. */
  clientId: string;
  /** Client secret of the seller's API key. */
  clientSecret: string;
  /** `WM_SVC.NAME` sent on every call; default `Walmart Marketplace`. */
  serviceName?: string;
  /** `WM_CONSUMER.CHANNEL.TYPE`, for solution providers that were given one. */
  channelType?: string;
  /** Ship node whose quantity is set; the seller's default node when absent. */
  shipNode?: string;
  /** Hub SKU → Walmart SKU. A hub SKU missing here is rejected on push. */
  skus: Record<string, string>;
  /** The HMAC `clientSecret` of the order-event subscription; two during a rotation. */
  webhookSecret?: string | string[];
  /** The subscription's `authHeaderName`: the header the HMAC digest arrives in. Default `Authorization`. */
  webhookAuthHeaderName?: string;
  /** Parallel keep-alive connections to the API. */
  connections?: number;
  /** Pause between status calls of a submitted inventory feed, ms. Default 60000. */
  feedPollMs?: number;
}

export const walmartOptionsSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['clientId', 'clientSecret', 'skus'],
  properties: {
    baseUrl: { type: 'string', format: 'uri', default: 'https://marketplace.walmartapis.com', description: 'Marketplace API base URL, or a simulator URL.' },
    clientId: { type: 'string', minLength: 1, description: 'Client id of the API key (Developer Portal).' },
    clientSecret: { writeOnly: true, type: 'string', minLength: 1, description: 'Client secret of the API key.' },
    serviceName: { type: 'string', minLength: 1, default: 'Walmart Marketplace', description: 'Value of the WM_SVC.NAME header.' },
    channelType: { type: 'string', minLength: 1, description: 'Value of WM_CONSUMER.CHANNEL.TYPE, when Walmart assigned one.' },
    shipNode: { type: 'string', minLength: 1, description: 'Ship node whose quantity is set; default node when absent.' },
    skus: {
      type: 'object',
      description: 'Hub SKU → Walmart SKU. A hub SKU missing here is rejected on push; an order line for an unmapped Walmart SKU is left out.',
      additionalProperties: { type: 'string', minLength: 1, maxLength: 50 },
    },
    webhookSecret: {
      writeOnly: true,
      description: 'HMAC clientSecret of the PO_CREATED subscription, or the list of active secrets during rotation.',
      oneOf: [{ type: 'string', minLength: 1 }, { type: 'array', items: { type: 'string', minLength: 1 }, minItems: 1, maxItems: 2 }],
    },
    webhookAuthHeaderName: {
      type: 'string',
      minLength: 1,
      default: 'Authorization',
      description: 'The subscription authHeaderName: header that carries the HMAC-SHA256 of the body.',
    },
    connections: { type: 'integer', minimum: 1, maximum: 64, default: 4, description: 'Keep-alive connections to the API.' },
    feedPollMs: {
      type: 'integer',
      minimum: 10,
      maximum: 3_600_000,
      default: 60_000,
      description: 'Pause between status calls of a submitted inventory feed (bulk lane), ms. Walmart documents no interval; feeds take up to 30 minutes.',
    },
  },
};
