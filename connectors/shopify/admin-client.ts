import { RejectedError, RetryableError, ThrottledError } from '../../core/sdk.ts';
import type { HttpClient, HttpResponse } from '../_kit/http-client.ts';
import { throwForStatus } from '../_kit/http-status.ts';
import { graphqlPath, TOKEN_HEADER, type GraphqlResponse, type QueryCost } from './api.ts';

/** One shop's GraphQL Admin API: every call the connector makes, paced by the shop's cost bucket. */
export interface AdminClient {
  /** Runs `query`; resolves to the body of a 200 without errors, else throws the SDK error its answer means. */
  graphql<Data>(query: string, variables: unknown, what: string, signal: AbortSignal): Promise<GraphqlResponse<Data>>;
}

/** How long the bucket needs to hold `requested` points again, from the throttle status Shopify reported. */
function restoreWaitMs(cost: QueryCost | undefined): number {
  if (!cost) return 1000;
  const { currentlyAvailable, restoreRate } = cost.throttleStatus;
  if (!(restoreRate > 0)) return 1000;
  return Math.max(50, Math.ceil(((cost.requestedQueryCost - currentlyAvailable) / restoreRate) * 1000));
}

/**
 * What Shopify said, for error text: the messages of its `errors` (a string or a list), cut short, never the
 * raw body, which can echo the request and its token back.
 */
function brief(body: unknown): string {
  const errors = (body as { errors?: unknown } | null | undefined)?.errors;
  const text = typeof errors === 'string'
    ? errors
    : Array.isArray(errors)
      ? errors.map((e) => (typeof (e as { message?: unknown })?.message === 'string' ? (e as { message: string }).message : '')).filter(Boolean).join('; ')
      : typeof body === 'string' ? body : '';
  return text.length > 200 ? `${text.slice(0, 200)}…` : text || 'no error message';
}

/** Turns transport-level answers into the SDK's error classes; returns the parsed GraphQL body on 200. */
function graphqlBody<Data>(res: HttpResponse, what: string): GraphqlResponse<Data> {
  throwForStatus(res, {
    channel: 'shopify',
    what,
    detail: (r, m) => (m === 'refused' ? brief(r.body) : undefined),
    // A 429 with the cost bucket's state says exactly when the points are back; else Retry-After.
    throttleWaitMs: (r) => {
      const cost = (r.body as GraphqlResponse<Data> | undefined)?.extensions?.cost;
      return cost ? restoreWaitMs(cost) : undefined;
    },
    otherStatuses: 'refused',
  });
  const body = res.body as GraphqlResponse<Data>;
  const errors = typeof body.errors === 'string' ? [{ message: body.errors }] : (body.errors ?? []);
  if (errors.some((e) => e.extensions?.code === 'THROTTLED')) {
    throw new ThrottledError(`shopify throttled ${what} (cost bucket)`, { retryAfterMs: restoreWaitMs(body.extensions?.cost) });
  }
  if (errors.some((e) => e.extensions?.code === 'INTERNAL_SERVER_ERROR')) throw new RetryableError(`shopify failed ${what}: ${errors[0]?.message ?? ''}`);
  if (errors.length > 0) throw new RejectedError(`shopify refused ${what}: ${brief(errors.map((e) => `${e.extensions?.code ?? 'ERROR'} ${e.message}`).join('; '))}`);
  return body;
}

export function createAdminClient(http: HttpClient, apiVersion: string, accessToken: string): AdminClient {
  const path = graphqlPath(apiVersion);
  const headers = { [TOKEN_HEADER]: accessToken };
  // The bucket belongs to this app and shop alone, so the last throttleStatus, refilled at restoreRate
  // since, says whether the next call fits; one that cannot is not sent (it would only come back THROTTLED).
  let bucket: { available: number; maximum: number; restoreRate: number; at: number } | undefined;
  const remember = (cost: QueryCost | undefined): void => {
    if (!cost) return;
    const { currentlyAvailable, maximumAvailable, restoreRate } = cost.throttleStatus;
    bucket = { available: currentlyAvailable, maximum: maximumAvailable, restoreRate, at: Date.now() };
  };
  const ensureRoom = (needed: number, what: string): void => {
    if (!bucket || !(bucket.restoreRate > 0)) return;
    const available = Math.min(bucket.maximum, bucket.available + ((Date.now() - bucket.at) / 1000) * bucket.restoreRate);
    if (available >= needed) return;
    throw new ThrottledError(`shopify cost bucket holds ${Math.floor(available)} of the ${needed} points ${what} needs`, {
      retryAfterMs: Math.max(50, Math.ceil(((needed - available) / bucket.restoreRate) * 1000)),
    });
  };
  const lastCost = new Map<string, number>();

  return {
    async graphql<Data>(query: string, variables: unknown, what: string, signal: AbortSignal): Promise<GraphqlResponse<Data>> {
      ensureRoom(lastCost.get(what) ?? 1, what);
      const res = await http.request({ method: 'POST', path, headers, body: { query, variables }, signal });
      const cost = (res.body as GraphqlResponse<Data> | undefined)?.extensions?.cost;
      remember(cost);
      if (cost && cost.actualQueryCost !== null) lastCost.set(what, cost.requestedQueryCost);
      return graphqlBody<Data>(res, what);
    },
  };
}
