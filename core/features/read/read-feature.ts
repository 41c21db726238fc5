import type { BusResponder } from '../../bus/reply-to-requests.ts';
import type { HubFeature } from '../hub-feature.ts';
import { startInventoryResponder } from './inventory-responder.ts';
import { inventoryStatusReader, type ReadInventoryStatus } from './inventory-status.ts';
import { readRoutes } from './read-routes.ts';

/**
 * The read API for agents and storefronts: `GET /v1/inventory…` and `GET /v1/channels` over HTTP, and
 * inventory queries over NATS request-reply (`<prefix>.query.inventory`). Both answer through one reader,
 * so reads arriving together share one ledger statement whichever way they came.
 */
export function readFeature(): HubFeature {
  let read: ReadInventoryStatus | undefined;
  let responder: BusResponder | undefined;
  return {
    name: 'read',
    start(ctx) {
      read = inventoryStatusReader(ctx);
      responder = startInventoryResponder(ctx, read);
    },
    routes(app, ctx) {
      readRoutes(app, ctx, read!);
    },
    async stop() {
      await responder?.stop();
    },
  };
}
