import { parseArgs } from 'node:util';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { RequestId } from '@modelcontextprotocol/sdk/types.js';
import { loadConfig } from '../config/load-config.ts';
import { UsageError, describeError } from '../internal.ts';
import { hubReadApiOf, ledgerReadSource } from '../features/mcp/ledger-read-source.ts';
import { createStockMcpServer } from '../features/mcp/mcp-server.ts';
import { serverVersion } from '../features/mcp/server-version.ts';
import { configSecrets } from './redacting-output.ts';
import { withLedger } from './with-ledger.ts';

/** Longest wait for requests still being answered when the client closes stdin, ms. */
const DRAIN_TIMEOUT_MS = 10_000;

export const MCP_USAGE = 'usage: stockrelay mcp --config <file> [--hub <url>]';

/** The streams the stdio server speaks over; the process's own unless a test gives others. */
export interface StdioStreams {
  stdin: NodeJS.ReadableStream & { on(event: 'end' | 'close', listener: () => void): unknown };
  stdout: NodeJS.WritableStream;
}

/**
 * `stockrelay mcp --config <file>`: an MCP server on stdin/stdout for an agent's MCP client to start.
 * Like `stockrelay stock get` and `stockrelay why` it opens the config's ledger and reads it directly,
 * starting no dispatcher, so it answers whether or not a hub runs; alerts and live channel figures are
 * asked of the running hub's read API (`--hub`, default the config's http address, with
 * STOCKRELAY_READ_TOKEN or the config's read token). stdout carries the protocol only; anything else
 * goes to stderr. Runs until the client closes stdin, or SIGINT/SIGTERM.
 */
export async function runMcp(args: readonly string[], err: (line: string) => void, streams: StdioStreams = { stdin: process.stdin, stdout: process.stdout }): Promise<number> {
  const { values } = parseArgs({ args: [...args], options: { config: { type: 'string', short: 'c' }, hub: { type: 'string' } } });
  if (!values.config) throw new UsageError(`--config <file> is required\n${MCP_USAGE}`);
  if (values.hub !== undefined && !URL.canParse(values.hub)) throw new UsageError(`--hub must be a URL such as http://127.0.0.1:8080 (got ${JSON.stringify(values.hub)})`);
  const loaded = await loadConfig(values.config);
  const secrets = await configSecrets(loaded);
  const envToken = process.env.STOCKRELAY_READ_TOKEN;
  const hub = hubReadApiOf(loaded, { ...(values.hub !== undefined ? { url: values.hub } : {}), ...(envToken ? { token: envToken } : {}) });
  if (envToken) secrets.add(envToken);
  const version = await serverVersion();

  return withLedger(loaded, async ({ db, ledger }) => {
    const source = ledgerReadSource({ loaded, db, ledger, hub, redact: (text) => secrets.redact(text) });
    const server = createStockMcpServer(source, {
      lagHalfLifeMs: loaded.config.alerts.syncLagP99Ms,
      version,
      onReadError: (tool, e) => err(`mcp: ${tool} failed: ${secrets.redact(describeError(e))}`),
    });
    const transport = new StdioServerTransport(streams.stdin as NodeJS.ReadStream, streams.stdout as NodeJS.WriteStream);
    transport.onerror = (e) => err(`mcp: ${secrets.redact(describeError(e))}`);
    let finish = (): void => undefined;
    const done = new Promise<void>((resolve) => (finish = resolve));
    streams.stdin.on('end', finish);
    streams.stdin.on('close', finish);
    process.on('SIGINT', finish);
    process.on('SIGTERM', finish);
    try {
      await server.connect(transport);
      const answered = trackAnswers(transport);
      err(`stockrelay MCP server on stdio, reading ${loaded.path}`);
      await done;
      // A client may send its last requests and close stdin at once: answer them before closing.
      await answered.all(DRAIN_TIMEOUT_MS);
      await server.close();
    } finally {
      // A later signal must end the process as usual, not land in a listener that no longer waits.
      process.off('SIGINT', finish);
      process.off('SIGTERM', finish);
    }
    return 0;
  });
}

/**
 * Counts the requests the server received and has not answered yet, by wrapping the transport's two
 * directions (after `connect`, which installs the server's handler).
 */
function trackAnswers(transport: Transport): { all(timeoutMs: number): Promise<void> } {
  const open = new Set<RequestId>();
  let drained: (() => void) | undefined;
  const receive = transport.onmessage;
  transport.onmessage = (message, extra) => {
    if ('method' in message && 'id' in message) open.add(message.id);
    receive?.(message, extra);
  };
  const send = transport.send.bind(transport);
  transport.send = async (message, options) => {
    await send(message, options);
    if (('result' in message || 'error' in message) && message.id !== undefined && open.delete(message.id) && open.size === 0) drained?.();
  };
  return {
    all(timeoutMs) {
      if (open.size === 0) return Promise.resolve();
      return new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, timeoutMs);
        drained = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    },
  };
}
