import fastifySwagger from '@fastify/swagger';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { describeError, isStockrelayError, ErrorCodes } from '../errors.ts';
import type { InventoryEvent } from '../events/event-types.ts';
import type { ConnectorInstance, Logger, WebhookOutcome, WebhookRequest } from '../sdk.ts';
import type { HubMetrics } from '../metrics/hub-metrics.ts';
import { requireScope, type ApiToken } from './auth.ts';
import { answerFrameworkError, sendError } from './error-body.ts';
import { OPENAPI_OPTIONS } from './openapi.ts';
import { ROUTE_SCHEMAS } from './route-schemas.ts';
import { installHttpConventions } from './route-validation.ts';
import { checkWebhookEvents } from './check-webhook-events.ts';
import { DeadlineError, withDeadline } from './with-deadline.ts';

export interface WebhookTarget {
  channelId: string;
  connector: ConnectorInstance;
}

/** Deadlines of the HTTP server (`config.http`); see the config schema for what each bounds. */
export interface HttpTimeouts {
  /** The whole request (headers and body) must have arrived within this, ms. */
  requestTimeoutMs: number;
  /** An idle socket is closed after this, ms. */
  connectionTimeoutMs: number;
  /** An idle keep-alive connection is closed after this, ms. */
  keepAliveTimeoutMs: number;
  /** A connector's `handleWebhook` (signature check, order fetch) must settle within this, ms; 503 otherwise. */
  webhookTimeoutMs: number;
}

export const DEFAULT_HTTP_TIMEOUTS: Readonly<HttpTimeouts> = Object.freeze({ requestTimeoutMs: 15_000, connectionTimeoutMs: 60_000, keepAliveTimeoutMs: 5_000, webhookTimeoutMs: 10_000 });

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
  timeouts?: Partial<HttpTimeouts>;
  /** When given, `/metrics` and `/healthz` need a token of the `metrics` (or `admin`) scope from these. */
  protectMetrics?: readonly ApiToken[];
  /** Masks known secrets in text the server answers with (a connector's error message). */
  redact?: (text: string) => string;
}

/** One route the server serves (HEAD routes Fastify adds for GET ones left out). */
export interface ServedRoute {
  method: string;
  url: string;
}

const served = new WeakMap<FastifyInstance, ServedRoute[]>();

/** Every route `app` serves, in the order registered: what `/openapi.json` must list. */
export function servedRoutes(app: FastifyInstance): readonly ServedRoute[] {
  return served.get(app) ?? [];
}

/** Largest webhook body accepted; channel order payloads are far smaller. */
const WEBHOOK_BODY_LIMIT = 2 * 1024 * 1024;

/**
 * The hub's HTTP surface: `/metrics`, `/healthz`, and `POST /webhooks/<channel>`, which checks the
 * channel's signature over the raw body before anything is parsed, checks every event the connector
 * made of it, publishes them, then answers.
 *
 * Answers to a channel: 401 for a bad signature, 400 for a payload we can never take (the channel stops
 * re-delivering it), 503 when something on our side failed or took too long (the channel delivers again).
 */
export async function startHttpServer(options: HttpServerOptions): Promise<{ app: FastifyInstance; url: string }> {
  const timeouts: HttpTimeouts = { ...DEFAULT_HTTP_TIMEOUTS, ...options.timeouts };
  const redact = options.redact ?? ((text: string) => text);
  const app = Fastify({
    logger: false,
    bodyLimit: WEBHOOK_BODY_LIMIT,
    forceCloseConnections: true,
    // A SKU may be 256 characters (more once percent-encoded); the route schema, not the router, refuses longer ones.
    maxParamLength: 1024,
    frameworkErrors: answerFrameworkError,
    // Slow senders (a body trickling in, a socket left open) must not hold connections for ever.
    requestTimeout: timeouts.requestTimeoutMs,
    connectionTimeout: timeouts.connectionTimeoutMs,
    keepAliveTimeout: timeouts.keepAliveTimeoutMs,
    // Node enforces requestTimeout only when it sweeps connections (every 30 s by default): sweep often
    // enough that a slow sender is cut close to its deadline.
    http: { connectionsCheckingInterval: Math.max(250, Math.min(5_000, Math.floor(timeouts.requestTimeoutMs / 4))) },
  });
  // Node's default headersTimeout (60 s) is above a short requestTimeout; headers are part of the request.
  app.server.headersTimeout = Math.min(app.server.headersTimeout, timeouts.requestTimeoutMs);

  // Every answer that is not a success, on every route, is the one error body with a catalogue code;
  // route schemas validate input (ajv) and, through @fastify/swagger, make /openapi.json: all of it
  // installed before any route so that every route is in the document.
  installHttpConventions(app, options.logger);
  const routes: ServedRoute[] = [];
  served.set(app, routes);
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) if (method !== 'HEAD') routes.push({ method, url: route.url });
  });
  await app.register(fastifySwagger, OPENAPI_OPTIONS);
  app.get('/openapi.json', { schema: ROUTE_SCHEMAS.openapi }, async () => app.swagger());

  // Last line of defence: no answer of any route leaves with a known secret in it.
  app.addHook('onSend', async (_req, _reply, payload) => (typeof payload === 'string' ? redact(payload) : payload));

  const guard = options.protectMetrics ? { onRequest: requireScope(options.protectMetrics, 'metrics') } : {};
  app.get('/metrics', { ...guard, schema: ROUTE_SCHEMAS.metrics }, async (_req, reply) => {
    reply.header('content-type', options.metrics.registry.contentType);
    return options.metrics.registry.metrics();
  });

  app.get('/healthz', { ...guard, schema: ROUTE_SCHEMAS.healthz }, async (_req, reply) => {
    const health = await options.health();
    reply.code(health.ok ? 200 : 503);
    return health;
  });

  await app.register(async (scope) => {
    // Webhooks keep their raw bytes: a signature is over the body exactly as sent.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

    const handler = async (req: FastifyRequest, reply: FastifyReply) => {
      const { channel } = req.params as { channel: string };
      const target = options.webhooks.get(channel);
      if (!target?.connector.handleWebhook) return sendError(reply, ErrorCodes.WEBHOOK_CHANNEL_UNKNOWN, [channel]);
      const request: WebhookRequest = {
        rawBody: Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0),
        headers: lowerCaseHeaders(req.headers),
        path: (req.params as { '*'?: string })['*'] ?? '',
        query: req.query as Record<string, string | undefined>,
      };
      let outcome: WebhookOutcome;
      try {
        outcome = await withDeadline(timeouts.webhookTimeoutMs, options.signal, (signal) => target.connector.handleWebhook!(request, signal));
      } catch (err) {
        if (isStockrelayError(err) && err.code === ErrorCodes.WEBHOOK_SIGNATURE) {
          options.logger.warn('webhook refused: bad signature', { channel, error: describeError(err) });
          // The connector's reason stays in the log: it may say what the signature should have been.
          return sendError(reply, ErrorCodes.WEBHOOK_SIGNATURE, ['the webhook signature is missing or wrong']);
        }
        if (isStockrelayError(err) && err.code === ErrorCodes.WEBHOOK_PAYLOAD) {
          options.logger.warn('webhook refused: bad payload', { channel, error: describeError(err) });
          return sendError(reply, ErrorCodes.WEBHOOK_PAYLOAD, [redact(describeError(err))]);
        }
        if (err instanceof DeadlineError) {
          options.logger.error('webhook timed out', { channel, timeoutMs: timeouts.webhookTimeoutMs });
          return sendError(reply, ErrorCodes.WEBHOOK_TIMEOUT, [timeouts.webhookTimeoutMs]);
        }
        // Fetching the order failed, or the connector broke: 503 makes the channel deliver again.
        options.logger.error('webhook failed', { channel, error: describeError(err) });
        return sendError(reply, ErrorCodes.WEBHOOK_FAILED);
      }
      // A connector may return anything: nothing of a request is published unless all of it is sound.
      const checked = checkWebhookEvents(channel, (outcome as Partial<WebhookOutcome> | null | undefined)?.events);
      if (!checked.ok) {
        options.logger.warn('webhook refused: its events cannot be taken', { channel, reason: checked.reason });
        return sendError(reply, ErrorCodes.WEBHOOK_PAYLOAD, [redact(checked.reason)]);
      }
      try {
        await Promise.all(checked.events.map((event) => options.publish(event)));
      } catch (err) {
        options.logger.error('webhook events could not be published', { channel, error: describeError(err) });
        return sendError(reply, ErrorCodes.BUS_UNAVAILABLE, ['the events could not be stored now; deliver the webhook again']);
      }
      const response = outcome.response;
      reply.code(response?.status ?? 200);
      if (response?.headers) reply.headers(response.headers);
      return response?.body ?? { accepted: checked.events.length };
    };
    const webhook = { schema: ROUTE_SCHEMAS.webhook };
    scope.post('/webhooks/:channel', webhook, handler);
    scope.post('/webhooks/:channel/*', webhook, handler);
    scope.get('/webhooks/:channel', webhook, handler);
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
