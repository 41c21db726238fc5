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
  /**
   * The fault in effect when the route runs. Generic faults never reach a route (the server answers
   * them itself); a route reads this only for the per-item kinds it declared in `itemFaults`.
   */
  fault: SimulatorFault | null;
}

export interface SimResponse {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
  /** The route changed state: with a `drop-after-write` fault the connection is cut instead of answering. */
  wrote?: boolean;
}

/** One API call as a simulator saw it, for checking requests and answers against the vendor's models. */
export interface SimExchange {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
  status: number;
  response: unknown;
}

export type SimRoute = (req: SimRequest) => SimResponse | Promise<SimResponse>;

/** Fault kinds whose answer is per item, in the channel's own shape: only a channel's route can produce them. */
export type ItemFaultKind = Extract<SimulatorFault['kind'], 'item-locked' | 'item-unknown'>;

/** Fault kinds every simulator built on {@link startSimServer} implements without help from its route. */
export const GENERIC_FAULT_KINDS: readonly SimulatorFault['kind'][] = Object.freeze([
  'down',
  'throttle',
  'drop-after-write',
  'server-error',
  'hang',
  'hold-writes',
  'echo-errors',
]);

/** What an `echo-errors` answer repeats of the request: everything a careless channel would. */
export interface EchoedRequest {
  method: string;
  /** Path with the query string, as sent. */
  path: string;
  headers: IncomingMessage['headers'];
  /** The raw body as UTF-8 text. */
  body: string;
}

export interface SimServerOptions {
  port?: number;
  latency?: LatencyProfile;
  /** The channel's name, used in the error `setFault` throws for a kind this simulator does not implement. */
  name?: string;
  /**
   * Per-item fault kinds this simulator's route implements (reading `req.fault`), in the channel's own
   * per-item answer shape. Any kind not listed here nor generic makes `setFault` throw.
   */
  itemFaults?: readonly ItemFaultKind[];
  /** Answer given to every request while the `down` fault is set. */
  downResponse?: SimResponse;
  /** Answer given while the `throttle` fault is set. */
  throttleResponse?: (retryAfterMs: number) => SimResponse;
  /** Answer given while the `server-error` fault is set. Default: `status` with `{ error: 'internal_error' }`. */
  serverErrorResponse?: (status: number) => SimResponse;
  /**
   * Answer given while the `echo-errors` fault is set, in the channel's error shape. Default: 400 with
   * `{ error: 'bad_request', message, request }`. It must carry the whole echoed request.
   */
  echoErrorResponse?: (request: EchoedRequest) => SimResponse;
  /**
   * Which requests change state, for `hold-writes`. Default: every method but GET and HEAD. Channels
   * that read through POST (GraphQL) say which of their requests are writes.
   */
  isWrite?: (req: SimRequest) => boolean;
  route: SimRoute;
}

export interface SimServer {
  url: string;
  /**
   * Makes the simulated API misbehave until cleared with `null`. Throws, naming the kind, for a kind
   * this simulator does not implement, and for parameters out of range, so no test believes it
   * injected a fault that never happens.
   */
  setFault(fault: SimulatorFault | null): void;
  /** The fault in effect now. */
  fault(): SimulatorFault | null;
  /** Every fault kind `setFault` accepts: the generic ones and the route's declared per-item ones. */
  faults: readonly SimulatorFault['kind'][];
  counters: {
    requests: number;
    throttled: number;
    failed: number;
    dropped: number;
    /** Requests a `hang` fault kept open. */
    hung: number;
    /** Writes a `hold-writes` fault delayed. */
    held: number;
    /** Held or hung requests whose client had gone before the answer could be sent. */
    abandoned: number;
  };
  close(): Promise<void>;
}

const defaultThrottle = (retryAfterMs: number): SimResponse => ({
  status: 429,
  headers: { 'retry-after': String(Math.max(1, Math.ceil(retryAfterMs / 1000))) },
  body: { error: 'rate_limited' },
});

const defaultServerError = (status: number): SimResponse => ({ status, body: { error: 'internal_error', message: 'the server failed to handle the request' } });

const defaultEcho = (request: EchoedRequest): SimResponse => ({
  status: 400,
  body: { error: 'bad_request', message: `could not process ${request.method} ${request.path}`, request },
});

const defaultIsWrite = (req: SimRequest): boolean => req.method !== 'GET' && req.method !== 'HEAD';

/** Throws when `fault` is not one this server can produce, or its parameters make no sense. */
function checkFault(fault: SimulatorFault, supported: ReadonlySet<string>, name: string): void {
  const kind = (fault as { kind?: unknown }).kind;
  if (typeof kind !== 'string' || !supported.has(kind)) {
    throw new Error(`${name} simulator does not implement the "${String(kind)}" fault (it implements: ${[...supported].join(', ')})`);
  }
  const bad = (field: string, rule: string): never => {
    throw new Error(`${name} simulator: "${kind}" fault: ${field} must be ${rule}`);
  };
  switch (fault.kind) {
    case 'throttle':
      if (!Number.isFinite(fault.retryAfterMs) || fault.retryAfterMs < 0) bad('retryAfterMs', 'a non-negative number of ms');
      break;
    case 'server-error':
      if (fault.status !== undefined && (!Number.isInteger(fault.status) || fault.status < 500 || fault.status > 599)) bad('status', 'an integer 500-599');
      break;
    case 'hold-writes':
      if (!Number.isFinite(fault.ms) || fault.ms < 0) bad('ms', 'a non-negative number');
      break;
    case 'item-locked':
    case 'item-unknown':
      if (!Array.isArray(fault.skus) || !fault.skus.every((sku) => typeof sku === 'string')) bad('skus', 'an array of SKU strings');
      break;
    default:
      break;
  }
}

/**
 * The HTTP plumbing every channel simulator shares: latency, faults and counters, so each
 * simulator file holds only what its channel's API says.
 *
 * Generic faults are answered here, in this order: `down`, `throttle`, `server-error`, `echo-errors`
 * and `hang` before the route runs; `hold-writes` delays a write's route call; `drop-after-write` cuts
 * the connection after a route that wrote. Per-item kinds reach the route through `req.fault`.
 */
export async function startSimServer(options: SimServerOptions): Promise<SimServer> {
  const sampleLatency = createLatencySampler(options.latency);
  const name = options.name ?? 'this';
  const faults: readonly SimulatorFault['kind'][] = Object.freeze([...GENERIC_FAULT_KINDS, ...(options.itemFaults ?? [])]);
  const supported: ReadonlySet<string> = new Set(faults);
  const isWrite = options.isWrite ?? defaultIsWrite;
  let fault: SimulatorFault | null = null;
  let closed = false;
  const counters: SimServer['counters'] = { requests: 0, throttled: 0, failed: 0, dropped: 0, hung: 0, held: 0, abandoned: 0 };
  /** Requests a `hang` fault holds: released when the fault changes or the server closes. */
  const hanging = new Set<() => void>();
  /** Writes a `hold-writes` fault delays: cut short only when the server closes. */
  const holds = new Set<{ timer: NodeJS.Timeout; release: () => void }>();

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

  const gone = (req: IncomingMessage, res: ServerResponse): boolean => req.socket.destroyed || res.destroyed;

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const rawBody = Buffer.concat(chunks);
    counters.requests += 1;
    // The API decides at arrival (rate limits, state) and the latency is spent before the answer goes
    // back, as a gateway throttles before the work: a request's place in the rate window is its arrival.
    const answer = await decide(req, res, rawBody);
    if (answer === 'abandoned') {
      counters.abandoned += 1;
      return;
    }
    const delay = sampleLatency();
    if (delay > 0) await sleep(delay);
    if (answer === 'drop') {
      counters.dropped += 1;
      req.socket.destroy();
      return;
    }
    if (gone(req, res)) {
      counters.abandoned += 1;
      return;
    }
    send(res, answer);
  };

  const waitWhileHanging = (): Promise<void> =>
    new Promise<void>((resolve) => {
      const release = (): void => {
        hanging.delete(release);
        resolve();
      };
      hanging.add(release);
    });

  const hold = (ms: number): Promise<void> =>
    new Promise<void>((resolve) => {
      const entry = {
        timer: setTimeout(() => entry.release(), ms),
        release: () => {
          clearTimeout(entry.timer);
          holds.delete(entry);
          resolve();
        },
      };
      holds.add(entry);
    });

  const decide = async (req: IncomingMessage, res: ServerResponse, rawBody: Buffer): Promise<SimResponse | 'drop' | 'abandoned'> => {
    for (;;) {
      if (closed) return 'abandoned';
      const current = fault;
      if (current?.kind === 'down') {
        counters.failed += 1;
        return options.downResponse ?? { status: 503, body: { error: 'service_unavailable' } };
      }
      if (current?.kind === 'throttle') return (options.throttleResponse ?? defaultThrottle)(current.retryAfterMs);
      if (current?.kind === 'server-error') {
        counters.failed += 1;
        return (options.serverErrorResponse ?? defaultServerError)(current.status ?? 500);
      }
      if (current?.kind === 'echo-errors') {
        counters.failed += 1;
        return (options.echoErrorResponse ?? defaultEcho)({ method: req.method ?? 'GET', path: req.url ?? '/', headers: { ...req.headers }, body: rawBody.toString('utf8') });
      }
      if (current?.kind !== 'hang') break;
      counters.hung += 1;
      await waitWhileHanging();
      // Released: a client that gave up meanwhile gets nothing done on its behalf; one still waiting is
      // handled as if it arrived now, under whatever fault is in effect now.
      if (gone(req, res)) return 'abandoned';
    }
    const url = new URL(req.url ?? '/', 'http://localhost');
    let json: unknown;
    if (rawBody.length > 0 && /json/.test(req.headers['content-type'] ?? 'application/json')) {
      try {
        json = JSON.parse(rawBody.toString('utf8'));
      } catch {
        return { status: 400, body: { error: 'invalid_json' } };
      }
    }
    const simRequest: SimRequest = { method: req.method ?? 'GET', path: url.pathname, query: url.searchParams, headers: req.headers, rawBody, json, fault };
    const arrivalFault = fault;
    if (arrivalFault?.kind === 'hold-writes' && isWrite(simRequest)) {
      counters.held += 1;
      // The write lands after the hold whether or not the client is still waiting: that is the point.
      await hold(arrivalFault.ms);
      if (closed) return 'abandoned';
      simRequest.fault = fault;
    }
    const answer = await options.route(simRequest);
    return fault?.kind === 'drop-after-write' && answer.wrote ? 'drop' : answer;
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      counters.failed += 1;
      if (!res.headersSent && !gone(req, res)) send(res, { status: 500, body: { error: String(err) } });
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  const releaseHanging = (): void => {
    for (const release of [...hanging]) release();
  };

  return {
    url: `http://127.0.0.1:${port}`,
    counters,
    faults,
    fault: () => fault,
    setFault(next) {
      if (next !== null) checkFault(next, supported, name);
      fault = next === null ? null : Object.freeze({ ...next });
      if (fault?.kind !== 'hang') releaseHanging();
    },
    close: () =>
      new Promise<void>((resolve) => {
        closed = true;
        releaseHanging();
        for (const entry of [...holds]) entry.release();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
