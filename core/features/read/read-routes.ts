import type { FastifyInstance, FastifyReply } from 'fastify';
import { requireScope } from '../../http/auth.ts';
import { ROUTE_SCHEMAS } from '../../http/route-schemas.ts';
import type { HubContext } from '../hub-context.ts';
import { channelSummaries } from './channel-summary.ts';
import type { ReadInventoryStatus } from './inventory-status.ts';

/**
 * The read API for agents and storefronts (read scope):
 * - `GET /v1/inventory/:sku` → one {@link InventoryStatus}. An unknown SKU answers 200 with
 *   `known: false`, not 404: the question was valid and "the ledger has none" is its answer, the same
 *   shape as in the batch form, and a 404 stays reserved for a wrong URL.
 * - `POST /v1/inventory/query` `{ skus: [...] }` (1..500) and `GET /v1/inventory?sku=a&sku=b` →
 *   `{ items: InventoryStatus[] }`, in the order asked.
 * - `GET /v1/channels` → `{ channels: ChannelSummary[] }`.
 * Every answer is read from the ledger when asked (`Cache-Control: no-store`). Input is checked by the
 * route schemas (`ROUTE_SCHEMAS`) after the token: a bad request answers 400 `SR_INVALID_REQUEST` with
 * `problems: [{ path, message }]` naming each field (the one error body).
 */
export function readRoutes(app: FastifyInstance, ctx: Pick<HubContext, 'config' | 'channels' | 'metrics'>, inventoryStatus: ReadInventoryStatus): void {
  // On request, before the body is read or the input checked: a caller without a token learns nothing.
  const onRequest = requireScope(ctx.config.http.tokens, 'read');

  app.get<{ Params: { sku: string } }>('/v1/inventory/:sku', { onRequest, schema: ROUTE_SCHEMAS.inventoryOne }, async (req, reply) => {
    const { sku } = req.params;
    noStore(reply);
    const [status] = await inventoryStatus([sku]);
    return status;
  });

  app.get<{ Querystring: { sku: string[] } }>('/v1/inventory', { onRequest, schema: ROUTE_SCHEMAS.inventoryMany }, async (req, reply) => {
    noStore(reply);
    return { items: await inventoryStatus(req.query.sku) };
  });

  app.post<{ Body: { skus: string[] } }>('/v1/inventory/query', { onRequest, schema: ROUTE_SCHEMAS.inventoryQuery }, async (req, reply) => {
    noStore(reply);
    return { items: await inventoryStatus(req.body.skus) };
  });

  app.get('/v1/channels', { onRequest, schema: ROUTE_SCHEMAS.channels }, async (_req, reply) => {
    noStore(reply);
    return { channels: await channelSummaries(ctx) };
  });
}

function noStore(reply: FastifyReply): void {
  reply.header('cache-control', 'no-store');
}
