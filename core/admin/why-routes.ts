import type { HubRoute } from '../http/hub-routes.ts';
import { requireScope } from '../http/auth.ts';
import { explainChannelQuantity } from './why.ts';

/** `GET /v1/why/:channel/:sku?limit=n` (read scope): the answer of `stockrelay why` as JSON. */
export const whyRoutes: HubRoute = (app, hub) => {
  const read = { preHandler: requireScope(hub.loaded.config.http.tokens, 'read') };
  app.get<{ Params: { channel: string; sku: string }; Querystring: { limit?: string } }>('/v1/why/:channel/:sku', read, async (req, reply) => {
    const { channel: channelId, sku } = req.params;
    const channel = hub.loaded.config.channels.find((c) => c.id === channelId);
    if (!channel) {
      reply.code(404);
      return { error: 'not_found', message: `no channel "${channelId}" in the config` };
    }
    const limit = req.query.limit === undefined ? undefined : Number(req.query.limit);
    if (limit !== undefined && (!Number.isSafeInteger(limit) || limit < 1)) {
      reply.code(400);
      return { error: 'bad_request', message: 'limit must be a whole number >= 1' };
    }
    const report = await explainChannelQuantity(hub.ledger, channel, sku, limit !== undefined ? { limit } : {});
    if (!report) {
      reply.code(404);
      return { error: 'not_found', message: `neither the ledger nor channel "${channelId}" knows SKU "${sku}"` };
    }
    return report;
  });
};
