import type { Msg, Subscription } from '@nats-io/transport-node';
import { inventoryQuerySubject } from '../bus/subjects.ts';
import { describeError, ErrorCodes } from '../errors.ts';
import { authorize } from '../http/auth.ts';
import { errorBody, type ErrorBody } from '../http/error-body.ts';
import type { Hub } from '../hub.ts';
import { inventoryStatus } from './inventory-status.ts';
import { describeProblems, parseSkuQuery } from './sku-query.ts';

/** Hubs sharing a bus answer each query once between them. */
const QUEUE_GROUP = 'stockrelay-read';

/** A running responder; `stop` drains the subscription (queries already received are still answered). */
export interface InventoryResponder {
  readonly subject: string;
  stop(): Promise<void>;
}

/** An error answer over the bus: the one error body of the HTTP API, with the same catalogue codes. */
export type BusErrorAnswer = ErrorBody;

/**
 * Answers `<prefix>.query.inventory` requests: a JSON body `{ skus: [...] }` (1..500) and an
 * `Authorization: Bearer <token>` header with a read-scope token, exactly as over HTTP. The reply is
 * `{ items: InventoryStatus[] }` or a {@link BusErrorAnswer}; a request without a reply subject is ignored.
 */
export function startInventoryResponder(hub: Hub): InventoryResponder {
  const subject = inventoryQuerySubject(hub.loaded.config.nats.subjectPrefix);
  const tokens = hub.loaded.config.http.tokens;
  const subscription: Subscription = hub.bus.nc.subscribe(subject, {
    queue: QUEUE_GROUP,
    callback: (err, msg) => {
      if (err) {
        hub.logger.warn('inventory query subscription error', { error: describeError(err) });
        return;
      }
      void answer(msg);
    },
  });

  async function answer(msg: Msg): Promise<void> {
    if (!msg.reply) return;
    const reply = (body: unknown): void => {
      try {
        msg.respond(JSON.stringify(body));
      } catch (err) {
        hub.logger.warn('inventory query reply failed', { error: describeError(err) });
      }
    };
    const auth = authorize(tokens, msg.headers?.get('Authorization') || undefined, 'read');
    if (!auth.ok) return reply(errorBody(auth.code, auth.message) satisfies BusErrorAnswer);
    let body: unknown;
    try {
      body = msg.json();
    } catch {
      return reply(errorBody(ErrorCodes.INVALID_REQUEST, 'the request body is not JSON', [{ path: '/', message: 'is not JSON' }]) satisfies BusErrorAnswer);
    }
    const parsed = parseSkuQuery(body);
    if (!parsed.ok) return reply(errorBody(ErrorCodes.INVALID_REQUEST, describeProblems(parsed.problems), parsed.problems) satisfies BusErrorAnswer);
    try {
      reply({ items: await inventoryStatus(hub, parsed.skus) });
    } catch (err) {
      hub.logger.error('inventory query failed', { error: describeError(err) });
      reply(errorBody(ErrorCodes.DATABASE_UNAVAILABLE, 'the ledger could not be read; try again') satisfies BusErrorAnswer);
    }
  }

  return {
    subject,
    async stop() {
      if (subscription.isClosed()) return;
      await subscription.drain().catch(() => subscription.unsubscribe());
    },
  };
}
