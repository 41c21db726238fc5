/**
 * The sandbox channel's listings endpoint, for onboarding (`stockrelay import`):
 *
 * - `GET /v1/listings?limit=n&cursor=c` → `{ listings: [{ sku, quantity, title }], nextCursor? }`, by SKU;
 *   `limit` 1..100 (default 50), `nextCursor` absent on the last page; 400 `{ error: "invalid_request" }` for a
 *   bad limit or cursor. Same auth and rate limit as every other call.
 *
 * The sandbox addresses a listing by the seller's SKU, so a listing carries no ids of its own: its mapping is empty.
 */
import { RetryableError, type ListingPage } from '../../core/sdk.ts';
import { headerNumber, type HttpClient } from '../_kit/http-client.ts';
import { throwForStatus } from '../_kit/http-status.ts';
import type { SimRequest, SimResponse } from '../_kit/sim-server.ts';

export const LISTINGS_PATH = '/v1/listings';
const MAX_LIMIT = 100;

export interface SandboxListingsAnswer {
  listings: Array<{ sku: string; quantity: number; title: string }>;
  nextCursor?: string;
}

/** One page of the channel's listings, through the connector's client. */
export async function listSandboxListings(http: HttpClient, auth: Record<string, string>, cursor: string | undefined, signal: AbortSignal): Promise<ListingPage> {
  const query = new URLSearchParams({ limit: String(MAX_LIMIT) });
  if (cursor !== undefined) query.set('cursor', cursor);
  const res = await http.request({ method: 'GET', path: `${LISTINGS_PATH}?${query}`, headers: auth, signal });
  throwForStatus(res, {
    channel: 'sandbox',
    what: 'the listings read',
    detail: (r) => JSON.stringify(r.body),
    throttleWaitMs: (r) => headerNumber(r.headers, 'x-ratelimit-reset-ms'),
    otherStatuses: 'refused',
  });
  const body = res.body as Partial<SandboxListingsAnswer> | null;
  if (typeof body !== 'object' || body === null || !Array.isArray(body.listings)) throw new RetryableError('sandbox answered the listings read without a listings array');
  return {
    listings: body.listings.map((l) => ({ sku: l.sku, mapping: {}, quantity: l.quantity, title: l.title })),
    ...(typeof body.nextCursor === 'string' ? { cursor: body.nextCursor } : {}),
  };
}

/** The simulator's answer to `GET /v1/listings`, from what it shows now. */
export function listingsRoute(req: SimRequest, shown: ReadonlyMap<string, number>): SimResponse {
  const limitText = req.query.get('limit') ?? '50';
  const limit = Number(limitText);
  if (!/^\d+$/.test(limitText) || limit < 1 || limit > MAX_LIMIT) return { status: 400, body: { error: 'invalid_request', message: `limit must be 1..${MAX_LIMIT}` } };
  const cursor = req.query.get('cursor');
  let after = '';
  if (cursor !== null) {
    after = Buffer.from(cursor, 'base64url').toString('utf8');
    if (!after.startsWith('>')) return { status: 400, body: { error: 'invalid_request', message: 'unknown cursor' } };
    after = after.slice(1);
  }
  const skus = [...shown.keys()].filter((sku) => cursor === null || sku > after).sort();
  const page = skus.slice(0, limit);
  const answer: SandboxListingsAnswer = { listings: page.map((sku) => ({ sku, quantity: shown.get(sku) ?? 0, title: `Sandbox listing ${sku}` })) };
  if (skus.length > limit) answer.nextCursor = Buffer.from(`>${page[page.length - 1]}`, 'utf8').toString('base64url');
  return { status: 200, body: answer };
}
