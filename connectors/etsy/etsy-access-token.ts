import { RetryableError, type ConnectorContext } from '../../core/sdk.ts';
import type { HttpClient } from '../_kit/http-client.ts';
import { throwForStatus } from '../_kit/http-status.ts';
import { createRefreshingAccessToken, type RefreshGrantResult } from '../_kit/refreshing-access-token.ts';
import { TOKEN_PATH, type EtsyTokenResponse } from './api.ts';
import type { EtsyOptions } from './options.ts';

/** The access token a call presents. */
export interface EtsyAccessToken {
  /** The token to send now. */
  get(signal?: AbortSignal): Promise<string>;
  /** Etsy refused `token` as expired or invalid: the next `get` renews it, when it can. */
  invalidate(token: string): void;
  /** Whether `invalidate` leads to a new token (a refresh token is configured). */
  readonly renewable: boolean;
}

/** The short reason of an OAuth error answer (`invalid_grant: refresh_token is revoked`); never the request. */
function oauthError(body: unknown): string {
  const { error, error_description: description } = (body ?? {}) as { error?: unknown; error_description?: unknown };
  const parts = [typeof error === 'string' ? error : 'error', typeof description === 'string' ? description : ''].filter(Boolean);
  return parts.join(': ').slice(0, 160);
}

/**
 * Etsy's refresh-token grant: `POST /v3/public/oauth/token`, form-encoded `grant_type=refresh_token`,
 * `client_id` (the keystring) and `refresh_token`. Etsy answers a one-hour access token and a new refresh
 * token each time.
 */
function etsyRefreshGrant(http: HttpClient, keystring: string) {
  return async (refreshToken: string, signal: AbortSignal): Promise<RefreshGrantResult> => {
    const body = new URLSearchParams({ grant_type: 'refresh_token', client_id: keystring, refresh_token: refreshToken }).toString();
    const res = await http.request({ method: 'POST', path: TOKEN_PATH, headers: { 'content-type': 'application/x-www-form-urlencoded' }, body, signal });
    throwForStatus(res, {
      channel: 'Etsy',
      what: 'the token refresh',
      detail: (r, m) => (m === 'refused' || m === 'credentials' ? `${oauthError(r.body)}: authorise the app again and put the new refresh token in the channel's options` : undefined),
      otherStatuses: 'refused',
    });
    const answer = res.body as Partial<EtsyTokenResponse> | undefined;
    if (typeof answer?.access_token !== 'string' || typeof answer.expires_in !== 'number') throw new RetryableError('Etsy answered the token refresh without an access token');
    return {
      accessToken: answer.access_token,
      expiresInMs: answer.expires_in * 1000,
      ...(typeof answer.refresh_token === 'string' ? { refreshToken: answer.refresh_token } : {}),
    };
  };
}

/**
 * The access token for Etsy calls. With a refresh token configured, the token is renewed before its hour
 * runs out and after Etsy answers `invalid_token`, one refresh at a time, and the refresh token Etsy rotates
 * is kept in the channel's durable state (see the kit's createRefreshingAccessToken). Without one, the
 * configured access token is used as is (it stops working after an hour).
 */
export function createEtsyAccessToken(options: EtsyOptions, http: HttpClient, context: ConnectorContext): EtsyAccessToken {
  if (options.refreshToken !== undefined) {
    const cache = createRefreshingAccessToken({
      refresh: etsyRefreshGrant(http, options.keystring),
      initialRefreshToken: options.refreshToken,
      state: context.state,
      registerSecret: (value) => context.registerSecret(value),
    });
    return { get: (signal) => cache.get(signal), invalidate: (token) => cache.invalidate(token), renewable: true };
  }
  const token = options.accessToken;
  if (token === undefined) throw new Error('options.accessToken or options.refreshToken is required');
  context.registerSecret(token);
  return { get: async () => token, invalidate() {}, renewable: false };
}
