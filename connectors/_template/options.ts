import type { JsonSchema } from 'stockrelay';

export interface AcmeOptions {
  /** Base URL of the Acme API, e.g. `https://api.acme.example`. */
  baseUrl: string;
  /** API key sent as `X-Acme-Key`. */
  apiKey: string;
  /** Secret(s) that sign order webhooks; two while a secret is rotated. */
  webhookSecret?: string | string[];
  /** Hub SKU → Acme listing id. A SKU missing here is rejected per item. */
  listings: Record<string, string>;
}

/**
 * Checked by the host before `create` runs. `additionalProperties: false` refuses a misspelt option
 * at start, and `required` lists what the channel cannot work without (the conformance kit checks both).
 */
export const acmeOptionsSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['baseUrl', 'apiKey', 'listings'],
  properties: {
    baseUrl: { type: 'string', format: 'uri', description: 'Base URL of the Acme API.' },
    apiKey: { writeOnly: true, type: 'string', minLength: 1, description: 'API key sent as X-Acme-Key. Reference it from config as {"env": "ACME_API_KEY"}.' },
    webhookSecret: {
      writeOnly: true,
      description: 'Secret, or list of active secrets during rotation, that sign order webhooks.',
      oneOf: [{ type: 'string', minLength: 1 }, { type: 'array', items: { type: 'string', minLength: 1 }, minItems: 1, maxItems: 2 }],
    },
    listings: {
      type: 'object',
      description: 'Hub SKU → Acme listing id.',
      additionalProperties: { type: 'string', minLength: 1 },
    },
  },
};
