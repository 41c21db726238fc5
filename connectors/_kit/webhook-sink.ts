import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isStockrelayError, type InventoryEvent, type WebhookOutcome, type WebhookRequest } from '../../core/sdk.ts';

/** One request the sink received and what the handler made of it. */
export interface SinkDelivery {
  headers: Readonly<Record<string, string | undefined>>;
  rawBody: Buffer;
  status: number;
  events: InventoryEvent[];
  error?: string;
}

export interface WebhookSink {
  /** URL to hand to a simulator's `setWebhookTarget`. */
  url: string;
  deliveries: SinkDelivery[];
  /** Every event returned so far, in delivery order. */
  events(): InventoryEvent[];
  close(): Promise<void>;
}

/**
 * A small HTTP endpoint that stands in for the hub's `/webhooks/<channel>` ingress: it passes the raw
 * request to `handle` (a connector's `handleWebhook`) and answers the way the ingress does
 * (401 on a signature error, 400 on a payload error, 500 otherwise), so simulators can be driven end to end.
 */
export async function startWebhookSink(handle: (request: WebhookRequest) => Promise<WebhookOutcome>): Promise<WebhookSink> {
  const deliveries: SinkDelivery[] = [];
  const lowerHeaders = (req: IncomingMessage): Record<string, string | undefined> => {
    const out: Record<string, string | undefined> = {};
    for (const [name, value] of Object.entries(req.headers)) out[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
    return out;
  };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const rawBody = Buffer.concat(chunks);
      const headers = lowerHeaders(req);
      const url = new URL(req.url ?? '/', 'http://localhost');
      handle({ rawBody, headers, path: '', query: Object.fromEntries(url.searchParams) })
        .then((outcome) => {
          const status = outcome.response?.status ?? 200;
          deliveries.push({ headers, rawBody, status, events: outcome.events });
          res.writeHead(status, { 'content-type': 'application/json' });
          res.end(JSON.stringify(outcome.response?.body ?? { ok: true }));
        })
        .catch((err: unknown) => {
          const code = isStockrelayError(err) ? err.code : 'unknown';
          const status = err instanceof Error && err.name === 'WebhookSignatureError' ? 401 : err instanceof Error && err.name === 'WebhookPayloadError' ? 400 : 500;
          deliveries.push({ headers, rawBody, status, events: [], error: `${code}: ${err instanceof Error ? err.message : String(err)}` });
          res.writeHead(status, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ error: code }));
        });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/webhooks`,
    deliveries,
    events: () => deliveries.flatMap((d) => d.events),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
