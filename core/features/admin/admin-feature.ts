import type { HubFeature } from '../hub-feature.ts';
import { deadLetterRoutes } from './dead-letter-routes.ts';
import { whyRoutes } from './why-routes.ts';

/**
 * The operator's HTTP tools: the dead-letter stream (list, show, replay, discard; admin scope) and
 * `GET /v1/why/:channel/:sku` (read scope). Nothing runs between requests.
 */
export function adminFeature(): HubFeature {
  return {
    name: 'admin',
    routes(app, ctx) {
      deadLetterRoutes(app, ctx);
      whyRoutes(app, ctx);
    },
  };
}
