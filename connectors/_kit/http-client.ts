import { Pool } from 'undici';
import { RetryableError } from '../../core/sdk.ts';
import { CallPacer } from './call-pacer.ts';

export interface HttpResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** Parsed JSON body, or the text when it is not JSON, or `undefined` when empty. */
  body: unknown;
  /** Wall time of the call in ms. */
  elapsedMs: number;
}

export interface HttpRequest {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  path: string;
  headers?: Record<string, string>;
  /** Sent as JSON unless it is already a string. */
  body?: unknown;
  signal?: AbortSignal;
}

export interface HttpClient {
  request(req: HttpRequest): Promise<HttpResponse>;
  close(): Promise<void>;
}

/**
 * A keep-alive JSON client for one channel origin. Connection reuse matters: a fresh TCP
 * connection per push costs several times the call itself on a fast API.
 * Network failures become {@link RetryableError}s; HTTP statuses are returned for the connector to judge.
 */
export interface HttpClientOptions {
  connections?: number;
  timeoutMs?: number;
  /**
   * Paces every call as it leaves (after any token fetch or queueing), for channels whose push costs a
   * varying number of calls: the channel's per-request limit then holds however the dispatcher batched.
   * Keep `burst` below the channel's own, so jittered arrivals eat into its bucket rather than draw a 429.
   */
  pace?: { perSecond: number; burst: number };
}

export function createHttpClient(baseUrl: string, options: HttpClientOptions = {}): HttpClient {
  const origin = new URL(baseUrl);
  const basePath = origin.pathname.replace(/\/$/, '');
  const pool = new Pool(origin.origin, {
    connections: options.connections ?? 8,
    pipelining: 1,
    keepAliveTimeout: 30_000,
    headersTimeout: options.timeoutMs ?? 15_000,
    bodyTimeout: options.timeoutMs ?? 15_000,
  });
  const pacer = options.pace ? new CallPacer(options.pace.perSecond, options.pace.burst) : undefined;
  return {
    async request(req) {
      await pacer?.take(req.signal);
      const started = performance.now();
      const headers: Record<string, string> = { accept: 'application/json', ...req.headers };
      let body: string | undefined;
      if (req.body !== undefined) {
        body = typeof req.body === 'string' ? req.body : JSON.stringify(req.body);
        headers['content-type'] ??= 'application/json';
      }
      try {
        const res = await pool.request({ method: req.method, path: basePath + req.path, headers, body, signal: req.signal });
        const text = await res.body.text();
        let parsed: unknown = undefined;
        if (text.length > 0) {
          try {
            parsed = JSON.parse(text);
          } catch {
            parsed = text;
          }
        }
        return { status: res.statusCode, headers: res.headers, body: parsed, elapsedMs: performance.now() - started };
      } catch (err) {
        if (req.signal?.aborted) throw err;
        throw new RetryableError(`${req.method} ${req.path}: ${(err as Error).message}`, { cause: err });
      }
    },
    close: () => pool.close(),
  };
}

/**
 * Milliseconds a `Retry-After` header asks for (delay-seconds or an HTTP date, RFC 9110 §10.2.3), or undefined
 * when there is none or it cannot be read. The one reader of the header for every connector.
 */
export function retryAfterHeaderMs(headers: HttpResponse['headers'], now: number = Date.now()): number | undefined {
  const value = headerValue(headers, 'retry-after')?.trim();
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** Reads `Retry-After` (seconds or an HTTP date) into milliseconds, or `fallbackMs` when there is none. */
export function retryAfterMs(headers: HttpResponse['headers'], fallbackMs: number): number {
  return retryAfterHeaderMs(headers) ?? fallbackMs;
}

export function headerValue(headers: HttpResponse['headers'], name: string): string | undefined {
  const raw = headers[name];
  return Array.isArray(raw) ? raw[0] : raw;
}

/** A header holding a number (a reset time in ms, a count of requests left), or undefined when absent or not a number. */
export function headerNumber(headers: HttpResponse['headers'], name: string): number | undefined {
  const raw = headerValue(headers, name);
  if (raw === undefined || raw.trim() === '') return undefined;
  const value = Number(raw);
  return Number.isFinite(value) ? value : undefined;
}
