import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';

/** One request as it left a connector. */
export interface RecordedRequest {
  method: string;
  /** Path and query string, as sent. */
  url: string;
  path: string;
  query: URLSearchParams;
  headers: Record<string, string | undefined>;
  body: string;
  /** The answer's status and body text, once it came back. */
  status?: number;
  responseBody?: string;
}

export interface RecordingProxy {
  /** Point the connector's base URL here. */
  url: string;
  requests: RecordedRequest[];
  close(): Promise<void>;
}

/**
 * A pass-through HTTP proxy in front of a simulator that records every request a connector sends, so a contract
 * test can hold each one against the vendor's published schema (body, path, required headers).
 */
export async function startRecordingProxy(target: string): Promise<RecordingProxy> {
  const requests: RecordedRequest[] = [];
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const url = new URL(req.url ?? '/', 'http://proxy');
    const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : v]));
    const recorded: RecordedRequest = { method: req.method ?? 'GET', url: req.url ?? '/', path: url.pathname, query: url.searchParams, headers, body: body.toString('utf8') };
    requests.push(recorded);
    try {
      const forwarded = { ...headers };
      delete forwarded.host;
      delete forwarded.connection;
      const answer = await request(`${target}${req.url ?? '/'}`, { method: (req.method ?? 'GET') as 'GET', headers: forwarded as Record<string, string>, body: body.length > 0 ? body : undefined });
      const text = await answer.body.arrayBuffer();
      recorded.status = answer.statusCode;
      recorded.responseBody = Buffer.from(text).toString('utf8');
      const out: Record<string, string> = {};
      for (const [k, v] of Object.entries(answer.headers)) if (typeof v === 'string' && k !== 'transfer-encoding' && k !== 'connection') out[k] = v;
      res.writeHead(answer.statusCode, out).end(Buffer.from(text));
    } catch (err) {
      res.writeHead(502).end(String(err));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
