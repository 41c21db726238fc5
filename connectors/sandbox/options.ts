import type { JsonSchema } from '../../core/sdk.ts';

export interface SandboxOptions {
  /** Base URL of the sandbox API. */
  baseUrl: string;
  /** Bearer token. */
  token: string;
  /** Secret(s) that sign order webhooks; two during a rotation. */
  webhookSecret?: string | string[];
  /** Parallel keep-alive connections to the API. */
  connections?: number;
}

export const sandboxOptionsSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['baseUrl', 'token'],
  properties: {
    baseUrl: { type: 'string', format: 'uri', description: 'Base URL of the sandbox API, e.g. http://127.0.0.1:9101' },
    token: { writeOnly: true, type: 'string', minLength: 1, description: 'Bearer token sent as `Authorization: Bearer <token>`.' },
    webhookSecret: {
      writeOnly: true,
      description: 'Secret, or list of active secrets during rotation, that sign order webhooks.',
      oneOf: [{ type: 'string', minLength: 1 }, { type: 'array', items: { type: 'string', minLength: 1 }, minItems: 1, maxItems: 2 }],
    },
    connections: { type: 'integer', minimum: 1, maximum: 64, default: 8 },
  },
};
