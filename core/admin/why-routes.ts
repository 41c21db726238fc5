import type { FastifyInstance } from 'fastify';
import { ErrorCodes } from '../errors.ts';
import { requireScope } from '../http/auth.ts';
import { sendError } from '../http/error-body.ts';
import type { HubContext } from '../hub-context.ts';

/** `GET /v1/why/:channel/:sku?limit=n` (read scope): the answer of `stockrelay why` as JSON. */
export function whyRoutes(app: FastifyInstance, ctx: Pick<HubContext, 'config' | 'ledger'>): void {
  const read = { preHandler: requireScope(ctx.config.http.tokens, 'read') };
  app.get<{ Params: { channel: string; sku: string }; Querystring: { limit?: string } }>('/v1/why/:channel/:sku', read, async (req, reply) => {
    const { channel: channelId, sku } = req.params;
    const channel = ctx.config.channels.find((c) => c.id === channelId);
    if (!channel) return sendError(reply, ErrorCodes.CHANNEL_NOT_FOUND, [channelId]);
    const limit = req.query.limit === undefined ? undefined : Number(req.query.limit);
    if (limit !== undefined && (!Number.isSafeInteger(limit) || limit < 1)) {
      return sendError(reply, ErrorCodes.INVALID_REQUEST, ['limit must be a whole number >= 1'], [{ path: 'limit', message: 'must be a whole number >= 1' }]);
    }
    const report = await ctx.ledger.explain(channel, sku, limit !== undefined ? { limit } : {});
    if (!report) return sendError(reply, ErrorCodes.SKU_NOT_FOUND, [channelId, sku]);
    return report;
  });
}
