import type { FastifyInstance } from 'fastify';
import { requireScope } from '../../http/auth.ts';
import type { HubContext } from '../hub-context.ts';
import { ROUTE_SCHEMAS } from '../../http/route-schemas.ts';

/**
 * `GET /v1/alerts` (read scope) → `{ evaluatedAt, alerts: Alert[] }`: firing alerts first (critical,
 * then oldest), then those cleared in the last 15 minutes. `evaluatedAt` is null until the first evaluation.
 */
export function alertRoutes(app: FastifyInstance, ctx: Pick<HubContext, 'config' | 'alerts'>): void {
  app.get('/v1/alerts', { onRequest: requireScope(ctx.config.http.tokens, 'read'), schema: ROUTE_SCHEMAS.alerts }, async (_req, reply) => {
    reply.header('cache-control', 'no-store');
    const evaluatedAt = ctx.alerts.evaluatedAt;
    return { evaluatedAt: evaluatedAt === null ? null : new Date(evaluatedAt).toISOString(), alerts: ctx.alerts.list() };
  });
}
