import type { FastifyInstance } from 'fastify';
import { ErrorCodes } from '../../errors.ts';
import { requireScope } from '../../http/auth.ts';
import { sendError } from '../../http/error-body.ts';
import type { HubContext } from '../hub-context.ts';
import { ROUTE_SCHEMAS } from '../../http/route-schemas.ts';

/** `GET /v1/why/:channel/:sku?limit=n` (read scope): the answer of `stockrelay why` as JSON. */
export function whyRoutes(app: FastifyInstance, ctx: Pick<HubContext, 'config' | 'ledger'>): void {
  const read = { onRequest: requireScope(ctx.config.http.tokens, 'read'), schema: ROUTE_SCHEMAS.why };
  app.get<{ Params: { channel: string; sku: string }; Querystring: { limit?: number } }>('/v1/why/:channel/:sku', read, async (req, reply) => {
    const { channel: channelId, sku } = req.params;
    const channel = ctx.config.channels.find((c) => c.id === channelId);
    if (!channel) return sendError(reply, ErrorCodes.CHANNEL_NOT_FOUND, [channelId]);
    const { limit } = req.query;
    const report = await ctx.ledger.explain(channel, sku, limit !== undefined ? { limit } : {});
    if (!report) return sendError(reply, ErrorCodes.SKU_NOT_FOUND, [channelId, sku]);
    return report;
  });
}
