import Fastify, { type FastifyInstance } from 'fastify';
import { describeError, isStockrelayError, ErrorCodes } from '../errors.ts';
import type { InventoryEvent } from '../events/event-types.ts';
import type { ConnectorInstance, Logger, WebhookRequest } from '../sdk.ts';
import type { HubMetrics } from '../metrics/hub-metrics.ts';

export interface WebhookTarget {
  channelId: string;
  connector: ConnectorInstance;
}

export interface HttpServerOptions {
  host: string;
  port: number;
  logger: Logger;
  metrics: HubMetrics;
  webhooks: ReadonlyMap<string, WebhookTarget>;
  /** Publishes one event to JetStream and resolves once the stream stored it. */
  publish(event: InventoryEvent): Promise<{ duplicate: boolean }>;
  health(): Promise<{ ok: boolean; checks: Record<string, unknown> }>;
  /** Extra routes (read API, dashboard) registered by other parts of the hub. */
  routes?: Array<(app: FastifyInstance) => void | Promise<void>>;
  signal: AbortSignal;
}

/** Largest webhook body accepted; channel order payloads are far smaller. */
const WEBHOOK_BODY_LIMIT = 2 * 1024 * 1024;

/**
 * The hub's HTTP surface: `/metrics`, `/healthz`, and `POST /webhooks/<channel>`, which checks the
 * channel's signature over the raw body before anything is parsed, publishes the events, then answers.
 */
export async function startHttpServer(options: HttpServerOptions): Promise<{ app: FastifyInstance; url: string }> {
  const app = Fastify({ logger: false, bodyLimit: WEBHOOK_BODY_LIMIT, forceCloseConnections: true });

  app.get('/metrics', async (_req, reply) => {
    reply.header('content-type', options.metrics.registry.contentType);
    return options.metrics.registry.metrics();
  });

  app.get('/healthz', async (_req, reply) => {
    const health = await options.health();
    reply.code(health.ok ? 200 : 503);
    return health;
  });

  await app.register(async (scope) => {
    // Webhooks keep their raw bytes: a signature is over the body exactly as sent.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

    const handler = async (req: import('fastify').FastifyRequest, reply: import('fastify').FastifyReply) => {
      const { channel } = req.params as { channel: string };
      const target = options.webhooks.get(channel);
      if (!target?.connector.handleWebhook) {
        reply.code(404);
        return { error: 'unknown_channel', message: `no channel "${channel}" accepts webhooks` };
      }
      const request: WebhookRequest = {
        rawBody: Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0),
        headers: lowerCaseHeaders(req.headers),
        path: (req.params as { '*'?: string })['*'] ?? '',
        query: req.query as Record<string, string | undefined>,
      };
      let outcome;
      try {
        outcome = await target.connector.handleWebhook(request, options.signal);
      } catch (err) {
        if (isStockrelayError(err) && err.code === ErrorCodes.WEBHOOK_SIGNATURE) {
          options.logger.warn('webhook refused: bad signature', { channel, error: describeError(err) });
          reply.code(401);
          return { error: 'invalid_signature' };
        }
        if (isStockrelayError(err) && err.code === ErrorCodes.WEBHOOK_PAYLOAD) {
          options.logger.warn('webhook refused: bad payload', { channel, error: describeError(err) });
          reply.code(400);
          return { error: 'invalid_payload', message: describeError(err) };
        }
        // Fetching the order failed, or the connector broke: 503 makes the channel deliver again.
        options.logger.error('webhook failed', { channel, error: describeError(err) });
        reply.code(503);
        return { error: 'unavailable' };
      }
      try {
        await Promise.all(outcome.events.map((event) => options.publish(event)));
      } catch (err) {
        options.logger.error('webhook events could not be published', { channel, error: describeError(err) });
        reply.code(503);
        return { error: 'unavailable' };
      }
      const response = outcome.response;
      reply.code(response?.status ?? 200);
      if (response?.headers) reply.headers(response.headers);
      return response?.body ?? { accepted: outcome.events.length };
    };
    scope.post('/webhooks/:channel', handler);
    scope.post('/webhooks/:channel/*', handler);
    scope.get('/webhooks/:channel', handler);
  });

  for (const register of options.routes ?? []) await register(app);

  const url = await app.listen({ host: options.host, port: options.port });
  return { app, url };
}

function lowerCaseHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(headers)) out[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  return out;
}
