import type { Msg, NatsConnection, Subscription } from '@nats-io/transport-node';
import { describeError } from '../errors.ts';
import type { Logger } from '../sdk.ts';

/** One request-reply message, as a handler sees it. */
export interface BusRequest {
  /** A header of the request, or undefined when it has none of that name (or it is empty). */
  header(name: string): string | undefined;
  /** The body parsed as JSON; throws when it is not JSON. */
  json(): unknown;
}

/** Resolves with the reply's body (sent as JSON). */
export type BusRequestHandler = (request: BusRequest) => Promise<unknown>;

/** A running responder; `stop` drains the subscription (requests already received are still answered). */
export interface BusResponder {
  readonly subject: string;
  stop(): Promise<void>;
}

/**
 * Answers NATS request-reply messages on `subject` with what `handler` resolves to. Responders sharing
 * `queue` answer each request once between them; a message without a reply subject is ignored. A handler
 * that throws gets no reply (the requester times out); `name` labels the log lines.
 */
export function replyToRequests(nc: NatsConnection, subject: string, options: { queue: string; name: string; logger: Logger }, handler: BusRequestHandler): BusResponder {
  const { logger, name } = options;
  const subscription: Subscription = nc.subscribe(subject, {
    queue: options.queue,
    callback: (err, msg) => {
      if (err) {
        logger.warn(`${name} subscription error`, { error: describeError(err) });
        return;
      }
      void answer(msg);
    },
  });

  async function answer(msg: Msg): Promise<void> {
    if (!msg.reply) return;
    let body: unknown;
    try {
      body = await handler({ header: (key) => msg.headers?.get(key) || undefined, json: () => msg.json() });
    } catch (err) {
      logger.error(`${name} failed`, { error: describeError(err) });
      return;
    }
    try {
      msg.respond(JSON.stringify(body));
    } catch (err) {
      logger.warn(`${name} reply failed`, { error: describeError(err) });
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
