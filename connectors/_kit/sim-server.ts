import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { SimulatorFault } from '../../core/sdk.ts';
import { createLatencySampler, sleep, type LatencyProfile } from './latency.ts';

/** A request as a simulator route sees it: raw body kept for signature checks. */
export interface SimRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  rawBody: Buffer;
  /** The body parsed as JSON, or `undefined` when empty; a parse failure answers 400 before the route runs. */
  json: unknown;
}

export interface SimResponse {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
  /** The route changed state: with a `drop-after-write` fault the connection is cut instead of answering. */
  wrote?: boolean;
}

export type SimRoute = (req: SimRequest) => SimResponse | Promise<SimResponse>;

export interface SimServerOptions {
  port?: number;
  latency?: LatencyProfile;
  /** Answer given to every request while the `down` fault is set. */
  downResponse?: SimResponse;
  /** Answer given while the `throttle` fault is set. */
  throttleResponse?: (retryAfterMs: number) => SimResponse;
  route: SimRoute;
}

export interface SimServer {
  url: string;
  setFault(fault: SimulatorFault | null): void;
  counters: { requests: number; throttled: number; failed: number; dropped: number };
  close(): Promise<void>;
}

const defaultThrottle = (retryAfterMs: number): SimResponse => ({
  status: 429,
  headers: { 'retry-after': String(Math.max(1, Math.ceil(retryAfterMs / 1000))) },
  body: { error: 'rate_limited' },
});

/**
 * The HTTP plumbing every channel simulator shares: latency, faults and counters, so each
 * simulator file holds only what its channel's API says.
 */
export async function startSimServer(options: SimServerOptions): Promise<SimServer> {
  const sampleLatency = createLatencySampler(options.latency);
  let fault: SimulatorFault | null = null;
  const counters = { requests: 0, throttled: 0, failed: 0, dropped: 0 };

  const send = (res: ServerResponse, answer: SimResponse): void => {
    if (answer.status === 429) counters.throttled += 1;
    const headers: Record<string, string> = { ...answer.headers };
    let payload = '';
    if (answer.body !== undefined) {
      payload = typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body);
      headers['content-type'] ??= 'application/json';
    }
    res.writeHead(answer.status, headers);
    res.end(payload);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const rawBody = Buffer.concat(chunks);
    counters.requests += 1;
    // The API decides at arrival (rate limits, state) and the latency is spent before the answer goes
    // back, as a gateway throttles before the work: a request's place in the rate window is its arrival.
    const answer = await decide(req, rawBody);
    const delay = sampleLatency();
    if (delay > 0) await sleep(delay);
    if (answer === 'drop') {
      counters.dropped += 1;
      req.socket.destroy();
      return;
    }
    send(res, answer);
  };

  const decide = async (req: IncomingMessage, rawBody: Buffer): Promise<SimResponse | 'drop'> => {
    if (fault?.kind === 'down') {
      counters.failed += 1;
      return options.downResponse ?? { status: 503, body: { error: 'service_unavailable' } };
    }
    if (fault?.kind === 'throttle') return (options.throttleResponse ?? defaultThrottle)(fault.retryAfterMs);
    const url = new URL(req.url ?? '/', 'http://localhost');
    let json: unknown;
    if (rawBody.length > 0 && /json/.test(req.headers['content-type'] ?? 'application/json')) {
      try {
        json = JSON.parse(rawBody.toString('utf8'));
      } catch {
        return { status: 400, body: { error: 'invalid_json' } };
      }
    }
    const answer = await options.route({ method: req.method ?? 'GET', path: url.pathname, query: url.searchParams, headers: req.headers, rawBody, json });
    return fault?.kind === 'drop-after-write' && answer.wrote ? 'drop' : answer;
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      counters.failed += 1;
      if (!res.headersSent) send(res, { status: 500, body: { error: String(err) } });
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    counters,
    setFault(next) {
      fault = next;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
