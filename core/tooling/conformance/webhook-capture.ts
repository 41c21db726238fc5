import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { WebhookRequest } from '../../sdk.ts';

/** A request a simulator delivered, as the hub's ingress would hand it to `handleWebhook`. */
export type CapturedWebhook = WebhookRequest;

export interface WebhookCapture {
  /** The URL to give `setWebhookTarget`: it looks like the hub's `/webhooks/<channel>`. */
  url: string;
  /** Returns and forgets every request captured so far. */
  take(): CapturedWebhook[];
  /**
   * Waits until at least `min` requests arrived and none arrived for `quietMs` (a channel may send
   * several per order), then returns and forgets them. Resolves with what it has after `timeoutMs`.
   */
  settle(min: number, options?: { quietMs?: number; timeoutMs?: number; signal?: AbortSignal }): Promise<CapturedWebhook[]>;
  close(): Promise<void>;
}

function flatHeaders(req: IncomingMessage): Record<string, string | undefined> {
  const headers: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(req.headers)) headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  return headers;
}

/** A tiny local server standing in for the hub's webhook ingress: answers 200 and keeps each raw request. */
export async function startWebhookCapture(channelId: string): Promise<WebhookCapture> {
  const prefix = `/webhooks/${encodeURIComponent(channelId)}`;
  let captured: CapturedWebhook[] = [];
  let lastArrival = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      captured.push({
        rawBody: Buffer.concat(chunks),
        headers: flatHeaders(req),
        path: url.pathname.startsWith(prefix) ? url.pathname.slice(prefix.length) : url.pathname,
        query: Object.fromEntries(url.searchParams),
      });
      lastArrival = performance.now();
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  const take = (): CapturedWebhook[] => {
    const all = captured;
    captured = [];
    return all;
  };
  return {
    url: `http://127.0.0.1:${port}${prefix}`,
    take,
    async settle(min, options = {}) {
      const quietMs = options.quietMs ?? 150;
      const deadline = performance.now() + (options.timeoutMs ?? 5000);
      while (performance.now() < deadline && !options.signal?.aborted) {
        if (captured.length >= min && performance.now() - lastArrival >= quietMs) break;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      return take();
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
