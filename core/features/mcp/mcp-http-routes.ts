import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { describeError } from '../../errors.ts';
import { requireScope, type ApiToken } from '../../http/auth.ts';
import { ROUTE_SCHEMAS } from '../../http/route-schemas.ts';
import type { Logger } from '../../sdk.ts';
import type { McpReadSource } from './mcp-read-source.ts';
import { createStockMcpServer } from './mcp-server.ts';
import { serverVersion } from './server-version.ts';

/** Where the hub serves MCP over Streamable HTTP. */
export const MCP_PATH = '/mcp';

export interface McpHttpOptions {
  /** The configured tokens; a read (or admin) token is required for every request. */
  tokens: readonly ApiToken[];
  source: McpReadSource;
  lagHalfLifeMs: number;
  logger: Logger;
}

/**
 * Serves the MCP tools at `POST /mcp` (Streamable HTTP, stateless): each request gets a server and a
 * transport of its own and answers with JSON, so any hub process sharing a ledger can answer any
 * request, and nothing is kept between requests. Every request needs `Authorization: Bearer <read
 * token>` (401 without, with the hub's error body, as for the read API). There is no session and no
 * server-sent stream: GET and DELETE answer 405.
 *
 * Past the token check, errors are the protocol's own: a JSON-RPC error object, as the SDK's transport
 * answers a malformed request, because that is what an MCP client reads from this endpoint.
 */
export async function mcpHttpRoutes(app: FastifyInstance, options: McpHttpOptions): Promise<void> {
  const version = await serverVersion();
  // On request: the token is checked before the body is read.
  const onRequest = requireScope(options.tokens, 'read');

  app.post(MCP_PATH, { onRequest, schema: ROUTE_SCHEMAS.mcp }, async (req, reply) => {
    const server = createStockMcpServer(options.source, {
      lagHalfLifeMs: options.lagHalfLifeMs,
      version,
      onReadError: (tool, err) => options.logger.warn('MCP tool could not read', { tool, error: describeError(err) }),
    });
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
    reply.raw.on('close', () => {
      void transport.close();
      void server.close();
    });
    // The transport writes the answer itself: Fastify must not send one too.
    reply.hijack();
    try {
      await server.connect(transport);
      await transport.handleRequest(req.raw, reply.raw, req.body);
    } catch (err) {
      options.logger.error('MCP request failed', { error: describeError(err) });
      if (!reply.raw.headersSent) {
        reply.raw.writeHead(500, { 'content-type': 'application/json' });
        reply.raw.end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32603, message: 'internal error' }, id: null }));
      }
    }
  });

  const notAllowed = async (_req: unknown, reply: FastifyReply) => {
    reply.code(405).header('allow', 'POST');
    return { jsonrpc: '2.0', error: { code: -32000, message: 'this server is stateless: send JSON-RPC requests with POST' }, id: null };
  };
  app.get(MCP_PATH, { onRequest, schema: ROUTE_SCHEMAS.mcpOtherMethods }, notAllowed);
  app.delete(MCP_PATH, { onRequest, schema: ROUTE_SCHEMAS.mcpOtherMethods }, notAllowed);
}
