import { requireScope } from '../http/auth.ts';
import type { HubRoute } from '../http/hub-routes.ts';
import { alertEngineOf } from './start-alert-engine.ts';

/**
 * `GET /v1/alerts` (read scope) → `{ evaluatedAt, alerts: Alert[] }`: firing alerts first (critical,
 * then oldest), then those cleared in the last 15 minutes. `evaluatedAt` is null until the first evaluation.
 */
export const alertRoutes: HubRoute = (app, hub) => {
  app.get('/v1/alerts', { preHandler: requireScope(hub.loaded.config.http.tokens, 'read') }, async (_req, reply) => {
    reply.header('cache-control', 'no-store');
    const engine = alertEngineOf(hub);
    const evaluatedAt = engine?.evaluatedAt ?? null;
    return { evaluatedAt: evaluatedAt === null ? null : new Date(evaluatedAt).toISOString(), alerts: engine?.list() ?? [] };
  });
};
