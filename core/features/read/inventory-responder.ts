import { inventoryQuerySubject } from '../../bus/subjects.ts';
import type { BusResponder } from '../../bus/reply-to-requests.ts';
import { describeError, ErrorCodes } from '../../errors.ts';
import { authorize } from '../../http/auth.ts';
import { describeProblems, errorBody, type ErrorBody } from '../../http/error-body.ts';
import { ROUTE_SCHEMAS } from '../../http/route-schemas.ts';
import { bodyCheck } from '../../http/route-validation.ts';
import type { HubContext } from '../hub-context.ts';
import type { ReadInventoryStatus } from './inventory-status.ts';

/** Hubs sharing a bus answer each query once between them. */
const QUEUE_GROUP = 'stockrelay-read';

/** The body of `POST /v1/inventory/query`, checked by the same schema over the bus. */
const checkSkuQuery = bodyCheck<{ skus: string[] }>(ROUTE_SCHEMAS.inventoryQuery.body);

/** An error answer over the bus: the one error body of the HTTP API, with the same catalogue codes. */
export type BusErrorAnswer = ErrorBody;

/**
 * Answers `<prefix>.query.inventory` requests: a JSON body `{ skus: [...] }` (1..500) and an
 * `Authorization: Bearer <token>` header with a read-scope token, exactly as over HTTP. The reply is
 * `{ items: InventoryStatus[] }` or a {@link BusErrorAnswer}; a request without a reply subject is ignored.
 */
export function startInventoryResponder(ctx: Pick<HubContext, 'config' | 'bus' | 'logger'>, read: ReadInventoryStatus): BusResponder {
  const tokens = ctx.config.http.tokens;
  return ctx.bus.respond(inventoryQuerySubject(ctx.config.nats.subjectPrefix), { queue: QUEUE_GROUP, name: 'inventory query' }, async (request) => {
    const auth = authorize(tokens, request.header('Authorization'), 'read');
    if (!auth.ok) return errorBody(auth.code, auth.message) satisfies BusErrorAnswer;
    let body: unknown;
    try {
      body = request.json();
    } catch {
      return errorBody(ErrorCodes.INVALID_REQUEST, 'the request body is not JSON', [{ path: '/', message: 'is not JSON' }]) satisfies BusErrorAnswer;
    }
    const parsed = checkSkuQuery(body);
    if (!parsed.ok) return errorBody(ErrorCodes.INVALID_REQUEST, describeProblems(parsed.problems), parsed.problems) satisfies BusErrorAnswer;
    try {
      return { items: await read(parsed.value.skus) };
    } catch (err) {
      ctx.logger.error('inventory query failed', { error: describeError(err) });
      return errorBody(ErrorCodes.DATABASE_UNAVAILABLE, 'the ledger could not be read; try again') satisfies BusErrorAnswer;
    }
  });
}
