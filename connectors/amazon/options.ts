import type { JsonSchema } from '../../core/sdk.ts';

/** One hub SKU as Amazon knows it. */
export interface AmazonListing {
  /** The seller SKU of the listing on Amazon (the `{sku}` path segment). */
  sellerSku: string;
  /** The listing's Amazon product type, required by `patchListingsItem` (e.g. `SHIRT`, `PRODUCT`). */
  productType: string;
}

export interface AmazonOptions {
  /** SP-API regional endpoint; default North America. */
  endpoint?: string;
  /** Login with Amazon token endpoint; default `https://api.amazon.com/auth/o2/token`. */
  tokenUrl?: string;
  /** LWA client id of the application. */
  clientId: string;
  /** LWA client secret of the application. */
  clientSecret: string;
  /** LWA refresh token the seller granted the application. */
  refreshToken: string;
  /** The seller (merchant) id, first path segment of listings calls. */
  sellerId: string;
  /** The marketplace whose quantity is set, e.g. `ATVPDKIKX0DER` (US). */
  marketplaceId: string;
  /** Hub SKU → Amazon listing. */
  listings: Record<string, AmazonListing>;
  /** SQS queue URL that receives `ORDER_CHANGE` notifications; without it `pollOrders` returns nothing. */
  queueUrl?: string;
  /** AWS credentials allowed to receive and delete from `queueUrl`; requests are SigV4-signed with them. */
  aws?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string; region?: string };
  /** Seconds a received message stays hidden before SQS offers it again (SQS `VisibilityTimeout`). */
  visibilityTimeoutSeconds?: number;
  /** Seconds one `ReceiveMessage` may wait for a message (SQS long polling); 0 answers at once. */
  waitTimeSeconds?: number;
  /** Parallel keep-alive connections to the SP-API endpoint. */
  connections?: number;
}

export const amazonOptionsSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['clientId', 'clientSecret', 'refreshToken', 'sellerId', 'marketplaceId', 'listings'],
  properties: {
    endpoint: {
      type: 'string',
      format: 'uri',
      default: 'https://sellingpartnerapi-na.amazon.com',
      description: 'SP-API regional endpoint (na / eu / fe), or a simulator URL.',
    },
    tokenUrl: {
      type: 'string',
      format: 'uri',
      default: 'https://api.amazon.com/auth/o2/token',
      description: 'Login with Amazon token endpoint that exchanges the refresh token for an access token.',
    },
    clientId: { type: 'string', minLength: 1, description: 'LWA client id of the SP-API application.' },
    clientSecret: { writeOnly: true, type: 'string', minLength: 1, description: 'LWA client secret of the SP-API application.' },
    refreshToken: { writeOnly: true, type: 'string', minLength: 1, description: 'LWA refresh token the seller granted (`Atzr|...`).' },
    sellerId: { type: 'string', minLength: 1, description: 'Seller (merchant) id used in listings paths.' },
    marketplaceId: { type: 'string', minLength: 1, description: 'Marketplace whose quantity is set, e.g. ATVPDKIKX0DER.' },
    listings: {
      type: 'object',
      description: 'Hub SKU → Amazon seller SKU and product type. A hub SKU missing here is rejected on push.',
      additionalProperties: {
        type: 'object',
        additionalProperties: false,
        required: ['sellerSku', 'productType'],
        properties: {
          sellerSku: { type: 'string', minLength: 1, maxLength: 40, description: 'Seller SKU on Amazon.' },
          productType: { type: 'string', minLength: 1, description: 'Amazon product type of the listing.' },
        },
      },
    },
    queueUrl: { type: 'string', format: 'uri', description: 'SQS queue URL subscribed to ORDER_CHANGE notifications.' },
    aws: {
      type: 'object',
      additionalProperties: false,
      required: ['accessKeyId', 'secretAccessKey'],
      description: 'AWS credentials (IAM user or role) allowed to ReceiveMessage/DeleteMessage on queueUrl; SQS requests are signed with SigV4.',
      properties: {
        accessKeyId: { type: 'string', minLength: 1 },
        secretAccessKey: { writeOnly: true, type: 'string', minLength: 1 },
        sessionToken: { writeOnly: true, type: 'string', minLength: 1, description: 'For temporary (STS) credentials.' },
        region: { type: 'string', minLength: 1, description: 'Region of the queue; read from a standard queue URL when absent.' },
      },
    },
    visibilityTimeoutSeconds: {
      type: 'integer',
      minimum: 1,
      maximum: 43200,
      default: 30,
      description: 'How long a received notification stays hidden before SQS offers it again if it was not deleted.',
    },
    waitTimeSeconds: { type: 'integer', minimum: 0, maximum: 20, default: 0, description: 'SQS long-poll wait per receive.' },
    connections: { type: 'integer', minimum: 1, maximum: 64, default: 4, description: 'Keep-alive connections to the SP-API endpoint.' },
  },
};
