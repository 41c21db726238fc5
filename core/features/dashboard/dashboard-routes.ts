import { readFile } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ErrorCodes } from '../../errors.ts';
import { authorize } from '../../http/auth.ts';
import { sendError } from '../../http/error-body.ts';
import type { HubContext } from '../hub-context.ts';
import { ROUTE_SCHEMAS } from '../../http/route-schemas.ts';
import type { DashboardFeed, DashboardSnapshot } from './dashboard-feed.ts';

/** The page's files, served as they are: no build step, nothing fetched from elsewhere at run time. */
const ASSETS: Record<string, { file: string; type: string }> = {
  '/dashboard': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/dashboard/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/dashboard/charts.js': { file: 'charts.js', type: 'text/javascript; charset=utf-8' },
  '/dashboard/human-format.js': { file: 'human-format.js', type: 'text/javascript; charset=utf-8' },
  '/dashboard/app.css': { file: 'app.css', type: 'text/css; charset=utf-8' },
};

/** Everything the page loads comes from the hub itself; nothing inline, nothing third-party. */
const CONTENT_SECURITY_POLICY =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/**
 * The live dashboard:
 * - `GET /dashboard` (and its script and stylesheet): the page, served without a token. It holds no
 *   data; it asks for a token, keeps it in `sessionStorage` (gone with the tab) and sends it as
 *   `Authorization: Bearer` to the read API (`/v1/inventory/:sku`).
 * - `GET /v1/stream` (read scope): server-sent events, one `snapshot` event per second
 *   ({@link DashboardSnapshot}). The browser's `EventSource` cannot send headers, so this one route
 *   also accepts `?token=`. A token in a URL can end up in proxy logs and browser history, which is why
 *   no other route takes one there, the stream only reads, and the page asks browsers not to send its
 *   URL on (`Referrer-Policy: no-referrer`). Use a read token for the dashboard, never an admin one.
 *
 * Every open event stream is kept in `streams` while it lasts, so the feature can end them when the hub stops.
 */
export async function dashboardRoutes(app: FastifyInstance, ctx: Pick<HubContext, 'config'>, feed: DashboardFeed, streams: Set<ServerResponse>): Promise<void> {
  const folder = new URL('./static/', import.meta.url);
  const files = new Map<string, { body: Buffer; type: string }>();
  for (const [path, asset] of Object.entries(ASSETS)) files.set(path, { body: await readFile(new URL(asset.file, folder)), type: asset.type });

  for (const [path, asset] of files) {
    app.get(path, { schema: ROUTE_SCHEMAS.dashboardAsset }, async (_req, reply) => {
      reply
        .header('content-type', asset.type)
        .header('content-security-policy', CONTENT_SECURITY_POLICY)
        .header('referrer-policy', 'no-referrer')
        .header('x-content-type-options', 'nosniff')
        .header('cache-control', 'no-cache');
      return asset.body;
    });
  }
  app.get('/dashboard/', { schema: ROUTE_SCHEMAS.dashboardRedirect }, async (_req, reply) => reply.redirect('/dashboard'));

  const tokens = ctx.config.http.tokens;
  app.get('/v1/stream', { schema: ROUTE_SCHEMAS.stream }, async (req: FastifyRequest, reply: FastifyReply) => {
    const queryToken = (req.query as { token?: unknown }).token;
    const inUrl = req.headers.authorization === undefined && typeof queryToken === 'string';
    const header = req.headers.authorization ?? (inUrl ? `Bearer ${queryToken}` : undefined);
    const auth = authorize(tokens, header, 'read');
    if (!auth.ok) {
      reply.header('www-authenticate', 'Bearer realm="stockrelay"');
      return sendError(reply, auth.code, [auth.message]);
    }
    // A URL ends up in proxy logs and browser history: only a read token may travel there.
    if (inUrl && auth.principal.scope !== 'read') {
      reply.header('www-authenticate', 'Bearer realm="stockrelay", error="insufficient_scope"');
      return sendError(reply, ErrorCodes.FORBIDDEN, ['only a read token may be sent in the URL (?token=); send this one in the Authorization header']);
    }
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      // Proxies such as nginx would otherwise hold the events back in a buffer.
      'x-accel-buffering': 'no',
    });
    const send = (snapshot: DashboardSnapshot): void => {
      if (res.writableEnded || res.destroyed) return;
      res.write(`event: snapshot\ndata: ${JSON.stringify(snapshot)}\n\n`);
    };
    res.write('retry: 2000\n\n');
    streams.add(res);
    const unsubscribe = feed.subscribe(send);
    req.raw.on('close', () => {
      unsubscribe();
      streams.delete(res);
    });
    send(await feed.latest());
  });
}
