import type { SwaggerOptions } from '@fastify/swagger';

/**
 * How `/openapi.json` is made: @fastify/swagger reads every route's schema (`route-schemas.ts`) as the
 * route is registered and writes OpenAPI 3.1, whose Schema Objects are JSON Schema 2020-12 as ours are.
 * Shared schemas keep their `$id` as their name under `components.schemas` (`ErrorBody`).
 */
export const OPENAPI_OPTIONS: SwaggerOptions = {
  openapi: {
    openapi: '3.1.0',
    info: {
      title: 'stockrelay hub',
      // The version of the HTTP API (its routes live under /v1), not of the package.
      version: '1',
      description:
        'The read API for agents and storefronts, the admin API over dead letters, alerts, the dashboard stream, channel webhooks, ' +
        'metrics and health. Every answer that is not a success is an `ErrorBody` whose `code` comes from the error catalogue.',
      license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
    },
    tags: [
      { name: 'read', description: 'Read scope: inventory, channels, alerts, why' },
      { name: 'admin', description: 'Admin scope: dead letters' },
      { name: 'dashboard', description: 'The live dashboard and its event stream' },
      { name: 'webhooks', description: "Channels' webhooks, checked against each channel's signature" },
      { name: 'operations', description: 'Metrics, health and this document' },
    ],
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'A token from `http.tokens` in the config, of the scope the route needs.' },
      },
    },
  },
  refResolver: {
    buildLocalReference: (json, _baseUri, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`),
  },
};
