import { RejectedError, type ConnectorContext } from '../../core/sdk.ts';
import { createHttpClient, type HttpClient, type HttpRequest, type HttpResponse } from '../_kit/http-client.ts';
import { throwForStatus } from '../_kit/http-status.ts';
import type { WooError } from './api.ts';
import type { WooCommerceOptions } from './options.ts';

/** One store's REST API: every call the connector makes, authenticated, its failures as the SDK's errors. */
export interface StoreClient {
  /** Sends the request with the store's credentials; resolves to a 2xx answer, else throws what the answer means. */
  request(method: HttpRequest['method'], path: string, signal: AbortSignal, body?: unknown): Promise<HttpResponse>;
  close(): Promise<void>;
}

/**
 * What WooCommerce said, for error text: its error `code` and `message`, cut short, never the raw body, which
 * can echo the request and its credentials back.
 */
function brief(body: unknown): string {
  const error = body as Partial<WooError> | null | undefined;
  const text = typeof error?.code === 'string' || typeof error?.message === 'string'
    ? [error?.code, error?.message].filter((part) => typeof part === 'string').join(': ')
    : typeof body === 'string' ? body.replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ').trim() : '';
  return text.length > 200 ? `${text.slice(0, 200)}…` : text || 'no error message';
}

export function createStoreClient(options: WooCommerceOptions, context: ConnectorContext): StoreClient {
  const http: HttpClient = createHttpClient(options.baseUrl, { connections: options.connections ?? 4, timeoutMs: 30_000 });
  const authMode = options.authMode ?? 'basic';
  const basic = Buffer.from(`${options.consumerKey}:${options.consumerSecret}`).toString('base64');
  // Derived from the configured key and secret, so the host cannot know to mask it unless told.
  context.registerSecret(basic);
  for (const part of [options.consumerKey, options.consumerSecret]) if (encodeURIComponent(part) !== part) context.registerSecret(encodeURIComponent(part));
  const headers: Record<string, string> = authMode === 'basic' ? { authorization: `Basic ${basic}` } : {};
  const withAuth = (path: string): string => {
    if (authMode !== 'query') return path;
    const sep = path.includes('?') ? '&' : '?';
    return `${path}${sep}consumer_key=${encodeURIComponent(options.consumerKey)}&consumer_secret=${encodeURIComponent(options.consumerSecret)}`;
  };
  const base = new URL(options.baseUrl);
  if (authMode === 'basic' && base.protocol !== 'https:' && !['127.0.0.1', 'localhost', '[::1]'].includes(base.hostname)) {
    context.logger.warn('WooCommerce accepts Basic auth over HTTPS only; this base URL is not HTTPS', { baseUrl: options.baseUrl });
  }

  return {
    async request(method, path, signal, body) {
      const res = await http.request({ method, path: withAuth(path), headers, ...(body === undefined ? {} : { body }), signal });
      const what = `${method} ${path.split('?')[0]}`;
      if (res.status === 413) throw new RejectedError(`woocommerce refused the batch size: ${(res.body as WooError | undefined)?.message ?? ''}`);
      throwForStatus(res, {
        channel: 'woocommerce',
        what,
        // Credentials refused: WordPress's error code only (its message may quote the request); else a brief text.
        detail: (r, m) => (m === 'credentials' ? (r.body as WooError | undefined)?.code : m === 'refused' ? brief(r.body) : undefined),
        otherStatuses: 'refused',
      });
      return res;
    },
    close: () => http.close(),
  };
}
