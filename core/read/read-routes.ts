import type { FastifyInstance, FastifyReply } from 'fastify';
import { ErrorCodes, type Problem } from '../errors.ts';
import { requireScope } from '../http/auth.ts';
import { sendError } from '../http/error-body.ts';
import type { HubContext } from '../hub-context.ts';
import { channelSummaries } from './channel-summary.ts';
import type { ReadInventoryStatus } from './inventory-status.ts';
import { describeProblems, MAX_SKU_LENGTH, parseSkuList, parseSkuQuery } from './sku-query.ts';

/**
 * The read API for agents and storefronts (read scope):
 * - `GET /v1/inventory/:sku` → one {@link InventoryStatus}. An unknown SKU answers 200 with
 *   `known: false`, not 404: the question was valid and "the ledger has none" is its answer, the same
 *   shape as in the batch form, and a 404 stays reserved for a wrong URL.
 * - `POST /v1/inventory/query` `{ skus: [...] }` (1..500) and `GET /v1/inventory?sku=a&sku=b` →
 *   `{ items: InventoryStatus[] }`, in the order asked.
 * - `GET /v1/channels` → `{ channels: ChannelSummary[] }`.
 * Every answer is read from the ledger when asked (`Cache-Control: no-store`); a bad request answers
 * 400 `SR_INVALID_REQUEST` with `problems: [{ path, message }]` naming each field (the one error body).
 */
export function readRoutes(app: FastifyInstance, ctx: Pick<HubContext, 'config' | 'channels' | 'metrics'>, inventoryStatus: ReadInventoryStatus): void {
  const preHandler = requireScope(ctx.config.http.tokens, 'read');

  app.get('/v1/inventory/:sku', { preHandler }, async (req, reply) => {
    const { sku } = req.params as { sku: string };
    if (sku.length === 0 || sku.length > MAX_SKU_LENGTH) return invalid(reply, [{ path: 'sku', message: `must be 1..${MAX_SKU_LENGTH} characters` }]);
    noStore(reply);
    const [status] = await inventoryStatus([sku]);
    return status;
  });

  app.get('/v1/inventory', { preHandler }, async (req, reply) => {
    const raw = (req.query as { sku?: string | string[] }).sku;
    const parsed = parseSkuList(raw === undefined ? [] : Array.isArray(raw) ? raw : [raw], 'sku');
    if (!parsed.ok) return invalid(reply, parsed.problems);
    noStore(reply);
    return { items: await inventoryStatus(parsed.skus) };
  });

  app.post('/v1/inventory/query', { preHandler }, async (req, reply) => {
    const parsed = parseSkuQuery(req.body);
    if (!parsed.ok) return invalid(reply, parsed.problems);
    noStore(reply);
    return { items: await inventoryStatus(parsed.skus) };
  });

  app.get('/v1/channels', { preHandler }, async (_req, reply) => {
    noStore(reply);
    return { channels: await channelSummaries(ctx) };
  });
}

function noStore(reply: FastifyReply): void {
  reply.header('cache-control', 'no-store');
}

function invalid(reply: FastifyReply, problems: readonly Problem[]): FastifyReply {
  return sendError(reply, ErrorCodes.INVALID_REQUEST, [describeProblems(problems)], problems);
}
